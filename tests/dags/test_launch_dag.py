"""The main job, end to end: `airflow dags test twads_campaign_launch` against the session emulator.

These run the real Airflow CLI in a subprocess (as `make demo` does), with the metadata DB of the test
session, and then check what the emulator holds.
"""

from __future__ import annotations

import collections
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from twads_emulator import SEED

REPO = Path(__file__).resolve().parents[2]
CRITERIA = json.loads((REPO / "dags_examples/data/launch_targeting.json").read_text())["criteria"]
TWEETS = 20  # the DAG's default tweet_ids param

pytestmark = pytest.mark.airflow_db


def run_dag(
    emu: Any, dag_id: str, logical_date: str, conf: dict[str, Any] | None = None
) -> subprocess.CompletedProcess[str]:
    """Run ``airflow dags test`` for ``dag_id`` against ``emu``; return the finished process.

    :param conf: the run's conf (params), if any.
    """
    from twads_emulator.connection import connection_env

    env = {**os.environ, "AIRFLOW__CORE__DAGS_FOLDER": str(REPO / "dags_examples")}
    env.update(connection_env(emu.base_url))
    airflow = str(Path(sys.executable).parent / "airflow")
    extra = ["-c", json.dumps(conf)] if conf else []
    return subprocess.run(
        [airflow, "dags", "test", dag_id, logical_date, *extra],
        env=env,
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=240,
        check=False,
    )


def launched(emu: Any, before: dict[str, Any]) -> dict[str, Any]:
    """What the run created: its line items, and their live targeting criteria and promoted Tweets."""
    state = emu.admin.state()
    seeded = {li["id"] for li in before["line_items"]}
    items = [li for li in state["line_items"] if li["id"] not in seeded]
    ids = {li["id"] for li in items if not li["deleted"]}

    def live(kind: str) -> list[dict[str, Any]]:
        return [e for e in state[kind] if e["line_item_id"] in ids and not e["deleted"]]

    return {"line_items": items, "criteria": live("targeting_criteria"), "tweets": live("promoted_tweets")}


def assert_launched_once(result: dict[str, Any]) -> None:
    """Exactly one ACTIVE line item with every criterion and Tweet once: no duplicates, nothing missing."""
    live = [li for li in result["line_items"] if not li["deleted"]]
    assert len(result["line_items"]) == 1, [li["name"] for li in result["line_items"]]
    (li,) = live
    assert li["entity_status"] == "ACTIVE"
    assert li["campaign_id"] == SEED["campaign_id"]
    assert li["name"].startswith("spring-running ")
    keys = collections.Counter(
        (tc["targeting_type"], tc["targeting_value"], tc.get("operator_type", "EQ"))
        for tc in result["criteria"]
    )
    assert len(keys) == len(CRITERIA) and max(keys.values()) == 1
    tweet_ids = collections.Counter(str(pt["tweet_id"]) for pt in result["tweets"])
    assert len(tweet_ids) == TWEETS and max(tweet_ids.values()) == 1
    assert {pt["approval_status"] for pt in result["tweets"]} == {"ACCEPTED"}


def test_launch_runs_end_to_end_and_a_rerun_converges(emu: Any, airflow_db: Path) -> None:
    emu.admin.set_approval({"status": "ACCEPTED", "after_seconds": 1})
    before = emu.admin.state()

    first = run_dag(emu, "twads_campaign_launch", "2026-11-16")
    assert first.returncode == 0, first.stdout[-4000:] + first.stderr[-4000:]
    assert_launched_once(launched(emu, before))

    # Re-triggered for the same week: every step finds what exists; nothing new is created.
    writes_before = sum(1 for r in emu.admin.requests() if r["method"] == "POST")
    again = run_dag(emu, "twads_campaign_launch", "2026-11-16")
    assert again.returncode == 0, again.stdout[-4000:] + again.stderr[-4000:]
    assert_launched_once(launched(emu, before))
    writes_after = sum(1 for r in emu.admin.requests() if r["method"] == "POST")
    assert writes_after == writes_before, "a converged re-run sends no create"


def test_a_launch_whose_flight_runs_now_is_watched_until_it_delivers(emu: Any, airflow_db: Path) -> None:
    """The monitoring step: the first check after the activation sees the emulator's first impressions."""
    from datetime import UTC, datetime

    emu.admin.set_approval({"status": "ACCEPTED", "after_seconds": 1})
    today = datetime.now(UTC).date().isoformat()
    before = emu.admin.state()
    seq = max((r["seq"] for r in emu.admin.requests()), default=0)

    run = run_dag(emu, "twads_campaign_launch", today, conf={"name_prefix": "watched"})

    assert run.returncode == 0, run.stdout[-4000:] + run.stderr[-4000:]
    (item,) = launched(emu, before)["line_items"]
    assert item["name"] == f"watched {today}" and item["entity_status"] == "ACTIVE"
    stats = [r for r in emu.admin.requests(seq) if r["method"] == "GET" and "/stats/accounts/" in r["path"]]
    assert stats, "watch_delivery read the line item's stats"
    out = run.stdout + run.stderr
    assert "Delivery condition met: impressions > 0 for every LINE_ITEM" in out
    assert f"{item['id']}: " in out.split("Delivery condition met", 1)[1].splitlines()[0]


