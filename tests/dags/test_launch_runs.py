"""The launch DAG for every way a run starts, and its rollback, through ``dag.test()`` on the example DAG.

The launch day rule (the DAG's doc): the ``launch_date`` param, else a manual run's logical date, else the
run's ``run_after``. `make e2e` covers the same against a real deployment (REST API without a logical date,
the CLI, the scheduler).
"""

from __future__ import annotations

import datetime
import importlib.util
import json
from pathlib import Path
from typing import Any

import pendulum
import pytest

from twads_emulator import SEED

REPO = Path(__file__).resolve().parents[2]
DAGS = REPO / "dags_examples"
DAG_ID = "twads_campaign_launch"


def launch_module() -> Any:
    spec = importlib.util.spec_from_file_location("launch_dag_rules", DAGS / "twads_campaign_launch.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def utc(*args: int) -> pendulum.DateTime:
    return pendulum.datetime(*args, tz="UTC")


@pytest.mark.parametrize("timetable_kind", ["trigger", "data_interval"])
def test_scheduled_and_backfilled_runs_launch_on_the_tick(timetable_kind: str) -> None:
    """Both cron timetables Airflow 3 may use for ``@weekly``: the tick is run_after, not logical_date."""
    from airflow.timetables.base import DataInterval, TimeRestriction
    from airflow.timetables.interval import CronDataIntervalTimetable
    from airflow.timetables.trigger import CronTriggerTimetable

    tz = pendulum.timezone("UTC")
    timetable = (
        CronTriggerTimetable("@weekly", timezone=tz)
        if timetable_kind == "trigger"
        else CronDataIntervalTimetable("@weekly", timezone=tz)
    )
    last = DataInterval(utc(2026, 11, 15), utc(2026, 11, 15)) if timetable_kind == "trigger" else None
    if last is None:
        last = DataInterval(utc(2026, 11, 8), utc(2026, 11, 15))
    info = timetable.next_dagrun_info(
        last_automated_data_interval=last,
        restriction=TimeRestriction(earliest=utc(2026, 1, 1), latest=None, catchup=True),
    )
    assert info is not None
    rule = launch_module().launch_day
    for run_type in ("scheduled", "backfill"):
        day = rule(None, run_type, info.logical_date, info.run_after)
        assert day == datetime.date(2026, 11, 22), (timetable_kind, run_type, info)


def test_manual_asset_and_param_runs() -> None:
    from airflow.utils.types import DagRunType

    rule = launch_module().launch_day
    later = utc(2026, 11, 23, 15, 30)
    # A manual run with a logical date (CLI -e, REST logical_date, `airflow dags test DAG DATE`): that date.
    assert rule(None, DagRunType.MANUAL, utc(2026, 11, 16), later) == datetime.date(2026, 11, 16)
    assert rule(None, "manual", utc(2026, 11, 16, 23, 59), later) == datetime.date(2026, 11, 16)
    # Without one (Airflow 3's default for the REST API, CLI and UI): the day it was triggered.
    assert rule(None, "manual", None, later) == datetime.date(2026, 11, 23)
    assert rule(None, "asset_triggered", None, later) == datetime.date(2026, 11, 23)
    # The param wins over everything.
    assert rule("2026-12-01", "scheduled", utc(2026, 11, 16), later) == datetime.date(2026, 12, 1)
    # A logical date in another zone is read in UTC.
    assert rule(None, "manual", pendulum.datetime(2026, 11, 17, 0, 30, tz="Europe/Paris"), later) == (
        datetime.date(2026, 11, 16)
    )


@pytest.fixture
def example_dag(monkeypatch: pytest.MonkeyPatch, airflow_db: Path) -> Any:
    """``example_dag(dag_id)``: an example DAG loaded from dags_examples/ as a DAG bundle (for dag.test())."""
    from airflow.dag_processing.dagbag import DagBag

    bundles = [
        {
            "name": "dags-folder",
            "classpath": "airflow.dag_processing.bundles.local.LocalDagBundle",
            "kwargs": {"path": str(DAGS), "refresh_interval": 0},
        }
    ]
    monkeypatch.setenv("AIRFLOW__DAG_PROCESSOR__DAG_BUNDLE_CONFIG_LIST", json.dumps(bundles))
    bag = DagBag(str(DAGS))

    def get(dag_id: str) -> Any:
        dag = bag.get_dag(dag_id)
        assert dag is not None
        return dag

    return get


@pytest.fixture
def launch_dag(example_dag: Any) -> Any:
    return example_dag(DAG_ID)


def task_states(run: Any) -> dict[str, tuple[str, int]]:
    from airflow.models.taskinstance import TaskInstance
    from airflow.utils.session import create_session

    with create_session() as session:
        tis = session.query(TaskInstance).filter(TaskInstance.run_id == run.run_id).all()
        return {ti.task_id: (str(ti.state), ti.try_number) for ti in tis}


def named(emu: Any, name: str) -> list[dict[str, Any]]:
    return [li for li in emu.admin.state("line_items")["line_items"] if li["name"] == name]


@pytest.mark.airflow_db
def test_manual_runs_without_a_logical_date_launch_once_per_day(emu: Any, launch_dag: Any) -> None:
    """REST/CLI/UI trigger without a logical date (no data interval); a second run that day converges."""
    emu.admin.set_approval({"status": "ACCEPTED"})
    conf = {"name_prefix": "no-logical-date"}

    first = launch_dag.test(logical_date=None, run_after=utc(2026, 11, 23, 15, 30), run_conf=conf)

    assert first.state == "success", task_states(first)
    assert first.logical_date is None and first.data_interval_start is None
    (item,) = named(emu, "no-logical-date 2026-11-23")
    assert item["entity_status"] == "ACTIVE" and not item["deleted"]
    assert (item["start_time"], item["end_time"]) == ("2026-11-23T00:00:00Z", "2026-11-30T00:00:00Z")

    posts = sum(r["method"] == "POST" for r in emu.admin.requests())
    second = launch_dag.test(logical_date=None, run_after=utc(2026, 11, 23, 18, 0), run_conf=conf)

    assert second.state == "success", task_states(second)
    assert [li["id"] for li in named(emu, "no-logical-date 2026-11-23")] == [item["id"]]
    assert sum(r["method"] == "POST" for r in emu.admin.requests()) == posts, "the second run created nothing"


@pytest.mark.airflow_db
def test_a_deterministic_failure_is_not_retried_and_the_teardown_still_runs(
    emu: Any, launch_dag: Any
) -> None:
    """A name over the API's 255 characters: create fails on its first try, the run ends failed, the
    rollback has run (and found nothing to remove)."""
    conf = {"name_prefix": "x" * 300}

    run = launch_dag.test(logical_date=None, run_after=utc(2026, 11, 24, 9, 0), run_conf=conf)

    states = task_states(run)
    assert run.state == "failed", states
    assert states["create_line_item"][0] == "failed"
    assert states["create_line_item"][1] == 1, "a deterministic error is not retried"
    assert states["activate"][0] == "upstream_failed"
    assert states["rollback"][0] == "success", "the teardown runs after a failed create"


def test_rollback_removes_what_a_failed_create_left_and_never_an_active_launch(emu: Any, client: Any) -> None:
    """The teardown's own code, against the emulator: it finds the launch by name, not by create's XCom."""
    rollback = launch_module().dag.get_task("rollback").python_callable
    campaign = SEED["campaign_id"]
    # As if create's POST had been applied and its answer lost: no XCom, a PAUSED line item by that name.
    left = client.create_line_item(
        campaign_id=campaign,
        name="lost-answer 2026-11-25",
        objective="ENGAGEMENTS",
        product_type="PROMOTED_TWEETS",
        placements=["ALL_ON_TWITTER"],
        bid_amount_local_micro=1_000_000,
        entity_status="PAUSED",
    )

    assert rollback(campaign, "lost-answer 2026-11-25") == [left["id"]]
    assert client.get_line_item(left["id"], with_deleted=True)["deleted"] is True
    assert rollback(campaign, "lost-answer 2026-11-25") == [], "a second rollback finds nothing to do"

    active = client.create_line_item(
        campaign_id=campaign,
        name="launched 2026-11-25",
        objective="ENGAGEMENTS",
        product_type="PROMOTED_TWEETS",
        placements=["ALL_ON_TWITTER"],
        bid_amount_local_micro=1_000_000,
        entity_status="ACTIVE",
    )
    assert rollback(campaign, "launched 2026-11-25") == []
    assert client.get_line_item(active["id"])["entity_status"] == "ACTIVE"


@pytest.mark.airflow_db
def test_the_other_examples_run_without_a_logical_date(emu: Any, example_dag: Any) -> None:
    """Both manual-only examples name and date their line items from run_after when there is no date."""
    when = utc(2026, 11, 26, 10, 0)

    many = example_dag("twads_launch_many").test(logical_date=None, run_after=when)

    assert many.state == "success", task_states(many)
    created = [
        li for li in emu.admin.state("line_items")["line_items"] if str(li["name"]).endswith(" 2026-11-26")
    ]
    assert sorted(li["name"] for li in created) == [
        f"audience-{r} 2026-11-26" for r in ("de", "fr", "uk", "us")
    ]
    assert {(li["entity_status"], li["start_time"], li["end_time"]) for li in created} == {
        ("ACTIVE", "2026-11-26T00:00:00Z", "2026-12-10T00:00:00Z")
    }

    emu.admin.activate("campaigns", SEED["draft_campaign_id"])  # a person activates the draft in the Ads UI
    watcher = example_dag("twads_draft_watcher").test(logical_date=None, run_after=when)

    assert watcher.state == "success", task_states(watcher)
    (item,) = named(emu, "after-review 2026-11-26")
    assert (item["entity_status"], item["start_time"]) == ("ACTIVE", "2026-11-26T00:00:00Z")
