"""Unit tests of the sans-IO pieces: error parsing, spec rules, rate-limit decisions, cursor state."""

from __future__ import annotations

import logging
import pickle
from email.utils import formatdate

import pytest

from airflow_provider_twads.api import spec
from airflow_provider_twads.api.error_mapping import error_from_response
from airflow_provider_twads.api.errors import (
    AccountFeatureError,
    AdsApiValidationError,
    BadRequestError,
    DraftEntityError,
    EndlessCursorError,
    MalformedResponseError,
    NotFoundError,
    RateLimitError,
    ServerError,
)
from airflow_provider_twads.api.paging import Cursor, CursorState
from airflow_provider_twads.api.ratelimit import RateLimiter, bucket_for, parse_rate_limit_headers

# ---------------------------------------------------------------------------------------------------------
# errors
# ---------------------------------------------------------------------------------------------------------
FORUM_BODY = (
    '{"errors":[{"code":"INVALID","message":"Saving value QUALIFIED_VIEWS to field OBJECTIVE requires one of '
    'these account features: QUALIFIED_VIEWS","attribute":"objective"}],'
    '"request":{"params":{"bid_type":"MAX","objective":"QUALIFIED_IMPRESSIONS","account_id":"18ce54cvmes"}}}'
)


def test_forum_feature_error_is_parsed_with_its_hint() -> None:
    err = error_from_response(400, FORUM_BODY, method="POST", path="/12/accounts/18ce54cvmes/line_items")
    assert isinstance(err, AccountFeatureError)
    assert err.parameter == "objective" and err.required_features == ["QUALIFIED_VIEWS"]
    err.with_account_features("18ce54cvmes", ["CITY_TARGETING"])
    text = str(err)
    assert text.startswith(
        "POST /12/accounts/18ce54cvmes/line_items: HTTP 400 INVALID: parameter 'objective'"
    )
    assert "CITY_TARGETING" in text and "QUALIFIED_IMPRESSIONS and QUALIFIED_VIEWS are one product" in text


def test_draft_error_hint() -> None:
    body = (
        '{"errors":[{"code":"INVALID_PARAMETER","message":"Draft entities can only be activated or '
        'paused via the Twitter Ads UI","parameter":"paused"}]}'
    )
    err = error_from_response(400, body, method="PUT", path="/12/accounts/a/campaigns/6aian")
    assert isinstance(err, DraftEntityError) and "only in the Ads UI" in str(err)


@pytest.mark.parametrize(
    ("status", "body", "cls", "fragment"),
    [
        (
            404,
            "<html><head><title>Page not found</title></head><body>x</body></html>",
            NotFoundError,
            "Page not found",
        ),
        (
            503,
            "<html><body><h1>503 Service unavailable</h1>\n<p>later</p></body></html>",
            ServerError,
            "503 Service",
        ),
        (502, "", ServerError, "Bad Gateway"),
        (
            429,
            '{"errors":[{"code":"TOO_MANY_REQUESTS","message":"Rate limit exceeded"}]}',
            RateLimitError,
            "Rate",
        ),
        (400, "not json at all", BadRequestError, "not json at all"),
    ],
)
def test_non_json_and_odd_bodies(status: int, body: str, cls: type, fragment: str) -> None:
    err = error_from_response(status, body, method="GET", path="/12/accounts/a/line_items")
    assert type(err) is cls and fragment in str(err) and "\n" not in str(err)
    assert pickle.loads(pickle.dumps(err)).status == status  # travels between processes


def test_operation_errors_without_request_errors() -> None:
    body = '{"operation_errors":[[],[{"code":"INVALID_PARAMETER","message":"bad","parameter":"objective"}]]}'
    err = error_from_response(400, body, method="POST", path="/12/batch/accounts/a/line_items")
    assert err.operation_errors == [
        [],
        [{"code": "INVALID_PARAMETER", "message": "bad", "parameter": "objective"}],
    ]
    assert "1 operation(s) rejected" in str(err)


def test_echoed_oauth_params_are_dropped() -> None:
    body = '{"errors":[{"code":"X","message":"m"}],"request":{"params":{"oauth_token":"tok","a":"1"}}}'
    err = error_from_response(400, body, method="GET", path="/p")
    assert err.request_params == {"a": "1"}


# ---------------------------------------------------------------------------------------------------------
# spec
# ---------------------------------------------------------------------------------------------------------
BASE = {"campaign_id": "c1", "placements": "ALL_ON_TWITTER", "product_type": "PROMOTED_TWEETS"}


def test_legacy_names_translate_with_one_warning_per_value(caplog: pytest.LogCaptureFixture) -> None:
    warned: set[tuple[str, str]] = set()
    caplog.set_level(logging.WARNING)
    for _ in range(3):
        out = spec.validate(
            "line_items.create",
            {**BASE, "objective": "AWARENESS", "automatically_select_bid": True, "charge_by": "APP_CLICK"},
            "11",
            warned=warned,
        )
    assert out["objective"] == "REACH" and out["bid_strategy"] == "AUTO" and out["pay_by"] == "APP_CLICK"
    assert len(caplog.records) == 3
    assert {"AWARENESS", "automatically_select_bid", "charge_by"} <= {
        w
        for r in caplog.records
        for w in ("AWARENESS", "automatically_select_bid", "charge_by")
        if w in r.getMessage()
    }


