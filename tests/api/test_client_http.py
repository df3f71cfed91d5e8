"""AdsApiClient against the emulator over real HTTP: resources, validation, retries, pacing, errors."""

from __future__ import annotations

import logging
import time
from typing import Any

import pytest

from airflow_provider_twads.api.errors import (
    AccountFeatureError,
    AdsApiValidationError,
    AmbiguousWriteError,
    DraftEntityError,
    NotFoundError,
    RateLimitError,
    ServerError,
    UnauthorizedError,
)
from tests.api.conftest import api_requests
from twads_emulator import DEFAULT_CREDENTIALS, SEED

LINE_ITEM = {
    "campaign_id": SEED["campaign_id"],
    "objective": "ENGAGEMENTS",
    "placements": ["ALL_ON_TWITTER"],
    "product_type": "PROMOTED_TWEETS",
    "bid_strategy": "MAX",
    "bid_amount_local_micro": 1_500_000,
    "start_time": "2030-01-01T00:00:00Z",
    "end_time": "2030-02-01T00:00:00Z",
    "entity_status": "PAUSED",
}


def _line_items_named(emu: Any, name: str) -> list[dict[str, Any]]:
    return [li for li in emu.admin.state("line_items")["line_items"] if li["name"] == name]


# ---------------------------------------------------------------------------------------------------------
# Resource methods
# ---------------------------------------------------------------------------------------------------------
def test_accounts_and_features(client: Any, emu: Any) -> None:
    account = client.get_account()
    assert account["id"] == SEED["account_id"]
    features = client.get_account_features()
    assert features == emu.admin.state()["features"][SEED["account_id"]]


def test_campaigns_list_includes_drafts_only_when_asked(client: Any) -> None:
    plain = {c["id"] for c in client.list_campaigns()}
    with_draft = {c["id"] for c in client.list_campaigns(with_draft=True)}
    assert SEED["draft_campaign_id"] not in plain
    assert SEED["draft_campaign_id"] in with_draft
    assert client.get_campaign(SEED["campaign_id"])["id"] == SEED["campaign_id"]


def test_update_campaign_changes_state(client: Any, emu: Any) -> None:
    updated = client.update_campaign(SEED["paused_campaign_id"], name="renamed by test")
    assert updated["name"] == "renamed by test"
    stored = {c["id"]: c for c in emu.admin.state("campaigns")["campaigns"]}
    assert stored[SEED["paused_campaign_id"]]["name"] == "renamed by test"


def test_line_item_lifecycle(client: Any, emu: Any) -> None:
    created = client.create_line_item(name="lifecycle", **LINE_ITEM)
    assert created["objective"] == "ENGAGEMENTS" and created["entity_status"] == "PAUSED"
    assert _line_items_named(emu, "lifecycle")[0]["id"] == created["id"]

    assert client.get_line_item(created["id"])["name"] == "lifecycle"
    listed = [li["id"] for li in client.list_line_items(campaign_ids=[SEED["campaign_id"]])]
    assert created["id"] in listed

    updated = client.update_line_item(created["id"], bid_amount_local_micro=2_000_000)
    assert updated["bid_amount_local_micro"] == 2_000_000

    deleted = client.delete_line_item(created["id"])
    assert deleted["deleted"] is True
    assert client.get_line_item(created["id"], with_deleted=True)["deleted"] is True
    with pytest.raises(NotFoundError) as info:
        client.delete_line_item(created["id"])  # a second DELETE is a 404
    assert info.value.status == 404 and "DELETE" in str(info.value)


def test_targeting_criteria_and_promoted_tweets(client: Any, emu: Any) -> None:
    li = client.create_line_item(name="targeting", **LINE_ITEM)
    tc = client.create_targeting_criterion(
        line_item_id=li["id"], targeting_type="LOCATION", targeting_value="96683cc9126741d1"
    )
    assert tc["operator_type"] == "EQ"  # filled in by the client
    assert client.get_targeting_criterion(tc["id"])["targeting_value"] == "96683cc9126741d1"
    assert [c["id"] for c in client.list_targeting_criteria([li["id"]])] == [tc["id"]]
    client.delete_targeting_criterion(tc["id"])
    assert list(client.list_targeting_criteria(li["id"])) == []

    tweet_ids = [str(1_200_000_000_000_000_000 + i) for i in range(3)]
    promoted = client.create_promoted_tweets(li["id"], tweet_ids)
    assert sorted(p["tweet_id"] for p in promoted) == sorted(tweet_ids)
    assert client.get_promoted_tweet(promoted[0]["id"])["line_item_id"] == li["id"]
    listed = list(client.list_promoted_tweets(line_item_ids=[li["id"]]))
    assert len(listed) == 3
    many = [str(1_300_000_000_000_000_000 + i) for i in range(120)]
    assert len(client.create_promoted_tweets(li["id"], many)) == 120
    assert [len(r["query"]["tweet_ids"].split(",")) for r in api_requests(emu, "POST", "promoted_tweets")][
        1:
    ] == [
        50,
        50,
        20,
    ]
    client.delete_promoted_tweet(promoted[0]["id"])
    stored = [
        p for p in emu.admin.state("promoted_tweets")["promoted_tweets"] if p["line_item_id"] == li["id"]
    ]
    assert sum(1 for p in stored if p["deleted"]) == 1


