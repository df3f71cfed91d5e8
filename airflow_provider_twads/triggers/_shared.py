"""What the cursor triggers of one triggerer process share: one client per connection, one paced read budget.

The triggerer runs every trigger of the process in one asyncio loop. Per loop (so tests that start a loop
each are isolated) this module keeps one :class:`AsyncAdsApiClient` per connection, reference-counted and
closed when its last user ends or is cancelled, and one :class:`Pacer` per rate-limit bucket of that
client. The connection is looked up once however many triggers start together; the client's CA bundle and
proxy policy are loaded in a thread, never on the loop.
"""

from __future__ import annotations

import asyncio
import logging
import math
import time
import weakref
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from airflow_provider_twads.api.ratelimit import parse_rate_limit_headers, parse_server_date

if TYPE_CHECKING:
    from airflow_provider_twads.api.aclient import AsyncAdsApiClient
    from airflow_provider_twads.api.request import PreparedRequest
    from airflow_provider_twads.triggers._polls import Group

__all__ = ["ClientEntry", "Pacer", "Registry", "registry"]

log = logging.getLogger(__name__)

#: Share of each window's reads left unspent, for the workers' sensors and operators on the same account.
RESERVE_FRACTION = 0.05
#: Longest keep-alive asked for: beyond a few minutes servers and proxies close idle sockets anyway.
MAX_KEEPALIVE = 300.0
# A Date header further than this from our clock (beyond the round trip) means our clock is skewed.
_SKEW = 3.0


class Pacer:
    """Spreads what is left of one rate-limit window evenly until its reset, for every request of the process.

    Fed by every response's headers (:meth:`observe`); asked before every request (:meth:`reserve`). When
    the window is nearly spent it holds requests until the reset, then spreads the new window's budget
    instead of letting every waiting request go at once.

    :param bucket: the rate-limit bucket (for logs).
    :param clock: epoch-seconds clock.
    """

    def __init__(self, bucket: str, clock: Callable[[], float] = time.time) -> None:
        self.bucket = bucket
        self.clock = clock
        self.limit: int | None = None
        self.remaining: int | None = None
        self.reset_at: float | None = None  # our clock
        self.window: float = 0.0  # longest reset_in seen: the window's length, near enough
        self._next_slot = 0.0

    def _reserve_count(self) -> int:
        return max(1, math.ceil((self.limit or 0) * RESERVE_FRACTION))

    def spacing(self, at: float) -> float:
        """Seconds between requests that spends the usable remainder of the window evenly by its reset.

        :param at: when the next request would go (our clock).
        """
        if self.remaining is None or self.reset_at is None:
            return 0.0
        usable = self.remaining - self._reserve_count()
        left = max(0.0, self.reset_at - at)
        if usable <= 0:
            return left
        return left / usable

    def reserve(self) -> float:
        """Take the next send slot; return how long to wait for it (0: send now)."""
        now = self.clock()
        start = max(now, self._next_slot)
        spent = self.remaining is not None and self.remaining - self._reserve_count() <= 0
        if self.reset_at is not None and (spent or start >= self.reset_at):
            # Spent: wait for the reset. Either way a full budget then, spread over the window as last
            # seen, rather than every waiting request going at the reset.
            start = max(start, self.reset_at)
            self.remaining = self.limit
            self.reset_at = start + self.window if self.window and self.limit else None
        self._next_slot = start + self.spacing(start)
        if self.remaining is not None:
            self.remaining -= 1
        return start - now

    def observe(self, headers: Mapping[str, Any], now: float, sent_at: float) -> None:
        """Record a response's rate-limit headers.

        :param headers: the response headers.
        :param now: our clock when the response arrived.
        :param sent_at: our clock when the request left.
        """
        info = parse_rate_limit_headers(headers, now, sent_at=sent_at)
        if info is None or info.reset is None or info.remaining is None:
            return
        server_now = parse_server_date(headers)
        skewed = server_now is not None and not (sent_at - _SKEW <= server_now <= now + _SKEW)
        reset_in = max(0.0, info.reset - (server_now if skewed and server_now is not None else now))
        reset_at = now + reset_in
        same_window = self.reset_at is not None and abs(reset_at - self.reset_at) < 2.0
        if same_window and self.remaining is not None:
            # Responses to requests sent earlier may still be arriving: keep the lower count.
            self.remaining = min(self.remaining, info.remaining)
        else:
            self.remaining = info.remaining
        self.limit = info.limit if info.limit is not None else self.limit
        self.reset_at = reset_at
        self.window = max(self.window, reset_in)

    def hold_until(self, seconds: float) -> None:
        """After a 429: send nothing of this bucket for ``seconds``.

        :param seconds: until the announced reset.
        """
        self.remaining = 0
        self.reset_at = self.clock() + max(0.0, seconds)
        self._next_slot = max(self._next_slot, self.reset_at)

    def describe(self) -> str:
        """The budget as last announced, for log lines."""
        if self.remaining is None or self.reset_at is None:
            return f"{self.bucket}: no rate-limit headers seen yet"
        left = max(0.0, self.reset_at - self.clock())
        return f"{self.bucket}: {self.remaining} of {self.limit} reads left for {left:.0f} s"


