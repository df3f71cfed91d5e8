"""The daily analytics report in the real deployment: its ``report`` task defers to the real triggerer, its
files match the active line items, and marking it failed while deferred cancels its jobs (the trigger's
``on_kill``, Airflow 3.3).

Both runs are manual, with a logical date, in a folder under AIRFLOW_HOME. The first is triggered before
the DAG is unpaused and takes the latest tick (the last midnight UTC): the scheduler then skips its own run
for that tick instead of writing a report into the default folder.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import time
from collections.abc import Iterator
from typing import Any

from scripts.e2e.airflow_api import AirflowApi
from scripts.e2e.checks import Checks
from scripts.e2e.deployment import Deployment

DAG_ID = "twads_daily_report"
TASK = "report"
DAYS = 7  # the DAG's default
JOB_ENTITIES = 20  # line items per job (the API's limit)
DEFERS_SECONDS = 20  # the jobs' processing delay: long enough that ``report`` defers, short for the run
KILLED_SECONDS = 600  # the killed run's jobs must still be processing when it is marked failed
RUN_TIMEOUT = 300
CANCEL_TIMEOUT = 60


def _client(emu_url: str) -> Any:
    """An API client on the emulator, as the deployment's connection (to list jobs and active entities)."""
    from airflow_provider_twads.api.client import AdsApiClient, Credentials
    from twads_emulator import DEFAULT_CREDENTIALS, SEED

    return AdsApiClient(
        Credentials(**DEFAULT_CREDENTIALS), host=emu_url, api_version="12", account_id=SEED["account_id"]
    )


def _window(logical: dt.datetime, timezone: str) -> tuple[str, str, str]:
    """The DAG's rule, computed here on its own: the ``DAYS`` whole days of the account before the logical
    date's day; ``(start_time, end_time, last day)``."""
    import pendulum

    end = pendulum.instance(logical).in_timezone(timezone).start_of("day")
    start = end.subtract(days=DAYS)
    fmt = "%Y-%m-%dT%H:%M:%SZ"
    last = end.subtract(days=1).date().isoformat()
    return start.in_timezone("UTC").strftime(fmt), end.in_timezone("UTC").strftime(fmt), last


def _iso(moment: dt.datetime) -> str:
    return moment.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _seq(admin: Any) -> int:
    return max((r["seq"] for r in admin.requests()), default=0)


def _job_requests(admin: Any, since: int, method: str) -> list[dict[str, Any]]:
    return [
        r
        for r in admin.requests(since)
        if r["method"] == method and "/stats/jobs/accounts/" in r["path"] and r.get("status") == 200
    ]


def _xcom(api: AirflowApi, run_id: str, task_id: str) -> Any:
    """A task's return value through the REST API (the raw stored JSON, decoded when it is a string)."""
    entry = api.call(
        "GET", f"dags/{DAG_ID}/dagRuns/{run_id}/taskInstances/{task_id}/xcomEntries/return_value"
    )
    value = entry.get("value")
    return json.loads(value) if isinstance(value, str) else value


def _event(line: str) -> str:
    """A log line's message: the ``event`` of a JSON line, else the line."""
    with contextlib.suppress(ValueError, AttributeError):
        return str(json.loads(line)["event"])[:200]
    return line.strip()[:200]


def _trigger_logs(deployment: Deployment, run_id: str) -> str:
    """The trigger's own log files of ``report`` in this run, then the triggerer's component log."""
    folder = deployment.home / "logs" / f"dag_id={DAG_ID}" / f"run_id={run_id}" / f"task_id={TASK}"
    # Joined by newlines: a log file need not end with one.
    own = [f.read_text(errors="replace") for f in sorted(folder.glob("*.trigger.*.log"))]
    return "\n".join([*own, deployment.log("triggerer")])


@contextlib.contextmanager
def _processing_delay(admin: Any) -> Iterator[None]:
    """Put the emulator's job processing delay back as it was, whatever happens in between."""
    before = admin.set_jobs()["processing_seconds"]
    try:
        yield
    finally:
        admin.set_jobs(processing_seconds=before)


