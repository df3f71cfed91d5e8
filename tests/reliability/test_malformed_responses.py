"""Malformed responses: each gets a typed error or a bounded, logged recovery; never a hang or a crash.

A scripted HTTP peer on loopback (``scripted_peer.py``) serves what a real API, proxy or gateway
sometimes sends and the emulator cannot: HTML error pages, truncated or invalid JSON, mistyped fields,
418 and 302, a lying ``Content-Length``, an endless cursor.
Both transports are checked where they share the core.
"""

from __future__ import annotations

import asyncio
import json
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from airflow_provider_twads.api.client import AdsApiClient, Credentials, RetryPolicy
from airflow_provider_twads.api.errors import (
    AdsApiConnectionError,
    AdsApiError,
    AmbiguousWriteError,
    EndlessCursorError,
    MalformedResponseError,
    RateLimitError,
    ServerError,
)

sys.path.insert(0, str(Path(__file__).parent))
from scripted_peer import ScriptedPeer, json_body

pytestmark = pytest.mark.timeout(60)  # a hang fails the test instead of the suite

ACCOUNT = "acc1"
LINE_ITEMS = f"/12/accounts/{ACCOUNT}/line_items"
PROMOTED = f"/12/accounts/{ACCOUNT}/promoted_tweets"
CREDS = Credentials("peer-key", "peer-consumer-secret", "peer-token", "peer-token-secret")
RETRY = RetryPolicy(max_attempts=3, backoff_initial=0.01, backoff_max=0.02, jitter=0.0, max_total_wait=1800)
LINE_ITEM_SPEC = {
    "campaign_id": "c1",
    "objective": "ENGAGEMENTS",
    "product_type": "PROMOTED_TWEETS",
    "placements": ["ALL_ON_TWITTER"],
    "bid_strategy": "AUTO",
    "start_time": "2031-01-01T00:00:00Z",
    "name": "n",
}


class Sleeps(list[float]):
    """Records waits without waiting."""

    def __call__(self, seconds: float) -> None:
        self.append(seconds)

    async def asleep(self, seconds: float) -> None:
        self.append(seconds)


@pytest.fixture(scope="module")
def server() -> Iterator[ScriptedPeer]:
    s = ScriptedPeer()
    yield s
    s.close()


@pytest.fixture
def peer(server: ScriptedPeer) -> ScriptedPeer:
    server.reset()
    return server


@pytest.fixture
def sleeps() -> Sleeps:
    return Sleeps()


@pytest.fixture
def client(peer: ScriptedPeer, sleeps: Sleeps) -> Iterator[AdsApiClient]:
    with AdsApiClient(CREDS, host=peer.url, account_id=ACCOUNT, timeout=2, retry=RETRY, sleep=sleeps) as c:
        yield c


def _listing(client: AdsApiClient) -> list[Any]:
    return list(client.list_line_items(with_total_count=True))


# ---------------------------------------------------------------------------------------------------------
# Bodies that are not the envelope
# ---------------------------------------------------------------------------------------------------------
NOT_AN_ENVELOPE = {
    "html page": (
        200,
        {"Content-Type": "text/html"},
        "<html><title>Maintenance</title><body>back soon</body>",
    ),
    "truncated json": (200, {}, '{"data": [{"id": "a"'),
    "json array": (200, {}, "[1, 2]"),
    "json string": (200, {}, '"ok"'),
    "empty 200": (200, {}, ""),
    "204 no content": (204, {}, ""),
    "invalid utf-8": (200, {}, b'{"data": "\xff\xfe"}'),
    "data is a string": (200, {}, json_body({"data": "oops", "next_cursor": None})),
    "data is a number": (200, {}, json_body({"data": 5})),
}


@pytest.mark.parametrize("case", sorted(NOT_AN_ENVELOPE))
def test_bodies_that_are_not_an_envelope_are_malformed(
    peer: ScriptedPeer, client: AdsApiClient, sleeps: Sleeps, case: str
) -> None:
    peer.routes[LINE_ITEMS] = NOT_AN_ENVELOPE[case]
    with pytest.raises(MalformedResponseError) as info:
        _listing(client)
    assert info.value.path == LINE_ITEMS and "line_items" in str(info.value)
    assert len(peer.hits) == 1 and sleeps == []  # not retried: a malformed 2xx is not transient


