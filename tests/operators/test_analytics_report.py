"""AnalyticsReportOperator against the emulator: rows in files, deferral, reattachment on retry, cancel."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import pytest
from airflow.exceptions import TaskDeferred

from airflow_provider_twads.operators.analytics import AnalyticsReportOperator
from twads_emulator import SEED

LI = SEED["line_item_id"]


def op(tmp_path: Path, **kwargs: Any) -> AnalyticsReportOperator:
    args: dict[str, Any] = {
        "task_id": "report",
        "entity_ids": [LI],
        "start_time": "2024-05-01T07:00:00Z",
        "end_time": "2024-05-03T07:00:00Z",
        "metric_groups": ["ENGAGEMENT"],
        "output_path": f"file://{tmp_path}",
        "poll_interval": 0.1,
    } | kwargs
    return AnalyticsReportOperator(**args)


def creations(emu: Any) -> int:
    return sum(
        1
        for r in emu.admin.requests()
        if r["method"] == "POST" and "/stats/jobs/" in r["path"] and r["status"] == 200
    )


def test_writes_jsonl_rows_per_entity_and_day(emu: Any, execute: Any, tmp_path: Path) -> None:
    emu.admin.set_jobs(processing_seconds=0.2)
    (path,) = execute(op(tmp_path, deferrable=False))
    lines = [json.loads(x) for x in Path(path.removeprefix("file://")).read_text().splitlines()]
    assert [r["time"] for r in lines] == ["2024-05-01T07:00:00Z", "2024-05-02T07:00:00Z"]
    assert lines[0]["entity_id"] == LI and lines[0]["impressions"] > 0


def test_retry_after_deferral_reattaches_instead_of_creating(emu: Any, execute: Any, tmp_path: Path) -> None:
    emu.admin.set_jobs(processing_seconds=0.5)
    with pytest.raises(TaskDeferred) as deferred:
        execute(op(tmp_path, deferrable=True))
    assert creations(emu) == 1
    time.sleep(0.6)
    paths = execute(op(tmp_path, deferrable=True, output_format="csv"))  # the retry: done by now
    assert creations(emu) == 1 and len(paths) == 1
    assert Path(paths[0].removeprefix("file://")).read_text().startswith("entity_id,segment,time")
    assert deferred.value.trigger.serialize()[1]["job_ids"]


def test_too_many_jobs_waits_and_on_kill_cancels(emu: Any, execute: Any, tmp_path: Path) -> None:
    emu.admin.set_jobs(concurrent_limit=1, processing_seconds=0.3)
    ids = [f"li{i}" for i in range(21)]  # two jobs, one slot: the second waits for the first
    task = op(tmp_path, entity_ids=ids, deferrable=False)
    assert len(execute(task)) == 2 and creations(emu) == 2
    emu.admin.set_jobs(concurrent_limit=5, processing_seconds=60)
    with pytest.raises(TaskDeferred):
        execute(op(tmp_path, deferrable=True, end_time="2024-05-02T07:00:00Z"))
    killed = op(tmp_path, deferrable=True, end_time="2024-05-02T07:00:00Z")
    with pytest.raises(TaskDeferred):
        execute(killed)  # reattaches
    killed.on_kill()
    assert killed.client.list_stats_jobs(killed._job_ids) == []


def test_on_kill_leaves_finished_jobs_for_the_next_try(emu: Any, execute: Any, tmp_path: Path) -> None:
    """Killed while writing: the finished jobs keep their files, so the next try reattaches, not recreates."""
    emu.admin.set_jobs(processing_seconds=0)
    task = op(tmp_path, deferrable=False)
    execute(task)
    task.on_kill()
    assert [j["status"] for j in task.client.list_stats_jobs(task._job_ids)] == ["SUCCESS"]
    assert not [r for r in emu.admin.requests() if r["method"] == "DELETE"]
    execute(op(tmp_path, deferrable=False))
    assert creations(emu) == 1


def trigger_event(deferred: TaskDeferred) -> dict[str, Any]:
    """Run the deferral's trigger to its one event, in an event loop, against the emulator."""
    import asyncio

    async def first() -> dict[str, Any]:
        (payload,) = [event.payload async for event in deferred.trigger.run()]  # exactly one event
        return payload

    return asyncio.run(first())


