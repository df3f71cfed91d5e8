"""Smoke test of ``make bench-report``: the script at tiny sizes prints its figures and writes every row.

Correctness only (never time): ``benchmarks/bench_report.py`` runs as a user runs it, in its own process
with its own emulator; its exit status gates rows, memory and jobs, and its figures must all be there.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = ROOT / "benchmarks" / "bench_report.py"
FIGURES = (
    "rows written:",
    "jobs created:",
    "operator:",
    "operator RSS growth:",
    "baseline (plain loop",
    "operator/baseline rows/s:",
)


@pytest.mark.parametrize(
    ("args", "expected_rows", "floor_jobs"),
    [
        # 21 line items x 4 AGE segments x 46 days: two groups of IDs x two windows (45 days segmented).
        (["--entities", "21", "--days", "46", "--granularity", "DAY"], 21 * 4 * 46, 4),
        # --rows picks the entity count: ceil(2,000 / 48 hours) = 42 line items, unsegmented, 3 jobs.
        (["--rows", "2000", "--days", "2", "--segmentation", "none"], 42 * 48, 3),
    ],
    ids=["day-segmented", "hour-rows"],
)
def test_bench_report_writes_every_row(
    tmp_path: Path, args: list[str], expected_rows: int, floor_jobs: int
) -> None:
    proc = subprocess.run(
        [sys.executable, str(SCRIPT), *args, "--dir", str(tmp_path)],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=300,
    )
    out = proc.stdout
    assert proc.returncode == 0, (out + proc.stderr)[-3000:]
    for figure in FIGURES:
        assert any(line.startswith(figure) for line in out.splitlines()), figure
    (line,) = [x for x in out.splitlines() if x.startswith("RESULT ")]
    result = json.loads(line.removeprefix("RESULT "))
    assert result["expected_rows"] == expected_rows
    assert result["rows"] == result["baseline"]["rows"] == expected_rows
    assert result["jobs_created"] == result["floor_jobs"] == floor_jobs
    assert result["identical_files"] is True
    assert result["verdicts"] == {"rows": True, "memory": True, "jobs": True}
    assert list(tmp_path.iterdir()) == []  # the files written are removed
