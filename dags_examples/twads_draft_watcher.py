"""Wait until a DRAFT campaign is activated in the X Ads UI, then launch a line item into it.

Draft campaigns and line items can be activated or paused only in the Ads UI, never through the API (see
the README's troubleshooting). This DAG lets a person review and activate the draft there; a deferrable
sensor (no worker slot held while waiting) watches the campaign listing with ``with_draft=true`` until the
campaign's ``entity_status`` is ACTIVE, then a PAUSED line item is created in it and activated.

Connection: ``twitter_ads_default``. To change: the ``draft_campaign_id`` param and the line item settings.
Pool: the writing tasks run in the ``twads_writes`` pool, one per ad account; create it once
(``airflow pools set twads_writes 1 "X Ads writes"``), or they never start.
With ``make demo``'s emulator, ``emu.admin.activate("campaigns", "6aian")`` (or
``POST /_emulator/ui/campaigns/6aian/activate``) plays the person clicking "activate" in the Ads UI.
"""

from __future__ import annotations

import pendulum
from airflow.sdk import DAG, Param

from airflow_provider_twads.operators.line_items import CreateLineItemOperator, UpdateLineItemOperator
from airflow_provider_twads.sensors.cursor import AdsCursorSensor

# The launch day (UTC): the logical date of a run that has one, else the trigger time (a run triggered
# without a logical date has no data interval). A cleared run converges on its own line item; two runs on
# one day are one launch, since the name is the natural key.
DAY = "{{ (dag_run.logical_date or dag_run.run_after) | ds }}"
# The Airflow pool of every task that writes to the ad account, shared by every DAG writing to it (one pool
# per ad account; a fixed name: pools are not templated). Tasks in a pool that does not exist never start.
WRITES_POOL = "twads_writes"

with DAG(
    dag_id="twads_draft_watcher",
    description="Wait for a draft campaign to be activated in the Ads UI, then launch into it.",
    doc_md=__doc__,
    schedule=None,
    start_date=pendulum.datetime(2026, 1, 5, tz="UTC"),
    catchup=False,
    params={"draft_campaign_id": Param("6aian", type="string")},
    tags=["twads", "example"],
) as dag:
    wait_for_activation = AdsCursorSensor(
        task_id="wait_for_activation",
        resource="campaigns",
        filters={"campaign_ids": ["{{ params.draft_campaign_id }}"], "with_draft": True},
        entity_status="ACTIVE",
        deferrable=True,
        poke_interval=60,
        timeout=7 * 24 * 60 * 60,
    )

    create = CreateLineItemOperator(
        task_id="create_line_item",
        pool=WRITES_POOL,
        campaign_id="{{ params.draft_campaign_id }}",
        name="after-review " + DAY,
        objective="ENGAGEMENTS",
        product_type="PROMOTED_TWEETS",
        placements=["ALL_ON_TWITTER"],
        bid_strategy="AUTO",
        start_time=DAY,
        end_time="{{ macros.ds_add((dag_run.logical_date or dag_run.run_after) | ds, 7) }}",
    )

    activate = UpdateLineItemOperator(
        task_id="activate", pool=WRITES_POOL, line_item_id=create.output, entity_status="ACTIVE"
    )

    wait_for_activation >> create >> activate
