"""A request as the core builds it and a transport sends it, and the Ads API's parameter encoding."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

__all__ = ["PreparedRequest", "encode_json_params", "encode_params"]


@dataclass(frozen=True)
class PreparedRequest:
    """A request ready for a transport to sign and send.

    :param method: HTTP method.
    :param url: the full URL, query string included (identical for both transports, so signed alike).
    :param path: ``/<version>/<path>``, for messages.
    :param params: the query parameters as encoded (for error messages and reconciliation).
    :param body: the JSON body bytes, or ``None``.
    :param headers: extra headers (content type for JSON).
    :param bucket: the rate-limit bucket.
    :param account_id: the ad account, if the path has one.
    :param json_body: the body before encoding (for ``AmbiguousWriteError``).
    """

    method: str
    url: str
    path: str
    params: dict[str, str]
    body: bytes | None
    headers: dict[str, str]
    bucket: str
    account_id: str | None
    json_body: Any = None


def _encode_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list | tuple | set | frozenset):
        return ",".join(_encode_value(v) for v in value)
    return str(value)


def encode_params(params: Mapping[str, Any] | None) -> dict[str, str]:
    """Query-string encoding of the Ads API: lists comma-separated, booleans lower-case, ``None`` dropped.

    :param params: the parameters.
    """
    return {k: _encode_value(v) for k, v in (params or {}).items() if v is not None}


def encode_json_params(params: Mapping[str, Any]) -> dict[str, Any]:
    """Batch item params: like the query string (lists comma-separated, as the API's examples send them),
    but numbers and booleans stay JSON-typed.

    :param params: the parameters.
    """
    out: dict[str, Any] = {}
    for k, v in params.items():
        if v is None:
            continue
        out[k] = _encode_value(v) if isinstance(v, list | tuple | set | frozenset) else v
    return out
