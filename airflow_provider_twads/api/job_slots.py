"""The concurrent-job budget of the analytics jobs endpoints: ``X-Concurrent-Job-Limit`` and
``X-Concurrent-Job-Limit-Remaining``, as last announced per account (the client's core feeds every response
to a :class:`JobSlotBook`)."""

from __future__ import annotations

import dataclasses
import threading
from collections.abc import Mapping
from typing import Any

__all__ = ["LIMIT_HEADER", "REMAINING_HEADER", "JobSlotBook", "JobSlots"]

LIMIT_HEADER = "X-Concurrent-Job-Limit"
REMAINING_HEADER = "X-Concurrent-Job-Limit-Remaining"


@dataclasses.dataclass(frozen=True)
class JobSlots:
    """An account's concurrent-job budget, as the last response of the jobs endpoints announced it.

    :param limit: ``X-Concurrent-Job-Limit`` (None when absent).
    :param remaining: ``X-Concurrent-Job-Limit-Remaining``.
    :param seen_at: when it was seen (epoch seconds, the client's clock).
    """

    limit: int | None
    remaining: int
    seen_at: float


def _header_int(headers: Mapping[str, Any], name: str) -> int | None:
    raw = headers.get(name)
    if raw is None:
        raw = headers.get(name.lower())
    try:
        return None if raw is None else int(str(raw).strip())
    except ValueError:
        return None


class JobSlotBook:
    """The last concurrent-job headers seen per account; fed by every response of a client (thread-safe)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._slots: dict[str, JobSlots] = {}

    def observe(self, account_id: str | None, headers: Mapping[str, Any], now: float) -> None:
        """Record a response's concurrent-job headers, if it has them.

        :param account_id: the request's account.
        :param headers: the response headers.
        :param now: the client's clock.
        """
        remaining = _header_int(headers, REMAINING_HEADER)
        if remaining is None or not account_id:
            return
        with self._lock:
            self._slots[account_id] = JobSlots(_header_int(headers, LIMIT_HEADER), remaining, now)

    def get(self, account_id: str) -> JobSlots | None:
        """The account's budget as last seen, or None.

        :param account_id: the account.
        """
        with self._lock:
            return self._slots.get(account_id)
