"""Shared polls: cursor triggers of one process waiting on the same account and resource, answered together.

Triggers whose filters differ only in one ID filter (``line_item_ids``, ``promoted_tweet_ids``, ...) form
a group with one poller task. Once per interval (the shortest of its members') the poller lists the union
of their IDs, up to 200 per request (the API's limit per ID filter), following every page, and hands each
member the entities that belong to its own IDs; each trigger then evaluates its own condition. Triggers
with other filters share a poll only with triggers whose filters are identical. A member that joins
between two polls is answered by a catch-up poll of the newcomers alone, so a trigger's first answer does
not wait a whole interval; a burst of joins shares that one catch-up poll.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from collections.abc import Mapping, Sequence
from typing import Any

from airflow_provider_twads.api import vocabulary as vocab
from airflow_provider_twads.api.errors import AdsApiError, BadRequestError, NotFoundError, RateLimitError
from airflow_provider_twads.triggers._shared import ClientEntry, Registry

__all__ = ["Group", "Subscription", "subscribe"]

log = logging.getLogger(__name__)

#: For each resource, the ID filters a shared poll may merge, and the entity field each one matches.
SPLIT_FIELDS: dict[str, dict[str, str]] = {
    "campaigns": {"campaign_ids": "id"},
    "line_items": {"line_item_ids": "id", "campaign_ids": "campaign_id"},
    "promoted_tweets": {"promoted_tweet_ids": "id", "line_item_ids": "line_item_id"},
    "targeting_criteria": {"targeting_criterion_ids": "id", "line_item_ids": "line_item_id"},
}
#: Joins within this many seconds share one catch-up poll.
JOIN_DEBOUNCE = 0.05
#: Answers handed out per turn of the loop.
DELIVER_BATCH = 50
#: How often the "polling slower than asked" line may repeat, seconds.
SLOW_LOG_EVERY = 600.0

Answer = list[Mapping[str, Any]] | AdsApiError


class Member:
    """One trigger in a group: its IDs, its interval, and the latest answer for it.

    :param ids: the IDs of the split filter (``None``: the group has no split filter).
    :param interval: the trigger's poll interval.
    """

    __slots__ = ("answer", "answers", "event", "ids", "interval")

    def __init__(self, ids: frozenset[str] | None, interval: float) -> None:
        self.ids = ids
        self.interval = interval
        self.answer: Answer | None = None
        self.answers = 0
        self.event = asyncio.Event()

    def deliver(self, answer: Answer) -> None:
        self.answer = answer
        self.answers += 1
        self.event.set()


class Group:
    """The members of one shared poll and its poller task.

    :param key: the group's key in the registry.
    :param registry: the loop's registry.
    :param entry: the connection's client (the group holds one reference while it polls).
    :param account_id: the ad account.
    :param resource: the list endpoint.
    :param page_size: entities per page.
    :param split: the merged ID filter, or ``None``.
    :param filters: the other filters (identical for every member).
    """

    def __init__(
        self,
        key: tuple[Any, ...],
        registry: Registry,
        entry: ClientEntry,
        account_id: str,
        resource: str,
        page_size: int,
        split: str | None,
        filters: dict[str, Any],
    ) -> None:
        self.key = key
        self.registry = registry
        self.entry = entry
        self.account_id = account_id
        self.resource = resource
        self.page_size = page_size
        self.split = split
        self.field = SPLIT_FIELDS[resource][split] if split else ""
        self.filters = filters
        self.members: dict[int, Member] = {}
        self.joined = asyncio.Event()
        self.rate_limited: str | None = None
        self._slow_logged_at = 0.0
        entry.users += 1
        self.task = asyncio.ensure_future(self._run())

    # -- members ------------------------------------------------------------------------------------------
    def join(self, member: Member) -> None:
        self.members[id(member)] = member
        self.joined.set()

    async def leave(self, member: Member) -> None:
        """Remove a member; the last one stops the poller (which releases the client).

        :param member: the member.
        """
        self.members.pop(id(member), None)
        if not self.members and not self.task.done():
            if self.registry.groups.get(self.key) is self:
                del self.registry.groups[self.key]
            self.task.cancel()
            try:
                await asyncio.shield(self.task)
            except asyncio.CancelledError:
                if not self.task.done():  # the caller itself was cancelled: the task still finishes
                    raise

    # -- polling ------------------------------------------------------------------------------------------
    async def _run(self) -> None:
        try:
            await asyncio.sleep(JOIN_DEBOUNCE)
            while self.members:
                started = time.monotonic()
                self.joined.clear()
                await self._poll(list(self.members.values()))
                interval = min(m.interval for m in self.members.values()) if self.members else 0.0
                took = time.monotonic() - started
                if took > interval * 1.2 and interval > 0:
                    self._log_slow(interval, took)
                due = started + max(interval, took)
                while self.members and (wait := due - time.monotonic()) > 0:
                    try:
                        async with asyncio.timeout(wait):
                            await self.joined.wait()
                    except TimeoutError:
                        break
                    await asyncio.sleep(JOIN_DEBOUNCE)
                    self.joined.clear()
                    newcomers = [m for m in self.members.values() if m.answers == 0]
                    if newcomers:
                        await self._poll(newcomers)
        except asyncio.CancelledError:
            raise
        except Exception as err:  # a bug here must not leave triggers waiting forever
            log.exception("Shared poll of %s failed", self.resource)
            error = AdsApiError(f"Shared poll of {self.resource} failed: {type(err).__name__}: {err}")
            for member in self.members.values():
                member.deliver(error)
        finally:
            if self.registry.groups.get(self.key) is self:
                del self.registry.groups[self.key]
            await self.registry.release(self.entry)

    def _log_slow(self, interval: float, took: float) -> None:
        now = time.monotonic()
        if now - self._slow_logged_at < SLOW_LOG_EVERY:
            return
        self._slow_logged_at = now
        budgets = "; ".join(p.describe() for b, p in self.entry.pacers.items() if f":{self.account_id}:" in b)
        log.warning(
            "Polling %s of account %s every %.0f s instead of every %.0f s for %d waiting sensors: "
            "the read budget cannot cover them at that interval (%s)",
            self.resource,
            self.account_id,
            took,
            interval,
            len(self.members),
            budgets or "no budget announced",
        )

    async def _list(self, ids: Sequence[str] | None) -> list[Mapping[str, Any]]:
        filters = dict(self.filters)
        if self.split and ids is not None:
            filters[self.split] = list(ids)
        cursor = self.entry.client.alist(
            self.resource, account_id=self.account_id, count=self.page_size, **filters
        )
        return [entity async for entity in cursor]

    async def _poll(self, members: list[Member]) -> None:
        """List what ``members`` wait on (in chunks of up to 200 IDs) and answer each of them."""
        if not self.split:
            answer = await self._answer(None)
            if answer is not None:
                for member in members:
                    member.deliver(answer)
            return
        by_id: dict[str, list[Member]] = {}
        for member in members:
            for i in member.ids or ():
                by_id.setdefault(i, []).append(member)
        ids = sorted(by_id)
        chunks = [ids[i : i + vocab.MAX_IDS_PER_FILTER] for i in range(0, len(ids), vocab.MAX_IDS_PER_FILTER)]
        # A member whose IDs span several chunks is answered after its last one.
        pending = {id(m): 0 for m in members}
        parts: dict[int, list[Mapping[str, Any]]] = {id(m): [] for m in members}
        answered: set[int] = set()  # by an error, or by a request of its own
        delivered = 0
        in_chunks = [{id(m): m for i in chunk for m in by_id[i]} for chunk in chunks]
        for in_chunk in in_chunks:
            for key in in_chunk:
                pending[key] += 1
        for chunk, in_chunk in zip(chunks, in_chunks, strict=True):
            answer = await self._answer(chunk)
            if answer is None:
                return  # rate limited: nobody is answered this time
            if isinstance(answer, BadRequestError | NotFoundError) and len(in_chunk) > 1:
                # One trigger's bad input must not fail the others that shared its request: ask alone.
                for key, member in in_chunk.items():
                    if key not in answered:
                        own = await self._answer(sorted(member.ids or ()))
                        if own is None:
                            return
                        answered.add(key)
                        member.deliver(own)
                continue
            if isinstance(answer, AdsApiError):
                for key, member in in_chunk.items():
                    if key not in answered:
                        answered.add(key)
                        member.deliver(answer)
                continue
            index: dict[str, list[Mapping[str, Any]]] = {}
            for entity in answer:
                index.setdefault(str(entity.get(self.field)), []).append(entity)
            for key, member in in_chunk.items():
                if key in answered:
                    continue
                part = parts[key]
                for i in chunk:
                    if member.ids is not None and i in member.ids:
                        part.extend(index.get(i, ()))
                pending[key] -= 1
                if pending[key] == 0:
                    member.deliver(part)
                    delivered += 1
                    if delivered % DELIVER_BATCH == 0:
                        # Each answer wakes a trigger that evaluates and may log: let the loop run
                        # them (and every other task) in slices rather than a thousand in one turn.
                        await asyncio.sleep(0)

    async def _answer(self, ids: Sequence[str] | None) -> Answer | None:
        """The entities for ``ids``, the error to answer with, or ``None`` when rate limited."""
        try:
            entities = await self._list(ids)
        except RateLimitError as err:
            wait = err.reset_in if err.reset_in is not None else (err.retry_after or 60.0)
            self.entry.pacer(err.category or "").hold_until(float(wait))
            self.rate_limited = str(err)
            log.warning("Rate limited listing %s; polling again after the reset: %s", self.resource, err)
            return None
        except AdsApiError as err:
            return err
        self.rate_limited = None
        return entities


class Subscription:
    """A trigger's place in a shared poll: wait for answers, leave when done.

    :param group: the group.
    :param member: the trigger's member.
    """

    def __init__(self, group: Group, member: Member) -> None:
        self.group = group
        self.member = member

    async def next(self, timeout: float) -> Answer | None:
        """The next answer, or ``None`` when ``timeout`` seconds pass first.

        :param timeout: seconds.
        """
        try:
            async with asyncio.timeout(max(0.0, timeout)):
                await self.member.event.wait()
        except TimeoutError:
            return None
        self.member.event.clear()
        # Hand the answer over rather than keep it: entities held from poll to poll would survive into
        # the collector's oldest generation and make its full (loop-stalling) passes more frequent.
        answer, self.member.answer = self.member.answer, None
        return answer

    async def close(self) -> None:
        """Leave the group."""
        await self.group.leave(self.member)


def _freeze(filters: Mapping[str, Any]) -> str:
    return json.dumps(filters, sort_keys=True, default=str)


def subscribe(
    registry: Registry,
    entry: ClientEntry,
    *,
    account_id: str,
    resource: str,
    filters: Mapping[str, Any],
    page_size: int,
    interval: float,
) -> Subscription:
    """Join (or start) the shared poll for these filters.

    :param registry: the loop's registry.
    :param entry: the connection's client.
    :param account_id: the ad account.
    :param resource: the list endpoint.
    :param filters: the trigger's filters.
    :param page_size: entities per page.
    :param interval: the trigger's poll interval.
    """
    split = next((k for k in SPLIT_FIELDS.get(resource, {}) if filters.get(k)), None)
    rest = {k: v for k, v in filters.items() if k != split}
    ids = None
    if split:
        value = filters[split]
        ids = frozenset(str(i).strip() for i in (value.split(",") if isinstance(value, str) else value))
    key = (entry.conn_id, account_id, resource, page_size, split, _freeze(rest))
    group = registry.groups.get(key)
    if group is None or group.task.done():
        group = registry.groups[key] = Group(
            key, registry, entry, account_id, resource, page_size, split, rest
        )
    member = Member(ids, interval)
    group.join(member)
    return Subscription(group, member)
