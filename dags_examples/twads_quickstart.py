"""Quick start: every week, a line item created PAUSED, targeted, with a Tweet promoted; once X approves
the Tweet, the line item is activated. Connection: ``twitter_ads_default``. The campaign and Tweet IDs are
the local emulator's: put yours.
"""

import pendulum
from airflow.sdk import DAG

from airflow_provider_twads.operators.line_items import CreateLineItemOperator, UpdateLineItemOperator
from airflow_provider_twads.operators.promoted_tweets import PromoteTweetsOperator
from airflow_provider_twads.operators.targeting import BatchTargetingOperator
from airflow_provider_twads.sensors.cursor import AdsCursorSensor

with DAG(
    "twads_quickstart",
    schedule="@weekly",
    start_date=pendulum.datetime(2026, 1, 5, tz="UTC"),
    catchup=False,
    doc_md=__doc__,
):
    create = CreateLineItemOperator(  # created PAUSED: nothing spends yet
        task_id="create",
        campaign_id="8gdx6",
        # The day the run was due or triggered: every run has one, logical date or not, and its retries
        # render the same, so the name (the natural key within the campaign) finds an earlier try's work.
        name="quickstart {{ dag_run.run_after | ds }}",
        objective="ENGAGEMENTS",
        placements=["ALL_ON_TWITTER"],
        bid_strategy="AUTO",
        # A one-week flight from the next midnight UTC.
        start_time="{{ macros.ds_add(dag_run.run_after | ds, 1) }}T00:00:00Z",
        end_time="{{ macros.ds_add(dag_run.run_after | ds, 8) }}T00:00:00Z",
    )
    targeting = BatchTargetingOperator(
        task_id="targeting",
        line_item_ids=create.output,
        criteria=[{"targeting_type": "LOCATION", "targeting_value": "96683cc9126741d1"}],
        mode="replace",
    )
    promote = PromoteTweetsOperator(
        task_id="promote", line_item_id=create.output, tweet_ids=["1577749323371274241"]
    )
    approved = AdsCursorSensor(
        task_id="approved",
        resource="promoted_tweets",
        filters={"line_item_ids": create.output},
        approval_status="ACCEPTED",
        deferrable=True,  # waits in the triggerer, not in a worker slot
        poke_interval=300,
    )
    activate = UpdateLineItemOperator(task_id="activate", line_item_id=create.output, entity_status="ACTIVE")
    [targeting, promote] >> approved >> activate
