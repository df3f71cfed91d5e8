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
