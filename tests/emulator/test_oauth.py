"""OAuth 1.0a verification: signatures over query, form and header parameters; rejections are 401."""

from __future__ import annotations

import time
from typing import Any

import requests
from oauthlib.oauth1 import SIGNATURE_TYPE_BODY, SIGNATURE_TYPE_QUERY

from twads_emulator import DEFAULT_CREDENTIALS, OTHER_CREDENTIALS, SEED

from .conftest import Api, error_codes, signer

C = DEFAULT_CREDENTIALS


def _send(method: str, uri: str, headers: dict[str, str], body: Any = None) -> requests.Response:
    return requests.request(method, uri, headers=headers, data=body, timeout=10)


def _is_401(response: requests.Response) -> bool:
    return response.status_code == 401 and error_codes(response) == ["UNAUTHORIZED_ACCESS"]


def test_header_query_and_form_signatures_are_accepted(emu: Any) -> None:
    base = f"{emu.base_url}/12/accounts/{SEED['account_id']}"
    uri, headers, _ = signer().sign(f"{base}/line_items?line_item_ids=8v7jo")
    assert _send("GET", uri, headers).status_code == 200
    uri, headers, _ = signer(signature_type=SIGNATURE_TYPE_QUERY).sign(f"{base}/line_items/8v7jo")
    assert _send("GET", uri, headers).status_code == 200
    form = "line_item_id=8v7jo&targeting_type=BROAD_KEYWORD&targeting_value=cats"
    uri, headers, body = signer(signature_type=SIGNATURE_TYPE_BODY).sign(
        f"{base}/targeting_criteria", "POST", form, {"Content-Type": "application/x-www-form-urlencoded"}
    )
    response = _send("POST", uri, headers, body)
    assert response.status_code == 200, response.text
    assert response.json()["data"]["targeting_value"] == "cats"
    # The form parameters are covered by the signature: tampering with them is refused.
    uri, headers, body = signer().sign(
        f"{base}/targeting_criteria", "POST", form, {"Content-Type": "application/x-www-form-urlencoded"}
    )
    assert _is_401(_send("POST", uri, headers, body.replace("cats", "dogs")))


def test_missing_bad_unknown_stale_and_replayed(emu: Any) -> None:
    url = f"{emu.base_url}/12/accounts/{SEED['account_id']}/line_items"
    assert _is_401(requests.get(url, timeout=10))
    assert _is_401(_send("GET", *signer(client_secret="wrong").sign(url)[:2]))
    assert _is_401(_send("GET", *signer(resource_owner_secret="wrong").sign(url)[:2]))
    assert _is_401(_send("GET", *signer(client_key="unknown-key").sign(url)[:2]))
    assert _is_401(_send("GET", *signer(resource_owner_key="unknown-token").sign(url)[:2]))
    stale = signer(timestamp=str(int(time.time()) - 3600)).sign(url)
    assert _is_401(_send("GET", *stale[:2]))
    uri, headers, _ = signer().sign(url)
    assert _send("GET", uri, headers).status_code == 200
    assert _is_401(_send("GET", uri, headers))  # the same nonce again
    # A signature for another URL does not fit this one.
    uri, headers, _ = signer().sign(url + "?count=5")
    assert _is_401(_send("GET", url + "?count=6", headers))
    # Nothing secret reaches the request log.
    log = str(emu.admin.requests())
    for secret in (C["consumer_secret"], C["access_token_secret"], "oauth_signature"):
        assert secret not in log


def test_each_token_sees_its_own_accounts(emu: Any) -> None:
    other = Api(emu.base_url, OTHER_CREDENTIALS)
    try:
        assert other.get("line_items").status_code == 403
        response = other.request("GET", "", account=SEED["other_account_id"])
        assert response.status_code == 200 and response.json()["data"]["id"] == SEED["other_account_id"]
    finally:
        other.close()
