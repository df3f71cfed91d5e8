"""AnalyticsJobsTrigger.run() in an event loop against the emulator: success, a FAILED job, an error, and
the jobs cancelled when the deferred task is killed (never when the triggerer only restarts)."""

from __future__ import annotations

import asyncio
import json
from types import SimpleNamespace
from typing import Any

import pytest

from airflow_provider_twads.api.analytics_jobs import JobsQuery
from airflow_provider_twads.triggers import analytics
from airflow_provider_twads.triggers.analytics import AnalyticsJobsTrigger
from twads_emulator import SEED

LI = SEED["line_item_id"]


def create_jobs(client: Any, n: int) -> list[str]:
    query = JobsQuery.build(
        "LINE_ITEM", [LI], "2024-05-01T07:00:00Z", "2024-05-01T10:00:00Z",
        metric_groups="ENGAGEMENT", granularity="HOUR",
    )  # fmt: skip
    (params,) = client.plan_stats_jobs(query)
    return [str(client.create_stats_job(params)["id_str"]) for _ in range(n)]


def trigger(job_ids: list[str], **kwargs: Any) -> AnalyticsJobsTrigger:
    return AnalyticsJobsTrigger(job_ids=job_ids, poll_interval=0.05, **kwargs)


def first_event(t: AnalyticsJobsTrigger) -> dict[str, Any]:
    async def run() -> dict[str, Any]:
        events = [event.payload async for event in t.run()]
        assert len(events) == 1
        return events[0]

    return asyncio.run(run())


def jobs_requests(emu: Any, since: int, method: str) -> list[dict[str, Any]]:
    return [
        r
        for r in emu.admin.requests()
        if r["seq"] > since and r["method"] == method and "/stats/jobs/" in r["path"]
    ]


def last_seq(emu: Any) -> int:
    return max((r["seq"] for r in emu.admin.requests()), default=0)


def test_serialize_is_json_and_round_trips() -> None:
    path, kwargs = trigger(["1", "2"], account_id="abc").serialize()
    assert path == "airflow_provider_twads.triggers.analytics.AnalyticsJobsTrigger"
    assert AnalyticsJobsTrigger(**json.loads(json.dumps(kwargs))).serialize() == (path, kwargs)


def test_one_success_event_once_the_jobs_have_processed(emu: Any, client: Any) -> None:
    emu.admin.set_jobs(processing_seconds=60)
    ids = create_jobs(client, 2)
    start = last_seq(emu)

    async def scenario() -> dict[str, Any]:
        task = asyncio.ensure_future(asyncio.to_thread(first_event, trigger(ids)))
        while not jobs_requests(emu, start, "GET"):  # a first poll saw them unfinished
            await asyncio.sleep(0.05)
        emu.admin.set_jobs(processing_seconds=0)  # now they are done
        return await task

    event = asyncio.run(scenario())
    assert event["status"] == "success"
    assert sorted(j["id_str"] for j in event["jobs"]) == sorted(ids)
    assert all(j["status"] == "SUCCESS" and j["url"] for j in event["jobs"])
    assert len(jobs_requests(emu, start, "GET")) >= 2
    assert {r["method"] for r in emu.admin.requests() if r["seq"] > start} == {"GET"}  # no side effects


def test_until_slot_fires_when_another_writers_job_frees_the_account(emu: Any, client: Any) -> None:
    """No job of its own: the trigger watches the account's budget (the jobs listing's headers)."""
    emu.admin.set_jobs(concurrent_limit=1, processing_seconds=0.4)
    create_jobs(client, 1)  # another writer fills the account
    since = last_seq(emu)
    assert first_event(trigger([], until_slot=True)) == {"status": "slot"}
    assert len(jobs_requests(emu, since, "GET")) >= 2, "it waited for the slot, polling"
    assert not jobs_requests(emu, since, "POST"), "a trigger never creates jobs"


def test_a_failed_job_is_a_failed_event(emu: Any, client: Any) -> None:
    emu.admin.set_jobs(processing_seconds=0.2)
    ids = create_jobs(client, 2)
    emu.admin.set_jobs(fail_jobs=[ids[1]])
    event = first_event(trigger(ids))
    assert event["status"] == "failed" and f"{ids[1]} is FAILED" in event["message"]
    assert {j["id_str"]: j["status"] for j in event["jobs"]}[ids[1]] == "FAILED"


