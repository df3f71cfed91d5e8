"""Input edge cases from issue 14: each a validation error naming the parameter, before any HTTP call."""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from airflow_provider_twads.api import spec
from airflow_provider_twads.api import vocabulary as vocab
from airflow_provider_twads.api.errors import (
    AdsApiError,
    AdsApiValidationError,
    AmbiguousWriteError,
    BadRequestError,
    BatchError,
    NotFoundError,
    RateLimitError,
    ServerError,
)
from airflow_provider_twads.reconcile.errors import rerun_advice
from airflow_provider_twads.reconcile.promoted_tweets import validate_tweet_ids
from airflow_provider_twads.reconcile.targeting import apply_targeting, normalize_criteria
from twads_emulator import SEED

LINE_ITEM = {
    "campaign_id": SEED["campaign_id"],
    "objective": "ENGAGEMENTS",
    "placements": "ALL_ON_TWITTER",
    "product_type": "PROMOTED_TWEETS",
    "bid_strategy": "AUTO",
}


def _refused(call: Any, parameter: str, *fragments: str) -> AdsApiValidationError:
    with pytest.raises(AdsApiValidationError) as info:
        call()
    assert info.value.parameter is not None and parameter in info.value.parameter, str(info.value)
    for fragment in fragments:
        assert fragment in str(info.value)
    return info.value


SUPERSCRIPT, ARABIC_INDIC, FULL_WIDTH = "\u00b9\u00b2\u00b3", "\u0661\u0662\u0663", "\uff11\uff12\uff13"


# ---- Tweet IDs ---------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "tweet_ids",
    [SUPERSCRIPT, ARABIC_INDIC, [ARABIC_INDIC], FULL_WIDTH, "1" * 40, [10**39], "0", "-5", "12.5"],
    ids=["superscript", "arabic-indic", "arabic-indic-list", "full-width", "40-digits", "40-digit-int", "0",
         "negative", "decimal"],
)  # fmt: skip
def test_bad_tweet_ids_are_refused_before_http(client: Any, tweet_ids: Any) -> None:
    _refused(lambda: validate_tweet_ids(tweet_ids), "tweet_ids", "is not a Tweet ID")
    _refused(lambda: client.create_promoted_tweets(SEED["line_item_id"], tweet_ids), "tweet_ids")
    assert client.stats.calls == 0


def test_a_40_digit_tweet_id_says_how_long_a_tweet_id_is() -> None:
    _refused(lambda: validate_tweet_ids("1" * 40), "tweet_ids[0]", "40 digits", "19 digits")


def test_the_largest_tweet_id_passes() -> None:
    assert validate_tweet_ids([vocab.MAX_TWEET_ID]) == [str(vocab.MAX_TWEET_ID)]
    assert validate_tweet_ids(" 1546645512351719424 ") == ["1546645512351719424"]


@pytest.mark.parametrize("tweet_ids", [[], "", "  ", "[]", [""]])
def test_no_tweet_ids_says_so(tweet_ids: Any) -> None:
    err = _refused(lambda: validate_tweet_ids(tweet_ids), "tweet_ids", "no Tweet IDs given")
    assert err.parameter == "tweet_ids"  # not 'tweet_ids[0]': '' is not a Tweet ID


# ---- numbers -----------------------------------------------------------------------------------------
@pytest.mark.parametrize("value", [ARABIC_INDIC, SUPERSCRIPT, "1_000", FULL_WIDTH])
def test_integers_take_only_the_digits_0_to_9(value: str) -> None:
    _refused(
        lambda: spec.validate("line_items.update", {"total_budget_amount_local_micro": value}),
        "total_budget_amount_local_micro",
        "digits 0-9",
    )


