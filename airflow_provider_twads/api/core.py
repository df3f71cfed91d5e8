"""The transport-independent core of the Ads API client, shared by the sync and the async transports.

Everything that decides anything lives here, once: building a request (path, query encoding, JSON body,
its rate-limit bucket), turning a response into data or a typed error, deciding whether and how long to
wait before retrying (tenacity's ``stop``/``wait``/``retry``/``before_sleep`` callables), pacing before a
request when a window is spent, and the client's statistics. A transport (``client.py``, ``aclient.py``)
only signs, sends, sleeps and maps its library's exceptions with :meth:`ClientCore.transport_error`.
The configuration types live in :mod:`.config`, the request type and encoding in :mod:`.request`.
"""

from __future__ import annotations

import json
import logging
import random
import threading
import time
from collections.abc import Callable, Mapping, MutableSet, Sequence
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any
from urllib.parse import quote, urlencode, urlsplit

from airflow_provider_twads.api import spec
from airflow_provider_twads.api import vocabulary as vocab
from airflow_provider_twads.api.config import (
    MAX_TIMEOUT,
    RATE_LIMIT_JITTER_FRACTION,
    RATE_LIMIT_SPREAD_FRACTION,
    ClientStats,
    Credentials,
    RetryPolicy,
    parse_timeout,
)
from airflow_provider_twads.api.error_mapping import error_from_response
from airflow_provider_twads.api.errors import (
    AdsApiConnectionError,
    AdsApiError,
    AdsApiValidationError,
    AmbiguousWriteError,
    MalformedResponseError,
    RateLimitError,
    TransientError,
)
from airflow_provider_twads.api.job_slots import JobSlotBook
from airflow_provider_twads.api.notices import surface_notices
from airflow_provider_twads.api.paging import CursorState
from airflow_provider_twads.api.ratelimit import RateLimiter, bucket_for, parse_retry_after
from airflow_provider_twads.api.redaction import redact_oauth_logs
from airflow_provider_twads.api.request import PreparedRequest, encode_json_params, encode_params

if TYPE_CHECKING:
    pass

__all__ = ["ClientCore", "ClientStats", "Credentials", "PreparedRequest", "RetryPolicy"]

log = logging.getLogger("airflow_provider_twads.api")