@dataclass(eq=False)
class ClientEntry:
    """One connection's client in this process, its users, and its pacers.

    :param conn_id: the connection.
    :param client: the client (its ``before_send`` and ``on_response`` are this entry's).
    :param users: how many triggers (and shared polls) hold it.
    """

    conn_id: str
    client: AsyncAdsApiClient
    users: int = 0
    pacers: dict[str, Pacer] = field(default_factory=dict)

    def pacer(self, bucket: str) -> Pacer:
        """The pacer of a bucket (created on first use).

        :param bucket: the rate-limit bucket.
        """
        pacer = self.pacers.get(bucket)
        if pacer is None:
            pacer = self.pacers[bucket] = Pacer(bucket, self.client.core.clock)
        return pacer

    async def before_send(self, req: PreparedRequest) -> None:
        """Wait for the request's slot in its bucket's budget.

        :param req: the request about to be sent.
        """
        wait = self.pacer(req.bucket).reserve()
        if wait > 0:
            await asyncio.sleep(wait)

    def on_response(
        self, req: PreparedRequest, headers: Mapping[str, Any], now: float, sent_at: float
    ) -> None:
        """Feed a response's headers to its bucket's pacer.

        :param req: the request.
        :param headers: the response headers.
        :param now: our clock when it arrived.
        :param sent_at: our clock when the request left.
        """
        self.pacer(req.bucket).observe(headers, now, sent_at)


class Registry:
    """The clients and shared polls of one event loop."""

    def __init__(self) -> None:
        self.clients: dict[str, ClientEntry] = {}
        self.opening: dict[str, asyncio.Task[ClientEntry]] = {}
        self.groups: dict[tuple[Any, ...], Group] = {}
        self._closing: set[asyncio.Future[None]] = set()

    async def acquire(self, conn_id: str, poll_interval: float) -> ClientEntry:
        """The connection's shared client, one more user counted; release it with :meth:`release`.

        The first caller looks the connection up and builds the client (off the loop); callers arriving
        meanwhile wait for that one lookup. A failed lookup is raised to every waiter and not remembered.

        :param conn_id: the connection.
        :param poll_interval: the caller's poll interval (the new client's keep-alive exceeds it).
        """
        while True:
            entry = self.clients.get(conn_id)
            if entry is not None:
                entry.users += 1
                return entry
            task = self.opening.get(conn_id)
            if task is None:
                task = asyncio.ensure_future(self._open(conn_id, poll_interval))
                self.opening[conn_id] = task
                task.add_done_callback(lambda t: self._opened(conn_id, t))
            await asyncio.shield(task)

    async def _open(self, conn_id: str, poll_interval: float) -> ClientEntry:
        from airflow_provider_twads.hooks.ads_api import AdsApiHook

        client = await AdsApiHook(twitter_ads_conn_id=conn_id).aget_async_client()
        await client.aopen(keepalive_expiry=min(MAX_KEEPALIVE, poll_interval * 1.5 + 5.0))
        entry = ClientEntry(conn_id, client)
        client.before_send = entry.before_send
        client.on_response = entry.on_response
        return entry

    def _opened(self, conn_id: str, task: asyncio.Task[ClientEntry]) -> None:
        self.opening.pop(conn_id, None)
        if task.cancelled() or task.exception() is not None:
            return
        entry = task.result()
        self.clients[conn_id] = entry
        # Should every waiter have been cancelled meanwhile, nobody would release it: check shortly.
        asyncio.get_running_loop().call_later(1.0, self._close_if_unused, entry)

    def _close_if_unused(self, entry: ClientEntry) -> None:
        if entry.users <= 0 and self.clients.get(entry.conn_id) is entry:
            del self.clients[entry.conn_id]
            task = asyncio.ensure_future(entry.client.aclose())
            self._closing.add(task)
            task.add_done_callback(self._closing.discard)

    async def release(self, entry: ClientEntry) -> None:
        """One user fewer; the last one closes the client.

        :param entry: what :meth:`acquire` returned.
        """
        entry.users -= 1
        if entry.users <= 0:
            if self.clients.get(entry.conn_id) is entry:
                del self.clients[entry.conn_id]
            # Shielded: a second cancellation of the caller does not leave the sockets open.
            await asyncio.shield(entry.client.aclose())


_REGISTRIES: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, Registry] = weakref.WeakKeyDictionary()


def registry() -> Registry:
    """The running loop's registry."""
    loop = asyncio.get_running_loop()
    found = _REGISTRIES.get(loop)
    if found is None:
        found = _REGISTRIES[loop] = Registry()
    return found
