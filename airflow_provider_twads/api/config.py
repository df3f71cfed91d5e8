"""What a client is configured with: credentials, timeouts, the retry policy, and what it counts.

Plain data, no HTTP: the hook, both clients and the core share these definitions.
"""

from __future__ import annotations

import math
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from airflow_provider_twads.api.errors import AdsApiValidationError

__all__ = [
    "MAX_TIMEOUT",
    "RATE_LIMIT_JITTER_FRACTION",
    "ClientStats",
    "Credentials",
    "RetryPolicy",
    "parse_timeout",
]


@dataclass(frozen=True)
class Credentials:
    """OAuth 1.0a credentials. Their ``repr`` shows the consumer key only; secrets never.

    :param consumer_key: the app's API key.
    :param consumer_secret: the app's API secret.
    :param access_token: the user's access token.
    :param access_token_secret: the user's access token secret.
    """

    consumer_key: str
    consumer_secret: str = field(repr=False)
    access_token: str = field(repr=False)
    access_token_secret: str = field(repr=False)

    def __post_init__(self) -> None:
        for name in ("consumer_key", "consumer_secret", "access_token", "access_token_secret"):
            if not getattr(self, name):
                raise AdsApiValidationError(name, "is empty: all four OAuth 1.0a credentials are required")

    def secrets(self) -> tuple[str, str, str]:
        """The values that must never be shown (for masking)."""
        return (self.consumer_secret, self.access_token, self.access_token_secret)


#: The longest request timeout accepted: sockets refuse absurd ones (``inf``, ``1e10``) with OverflowError.
MAX_TIMEOUT = 86_400.0


def parse_timeout(value: Any) -> float | None:
    """A request timeout in seconds, or ``None`` when ``value`` is not one (not a number, not positive,
    not finite, or over :data:`MAX_TIMEOUT`).

    :param value: a number or a numeric string (a connection extra).
    """
    if isinstance(value, bool):
        return None
    try:
        seconds = float(value)
    except (TypeError, ValueError):
        return None
    return seconds if math.isfinite(seconds) and 0 < seconds <= MAX_TIMEOUT else None


@dataclass(frozen=True)
class RetryPolicy:
    """How hard the client tries. Bounded in attempts and in total waiting.

    :param max_attempts: attempts per request, the first included.
    :param max_total_wait: the most seconds spent waiting between attempts of one request.
    :param backoff_initial: the first backoff for 5xx/connection errors (doubles per attempt).
    :param backoff_max: the longest single backoff.
    :param jitter: the most random seconds added to a rate-limit wait (pacing or after a 429); the jitter
        is also at most :data:`RATE_LIMIT_JITTER_FRACTION` of the wait.
    :param rate_limit_fallback_wait: the wait after a 429 that announced no reset.
    :param max_rate_limit_wait: the longest single rate-limit wait (a 15-minute window plus a margin).
    """

    max_attempts: int = 6
    max_total_wait: float = 1800.0
    backoff_initial: float = 1.0
    backoff_max: float = 60.0
    jitter: float = 0.2
    rate_limit_fallback_wait: float = 60.0
    max_rate_limit_wait: float = 960.0


#: The jitter on a rate-limit wait is at most this fraction of the wait (and at most ``RetryPolicy.jitter``).
#: Enough to spread the wake-ups of concurrent tasks over a few hundred milliseconds; not enough to make a
#: single client wait noticeably past the reset (it was up to 1 s on a 10 s window: the launch benchmark).
RATE_LIMIT_JITTER_FRACTION = 0.03


@dataclass
class ClientStats:
    """What a client did: requests sent, retries, seconds waited (pacing + retries), responses by status."""

    calls: int = 0
    retries: int = 0
    waits: float = 0.0
    pacing_waits: int = 0
    by_status: Counter[int] = field(default_factory=Counter)
    errors: int = 0

    def as_dict(self) -> dict[str, Any]:
        """A JSON-friendly copy."""
        return {
            "calls": self.calls,
            "retries": self.retries,
            "waits": round(self.waits, 3),
            "pacing_waits": self.pacing_waits,
            "errors": self.errors,
            "by_status": {str(k): v for k, v in sorted(self.by_status.items())},
        }