@pytest.mark.parametrize(
    ("launch_date", "said"),
    [
        ("2026-10-05", "no delivery to watch"),  # backfilled: the flight has ended
        ("2099-01-05", "nothing can deliver before then"),  # planned ahead: not started yet
    ],
)
def test_a_launch_whose_flight_is_not_running_skips_the_watch(
    emu: Any, airflow_db: Path, launch_date: str, said: str
) -> None:
    """Nothing can deliver outside the flight: the watch is skipped at once and the run succeeds (a run
    waiting for a flight weeks ahead would hold back the DAG's next runs)."""
    from datetime import UTC, datetime

    emu.admin.set_approval({"status": "ACCEPTED", "after_seconds": 1})
    seq = max((r["seq"] for r in emu.admin.requests()), default=0)
    today = datetime.now(UTC).date().isoformat()

    run = run_dag(
        emu, "twads_campaign_launch", today, conf={"name_prefix": "not-running", "launch_date": launch_date}
    )

    assert run.returncode == 0, run.stdout[-4000:] + run.stderr[-4000:]
    assert said in run.stdout + run.stderr
    assert not [r for r in emu.admin.requests(seq) if "/stats/accounts/" in r["path"]]
    (item,) = [li for li in emu.admin.state()["line_items"] if li["name"] == f"not-running {launch_date}"]
    assert item["entity_status"] == "ACTIVE", "the launch itself went through"


def test_launch_under_faults_ends_in_the_same_state(emu: Any, airflow_db: Path) -> None:
    emu.admin.set_approval({"status": "ACCEPTED"})
    emu.admin.set_faults(
        {
            "seed": 20261123,
            "retry_after": 1,
            # The first three writes (line item, targeting batch, promoted Tweets) are committed and then
            # the connection drops: the case that makes naive retries duplicate. Random faults on top.
            "match": {"method": "POST"},
            "script": ["commit_then_drop", "commit_then_drop", "commit_then_drop"],
            "rules": [
                {"kind": "429", "probability": 0.15},
                {"kind": "503", "probability": 0.15},
                {"kind": "500", "probability": 0.1},
                {"kind": "drop", "probability": 0.1},
            ],
        }
    )
    before = emu.admin.state()
    run = run_dag(emu, "twads_campaign_launch", "2026-11-09")
    emu.admin.clear_faults()
    assert run.returncode == 0, run.stdout[-4000:] + run.stderr[-4000:]
    injected = emu.admin.state("line_items")["faults"]["injected"]
    assert injected.get("commit_then_drop") == 3, injected
    assert sum(injected.values()) > 3, injected
    assert_launched_once(launched(emu, before))


def test_a_failed_launch_is_rolled_back_and_the_run_fails(emu: Any, airflow_db: Path) -> None:
    rejected = str(1_600_000_000_000_000_000 + 5)  # one of the DAG's default tweet_ids
    emu.admin.set_approval({"status": "ACCEPTED", "tweets": {rejected: "REJECTED"}})
    before = emu.admin.state()

    run = run_dag(emu, "twads_campaign_launch", "2026-11-02")

    assert run.returncode != 0, "the run is marked failed after the rollback"
    result = launched(emu, before)
    assert len(result["line_items"]) == 1
    assert result["line_items"][0]["deleted"] is True, "rollback deleted the PAUSED line item"
    assert result["line_items"][0]["entity_status"] != "ACTIVE", "it was never activated"
    (rejected_pt,) = [pt for pt in emu.admin.state()["promoted_tweets"] if str(pt["tweet_id"]) == rejected]
    assert "REJECTED" in run.stdout and rejected_pt["id"] in run.stdout, "the failure names what was rejected"


def test_launch_many_creates_each_mapped_line_item_once_and_activates(emu: Any, airflow_db: Path) -> None:
    before = emu.admin.state()

    run = run_dag(emu, "twads_launch_many", "2026-11-16")

    assert run.returncode == 0, run.stdout[-4000:] + run.stderr[-4000:]
    created = launched(emu, before)["line_items"]
    names = sorted(li["name"] for li in created)
    assert names == [f"audience-{r} 2026-11-16" for r in ("de", "fr", "uk", "us")]
    assert {li["entity_status"] for li in created} == {"ACTIVE"}
    assert {li["bid_amount_local_micro"] for li in created} == {1_000_000, 1_100_000, 1_200_000, 1_500_000}


def test_draft_watcher_launches_into_the_campaign_once_it_is_activated_in_the_ui(
    emu: Any, airflow_db: Path
) -> None:
    draft = SEED["draft_campaign_id"]
    # A person activates the draft in the Ads UI (the emulator's admin call stands in for it). The sensor's
    # waiting itself is covered in tests/sensors; here the DAG's wiring is checked against the API.
    emu.admin.activate("campaigns", draft)
    before = emu.admin.state()

    run = run_dag(emu, "twads_draft_watcher", "2026-11-16")

    assert run.returncode == 0, run.stdout[-4000:] + run.stderr[-4000:]
    (item,) = launched(emu, before)["line_items"]
    assert item["campaign_id"] == draft
    assert item["entity_status"] == "ACTIVE"
    assert item["name"] == "after-review 2026-11-16"


def test_failed_activation_callback_pauses_the_line_item(client: Any, emu: Any) -> None:
    """The callback runs in the worker after `activate` failed for good: Airflow gives it the task."""
    import importlib.util

    from airflow_provider_twads.operators.line_items import UpdateLineItemOperator

    spec = importlib.util.spec_from_file_location(
        "launch_dag", REPO / "dags_examples/twads_campaign_launch.py"
    )
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    line_item = SEED["line_item_id"]  # seeded ACTIVE: as if the failed task's PUT had been applied
    assert client.get_line_item(line_item)["entity_status"] == "ACTIVE"

    task = UpdateLineItemOperator(task_id="activate", line_item_id=line_item, entity_status="ACTIVE")
    module.pause_after_failed_activation({"task": task})

    assert client.get_line_item(line_item)["entity_status"] == "PAUSED"
