"""Rate limits by category, as fundamentals/rate-limiting.mdx describes them.

Every request falls into one user-level bucket (headers ``x-rate-limit-*``) and, for GETs on an ad
account's entities, one account-level bucket (``x-account-rate-limit-*``).

**Windows.** Fixed windows of whole seconds: a window opens at the whole epoch second of its first request
(``floor(now)``) and ends exactly ``window`` seconds later, at the epoch second announced as ``reset``
(whole seconds, as in the API). A request at or after ``reset`` opens the next window, so a client that
waits for the announced reset and sends then is never refused for that window and loses no time: the
reset is a promise, not a rounding up (a window that started mid-second and announced ``ceil`` would end
before the announced second and make the next one start up to 1 s late, so 3 s windows behaved as 4 s).
The first window may therefore be up to 1 s shorter than ``window`` in real time; later windows opened by
a client waiting for ``reset`` last ``window`` seconds.
"""

from __future__ import annotations

import math
import threading
import time
from dataclasses import dataclass
from typing import Any

from twads_emulator.config import ConfigError, check_object, number
from twads_emulator.vocabulary import (
    RATE_LIMIT_ACCOUNT_READS,
    RATE_LIMIT_ANALYTICS,
    RATE_LIMIT_CATEGORIES,
    RATE_LIMIT_CORE_READS,
    RATE_LIMIT_GLOBAL_READS,
    RATE_LIMIT_TARGETING,
    RATE_LIMIT_TOTAL_COUNT,
    RATE_LIMIT_WRITES,
)

# The user-level quota shown on account-level reads: "set at a high value representing a global quota for
# your entire application" (rate-limiting.mdx). The page gives no figure; this one is the emulator's.
APP_READS = "app_reads"
DEFAULT_LIMITS: dict[str, tuple[int, int]] = {
    **{name: (limit, window) for name, (limit, window, _scope) in RATE_LIMIT_CATEGORIES.items()},
    APP_READS: (100_000, 900),
}


class RateLimitConfigError(ConfigError):
    """A rate-limit configuration that cannot be understood."""


def parse_limits(spec: dict[str, Any] | None) -> dict[str, tuple[int, int]]:
    """``{"writes": {"limit": 3, "window": 60}}`` (or ``[3, 60]``, or just ``3``) -> overrides.

    :raises RateLimitConfigError: naming an unknown category or key, or a limit/window that is not a
        whole number >= 1.
    """
    out: dict[str, tuple[int, int]] = {}
    try:
        for name, value in check_object("rate_limits", spec or {}, DEFAULT_LIMITS).items():
            where = f"rate_limits.{name}"
            window = DEFAULT_LIMITS[name][1]
            if isinstance(value, dict):
                value = check_object(where, value, ("limit", "window"), required=("limit",))
                limit = number(f"{where}.limit", value["limit"], minimum=1, integer=True)
                if "window" in value:
                    window = number(f"{where}.window", value["window"], minimum=1, integer=True)
            elif isinstance(value, list):
                if len(value) != 2:
                    raise RateLimitConfigError(
                        f"{where} as an array is [limit, window]; got {value!r}", where
                    )
                limit = number(f"{where}[0] (limit)", value[0], minimum=1, integer=True)
                window = number(f"{where}[1] (window)", value[1], minimum=1, integer=True)
            else:
                limit = number(f"{where} (limit)", value, minimum=1, integer=True)
            out[name] = (limit, window)
    except RateLimitConfigError:
        raise
    except ConfigError as exc:
        raise RateLimitConfigError(str(exc), exc.key, exc.allowed) from None
    return out


@dataclass
class Bucket:
    """One window's counter."""

    limit: int
    window: int
    reset_at: float = 0.0  # a whole epoch second (see window_end)
    used: int = 0

    def state(self, now: float) -> tuple[int, int, int]:
        """(limit, remaining, reset epoch seconds) after rolling the window if it ended."""
        if now >= self.reset_at:
            self.used = 0
            self.reset_at = window_end(now, self.window)
        return self.limit, max(self.limit - self.used, 0), int(self.reset_at)


def window_end(now: float, window: int) -> int:
    """The end (the announced ``reset``) of a window opened by a request at ``now``: whole seconds, so the
    window ends exactly when announced.

    :param now: epoch seconds of the first request.
    :param window: the window's length in seconds.
    """
    return math.floor(now) + window