def test_an_html_error_page_becomes_a_short_server_error_and_is_retried_a_bounded_number_of_times(
    peer: ScriptedPeer, client: AdsApiClient, sleeps: Sleeps, caplog: pytest.LogCaptureFixture
) -> None:
    page = "<html><head><title>502 Bad Gateway</title><style>x{}</style></head><body>" + "x" * 5000
    peer.routes[LINE_ITEMS] = (502, {"Content-Type": "text/html"}, page + "</body></html>")
    with caplog.at_level("WARNING", logger="airflow_provider_twads.api"), pytest.raises(ServerError) as info:
        _listing(client)
    assert info.value.status == 502
    assert "502 Bad Gateway" in str(info.value) and "<html" not in str(info.value)
    assert len(str(info.value)) < 600
    assert len(peer.hits) == RETRY.max_attempts and len(sleeps) == RETRY.max_attempts - 1
    assert sum("retrying" in r.getMessage() for r in caplog.records) == RETRY.max_attempts - 1


@pytest.mark.parametrize(
    ("status", "headers"), [(418, {}), (302, {"Location": "http://127.0.0.1:9/elsewhere"})]
)
def test_unexpected_statuses_are_typed_errors_and_not_followed_or_retried(
    peer: ScriptedPeer, client: AdsApiClient, sleeps: Sleeps, status: int, headers: dict[str, str]
) -> None:
    peer.routes[LINE_ITEMS] = (status, headers, "I'm a teapot" if status == 418 else "")
    with pytest.raises(AdsApiError) as info:
        _listing(client)
    assert info.value.status == status and f"HTTP {status}" in str(info.value)
    assert len(peer.hits) == 1 and sleeps == []


def test_error_envelopes_with_odd_shapes_still_give_a_readable_error(
    peer: ScriptedPeer, client: AdsApiClient
) -> None:
    for body in (
        json_body({"errors": "boom"}),
        json_body({"errors": [{"code": 5, "message": None, "parameter": ["a"]}, "text", None]}),
        json_body({"errors": [], "operation_errors": "x"}),
        json_body([{"errors": 1}]),
    ):
        peer.routes[LINE_ITEMS] = (400, {}, body)
        with pytest.raises(AdsApiError) as info:
            _listing(client)
        assert info.value.status == 400 and str(info.value).startswith("GET ")


def test_a_body_shorter_than_its_content_length_times_out_bounded(
    peer: ScriptedPeer, client: AdsApiClient, sleeps: Sleeps
) -> None:
    peer.routes[LINE_ITEMS] = (200, {"Content-Length": "500"}, json_body({"data": []}))
    with pytest.raises(AdsApiConnectionError):
        _listing(client)
    assert len(peer.hits) == RETRY.max_attempts  # each attempt waited for the client's timeout (2 s)


def test_a_write_whose_response_is_cut_is_ambiguous_and_never_resent(
    peer: ScriptedPeer, client: AdsApiClient
) -> None:
    peer.routes[("POST", LINE_ITEMS)] = (200, {"Content-Length": "500"}, json_body({"data": {"id": "x"}}))
    with pytest.raises(AmbiguousWriteError):
        client.create_line_item(**LINE_ITEM_SPEC)
    assert [m for m, _ in peer.hits] == ["POST"]


# ---------------------------------------------------------------------------------------------------------
# Cursors
# ---------------------------------------------------------------------------------------------------------
def test_the_same_next_cursor_again_stops_with_a_typed_error(
    peer: ScriptedPeer, client: AdsApiClient
) -> None:
    peer.routes[LINE_ITEMS] = (200, {}, json_body({"data": [{"id": "a"}], "next_cursor": "c1"}))
    with pytest.raises(EndlessCursorError) as info:
        _listing(client)
    assert "c1" in str(info.value) and len(peer.hits) == 2


