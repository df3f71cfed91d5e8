"""Rate-limit waits that are exactly as long as needed: the clock behind a reset, and the jitter on top.

These are sans-IO: a stale ``Date`` header (a server whose clock string lags behind a slow response) and a
random source at its extremes cannot be produced on demand by the emulator.
"""

from __future__ import annotations

import random
from email.utils import formatdate
from typing import Any

import pytest

from airflow_provider_twads.api.core import ClientCore, Credentials, RetryPolicy
from airflow_provider_twads.api.errors import RateLimitError
from airflow_provider_twads.api.ratelimit import RateLimiter, parse_rate_limit_headers

CREDS = Credentials("key", "consumer-secret", "token", "token-secret")
LOCAL = 1_700_000_000.0


def _spent(reset: float, date: float | None) -> dict[str, str]:
    headers = {
        "x-rate-limit-limit": "5",
        "x-rate-limit-remaining": "0",
        "x-rate-limit-reset": str(int(reset)),
    }
    if date is not None:
        headers["date"] = formatdate(date, usegmt=True)
    return headers


class _Extreme(random.Random):
    """A random source that always returns the top of the range (the worst case of any jitter)."""

    def uniform(self, a: float, b: float) -> float:
        return b


class _Clock:
    def __init__(self, now: float) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


# ---------------------------------------------------------------------------------------------------------
# The clock a reset is measured on
# ---------------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("took", [1.6, 2.1, 3.0, 8.0])
def test_a_slow_response_with_the_date_of_its_arrival_is_not_clock_skew(took: float) -> None:
    # The server stamped Date when it received the request (or its cached Date string lagged while it
    # worked): the response arrives `took` seconds later. The clocks agree; the reset is 10 s from now.
    sent = LOCAL - took
    info = parse_rate_limit_headers(_spent(LOCAL + 10, sent), LOCAL, sent_at=sent)
    assert info is not None and info.reset_in == pytest.approx(10, abs=0.01)


@pytest.mark.parametrize("skew", [3600.0, -3600.0, 30.0, -30.0])
def test_real_skew_is_still_measured_on_the_servers_clock_from_one_response(skew: float) -> None:
    # One response is enough: a task's fresh client must not wait a skewed amount on its first window.
    server_now = LOCAL + skew
    info = parse_rate_limit_headers(_spent(server_now + 20, server_now), LOCAL, sent_at=LOCAL - 0.05)
    assert info is not None and info.reset_in == pytest.approx(20, abs=1.01)


def test_without_a_send_time_the_receive_time_is_the_reference() -> None:
    # Callers that do not know when the request left (older callers, the tests above this file) keep the
    # receive time as both ends of the interval.
    info = parse_rate_limit_headers(_spent(LOCAL + 10, LOCAL - 0.4), LOCAL)
    assert info is not None and info.reset_in == pytest.approx(10, abs=0.01)


def test_the_client_core_passes_the_send_time_to_the_limiter() -> None:
    clock = _Clock(LOCAL)
    core = ClientCore(CREDS, host="http://127.0.0.1:1", account_id="acc", clock=clock)
    req = core.build("POST", "batch/accounts/acc/targeting_criteria", None, [])
    sent = LOCAL - 2.5  # a 500-criteria batch that took 2.5 s; Date says when it was received
    core.handle_response(req, 200, _spent(LOCAL + 7, sent), b'{"data": []}', sent_at=sent)
    assert core.limiter.wait_before(req.bucket, LOCAL) == pytest.approx(7, abs=0.01)


# ---------------------------------------------------------------------------------------------------------
# Jitter: a few percent of the wait, capped at a fraction of a second
# ---------------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("window", [1.0, 10.0, 100.0, 900.0])
def test_pacing_jitter_is_a_few_percent_capped_at_a_quarter_second(window: float) -> None:
    clock = _Clock(LOCAL)
    core = ClientCore(CREDS, host="http://127.0.0.1:1", account_id="acc", clock=clock, rng=_Extreme())
    req = core.build("POST", "accounts/acc/promoted_tweets", {"line_item_id": "l"})
    core.limiter.observe(req.bucket, _spent(LOCAL + window, LOCAL), LOCAL)
    wait = core.pacing_wait(req)
    assert window <= wait <= window + min(0.25, 0.05 * window)
    assert wait > window  # there is some jitter: many workers do not all wake at the same instant


@pytest.mark.parametrize("reset_in", [0.5, 10.0, 100.0])
def test_jitter_after_a_429_is_a_few_percent_capped_at_a_quarter_second(reset_in: float) -> None:
    core = ClientCore(CREDS, host="http://127.0.0.1:1", account_id="acc", rng=_Extreme())
    err = RateLimitError("rate limited", status=429, reset_in=reset_in, category="writes")
    wait = core.backoff(err, 1)
    base = max(reset_in, core.limiter.min_wait)
    assert base < wait <= base + min(0.25, 0.05 * base)


def test_jitter_policy_zero_means_no_jitter() -> None:
    core = ClientCore(CREDS, host="http://127.0.0.1:1", retry=RetryPolicy(jitter=0.0), rng=_Extreme())
    err = RateLimitError("rate limited", status=429, reset_in=10.0, category="writes")
    assert core.backoff(err, 1) == 10.0


def test_limiter_keeps_the_local_deadline(monkeypatch: Any) -> None:
    limiter = RateLimiter()
    limiter.observe("b", _spent(LOCAL + 5, LOCAL - 3), LOCAL, sent_at=LOCAL - 3.2)
    assert limiter.wait_before("b", LOCAL + 1) == pytest.approx(4, abs=0.01)


@pytest.mark.parametrize("reset", ["nan", "inf", "-inf", "1e400"])
def test_a_non_finite_reset_counts_as_no_reset(reset: str) -> None:
    headers = {"x-rate-limit-limit": "1", "x-rate-limit-remaining": "0", "x-rate-limit-reset": reset}
    info = parse_rate_limit_headers(headers, LOCAL)
    assert info is not None and info.reset is None and info.reset_in is None
    limiter = RateLimiter(fallback_wait=60)
    limiter.observe("b", headers, LOCAL)
    assert limiter.wait_before("b", LOCAL) == 0.0  # nothing known: the server decides
    assert limiter.wait_after_429(info.reset_in, 1, None) == 60  # the fallback, not NaN


@pytest.mark.parametrize("value", ["nan", "inf"])
def test_a_non_finite_retry_after_is_ignored(value: str) -> None:
    from airflow_provider_twads.api.ratelimit import parse_retry_after

    assert parse_retry_after({"retry-after": value}, LOCAL) is None
