"""Weekly campaign launch on the X Ads API: the provider's main job, end to end.

What it does, every week, for the flight that starts at the end of the data interval:

1. ``create_line_item``: a line item in the campaign, created **PAUSED** so nothing spends yet; its name comes
   from the data interval, so a retried, cleared or re-triggered run finds it instead of creating another.
2. ``load_targeting`` + ``attach_targeting``: a few hundred targeting criteria from
   ``dags_examples/data/launch_targeting.json`` (or the ``criteria_file`` param), attached through the batch
   endpoint in ``replace`` mode: the line item ends up with exactly this set, re-runs change nothing.
3. ``promote_tweets``: the Tweets in the ``tweet_ids`` param (already promoted ones are skipped).
4. ``wait_for_approval``: a deferrable sensor that frees its worker slot while X reviews the Tweets, and
   succeeds when every promoted Tweet of the line item is ACCEPTED (a REJECTED one fails fast).
5. ``activate``: the line item goes ACTIVE and starts spending.

If any step fails, ``rollback`` deletes the week's line item unless it is ACTIVE (targeting and promoted
Tweets go with it) and the run is marked failed. It finds the line item by its name, so it also cleans up
after a create whose response was lost; and it never deletes an ACTIVE line item, which only an earlier,
successful run of the same week can have launched. If ``activate`` itself fails for good (its PUT may
have been applied before the error), its failure callback first sets the line item back to PAUSED, so a
red run never leaves it spending, and the rollback then removes it.

Connection: ``twitter_ads_default`` (type ``twitter_ads``; see the README). ``make demo`` points it at the
local emulator. To change: the ``campaign_id``, ``tweet_ids``, ``bid_amount_local_micro`` and
``criteria_file`` params, the schedule, and ``objective`` (it must match the campaign's other line items).
"""

from __future__ import annotations

import datetime
from typing import Any

import pendulum
from airflow.sdk import DAG, Param, task

from airflow_provider_twads.operators.line_items import CreateLineItemOperator, UpdateLineItemOperator
from airflow_provider_twads.operators.promoted_tweets import PromoteTweetsOperator
from airflow_provider_twads.operators.targeting import BatchTargetingOperator
from airflow_provider_twads.sensors.cursor import AdsCursorSensor

LINE_ITEM = "{{ ti.xcom_pull(task_ids='create_line_item') }}"
# The line item's natural key within the campaign: one line item per campaign and week.
NAME = "spring-running {{ data_interval_end | ds }}"


def pause_after_failed_activation(context: Any) -> None:
    """``on_failure_callback`` of ``activate``: a PUT may have applied before the task failed for good."""
    import logging

    from airflow_provider_twads.hooks.ads_api import AdsApiHook

    log = logging.getLogger(__name__)
    line_item_id = str(context["task"].line_item_id)
    try:
        AdsApiHook().get_conn().update_line_item(line_item_id, entity_status="PAUSED")
        log.warning("activate failed: line item %s set back to PAUSED", line_item_id)
    except Exception:
        # Nothing more can be done from here; say so loudly: the line item may be spending.
        log.exception(
            "activate failed and line item %s could NOT be paused: check it in the Ads UI", line_item_id
        )