def test_legacy_vocabulary_is_translated_with_one_warning(
    make_client: Any, emu: Any, caplog: pytest.LogCaptureFixture
) -> None:
    client = make_client()
    legacy = {k: v for k, v in LINE_ITEM.items() if k not in ("objective", "bid_strategy")}
    caplog.set_level(logging.WARNING, logger="airflow_provider_twads")
    for i in range(2):
        li = client.create_line_item(
            name=f"legacy {i}",
            objective="TWEET_ENGAGEMENTS",
            bid_type="MAX",
            lookalike_expansion="BROAD",
            **legacy,
        )
        assert li["objective"] == "ENGAGEMENTS" and li["bid_strategy"] == "MAX"
    posts = api_requests(emu, "POST", "/line_items")
    assert posts[0]["query"]["objective"] == "ENGAGEMENTS"
    assert "bid_type" not in posts[0]["query"] and posts[0]["query"]["audience_expansion"] == "BROAD"
    warnings = [r.getMessage() for r in caplog.records if "Legacy" in r.getMessage()]
    assert len([w for w in warnings if "TWEET_ENGAGEMENTS" in w]) == 1  # one per renamed value, not per call
    assert len([w for w in warnings if "bid_type" in w]) == 1
    assert len([w for w in warnings if "lookalike_expansion" in w]) == 1


# ---------------------------------------------------------------------------------------------------------
# Validation happens before any HTTP
# ---------------------------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("call", "parameter", "fragment"),
    [
        (lambda c: c.create_line_item(**{**LINE_ITEM, "objective": "SALES"}), "objective", "REACH"),
        (
            lambda c: c.create_line_item(**{**LINE_ITEM, "placements": ["MOON"]}),
            "placements",
            "TWITTER_TIMELINE",
        ),
        (
            lambda c: c.create_line_item(**{**LINE_ITEM, "bid_ammount": 1}),
            "bid_ammount",
            "bid_amount_local_micro",
        ),
        (lambda c: c.list_line_items(count=1001).first_page(), "count", "1000"),
        (
            lambda c: c.list_line_items(line_item_ids=[f"x{i}" for i in range(201)]).first_page(),
            "line_item_ids",
            "200",
        ),
        (lambda c: c.create_promoted_tweets("abc", ["123", "12x"]), "tweet_ids", "numeric"),
        (
            lambda c: c.call("line_items.list", {"cursor": "c-1", "with_total_count": True}),
            "with_total_count",
            "exclusive",
        ),
        (
            lambda c: c.create_line_item(
                **{**LINE_ITEM, "bid_strategy": "MAX", "bid_amount_local_micro": None}
            ),
            "bid_amount_local_micro",
            "required",
        ),
        (lambda c: c.create_line_item(**{**LINE_ITEM, "objective": "REACH"}), "bid_strategy", "REACH"),
        (lambda c: c.update_line_item("abc", entity_status="DRAFT"), "entity_status", "PAUSED"),
        (
            lambda c: c.create_targeting_criterion(
                line_item_id="a", targeting_type="APP_LIST", targeting_value="x"
            ),
            "operator_type",
            "NE",
        ),
        (lambda c: c.get_line_item(""), "line_item_id", "required"),
        (lambda c: c.list("tweets"), "resource", "line_items"),
    ],
)
def test_bad_input_fails_before_any_http(
    client: Any, emu: Any, call: Any, parameter: str, fragment: str
) -> None:
    with pytest.raises(AdsApiValidationError) as info:
        call(client)
    assert info.value.parameter == parameter
    assert fragment in str(info.value)
    assert "\n" not in str(info.value)
    assert api_requests(emu) == []
    assert client.stats.calls == 0


def test_batch_validates_every_operation_before_the_first_chunk(client: Any, emu: Any) -> None:
    ops = [{"operation_type": "Create", "params": {**LINE_ITEM, "name": f"v{i}"}} for i in range(30)]
    ops[25]["params"]["objective"] = "NOPE"
    with pytest.raises(AdsApiValidationError) as info:
        client.batch_line_items(ops)
    assert info.value.parameter == "operations[25].params.objective"
    assert api_requests(emu) == []


