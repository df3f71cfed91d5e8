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
    "RATE_LIMIT_SPREAD_FRACTION",
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

    A 429 means "not applied": it is waited out, bounded by ``max_total_wait`` only (every worker of an
    account shares one budget, so a request may lose several windows in a row); it does not use up
    ``max_attempts``, which bounds the other transient failures (5xx, 408, 423, connection errors).

    :param max_attempts: attempts per request for failures other than 429, the first included.
    :param max_total_wait: the most seconds spent waiting between attempts of one request (429s included;
        ``0`` turns every retry off).
    :param backoff_initial: the first backoff for 5xx/connection errors (doubles per attempt).
    :param backoff_max: the longest single backoff.
    :param jitter: the most random seconds added to a rate-limit wait (pacing or after a 429); the jitter
        is also at most :data:`RATE_LIMIT_JITTER_FRACTION` of the wait.
    :param rate_limit_fallback_wait: the wait after a 429 that announced no reset.
    :param max_rate_limit_wait: the longest single rate-limit wait (a 15-minute window plus a margin).
    :param rate_limit_spread: the most random seconds added to the wait after a repeated 429 of one request
        (other workers contend for the window: their wake-ups are spread over up to
        :data:`RATE_LIMIT_SPREAD_FRACTION` of the wait instead of stampeding at the reset).
    """

    max_attempts: int = 6
    max_total_wait: float = 1800.0
    backoff_initial: float = 1.0
    backoff_max: float = 60.0
    jitter: float = 0.2
    rate_limit_fallback_wait: float = 60.0
    max_rate_limit_wait: float = 960.0
    rate_limit_spread: float = 5.0


#: The jitter on a rate-limit wait is at most this fraction of the wait (and at most ``RetryPolicy.jitter``).
#: Enough to spread the wake-ups of concurrent tasks over a few hundred milliseconds; not enough to make a
#: single client wait noticeably past the reset (it was up to 1 s on a 10 s window: the launch benchmark).
RATE_LIMIT_JITTER_FRACTION = 0.03

#: After a second 429 in a row the wake-up is spread over up to this fraction of the wait (and at most
#: ``RetryPolicy.rate_limit_spread``): the window is contended, and workers that all wake at the reset take
#: its few slots and send the rest back to sleep together.
RATE_LIMIT_SPREAD_FRACTION = 0.25


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