def test_a_full_account_is_waited_out_in_the_triggerer(emu: Any, execute: Any, tmp_path: Path) -> None:
    """Deferrable: no worker sleeps for a slot; the task defers until one frees, then creates the rest."""
    emu.admin.set_jobs(concurrent_limit=1, processing_seconds=0.3)
    task = op(tmp_path, entity_ids=[f"li{i}" for i in range(21)], deferrable=True)  # two jobs, one slot

    with pytest.raises(TaskDeferred) as waiting:
        execute(task)
    assert waiting.value.method_name == "execute_after_slot"
    assert waiting.value.trigger.until_slot and len(waiting.value.trigger.job_ids) == 1
    assert creations(emu) == 1
    event = trigger_event(waiting.value)
    assert event == {"status": "slot"}

    with pytest.raises(TaskDeferred) as processing:
        task.execute_after_slot({}, event)  # reattaches to the first job, creates the second
    assert not processing.value.trigger.until_slot and len(processing.value.trigger.job_ids) == 2
    paths = task.execute_complete({}, trigger_event(processing.value))

    assert len(paths) == 2 and creations(emu) == 2
    assert too_many_jobs_answers(emu) == 0


def serving(emu: Any, n: int) -> list[str]:
    """``n`` new line items that served through May 2024 (so that every job has rows)."""
    created = "2024-04-01T00:00:00Z"
    emu.admin.seed_line_items(SEED["empty_campaign_id"], n, entity_status="ACTIVE", created_at=created)
    return sorted(
        li["id"] for li in emu.admin.state("line_items")["line_items"] if li["created_at"] == created
    )


def rows_of(paths: list[str]) -> list[dict[str, Any]]:
    return [
        json.loads(line) for p in paths for line in Path(p.removeprefix("file://")).read_text().splitlines()
    ]


def too_many_jobs_answers(emu: Any) -> int:
    return sum(
        1
        for r in emu.admin.requests()
        if r["method"] == "POST" and "/stats/jobs/" in r["path"] and r["status"] == 400
    )


def test_creation_is_paced_by_the_concurrent_job_headers(
    emu: Any, execute: Any, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    emu.admin.set_jobs(concurrent_limit=2, processing_seconds=0.3)
    ids = serving(emu, 61)  # four jobs, two slots
    paths = execute(op(tmp_path, entity_ids=ids, deferrable=False))
    assert too_many_jobs_answers(emu) == 0 and creations(emu) == 4
    got = rows_of(paths)
    assert len(got) == 61 * 2 and {r["entity_id"] for r in got} == set(ids)
    assert (
        "2 of 4 jobs created; the account's concurrent-job limit (2 at once) is full"
        in capsys.readouterr().out
    )


def test_too_many_jobs_from_another_writer_is_waited_out(emu: Any, execute: Any, tmp_path: Path) -> None:
    import threading

    emu.admin.set_jobs(concurrent_limit=1, processing_seconds=0.3)
    ids = serving(emu, 50)
    results: dict[str, list[str]] = {}

    def run(name: str, ids: list[str]) -> None:
        results[name] = execute(op(tmp_path / name, task_id=name, entity_ids=ids, deferrable=False))

    writers = [threading.Thread(target=run, args=(name, ids[i::2])) for i, name in enumerate(("a", "b"))]
    for w in writers:
        w.start()
    for w in writers:
        w.join(60)
    # Both saw a free slot at times and raced for it: whoever lost got TOO_MANY_JOBS and waited.
    assert {n: len(rows_of(p)) for n, p in results.items()} == {"a": 50, "b": 50}
    assert creations(emu) == 4


def test_expired_jobs_are_not_reattached(emu: Any, execute: Any, tmp_path: Path) -> None:
    emu.admin.set_jobs(processing_seconds=0.1, expiry_seconds=60)  # within the margin: as good as gone
    execute(op(tmp_path, deferrable=False))
    (path,) = execute(op(tmp_path, deferrable=False))
    assert creations(emu) == 2 and len(rows_of([path])) == 2
    emu.admin.set_jobs(expiry_seconds=2 * 86400)
    assert execute(op(tmp_path, deferrable=False)) == [path]  # a live file: reattached
    assert creations(emu) == 2


def test_a_download_cut_off_midway_starts_over_without_duplicates(
    emu: Any, execute: Any, tmp_path: Path
) -> None:
    emu.admin.set_jobs(processing_seconds=0.1)
    ids = serving(emu, 20)
    emu.admin.set_faults({"script": ["drop", "500"], "match": {"path": "/_emulator/files/"}})
    (path,) = execute(op(tmp_path, entity_ids=ids, end_time="2024-05-08T07:00:00Z", deferrable=False))
    got = rows_of([path])
    assert len(got) == 20 * 7 == len({(r["entity_id"], r["time"]) for r in got})
    assert emu.admin.state("campaigns")["faults"]["injected"] == {"drop": 1, "500": 1}