def test_a_cursor_cycle_stops_too(peer: ScriptedPeer, client: AdsApiClient) -> None:
    def cycle(req: Any) -> tuple[int, dict[str, str], str]:
        nxt = {"": "A", "cursor=A": "B", "cursor=B": "A"}[
            next((q for q in req.query.split("&") if q.startswith("cursor=")), "")
        ]
        return 200, {}, json_body({"data": [{"id": nxt}], "next_cursor": nxt})

    peer.routes[LINE_ITEMS] = cycle
    with pytest.raises(EndlessCursorError):
        list(client.list_line_items())
    assert len(peer.hits) == 3


def test_endless_cursor_in_the_async_client_too(peer: ScriptedPeer, sleeps: Sleeps) -> None:
    from airflow_provider_twads.api.aclient import AsyncAdsApiClient

    peer.routes[LINE_ITEMS] = (200, {}, json_body({"data": [], "next_cursor": "same"}))

    async def walk() -> None:
        async with AsyncAdsApiClient(
            CREDS, host=peer.url, account_id=ACCOUNT, timeout=2, retry=RETRY, sleep=sleeps.asleep
        ) as c:
            [e async for e in c.alist("line_items")]

    with pytest.raises(EndlessCursorError):
        asyncio.run(walk())


@pytest.mark.parametrize("case", ["html page", "truncated json", "data is a string"])
def test_async_client_types_malformed_bodies_alike(peer: ScriptedPeer, sleeps: Sleeps, case: str) -> None:
    from airflow_provider_twads.api.aclient import AsyncAdsApiClient

    peer.routes[LINE_ITEMS] = NOT_AN_ENVELOPE[case]

    async def walk() -> None:
        async with AsyncAdsApiClient(
            CREDS, host=peer.url, account_id=ACCOUNT, timeout=2, retry=RETRY, sleep=sleeps.asleep
        ) as c:
            [e async for e in c.alist("line_items")]

    with pytest.raises(MalformedResponseError):
        asyncio.run(walk())


# ---------------------------------------------------------------------------------------------------------
# Waits announced by the server are bounded
# ---------------------------------------------------------------------------------------------------------
def test_absurd_waits_announced_by_the_server_are_capped(
    peer: ScriptedPeer, client: AdsApiClient, sleeps: Sleeps
) -> None:
    peer.routes[LINE_ITEMS] = (503, {"retry-after": "999999"}, json_body({"errors": [{"code": "X"}]}))
    with pytest.raises(ServerError):
        _listing(client)
    assert sleeps == []  # waiting 11 days exceeds max_total_wait: it gives up at once instead

    peer.reset()
    far = str(int(time.time()) + 10**9)
    headers = {"x-rate-limit-limit": "1", "x-rate-limit-remaining": "0", "x-rate-limit-reset": far}
    peer.routes[LINE_ITEMS] = (429, headers, json_body({"errors": [{"code": "TOO_MANY_REQUESTS"}]}))
    with pytest.raises(RateLimitError):
        _listing(client)
    assert sleeps and max(sleeps) <= RETRY.max_rate_limit_wait + RETRY.jitter


# ---------------------------------------------------------------------------------------------------------
# Regressions: malformed responses that once crashed with an untyped exception
# ---------------------------------------------------------------------------------------------------------
def test_deeply_nested_json_is_malformed_not_a_recursion_error(
    peer: ScriptedPeer, client: AdsApiClient
) -> None:
    peer.routes[LINE_ITEMS] = (200, {}, '{"data":' + "[" * 100_000 + "]" * 100_000 + "}")
    with pytest.raises(MalformedResponseError):
        _listing(client)


@pytest.mark.parametrize("total", ["many", {"n": 1}, [1]])
def test_a_mistyped_total_count_is_malformed(peer: ScriptedPeer, client: AdsApiClient, total: Any) -> None:
    peer.routes[LINE_ITEMS] = (200, {}, json_body({"data": [], "total_count": total, "next_cursor": None}))
    with pytest.raises(MalformedResponseError):
        _listing(client)