# ---- targeting values --------------------------------------------------------------------------------
def test_an_oversize_targeting_value_is_refused_with_the_limit(client: Any) -> None:
    value = "k" * 5000
    _refused(
        lambda: normalize_criteria([{"targeting_type": "BROAD_KEYWORD", "targeting_value": value}]),
        "criteria[0].targeting_value",
        str(vocab.TARGETING_VALUE_MAX_LENGTH),
    )
    _refused(
        lambda: client.create_targeting_criterion(
            line_item_id=SEED["line_item_id"], targeting_type="BROAD_KEYWORD", targeting_value=value
        ),
        "targeting_value",
    )
    assert client.stats.calls == 0


def test_a_targeting_value_at_the_limit_passes() -> None:
    value = "k" * vocab.TARGETING_VALUE_MAX_LENGTH
    assert normalize_criteria([{"targeting_type": "BROAD_KEYWORD", "targeting_value": value}])


@pytest.mark.parametrize("value", [["a", "b"], ("a",), {"a": 1}, True])
def test_a_targeting_value_that_is_not_one_value_is_refused(client: Any, value: Any) -> None:
    criteria = [{"targeting_type": "LOCATION", "targeting_value": value}]
    _refused(lambda: normalize_criteria(criteria), "criteria[0].targeting_value", "one criterion per value")
    _refused(lambda: apply_targeting(client, [SEED["line_item_id"]], criteria), "targeting_value")
    op = {"operation_type": "Create", "params": {"line_item_id": "x", **criteria[0]}}
    _refused(lambda: client.batch_targeting_criteria([op]), "targeting_value")
    assert client.stats.calls == 0


# ---- criteria rendered by a template -----------------------------------------------------------------
WANTED = [
    {"targeting_type": "LOCATION", "targeting_value": "96683cc9126741d1", "operator_type": "EQ"},
    {"targeting_type": "BROAD_KEYWORD", "targeting_value": "it's", "operator_type": "NE"},
]


@pytest.mark.parametrize(
    "rendered",
    [
        # {{ ti.xcom_pull(...) }}: the list's Python repr
        str(WANTED),
        # {{ ti.xcom_pull(...) | tojson }}
        '[{"targeting_type": "LOCATION", "targeting_value": "96683cc9126741d1", "operator_type": "EQ"},'
        ' {"targeting_type": "BROAD_KEYWORD", "targeting_value": "it\'s", "operator_type": "NE"}]',
    ],
    ids=["python-repr", "json"],
)
def test_criteria_rendered_to_a_string_are_accepted(rendered: str) -> None:
    assert normalize_criteria(rendered) == WANTED


@pytest.mark.parametrize("rendered", ["", "LOCATION=abc", "{'targeting_type': 'AGE'", "None", '"text"'])
def test_criteria_strings_that_are_not_lists_are_refused(rendered: str) -> None:
    _refused(lambda: normalize_criteria(rendered), "criteria", "list")


def test_criteria_rendered_over_http_apply(client: Any, emu: Any) -> None:
    rendered = str([{"targeting_type": "BROAD_KEYWORD", "targeting_value": "rendered keyword"}])
    out = apply_targeting(client, [SEED["line_item_id"]], rendered)
    assert len(out["created"]) == 1
    values = {c["targeting_value"] for c in emu.admin.state("targeting_criteria")["targeting_criteria"]}
    assert "rendered keyword" in values


# ---- the two-AGE rule names the line item ------------------------------------------------------------
@pytest.mark.parametrize("mode", ["add", "replace"])
def test_two_age_buckets_name_the_line_item(client: Any, mode: str) -> None:
    ages = [{"targeting_type": "AGE", "targeting_value": v} for v in ("AGE_18_TO_24", "AGE_25_TO_34")]
    err = _refused(
        lambda: apply_targeting(client, [SEED["line_item_id"]], ages, mode=mode),
        "criteria",
        SEED["line_item_id"],
    )
    assert "None" not in str(err)
    assert client.stats.calls == 0


