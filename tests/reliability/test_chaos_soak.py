"""The chaos soak in the test suite: the launch DAG's tasks under random faults, retries and rollbacks.

The same engine as ``make soak`` (``benchmarks/soak.py``), on the session emulator, with fewer runs. Each
run executes the real operators of ``dags_examples/twads_campaign_launch.py`` in-process, with Airflow's
retry semantics, and the emulator's state is checked after each run.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from benchmarks import soak  # noqa: E402

RUNS = 18  # three times round the six fault kinds of the scripted first-write fault


@pytest.fixture(scope="module")
def launch() -> soak.Launch:
    return soak.Launch.load()


@pytest.mark.timeout(300)
def test_launch_soak_under_chaos_never_duplicates_or_loses_writes(emu: Any) -> None:
    lines: list[str] = []
    totals = soak.soak(emu, runs=RUNS, seed=7, progress=lines.append, report_every=6)

    assert totals.runs == RUNS
    assert {k for k, n in totals.faults.items() if n} == set(soak.FAULT_KINDS), totals.faults
    assert totals.http_retries > 0  # the client absorbed faults instead of failing the tasks
    assert totals.duplicates == 0, totals.problems
    assert totals.lost_writes == 0, totals.problems
    assert totals.left_behind == 0, totals.problems
    assert totals.unclear_errors == 0, totals.problems
    assert totals.succeeded > 0
    assert totals.rolled_back == totals.runs - totals.succeeded, totals.problems
    assert lines[-1].startswith(f"run {RUNS} of {RUNS}:")
    assert "duplicates 0, lost writes 0" in lines[-1]


def test_commit_then_drop_on_every_write_converges(emu: Any, launch: soak.Launch) -> None:
    """Every POST is committed and its response lost: each step must look before it writes again."""
    faults = {"rules": [{"kind": "commit_then_drop", "probability": 1.0, "method": "POST"}]}
    out = soak.launch_once(emu, launch, 301, faults=faults, scenario="every POST ambiguous")

    assert out.failure is None, out.failure
    assert out.faults["commit_then_drop"] >= 3  # line item, targeting batch, promoted Tweets
    assert (out.verdict.duplicates, out.verdict.lost_writes, out.verdict.left_behind) == (0, 0, 0)
    assert out.verdict.problems == []


def test_rejected_tweet_fails_fast_and_rolls_back(emu: Any, launch: soak.Launch) -> None:
    rejected = "1700000000000000302"
    out = soak.launch_once(
        emu,
        launch,
        302,
        approval={"status": "ACCEPTED", "tweets": {rejected: "REJECTED"}},
        tweet_ids=[*launch.params["tweet_ids"], rejected],
        deferrable=True,
    )

    from airflow.sdk.exceptions import AirflowFailException

    assert isinstance(out.failure, AirflowFailException)
    assert "REJECTED" in str(out.failure)
    assert out.task_retries == 0  # a terminal failure is not retried
    assert out.rollback_error is None
    assert out.verdict.left_behind == 0, out.verdict.problems
    (item,) = [li for li in emu.admin.state("line_items")["line_items"] if li["name"] == out.name]
    assert item["deleted"] is True or item["deleted"] == 1


def test_outage_of_one_endpoint_exhausts_retries_then_rolls_back(emu: Any, launch: soak.Launch) -> None:
    faults = {"rules": [{"kind": "503", "probability": 1.0, "method": "POST", "path": "/promoted_tweets$"}]}
    faults["retry_after"] = 0
    out = soak.launch_once(emu, launch, 303, faults=faults, scenario="promoted Tweets outage")

    from airflow_provider_twads.reconcile import PartialApplyError

    assert isinstance(out.failure, PartialApplyError)
    assert "Re-run the task" in str(out.failure)
    retries = launch.dag.get_task("promote_tweets").retries
    assert out.task_retries == retries  # every Airflow try was used
    assert out.verdict.left_behind == 0 and out.verdict.duplicates == 0, out.verdict.problems


def test_create_that_committed_then_failed_for_good_is_rolled_back(emu: Any, launch: soak.Launch) -> None:
    # On the line items collection: the look-up passes, the POST is committed but its response lost, and
    # every later look-up of the task (the recovery, then each Airflow retry's: 5 HTTP attempts each) hits a
    # 503 until the task gives up; the rollback's look-up then goes through. No XCom says what was created.
    attempts = soak.soak_retry_policy().max_attempts
    tries = 1 + launch.dag.get_task("create_line_item").retries
    lookups_failing = ["503"] * (attempts * tries)
    faults = {
        "retry_after": 0,
        "match": {"path": "/line_items$"},
        "script": ["none", "commit_then_drop", *lookups_failing],
    }
    out = soak.launch_once(emu, launch, 304, faults=faults, scenario="create committed, then read outage")

    assert out.failure is not None and soak.is_clear_error(out.failure)
    assert ("create_line_item", "return_value") not in out.xcoms
    # What must hold: nothing of the failed run is left.
    assert out.verdict.left_behind == 0, out.verdict.problems
