"""Fixtures for the client tests: clients on the session emulator whose waits are recorded."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest


class SleepRecorder:
    """Records every wait the client asks for; really sleeps only up to ``cap`` seconds (tiny windows)."""

    def __init__(self, cap: float = 0.0) -> None:
        self.cap = cap
        self.waits: list[float] = []

    def __call__(self, seconds: float) -> None:
        self.waits.append(seconds)
        if self.cap:
            time.sleep(min(seconds, self.cap))

    async def asleep(self, seconds: float) -> None:
        self.waits.append(seconds)


@pytest.fixture
def sleeps() -> SleepRecorder:
    return SleepRecorder()


@pytest.fixture
def make_client(emu: Any, sleeps: SleepRecorder) -> Iterator[Callable[..., Any]]:
    """Build an ``AdsApiClient`` on the reset emulator with recorded waits and no jitter."""
    from airflow_provider_twads.api.client import AdsApiClient, Credentials, RetryPolicy
    from twads_emulator import DEFAULT_CREDENTIALS, SEED

    made: list[Any] = []

    def factory(**kwargs: Any) -> Any:
        retry = kwargs.pop("retry", None) or RetryPolicy(jitter=0.0, backoff_initial=0.01, backoff_max=0.05)
        creds = kwargs.pop("credentials", None) or Credentials(**DEFAULT_CREDENTIALS)
        c = AdsApiClient(
            creds,
            host=emu.base_url,
            account_id=kwargs.pop("account_id", SEED["account_id"]),
            timeout=kwargs.pop("timeout", 5),
            retry=retry,
            sleep=kwargs.pop("sleep", sleeps),
            **kwargs,
        )
        made.append(c)
        return c

    yield factory
    for c in made:
        c.close()


def api_requests(emu: Any, method: str | None = None, path_part: str = "") -> list[dict[str, Any]]:
    """The emulator's request log, filtered."""
    return [
        r
        for r in emu.admin.requests()
        if (method is None or r["method"] == method)
        and path_part in r["path"]
        and "/_emulator" not in r["path"]
    ]
