"""Many cursor triggers in one loop, as the triggerer runs them: shared requests, one client, paced budget."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable
from typing import Any

import pytest

from airflow_provider_twads.condition import Condition
from airflow_provider_twads.triggers._shared import registry
from airflow_provider_twads.triggers.cursor import AdsCursorTrigger
from twads_emulator import SEED

LINE_ITEM = SEED["line_item_id"]
TWEETS = [str(1_710_000_000_000_000_000 + i) for i in range(4)]


@pytest.fixture
def promoted(emu: Any, client: Any) -> list[dict[str, Any]]:
    emu.admin.set_approval({"mode": "manual"})
    return client.create_promoted_tweets(LINE_ITEM, TWEETS)


def trigger(ids: list[str], **kwargs: Any) -> AdsCursorTrigger:
    args: dict[str, Any] = {
        "resource": "promoted_tweets",
        "filters": {"promoted_tweet_ids": ids, "with_deleted": True},
        "condition": Condition(approval_status="ACCEPTED").to_dict(),
        "poll_interval": 0.2,
        "end_time": time.time() + 20,
        "page_size": 1000,
    }
    return AdsCursorTrigger(**{**args, **kwargs})


async def first_event(t: AdsCursorTrigger) -> dict[str, Any]:
    async for event in t.run():
        return dict(event.payload)
    raise AssertionError("no event")


def gets(emu: Any, since: int = 0) -> list[dict[str, Any]]:
    return [r for r in emu.admin.requests(since) if r["method"] == "GET" and "promoted_tweets" in r["path"]]


def test_two_triggers_are_answered_by_one_request(emu, promoted):
    emu.admin.set_approval({"status": "ACCEPTED"})
    ids = [pt["id"] for pt in promoted]

    async def both() -> list[dict[str, Any]]:
        return list(await asyncio.gather(first_event(trigger(ids[:2])), first_event(trigger(ids[2:]))))

    first, second = asyncio.run(both())
    assert first["status"] == second["status"] == "success"
    assert sorted(first["matched_ids"]) == sorted(ids[:2])  # each trigger sees only its own part
    assert sorted(second["matched_ids"]) == sorted(ids[2:])
    (request,) = gets(emu)  # one list request answered both
    assert set(request["query"]["promoted_tweet_ids"].split(",")) == set(ids)


def test_a_met_condition_fires_while_siblings_keep_waiting(emu, promoted):
    ids = [pt["id"] for pt in promoted]
    emu.admin.set_approval({"status": "PENDING", "tweets": {TWEETS[0]: "ACCEPTED"}})

    async def run() -> tuple[dict[str, Any], bool]:
        waiting = asyncio.ensure_future(first_event(trigger(ids[1:])))
        done = await first_event(trigger(ids[:1]))
        still_waiting = not waiting.done()
        waiting.cancel()
        return done, still_waiting

    done, still_waiting = asyncio.run(run())
    assert done["status"] == "success" and done["matched_ids"] == [ids[0]]
    assert still_waiting


def test_the_last_user_closes_the_shared_client_on_cancel(emu, promoted):
    ids = [pt["id"] for pt in promoted]

    async def run() -> tuple[int, Any, Any]:
        tasks = [asyncio.ensure_future(first_event(trigger([i]))) for i in ids]
        while not gets(emu):
            await asyncio.sleep(0.05)
        shared = registry()
        (entry,) = shared.clients.values()  # one client for the connection, whoever uses it
        users = entry.users
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        return users, entry, shared

    users, entry, shared = asyncio.run(run())
    assert users == len(ids) + 1  # the triggers and their one shared poll
    assert entry.users == 0 and entry.client._http is None  # closed by the last one to leave
    assert not shared.clients and not shared.groups


def test_a_bad_trigger_does_not_fail_its_siblings(emu, promoted):
    emu.admin.set_approval({"status": "ACCEPTED"})
    good = promoted[0]["id"]

    async def both() -> list[dict[str, Any]]:
        return list(await asyncio.gather(first_event(trigger([good])), first_event(trigger(["not an id!"]))))

    ok, bad = asyncio.run(both())
    assert ok["status"] == "success" and ok["matched_ids"] == [good]
    assert bad["status"] == "error"


def test_the_read_budget_is_paced_and_spread_not_spent(emu, promoted, caplog):
    """A low read limit (12 per 4 s): fast polls slow down to the budget, with no 429 and no stampede."""
    emu.admin.set_rate_limits({"core_reads": {"limit": 12, "window": 4}})
    ids = [pt["id"] for pt in promoted]
    # Two shapes of filters on the same account and endpoint: two shared polls, one budget.
    triggers = [trigger([i], poll_interval=0.05, end_time=time.time() + 9) for i in ids] + [
        trigger([i], poll_interval=0.05, end_time=time.time() + 9, filters={"promoted_tweet_ids": [i]})
        for i in ids
    ]

    async def run() -> list[dict[str, Any]]:
        return list(await asyncio.gather(*(first_event(t) for t in triggers)))

    with caplog.at_level("WARNING"):
        events = asyncio.run(run())
    assert {e["status"] for e in events} == {"timeout"}
    log = gets(emu)
    assert [r for r in log if r["status"] == 429] == []
    assert len(log) >= 12  # it kept polling through the windows
    per_second: dict[int, int] = {}
    for r in log:
        per_second[int(r["time"])] = per_second.get(int(r["time"]), 0) + 1
    assert max(per_second.values()) <= 6, per_second  # spread over the window, not all at the reset
    assert any("instead of every" in r.getMessage() for r in caplog.records)


def test_200_triggers_starting_together_do_not_stall_the_loop(emu):
    """A ticker measures how late the loop wakes it while 200 triggers start and poll."""
    ids = [f"nope{i}" for i in range(200)]

    async def ticker(lateness: list[float], stop: asyncio.Event) -> None:
        while not stop.is_set():
            before = time.perf_counter()
            await asyncio.sleep(0.01)
            lateness.append(time.perf_counter() - before - 0.01)

    async def run() -> tuple[list[float], list[dict[str, Any]]]:
        lateness: list[float] = []
        stop = asyncio.Event()
        tick = asyncio.ensure_future(ticker(lateness, stop))
        await asyncio.sleep(0.05)
        runs: list[Awaitable[dict[str, Any]]] = [
            first_event(trigger([i], poll_interval=0.5, end_time=time.time() + 2.5)) for i in ids
        ]
        events = await asyncio.gather(*runs)
        stop.set()
        await tick
        return lateness, list(events)

    lateness, events = asyncio.run(run())
    assert {e["status"] for e in events} == {"timeout"}
    assert max(lateness) < 0.2, max(lateness)
    log = gets(emu)
    assert 1 <= len(log) <= 8  # one request per poll for all 200 (ceil(200 / 200) = 1)
