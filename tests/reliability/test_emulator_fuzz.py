"""The emulator under fuzzing: random malformed requests never get a 500 (no fault is injected here) and
never change or corrupt its state when they are refused.

Requests are signed with the emulator's credentials (OAuth 1.0a, as the provider signs them) so that they
get past authentication and reach routing and parameter validation; some are deliberately unsigned or
signed with a wrong secret.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any
from urllib.parse import urlencode

import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from twads_emulator import DEFAULT_CREDENTIALS, SEED

ACCOUNT = SEED["account_id"]
RESOURCES = [
    "campaigns",
    "line_items",
    "targeting_criteria",
    "promoted_tweets",
    "funding_instruments",
    "features",
]
FUZZ = settings(
    max_examples=100,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
    derandomize=True,
)

TEXT = st.text(max_size=30)
WEIRD = st.one_of(
    TEXT,
    st.sampled_from(
        ["", " ", "\x00", "%00", "..", "a/b", "9" * 400, "-1", "1e309", "NaN", "null", "true", "[]"]
    ),
    st.integers(min_value=-(2**70), max_value=2**70).map(str),
)
JSON_VALUE = st.recursive(
    st.one_of(st.none(), st.booleans(), st.integers(min_value=-(2**70), max_value=2**70), st.floats(), TEXT),
    lambda children: st.one_of(st.lists(children, max_size=4), st.dictionaries(TEXT, children, max_size=4)),
    max_leaves=12,
)
PARAM_NAMES = st.one_of(
    st.sampled_from(
        [
            "name",
            "objective",
            "campaign_id",
            "line_item_id",
            "line_item_ids",
            "tweet_ids",
            "count",
            "cursor",
            "with_deleted",
            "with_total_count",
            "targeting_type",
            "targeting_value",
            "operator_type",
            "placements",
            "bid_amount_local_micro",
            "start_time",
            "entity_status",
            "product_type",
            "sort_by",
            "draft_only",
        ]
    ),
    st.text(alphabet="abcdefghijklmnopqrstuvwxyz_", min_size=1, max_size=12),
)
BATCH_OP = st.one_of(
    st.fixed_dictionaries(
        {
            "operation_type": st.one_of(
                st.sampled_from(["Create", "Update", "Delete", "create", ""]), JSON_VALUE
            ),
            "params": st.one_of(st.dictionaries(PARAM_NAMES, JSON_VALUE, max_size=5), JSON_VALUE),
        }
    ),
    JSON_VALUE,
)


A = f"/12/accounts/{ACCOUNT}"
#: Routed endpoints with real IDs: most fuzzed requests get past routing to parameter validation.
ROUTED = [
    ("GET", A),
    ("GET", f"{A}/features"),
    ("GET", f"{A}/campaigns"),
    ("POST", f"{A}/campaigns"),
    ("PUT", f"{A}/campaigns/{SEED['campaign_id']}"),
    ("GET", f"{A}/line_items"),
    ("POST", f"{A}/line_items"),
    ("PUT", f"{A}/line_items/{SEED['line_item_id']}"),
    ("DELETE", f"{A}/line_items/{{id}}"),
    ("GET", f"{A}/targeting_criteria"),
    ("POST", f"{A}/targeting_criteria"),
    ("DELETE", f"{A}/targeting_criteria/{{id}}"),
    ("GET", f"{A}/promoted_tweets"),
    ("POST", f"{A}/promoted_tweets"),
    ("POST", f"/12/batch/accounts/{ACCOUNT}/line_items"),
    ("POST", f"/12/batch/accounts/{ACCOUNT}/targeting_criteria"),
    ("POST", f"/12/batch/accounts/{ACCOUNT}/campaigns"),
]


@st.composite
def requests_(draw: Any) -> dict[str, Any]:
    """A random request: method, path, query, body, content type and how it is authenticated."""
    if draw(st.integers(0, 9)) < 7:
        method, path = draw(st.sampled_from(ROUTED))
        path = path.replace("{id}", draw(st.one_of(st.just(SEED["line_item_id"]), WEIRD)) or "x")
    else:
        method = draw(st.sampled_from(["GET", "POST", "PUT", "DELETE", "PATCH", "HEAD", "OPTIONS"]))
        version = draw(st.sampled_from(["12", "11", "13", "0", ""]))
        account = draw(st.one_of(st.just(ACCOUNT), WEIRD))
        resource = draw(st.one_of(st.sampled_from(RESOURCES), WEIRD))
        path = draw(
            st.sampled_from(
                [
                    f"/{version}/accounts/{account}/{resource}",
                    f"/{version}/accounts/{account}/{resource}/{draw(WEIRD)}",
                    f"/{version}/batch/accounts/{account}/{resource}",
                    f"/{version}/accounts",
                    "/" + "/".join(draw(st.lists(WEIRD, max_size=5))),
                ]
            )
        )
    body_kind = draw(st.sampled_from(["none", "json", "json_ops", "bytes", "form", "broken_json"]))
    body: bytes | None = None
    content_type = None
    if body_kind == "json":
        body, content_type = json.dumps(draw(JSON_VALUE)).encode(), "application/json"
    elif body_kind == "json_ops":
        body, content_type = json.dumps(draw(st.lists(BATCH_OP, max_size=4))).encode(), "application/json"
    elif body_kind == "bytes":
        body, content_type = (
            draw(st.binary(max_size=64)),
            draw(st.sampled_from(["application/json", "text/plain"])),
        )
    elif body_kind == "form":
        form = draw(st.dictionaries(PARAM_NAMES, WEIRD, max_size=4))
        body, content_type = (
            urlencode(form).encode(),
            "application/x-www-form-urlencoded",
        )
    elif body_kind == "broken_json":
        body, content_type = b'[{"operation_type": "Create", "params": {', "application/json"
    return {
        "method": method,
        "path": path,
        "query": draw(st.lists(st.tuples(PARAM_NAMES, WEIRD), max_size=5)),
        "body": body,
        "content_type": content_type,
        "auth": draw(st.sampled_from(["signed"] * 5 + ["none", "garbage", "wrong_secret"])),
    }


@pytest.fixture
def http() -> Iterator[Any]:
    import requests

    with requests.Session() as s:
        yield s


def send(http: Any, base_url: str, req: dict[str, Any]) -> Any:
    import requests
    from requests_oauthlib import OAuth1

    creds = DEFAULT_CREDENTIALS
    secret = "not-the-secret" if req["auth"] == "wrong_secret" else creds["access_token_secret"]
    auth = None
    if req["auth"] in ("signed", "wrong_secret"):
        auth = OAuth1(creds["consumer_key"], creds["consumer_secret"], creds["access_token"], secret)
    headers = {"Content-Type": req["content_type"]} if req["content_type"] else {}
    if req["auth"] == "garbage":
        headers["Authorization"] = 'OAuth oauth_consumer_key="x", oauth_signature="%%%", oauth_nonce'
    if req["method"] in ("GET", "HEAD"):  # oauthlib signs no body on reads
        data, headers = None, {k: v for k, v in headers.items() if k != "Content-Type"}
    else:
        data = req["body"]
    prepared = requests.Request(
        req["method"],
        base_url + req["path"],
        params=req["query"],
        data=data,
        headers=headers,
        auth=auth,
    ).prepare()
    return http.send(prepared, timeout=10, allow_redirects=False)


def _entities(state: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in state.items() if k not in ("faults", "rate_limits")}


@FUZZ
@given(req=requests_())
def test_malformed_requests_never_get_a_500_nor_change_state_when_refused(
    emu: Any, http: Any, req: dict[str, Any]
) -> None:
    before = _entities(emu.admin.state())
    resp = send(http, emu.base_url, req)
    event(f"HTTP {resp.status_code}")  # --hypothesis-show-statistics: how far requests got
    assert resp.status_code < 500, (resp.status_code, resp.text[:300], req)
    if resp.status_code >= 400:
        assert _entities(emu.admin.state()) == before, req
        if req["method"] != "HEAD" and resp.headers.get("content-type", "").startswith("application/json"):
            doc = resp.json()
            assert isinstance(doc, dict) and (doc.get("errors") or doc.get("detail")), resp.text[:300]
    # Whatever happened, the emulator still answers a normal signed read.
    ok = send(
        http,
        emu.base_url,
        {
            **req,
            "method": "GET",
            "path": f"/12/accounts/{ACCOUNT}",
            "query": [],
            "body": None,
            "content_type": None,
            "auth": "signed",
        },
    )
    assert ok.status_code in (200, 429), ok.text[:300]


def test_a_huge_batch_and_huge_values_are_refused_cleanly(emu: Any, http: Any) -> None:
    before = _entities(emu.admin.state())
    ops = [
        {
            "operation_type": "Create",
            "params": {
                "line_item_id": SEED["line_item_id"],
                "targeting_type": "LANGUAGE",
                "targeting_value": f"l{i}",
            },
        }
        for i in range(5000)
    ]
    huge_name = "x" * 100_000
    cases = [
        {
            "method": "POST",
            "path": f"/12/batch/accounts/{ACCOUNT}/targeting_criteria",
            "query": [],
            "body": json.dumps(ops).encode(),
            "content_type": "application/json",
            "auth": "signed",
        },
        {
            "method": "PUT",
            "path": f"/12/accounts/{ACCOUNT}/line_items/{SEED['line_item_id']}",
            "query": [("name", huge_name)],
            "body": None,
            "content_type": None,
            "auth": "signed",
        },
        {
            "method": "PUT",
            "path": f"/12/accounts/{ACCOUNT}/line_items/{SEED['line_item_id']}",
            "query": [("bid_amount_local_micro", "9" * 400)],
            "body": None,
            "content_type": None,
            "auth": "signed",
        },
        {
            "method": "GET",
            "path": f"/12/accounts/{ACCOUNT}/line_items",
            "query": [("line_item_ids", ",".join(str(i) for i in range(5000)))],
            "body": None,
            "content_type": None,
            "auth": "signed",
        },
    ]
    for req in cases:
        resp = send(http, emu.base_url, req)
        assert 400 <= resp.status_code < 500, (req["path"], resp.status_code, resp.text[:300])
    assert _entities(emu.admin.state()) == before
