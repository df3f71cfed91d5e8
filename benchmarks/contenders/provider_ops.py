"""This provider through its operators: ``execute`` of each task, as a worker would call it.

Each operator is one Airflow task, so each gets its own hook and HTTP session. The operators reconcile
before writing (re-runs converge, ambiguous writes are looked up, not re-sent), which costs a read per
operator that the floor does not make: the table shows it. The context holds the one thing the operators
use from it: the task instance, for the derived names and the line item link's XCom.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from airflow_provider_twads.operators.line_items import CreateLineItemOperator
from airflow_provider_twads.operators.promoted_tweets import PromoteTweetsOperator
from airflow_provider_twads.operators.targeting import BatchTargetingOperator
from benchmarks.contenders import workloads as w
from benchmarks.contenders.workloads import Conn


class _TaskInstance:
    """What the operators read from ``context["ti"]``; XComs are kept in a dict."""

    def __init__(self, task_id: str) -> None:
        self.dag_id = "bench"
        self.task_id = task_id
        self.run_id = "bench_run"
        self.map_index = -1
        self.xcoms: dict[str, Any] = {}

    def xcom_push(self, key: str, value: Any) -> None:
        self.xcoms[key] = value


def warm_up(conn: Conn) -> None:
    """Load what the first connection lookup imports lazily (an Airflow worker has it loaded already)."""
    from airflow_provider_twads.hooks.ads_api import AdsApiHook

    c = AdsApiHook(twitter_ads_conn_id="twitter_ads_default").get_conn()
    c.session  # noqa: B018 - opening the session imports the HTTP stack, as for the floor
    c.close()


def _execute(operator: Any) -> Any:
    ti = _TaskInstance(operator.task_id)
    return operator.execute({"ti": ti, "task_instance": ti, "run_id": ti.run_id, "task": operator})


def _criteria(items: list[dict[str, str]]) -> list[dict[str, str]]:
    """Criteria as the operator takes them: without the line item (it applies them to each one)."""
    return [{k: v for k, v in c.items() if k != "line_item_id"} for c in items]


def _line_item_args(spec: dict[str, Any]) -> dict[str, Any]:
    return {**spec, "placements": [spec["placements"]]}


def targeting(conn: Conn, job: dict[str, Any]) -> dict[str, Any]:
    # Every line item of the workload gets the same criteria: one operator does them all.
    criteria = _criteria(w.criteria_for(job["line_item_ids"][0], job["per_line_item"]))
    op = BatchTargetingOperator(task_id="targeting", line_item_ids=job["line_item_ids"], criteria=criteria)
    result = _execute(op)
    return {"created": len(result["created"])}


def promote(conn: Conn, job: dict[str, Any]) -> dict[str, Any]:
    op = PromoteTweetsOperator(
        task_id="promote", line_item_id=job["line_item_id"], tweet_ids=job["tweet_ids"]
    )
    return {"created": len(_execute(op))}


def create_line_items(conn: Conn, job: dict[str, Any]) -> dict[str, Any]:
    specs = [_line_item_args(s) for s in w.line_item_specs(job)]
    op = CreateLineItemOperator(task_id="create_line_items", line_items=specs)
    return {"created": len(_execute(op))}


def launch(conn: Conn, job: dict[str, Any]) -> dict[str, Any]:
    line_item_id = _execute(
        CreateLineItemOperator(task_id="line_item", **_line_item_args(w.launch_line_item(job)))
    )
    criteria = _criteria(w.launch_criteria(job, line_item_id))
    _execute(BatchTargetingOperator(task_id="targeting", line_item_ids=line_item_id, criteria=criteria))
    _execute(PromoteTweetsOperator(task_id="promote", line_item_id=line_item_id, tweet_ids=job["tweet_ids"]))
    return {"line_item_id": line_item_id}


WORKLOADS: dict[str, Callable[[Conn, dict[str, Any]], dict[str, Any]]] = {
    w.TARGETING: targeting,
    w.PROMOTE: promote,
    w.CREATE_LINE_ITEMS: create_line_items,
    w.LAUNCH_LIMITED: launch,
    w.LAUNCH_FAULTS: launch,
    w.LAUNCH_FREE: launch,
}
