"""A launch from nothing: campaign, line items, targeting, Tweets, approval, activation, and its rollback.

1. ``create_campaign``: a PAUSED campaign named after the day the run was due or triggered, under the
   account's only active funding instrument (or the ``funding_instrument_id`` param), with a daily and a
   total budget. A retry, a cleared task or a second trigger on the same day finds it by name.
2. ``create_line_items``: two PAUSED line items in it (names are unique within the campaign).
3. ``attach_targeting``: the same criteria on both, in ``replace`` mode (re-runs change nothing).
4. ``promote_tweets``: the ``tweet_ids`` param on each line item (one mapped task per line item).
5. ``wait_for_approval``: a deferrable sensor until every promoted Tweet is ACCEPTED.
6. ``activate_line_items`` then ``activate_campaign``: spending starts when the campaign goes ACTIVE, last.

If any step fails, ``rollback`` deletes the day's campaign (its line items, targeting and promoted Tweets go
with it) unless it is ACTIVE, and ``mark_failed`` keeps the run red. The rollback finds the campaign by its
name, so it also cleans up after a create whose response was lost. If ``activate_campaign`` fails for good
(its PUT may have been applied), its failure callback sets the campaign back to PAUSED first.

Connection: ``twitter_ads_default`` (type ``twitter_ads``; see the README). Names and dates come from
``dag_run.run_after``, which every run has (scheduled, manual with or without a logical date, backfill).
To change: the params (budgets, Tweets, funding instrument) and the line item settings.
Pool: the writing tasks run in the ``twads_writes`` pool, one per ad account; create it once
(``airflow pools set twads_writes 1 "X Ads writes"``), or they never start.
"""

from __future__ import annotations

import datetime
from typing import Any

import pendulum
from airflow.sdk import DAG, Param, task

from airflow_provider_twads.operators.campaigns import CreateCampaignOperator, UpdateCampaignOperator
from airflow_provider_twads.operators.line_items import CreateLineItemOperator, UpdateLineItemOperator
from airflow_provider_twads.operators.promoted_tweets import PromoteTweetsOperator
from airflow_provider_twads.operators.targeting import BatchTargetingOperator
from airflow_provider_twads.sensors.cursor import AdsCursorSensor

# The campaign's natural key within the account: one campaign per day the DAG runs.
CAMPAIGN_NAME = "full-launch {{ dag_run.run_after | ds }}"
DAY = "{{ dag_run.run_after | ds }}"
# The Airflow pool of every task that writes to the ad account, shared by every DAG writing to it (one pool
# per ad account; a fixed name: pools are not templated). Tasks in a pool that does not exist never start.
WRITES_POOL = "twads_writes"


def pause_after_failed_activation(context: Any) -> None:
    """``on_failure_callback`` of ``activate_campaign``: its PUT may have applied before the task failed."""
    import logging

    from airflow_provider_twads.hooks.ads_api import AdsApiHook

    log = logging.getLogger(__name__)
    campaign_id = str(context["task"].campaign_id)
    try:
        AdsApiHook().get_conn().update_campaign(campaign_id, entity_status="PAUSED")
        log.warning("activate_campaign failed: campaign %s set back to PAUSED", campaign_id)
    except Exception:
        log.exception(
            "activate_campaign failed and campaign %s could NOT be paused: check the Ads UI", campaign_id
        )


