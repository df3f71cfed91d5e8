"""Deprecation notices the API sends in response headers, surfaced once per process as a warning.

X announces deprecations with ``x-api-warn`` (on calls to a deprecated endpoint) and
``x-current-api-version`` (on every response: the version the API considers current), per
fundamentals/versioning.mdx. Both would otherwise go unseen until the endpoint or version is switched off.
A warning names the endpoint (IDs replaced by ``:id``) and is logged once per process for each distinct
notice, so a task that pages through 10,000 entities logs it once, not 10,000 times.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Mapping
from typing import Any

__all__ = ["API_WARN_HEADER", "CURRENT_VERSION_HEADER", "endpoint_template", "surface_notices"]

API_WARN_HEADER = "x-api-warn"
CURRENT_VERSION_HEADER = "x-current-api-version"

log = logging.getLogger("airflow_provider_twads.api")

_seen: set[tuple[str, ...]] = set()
_lock = threading.Lock()


def endpoint_template(method: str, path: str) -> str:
    """``GET /12/accounts/:id/line_items/:id`` for ``GET /12/accounts/abc/line_items/xyz``.

    :param method: the HTTP method.
    :param path: ``/<version>/<path>``.
    """
    parts = [p for p in path.split("/") if p]
    if "accounts" in parts:
        start = parts.index("accounts") + 1
        for i in range(start, len(parts), 2):
            parts[i] = ":id"
    return f"{method.upper()} /{'/'.join(parts)}"


def _header(headers: Mapping[str, Any], name: str) -> str | None:
    value = headers.get(name)
    if value is None:
        value = next((v for k, v in headers.items() if str(k).lower() == name), None)
    text = " ".join(str(value).split()) if value is not None else ""
    return text or None


def _once(key: tuple[str, ...]) -> bool:
    with _lock:
        if key in _seen:
            return False
        _seen.add(key)
        return True


def surface_notices(method: str, path: str, api_version: str, headers: Mapping[str, Any]) -> list[str]:
    """Log the response's deprecation notices not logged yet in this process; return what was logged.

    :param method: the request's method.
    :param path: the request's path (``/<version>/...``).
    :param api_version: the version the client requested.
    :param headers: the response headers.
    """
    logged: list[str] = []
    endpoint = endpoint_template(method, path)
    warn = _header(headers, API_WARN_HEADER)
    if warn and _once(("warn", endpoint, warn)):
        logged.append(f"The X Ads API warns about {endpoint}: {warn[:500]}")
    current = _header(headers, CURRENT_VERSION_HEADER)
    if current and current.removesuffix(".0") != api_version and _once(("version", api_version, current)):
        logged.append(
            f"The X Ads API's current version is {current[:20]}; this connection uses version {api_version} "
            f"(first seen on {endpoint}). Plan the move: set the connection extra 'api_version' once your "
            "DAGs work with it (fundamentals/versioning: older versions are switched off after notice)."
        )
    for line in logged:
        log.warning("%s", line)
    return logged