with DAG(
    dag_id="twads_campaign_launch",
    description="Create a PAUSED line item, attach targeting, promote Tweets, wait for approval, activate.",
    doc_md=__doc__,
    schedule="@weekly",
    start_date=pendulum.datetime(2026, 1, 5, tz="UTC"),
    catchup=False,
    max_active_runs=1,
    default_args={"retries": 2, "retry_delay": datetime.timedelta(seconds=5)},
    params={
        "campaign_id": Param("8gdx6", type="string", description="Campaign to launch into."),
        "tweet_ids": Param(
            [str(1_600_000_000_000_000_000 + i) for i in range(20)],
            type="array",
            description="Tweets to promote on the line item.",
        ),
        "bid_amount_local_micro": Param(
            1_500_000, type="integer", minimum=1, description="Bid, micro-units."
        ),
        "criteria_file": Param(
            "data/launch_targeting.json",
            type="string",
            description="Targeting criteria (JSON), relative to this DAG's folder.",
        ),
    },
    tags=["twads", "example"],
) as dag:
    create_line_item = CreateLineItemOperator(
        task_id="create_line_item",
        campaign_id="{{ params.campaign_id }}",
        name=NAME,
        objective="ENGAGEMENTS",
        product_type="PROMOTED_TWEETS",
        placements=["ALL_ON_TWITTER"],
        bid_strategy="MAX",
        bid_amount_local_micro="{{ params.bid_amount_local_micro }}",
        # A one-week flight starting when the interval closes (for a manual run: at its logical date).
        start_time="{{ data_interval_end }}",
        end_time="{{ data_interval_end.add(days=7) }}",
        entity_status="PAUSED",
    )

    @task
    def load_targeting(criteria_file: str) -> list[dict[str, str]]:
        """Read the criteria at run time (never at parse time), relative to this DAG's folder."""
        import json
        from pathlib import Path

        path = Path(criteria_file)
        if not path.is_absolute():
            path = Path(__file__).parent / path
        criteria: list[dict[str, str]] = json.loads(path.read_text())["criteria"]
        return criteria

    attach_targeting = BatchTargetingOperator(
        task_id="attach_targeting",
        line_item_ids=LINE_ITEM,
        criteria=load_targeting("{{ params.criteria_file }}"),
        mode="replace",
    )

    promote_tweets = PromoteTweetsOperator(
        task_id="promote_tweets",
        line_item_id=LINE_ITEM,
        tweet_ids="{{ params.tweet_ids | join(',') }}",
    )

    wait_for_approval = AdsCursorSensor(
        task_id="wait_for_approval",
        resource="promoted_tweets",
        filters={"line_item_ids": [LINE_ITEM]},
        approval_status="ACCEPTED",
        deferrable=True,
        # 2 s so that `make demo` (approval after 3 s) is quick. In production review takes minutes to
        # hours and every poll reads every page against the read budget: poll every few minutes.
        poke_interval=2,
        timeout=6 * 60 * 60,
    )

    activate = UpdateLineItemOperator(
        task_id="activate",
        line_item_id=LINE_ITEM,
        entity_status="ACTIVE",
        on_failure_callback=pause_after_failed_activation,
    )

    @task(trigger_rule="one_failed", retries=3)
    def rollback(campaign_id: str, name: str) -> list[str]:
        """Delete the week's line item unless it is ACTIVE; return the deleted IDs."""
        import logging

        from airflow_provider_twads.hooks.ads_api import AdsApiHook
        from airflow_provider_twads.reconcile import delete_line_item, find_line_items_by_name

        log = logging.getLogger(__name__)
        client = AdsApiHook().get_conn()
        deleted = []
        for item in find_line_items_by_name(client, [campaign_id]).get((campaign_id, name), []):
            if item.get("entity_status") == "ACTIVE":
                log.warning(
                    "Leaving line item %s alone: it is ACTIVE (launched by an earlier run)", item["id"]
                )
                continue
            log.info(
                "Rolling back line item %s (%r): %s", item["id"], name, delete_line_item(client, item["id"])
            )
            deleted.append(item["id"])
        if not deleted:
            log.info("Nothing to roll back for %r in campaign %s", name, campaign_id)
        return deleted

    @task(trigger_rule="one_failed")
    def mark_failed() -> None:
        """Keep the run red after a successful rollback (the rollback alone would leave it green)."""
        raise RuntimeError("the launch failed at an earlier step; its line item was rolled back")

    steps = [create_line_item, attach_targeting, promote_tweets, wait_for_approval, activate]
    create_line_item >> [attach_targeting, promote_tweets]
    [attach_targeting, promote_tweets] >> wait_for_approval >> activate
    steps >> rollback("{{ params.campaign_id }}", NAME)
    steps >> mark_failed()