def test_an_api_error_is_an_error_event(emu: Any, client: Any) -> None:
    ids = create_jobs(client, 1)
    event = first_event(trigger(ids, account_id=SEED["other_account_id"]))
    assert event["status"] == "error" and "403" in event["message"]


def test_an_unknown_connection_is_an_error_event(emu: Any) -> None:
    event = first_event(trigger(["1"], twitter_ads_conn_id="no_such_connection"))
    assert event["status"] == "error" and "Could not start polling" in event["message"]


async def poll_then_cancel(t: AnalyticsJobsTrigger) -> None:
    """Start the trigger as the triggerer does, let it poll, then cancel its task (a kill or a restart)."""

    async def consume() -> None:
        async for _ in t.run():
            raise AssertionError("no event expected")

    task = asyncio.ensure_future(consume())
    await asyncio.sleep(0.3)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task


def listed(client: Any, ids: list[str]) -> list[str]:
    return [j["id_str"] for j in client.list_stats_jobs(ids)]


def test_on_kill_cancels_the_unfinished_jobs(emu: Any, client: Any) -> None:
    """Airflow 3.3 on: the triggerer calls on_kill() only when the user killed the task."""
    emu.admin.set_jobs(processing_seconds=60)
    ids = create_jobs(client, 2)
    t = trigger(ids)

    async def scenario() -> None:
        await poll_then_cancel(t)
        if analytics.airflow_calls_trigger_on_kill():
            assert listed(client, ids) == ids[::-1]  # the cancellation alone cancels nothing
        await t.on_kill()

    start = last_seq(emu)
    asyncio.run(scenario())
    assert listed(client, ids) == []
    assert sorted(r["path"].rsplit("/", 1)[-1] for r in jobs_requests(emu, start, "DELETE")) == sorted(ids)
    assert all(r["status"] == 200 for r in jobs_requests(emu, start, "DELETE"))


def fake_states(monkeypatch: pytest.MonkeyPatch, answer: Any) -> None:
    """Stand in for the supervisor's answer to GetTaskStates (the only part that needs a live Airflow)."""
    from airflow.sdk.execution_time.task_runner import RuntimeTaskInstance

    def get_task_states(**kwargs: Any) -> dict[str, Any]:
        if isinstance(answer, Exception):
            raise answer
        assert kwargs == {"dag_id": "daily", "task_ids": ["report"], "run_ids": ["run1"], "map_index": 3}
        return {"run1": {"report_3": answer}}

    monkeypatch.setattr(RuntimeTaskInstance, "get_task_states", staticmethod(get_task_states))
    monkeypatch.setattr(analytics, "airflow_calls_trigger_on_kill", lambda: False)


@pytest.mark.parametrize(
    ("state", "cancelled"),
    [
        ("failed", True),  # marked failed
        (None, True),  # cleared
        ("success", True),  # marked succeeded
        ("deferred", False),  # a triggerer restart or a move to another triggerer
        (RuntimeError("no supervisor"), False),  # the state cannot be read: leave the jobs running
    ],
)
def test_before_3_3_cancel_only_when_the_task_is_no_longer_deferred(
    emu: Any, client: Any, monkeypatch: pytest.MonkeyPatch, state: Any, cancelled: bool
) -> None:
    emu.admin.set_jobs(processing_seconds=60)
    ids = create_jobs(client, 2)
    fake_states(monkeypatch, state)
    t = trigger(ids)
    t.task_instance = SimpleNamespace(dag_id="daily", task_id="report", run_id="run1", map_index=3)  # type: ignore[assignment]
    asyncio.run(poll_then_cancel(t))
    assert listed(client, ids) == ([] if cancelled else ids[::-1])


def test_the_decision_needs_a_known_state() -> None:
    assert analytics.killed("failed") and analytics.killed(None) and analytics.killed("up_for_retry")
    assert not analytics.killed("deferred") and not analytics.killed(analytics.UNKNOWN)