with DAG(
    dag_id="twads_full_launch",
    description="Create a campaign and its line items, target, promote, wait for approval, activate.",
    doc_md=__doc__,
    schedule="@weekly",
    start_date=pendulum.datetime(2026, 1, 5, tz="UTC"),
    catchup=False,
    max_active_runs=1,
    default_args={"retries": 2, "retry_delay": datetime.timedelta(seconds=5)},
    params={
        "funding_instrument_id": Param(
            "", type="string", description="Empty: the account's only active funding instrument."
        ),
        "daily_budget_amount_local_micro": Param(50_000_000, type="integer", minimum=1),
        "total_budget_amount_local_micro": Param(350_000_000, type="integer", minimum=1),
        "tweet_ids": Param(["1577749323371274241"], type="array", description="Tweets to promote."),
    },
    tags=["twads", "example"],
) as dag:
    create_campaign = CreateCampaignOperator(
        task_id="create_campaign",
        pool=WRITES_POOL,
        name=CAMPAIGN_NAME,
        funding_instrument_id="{{ params.funding_instrument_id }}",
        daily_budget_amount_local_micro="{{ params.daily_budget_amount_local_micro }}",
        total_budget_amount_local_micro="{{ params.total_budget_amount_local_micro }}",
        entity_status="PAUSED",
    )

    create_line_items = CreateLineItemOperator(
        task_id="create_line_items",
        pool=WRITES_POOL,
        campaign_id=create_campaign.output,
        objective="ENGAGEMENTS",
        placements=["ALL_ON_TWITTER"],
        bid_strategy="AUTO",
        # A one-week flight from the next midnight UTC.
        start_time="{{ macros.ds_add(dag_run.run_after | ds, 1) }}T00:00:00Z",
        end_time="{{ macros.ds_add(dag_run.run_after | ds, 8) }}T00:00:00Z",
        line_items=[
            {"name": f"timeline {DAY}"},
            {"name": f"profiles {DAY}", "placements": ["TWITTER_PROFILE"]},
        ],
    )

    attach_targeting = BatchTargetingOperator(
        task_id="attach_targeting",
        pool=WRITES_POOL,
        line_item_ids=create_line_items.output,
        criteria=[
            {"targeting_type": "LOCATION", "targeting_value": "96683cc9126741d1"},
            {"targeting_type": "LANGUAGE", "targeting_value": "en"},
        ],
        mode="replace",
    )

    promote_tweets = PromoteTweetsOperator.partial(
        task_id="promote_tweets", pool=WRITES_POOL, tweet_ids="{{ params.tweet_ids | join(',') }}"
    ).expand(line_item_id=create_line_items.output)

    wait_for_approval = AdsCursorSensor(
        task_id="wait_for_approval",
        resource="promoted_tweets",
        filters={"line_item_ids": create_line_items.output},
        approval_status="ACCEPTED",
        deferrable=True,
        poke_interval=60,
        timeout=6 * 60 * 60,
    )

    activate_line_items = UpdateLineItemOperator(
        task_id="activate_line_items",
        pool=WRITES_POOL,
        line_item_id=create_line_items.output,
        entity_status="ACTIVE",
    )
    activate_campaign = UpdateCampaignOperator(
        task_id="activate_campaign",
        pool=WRITES_POOL,
        campaign_id=create_campaign.output,
        entity_status="ACTIVE",
        on_failure_callback=pause_after_failed_activation,
    )

    @task(trigger_rule="one_failed", retries=3, pool=WRITES_POOL)
    def rollback(name: str) -> list[str]:
        """Delete the day's campaign unless it is ACTIVE; return the deleted IDs."""
        import logging

        from airflow_provider_twads.hooks.ads_api import AdsApiHook
        from airflow_provider_twads.reconcile import delete_campaign, find_campaigns_by_name

        log = logging.getLogger(__name__)
        client = AdsApiHook().get_conn()
        deleted = []
        for campaign in find_campaigns_by_name(client, [name]).get(name, []):
            if campaign.get("entity_status") == "ACTIVE":
                log.warning(
                    "Leaving campaign %s alone: it is ACTIVE (launched by an earlier run)", campaign["id"]
                )
                continue
            log.info(
                "Rolling back campaign %s (%r): %s",
                campaign["id"],
                name,
                delete_campaign(client, campaign["id"]),
            )
            deleted.append(campaign["id"])
        if not deleted:
            log.info("Nothing to roll back for campaign %r", name)
        return deleted

    @task(trigger_rule="one_failed")
    def mark_failed() -> None:
        """Keep the run red after a successful rollback (the rollback alone would leave it green)."""
        raise RuntimeError("the launch failed at an earlier step; its campaign was rolled back")

    steps = [
        create_campaign,
        create_line_items,
        attach_targeting,
        promote_tweets,
        wait_for_approval,
        activate_line_items,
        activate_campaign,
    ]
    create_line_items >> [attach_targeting, promote_tweets]
    [attach_targeting, promote_tweets] >> wait_for_approval >> activate_line_items >> activate_campaign
    steps >> rollback(CAMPAIGN_NAME)
    steps >> mark_failed()