# ---------------------------------------------------------------------------------------------------------
# Retries
# ---------------------------------------------------------------------------------------------------------
def test_get_retries_503_honouring_retry_after(make_client: Any, emu: Any, sleeps: Any) -> None:
    client = make_client()
    emu.admin.set_faults(
        {"script": ["503", {"kind": "503", "html": True}], "match": {"method": "GET"}, "retry_after": 2}
    )
    assert client.get_line_item(SEED["line_item_id"])["id"] == SEED["line_item_id"]
    gets = api_requests(emu, "GET", "/line_items/")
    assert [r["status"] for r in gets] == [503, 503, 200]
    assert len(sleeps.waits) == 2 and all(w >= 2 for w in sleeps.waits)
    assert client.stats.retries == 2 and client.stats.by_status[503] == 2


def test_429_waits_for_the_reset_and_retries(make_client: Any, emu: Any, sleeps: Any) -> None:
    client = make_client()
    emu.admin.set_faults({"script": ["429", "429"], "match": {"method": "GET"}, "retry_after": 1})
    assert client.get_account()["id"] == SEED["account_id"]
    assert [r["status"] for r in api_requests(emu, "GET")] == [429, 429, 200]
    assert len(sleeps.waits) == 2
    assert all(0.5 <= w <= 5 for w in sleeps.waits)  # until the announced reset, not a blind fallback


def test_retries_are_bounded_in_attempts(make_client: Any, emu: Any, sleeps: Any) -> None:
    from airflow_provider_twads.api.client import RetryPolicy

    client = make_client(retry=RetryPolicy(max_attempts=3, jitter=0.0, backoff_initial=0.01))
    emu.admin.set_faults({"script": ["503"] * 10, "match": {"method": "GET"}})
    with pytest.raises(ServerError):
        client.get_account()
    assert len(api_requests(emu, "GET")) == 3


def test_429s_are_waited_out_not_counted_out(make_client: Any, emu: Any, sleeps: Any) -> None:
    # A 429 means "not applied": more 429s in a row than max_attempts are still waited out (issue 11:
    # workers sharing one budget lose several windows in a row).
    from airflow_provider_twads.api.client import RetryPolicy

    client = make_client(retry=RetryPolicy(max_attempts=2, jitter=0.0, backoff_initial=0.01))
    emu.admin.set_faults({"script": ["429"] * 5, "match": {"method": "POST"}, "retry_after": 1})
    li = client.create_line_item(name="after five 429s", **LINE_ITEM)
    assert [x["id"] for x in _line_items_named(emu, "after five 429s")] == [li["id"]]
    assert [r["status"] for r in api_requests(emu, "POST")] == [429] * 5 + [200]


def test_429s_are_bounded_by_the_waiting_budget(make_client: Any, emu: Any, sleeps: Any) -> None:
    from airflow_provider_twads.api.client import RetryPolicy

    client = make_client(retry=RetryPolicy(max_attempts=2, max_total_wait=4.5, jitter=0.0))
    emu.admin.set_faults({"script": ["429"] * 50, "match": {"method": "GET"}, "retry_after": 1})
    with pytest.raises(RateLimitError) as info:
        client.get_account()
    assert info.value.reset_at is not None and "429" in str(info.value)
    assert sum(sleeps.waits) <= 4.5
    assert 3 <= len(api_requests(emu, "GET")) == len(sleeps.waits) + 1 < 50


def test_retries_are_bounded_in_total_wait(make_client: Any, emu: Any, sleeps: Any) -> None:
    from airflow_provider_twads.api.client import RetryPolicy

    client = make_client(retry=RetryPolicy(max_attempts=10, max_total_wait=2.5, jitter=0.0))
    emu.admin.set_faults({"script": ["503"] * 10, "match": {"method": "GET"}, "retry_after": 1})
    with pytest.raises(ServerError):
        client.get_account()
    assert sum(sleeps.waits) <= 2.5
    assert len(api_requests(emu, "GET")) == len(sleeps.waits) + 1 < 10


def _settle(seconds: float) -> None:
    """Let the emulator finish a request the client abandoned, so it cannot land in the next test's log."""
    time.sleep(seconds)


def test_get_is_retried_after_a_dropped_connection_and_a_timeout(make_client: Any, emu: Any) -> None:
    client = make_client(timeout=0.3)
    emu.admin.set_faults(
        {"script": ["drop", {"kind": "latency", "seconds": 0.8}], "match": {"method": "GET"}}
    )
    assert client.get_line_item(SEED["line_item_id"])["id"] == SEED["line_item_id"]
    assert client.stats.retries == 2
    _settle(0.8)


