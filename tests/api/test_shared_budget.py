"""One write budget shared by several worker processes: every worker finishes (issue 11).

The short version of ``benchmarks/bench_shared_budget.py``: 3 spawned processes, each with its own client
and the default retry policy, share 2 writes per 2 s on the session's emulator. More 429s in a row than
``max_attempts`` are normal here; none may fail a worker. Time is printed by the benchmark, never asserted.
"""

from __future__ import annotations

import importlib
import sys
from pathlib import Path
from typing import Any

import pytest

BENCHMARKS = str(Path(__file__).resolve().parents[2] / "benchmarks")


def _bench() -> Any:
    # Imported by name: the spawned workers import the same module to find their target function.
    if BENCHMARKS not in sys.path:
        sys.path.insert(0, BENCHMARKS)
    return importlib.import_module("bench_shared_budget")


@pytest.mark.timeout(300)
def test_three_workers_sharing_a_small_write_budget_all_finish(emu: Any) -> None:
    result = _bench().run(emu.base_url, emu.admin, workers=3, writes=(3, 4), limit=2, window=2)
    assert result.failed == []
    assert result.rate_limited > 0  # they did contend for the budget
    writes = [r for r in emu.admin.requests() if r["method"] == "PUT" and r["status"] == 200]
    assert len(writes) == result.writes
