"""The launch DAG in the real deployment: triggered through the REST API with no logical date, again from
the CLI (it converges), and a launch whose Tweet is rejected (it ends failed, its line item removed)."""

from __future__ import annotations

import collections
import json
import re
import time
from pathlib import Path
from typing import Any

from scripts.e2e.airflow_api import AirflowApi
from scripts.e2e.checks import Checks
from scripts.e2e.deployment import Deployment

DAG_ID = "twads_campaign_launch"
REPO = Path(__file__).resolve().parents[2]
CRITERIA = json.loads((REPO / "dags_examples/data/launch_targeting.json").read_text())["criteria"]
TWEETS = 20  # the DAG's default tweet_ids
REJECTED_TWEET = str(1_600_000_000_000_000_000 + 5)  # one of them
RUN_TIMEOUT = 600


def _launched(admin: Any, name: str) -> dict[str, Any]:
    """The line items named ``name`` (deleted ones too), and the live criteria and Tweets of live ones."""
    state = admin.state("line_items", "targeting_criteria", "promoted_tweets")
    items = [li for li in state["line_items"] if li.get("name") == name]
    live = {li["id"] for li in items if not li.get("deleted")}

    def of_live(kind: str) -> list[dict[str, Any]]:
        return [e for e in state[kind] if e["line_item_id"] in live and not e.get("deleted")]

    return {"items": items, "criteria": of_live("targeting_criteria"), "tweets": of_live("promoted_tweets")}


def _day(run: dict[str, Any]) -> str:
    """The launch day the DAG's rule gives a manual run without a logical date: the UTC day of run_after."""
    return str(run["run_after"])[:10]


def _check_launched_once(checks: Checks, admin: Any, name: str, label: str) -> None:
    got = _launched(admin, name)
    live = [li for li in got["items"] if not li.get("deleted")]
    checks.expect(
        f"{label}: exactly one line item named {name!r}, ACTIVE",
        len(got["items"]) == 1 and len(live) == 1 and live[0]["entity_status"] == "ACTIVE",
        ", ".join(f"{li['id']} {li['entity_status']} deleted={li.get('deleted')}" for li in got["items"]),
    )
    if live:
        day = name.rsplit(" ", 1)[-1]
        checks.expect(
            f"{label}: flight starts at 00:00 UTC of the launch day",
            str(live[0].get("start_time", "")).startswith(f"{day}T00:00:00"),
            f"{live[0].get('start_time')} .. {live[0].get('end_time')}",
        )
    keys = collections.Counter(
        (c["targeting_type"], c["targeting_value"], c.get("operator_type", "EQ")) for c in got["criteria"]
    )
    checks.expect(
        f"{label}: targeting attached once each",
        len(keys) == len(CRITERIA) and max(keys.values(), default=0) == 1,
        f"{sum(keys.values())} criteria, {len(keys)} distinct, {len(CRITERIA)} wanted",
    )
    tweets = collections.Counter(str(t["tweet_id"]) for t in got["tweets"])
    statuses = collections.Counter(t.get("approval_status") for t in got["tweets"])
    checks.expect(
        f"{label}: {TWEETS} promoted Tweets, each once, ACCEPTED",
        len(tweets) == TWEETS and max(tweets.values(), default=0) == 1 and set(statuses) == {"ACCEPTED"},
        f"{sum(tweets.values())} promoted, approval {dict(statuses)}",
    )


def check_scheduled_runs(checks: Checks, api: AirflowApi, admin: Any) -> None:
    """Unpausing starts the latest scheduled run (catchup=False still runs the last tick): it launches too."""
    deadline = time.monotonic() + 60
    while not (runs := api.runs(DAG_ID)) and time.monotonic() < deadline:
        time.sleep(2)
    scheduled = [r for r in runs if r["run_type"] == "scheduled"]
    if not checks.expect(
        "unpausing started the latest scheduled run", bool(scheduled), f"{len(runs)} run(s)"
    ):
        return
    for run in scheduled:
        done = api.wait_for_run(DAG_ID, run["dag_run_id"], RUN_TIMEOUT)
        checks.expect(
            f"scheduled run {run['dag_run_id']} succeeded", done["state"] == "success", done["state"]
        )
        _check_launched_once(checks, admin, f"spring-running {_day(done)}", "scheduled launch")


