"""Retry decisions as tenacity callables, shared by both transports through :class:`.core.ClientCore`.

A 429 means "not applied": it is waited out, every time, until the request's waiting budget
(``RetryPolicy.max_total_wait``) is spent; it never uses up ``max_attempts``, which bounds the other
transient failures (5xx, 408, 423, connection errors). Several workers share one account's budget, so a
request may lose the race for a window several times in a row: counting those out failed tasks that only
had to wait (issue 11).
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from airflow_provider_twads.api.errors import AdsApiError, RateLimitError, TransientError

if TYPE_CHECKING:
    from tenacity import RetryCallState

    from airflow_provider_twads.api.core import ClientCore
    from airflow_provider_twads.api.request import PreparedRequest

__all__ = ["reason", "tenacity_kwargs"]

log = logging.getLogger("airflow_provider_twads.api")


def _fmt(epoch: float) -> str:
    return datetime.fromtimestamp(epoch, tz=UTC).strftime("%H:%M:%S UTC")


def tenacity_kwargs(core: ClientCore, req: PreparedRequest) -> dict[str, Any]:
    """Arguments for ``tenacity.Retrying`` / ``AsyncRetrying`` (the caller adds ``sleep``).

    :param core: the client's core (policy, backoff, stats).
    :param req: the request being retried (for log lines).
    """
    from tenacity import retry_if_exception

    policy = core.retry
    # This request's failures: 429s in a row (waited out within the budget, never counted out) and
    # the others (bounded by max_attempts). tenacity calls after -> wait -> stop -> before_sleep.
    count = {"limited": 0, "failed": 0}

    def after(rs: RetryCallState) -> None:
        exc = rs.outcome.exception() if rs.outcome else None
        if isinstance(exc, RateLimitError):
            count["limited"] += 1
        else:
            count["limited"] = 0
            count["failed"] += 1

    def wait(rs: RetryCallState) -> float:
        exc = rs.outcome.exception() if rs.outcome else None
        if exc is None:
            return 0.0
        limited = isinstance(exc, RateLimitError)
        return core.backoff(exc, count["limited"] if limited else count["failed"])

    def stop(rs: RetryCallState) -> bool:
        if count["limited"] == 0 and count["failed"] >= policy.max_attempts:
            return True
        return rs.idle_for + rs.upcoming_sleep > policy.max_total_wait

    def before_sleep(rs: RetryCallState) -> None:
        exc = rs.outcome.exception() if rs.outcome else None
        sleep = rs.upcoming_sleep
        if count["limited"]:
            budget = max(0.0, policy.max_total_wait - rs.idle_for - sleep)
            progress = f"429 number {count['limited']} in a row; {budget:.0f} s of waiting budget left"
        else:
            progress = f"attempt {count['failed'] + 1} of {policy.max_attempts}"
        log.warning(
            "%s %s failed (%s); retrying in %.1f s, at %s (%s)",
            req.method,
            req.path,
            reason(exc),
            sleep,
            _fmt(core.clock() + sleep),
            progress,
        )
        with core._stats_lock:
            core.stats.retries += 1
            core.stats.waits += sleep

    return {
        "after": after,
        "stop": stop,
        "wait": wait,
        "retry": retry_if_exception(core.is_retryable),
        "before_sleep": before_sleep,
        "reraise": True,
    }


def reason(exc: BaseException | None) -> str:
    """A failed attempt in a few words, for the retry log line.

    :param exc: the attempt's error.
    """
    if isinstance(exc, RateLimitError):
        reset = f", reset at {_fmt(exc.reset_at)}" if exc.reset_at else ", no reset announced"
        return f"HTTP 429 rate limited{reset}"
    if isinstance(exc, TransientError):
        ra = f", retry-after {exc.retry_after:g} s" if exc.retry_after is not None else ""
        return f"HTTP {exc.status} {exc.code or ''}{ra}".strip()
    if isinstance(exc, AdsApiError):
        return exc.message
    return repr(exc)
