"""Rate-limit headers and pacing decisions, without I/O.

The Ads API announces its limits on every response (``x-account-rate-limit-*`` on account-level GETs,
taking precedence, else ``x-rate-limit-*``). This module remembers the last announcement per rate-limit
bucket and answers two questions: how long to wait before the next request of a bucket (pacing: when
``remaining`` reached 0, wait for the reset instead of taking a 429), and how long to wait after a 429.

Times are computed as durations on the server's clock (``reset - Date``) whenever the server's clock
disagrees with ours by more than the request's own round trip can explain, so a skewed local clock neither
makes us hammer the API nor wait forever, and a slow response does not pass for a skewed clock.
"""

from __future__ import annotations

import math
import threading
from collections.abc import Mapping
from dataclasses import dataclass
from email.utils import parsedate_to_datetime
from typing import Any

from airflow_provider_twads.api import vocabulary as vocab

__all__ = ["RateLimitInfo", "RateLimiter", "bucket_for", "parse_rate_limit_headers", "parse_retry_after"]

# Below this disagreement between the server's Date header and our clock we trust our own clock: Date has a
# resolution of one second, which would otherwise make every wait up to a second too long.
_SKEW_TOLERANCE = 2.0
# Date is truncated to the whole second: the server's true time is up to this much later than it says.
_DATE_RESOLUTION = 1.0


def _header(headers: Mapping[str, Any], name: str) -> str | None:
    value = headers.get(name)
    if value is None:  # plain dicts (tests, the async transport's copies) are case-sensitive
        lower = name.lower()
        for key, val in headers.items():
            if str(key).lower() == lower:
                value = val
                break
    return None if value is None else str(value).strip()


def _number(value: str | None) -> float | None:
    if value is None or value == "":
        return None
    try:
        number = float(value)
    except ValueError:
        return None
    # "nan", "inf" and "1e400" parse as floats but are no time: treat them as absent (a fallback wait
    # applies) rather than sleeping NaN seconds or formatting an infinite date.
    return number if math.isfinite(number) else None


def parse_server_date(headers: Mapping[str, Any]) -> float | None:
    """The server's clock from its ``Date`` header (epoch seconds), if present and parseable.

    :param headers: the response headers.
    """
    raw = _header(headers, "date")
    if not raw:
        return None
    try:
        return parsedate_to_datetime(raw).timestamp()
    except (TypeError, ValueError, IndexError):
        return None


def parse_retry_after(headers: Mapping[str, Any], local_now: float) -> float | None:
    """Seconds to wait from a ``retry-after`` header (delta-seconds or an HTTP date), if present.

    :param headers: the response headers.
    :param local_now: our clock, epoch seconds.
    """
    raw = _header(headers, vocab.RETRY_AFTER_HEADER)
    if not raw:
        return None
    seconds = _number(raw)
    if seconds is not None:
        return max(0.0, seconds)
    try:
        when = parsedate_to_datetime(raw).timestamp()
    except (TypeError, ValueError, IndexError):
        return None
    server_now = parse_server_date(headers) or local_now
    return max(0.0, when - server_now)


@dataclass(frozen=True)
class RateLimitInfo:
    """One rate-limit announcement.

    :param limit: requests allowed per window, if announced.
    :param remaining: requests left in the window, if announced.
    :param reset: when the window resets, epoch seconds on the server's clock, if announced.
    :param level: ``account`` or ``user``: which header family it came from.
    :param reset_in: seconds until the reset, measured on the server's clock when it is skewed; computed
        only when the window is spent (``remaining`` 0 or absent), the only case that needs it.
    """

    limit: int | None
    remaining: int | None
    reset: float | None
    level: str
    reset_in: float | None


def _server_clock(headers: Mapping[str, Any], local_now: float, sent_at: float | None) -> float:
    """The "now" to measure a reset against: ours, unless the server's Date proves our clock skewed.

    The server stamps Date somewhere between receiving the request and sending the response, i.e. between
    ``sent_at`` and ``local_now`` on our clock when the clocks agree. Only a Date outside that interval
    (widened by Date's one-second truncation and a tolerance) is skew. Comparing with the receive time
    alone mistook every slow response for skew: Date says when the server started (or, with a lagging
    cached Date string, even earlier), so a 2-3 s batch looked like a 2-3 s skew and made the next wait
    2-3 s too long. Requiring the skew to be seen on several responses was the alternative; it is not
    chosen because a task's fresh client would then wait a truly skewed amount on its first window (the
    very case skew handling exists for), and it needs state where one response's interval suffices.

    :param headers: the response headers.
    :param local_now: our clock when the response arrived.
    :param sent_at: our clock when the request left (``None``: taken as ``local_now``).
    """
    server_now = parse_server_date(headers)
    if server_now is None:
        return local_now
    earliest = min(sent_at, local_now) if sent_at is not None else local_now
    if earliest - _SKEW_TOLERANCE - _DATE_RESOLUTION <= server_now <= local_now + _SKEW_TOLERANCE:
        return local_now
    return server_now


def parse_rate_limit_headers(
    headers: Mapping[str, Any], local_now: float, *, sent_at: float | None = None
) -> RateLimitInfo | None:
    """Read the rate-limit headers, preferring the ad-account level ones.

    :param headers: the response headers.
    :param local_now: our clock when the response arrived, epoch seconds.
    :param sent_at: our clock when the request was sent, if known: a Date between the two is no skew.
    :return: the announcement, or ``None`` when the response carries none.
    """
    for prefix, level in zip(vocab.RATE_LIMIT_HEADER_PREFIXES, ("account", "user"), strict=True):
        limit = _number(_header(headers, prefix + "limit"))
        remaining = _number(_header(headers, prefix + "remaining"))
        reset = _number(_header(headers, prefix + "reset"))
        if limit is None and remaining is None and reset is None:
            continue
        reset_in = None
        # Only a spent window needs the reset as a duration (parsing Date costs more than the rest).
        if reset is not None and (remaining is None or remaining <= 0):
            reset_in = reset - _server_clock(headers, local_now, sent_at)
        return RateLimitInfo(
            limit=int(limit) if limit is not None else None,
            remaining=int(remaining) if remaining is not None else None,
            reset=reset,
            level=level,
            reset_in=reset_in,
        )
    return None