def test_legacy_and_current_name_together_is_an_error() -> None:
    with pytest.raises(AdsApiValidationError) as info:
        spec.validate(
            "line_items.create", {**BASE, "objective": "REACH", "bid_type": "AUTO", "bid_strategy": "AUTO"}
        )
    assert info.value.parameter == "bid_type"


def test_sometimes_required_rules() -> None:
    with pytest.raises(AdsApiValidationError) as info:
        spec.validate("line_items.create", {**BASE, "objective": "APP_INSTALLS"})
    assert info.value.parameter == "android_app_store_identifier"
    with pytest.raises(AdsApiValidationError) as info:
        spec.validate(
            "line_items.create", {**BASE, "objective": "REACH", "placements": ["PUBLISHER_NETWORK"]}
        )
    assert info.value.parameter == "advertiser_domain"
    with pytest.raises(AdsApiValidationError) as info:
        spec.validate(
            "line_items.create",
            {**BASE, "objective": "ENGAGEMENTS", "bid_strategy": "TARGET", "bid_amount_local_micro": 5},
        )
    assert info.value.parameter == "bid_strategy"
    ok = spec.validate(
        "line_items.create",
        {**BASE, "objective": "WEBSITE_CLICKS", "bid_strategy": "TARGET", "bid_amount_local_micro": 5},
    )
    assert ok["bid_strategy"] == "TARGET"


def test_unsupported_version_and_unknown_operation() -> None:
    with pytest.raises(AdsApiValidationError) as info:
        spec.validate("line_items.get", {}, "9")
    assert info.value.allowed == ["11", "12"]
    with pytest.raises(AdsApiValidationError):
        spec.validate("line_items.explode", {})


def test_targeting_set_rules() -> None:
    existing = [{"line_item_id": "l1", "targeting_type": "AGE", "targeting_value": "AGE_18_TO_24"}]
    with pytest.raises(AdsApiValidationError, match="only one AGE"):
        spec.check_targeting_set(
            existing, [{"line_item_id": "l1", "targeting_type": "AGE", "targeting_value": "AGE_25_TO_34"}]
        )
    spec.check_targeting_set(
        existing, [{"line_item_id": "l2", "targeting_type": "AGE", "targeting_value": "AGE_25_TO_34"}]
    )
    with pytest.raises(AdsApiValidationError, match="LOCATION"):
        spec.check_targeting_set(
            [], [{"line_item_id": "l1", "targeting_type": "TV_SHOW", "targeting_value": "t"}]
        )
    spec.check_targeting_set(
        [{"line_item_id": "l1", "targeting_type": "LOCATION", "targeting_value": "x"}],
        [{"line_item_id": "l1", "targeting_type": "TV_SHOW", "targeting_value": "t"}],
    )
    with pytest.raises(AdsApiValidationError) as info:
        spec.check_targeting_set(
            [],
            [
                {
                    "line_item_id": "l1",
                    "targeting_type": "APP_LIST",
                    "targeting_value": "a",
                    "operator_type": "EQ",
                }
            ],
        )
    assert info.value.allowed == ["NE"]


# ---------------------------------------------------------------------------------------------------------
# rate limits
# ---------------------------------------------------------------------------------------------------------
def test_account_headers_take_precedence_and_skew_is_survived() -> None:
    local = 1_000_000.0
    server = local + 3600  # our clock is an hour behind
    headers = {
        "x-rate-limit-remaining": "99",
        "x-rate-limit-reset": str(int(server + 900)),
        "x-account-rate-limit-remaining": "0",
        "x-account-rate-limit-reset": str(int(server + 30)),
        "date": formatdate(server, usegmt=True),
    }
    info = parse_rate_limit_headers(headers, local)
    assert info is not None and info.level == "account" and info.remaining == 0
    assert info.reset_in == pytest.approx(30, abs=1)  # measured on the server's clock, not ours
    limiter = RateLimiter()
    limiter.observe("b", headers, local)
    assert limiter.wait_before("b", local) == pytest.approx(30, abs=1)
    assert limiter.wait_before("b", local + 31) == 0.0


def test_429_waits_without_headers_and_repeated() -> None:
    limiter = RateLimiter(fallback_wait=60, min_wait=1, max_wait=960)
    assert limiter.wait_after_429(None, 1, None) == 60
    assert limiter.wait_after_429(None, 2, None) == 120
    assert limiter.wait_after_429(-5.0, 1, None) == 1  # reset in the past: skew; short wait, growing
    assert limiter.wait_after_429(-5.0, 3, None) == 4
    assert limiter.wait_after_429(10**7, 1, None) == 960  # absurd reset: capped
    assert limiter.wait_after_429(None, 1, 7) == 7