def check_launch_without_logical_date(
    checks: Checks, api: AirflowApi, deployment: Deployment, admin: Any
) -> None:
    """REST trigger with ``logical_date: null``; the sensor defers and resumes; the emulator's end state."""
    prefix = "e2e-rest"
    run_id = api.trigger(DAG_ID, conf={"name_prefix": prefix})
    run = api.wait_for_run(DAG_ID, run_id, RUN_TIMEOUT)
    tis = api.task_instances(DAG_ID, run_id)
    checks.expect(
        "REST trigger without logical date: run succeeded",
        run["state"] == "success" and run.get("logical_date") is None,
        f"{run_id} {run['state']}, logical_date={run.get('logical_date')}; "
        + ", ".join(f"{t}={ti['state']}" for t, ti in sorted(tis.items())),
    )
    sensor = tis.get("wait_for_approval", {})
    log = api.task_log(DAG_ID, run_id, "wait_for_approval", sensor.get("try_number") or 1)
    # The task log holds both halves (worker, then worker again after the triggerer fired); the trigger's
    # own log sits beside it.
    folder = deployment.home / "logs" / f"dag_id={DAG_ID}" / f"run_id={run_id}" / "task_id=wait_for_approval"
    trigger_log = "".join(f.read_text(errors="replace") for f in folder.glob("*.trigger.*.log"))
    deferred_at = log.find("Pausing task as DEFERRED")
    resumed = deferred_at >= 0 and "Condition met" in log[deferred_at:]
    fired = "Trigger fired event" in trigger_log + log
    checks.expect(
        "the approval sensor deferred to the triggerer and resumed",
        deferred_at >= 0 and resumed and fired and sensor.get("state") == "success",
        f"deferred={deferred_at >= 0}, trigger fired={fired}, resumed in the worker={resumed}, "
        f"try {sensor.get('try_number')}",
    )
    _check_launched_once(checks, admin, f"{prefix} {_day(run)}", "REST launch")
    rollback = api.task_log(DAG_ID, run_id, "rollback", tis.get("rollback", {}).get("try_number") or 1)
    checks.expect(
        "the teardown of a successful launch removes nothing and says so",
        "nothing removed" in rollback,
        _log_line(rollback, "rollback:"),
    )

    # The same launch again, from the CLI with no date: one launch per name and day, so it converges.
    seen = len(admin.requests())
    cli = deployment.airflow("dags", "trigger", DAG_ID, "--conf", json.dumps({"name_prefix": prefix}))
    match = re.search(r"manual__[^\s|'\"]+", cli.stdout)
    detail = match.group(0) if match else (cli.stdout + cli.stderr)[-300:]
    if not checks.expect(
        "CLI trigger without logical date accepted", cli.returncode == 0 and bool(match), detail
    ):
        return
    assert match is not None
    again = api.wait_for_run(DAG_ID, match.group(0), RUN_TIMEOUT)
    writes = [f"{r['method']} {r['path']}" for r in admin.requests()[seen:] if r["method"] != "GET"]
    checks.expect(
        "a second run on the same day converges: success, nothing created",
        again["state"] == "success" and not any(w.startswith("POST") for w in writes),
        f"{again['state']}; writes: {writes or 'none'}",
    )
    _check_launched_once(checks, admin, f"{prefix} {_day(again)}", "after the CLI re-run")


def _log_line(log: str, marker: str) -> str:
    return next((line.strip()[:300] for line in log.splitlines() if marker in line), f"no {marker!r} line")


def check_rejected_launch_rolls_back(checks: Checks, api: AirflowApi, admin: Any) -> None:
    """A Tweet is rejected: the run ends failed, no retries, and the teardown removes its line item."""
    prefix = "e2e-rejected"
    admin.set_approval({"status": "ACCEPTED", "after_seconds": 2, "tweets": {REJECTED_TWEET: "REJECTED"}})
    run_id = api.trigger(DAG_ID, conf={"name_prefix": prefix})
    run = api.wait_for_run(DAG_ID, run_id, RUN_TIMEOUT)
    tis = api.task_instances(DAG_ID, run_id)
    states = {t: ti["state"] for t, ti in tis.items()}
    checks.expect(
        "rejected Tweet: the run ends failed",
        run["state"] == "failed",
        f"{run['state']}; " + ", ".join(f"{t}={s}" for t, s in sorted(states.items())),
    )
    sensor = tis.get("wait_for_approval", {})
    checks.expect(
        "rejected Tweet: the sensor fails once, without retries; activate never runs",
        sensor.get("state") == "failed"
        and sensor.get("try_number") == 1
        and states.get("activate") != "success",
        f"wait_for_approval {sensor.get('state')} try {sensor.get('try_number')}, "
        f"activate {states.get('activate')}",
    )
    got = _launched(admin, f"{prefix} {_day(run)}")
    checks.expect(
        "rejected Tweet: its line item was removed and never ACTIVE",
        len(got["items"]) == 1
        and got["items"][0].get("deleted") is True
        and got["items"][0]["entity_status"] != "ACTIVE",
        ", ".join(f"{li['id']} {li['entity_status']} deleted={li.get('deleted')}" for li in got["items"]),
    )
    rollback = api.task_log(DAG_ID, run_id, "rollback", tis.get("rollback", {}).get("try_number") or 1)
    checks.expect(
        "rejected Tweet: the teardown ran after the launch tasks and its log says what it removed",
        states.get("rollback") == "success" and "deleted" in rollback,
        _log_line(rollback, "rollback:"),
    )
    admin.set_approval({"status": "ACCEPTED", "after_seconds": 3})
