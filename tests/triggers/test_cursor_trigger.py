"""AdsCursorTrigger run with asyncio against the emulator: JSON kwargs, pages, success, failure, timeout."""

from __future__ import annotations

import asyncio
import json
import time
from typing import Any

import pytest

from airflow_provider_twads.condition import Condition
from airflow_provider_twads.triggers.cursor import AdsCursorTrigger
from twads_emulator import SEED

LINE_ITEM = SEED["line_item_id"]
TWEETS = [str(1_700_000_000_000_000_000 + i) for i in range(5)]


@pytest.fixture
def promoted(emu: Any, client: Any) -> list[dict[str, Any]]:
    emu.admin.set_approval({"mode": "manual"})
    return client.create_promoted_tweets(LINE_ITEM, TWEETS)


def trigger(**kwargs: Any) -> AdsCursorTrigger:
    args: dict[str, Any] = {
        "resource": "promoted_tweets",
        "filters": {"line_item_ids": [LINE_ITEM]},
        "condition": Condition(approval_status="ACCEPTED").to_dict(),
        "poll_interval": 0.05,
        "end_time": time.time() + 30,
        "page_size": 2,
    }
    return AdsCursorTrigger(**{**args, **kwargs})


def first_event(t: AdsCursorTrigger) -> dict[str, Any]:
    async def run() -> dict[str, Any]:
        async for event in t.run():
            return event.payload
        raise AssertionError("no event")

    return asyncio.run(run())


def test_serialize_is_json_and_round_trips():
    t = trigger()
    path, kwargs = t.serialize()
    assert path == "airflow_provider_twads.triggers.cursor.AdsCursorTrigger"
    assert AdsCursorTrigger(**json.loads(json.dumps(kwargs))).serialize() == (path, kwargs)


def test_success_after_several_polls_of_several_pages(emu, promoted):
    emu.admin.set_approval({"status": "ACCEPTED", "after_seconds": 0.4})
    start = max(r["seq"] for r in emu.admin.requests())
    event = first_event(trigger())
    assert event["status"] == "success"
    assert set(event["matched_ids"]) >= {pt["id"] for pt in promoted}
    during = [r for r in emu.admin.requests() if r["seq"] > start]
    assert {r["method"] for r in during} == {"GET"}  # no side effects
    assert len(during) >= 6 and any("cursor" in r["query"] for r in during)  # several polls of 3 pages


def test_terminal_failure_names_the_entity(emu, promoted):
    emu.admin.set_approval({"status": "PENDING", "tweets": {TWEETS[2]: "REJECTED"}})
    event = first_event(trigger())
    rejected = next(pt["id"] for pt in promoted if pt["tweet_id"] == TWEETS[2])
    assert event["status"] == "failure"
    assert event["failed_ids"] == [rejected] and f"{rejected} REJECTED" in event["message"]


def test_timeout(emu, promoted):
    event = first_event(trigger(end_time=time.time() + 0.3))
    assert event["status"] == "timeout"
    assert "Timed out" in event["message"] and "not yet matching" in event["message"]


def test_rate_limited_waits_for_the_reset_then_succeeds(emu, promoted):
    emu.admin.set_approval({"status": "ACCEPTED"})
    emu.admin.set_faults(
        {"script": ["429"], "match": {"method": "GET", "path": "promoted_tweets"}, "retry_after": 1}
    )
    event = first_event(trigger())
    assert event["status"] == "success"
    assert next(r["status"] for r in emu.admin.requests() if r["method"] == "GET") == 429


def test_api_error_is_an_error_event(emu):
    event = first_event(trigger(account_id=SEED["other_account_id"]))
    assert event["status"] == "error" and "403" in event["message"]
