"""A small launch DAG run by tests/operators/test_dag_runs.py through ``dag.test()``."""

from __future__ import annotations

import pendulum
from airflow.sdk import DAG

from airflow_provider_twads.operators.line_items import CreateLineItemOperator, UpdateLineItemOperator
from airflow_provider_twads.operators.promoted_tweets import PromoteTweetsOperator
from airflow_provider_twads.operators.targeting import BatchTargetingOperator
from airflow_provider_twads.sensors.cursor import AdsCursorSensor

LINE_ITEM = "{{ ti.xcom_pull(task_ids='create_line_item') }}"

with DAG(
    "twads_operators_test",
    start_date=pendulum.datetime(2024, 1, 1, tz="UTC"),
    schedule="@daily",
    catchup=False,
    params={"campaign_id": "8slvg", "tweet_ids": ["1800000000000000001", "1800000000000000002"]},
) as dag:
    create = CreateLineItemOperator(
        task_id="create_line_item",
        campaign_id="{{ params.campaign_id }}",
        name="daily {{ ds }}",
        objective="ENGAGEMENTS",
        bid_strategy="AUTO",
        start_time="{{ data_interval_start }}",
        end_time="{{ data_interval_end.add(days=7) }}",
    )
    targeting = BatchTargetingOperator(
        task_id="targeting",
        line_item_ids=LINE_ITEM,
        criteria=[
            {"targeting_type": "LOCATION", "targeting_value": "96683cc9126741d1"},
            {"targeting_type": "BROAD_KEYWORD", "targeting_value": "running"},
        ],
        mode="replace",
    )
    promote = PromoteTweetsOperator(
        task_id="promote", line_item_id=LINE_ITEM, tweet_ids="{{ params.tweet_ids | join(',') }}"
    )
    wait = AdsCursorSensor(
        task_id="wait_for_approval",
        resource="promoted_tweets",
        filters={"line_item_ids": [LINE_ITEM]},
        approval_status="ACCEPTED",
        deferrable=True,
        poke_interval=0.2,
        timeout=60,
    )
    activate = UpdateLineItemOperator(task_id="activate", line_item_id=LINE_ITEM, entity_status="ACTIVE")
    create >> targeting >> promote >> wait >> activate
