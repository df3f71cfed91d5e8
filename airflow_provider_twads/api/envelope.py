"""Taking an error response body apart: the envelope's errors, echoed parameters, batch operation errors,
and a short text for bodies that are not an envelope (HTML error pages, plain text). No exception classes.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from airflow_provider_twads.api import vocabulary as vocab

__all__ = [
    "REASON_PHRASES",
    "ParsedErrorBody",
    "describe_item_error",
    "group_operation_errors",
    "parse_error_body",
    "required_features",
]

_MAX_MESSAGE = 300  # characters of a non-JSON body kept in an error

#: What an error without a message says, by status.
REASON_PHRASES: dict[int, str] = {
    400: "Bad Request",
    401: "Unauthorized",
    403: "Forbidden",
    404: "Not Found",
    405: "Method Not Allowed",
    408: "Request Timeout",
    423: "Locked",
    429: "Too Many Requests",
    500: "Internal Server Error",
    502: "Bad Gateway",
    503: "Service Unavailable",
    504: "Gateway Timeout",
}


def describe_item_error(err: Mapping[str, Any]) -> str:
    """One operation error as ``CODE (parameter): message``.

    :param err: the error object.
    """
    code = err.get("code") or ""
    param = err.get("parameter") or err.get("attribute")
    msg = err.get("message") or ""
    where = f" ({param})" if param else ""
    return f"{code}{where}: {msg}".strip(": ")


#: Keys by which an item of a flat ``operation_errors`` list points at its operation (0-based).
_INDEX_KEYS = ("index", "operation_index", "operation", "op_index", "position")
_DIGITS = re.compile(r"(\d+)")


def _pointer(err: Mapping[str, Any]) -> int | None:
    """The operation index an error object names (``3``, ``"3"``, ``"/operations/3"``), if any."""
    for key in _INDEX_KEYS:
        value = err.get(key)
        if isinstance(value, bool) or value is None:
            continue
        if isinstance(value, int):
            return value if value >= 0 else None
        if isinstance(value, str):
            found = _DIGITS.findall(value)
            if len(found) == 1:
                return int(found[0])
    return None


def group_operation_errors(
    raw: Any, size: int | None = None
) -> tuple[dict[int, list[dict[str, Any]]], list[dict[str, Any]]]:
    """A batch response's ``operation_errors``, by operation (0-based within the chunk).

    Two shapes are in use: one list per operation, in order (``[[], [{...}], []]``, the reference's); and
    one flat list of error objects that each name their operation (``index``/``operation``/...). A flat
    list whose items name no operation is taken as one error per operation only when it has exactly one
    item per operation; otherwise its errors cannot be pinned on items and are returned apart.

    :param raw: the ``operation_errors`` value.
    :param size: how many operations the chunk had, when known.
    :return: (index -> that operation's errors, errors that name no operation).
    """
    mapped: dict[int, list[dict[str, Any]]] = {}
    loose: list[dict[str, Any]] = []
    if not isinstance(raw, list):
        return mapped, loose

    def obj(e: Any) -> dict[str, Any]:
        return dict(e) if isinstance(e, Mapping) else {"message": str(e)}

    flat = bool(raw) and all(isinstance(e, Mapping) for e in raw)
    pointed = flat and any(_pointer(e) is not None for e in raw)
    if flat and (pointed or (size is not None and len(raw) != size)):
        for err in raw:
            index = _pointer(err)
            if index is None or (size is not None and index >= size):
                loose.append(obj(err))
            else:
                mapped.setdefault(index, []).append(obj(err))
        return mapped, loose
    for i, errs in enumerate(raw):  # one entry per operation, in order
        items = [errs] if isinstance(errs, Mapping) else errs if isinstance(errs, list) else []
        if items:
            mapped[i] = [obj(e) for e in items]
    return mapped, loose


_FEATURE_RE = re.compile(re.escape(vocab.ACCOUNT_FEATURE_ERROR_MARKER) + r"\s*:?\s*([A-Z0-9_,\s]+)")


def required_features(messages: Iterable[str]) -> list[str]:
    """The account features an error message says are required (in order, de-duplicated).

    :param messages: the error messages.
    """
    found: list[str] = []
    for message in messages:
        m = _FEATURE_RE.search(message or "")
        if m:
            found.extend(f.strip() for f in m.group(1).split(",") if f.strip())
    return list(dict.fromkeys(found))


def _strip_html(text: str) -> str:
    title = re.search(r"<title[^>]*>(.*?)</title>", text, flags=re.I | re.S)
    if title and title.group(1).strip():
        text = title.group(1)
    else:
        text = re.sub(r"<(script|style)[^>]*>.*?</\1>", " ", text, flags=re.I | re.S)
        text = re.sub(r"<[^>]+>", " ", text)
    return " ".join(text.split())


@dataclass(frozen=True)
class ParsedErrorBody:
    """An error response body, taken apart.

    :param errors: the envelope's ``errors`` list (possibly empty).
    :param request_params: the echoed ``request.params`` (possibly empty).
    :param operation_errors: a batch response's ``operation_errors`` (one list per operation), if any.
    :param text: a short text for bodies that are not an envelope (HTML, plain text).
    """

    errors: list[dict[str, Any]]
    request_params: dict[str, Any]
    operation_errors: list[Any] | None
    text: str


def parse_error_body(body: bytes | str | None) -> ParsedErrorBody:
    """Parse an error response body, JSON or not (HTML error pages happen).

    :param body: the raw body.
    """
    if body is None:
        return ParsedErrorBody([], {}, None, "")
    text = body.decode("utf-8", "replace") if isinstance(body, bytes | bytearray) else str(body)
    try:
        doc = json.loads(text) if text.strip() else None
    except ValueError:
        doc = None
    if isinstance(doc, dict):
        raw = doc.get("errors")
        errors = (
            [e if isinstance(e, dict) else {"message": str(e)} for e in raw] if isinstance(raw, list) else []
        )
        req = doc.get("request")
        params = req.get("params") if isinstance(req, dict) else None
        op_errors = doc.get("operation_errors")
        short = "" if errors or op_errors else " ".join(json.dumps(doc)[:_MAX_MESSAGE].split())
        return ParsedErrorBody(
            errors,
            params if isinstance(params, dict) else {},
            op_errors if isinstance(op_errors, list) else None,
            short,
        )
    if isinstance(doc, list):
        return ParsedErrorBody([], {}, None, " ".join(json.dumps(doc)[:_MAX_MESSAGE].split()))
    short = _strip_html(text) if "<" in text else " ".join(text.split())
    return ParsedErrorBody([], {}, None, short[:_MAX_MESSAGE])