@pytest.mark.parametrize("reset", ["nan", "inf", "1e400"])
def test_a_non_finite_rate_limit_reset_is_ignored_not_slept_on(peer: ScriptedPeer, reset: str) -> None:
    headers = {"x-rate-limit-limit": "1", "x-rate-limit-remaining": "0", "x-rate-limit-reset": reset}
    peer.routes[LINE_ITEMS] = (429, headers, json_body({"errors": [{"code": "TOO_MANY_REQUESTS"}]}))
    # The real sleep: a NaN wait must never reach it (the fallback wait is tiny here).
    # 429s are bounded by the waiting budget (not by max_attempts): a small one here.
    retry = RetryPolicy(
        max_attempts=2,
        jitter=0.0,
        rate_limit_fallback_wait=0.01,
        max_rate_limit_wait=0.05,
        max_total_wait=0.2,
    )
    with (
        AdsApiClient(CREDS, host=peer.url, account_id=ACCOUNT, timeout=2, retry=retry) as c,
        pytest.raises(RateLimitError),
    ):
        _listing(c)


@pytest.mark.parametrize("data", [None, [], "x"])
def test_a_single_entity_with_mistyped_data_is_malformed(
    peer: ScriptedPeer, client: AdsApiClient, data: Any
) -> None:
    peer.routes[f"{LINE_ITEMS}/li1"] = (200, {}, json_body({"data": data}))
    with pytest.raises(MalformedResponseError):
        client.get_line_item("li1")


def test_list_entities_that_are_not_objects_are_malformed(peer: ScriptedPeer, client: AdsApiClient) -> None:
    peer.routes[LINE_ITEMS] = (200, {}, json_body({"data": [1, "x"], "next_cursor": None}))
    with pytest.raises(MalformedResponseError):
        _listing(client)


# ---------------------------------------------------------------------------------------------------------
# Operators on malformed responses: a typed error, never AttributeError/KeyError from deep inside
# (regressions for reconcile.py reading entity fields unchecked)
# ---------------------------------------------------------------------------------------------------------
@pytest.fixture
def peer_conn(peer: ScriptedPeer, monkeypatch: pytest.MonkeyPatch) -> str:
    extra = {
        "access_token": "t",
        "access_token_secret": "ts",
        "host": peer.url,
        "account_id": ACCOUNT,
        "timeout": 2,
    }
    conn = {"conn_type": "twitter_ads", "login": "k", "password": "s", "extra": extra}
    monkeypatch.setenv("AIRFLOW_CONN_SCRIPTED_PEER", json.dumps(conn))
    return "scripted_peer"


def _execute(op: Any) -> Any:
    from airflow_provider_twads.hooks.ads_api import AdsApiHook

    class TI:
        dag_id, task_id, run_id, map_index, try_number = "d", op.task_id, "manual__x", -1, 1

        def xcom_push(self, key: str, value: Any) -> None:
            pass

    op.__dict__["hook"] = AdsApiHook(op.twitter_ads_conn_id, retry=RETRY)  # no real waits
    return op.execute({"ti": TI(), "task_instance": TI()})