def bucket_for(method: str, path: str, query: Mapping[str, Any] | None = None) -> str:
    """The rate-limit bucket of a request, after fundamentals/rate-limiting.mdx.

    Writes share one category; targeting criteria reads share one; ``with_total_count`` reads have their
    own, lower limit; other reads are limited per endpoint and ad account.

    :param method: the HTTP method.
    :param path: the API path without the version, e.g. ``accounts/abc/line_items/xyz``.
    :param query: the query parameters.
    """
    method = method.upper()
    parts = [p for p in path.strip("/").split("/") if p]
    if parts and parts[0] == "batch":
        parts = parts[1:]
    if method != "GET":
        return vocab.RATE_LIMIT_WRITES
    if len(parts) <= 1:
        return vocab.RATE_LIMIT_GLOBAL_READS
    account = parts[1]
    resource = parts[2] if len(parts) > 2 else "account"
    if resource == "targeting_criteria":
        return vocab.RATE_LIMIT_TARGETING
    single = len(parts) > 3
    if query and str(query.get("with_total_count", "")).lower() == "true":
        return f"{vocab.RATE_LIMIT_TOTAL_COUNT}:{account}:{resource}"
    kind = vocab.RATE_LIMIT_CORE_READS if resource in vocab.RESOURCES else vocab.RATE_LIMIT_ACCOUNT_READS
    return f"{kind}:{account}:{resource}{'/:id' if single else ''}"


@dataclass
class _Window:
    remaining: int | None
    resets_at_local: float | None  # our clock


class RateLimiter:
    """Remembers announcements per bucket and decides waits. Thread-safe; no I/O, no sleeping.

    :param max_wait: the longest single wait it will ever ask for (a sanity cap against absurd resets).
    :param fallback_wait: the wait after a 429 that carried no usable reset (first time; doubles after).
    :param min_wait: the shortest wait after a 429 (a reset already in the past means a skewed clock).
    """

    def __init__(
        self, *, max_wait: float = 960.0, fallback_wait: float = 60.0, min_wait: float = 1.0
    ) -> None:
        self.max_wait = max_wait
        self.fallback_wait = fallback_wait
        self.min_wait = min_wait
        self._windows: dict[str, _Window] = {}
        self._lock = threading.Lock()

    def observe(
        self, bucket: str, headers: Mapping[str, Any], local_now: float, *, sent_at: float | None = None
    ) -> RateLimitInfo | None:
        """Record the announcement of a response.

        :param bucket: the request's bucket (:func:`bucket_for`).
        :param headers: the response headers.
        :param local_now: our clock when the response arrived.
        :param sent_at: our clock when the request was sent, if known.
        """
        info = parse_rate_limit_headers(headers, local_now, sent_at=sent_at)
        if info is None:
            return None
        resets_at = local_now + info.reset_in if info.reset_in is not None else None
        with self._lock:
            self._windows[bucket] = _Window(info.remaining, resets_at)
        return info

    def wait_before(self, bucket: str, local_now: float) -> float:
        """Seconds to wait before sending a request of ``bucket`` (0 when it may go now).

        :param bucket: the request's bucket.
        :param local_now: our clock.
        """
        with self._lock:
            window = self._windows.get(bucket)
            if window is None or window.remaining is None or window.remaining > 0:
                return 0.0
            if window.resets_at_local is None or window.resets_at_local <= local_now:
                # The window has reset (or we cannot tell): forget it and let the server decide.
                del self._windows[bucket]
                return 0.0
            return min(window.resets_at_local - local_now, self.max_wait)

    def wait_after_429(self, reset_in: float | None, attempt: int, retry_after: float | None) -> float:
        """Seconds to wait after a 429, jitter not included.

        :param reset_in: seconds until the reset announced by the 429 response, if any.
        :param attempt: 1 for the first 429 of this request, 2 for the second in a row, ...
        :param retry_after: the ``retry-after`` header, in seconds, if any.
        """
        wait: float | None = reset_in
        if retry_after is not None:
            wait = max(wait or 0.0, retry_after)
        if wait is None:
            wait = self.fallback_wait * (2 ** (attempt - 1))
        elif wait <= 0:
            # A reset in the past (skew) or a repeated 429 at the reset: back off more each time.
            wait = self.min_wait * (2 ** (attempt - 1))
        elif wait < self.min_wait:
            # A reset just ahead: no doubling (a contended window gives many 429s in a row, each one
            # announcing a real reset a moment away; doubling would sleep through windows others use).
            wait = self.min_wait
        return min(wait, self.max_wait)

    def forget(self, bucket: str) -> None:
        """Drop what is known of ``bucket`` (a retry wait after a 429 already waits for its reset).

        :param bucket: the bucket.
        """
        with self._lock:
            self._windows.pop(bucket, None)

    def snapshot(self) -> dict[str, dict[str, Any]]:
        """The remembered windows (for stats and debugging)."""
        with self._lock:
            return {
                k: {"remaining": w.remaining, "resets_at": w.resets_at_local}
                for k, w in self._windows.items()
            }
