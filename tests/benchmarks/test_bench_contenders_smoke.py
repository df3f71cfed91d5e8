"""Smoke test of ``make bench``: every contender, on tiny workloads, leaves the right state in the emulator.

Correctness only (never time): the same harness as ``benchmarks/run_all.py`` prepares each workload on
the session emulator, runs the contender in this process, counts its calls from the request log and
checks the state. The floor's call counts are asserted exactly: they are the reference the benchmark
compares everything with.
"""

from __future__ import annotations

import importlib.util
import math
import sys
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from benchmarks import harness  # noqa: E402
from benchmarks.contenders import workloads as w  # noqa: E402

TINY: dict[str, Any] = {
    "targeting_line_items": 2,
    "criteria_per_line_item": 30,
    "promote_tweets": 60,
    "create_line_items": 45,
    "list_line_items": 2_100,
    "launch_criteria": 30,
    "launch_tweets": 60,
}
# One wait of about a second for the 4 writes of the launch (the SDK sleeps 5 s more after its 429).
TINY_LIMITS: dict[str, tuple[int, int]] = {"writes": (3, 1)}

_NEEDS_SDK = pytest.mark.skipif(
    importlib.util.find_spec("twitter_ads") is None,
    reason="the twitter-ads SDK is in the bench extra (pip install -e '.[bench]')",
)


def floor_calls(workload: str, job: dict[str, Any]) -> int:
    """The fewest calls each workload needs (what the floor must make)."""
    if workload == w.TARGETING:
        return math.ceil(len(job["line_item_ids"]) * job["per_line_item"] / w.TARGETING_BATCH_MAX)
    if workload == w.PROMOTE:
        return math.ceil(len(job["tweet_ids"]) / w.TWEET_IDS_PER_POST)
    if workload == w.CREATE_LINE_ITEMS:
        return math.ceil(job["count"] / w.LINE_ITEM_BATCH_MAX)
    if workload == w.LIST_LINE_ITEMS:
        return math.ceil(job["expected"] / w.PAGE_SIZE_MAX)
    return (
        1
        + math.ceil(job["criteria"] / w.TARGETING_BATCH_MAX)
        + math.ceil(len(job["tweet_ids"]) / w.TWEET_IDS_PER_POST)
    )


def emu_account(emu: Any) -> str:
    return harness.conn_for(emu).account_id


def run(emu: Any, workload: str, contender: str, cache: dict[str, Any] | None = None) -> dict[str, Any]:
    return harness.run_one(
        workload, contender, emu, TINY, {} if cache is None else cache, harness.in_process_runner, TINY_LIMITS
    )


PLAIN = [w.TARGETING, w.PROMOTE, w.CREATE_LINE_ITEMS, w.LIST_LINE_ITEMS, w.LAUNCH_FREE, w.LAUNCH_LIMITED]


@pytest.mark.parametrize("workload", PLAIN)
def test_floor_makes_the_fewest_calls_and_the_right_state(emu: Any, workload: str) -> None:
    result = run(emu, workload, "floor")
    assert result["error"] is None
    assert result["ok"], result["detail"]
    assert result["duplicates"] == 0
    job = harness.prepare(workload, emu, TINY, {})  # the same job again, for the expected count
    assert result["calls"] == floor_calls(workload, job)
    assert result["statuses"] == {}  # paced on the headers: no 429 even under the tiny limits


@_NEEDS_SDK
@pytest.mark.parametrize(
    "workload", [w.TARGETING, w.PROMOTE, w.CREATE_LINE_ITEMS, w.LIST_LINE_ITEMS, w.LAUNCH_FREE]
)
def test_sdk_contender_produces_the_right_state(emu: Any, workload: str) -> None:
    result = run(emu, workload, "sdk")
    assert result["error"] is None
    assert result["ok"], result["detail"]
    assert result["duplicates"] == 0
    # The SDK's account lookup (GET accounts/:id) comes on top of the API's minimum.
    assert result["calls_by_endpoint"].get("GET accounts") == 1


@pytest.mark.parametrize(
    "workload", [w.TARGETING, w.PROMOTE, w.CREATE_LINE_ITEMS, w.LIST_LINE_ITEMS, w.LAUNCH_LIMITED]
)
def test_provider_hook_contender_produces_the_right_state(emu: Any, workload: str) -> None:
    result = run(emu, workload, "provider")
    assert result["error"] is None, result["error"]
    assert result["ok"], result["detail"]
    assert result["duplicates"] == 0
    assert "429" not in result["statuses"]


@pytest.mark.parametrize(
    "workload", [w.TARGETING, w.PROMOTE, w.CREATE_LINE_ITEMS, w.LAUNCH_LIMITED, w.LAUNCH_FAULTS]
)
def test_provider_operators_contender_produces_the_right_state(emu: Any, workload: str) -> None:
    result = run(emu, workload, "provider_ops")
    assert result["error"] is None, result["error"]
    assert result["ok"], result["detail"]
    assert result["duplicates"] == 0


def test_faulty_launch_floor_resends_and_duplicates(emu: Any) -> None:
    """The floor re-sends after "commit then drop" and creates a second line item (what the table shows)."""
    result = run(emu, w.LAUNCH_FAULTS, "floor")
    assert result["error"] is None
    assert result["duplicates"] >= 1
    assert result["statuses"].get("commit_then_drop", 0) >= 1


def test_faulty_launch_hook_client_refuses_to_resend_an_ambiguous_write(emu: Any) -> None:
    """The bare client raises on the dropped line item POST rather than re-sending it (no duplicate)."""
    result = run(emu, w.LAUNCH_FAULTS, "provider")
    assert result["error"] is not None and result["error"].startswith("AmbiguousWriteError")
    assert result["duplicates"] == 0


def test_listing_is_seeded_once_and_reused(emu: Any) -> None:
    cache: dict[str, Any] = {}
    first = harness.prepare(w.LIST_LINE_ITEMS, emu, TINY, cache)
    again = harness.prepare(w.LIST_LINE_ITEMS, emu, TINY, cache)
    assert first == again and first["expected"] >= TINY["list_line_items"]
    listable = [
        li
        for li in emu.admin.state("line_items")["line_items"]
        if li["account_id"] == emu_account(emu) and not li["deleted"] and li["entity_status"] != "DRAFT"
    ]
    assert len(listable) == first["expected"]


def test_pacing_minimum_counts_full_windows_of_the_slowest_category() -> None:
    limits = {"writes": (2, 10), "core_reads": (5, 10)}
    # 4 writes at 2 per window: one full window of waiting; 3 line-item reads fit in one window.
    assert harness.pacing_minimum({"writes": 4, "core_reads:line_items": 3}, limits) == 10
    assert harness.pacing_minimum({"writes": 5}, limits) == 20
    assert harness.pacing_minimum({"targeting_criteria": 9}, limits) == 0  # not limited here


def test_minimum_time_replays_the_calls_under_the_windows() -> None:
    calls = [
        ["POST", "/12/accounts/a/line_items", 0.0],
        ["POST", "/12/batch/accounts/a/targeting_criteria", 0.03],
        ["POST", "/12/accounts/a/promoted_tweets", 1.0],
        ["POST", "/12/accounts/a/promoted_tweets", 1.05],
    ]
    # Two writes per 10 s: the third write starts when the first window ends, then takes 0.05 s, and the
    # fourth (0.05 s) fits in the second window.
    assert harness.minimum_time(calls, 1.1, {"writes": (2, 10)}) == pytest.approx(10.1)
    assert harness.minimum_time(calls, 1.1, {}) == pytest.approx(1.1)
