"""The emulator's fast OAuth verifier decides exactly as oauthlib's own ``SignatureOnlyEndpoint`` does.

Each case is a request as the server sees it (method, scheme, Host, raw path, raw query, form body,
Authorization header); both verifiers see the same sequence, so that nonce replays count the same.
"""

from __future__ import annotations

import time
from typing import Any
from urllib.parse import urlsplit

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from oauthlib.oauth1 import SIGNATURE_PLAINTEXT, SIGNATURE_TYPE_BODY, SIGNATURE_TYPE_QUERY
from oauthlib.oauth1.rfc5849 import signature, utils

from twads_emulator import OTHER_CREDENTIALS
from twads_emulator.oauth import (
    EndpointVerifier,
    OAuthVerifier,
    SignedRequest,
    escape,
    normalize_parameters,
    parse_authorization,
    signature_base_string,
)
from twads_emulator.seed import CONSUMERS, TOKENS

from .conftest import signer

BASE = "http://127.0.0.1:8765/12/accounts/18ce54d4x5t"
FORM = {"Content-Type": "application/x-www-form-urlencoded"}
Case = SignedRequest


def _case(method: str, uri: str, headers: dict[str, str], body: str | None = None) -> Case:
    parts = urlsplit(uri)
    return (
        method,
        parts.scheme,
        parts.netloc,
        parts.path,
        parts.query,
        body or "",
        headers.get("Authorization"),
    )


def _signed(url: str, method: str = "GET", body: str | None = None, **client_args: Any) -> Case:
    headers = FORM if body is not None else None
    uri, signed_headers, signed_body = signer(**client_args).sign(url, method, body, headers)
    return _case(method, uri, signed_headers, signed_body)


def _cases() -> list[tuple[str, tuple[str, ...] | Case]]:
    now = str(int(time.time()))
    ok = _signed(f"{BASE}/line_items?line_item_ids=8v7jo&count=5")
    method, scheme, host, path, query, body, auth = ok
    assert auth is not None
    form = "line_item_id=8v7jo&targeting_type=BROAD_KEYWORD&targeting_value=caf%C3%A9+%26+cats"
    in_query = _signed(f"{BASE}/line_items/8v7jo", signature_type=SIGNATURE_TYPE_QUERY)
    criteria = f"{BASE}/targeting_criteria"
    v2 = auth.replace('oauth_version="1.0"', 'oauth_version="2.0"')
    fresh = _signed(f"{BASE}/line_items")
    tampered = _signed(criteria, "POST", form)
    spaced = "oauth   " + str(fresh[6])[6:].replace(", ", " ,\t")
    return [
        ("header", ok),
        ("replayed nonce", ok),
        ("query signature", in_query),
        ("form signature", _signed(criteria, "POST", form, signature_type=SIGNATURE_TYPE_BODY)),
        ("form in header signature", _signed(criteria, "POST", form)),
        ("tampered form", (*tampered[:5], tampered[5].replace("cats", "dogs"), tampered[6])),
        ("realm", _signed(f"{BASE}/campaigns", realm="Twitter API")),
        ("unicode and reserved characters", _signed(f"{BASE}/line_items?q=%C3%A9t%C3%A9+%2F%26%3D&x=")),
        ("other user", _signed(f"{BASE}/line_items", credentials=OTHER_CREDENTIALS)),
        ("wrong consumer secret", _signed(f"{BASE}/line_items", client_secret="wrong")),
        ("wrong token secret", _signed(f"{BASE}/line_items", resource_owner_secret="wrong")),
        ("unknown consumer", _signed(f"{BASE}/line_items", client_key="unknown-consumer")),
        ("unknown token", _signed(f"{BASE}/line_items", resource_owner_key="unknown-token")),
        ("no token", _signed(f"{BASE}/line_items", resource_owner_key=None, resource_owner_secret=None)),
        ("stale", _signed(f"{BASE}/line_items", timestamp=str(int(now) - 3600))),
        ("future", _signed(f"{BASE}/line_items", timestamp=str(int(now) + 3600))),
        ("short timestamp", _signed(f"{BASE}/line_items", timestamp="12345")),
        ("short nonce", _signed(f"{BASE}/line_items", nonce="abc")),
        ("plaintext", _signed(f"{BASE}/line_items", signature_method=SIGNATURE_PLAINTEXT)),
        ("version 2.0", (method, scheme, host, path, query, body, v2)),
        ("other URL", (method, scheme, host, path, "line_item_ids=8v7jo&count=6", body, auth)),
        ("other host", (method, scheme, "localhost:8765", path, query, body, auth)),
        ("other method", ("DELETE", scheme, host, path, query, body, auth)),
        ("no header", (method, scheme, host, path, query, body, None)),
        ("bearer", (method, scheme, host, path, query, body, "Bearer abc")),
        ("garbage header", (method, scheme, host, path, query, body, "OAuth ,,,=")),
        ("header and query", ("GET", in_query[1], in_query[2], in_query[3], in_query[4], "", auth)),
        ("duplicate in query", ("GET", *in_query[1:4], in_query[4] + "&oauth_nonce=12345678901", "", None)),
        ("unencoded query", (method, scheme, host, path, 'q="x y"', body, auth)),
        ("bad port", (method, scheme, "127.0.0.1:99999", path, query, body, auth)),
        ("spacing", (*fresh[:6], spaced)),
    ]  # fmt: skip


