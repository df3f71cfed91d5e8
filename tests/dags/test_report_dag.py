"""The daily report example end to end: `airflow dags test twads_daily_report` against the session emulator,
then the files it wrote checked against the synchronous stats of the same window."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from tests.dags.test_launch_dag import run_dag

pytestmark = pytest.mark.airflow_db

# 2026-11-30T00:00Z is still 2026-11-29 in the seeded account's time zone (America/Los_Angeles): the
# report covers its 7 whole days before that, 2026-11-22 to 2026-11-28.
LOGICAL_DATE = "2026-11-30"
START, END = "2026-11-22T08:00:00Z", "2026-11-29T08:00:00Z"


def test_daily_report_writes_the_last_7_days_of_every_active_line_item(
    emu: Any, client: Any, airflow_db: Path, tmp_path: Path
) -> None:
    from airflow_provider_twads.api.analytics_jobs import rows

    emu.admin.set_jobs(processing_seconds=0)
    active = sorted({e["entity_id"] for e in client.active_entities("LINE_ITEM", START, END)})
    assert active, "the seeded account has line items serving in the window"

    run = run_dag(emu, "twads_daily_report", LOGICAL_DATE, conf={"output_folder": str(tmp_path)})

    assert run.returncode == 0, run.stdout[-4000:] + run.stderr[-4000:]
    folder = tmp_path / "report_date=2026-11-28"
    files = sorted(folder.glob("stats_job_*.jsonl"))
    created = [j for j in client.list_stats_jobs() if j.get("status") == "SUCCESS"]
    assert len(files) == len(created) == -(-len(active) // 20), "one file per job, the fewest jobs"
    written = [json.loads(line) for f in files for line in f.read_text().splitlines()]

    # The same window through the synchronous endpoint, flattened the same way: the numbers must agree.
    expected: list[dict[str, Any]] = []
    for i in range(0, len(active), 20):
        chunk = active[i : i + 20]
        sync = client.get_stats(
            "LINE_ITEM", chunk, START, END, metric_groups=["ENGAGEMENT", "BILLING"], granularity="DAY"
        )
        job = {"start_time": START, "granularity": "DAY", "placement": "ALL_ON_TWITTER"}
        expected.extend(rows(job, sync["data"], "America/Los_Angeles"))

    def key(row: dict[str, Any]) -> tuple[str, str]:
        return row["entity_id"], row["time"]

    assert len(written) == len(active) * 7
    assert sorted(written, key=key) == sorted(expected, key=key)
    assert sum(r["impressions"] or 0 for r in written) > 0
    out = run.stdout + run.stderr
    assert f"'rows': {len(written)}" in out and f"'line_items': {len(active)}" in out, "summarize logged it"


def test_daily_report_is_skipped_when_nothing_was_active(
    emu: Any, client: Any, airflow_db: Path, tmp_path: Path
) -> None:
    """An account whose line items are all deleted (deleted ones never served): nothing to report, no job,
    and the run still succeeds."""
    for item in list(client.list_line_items()):
        client.delete_line_item(item["id"])
    assert not client.active_entities("LINE_ITEM", START, END)
    seq = max((r["seq"] for r in emu.admin.requests()), default=0)

    run = run_dag(emu, "twads_daily_report", LOGICAL_DATE, conf={"output_folder": str(tmp_path)})

    assert run.returncode == 0, run.stdout[-4000:] + run.stderr[-4000:]
    assert "no line item had activity" in run.stdout + run.stderr, run.stdout[-6000:]
    assert not [r for r in emu.admin.requests(seq) if "/stats/jobs/" in r["path"]]
    assert not list(tmp_path.iterdir())