def check_daily_report(
    checks: Checks, api: AirflowApi, deployment: Deployment, admin: Any, emu_url: str
) -> None:
    """Both runs: the deferred report and its files, then a report killed while deferred."""
    client = _client(emu_url)
    try:
        timezone = client.get_account().get("timezone") or "UTC"
        api.wait_for_dag(DAG_ID)
        # The tick the scheduler would run on unpausing (the last midnight UTC): the first run takes it.
        tick = api.call("GET", f"dags/{DAG_ID}").get("next_dagrun_logical_date")
        midnight = dt.datetime.now(dt.UTC).replace(hour=0, minute=0, second=0, microsecond=0)
        logical = dt.datetime.fromisoformat(tick) if tick else midnight
        with _processing_delay(admin):
            admin.set_jobs(processing_seconds=DEFERS_SECONDS)
            _check_deferred_report(checks, api, deployment, admin, client, logical, timezone)
            admin.set_jobs(processing_seconds=KILLED_SECONDS)
            _check_kill_cancels_jobs(
                checks, api, deployment, admin, client, logical - dt.timedelta(days=1), timezone
            )
    finally:
        client.close()


def _check_deferred_report(
    checks: Checks,
    api: AirflowApi,
    deployment: Deployment,
    admin: Any,
    client: Any,
    logical: dt.datetime,
    timezone: str,
) -> None:
    start, end, last_day = _window(logical, timezone)
    active = sorted({str(e["entity_id"]) for e in client.active_entities("LINE_ITEM", start, end)})
    if not checks.expect(
        f"the seeded account has line items serving from {start} to {end}", bool(active), f"{len(active)}"
    ):
        return
    folder = deployment.home / "reports" / "deferred"
    seq = _seq(admin)
    # Before unpausing: this run takes the latest tick, so the scheduler does not start one of its own.
    run_id = api.trigger(DAG_ID, conf={"output_folder": str(folder)}, logical_date=_iso(logical))
    api.unpause(DAG_ID)
    run = api.wait_for_run(DAG_ID, run_id, RUN_TIMEOUT)
    tis = api.task_instances(DAG_ID, run_id)
    others = [r["dag_run_id"] for r in api.runs(DAG_ID) if r["dag_run_id"] != run_id]
    checks.expect(
        f"report run (logical date {_iso(logical)}) succeeded; the scheduler started no run of its own",
        run["state"] == "success" and not others,
        f"{run_id} {run['state']}; "
        + ", ".join(f"{t}={ti['state']}" for t, ti in sorted(tis.items()))
        + (f"; other runs: {others}" if others else ""),
    )

    report = tis.get(TASK, {})
    log = api.task_log(DAG_ID, run_id, TASK, report.get("try_number") or 1)
    deferred_at = log.find("Pausing task as DEFERRED")
    resumed = deferred_at >= 0 and "wrote" in log[deferred_at:]
    checks.expect(
        f"{TASK} deferred (jobs processing {DEFERS_SECONDS} s) and resumed in a worker to write",
        deferred_at >= 0 and resumed and report.get("state") == "success",
        f"deferred={deferred_at >= 0}, wrote after resuming={resumed}, try {report.get('try_number')}, "
        f"{report.get('state')}",
    )
    triggered = _trigger_logs(deployment, run_id)
    polled = [_event(line) for line in triggered.splitlines() if "Analytics jobs:" in line]
    checks.expect(
        "the AnalyticsJobsTrigger ran in the triggerer",
        "AnalyticsJobsTrigger" in triggered or bool(polled),
        polled[-1] if polled else "no 'Analytics jobs: k of n finished' line",
    )

    created = _job_requests(admin, seq, "POST")
    files = sorted((folder / f"report_date={last_day}").glob("stats_job_*.jsonl"))
    written = sum(len(f.read_text().splitlines()) for f in files)
    checks.expect(
        f"one file per job created under report_date={last_day}, the fewest jobs",
        len(files) == len(created) == -(-len(active) // JOB_ENTITIES),
        f"{len(files)} file(s), {len(created)} POST stats/jobs, {len(active)} active line items",
    )
    summary = _xcom(api, run_id, "summarize") if tis.get("summarize", {}).get("state") == "success" else {}
    rows = summary.get("rows") if isinstance(summary, dict) else None
    checks.expect(
        f"rows written = summarize's XCom rows = active line items x {DAYS}",
        written == rows == len(active) * DAYS,
        f"{written} in the files, XCom rows={rows}, {len(active)} x {DAYS} = {len(active) * DAYS}",
    )


def _wait_for_state(api: AirflowApi, run_id: str, state: str, timeout: float) -> dict[str, Any]:
    """Poll ``report`` until it is in ``state`` or its run has ended; return the task instance."""
    deadline = time.monotonic() + timeout
    while True:
        ti = api.task_instances(DAG_ID, run_id).get(TASK, {})
        if ti.get("state") == state or time.monotonic() > deadline:
            return ti
        if api.call("GET", f"dags/{DAG_ID}/dagRuns/{run_id}")["state"] in ("success", "failed"):
            return ti
        time.sleep(1)


def _check_kill_cancels_jobs(
    checks: Checks,
    api: AirflowApi,
    deployment: Deployment,
    admin: Any,
    client: Any,
    logical: dt.datetime,
    timezone: str,
) -> None:
    # Another day, so another window: jobs are found by their parameters, these are new ones.
    start, end, _ = _window(logical, timezone)
    folder = deployment.home / "reports" / "killed"
    run_id = api.trigger(DAG_ID, conf={"output_folder": str(folder)}, logical_date=_iso(logical))
    ti = _wait_for_state(api, run_id, "deferred", RUN_TIMEOUT)
    if not checks.expect(
        f"killed run: {TASK} is DEFERRED", ti.get("state") == "deferred", f"{ti.get('state')}"
    ):
        return
    ours = [
        str(j["id_str"])
        for j in client.list_stats_jobs()
        if j.get("start_time") == start and j.get("end_time") == end
    ]
    # DEFERRED is set when the worker hands over; the triggerer picks the trigger up a moment later. A task
    # killed in between runs no trigger code at all (Airflow calls on_kill only on a running trigger), so
    # kill it once the trigger polls its jobs: the case a user meets (docs/analytics.md says the rest).
    polls: list[dict[str, Any]] = []
    waited = time.monotonic()
    while time.monotonic() - waited < CANCEL_TIMEOUT and ours:
        polls = [r for r in _job_requests(admin, 0, "GET") if any(i in str(r.get("query")) for i in ours)]
        if polls:
            break
        time.sleep(0.5)
    if not checks.expect(
        "killed run: its trigger is polling the jobs in the triggerer before the kill",
        bool(ours) and bool(polls),
        f"jobs {sorted(ours)}; {len(polls)} poll(s) by job ID after {time.monotonic() - waited:.0f} s",
    ):
        return
    seq = _seq(admin)
    # What the UI's "Mark as failed" sends.
    api.call("PATCH", f"dags/{DAG_ID}/dagRuns/{run_id}/taskInstances/{TASK}", json={"new_state": "failed"})
    marked = time.monotonic()
    listed, cancelled = set(ours), set()
    while time.monotonic() - marked < CANCEL_TIMEOUT:
        cancelled = {r["path"].rsplit("/", 1)[-1] for r in _job_requests(admin, seq, "DELETE")}
        listed = {str(j["id_str"]) for j in client.list_stats_jobs()} & set(ours)
        if ours and not listed and cancelled >= set(ours):
            break
        time.sleep(1)
    took = time.monotonic() - marked
    triggered = _trigger_logs(deployment, run_id)
    on_kill = "invoking on_kill" in triggered
    said = next((_event(line) for line in triggered.splitlines() if "cancelled analytics jobs" in line), "")
    checks.expect(
        f"marked failed while deferred: its {len(ours)} job(s) cancelled within {CANCEL_TIMEOUT} s",
        bool(ours) and not listed and cancelled >= set(ours),
        f"jobs {sorted(ours)}; DELETE answered for {sorted(cancelled)}; still listed {sorted(listed)}; "
        f"{took:.0f} s",
        took,
    )
    checks.expect(
        "the triggerer invoked the trigger's on_kill, which says what it cancelled",
        on_kill and bool(said),
        said or f"invoking on_kill={on_kill}, no 'cancelled analytics jobs' line",
    )
    run = api.wait_for_run(DAG_ID, run_id, RUN_TIMEOUT)
    states = {t: t_i["state"] for t, t_i in api.task_instances(DAG_ID, run_id).items()}
    checks.expect(
        "killed run: ends failed, nothing written",
        run["state"] == "failed" and states.get(TASK) == "failed" and not any(folder.rglob("*.jsonl")),
        f"{run['state']}; " + ", ".join(f"{t}={s}" for t, s in sorted(states.items())),
    )