# ---- flight times ------------------------------------------------------------------------------------
def test_start_after_end_is_refused(client: Any) -> None:
    times = {"start_time": "2030-02-01", "end_time": "2030-01-01"}
    _refused(lambda: client.create_line_item(**LINE_ITEM, **times), "start_time", "end_time")
    _refused(lambda: client.update_line_item(SEED["line_item_id"], **times), "start_time", "before it starts")
    assert client.stats.calls == 0


@pytest.mark.parametrize("field", ["start_time", "end_time"])
def test_flight_times_before_2010_are_refused(client: Any, field: str) -> None:
    _refused(
        lambda: client.create_line_item(**LINE_ITEM, **{field: "2001-09-09T01:46:40Z"}), field, "before 2010"
    )
    assert client.stats.calls == 0


def test_a_past_end_time_is_sent_with_a_warning(client: Any, caplog: pytest.LogCaptureFixture) -> None:
    past = (datetime.now(UTC) - timedelta(days=3)).replace(microsecond=0)
    with caplog.at_level(logging.WARNING):
        created = client.create_line_item(**LINE_ITEM, name="past end", end_time=past)
    assert created["end_time"] == past.strftime("%Y-%m-%dT%H:%M:%SZ")
    assert any("in the past" in r.getMessage() and "end_time" in r.getMessage() for r in caplog.records)


def test_a_past_start_time_passes_silently(caplog: pytest.LogCaptureFixture) -> None:
    # An existing line item's start_time is in the past: sent back in a round trip, it must pass.
    with caplog.at_level(logging.WARNING):
        assert spec.validate("line_items.update", {"start_time": "2021-02-16T00:00:00Z"})
    assert not caplog.records


# ---- legacy charge_by --------------------------------------------------------------------------------
def test_charge_by_app_install_is_refused_not_rebilled(client: Any) -> None:
    app = {**LINE_ITEM, "objective": "APP_INSTALLS", "ios_app_store_identifier": "333903271"}
    err = _refused(lambda: client.create_line_item(**app, charge_by="APP_INSTALL"), "charge_by", "billed")
    assert err.hint is not None and "pay_by=IMPRESSION" in err.hint
    assert client.stats.calls == 0


@pytest.mark.parametrize(("legacy", "today"), [("APP_CLICK", "APP_CLICK"), ("ENGAGEMENT", "ENGAGEMENT")])
def test_charge_by_values_with_the_same_meaning_are_translated(legacy: str, today: str) -> None:
    out = spec.validate("line_items.update", {"charge_by": legacy}, warned=set())
    assert out == {"pay_by": today}


# ---- deterministic 400s never advise a plain re-run --------------------------------------------------
@pytest.mark.parametrize(
    ("error", "plain_rerun"),
    [
        (BadRequestError("Invalid targeting_value", status=400, codes=["INVALID_PARAMETER"]), False),
        (BatchError("operation_errors", status=400, item_errors={3: [{"code": "INVALID_PARAMETER"}]}), False),
        (NotFoundError("no such line item", status=404), False),
        (ServerError("boom", status=500), True),
        (RateLimitError("slow down", status=429), True),
        (AdsApiError("lock", status=423), True),
        (AmbiguousWriteError("timed out"), True),
    ],
    ids=["400", "batch-400", "404", "500", "429", "423", "ambiguous"],
)
def test_rerun_advice_follows_whether_resending_can_help(error: AdsApiError, plain_rerun: bool) -> None:
    advice = rerun_advice(error, "it skips what exists and completes the rest.")
    assert advice.startswith("Re-run the task") is plain_rerun
    if not plain_rerun:
        assert "cannot help" in advice and "Fix what the error names" in advice
    assert advice.endswith("skips what exists and completes the rest.")


def test_a_partial_targeting_failure_on_a_400_says_to_fix_the_input(client: Any) -> None:
    from airflow_provider_twads.reconcile.targeting import _TargetingRun

    run = _TargetingRun(client, ["a"], [], "add", 500, lambda _: None)
    err = run.fail(BadRequestError("Invalid targeting_value", status=400), [{}])
    assert "cannot help" in str(err) and "Re-run the task" not in str(err)
