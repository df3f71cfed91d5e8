"""The typed exception for an error response: status, envelope and known markers to an :class:`AdsApiError`
class (sans I/O)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from airflow_provider_twads.api import vocabulary as vocab
from airflow_provider_twads.api.envelope import (
    REASON_PHRASES,
    describe_item_error,
    group_operation_errors,
    parse_error_body,
)
from airflow_provider_twads.api.errors import (
    AccountFeatureError,
    AdsApiError,
    BadRequestError,
    DraftEntityError,
    ForbiddenError,
    NotFoundError,
    RateLimitError,
    ServerError,
    TransientError,
    UnauthorizedError,
)

__all__ = ["error_from_response"]

_STATUS_CLASSES: dict[int, type[AdsApiError]] = {
    400: BadRequestError,
    401: UnauthorizedError,
    403: ForbiddenError,
    404: NotFoundError,
    429: RateLimitError,
}


def error_from_response(
    status: int,
    body: bytes | str | None,
    *,
    method: str,
    path: str,
    params: Mapping[str, Any] | None = None,
    reset_at: float | None = None,
    reset_in: float | None = None,
    retry_after: float | None = None,
    category: str | None = None,
) -> AdsApiError:
    """Build the typed exception for an error response.

    :param status: the HTTP status (>= 400).
    :param body: the raw body (JSON envelope, HTML, text or empty).
    :param method: the request method.
    :param path: the request path (no host, no query).
    :param params: the parameters as sent, used when the body does not echo them.
    :param reset_at: the rate-limit reset (epoch seconds), for 429s.
    :param reset_in: seconds until that reset, for 429s.
    :param retry_after: seconds from ``retry-after``, for 429 and 5xx.
    :param category: the request's rate-limit category.
    :return: the exception to raise.
    """
    parsed = parse_error_body(body)
    errors, echoed, text = parsed.errors, parsed.request_params, parsed.text
    codes = [str(e["code"]) for e in errors if e.get("code")]
    messages = [str(e.get("message") or e.get("details") or "") for e in errors]
    messages = [m for m in messages if m]
    parameter = next(
        (
            str(e.get("parameter") or e.get("attribute"))
            for e in errors
            if e.get("parameter") or e.get("attribute")
        ),
        None,
    )
    by_op, loose = group_operation_errors(parsed.operation_errors)
    if not messages and (by_op or loose):
        first = next(iter(by_op.values()))[0] if by_op else loose[0]
        messages = [f"{len(by_op) or len(loose)} operation(s) rejected; first: {describe_item_error(first)}"]
    if not messages:
        reason = REASON_PHRASES.get(status, "HTTP error")
        messages = [f"{reason}{': ' + text if text else ''}"]
    common: dict[str, Any] = {
        "status": status,
        "method": method,
        "path": path,
        "codes": codes,
        "messages": messages,
        "parameter": parameter,
        "request_params": echoed or dict(params or {}),
        "errors": errors,
    }
    common["operation_errors"] = parsed.operation_errors
    joined = " ".join(messages)
    if status == 400 and (
        vocab.ACCOUNT_FEATURE_ERROR_MARKER in joined or vocab.ERROR_FEATURE_NOT_AVAILABLE in codes
    ):
        return AccountFeatureError(**common)
    if status == 400 and vocab.DRAFT_ERROR_MARKER.lower() in joined.lower():
        return DraftEntityError(**common)
    if status == 429:
        return RateLimitError(
            reset_at=reset_at, reset_in=reset_in, retry_after=retry_after, category=category, **common
        )
    if status >= 500:
        return ServerError(retry_after=retry_after, **common)
    if status in vocab.RETRYABLE_STATUSES:  # 408, 423
        return TransientError(retry_after=retry_after, **common)
    cls = _STATUS_CLASSES.get(status, AdsApiError)
    return cls(**common)
