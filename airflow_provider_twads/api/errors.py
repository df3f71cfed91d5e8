"""The Ads API client's exceptions and hints for the known traps (the typed error for an error response is
built by :func:`~airflow_provider_twads.api.error_mapping.error_from_response`).

Every exception renders as one readable line naming the method, path, status, error code, parameter and
message, followed by a hint when one is known. No exception ever carries credentials: they hold only the
request's method, path, echoed parameters and the response's error envelope. OAuth parameters echoed by a
server are dropped.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from airflow_provider_twads.api import vocabulary as vocab
from airflow_provider_twads.api.envelope import (
    ParsedErrorBody,
    describe_item_error,
    parse_error_body,
    required_features,
)

__all__ = [
    "AccountFeatureError",
    "AdsApiConnectionError",
    "AdsApiError",
    "AdsApiValidationError",
    "AmbiguousBatchError",
    "AmbiguousWriteError",
    "BadRequestError",
    "BatchError",
    "DraftEntityError",
    "EndlessCursorError",
    "ForbiddenError",
    "MalformedResponseError",
    "NotFoundError",
    "ParsedErrorBody",
    "RateLimitError",
    "ServerError",
    "TransientError",
    "UnauthorizedError",
    "is_deterministic",
    "parse_error_body",
]


# 4xx statuses that say "not now" rather than "not this request" (fundamentals/error-codes-and-responses).
TRANSIENT_CLIENT_STATUSES: tuple[int, ...] = (408, 423, 429)


def _scrub_params(params: Mapping[str, Any] | None) -> dict[str, Any]:
    """Echoed request params without anything OAuth-related (servers sometimes echo them)."""
    if not params:
        return {}
    return {k: v for k, v in params.items() if not str(k).lower().startswith(("oauth", "authorization"))}


class AdsApiError(Exception):
    """Base class of every error the Ads API client raises.

    :param message: the main human-readable message (the first error message of the envelope).
    :param status: the HTTP status, ``None`` when no response was received.
    :param method: the HTTP method of the request.
    :param path: the API path of the request, e.g. ``12/accounts/18ce54d4x5t/line_items``.
    :param codes: the error codes of the envelope, e.g. ``["INVALID_PARAMETER"]``.
    :param messages: all error messages of the envelope.
    :param parameter: the parameter the error is about, when the server or the validator named one.
    :param request_params: the request parameters as echoed by the server (or as sent).
    :param hint: what to do about it, when known.
    :param errors: the raw ``errors`` list of the envelope.
    :param operation_errors: a batch response's per-operation errors, when it has them.
    """

    def __init__(
        self,
        message: str = "",
        *,
        status: int | None = None,
        method: str | None = None,
        path: str | None = None,
        codes: Sequence[str] = (),
        messages: Sequence[str] = (),
        parameter: str | None = None,
        request_params: Mapping[str, Any] | None = None,
        hint: str | None = None,
        errors: Sequence[Mapping[str, Any]] = (),
        operation_errors: Sequence[Any] | None = None,
    ) -> None:
        self.message = message or (messages[0] if messages else "")
        self.status = status
        self.method = method
        self.path = path
        self.codes = list(codes)
        self.messages = list(messages) or ([self.message] if self.message else [])
        self.parameter = parameter
        self.request_params = _scrub_params(request_params)
        self.hint = hint
        self.errors = [dict(e) for e in errors]
        # A batch response's per-operation errors (mapped to input indices by api.batch).
        self.operation_errors = list(operation_errors) if operation_errors is not None else None
        super().__init__(self.message)

    @property
    def code(self) -> str | None:
        """The first error code, if any."""
        return self.codes[0] if self.codes else None

    @property
    def deterministic(self) -> bool:
        """Whether a retry of the task cannot succeed, so that it should fail at once.

        ``False`` here: a 400 or a 404 can be another writer's doing (a criterion it added meanwhile, an
        entity its rollback deleted), which a retry reconciles. The subclasses that no other writer can
        cause (bad input, credentials, a missing account feature, a draft) say ``True``.
        """
        return False

    def _headline(self) -> str:
        parts: list[str] = []
        if self.method or self.path:
            parts.append(f"{self.method or '?'} {self.path or '?'}")
        status = f"HTTP {self.status}" if self.status is not None else ""
        codes = ",".join(self.codes)
        head = " ".join(p for p in (status, codes) if p)
        if head:
            parts.append(head)
        if self.parameter:
            parts.append(f"parameter {self.parameter!r}")
        return ": ".join(parts) if parts else type(self).__name__

    def __str__(self) -> str:
        line = self._headline()
        msg = "; ".join(m for m in self.messages if m) or self.message
        if msg:
            line = f"{line}: {msg}" if line else msg
        if self.hint:
            line = f"{line} | Hint: {self.hint}"
        return " ".join(line.split())  # one line, whatever the server sent

    def __repr__(self) -> str:
        return (
            f"{type(self).__name__}(status={self.status!r}, method={self.method!r}, path={self.path!r}, "
            f"codes={self.codes!r}, parameter={self.parameter!r}, message={self.message!r})"
        )

    def __reduce__(self) -> tuple[Any, ...]:
        # Keyword-only constructor: make the exception picklable (Airflow ships exceptions between processes).
        return (_rebuild, (type(self), self.__dict__.copy()))


def is_deterministic(err: BaseException) -> bool:
    """Whether ``err`` is an Ads API error that no retry of the task can fix (see ``deterministic``).

    :param err: any exception.
    """
    return isinstance(err, AdsApiError) and err.deterministic


def _rebuild(cls: type[AdsApiError], state: dict[str, Any]) -> AdsApiError:
    obj = cls.__new__(cls)
    Exception.__init__(obj, state.get("message", ""))
    obj.__dict__.update(state)
    return obj


class AdsApiValidationError(AdsApiError, ValueError):
    """Bad input, detected before any HTTP call.

    :param parameter: the offending parameter.
    :param message: what is wrong with it.
    :param allowed: the allowed values (or parameter names), when the set is finite.
    :param operation: the operation being validated, e.g. ``line_items.create``.
    :param hint: what to do about it, when known.
    """

    def __init__(
        self,
        parameter: str,
        message: str,
        *,
        allowed: Iterable[Any] | None = None,
        operation: str | None = None,
        hint: str | None = None,
    ) -> None:
        self.allowed = list(allowed) if allowed is not None else None
        self.operation = operation
        text = message
        if self.allowed is not None:
            shown = ", ".join(str(a) for a in self.allowed)
            text = f"{message} (allowed: {shown})"
        super().__init__(text, parameter=parameter, hint=hint)

    @property
    def deterministic(self) -> bool:
        """Bad input stays bad on every try."""
        return True

    def _headline(self) -> str:
        where = f"{self.operation}: " if self.operation else ""
        return f"Invalid input: {where}parameter {self.parameter!r}"


class BadRequestError(AdsApiError):
    """HTTP 400: the API rejected the request's parameters. Deterministic: the same request fails the same
    way, so the hint says what to change, never to re-run."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if not self.hint and type(self) is BadRequestError:
            what = f"parameter {self.parameter!r}" if self.parameter else "the request's parameters"
            self.hint = (
                f"The API refused {what}: change the value the error names (a retry or re-run sends the "
                "same request and fails the same way)."
            )


