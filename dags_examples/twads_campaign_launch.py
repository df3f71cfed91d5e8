"""Weekly campaign launch on the X Ads API: the provider's main job, end to end.

What it does, for one launch day (see "Which launch a run makes" below):

1. ``plan_launch`` (a setup task): the launch's line item name and flight, from the run.
2. ``create_line_item``: a line item in the campaign, created **PAUSED** so nothing spends yet; its name is
   the natural key, so a retried, cleared or re-triggered run finds it instead of creating another.
3. ``load_targeting`` + ``attach_targeting``: a few hundred targeting criteria from
   ``dags_examples/data/launch_targeting.json`` (or the ``criteria_file`` param), attached through the batch
   endpoint in ``replace`` mode: the line item ends up with exactly this set, re-runs change nothing.
4. ``promote_tweets``: the Tweets in the ``tweet_ids`` param (already promoted ones are skipped).
5. ``wait_for_approval``: a deferrable sensor that frees its worker slot while X reviews the Tweets, and
   succeeds when every promoted Tweet of the line item is ACCEPTED (a REJECTED one fails fast).
6. ``activate``: the line item goes ACTIVE and starts spending.
7. ``watch_from`` + ``watch_delivery`` (monitoring): a deferrable sensor over the line item's stats that
   succeeds at its first impression and fails, naming the line item, when it has none
   ``deliver_within_hours`` (param) after the activation. A line item that does not deliver spends nothing,
   so it stays ACTIVE; the red run says to check its bid, targeting and Tweets. The watch is skipped when
   the flight is not running: ended (a backfill), or not started yet (a ``launch_date`` ahead: the run ends
   instead of waiting days for the flight, which would hold back the DAG's next runs).
8. ``rollback`` (the teardown of ``plan_launch``): runs once every step above has finished, whatever their
   outcome. If the launch did not go ACTIVE it deletes the line item (targeting and promoted Tweets go with
   it); it finds it by name, so it also cleans up after a create whose response was lost. It never deletes
   an ACTIVE line item, and its log says what it found and what it did. A failed launch ends **failed**:
   Airflow ignores a teardown's success when it decides the run's state.

Which launch a run makes: one line item per campaign, name prefix and **launch day** (UTC). The launch day
is the ``launch_date`` param when given; otherwise the logical date of a manual run that has one (CLI
``-e``, REST API ``logical_date``, ``airflow dags test DAG DATE``); otherwise the day the run was due
(``run_after``: the schedule's tick for scheduled and backfilled runs, the trigger time for a manual run
without a logical date). The flight starts at 00:00 UTC of the launch day and lasts 7 days. So a cleared
or re-run run converges on its own line item, and two manual runs on one day are **one launch** (the
second finds the first's line item and changes nothing); for a second launch on the same day, give it
another ``name_prefix`` or ``launch_date``.

Retries: transient errors (rate limits, 5xx, dropped connections) are retried by the client and then by
Airflow (``retries``), and so are a plain 400 or 404, which another run may have caused; deterministic ones
(validation, missing account feature, a draft, settings that differ from the existing line item's,
credentials) fail at once: the provider's operators raise them as ``AirflowFailException`` too.
If ``activate`` itself fails for good (its PUT may have been applied before the error), its failure
callback first sets the line item back to PAUSED, so a red run never leaves it spending, and the rollback
then removes it.

Connection: ``twitter_ads_default`` (type ``twitter_ads``; see the README). ``make demo`` points it at the
local emulator. Pool: the writing tasks run in the ``twads_writes`` pool, one per ad account; create it once
(``airflow pools set twads_writes 1 "X Ads writes"``), or they never start. Copy the ``data/`` folder along
with this file. To change: the ``campaign_id``, ``name_prefix``, ``launch_date``, ``tweet_ids``,
``bid_amount_local_micro``, ``criteria_file`` and ``deliver_within_hours`` params, the schedule, and
``objective`` (it must match the campaign's other line items).
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
from airflow_provider_twads.sensors.delivery import AdsDeliverySensor

LINE_ITEM = "{{ ti.xcom_pull(task_ids='create_line_item') }}"
FLIGHT_DAYS = 7
# The Airflow pool of every task that writes to the ad account, shared by every DAG writing to it (one pool
# per ad account; a fixed name: pools are not templated). Tasks in a pool that does not exist never start.
WRITES_POOL = "twads_writes"


def launch_day(
    launch_date: str | None,
    run_type: str,
    logical_date: datetime.datetime | None,
    run_after: datetime.datetime,
) -> datetime.date:
    """The UTC day a run launches for: the DAG's rule for every way a run starts (see the DAG's doc).

    :param launch_date: the ``launch_date`` param (``YYYY-MM-DD``), or empty/None.
    :param run_type: the DAG run's type (``manual``, ``scheduled``, ``backfill``, ``asset_triggered``).
    :param logical_date: the run's logical date; None for a run triggered without one.
    :param run_after: when the run was due (never None).
    """
    if launch_date:
        return datetime.date.fromisoformat(str(launch_date))
    # A scheduled or backfilled run's logical date is its interval's start under some timetables (a week
    # early for @weekly); run_after is the tick itself under all of them. A manual run's logical date is
    # the user's explicit choice.
    manual = str(getattr(run_type, "value", run_type)) == "manual"  # DagRunType or its value
    moment = logical_date if manual and logical_date is not None else run_after
    return pendulum.instance(moment).in_timezone("UTC").date()


DEFAULT_ARGS: dict[str, Any] = {"retries": 2, "retry_delay": datetime.timedelta(seconds=5)}


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
    default_args=DEFAULT_ARGS,
    params={
        "campaign_id": Param("8gdx6", type="string", description="Campaign to launch into."),
        "name_prefix": Param(
            "spring-running",
            type="string",
            minLength=1,
            description="The line item is named '<name_prefix> <launch day>': one launch per name.",
        ),
        "launch_date": Param(
            None,
            type=["null", "string"],
            format="date",
            description="Launch day (YYYY-MM-DD, UTC). Empty: the run's logical date, else when it was due.",
        ),
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
        "deliver_within_hours": Param(
            6,
            type="number",
            exclusiveMinimum=0,
            description="Fail the run when the line item has no impression this many hours after its "
            "activation (no watch when its flight is not running).",
        ),
    },
    tags=["twads", "example"],
) as dag:

    @task(multiple_outputs=True)
    def plan_launch(params: dict[str, Any], dag_run: Any) -> dict[str, str]:
        """The launch this run makes: line item name and flight, from the launch day."""
        day = launch_day(params.get("launch_date"), dag_run.run_type, dag_run.logical_date, dag_run.run_after)
        end = day + datetime.timedelta(days=FLIGHT_DAYS)
        return {
            "name": f"{params['name_prefix']} {day.isoformat()}",
            "start_time": f"{day.isoformat()}T00:00:00Z",
            "end_time": f"{end.isoformat()}T00:00:00Z",
        }

    plan = plan_launch()

    create_line_item = CreateLineItemOperator(
        task_id="create_line_item",
        pool=WRITES_POOL,
        campaign_id="{{ params.campaign_id }}",
        name=plan["name"],
        objective="ENGAGEMENTS",
        product_type="PROMOTED_TWEETS",
        placements=["ALL_ON_TWITTER"],
        bid_strategy="MAX",
        bid_amount_local_micro="{{ params.bid_amount_local_micro }}",
        start_time=plan["start_time"],
        end_time=plan["end_time"],
        entity_status="PAUSED",
    )

    @task
    def load_targeting(criteria_file: str) -> list[dict[str, str]]:
        """Read the criteria at run time (never at parse time), relative to this DAG's folder."""
        import json
        from pathlib import Path

        from airflow.providers.common.compat.sdk import AirflowFailException  # every Airflow 3

        path = Path(criteria_file)
        if not path.is_absolute():
            path = Path(__file__).parent / path
        try:
            criteria: list[dict[str, str]] = json.loads(path.read_text())["criteria"]
        except (OSError, ValueError, KeyError) as exc:  # a missing or broken file stays so on a retry
            raise AirflowFailException(f"cannot read the targeting criteria from {path}: {exc!r}") from exc
        return criteria

    attach_targeting = BatchTargetingOperator(
        task_id="attach_targeting",
        pool=WRITES_POOL,
        line_item_ids=LINE_ITEM,
        criteria=load_targeting("{{ params.criteria_file }}"),
        mode="replace",
    )

    promote_tweets = PromoteTweetsOperator(
        task_id="promote_tweets",
        pool=WRITES_POOL,
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
        pool=WRITES_POOL,
        line_item_id=LINE_ITEM,
        entity_status="ACTIVE",
        on_failure_callback=pause_after_failed_activation,
    )

    @task
    def watch_from(start_time: str, end_time: str) -> str:
        """When the live line item can first serve: now, as it was just activated. Skips the watch when its
        flight is not running: ended (a backfilled launch) or not started (a launch planned ahead, whose
        run would otherwise stay open until then and hold back the DAG's next runs)."""
        from airflow.providers.common.compat.sdk import AirflowSkipException  # every Airflow 3

        now = pendulum.now("UTC")
        if pendulum.parse(end_time) <= now:
            raise AirflowSkipException(f"the flight ended at {end_time}: no delivery to watch")
        if pendulum.parse(start_time) > now:
            raise AirflowSkipException(
                f"the flight starts at {start_time}: nothing can deliver before then, no watch in this run"
            )
        return now.strftime("%Y-%m-%dT%H:%M:%SZ")

    live_from = watch_from(plan["start_time"], plan["end_time"])
    watch_delivery = AdsDeliverySensor(
        task_id="watch_delivery",
        entity_ids=LINE_ITEM,
        metric="impressions",
        op=">",
        value=0,
        start_time=live_from,
        within_hours="{{ params.deliver_within_hours }}",
        deferrable=True,
        # Stats read from the account's analytics budget (250 per 15 minutes): every 10 minutes is plenty
        # for "has it started"; the first check runs at once, in the worker.
        poke_interval=10 * 60,
        # A backstop: the sensor fails by within_hours; this only bounds a very large deliver_within_hours.
        timeout=FLIGHT_DAYS * 24 * 60 * 60,
    )

    @task(pool=WRITES_POOL)
    def rollback(campaign_id: str, name: str) -> list[str]:
        """Unless the launch went ACTIVE, delete its line item; log what was found and done."""
        import logging

        from airflow_provider_twads.hooks.ads_api import AdsApiHook
        from airflow_provider_twads.reconcile import delete_line_item, find_line_items_by_name

        log = logging.getLogger(__name__)
        client = AdsApiHook().get_conn()
        items = find_line_items_by_name(client, [campaign_id]).get((campaign_id, name), [])
        if not items:
            log.info("rollback: no line item named %r in campaign %s: nothing to remove", name, campaign_id)
            return []
        if any(item.get("entity_status") == "ACTIVE" for item in items):
            # Launched (by this run or an earlier one for the same day): that is success, not debris.
            log.info(
                "rollback: line item(s) %s named %r are ACTIVE: launched, nothing removed",
                [item["id"] for item in items],
                name,
            )
            return []
        deleted = []
        for item in items:
            outcome = delete_line_item(client, item["id"])
            log.warning(
                "rollback: line item %s (%r, %s) %s, with its targeting and promoted Tweets",
                item["id"],
                name,
                item.get("entity_status"),
                outcome,
            )
            deleted.append(item["id"])
        return deleted

    # The teardown of plan_launch: it waits for every step in between, whatever their outcome. The run's
    # state comes from those steps, not from the teardown: on_failure_fail_dagrun=True would make the
    # teardown a leaf whose success turns a failed launch green.
    cleanup = rollback("{{ params.campaign_id }}", plan["name"]).as_teardown(setups=plan)

    create_line_item >> [attach_targeting, promote_tweets]
    (
        [attach_targeting, promote_tweets]
        >> wait_for_approval
        >> activate
        >> live_from
        >> watch_delivery
        >> cleanup
    )
