"""Real task runs through ``dag.test()``: templates rendered from the data interval, XComs, the extra link,
a deferrable sensor in the triggerer loop, and no secret in rendered fields or XComs."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pendulum
import pytest

from twads_emulator import DEFAULT_CREDENTIALS

pytestmark = pytest.mark.airflow_db
DAGS = Path(__file__).parent / "dags"
LOGICAL_DATE = pendulum.datetime(2024, 5, 2, tz="UTC")


@pytest.fixture(autouse=True)
def _dags_folder(monkeypatch: pytest.MonkeyPatch) -> None:
    # dag.test() serialises the DAG through the configured DAG bundles: make this folder one.
    bundles = [
        {
            "name": "dags-folder",
            "classpath": "airflow.dag_processing.bundles.local.LocalDagBundle",
            "kwargs": {"path": str(DAGS), "refresh_interval": 0},
        }
    ]
    monkeypatch.setenv("AIRFLOW__DAG_PROCESSOR__DAG_BUNDLE_CONFIG_LIST", json.dumps(bundles))


def run(dag_id: str) -> Any:
    from airflow.dag_processing.dagbag import DagBag

    dag = DagBag(str(DAGS)).get_dag(dag_id)
    assert dag is not None
    return dag.test(logical_date=LOGICAL_DATE)


def stored(run_id: str) -> tuple[dict[tuple[str, str], Any], dict[str, Any]]:
    """XComs by (task_id, key) and rendered fields by task_id, as Airflow stored them."""
    from airflow.models.renderedtifields import RenderedTaskInstanceFields
    from airflow.models.xcom import XComModel
    from airflow.utils.session import create_session

    with create_session() as session:
        xcoms = {
            (x.task_id, x.key): x.value
            for x in session.query(XComModel).filter(XComModel.run_id == run_id).all()
        }
        rendered = {
            r.task_id: r.rendered_fields
            for r in session.query(RenderedTaskInstanceFields).filter(
                RenderedTaskInstanceFields.run_id == run_id
            )
        }
    return xcoms, rendered


def test_launch_dag_runs_and_a_second_run_converges(emu: Any, airflow_db: Path) -> None:
    emu.admin.set_approval({"status": "ACCEPTED", "after_seconds": 0.5})
    dag_run = run("twads_operators_test")
    assert dag_run.state == "success"

    items = [li for li in emu.admin.state()["line_items"] if li["name"] == "daily 2024-05-02"]
    assert len(items) == 1
    li = items[0]
    # templated from the data interval (2024-05-01 .. 2024-05-02), sent as ISO 8601 UTC
    assert (li["start_time"], li["end_time"]) == ("2024-05-01T00:00:00Z", "2024-05-09T00:00:00Z")
    assert li["entity_status"] == "ACTIVE"

    xcoms, rendered = stored(dag_run.run_id)
    assert xcoms[("create_line_item", "return_value")] == li["id"]
    # An emulator connection: the Ads UI has no such line item, so the link stays empty (issue 12).
    assert xcoms.get(("create_line_item", "_link_LineItemLink")) in (None, "")
    assert xcoms[("create_line_item", "twads_line_item")]["host"] == emu.base_url
    assert len(xcoms[("wait_for_approval", "return_value")]) == 2
    assert rendered["create_line_item"]["start_time"] == "2024-05-01 00:00:00+00:00"
    dumped = json.dumps([list(xcoms.items()), rendered], default=str)
    for secret in (DEFAULT_CREDENTIALS["consumer_secret"], DEFAULT_CREDENTIALS["access_token_secret"]):
        assert secret not in dumped

    second = run("twads_operators_test")  # a new run of the same interval: reuses everything
    assert second.state == "success"
    state = emu.admin.state()
    assert [x["id"] for x in state["line_items"] if x["name"] == "daily 2024-05-02"] == [li["id"]]
    live = [c for c in state["targeting_criteria"] if c["line_item_id"] == li["id"] and not c["deleted"]]
    assert len(live) == 2
    tweets = [p for p in state["promoted_tweets"] if p["line_item_id"] == li["id"] and not p["deleted"]]
    assert sorted(p["tweet_id"] for p in tweets) == ["1800000000000000001", "1800000000000000002"]
