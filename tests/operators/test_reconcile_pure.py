"""Pure parts of reconciliation: times, names, the settings diff, targeting plans and rules, Tweet IDs."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, timezone

import pendulum
import pytest

from airflow_provider_twads.api.errors import AdsApiValidationError
from airflow_provider_twads.reconcile import (
    SettingsMismatchError,
    check_targeting_rules,
    derive_line_item_name,
    diff_line_item,
    normalize_criteria,
    plan_targeting,
    split_ids,
    to_api_time,
    validate_tweet_ids,
)


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("2024-05-01T00:00:00Z", "2024-05-01T00:00:00Z"),
        ("2024-05-01 02:30:00+02:00", "2024-05-01T00:30:00Z"),  # what Jinja renders for a pendulum time
        ("2024-05-01", "2024-05-01T00:00:00Z"),
        (datetime(2024, 5, 1, 12, 0, tzinfo=timezone(timedelta(hours=-5))), "2024-05-01T17:00:00Z"),
        (datetime(2024, 5, 1, 12, 0, 7, 999), "2024-05-01T12:00:07Z"),  # naive = UTC; seconds precision
        (pendulum.datetime(2024, 5, 1, tz="Europe/Paris"), "2024-04-30T22:00:00Z"),
        (date(2024, 5, 1), "2024-05-01T00:00:00Z"),
        (None, None),
        ("", None),
    ],
)
def test_to_api_time_normalizes_to_utc(value, expected):
    assert to_api_time(value) == expected


@pytest.mark.parametrize("value", ["next tuesday", 12345, ["2024-05-01"]])
def test_to_api_time_rejects_non_times_naming_the_parameter(value):
    with pytest.raises(AdsApiValidationError, match="end_time") as err:
        to_api_time(value, parameter="end_time")
    assert err.value.parameter == "end_time"


def test_derived_names_are_deterministic_and_distinct():
    a = derive_line_item_name("dag", "task", "manual__2024-05-01T00:00:00+00:00")
    assert a == derive_line_item_name("dag", "task", "manual__2024-05-01T00:00:00+00:00")
    assert a != derive_line_item_name("dag", "task", "manual__2024-05-02T00:00:00+00:00")
    assert derive_line_item_name("d", "t", "r", map_index=3) == "d.t.r.m3"
    assert derive_line_item_name("d", "t", "r", map_index=-1, index=0) == "d.t.r.0"
    long = derive_line_item_name("d" * 200, "t" * 100, "r")
    assert len(long) == 255
    assert long != derive_line_item_name("d" * 200, "t" * 100, "r2")


EXISTING = {
    "id": "li1",
    "name": "spring",
    "campaign_id": "c1",
    "objective": "ENGAGEMENTS",
    "product_type": "PROMOTED_TWEETS",
    "placements": ["ALL_ON_TWITTER"],
    "bid_strategy": "MAX",
    "bid_amount_local_micro": 1500000,
    "start_time": "2024-05-01T00:00:00Z",
    "end_time": None,
    "entity_status": "ACTIVE",
    "standard_delivery": True,
}


def test_diff_matches_equivalent_settings_in_other_forms():
    desired = {
        "name": "spring",
        "campaign_id": "c1",
        "objective": "TWEET_ENGAGEMENTS",  # legacy name of ENGAGEMENTS
        "product_type": "PROMOTED_TWEETS",
        "bid_type": "MAX",  # legacy name of bid_strategy
        "placements": "ALL_ON_TWITTER",
        "bid_amount_local_micro": "1500000",  # what Jinja renders
        "start_time": "2024-05-01 02:00:00+02:00",
        "entity_status": "PAUSED",  # owned by the activation step: not compared
        "standard_delivery": "true",
    }
    assert diff_line_item(desired, EXISTING) == {}


def test_diff_reports_each_difference():
    desired = {
        "campaign_id": "c1",
        "objective": "ENGAGEMENTS",
        "product_type": "PROMOTED_TWEETS",
        "bid_strategy": "MAX",
        "bid_amount_local_micro": 2000000,
        "placements": ["TWITTER_TIMELINE"],
        "end_time": "2024-06-01T00:00:00Z",
    }
    assert diff_line_item(desired, EXISTING) == {
        "bid_amount_local_micro": (1500000, 2000000),
        "placements": (["ALL_ON_TWITTER"], ["TWITTER_TIMELINE"]),
        "end_time": (None, "2024-06-01T00:00:00Z"),
    }


def test_diff_of_an_update_compares_only_what_is_given():
    assert (
        diff_line_item({"bid_amount_local_micro": "1500000"}, EXISTING, operation="line_items.update") == {}
    )
    assert diff_line_item(
        {"total_budget_amount_local_micro": 5}, EXISTING, operation="line_items.update"
    ) == {"total_budget_amount_local_micro": (None, 5)}


def test_mismatch_error_is_readable():
    err = SettingsMismatchError([("spring", "li1", {"bid_amount_local_micro": (1500000, 2000000)})])
    text = str(err)
    assert "Line item 'spring' (id li1)" in text
    assert "bid_amount_local_micro: existing 1500000, requested 2000000" in text
    assert 'if_exists="update"' in text
    assert "cannot be changed" in str(
        SettingsMismatchError([("a", "b", {"objective": (1, 2)})], immutable=True)
    )


def crit(ttype, value, op="EQ", cid=None, li="li1"):
    c = {"targeting_type": ttype, "targeting_value": value, "operator_type": op, "line_item_id": li}
    if cid:
        c["id"] = cid
    return c


def test_normalize_criteria_defaults_operator_and_dedupes():
    got = normalize_criteria(
        [
            {"targeting_type": "location", "targeting_value": "96683cc9126741d1"},
            {"targeting_type": "LOCATION", "targeting_value": "96683cc9126741d1", "operator_type": "EQ"},
            {"targeting_type": "AGE", "targeting_value": "AGE_18_TO_24"},
        ]
    )
    assert got == [
        {"targeting_type": "LOCATION", "targeting_value": "96683cc9126741d1", "operator_type": "EQ"},
        {"targeting_type": "AGE", "targeting_value": "AGE_18_TO_24", "operator_type": "EQ"},
    ]


@pytest.mark.parametrize(
    ("criteria", "parameter", "fragment"),
    [
        ([{"targeting_type": "NOPE", "targeting_value": "x"}], "criteria[0].targeting_type", "allowed"),
        (
            [{"targeting_type": "AGE", "targeting_value": "x", "operator_type": "IN"}],
            "criteria[0].operator_type",
            "NE",
        ),
        ([{"targeting_type": "AGE"}], "criteria[0].targeting_value", "required"),
        ([{"targeting_type": "AGE", "targeting_value": "x", "bid": 1}], "criteria[0].bid", "targeting_type"),
        ({"targeting_type": "AGE"}, "criteria", "list"),
    ],
)
def test_normalize_criteria_errors_name_the_parameter(criteria, parameter, fragment):
    with pytest.raises(AdsApiValidationError, match=fragment) as err:
        normalize_criteria(criteria)
    assert err.value.parameter == parameter


def test_plan_add_skips_existing_and_puts_location_first():
    existing = [crit("BROAD_KEYWORD", "running", cid="t1")]
    desired = normalize_criteria(
        [
            {"targeting_type": "TV_SHOW", "targeting_value": "10000000031"},
            {"targeting_type": "BROAD_KEYWORD", "targeting_value": "running"},
            {"targeting_type": "LOCATION", "targeting_value": "96683cc9126741d1"},
        ]
    )
    plan = plan_targeting("li1", existing, desired, "add")
    assert [c["targeting_type"] for c in plan.create] == ["LOCATION", "TV_SHOW"]
    assert [c["id"] for c in plan.unchanged] == ["t1"]
    assert plan.delete == []


def test_plan_replace_deletes_extras_and_duplicates():
    existing = [
        crit("AGE", "AGE_18_TO_24", cid="a1"),
        crit("GENDER", "1", cid="g1"),
        crit("GENDER", "1", cid="g2"),
    ]
    desired = normalize_criteria(
        [
            {"targeting_type": "AGE", "targeting_value": "AGE_25_TO_34"},
            {"targeting_type": "GENDER", "targeting_value": "1"},
        ]
    )
    plan = plan_targeting("li1", existing, desired, "replace")
    assert sorted(c["id"] for c in plan.delete) == ["a1", "g2"]
    assert [c["id"] for c in plan.unchanged] == ["g1"]
    assert [c["targeting_value"] for c in plan.create] == ["AGE_25_TO_34"]


def test_rule_one_age_bucket_counts_existing_in_add_mode():
    existing = [crit("AGE", "AGE_18_TO_24", cid="a1")]
    desired = normalize_criteria([{"targeting_type": "AGE", "targeting_value": "AGE_25_TO_34"}])
    with pytest.raises(AdsApiValidationError, match="only one AGE bucket per line item") as err:
        plan_targeting("li1", existing, desired, "add")
    assert "AGE AGE_18_TO_24 (id a1)" in str(err.value)
    assert "mode='replace'" in str(err.value)


def test_rule_tv_show_needs_location_counts_existing():
    desired = normalize_criteria([{"targeting_type": "TV_SHOW", "targeting_value": "10000000031"}])
    with pytest.raises(AdsApiValidationError, match="needs at least one LOCATION"):
        plan_targeting("li1", [], desired, "add")
    plan = plan_targeting("li1", [crit("LOCATION", "96683cc9126741d1", cid="l1")], desired, "add")
    assert len(plan.create) == 1
    # replace would delete the LOCATION the TV_SHOW needs
    with pytest.raises(AdsApiValidationError, match="needs at least one LOCATION"):
        plan_targeting("li1", [crit("LOCATION", "96683cc9126741d1", cid="l1")], desired, "replace")


def test_rule_app_list_only_with_ne():
    check_targeting_rules("li1", [crit("APP_LIST", "x", "NE")])
    with pytest.raises(AdsApiValidationError, match="APP_LIST may only be used with operator_type=NE"):
        check_targeting_rules("li1", [crit("APP_LIST", "x", "EQ", cid="t9")])


def test_plan_rejects_unknown_mode():
    with pytest.raises(AdsApiValidationError, match="allowed: add, replace"):
        plan_targeting("li1", [], [], "merge")


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        (["1", 2, "3"], ["1", "2", "3"]),
        ("880290790664060928, 880290790664060929", ["880290790664060928", "880290790664060929"]),
        ([5, "5", 6], ["5", "6"]),
        (7, ["7"]),
    ],
)
def test_validate_tweet_ids(given, expected):
    assert validate_tweet_ids(given) == expected


@pytest.mark.parametrize(
    ("given", "parameter"),
    [
        (["12", "abc"], "tweet_ids[1]"),
        ([1.5], "tweet_ids[0]"),
        ([True], "tweet_ids[0]"),
        ([], "tweet_ids"),
        (["-3"], "tweet_ids[0]"),
    ],
)
def test_validate_tweet_ids_rejects(given, parameter):
    with pytest.raises(AdsApiValidationError) as err:
        validate_tweet_ids(given)
    assert err.value.parameter == parameter


def test_utc_alias_is_used():
    assert to_api_time(datetime(2024, 1, 1, tzinfo=UTC)) == "2024-01-01T00:00:00Z"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("abc", ["abc"]),
        ("abc, def", ["abc", "def"]),
        ("['abc', 'def']", ["abc", "def"]),  # what Jinja renders for an XCom list
        ('["abc"]', ["abc"]),
        ("[1800000000000000001, 2]", ["1800000000000000001", "2"]),
    ],
)
def test_split_ids(text, expected):
    assert split_ids(text) == expected