def _operator_cases(conn: str) -> dict[str, tuple[dict[Any, Any], Any]]:
    from airflow_provider_twads.operators.line_items import CreateLineItemOperator, UpdateLineItemOperator
    from airflow_provider_twads.operators.promoted_tweets import PromoteTweetsOperator

    empty = (200, {}, json_body({"data": [], "next_cursor": None}))
    return {
        "update: the line item is null": (
            {f"{LINE_ITEMS}/li1": (200, {}, json_body({"data": None}))},
            UpdateLineItemOperator(
                task_id="u", line_item_id="li1", entity_status="ACTIVE", twitter_ads_conn_id=conn
            ),
        ),
        "create: a listed line item is not an object": (
            {LINE_ITEMS: (200, {}, json_body({"data": [7], "next_cursor": None}))},
            CreateLineItemOperator(task_id="c", **LINE_ITEM_SPEC, twitter_ads_conn_id=conn),
        ),
        "create: the created line item has no id": (
            {("GET", LINE_ITEMS): empty, ("POST", LINE_ITEMS): (200, {}, json_body({"data": {"name": "n"}}))},
            CreateLineItemOperator(task_id="c", **LINE_ITEM_SPEC, twitter_ads_conn_id=conn),
        ),
        "promote: a listed promoted Tweet has no tweet_id": (
            {
                PROMOTED: (
                    200,
                    {},
                    json_body({"data": [{"id": "p1", "line_item_id": "li1"}], "next_cursor": None}),
                )
            },
            PromoteTweetsOperator(task_id="p", line_item_id="li1", tweet_ids=["1"], twitter_ads_conn_id=conn),
        ),
        "promote: a created promoted Tweet has no tweet_id": (
            {("GET", PROMOTED): empty, ("POST", PROMOTED): (200, {}, json_body({"data": [{"id": "p1"}]}))},
            PromoteTweetsOperator(task_id="p", line_item_id="li1", tweet_ids=["1"], twitter_ads_conn_id=conn),
        ),
    }


OPERATOR_CASES = [
    "update: the line item is null",
    "create: a listed line item is not an object",
    "create: the created line item has no id",
    "promote: a listed promoted Tweet has no tweet_id",
    "promote: a created promoted Tweet has no tweet_id",
]


@pytest.mark.parametrize("case", OPERATOR_CASES)
def test_operators_on_mistyped_fields_raise_typed_errors(
    peer: ScriptedPeer, peer_conn: str, case: str
) -> None:
    routes, op = _operator_cases(peer_conn)[case]
    peer.routes.update(routes)
    with pytest.raises(AdsApiError):
        _execute(op)


def test_operator_on_html_maintenance_page_fails_with_a_typed_error(
    peer: ScriptedPeer, peer_conn: str
) -> None:
    from airflow_provider_twads.operators.promoted_tweets import PromoteTweetsOperator

    peer.routes[PROMOTED] = NOT_AN_ENVELOPE["html page"]
    op = PromoteTweetsOperator(
        task_id="p", line_item_id="li1", tweet_ids=["1"], twitter_ads_conn_id=peer_conn
    )
    with pytest.raises(MalformedResponseError):
        _execute(op)


# ---------------------------------------------------------------------------------------------------------
# Errors the API really sends (issue 14): 408/423, operation_errors shapes, empty bodies, notices, 400 hints
# ---------------------------------------------------------------------------------------------------------
def _error(status: int, code: str) -> Any:
    return (status, {}, json_body({"errors": [{"code": code, "message": code.lower()}]}))


def _then(first: Any, then: Any) -> Any:
    served: list[int] = []

    def route(_req: Any) -> Any:
        served.append(1)
        return first if len(served) == 1 else then

    return route


@pytest.mark.parametrize(("status", "code"), [(408, "CANCELLED_REQUEST"), (423, "LOCK_ACQUISITION_TIMEOUT")])
def test_408_and_423_are_transient_for_reads(
    peer: ScriptedPeer, client: AdsApiClient, sleeps: Sleeps, status: int, code: str
) -> None:
    ok = (200, {}, json_body({"data": {"id": "li1"}}))
    peer.routes[f"{LINE_ITEMS}/li1"] = _then(_error(status, code), ok)
    assert client.get_line_item("li1")["id"] == "li1"
    assert len(peer.hits) == 2 and len(sleeps) == 1


def test_423_on_a_post_was_not_applied_and_is_retried(peer: ScriptedPeer, client: AdsApiClient) -> None:
    ok = (200, {}, json_body({"data": {"id": "li9", "name": "n"}}))
    peer.routes[("POST", LINE_ITEMS)] = _then(_error(423, "LOCK_ACQUISITION_TIMEOUT"), ok)
    assert client.create_line_item(**LINE_ITEM_SPEC)["id"] == "li9"
    assert len(peer.hits) == 2