def classify(method: str, route: str, has_account: bool, with_total_count: bool) -> tuple[str, str | None]:
    """(user-level category, account-level category or None) for a request.

    :param method: HTTP method.
    :param route: the route's resource name (``accounts``, ``line_items``, ``features``, ...).
    :param has_account: whether the path names an ad account.
    :param with_total_count: whether the request asked for ``total_count``.
    """
    if method != "GET":
        return RATE_LIMIT_WRITES, None
    if not has_account:
        return RATE_LIMIT_GLOBAL_READS, None
    if route == "targeting_criteria":
        return RATE_LIMIT_TARGETING, None
    if route == "stats":  # user-level, shared by every analytics endpoint (analytics.mdx)
        return RATE_LIMIT_ANALYTICS, None
    if with_total_count:
        return APP_READS, RATE_LIMIT_TOTAL_COUNT
    if route == "features":
        return APP_READS, RATE_LIMIT_ACCOUNT_READS
    return APP_READS, RATE_LIMIT_CORE_READS


class QuotaCounter:
    """The server side of rate limiting: counts requests per (token, category) and per (account,
    endpoint, category), and refuses those over quota (named apart from the client's ``RateLimiter``)."""

    def __init__(self, overrides: dict[str, Any] | None = None) -> None:
        self._lock = threading.Lock()
        self._start_overrides = parse_limits(overrides)
        self.reset()

    def reset(self) -> None:
        """Back to the start-up limits, with every counter at zero."""
        with self._lock:
            self._limits = {**DEFAULT_LIMITS, **self._start_overrides}
            self._buckets: dict[tuple[str, ...], Bucket] = {}

    def configure(self, spec: dict[str, Any]) -> dict[str, tuple[int, int]]:
        """Change some categories' limits; their counters restart."""
        overrides = parse_limits(spec)
        with self._lock:
            self._limits.update(overrides)
            self._buckets = {k: b for k, b in self._buckets.items() if k[0] not in overrides}
            return dict(self._limits)

    def limits(self) -> dict[str, tuple[int, int]]:
        with self._lock:
            return dict(self._limits)

    def hit(
        self, user_key: tuple[str, str], account_key: tuple[str, str, str] | None
    ) -> tuple[bool, dict[str, str]]:
        """Count one request.

        :param user_key: (category, access token).
        :param account_key: (category, account ID, endpoint) or None.
        :return: (allowed, response headers). A refused request is not counted.
        """
        now = time.time()
        with self._lock:
            buckets = [(self._bucket(user_key, now), "x-rate-limit-")]
            if account_key is not None:
                buckets.append((self._bucket(account_key, now), "x-account-rate-limit-"))
            states = [(b, prefix, b.state(now)) for b, prefix in buckets]
            allowed = all(remaining > 0 for _b, _p, (_l, remaining, _r) in states)
            headers: dict[str, str] = {}
            for bucket, prefix, (limit, remaining, reset) in states:
                if allowed:
                    bucket.used += 1
                    remaining -= 1
                headers[prefix + "limit"] = str(limit)
                headers[prefix + "remaining"] = str(max(remaining, 0))
                headers[prefix + "reset"] = str(reset)
            return allowed, headers

    def peek(self, user_key: tuple[str, str]) -> dict[str, str]:
        """The user-level headers for a refused request (counted nowhere)."""
        now = time.time()
        with self._lock:
            bucket = self._buckets.get(user_key)
            if bucket is None:
                limit, window = self._limits[user_key[0]]
                return {"x-rate-limit-limit": str(limit), "x-rate-limit-remaining": str(limit),
                        "x-rate-limit-reset": str(window_end(now, window))}  # fmt: skip
            limit, remaining, reset = bucket.state(now)
            return {"x-rate-limit-limit": str(limit), "x-rate-limit-remaining": str(remaining),
                    "x-rate-limit-reset": str(reset)}  # fmt: skip

    def _bucket(self, key: tuple[str, ...], now: float) -> Bucket:
        bucket = self._buckets.get(key)
        if bucket is None:
            limit, window = self._limits[key[0]]
            bucket = self._buckets[key] = Bucket(limit, window, reset_at=window_end(now, window))
        return bucket