class AccountFeatureError(BadRequestError):
    """HTTP 400 "requires one of these account features": the account lacks a (beta) feature.

    :ivar required_features: the features named by the error, one of which the account needs.
    :ivar account_features: what the account has (``GET accounts/:id/features``), once looked up.
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.required_features: list[str] = required_features(self.messages)
        self.account_features: list[str] | None = None
        self.account_id: str | None = None
        self.hint = self.hint or self._compose_hint()

    def with_account_features(self, account_id: str, features: Sequence[str] | None) -> AccountFeatureError:
        """Record the account's actual features and rewrite the hint with them.

        :param account_id: the ad account the request was for.
        :param features: the account's features, ``None`` when they could not be fetched.
        :return: this error, for chaining.
        """
        self.account_id = account_id
        self.account_features = list(features) if features is not None else None
        self.hint = self._compose_hint()
        return self

    def _compose_hint(self) -> str:
        missing = self.required_features or ["(not named by the API)"]
        aliases = [
            group for group in vocab.SAME_PRODUCT_NAMES if set(group) & (set(missing) | self._values_sent())
        ]
        account = f"Account {self.account_id}" if self.account_id else "The account"
        parts = [f"{account} lacks the account feature {' or '.join(missing)}."]
        if self.account_features is not None:
            has = ", ".join(sorted(self.account_features)) or "no listed features"
            parts.append(f"It has: {has} (GET accounts/{self.account_id or ':account_id'}/features).")
        else:
            parts.append("List what it has with GET accounts/:account_id/features.")
        for group in aliases:
            parts.append(f"{' and '.join(group)} are one product (the API uses both names).")
        parts.append(
            "Features in beta or limited release are enabled per account by your X account manager; "
            "the API cannot request them."
        )
        return " ".join(parts)

    def _values_sent(self) -> set[str]:
        return {str(v) for v in self.request_params.values() if isinstance(v, str)}

    @property
    def deterministic(self) -> bool:
        """No other writer causes it: a retry meets it again."""
        return True


class DraftEntityError(BadRequestError):
    """HTTP 400: a draft campaign or line item cannot be activated or paused through the API."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.hint = self.hint or (
            f"Draft campaigns and line items are activated or paused only in the Ads UI "
            f"({vocab.ADS_UI_URL}). "
            "Activate the draft there; a sensor can wait for entity_status to change."
        )

    @property
    def deterministic(self) -> bool:
        """No other writer causes it: a retry meets it again."""
        return True