def test_buckets() -> None:
    assert bucket_for("POST", "accounts/a/line_items") == "writes"
    assert bucket_for("GET", "accounts/a/targeting_criteria") == "targeting_criteria"
    assert bucket_for("GET", "accounts") == "global_reads"
    assert bucket_for("GET", "accounts/a/line_items", {"with_total_count": "true"}).startswith("total_count")
    assert bucket_for("GET", "accounts/a/line_items") != bucket_for("GET", "accounts/a/campaigns")


# ---------------------------------------------------------------------------------------------------------
# paging (a server that repeats its cursor cannot be produced by the emulator: a fake fetch stands in)
# ---------------------------------------------------------------------------------------------------------
def test_endless_cursor_is_detected() -> None:
    pages = iter(
        [
            {"data": [{"id": "1"}], "next_cursor": "c1"},
            {"data": [{"id": "2"}], "next_cursor": "c2"},
            {"data": [{"id": "3"}], "next_cursor": "c1"},
        ]
    )
    cursor = Cursor(CursorState({"count": "1"}), lambda params: next(pages))
    with pytest.raises(EndlessCursorError, match="second time"):
        list(cursor)


@pytest.mark.parametrize("total", ["many", {"n": 1}, [1], True, -1, 2.5, float("nan")])
def test_a_mistyped_total_count_is_a_malformed_response(total: object) -> None:
    state = CursorState({"count": "1", "with_total_count": "true"}, method="GET", path="/12/x")
    with pytest.raises(MalformedResponseError, match="total_count"):
        state.advance({"data": [], "total_count": total, "next_cursor": None})


@pytest.mark.parametrize(("total", "expected"), [(7, 7), ("7", 7), (7.0, 7), (None, None)])
def test_a_well_typed_total_count_is_kept(total: object, expected: int | None) -> None:
    state = CursorState({"count": "1", "with_total_count": "true"})
    state.advance({"data": [], "total_count": total, "next_cursor": None})
    assert state.total_count == expected


@pytest.mark.parametrize("data", [[1, "x"], [{"id": "a"}, None], [[{"id": "a"}]]])
def test_list_entities_that_are_not_objects_are_a_malformed_response(data: list[object]) -> None:
    state = CursorState({"count": "1"}, method="GET", path="/12/x")
    with pytest.raises(MalformedResponseError, match="not an object"):
        state.advance({"data": data, "next_cursor": None})


# ---------------------------------------------------------------------------------------------------------
# spec: values that look valid to a type check but are not
# ---------------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("value", ["", "   ", "\t"])
def test_a_blank_targeting_value_is_refused(value: str) -> None:
    params = {"line_item_id": "li1", "targeting_type": "AGE", "targeting_value": value}
    with pytest.raises(AdsApiValidationError) as info:
        spec.validate_batch("targeting_criteria", [{"operation_type": "Create", "params": params}])
    assert info.value.parameter == "operations[0].params.targeting_value"
    with pytest.raises(AdsApiValidationError) as info:
        spec.validate("targeting_criteria.create", params)
    assert info.value.parameter == "targeting_value"


@pytest.mark.parametrize("tweet_ids", [["0"], ["00"], ["1", "0"], "0", ["\uff11\uff12"]])  # fullwidth digits
def test_tweet_ids_must_be_positive_ascii_numbers(tweet_ids: object) -> None:
    with pytest.raises(AdsApiValidationError) as info:
        spec.validate("promoted_tweets.create", {"line_item_id": "li1", "tweet_ids": tweet_ids})
    assert info.value.parameter == "tweet_ids"


@pytest.mark.parametrize("value", ["²", "٣", "1x"])
def test_a_numeric_enum_refuses_unicode_digits_with_a_validation_error(value: str) -> None:
    params = {"duration_in_days": value}
    with pytest.raises(AdsApiValidationError) as info:
        spec.validate("line_items.update", params)
    assert info.value.parameter == "duration_in_days"


def test_enum_values_keep_their_normalized_forms() -> None:
    out = spec.validate(
        "line_items.create",
        {
            "campaign_id": "c1",
            "objective": "engagements",
            "product_type": "promoted_tweets",
            "placements": "all_on_twitter, TWITTER_SEARCH,ALL_ON_TWITTER",
            "duration_in_days": "7",
            "start_time": "2030-01-01T02:00:00+02:00",
            "end_time": "2030-02-01",
        },
    )
    assert out["objective"] == "ENGAGEMENTS" and out["product_type"] == "PROMOTED_TWEETS"
    assert out["placements"] == ["ALL_ON_TWITTER", "TWITTER_SEARCH"] and out["duration_in_days"] == 7
    # A date without a zone is midnight UTC, as everywhere else in the client (api/times.py).
    assert out["start_time"] == "2030-01-01T00:00:00Z" and out["end_time"] == "2030-02-01T00:00:00Z"
    with pytest.raises(AdsApiValidationError) as info:
        spec.validate("line_items.create", {"campaign_id": "c1", "objective": ["ENGAGEMENTS"]})
    assert info.value.parameter == "objective"