def test_408_on_a_post_is_ambiguous_and_never_resent(peer: ScriptedPeer, client: AdsApiClient) -> None:
    peer.routes[("POST", LINE_ITEMS)] = _error(408, "CANCELLED_REQUEST")
    with pytest.raises(AmbiguousWriteError) as info:
        client.create_line_item(**LINE_ITEM_SPEC)
    assert info.value.status == 408 and len(peer.hits) == 1


CRITERIA = [
    {"operation_type": "Create", "params": {"line_item_id": "l1", "targeting_type": "LANGUAGE",
                                            "targeting_value": lang}}
    for lang in ("en", "fr", "de", "es")
]  # fmt: skip
BATCH_TC = f"/12/batch/accounts/{ACCOUNT}/targeting_criteria"
ITEM_ERROR = {"code": "INVALID_PARAMETER", "message": "bad value", "parameter": "targeting_value"}


@pytest.mark.parametrize(
    "operation_errors",
    [
        [[], [], [ITEM_ERROR], [ITEM_ERROR]],  # one list per operation, in order (the reference's)
        [{**ITEM_ERROR, "index": 2}, {**ITEM_ERROR, "index": 3}],  # one flat list pointing at operations
        [{**ITEM_ERROR, "operation": "3"}, {**ITEM_ERROR, "operation_index": 2}],
    ],
    ids=["per-operation", "flat-index", "flat-pointer"],
)
def test_operation_errors_in_either_shape_land_on_the_failing_items(
    peer: ScriptedPeer, client: AdsApiClient, operation_errors: list[Any]
) -> None:
    from airflow_provider_twads.api.errors import BatchError

    peer.routes[BATCH_TC] = (400, {}, json_body({"operation_errors": operation_errors, "request": {}}))
    with pytest.raises(BatchError) as info:
        client.batch_targeting_criteria(CRITERIA)
    assert sorted(info.value.item_errors) == [2, 3]
    assert "item 2" in str(info.value) and "item 0" not in str(info.value)


@pytest.mark.parametrize("status", [200, 204])
def test_an_empty_success_body_on_delete_is_success(
    peer: ScriptedPeer, client: AdsApiClient, status: int
) -> None:
    peer.routes[("DELETE", f"{LINE_ITEMS}/li1")] = (status, {}, "")
    assert client.delete_line_item("li1") == {"id": "li1", "deleted": True}


def test_api_deprecation_headers_are_warned_once_naming_the_endpoint(
    peer: ScriptedPeer, client: AdsApiClient, caplog: pytest.LogCaptureFixture
) -> None:
    headers = {
        "x-api-warn": "line_items endpoint deprecated; sunset 2031-01-01",
        "x-current-api-version": "13",
    }
    for li in ("li1", "li2", "li3"):
        peer.routes[f"{LINE_ITEMS}/{li}"] = (200, headers, json_body({"data": {"id": li}}))
    with caplog.at_level("WARNING", logger="airflow_provider_twads.api"):
        for li in ("li1", "li2", "li3"):
            client.get_line_item(li)
    warned = [r.getMessage() for r in caplog.records if "deprecated" in r.getMessage()]
    assert warned == [
        "The X Ads API warns about GET /12/accounts/:id/line_items/:id: "
        "line_items endpoint deprecated; sunset 2031-01-01"
    ]
    versions = [r.getMessage() for r in caplog.records if "current version is 13" in r.getMessage()]
    assert len(versions) == 1 and "version 12" in versions[0]


def test_a_deterministic_400_says_what_to_change_not_to_rerun(
    peer: ScriptedPeer, client: AdsApiClient
) -> None:
    from airflow_provider_twads.api.errors import BadRequestError

    body = {
        "errors": [{"code": "INVALID_PARAMETER", "message": "bad", "parameter": "bid_amount_local_micro"}]
    }
    peer.routes[("POST", LINE_ITEMS)] = (400, {}, json_body(body))
    with pytest.raises(BadRequestError) as info:
        client.create_line_item(**LINE_ITEM_SPEC)
    assert "bid_amount_local_micro" in (info.value.hint or "")
    assert "re-run the task" not in str(info.value).lower() and len(peer.hits) == 1
