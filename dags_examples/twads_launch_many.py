"""Launch many line items at once with dynamic task mapping.

One mapped ``CreateLineItemOperator`` task instance per line item spec in the ``line_items`` param
(``.expand``), each created PAUSED and idempotent on its own (its name is its natural key in the campaign).
Then all of them are activated together by one ``UpdateLineItemOperator``.

Use this shape when each line item needs its own retries and its own log; for dozens of line items with
the same shape, one ``CreateLineItemOperator(line_items=[...])`` (the batch endpoint, 20 per call) makes
fewer HTTP calls.

Connection: ``twitter_ads_default``. To change: the ``campaign_id`` and ``line_items`` params (each spec
takes any parameter of ``POST accounts/:account_id/line_items``; legacy names are accepted).
Pool: the writing tasks run in the ``twads_writes`` pool, one per ad account; create it once
(``airflow pools set twads_writes 1 "X Ads writes"``), or they never start.
"""

from __future__ import annotations

from typing import Any

import pendulum
from airflow.sdk import DAG, Param, task

from airflow_provider_twads.operators.line_items import CreateLineItemOperator, UpdateLineItemOperator

# The Airflow pool of every task that writes to the ad account, shared by every DAG writing to it (one pool
# per ad account; a fixed name: pools are not templated). Tasks in a pool that does not exist never start.
WRITES_POOL = "twads_writes"

DEFAULT_SPECS = [
    {"name": f"audience-{region}", "bid_amount_local_micro": bid}
    for region, bid in (("us", 1_500_000), ("uk", 1_200_000), ("de", 1_100_000), ("fr", 1_000_000))
]

with DAG(
    dag_id="twads_launch_many",
    description="Create several PAUSED line items with .expand, then activate them together.",
    doc_md=__doc__,
    schedule=None,
    start_date=pendulum.datetime(2026, 1, 5, tz="UTC"),
    catchup=False,
    params={
        "campaign_id": Param("8gdx6", type="string"),
        "line_items": Param(DEFAULT_SPECS, type="array", description="One dict of line item params each."),
    },
    tags=["twads", "example"],
) as dag:

    @task
    def line_item_specs(params: dict, dag_run: Any) -> list[dict]:
        """One spec per mapped task; the launch day goes into the name, each one's natural key.

        The launch day (UTC) is the logical date of a run that has one, else the trigger time: a run
        triggered without a logical date has no data interval. A cleared run converges on its own line
        items; two runs on one day are one launch.
        """
        import datetime

        day = (dag_run.logical_date or dag_run.run_after).date()
        flight = {"start_time": day.isoformat(), "end_time": (day + datetime.timedelta(days=14)).isoformat()}
        return [
            {**spec, "name": f"{spec['name']} {day.isoformat()}", **flight} for spec in params["line_items"]
        ]

    create = CreateLineItemOperator.partial(
        task_id="create_line_item",
        pool=WRITES_POOL,
        campaign_id="{{ params.campaign_id }}",
        objective="ENGAGEMENTS",
        product_type="PROMOTED_TWEETS",
        placements=["ALL_ON_TWITTER"],
        bid_strategy="MAX",
        entity_status="PAUSED",
    ).expand(extra_params=line_item_specs())

    UpdateLineItemOperator(
        task_id="activate_all",
        pool=WRITES_POOL,
        line_item_id=create.output,
        entity_status="ACTIVE",
    )
