"""Daily performance report on the X Ads API: the last 7 days of the account's line items, into a folder.

What it does, each day:

1. ``plan_report``: the report's window, the account's last ``days`` whole days (midnight to midnight in
   the account's time zone, as ``DAY`` stats require) before the run's day (its logical date, else when it
   was due), and the line items with activity in that window (``active_entities``: only those are asked
   for, as the API recommends). No activity: the report is skipped.
2. ``report``: ``AnalyticsReportOperator`` creates the fewest asynchronous analytics jobs the API's limits
   allow (20 line items and 90 days per job), waits for them in the triggerer (it frees its worker slot),
   and streams each result into one JSON-lines file per job under
   ``<output_folder>/report_date=<last day>/``: one row per line item and day, the metrics flattened. A
   retry reattaches to the jobs it already created and rewrites the same files; nothing is duplicated.
3. ``summarize``: reads the files back and logs (and returns) rows, line items, impressions and spend.

Connection: ``twitter_ads_default`` (type ``twitter_ads``; see the README). Output: a local folder
(``output_folder`` param); any ``ObjectStoragePath`` URL works for ``report``'s ``output_path``
(``s3://...`` with the Amazon provider, ``gs://...`` with the Google one). To change: the ``days`` and
``output_folder`` params, ``METRIC_GROUPS``, and the schedule.
"""

from __future__ import annotations

import datetime
from typing import Any

import pendulum
from airflow.sdk import DAG, Param, task

from airflow_provider_twads.operators.analytics import AnalyticsReportOperator

METRIC_GROUPS = ["ENGAGEMENT", "BILLING"]

with DAG(
    dag_id="twads_daily_report",
    description="The last 7 days of line item stats, through analytics jobs, into a local folder.",
    doc_md=__doc__,
    schedule="@daily",
    start_date=pendulum.datetime(2026, 1, 1, tz="UTC"),
    catchup=False,
    max_active_runs=1,
    default_args={"retries": 2, "retry_delay": datetime.timedelta(minutes=1)},
    params={
        "days": Param(7, type="integer", minimum=1, maximum=90, description="Whole days to report."),
        "output_folder": Param(
            "/tmp/twads_reports", type="string", pattern="^/", description="Local folder (absolute path)."
        ),
    },
    tags=["twads", "example"],
) as dag:

    @task(multiple_outputs=True)
    def plan_report(params: dict[str, Any], dag_run: Any) -> dict[str, Any]:
        """The window in the account's days, the line items active in it, and the output folder."""
        from airflow.providers.common.compat.sdk import AirflowSkipException  # every Airflow 3

        from airflow_provider_twads.hooks.ads_api import AdsApiHook

        client = AdsApiHook().get_conn()
        timezone = client.get_account().get("timezone") or "UTC"
        moment = pendulum.instance(dag_run.logical_date or dag_run.run_after)
        end = moment.in_timezone(timezone).start_of("day")
        start = end.subtract(days=int(params["days"]))
        start_time = start.in_timezone("UTC").strftime("%Y-%m-%dT%H:%M:%SZ")
        end_time = end.in_timezone("UTC").strftime("%Y-%m-%dT%H:%M:%SZ")
        active = client.active_entities("LINE_ITEM", start_time, end_time)
        ids = sorted({str(entity["entity_id"]) for entity in active})
        last_day = end.subtract(days=1).date().isoformat()
        if not ids:
            raise AirflowSkipException(f"no line item had activity from {start_time} to {end_time}")
        return {
            "start_time": start_time,
            "end_time": end_time,
            "entity_ids": ids,
            "output_path": f"file://{params['output_folder'].rstrip('/')}/report_date={last_day}",
        }

    plan = plan_report()

    report = AnalyticsReportOperator(
        task_id="report",
        entity="LINE_ITEM",
        entity_ids=plan["entity_ids"],
        start_time=plan["start_time"],
        end_time=plan["end_time"],
        metric_groups=METRIC_GROUPS,
        granularity="DAY",
        output_path=plan["output_path"],
        output_format="jsonl",
        deferrable=True,
        # Jobs take minutes on the real API; each check lists up to 200 jobs in one read.
        poll_interval=60,
    )

    @task
    def summarize(paths: list[str]) -> dict[str, Any]:
        """Read the files back: rows, line items, impressions and spend (micros), logged and returned."""
        import json
        import logging

        from airflow.providers.common.compat.sdk import ObjectStoragePath

        rows = impressions = spend = 0
        entities: set[str] = set()
        for path in paths:
            with ObjectStoragePath(path).open("r") as lines:
                # readline, not iteration: Airflow 3.0's tracked file object is not iterable.
                for line in iter(lines.readline, ""):
                    row = json.loads(line)
                    rows += 1
                    entities.add(row["entity_id"])
                    impressions += row.get("impressions") or 0
                    spend += row.get("billed_charge_local_micro") or 0
        summary = {
            "files": len(paths),
            "rows": rows,
            "line_items": len(entities),
            "impressions": impressions,
            "spend_local_micro": spend,
        }
        logging.getLogger(__name__).info("Report written: %s", summary)
        return summary

    summarize(report.output)
