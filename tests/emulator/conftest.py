"""Fixtures for the emulator's own tests: a signed HTTP client (requests-oauthlib) on the session emulator."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
import requests
from requests_oauthlib import OAuth1Session

from twads_emulator import DEFAULT_CREDENTIALS, SEED


class Api:
    """Signed requests against one emulator: ``api.get("line_items", line_item_ids="8v7jo")``."""

    def __init__(self, base_url: str, credentials: dict[str, str] = DEFAULT_CREDENTIALS) -> None:
        self.base_url = base_url
        self.session = OAuth1Session(
            credentials["consumer_key"],
            client_secret=credentials["consumer_secret"],
            resource_owner_key=credentials["access_token"],
            resource_owner_secret=credentials["access_token_secret"],
        )

    def url(self, path: str, version: str = "12", account: str | None = SEED["account_id"]) -> str:
        if path.startswith("/"):
            return f"{self.base_url}{path}"
        prefix = f"/{version}/accounts/{account}" if account else f"/{version}"
        return f"{self.base_url}{prefix}/{path}" if path else f"{self.base_url}{prefix}"

    def request(self, method: str, path: str, *, json: Any = None, version: str = "12",
                account: str | None = SEED["account_id"], **params: Any) -> requests.Response:  # fmt: skip
        return self.session.request(
            method, self.url(path, version, account), params=params or None, json=json, timeout=10
        )

    def get(self, path: str, **params: Any) -> requests.Response:
        return self.request("GET", path, **params)

    def post(self, path: str, **params: Any) -> requests.Response:
        return self.request("POST", path, **params)

    def put(self, path: str, **params: Any) -> requests.Response:
        return self.request("PUT", path, **params)

    def delete(self, path: str, **params: Any) -> requests.Response:
        return self.request("DELETE", path, **params)

    def batch(self, resource: str, operations: list[dict[str, Any]]) -> requests.Response:
        url = f"{self.base_url}/12/batch/accounts/{SEED['account_id']}/{resource}"
        return self.session.post(url, json=operations, timeout=10)

    def close(self) -> None:
        self.session.close()


@pytest.fixture
def api(emu: Any) -> Iterator[Api]:
    """A signed client on the freshly reset session emulator."""
    client = Api(emu.base_url)
    yield client
    client.close()


def signer(credentials: dict[str, str] = DEFAULT_CREDENTIALS, **overrides: Any) -> Any:
    """An oauthlib ``Client`` that signs as ``credentials``, with ``Client`` arguments overridden."""
    from oauthlib.oauth1 import Client

    args = {
        "client_key": credentials["consumer_key"],
        "client_secret": credentials["consumer_secret"],
        "resource_owner_key": credentials["access_token"],
        "resource_owner_secret": credentials["access_token_secret"],
        **overrides,
    }
    return Client(**args)


def error_codes(response: requests.Response) -> list[str]:
    return [e["code"] for e in response.json()["errors"]]


LINE_ITEM = {
    "campaign_id": "8slvg",
    "objective": "ENGAGEMENTS",
    "product_type": "PROMOTED_TWEETS",
    "placements": "ALL_ON_TWITTER",
    "bid_amount_local_micro": "3210000",
    "entity_status": "PAUSED",
}
