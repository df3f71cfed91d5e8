"""Responses whose shape the emulator never produces: a typed error, never the wrong type handed on.

The emulator always answers well-formed entities, so the envelope a transport returns is substituted here
(``send`` is the one seam); everything before it (validation, request building) is the real client.
"""

from __future__ import annotations

from typing import Any

import pytest

from airflow_provider_twads.api.client import AdsApiClient, Credentials
from airflow_provider_twads.api.errors import MalformedResponseError

CREDS = Credentials("key", "consumer-secret", "token", "token-secret")


def _client_answering(envelope: dict[str, Any]) -> AdsApiClient:
    client = AdsApiClient(CREDS, host="http://127.0.0.1:9", account_id="acc1")
    client.send = lambda req: envelope  # type: ignore[method-assign]
    return client


@pytest.mark.parametrize("data", [None, [], [{"id": "li1"}], "x", 7])
@pytest.mark.parametrize(
    ("method", "kwargs"),
    [
        ("get_line_item", {"line_item_id": "li1"}),
        ("update_line_item", {"line_item_id": "li1", "entity_status": "ACTIVE"}),
        ("delete_line_item", {"line_item_id": "li1"}),
        ("get_campaign", {"campaign_id": "c1"}),
        ("get_account", {}),
        ("get_promoted_tweet", {"promoted_tweet_id": "p1"}),
        ("get_targeting_criterion", {"targeting_criterion_id": "t1"}),
    ],
)
def test_single_entity_data_that_is_not_an_object_is_malformed(
    data: Any, method: str, kwargs: dict[str, Any]
) -> None:
    client = _client_answering({"data": data})
    with pytest.raises(MalformedResponseError) as info:
        getattr(client, method)(**kwargs)
    assert "object" in str(info.value) and info.value.method in ("GET", "PUT", "DELETE")
    assert str(info.value.path).startswith("/12/accounts/acc1")


def test_single_entity_object_is_returned() -> None:
    client = _client_answering({"data": {"id": "li1", "name": "n"}})
    assert client.get_line_item("li1") == {"id": "li1", "name": "n"}


def test_absurdly_nested_json_is_malformed_not_a_recursion_error() -> None:
    from airflow_provider_twads.api.core import ClientCore

    core = ClientCore(CREDS, host="http://127.0.0.1:9", account_id="acc1")
    req = core.build("GET", "accounts/acc1/line_items")
    body = b'{"data":' + b"[" * 100_000 + b"]" * 100_000 + b"}"
    with pytest.raises(MalformedResponseError):
        core.handle_response(req, 200, {}, body)


@pytest.mark.parametrize("timeout", [float("inf"), float("nan"), "inf", 0, -1, "soon"])
def test_a_timeout_no_socket_accepts_is_refused(timeout: Any) -> None:
    from airflow_provider_twads.api.errors import AdsApiValidationError

    with pytest.raises(AdsApiValidationError) as info:
        AdsApiClient(CREDS, host="http://127.0.0.1:9", account_id="acc1", timeout=timeout)
    assert info.value.parameter == "timeout"