def test_fast_verifier_agrees_with_oauthlibs_endpoint() -> None:
    fast, reference = OAuthVerifier(CONSUMERS, TOKENS), EndpointVerifier(CONSUMERS, TOKENS)
    outcomes = {}
    for name, case in _cases():
        mine, theirs = fast.verify(SignedRequest(*case)), reference.verify(SignedRequest(*case))
        assert mine[0] == theirs[0], (name, mine, theirs)
        outcomes[name] = mine[0]
    accepted = {name for name, token in outcomes.items() if token}
    assert accepted == {
        "header", "query signature", "form signature", "form in header signature", "realm",
        "unicode and reserved characters", "other user", "spacing",
    }  # fmt: skip
    assert outcomes["other user"] == OTHER_CREDENTIALS["access_token"]


def test_reset_forgets_nonces() -> None:
    fast = OAuthVerifier(CONSUMERS, TOKENS)
    case = _signed(f"{BASE}/line_items")
    assert fast.verify(case)[0] and not fast.verify(case)[0]
    fast.reset()
    assert fast.verify(case)[0]


@pytest.mark.parametrize(
    "header",
    [
        'OAuth oauth_nonce="1", oauth_token="a%2Bb"',
        'oauth realm="x",oauth_nonce="1"',
        'OAuth oauth_nonce=1, oauth_token="a"',
        'OAuth oauth_nonce="a,b", oauth_token="c"',
        'OAuth oauth_nonce="1", oauth_nonce="2"',
        'OAuth  oauth_nonce="1" ,  oauth_token="2"  ',
        'OAuth oauth_nonce=""',
    ],
)
def test_header_parsing_matches_oauthlib(header: str) -> None:
    assert parse_authorization(header) == utils.parse_authorization_header(header)


_TOKEN = st.text(st.characters(codec="ascii", exclude_characters='"\\'), min_size=1, max_size=12)


@settings(max_examples=200, deadline=None)
@given(
    st.lists(st.tuples(_TOKEN, st.text(st.characters(codec="ascii"), max_size=12)), min_size=1, max_size=5)
)
def test_header_parsing_matches_oauthlib_on_any_header(pairs: list[tuple[str, str]]) -> None:
    header = "OAuth " + ", ".join(f'{k}="{v}"' for k, v in pairs)
    try:
        expected: Any = utils.parse_authorization_header(header)
    except ValueError:
        expected = ValueError
    try:
        got: Any = parse_authorization(header)
    except ValueError:
        got = ValueError
    assert got == expected


_ANY_TEXT = st.text(max_size=20)  # any Unicode, reserved characters and "%" included


@settings(max_examples=300, deadline=None)
@given(st.lists(st.tuples(_ANY_TEXT, _ANY_TEXT), max_size=6), st.sampled_from(["GET", "post", "Delete"]))
def test_escape_normalize_and_base_string_match_oauthlib(params: list[tuple[str, str]], method: str) -> None:
    for name, value in params:
        assert escape(name) == utils.escape(name) and escape(value) == utils.escape(value)
    normalized = normalize_parameters(params)
    assert normalized == signature.normalize_parameters(params)
    base_uri = signature.base_string_uri("http://127.0.0.1:8765/12/accounts/x y/line_items")
    assert signature_base_string(method, escape(base_uri), normalized) == signature.signature_base_string(
        method, base_uri, normalized
    )