class UnauthorizedError(AdsApiError):
    """HTTP 401: the OAuth signature or tokens were rejected."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.hint = self.hint or (
            "Check the connection's consumer key/secret (login/password) and the extras access_token and "
            "access_token_secret; the token must belong to a user with access to the ad account."
        )

    @property
    def deterministic(self) -> bool:
        """No other writer causes it: a retry meets it again."""
        return True


class ForbiddenError(AdsApiError):
    """HTTP 403: the app or user may not access this account or resource."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if not self.hint and vocab.ERROR_ACCOUNT_NOT_FOUND in self.codes:
            self.hint = "The account ID is wrong or the authenticated user has no access to it."
        elif not self.hint and vocab.ERROR_UNAUTHORIZED_CLIENT_APPLICATION in self.codes:
            self.hint = "The app is not approved for the Ads API (or for this account)."

    @property
    def deterministic(self) -> bool:
        """No other writer causes it: a retry meets it again."""
        return True


class NotFoundError(AdsApiError):
    """HTTP 404: the entity does not exist (or was deleted; a second DELETE is a 404)."""


class RateLimitError(AdsApiError):
    """HTTP 429: the rate limit of this endpoint or category is spent.

    :param reset_at: when the window resets (epoch seconds, server clock), ``None`` if not announced.
    :param reset_in: seconds from the response to the reset, measured on the server's clock if ours is skewed.
    :param retry_after: seconds from a ``retry-after`` header, if any.
    :param category: the client's rate-limit bucket of the request.

    Other arguments are those of :class:`AdsApiError`.
    """

    def __init__(
        self,
        *args: Any,
        reset_at: float | None = None,
        reset_in: float | None = None,
        retry_after: float | None = None,
        category: str | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        self.reset_at = reset_at
        self.reset_in = reset_in
        self.retry_after = retry_after
        self.category = category


class TransientError(AdsApiError):
    """A transient failure the API documents (408 CANCELLED_REQUEST, 423 LOCK_ACQUISITION_TIMEOUT, and
    5xx below): retried with backoff for reads and updates, and for a POST the API did not apply (a POST
    answered 408, 500, 502 or 504 may have been applied and raises :class:`AmbiguousWriteError` instead).

    :param retry_after: seconds the server asked us to wait (``retry-after``), if any.

    Other arguments are those of :class:`AdsApiError`.
    """

    def __init__(self, *args: Any, retry_after: float | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.retry_after = retry_after


class ServerError(TransientError):
    """HTTP 5xx: the API failed; retried with backoff for reads (and for writes the API did not apply)."""


class AdsApiConnectionError(AdsApiError):
    """No (complete) response: connection refused or dropped, DNS failure, timeout.

    :param maybe_sent: ``True`` when the request may have reached the server (read timeout, connection
        dropped while waiting for the response); ``False`` when it certainly did not (connect failure).

    Other arguments are those of :class:`AdsApiError`.
    """

    def __init__(self, *args: Any, maybe_sent: bool = True, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.maybe_sent = maybe_sent


class AmbiguousWriteError(AdsApiError):
    """A write (POST) may or may not have been applied: the client did not re-send it.

    Raised when a POST timed out or lost its connection after it was sent, or got a 500/502/504. Look up
    what exists (by natural key) before writing again.

    :param json_body: the JSON body that was sent, if any (batches), to help reconcile.

    Other arguments are those of :class:`AdsApiError`.
    """

    def __init__(self, *args: Any, json_body: Any = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.json_body = json_body
        self.hint = self.hint or (
            "The write may or may not have been applied and was not re-sent. Look up what exists "
            "(e.g. by name within the campaign) before writing again; the provider's operators do this."
        )


class BatchError(AdsApiError):
    """A batch request failed. Chunks are atomic, the sequence of chunks is not.

    :param item_errors: input index -> the errors of that operation (from ``operation_errors``).
    :param applied_chunks: 1-based numbers of the chunks that were applied before the failure.
    :param failed_chunk: the 1-based number of the chunk that failed.
    :param total_chunks: how many chunks the batch was split into.
    :param applied_results: the results of the applied chunks, in input order.
    :ivar applied_count: how many input operations were applied.

    Other arguments are those of :class:`AdsApiError`.
    """

    def __init__(
        self,
        *args: Any,
        item_errors: Mapping[int, Sequence[Mapping[str, Any]]] | None = None,
        applied_chunks: Sequence[int] = (),
        failed_chunk: int | None = None,
        total_chunks: int | None = None,
        applied_results: Sequence[Any] = (),
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        self.item_errors: dict[int, list[dict[str, Any]]] = {
            int(i): [dict(e) for e in errs] for i, errs in (item_errors or {}).items()
        }
        self.applied_chunks = list(applied_chunks)
        self.failed_chunk = failed_chunk
        self.total_chunks = total_chunks
        self.applied_results = list(applied_results)
        self.applied_count = len(self.applied_results)

    def __str__(self) -> str:
        base = super().__str__()
        progress = ""
        if self.failed_chunk is not None:
            applied = ", ".join(str(c) for c in self.applied_chunks) or "none"
            progress = (
                f" | chunk {self.failed_chunk} of {self.total_chunks} failed; applied chunks: {applied} "
                f"({self.applied_count} operations applied)"
            )
        items = ""
        if self.item_errors:
            shown = []
            for idx, errs in sorted(self.item_errors.items())[:5]:
                desc = "; ".join(describe_item_error(e) for e in errs)
                shown.append(f"item {idx}: {desc}")
            more = f" (+{len(self.item_errors) - 5} more)" if len(self.item_errors) > 5 else ""
            items = " | " + " | ".join(shown) + more
        return " ".join(f"{base}{progress}{items}".split())


class AmbiguousBatchError(BatchError, AmbiguousWriteError):
    """A batch chunk may or may not have been applied (it timed out, or its connection dropped)."""


class MalformedResponseError(AdsApiError):
    """The API answered 2xx with a body the client cannot use (not JSON, no ``data``)."""


class EndlessCursorError(MalformedResponseError):
    """The API returned a ``next_cursor`` it had already returned: following it would never end."""


def __getattr__(name: str) -> Any:
    # error_from_response lives in error_mapping (it imports this module); kept importable from here.
    if name == "error_from_response":
        from airflow_provider_twads.api.error_mapping import error_from_response

        return error_from_response
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