def test_post_503_was_not_applied_and_is_retried_once_applied(make_client: Any, emu: Any) -> None:
    client = make_client()
    emu.admin.set_faults({"script": ["503", "429"], "match": {"method": "POST"}})
    li = client.create_line_item(name="after 503", **LINE_ITEM)
    assert [x["id"] for x in _line_items_named(emu, "after 503")] == [li["id"]]
    assert [r["status"] for r in api_requests(emu, "POST")] == [503, 429, 200]


@pytest.mark.parametrize("fault", ["commit_then_drop", "500", {"kind": "latency", "seconds": 0.8}])
def test_ambiguous_post_is_never_resent(make_client: Any, emu: Any, fault: Any) -> None:
    client = make_client(timeout=0.3)
    emu.admin.set_faults({"script": [fault], "match": {"method": "POST"}})
    with pytest.raises(AmbiguousWriteError) as info:
        client.create_line_item(name="ambiguous", **LINE_ITEM)
    assert client.stats.calls == 1 and client.stats.retries == 0  # sent once, not re-sent
    # (a request abandoned by a client timeout never reaches the emulator's log)
    assert len(api_requests(emu, "POST")) <= 1
    _settle(0.8)
    assert info.value.method == "POST" and info.value.request_params["name"] == "ambiguous"
    assert "reconcile" in str(info.value).lower() or "look up" in str(info.value).lower()


# ---------------------------------------------------------------------------------------------------------
# Pacing
# ---------------------------------------------------------------------------------------------------------
def test_pacing_waits_for_the_reset_instead_of_taking_a_429(make_client: Any, emu: Any) -> None:
    from tests.api.conftest import SleepRecorder

    recorder = SleepRecorder(cap=3.0)  # the window is real: really wait (about a second)
    client = make_client(sleep=recorder)
    emu.admin.set_rate_limits({"core_reads": {"limit": 2, "window": 1}})
    for _ in range(3):
        client.get_line_item(SEED["line_item_id"])
    statuses = [r["status"] for r in api_requests(emu, "GET", "/line_items/")]
    assert statuses == [200, 200, 200]  # no 429 taken
    assert client.stats.pacing_waits == 1 and len(recorder.waits) == 1


# ---------------------------------------------------------------------------------------------------------
# Errors and hints
# ---------------------------------------------------------------------------------------------------------
QI_LINE_ITEM = {**LINE_ITEM, "objective": "QUALIFIED_IMPRESSIONS", "campaign_id": SEED["empty_campaign_id"]}


def test_account_feature_error_lists_the_accounts_features(client: Any, emu: Any) -> None:
    with pytest.raises(AccountFeatureError) as info:
        client.create_line_item(name="qi", **QI_LINE_ITEM)
    err = info.value
    assert err.status == 400 and err.required_features == ["QUALIFIED_VIEWS"]
    assert err.account_features == emu.admin.state()["features"][SEED["account_id"]]
    text = str(err)
    assert "QUALIFIED_VIEWS" in text and "one product" in text and "CITY_TARGETING" in text
    assert "\n" not in text

    emu.admin.set_features(SEED["account_id"], [*err.account_features, "QUALIFIED_VIEWS"])
    assert client.create_line_item(name="qi", **QI_LINE_ITEM)["id"]


def test_pausing_a_draft_says_to_use_the_ads_ui(client: Any) -> None:
    with pytest.raises(DraftEntityError) as info:
        client.update_campaign(SEED["draft_campaign_id"], entity_status="ACTIVE")
    assert "Ads UI" in str(info.value) and info.value.parameter


def test_bad_credentials_are_401_without_secrets(make_client: Any) -> None:
    from airflow_provider_twads.api.client import Credentials

    bad = Credentials(**{**DEFAULT_CREDENTIALS, "access_token_secret": "definitely-wrong-secret"})
    client = make_client(credentials=bad)
    with pytest.raises(UnauthorizedError) as info:
        client.get_account()
    text = f"{info.value} {info.value!r} {client!r} {bad!r}"
    assert "401" in text and "access_token_secret" in text  # the hint names the field...
    for secret in ("definitely-wrong-secret", DEFAULT_CREDENTIALS["consumer_secret"]):
        assert secret not in text  # ...never its value


def test_stats_count_calls_retries_and_statuses(make_client: Any, emu: Any) -> None:
    client = make_client()
    emu.admin.set_faults({"script": ["503"], "match": {"method": "GET"}})
    client.get_account()
    client.get_campaign(SEED["campaign_id"])
    stats = client.stats.as_dict()
    assert stats["calls"] == 3 and stats["retries"] == 1
    assert stats["by_status"] == {"200": 2, "503": 1}