class ClientCore:
    """The shared brain of :class:`~airflow_provider_twads.api.client.AdsApiClient` and its async twin.

    :param credentials: the OAuth credentials (kept here only to hand to the transport).
    :param host: the API host, e.g. ``https://ads-api.x.com`` (or the emulator's URL).
    :param api_version: ``11`` or ``12``.
    :param account_id: the default ad account.
    :param timeout: seconds per request (connect and read).
    :param retry: the retry policy.
    :param clock: epoch-seconds clock (injectable for tests).
    :param rng: random source for jitter (injectable for tests).
    """

    def __init__(
        self,
        credentials: Credentials,
        *,
        host: str = vocab.DEFAULT_HOST,
        api_version: str = vocab.DEFAULT_API_VERSION,
        account_id: str | None = None,
        timeout: float = 30.0,
        retry: RetryPolicy | None = None,
        clock: Callable[[], float] = time.time,
        rng: random.Random | None = None,
    ) -> None:
        if not isinstance(credentials, Credentials):
            raise AdsApiValidationError("credentials", "must be an api.client.Credentials")
        host = (host or vocab.DEFAULT_HOST).strip().rstrip("/")
        host = vocab.LEGACY_HOSTS.get(host, host)
        parts = urlsplit(host)
        if parts.scheme not in ("https", "http") or not parts.netloc:
            raise AdsApiValidationError(
                "host",
                f"must be a URL such as {vocab.DEFAULT_HOST}, got {host!r}",
                allowed=[vocab.PRODUCTION_HOST, vocab.SANDBOX_HOST],
            )
        api_version = str(api_version or vocab.DEFAULT_API_VERSION).strip()
        if api_version.endswith(".0"):
            api_version = api_version[:-2]
        if api_version not in vocab.API_VERSIONS:
            raise AdsApiValidationError(
                "api_version", f"unsupported version {api_version!r}", allowed=vocab.API_VERSIONS
            )
        seconds = parse_timeout(timeout)
        if seconds is None:
            raise AdsApiValidationError(
                "timeout", f"must be a positive number of seconds up to {MAX_TIMEOUT:g}, got {timeout!r}"
            )
        timeout = seconds
        self.credentials = credentials
        redact_oauth_logs(credentials.secrets())
        self.host = host
        self.api_version = api_version
        self.account_id = str(account_id) if account_id else None
        self.timeout = timeout
        self.retry = retry or RetryPolicy()
        self.clock = clock
        self.rng = rng or random.Random()
        self.limiter = RateLimiter(
            max_wait=self.retry.max_rate_limit_wait, fallback_wait=self.retry.rate_limit_fallback_wait
        )
        self.stats = ClientStats()
        # The concurrent-job headers of the analytics jobs endpoints, per account (pacing job creation).
        self.job_slots = JobSlotBook()
        self.warned: MutableSet[tuple[str, str]] = set()  # legacy renames warned about, once per client
        self._stats_lock = threading.Lock()

    def __repr__(self) -> str:
        return (
            f"ClientCore(host={self.host!r}, api_version={self.api_version!r}, "
            f"account_id={self.account_id!r})"
        )

    # ---------------------------------------------------------------------------------------------------
    # Building requests
    # ---------------------------------------------------------------------------------------------------
    def resolve_account(self, account_id: str | None) -> str:
        """The account to use: the call's, else the client's default.

        :param account_id: the call's account, if any.
        :raises AdsApiValidationError: neither is set.
        """
        acct = account_id or self.account_id
        if not acct:
            raise AdsApiValidationError(
                "account_id",
                "no ad account given: pass account_id= or set the connection extra 'account_id'",
            )
        return str(acct)

    def build(
        self,
        method: str,
        path: str,
        params: Mapping[str, Any] | None = None,
        json_body: Any = None,
        *,
        account_id: str | None = None,
    ) -> PreparedRequest:
        """Build a request for ``path`` (without host and version).

        :param method: HTTP method.
        :param path: e.g. ``accounts/18ce54d4x5t/line_items``.
        :param params: query parameters (encoded here).
        :param json_body: a JSON-serializable body (batch endpoints), sent as ``application/json``.
        :param account_id: the account of the path, for hints.
        """
        method = method.upper()
        path = path.strip("/")
        query = encode_params(params)
        url = f"{self.host}/{self.api_version}/{path}"
        if query:
            url = f"{url}?{urlencode(query, quote_via=quote, safe='')}"
        body = None
        headers: dict[str, str] = {"Accept": "application/json"}
        if json_body is not None:
            body = json.dumps(json_body, separators=(",", ":")).encode()
            headers["Content-Type"] = "application/json"
        if account_id is None:
            segs = path.split("/")
            if "accounts" in segs and segs.index("accounts") + 1 < len(segs):
                account_id = segs[segs.index("accounts") + 1]
        return PreparedRequest(
            method=method,
            url=url,
            path=f"/{self.api_version}/{path}",
            params=query,
            body=body,
            headers=headers,
            bucket=bucket_for(method, path, query),
            account_id=account_id,
            json_body=json_body,
        )

    def prepare(
        self,
        operation: str,
        params: Mapping[str, Any] | None = None,
        *,
        account_id: str | None = None,
        **path_ids: str,
    ) -> PreparedRequest:
        """Validate ``params`` for ``operation`` (no HTTP yet) and build its request.

        :param operation: e.g. ``line_items.get``.
        :param params: the operation's parameters.
        :param account_id: the account, else the client's default.
        :param path_ids: the path's IDs, e.g. ``line_item_id="abc"``.
        """
        ep = spec.endpoint(operation)
        normalized = spec.validate(operation, params, self.api_version, warned=self.warned)
        values: dict[str, str] = {}
        for name in ep.path_params:
            value = self.resolve_account(account_id) if name == "account_id" else path_ids.get(name)
            if value is None or not str(value).strip() or "/" in str(value):
                raise AdsApiValidationError(name, f"is required (a valid ID) for {operation}, got {value!r}")
            values[name] = quote(str(value), safe="")
        return self.build(
            ep.method, ep.path.format(**values), normalized, account_id=values.get("account_id")
        )

    def cursor_state(
        self,
        resource: str,
        filters: Mapping[str, Any],
        *,
        account_id: str | None = None,
        count: int | None = None,
        cursor: str | None = None,
    ) -> tuple[CursorState, PreparedRequest]:
        """Validate a list call and build the walk's state plus a template request.

        :param resource: a listable resource (``line_items``, ``campaigns``, ...).
        :param filters: the list filters.
        :param account_id: the account, else the client's default.
        :param count: page size; defaults to the bulk-read maximum (1000).
        :param cursor: resume from this ``next_cursor``.
        """
        operation = f"{resource}.list"
        if operation not in spec.ENDPOINTS:
            listable = sorted(op.split(".")[0] for op, ep in spec.ENDPOINTS.items() if ep.paged)
            raise AdsApiValidationError("resource", f"cannot list {resource!r}", allowed=listable)
        params = dict(filters)
        params["count"] = count if count is not None else params.get("count", vocab.BULK_READ_COUNT)
        if cursor is not None:
            params["cursor"] = cursor
        # Validate with the cursor removed: with_total_count + cursor is fine for a walk (first page only).
        to_check = {k: v for k, v in params.items() if k != "cursor"}
        template = self.prepare(operation, to_check, account_id=account_id)
        if cursor is not None:
            spec.validate(operation, {"cursor": cursor}, self.api_version)
        state = CursorState(template.params, cursor, method=template.method, path=template.path)
        return state, template

    def page_request(self, template: PreparedRequest, params: Mapping[str, Any]) -> PreparedRequest:
        """The request of one page of a walk.

        :param template: the walk's template request.
        :param params: the page's (already encoded) parameters.
        """
        return self.build(
            template.method, template.path.split("/", 2)[2], params, account_id=template.account_id
        )

    # ---------------------------------------------------------------------------------------------------
    # Responses
    # ---------------------------------------------------------------------------------------------------
    def handle_response(
        self,
        req: PreparedRequest,
        status: int,
        headers: Mapping[str, Any],
        body: bytes | None,
        *,
        sent_at: float | None = None,
    ) -> dict[str, Any]:
        """Turn a response into its parsed envelope, or raise the typed error.

        Records stats and the rate-limit announcement. A POST answered 500/502/504 raises
        :class:`AmbiguousWriteError` (the write may have been applied); 429/503 on a POST mean "not
        processed" and stay retryable.

        :param req: the request.
        :param status: the HTTP status.
        :param headers: the response headers.
        :param body: the raw body.
        :param sent_at: our clock when the request was sent (tells a slow response from a skewed clock).
        """
        now = self.clock()
        info = self.limiter.observe(req.bucket, headers, now, sent_at=sent_at)
        self.job_slots.observe(req.account_id, headers, now)
        with self._stats_lock:
            self.stats.calls += 1
            self.stats.by_status[status] += 1
        surface_notices(req.method, req.path, self.api_version, headers)
        if 200 <= status < 300:
            if req.method == "DELETE" and not (body or b"").strip():
                # A delete may answer 204 (or 200) with no body: done. The entity it would have echoed is
                # the one in the path, now deleted.
                return {"data": {"id": req.path.rsplit("/", 1)[-1], "deleted": True}, "request": {}}
            try:
                doc = json.loads(body) if body else None
            except (ValueError, RecursionError):  # RecursionError: absurdly deep nesting
                doc = None
            if not isinstance(doc, dict):
                raise MalformedResponseError(
                    f"expected a JSON object, got {(body or b'')[:120]!r}",
                    status=status,
                    method=req.method,
                    path=req.path,
                )
            return doc
        with self._stats_lock:
            self.stats.errors += 1
        retry_after = parse_retry_after(headers, now)
        err = error_from_response(
            status,
            body,
            method=req.method,
            path=req.path,
            params=req.params,
            reset_at=info.reset if info else None,
            reset_in=info.reset_in if info else None,
            retry_after=retry_after,
            category=req.bucket,
        )
        if req.method == "POST" and status in vocab.AMBIGUOUS_WRITE_STATUSES:
            raise self._ambiguous(req, f"HTTP {status}: {err.message}", status=status, cause=err)
        raise err

    def transport_error(self, req: PreparedRequest, description: str, *, maybe_sent: bool) -> AdsApiError:
        """The error for a request that got no response.

        :param req: the request.
        :param description: what went wrong (exception class and message; never headers).
        :param maybe_sent: whether the request may have reached the server.
        """
        with self._stats_lock:
            self.stats.calls += 1
            self.stats.errors += 1
        if req.method == "POST" and maybe_sent:
            return self._ambiguous(req, description)
        return AdsApiConnectionError(
            f"no response: {description}",
            method=req.method,
            path=req.path,
            request_params=req.params,
            maybe_sent=maybe_sent,
        )

    def _ambiguous(
        self,
        req: PreparedRequest,
        description: str,
        *,
        status: int | None = None,
        cause: AdsApiError | None = None,
    ) -> AmbiguousWriteError:
        err = AmbiguousWriteError(
            f"the write may or may not have been applied ({description}); not re-sent",
            status=status,
            method=req.method,
            path=req.path,
            codes=cause.codes if cause else (),
            request_params=req.params,
            json_body=req.json_body,
            errors=cause.errors if cause else (),
            operation_errors=cause.operation_errors if cause else None,
        )
        if cause is not None:
            err.__cause__ = cause
        return err

    # ---------------------------------------------------------------------------------------------------
    # Pacing and retries (tenacity callables; both transports use them)
    # ---------------------------------------------------------------------------------------------------
    def pacing_wait(self, req: PreparedRequest) -> float:
        """Seconds to wait before sending ``req`` because its rate-limit window is spent (logged).

        :param req: the request about to be sent.
        """
        wait = self.limiter.wait_before(req.bucket, self.clock())
        if wait <= 0:
            return 0.0
        wait += self._jitter(wait)
        until = self._fmt_time(self.clock() + wait)
        log.warning(
            "Rate limit of %s spent (remaining 0): waiting %.1f s until %s before %s %s",
            req.bucket,
            wait,
            until,
            req.method,
            req.path,
        )
        with self._stats_lock:
            self.stats.pacing_waits += 1
            self.stats.waits += wait
        return wait

    def _jitter(self, wait: float) -> float:
        """Random seconds added to a rate-limit wait: a few percent of it, capped by the policy."""
        cap = min(self.retry.jitter, wait * RATE_LIMIT_JITTER_FRACTION)
        return self.rng.uniform(0, cap) if cap > 0 else 0.0

    @staticmethod
    def is_retryable(exc: BaseException) -> bool:
        """Whether a failed attempt may be sent again (ambiguous writes never are).

        :param exc: the attempt's error.
        """
        if isinstance(exc, AmbiguousWriteError):
            return False
        return isinstance(exc, RateLimitError | TransientError | AdsApiConnectionError)

    def backoff(self, exc: BaseException, attempt: int) -> float:
        """The wait after a failed attempt.

        After a 429 it is the wait until the announced reset, plus a few percent of jitter; from the second
        429 in a row on, the window is contended (other workers of the account share it), so the wake-up
        is spread at random over up to a quarter of the wait (at most ``rate_limit_spread`` seconds):
        workers that lost the race do not all come back at the same instant.

        :param exc: the attempt's error.
        :param attempt: for a 429, how many 429s in a row this request got; otherwise how many other
            failures it had (1-based).
        """
        policy = self.retry
        if isinstance(exc, RateLimitError):
            wait = self.limiter.wait_after_429(exc.reset_in, attempt, exc.retry_after)
            if exc.category:
                self.limiter.forget(exc.category)  # this wait covers the reset: no second pacing wait
            if attempt >= 2:
                spread = min(policy.rate_limit_spread, wait * RATE_LIMIT_SPREAD_FRACTION)
                return wait + (self.rng.uniform(0, spread) if spread > 0 else 0.0)
            return wait + self._jitter(wait)
        base = min(policy.backoff_max, policy.backoff_initial * 2.0 ** (attempt - 1))
        wait = base / 2 + self.rng.uniform(0, base / 2)  # "equal jitter": never zero, spread out
        retry_after = getattr(exc, "retry_after", None)
        if retry_after is not None:
            wait = max(wait, float(retry_after))
        return min(wait, max(policy.backoff_max, float(retry_after or 0)))

    def tenacity_kwargs(self, req: PreparedRequest) -> dict[str, Any]:
        """Arguments for ``tenacity.Retrying`` / ``AsyncRetrying`` (the caller adds ``sleep``).

        :param req: the request being retried (for log lines).
        """
        from airflow_provider_twads.api.retrying import tenacity_kwargs

        return tenacity_kwargs(self, req)

    @staticmethod
    def _fmt_time(epoch: float) -> str:
        return datetime.fromtimestamp(epoch, tz=UTC).strftime("%H:%M:%S UTC")

    # ---------------------------------------------------------------------------------------------------
    # Batches
    # ---------------------------------------------------------------------------------------------------
    def batch_request(
        self, resource: str, operations: Sequence[Mapping[str, Any]], account_id: str | None
    ) -> PreparedRequest:
        """The request of one (already validated) batch chunk.

        :param resource: the batch's resource.
        :param operations: the chunk's normalized operations.
        :param account_id: the account, else the client's default.
        """
        acct = self.resolve_account(account_id)
        body = [
            {"operation_type": op["operation_type"], "params": encode_json_params(op["params"])}
            for op in operations
        ]
        return self.build(
            "POST", f"batch/accounts/{quote(acct, safe='')}/{resource}", None, body, account_id=acct
        )
