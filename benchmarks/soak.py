"""Chaos soak of the campaign launch: the launch DAG's real operators, many times, under random faults.

Each run is one DAG run of ``dags_examples/twads_campaign_launch.py`` for its own week (so its own line
item name), executed in this process the way a worker would: every task of the DAG is copied, its
template fields rendered with a task context (params, data interval, XComs of the upstream tasks), and its
``execute`` called; a failed task is re-run up to its ``retries`` as Airflow does (``AirflowFailException``
is never retried); the deferrable sensor's trigger runs in-process and resumes the task with its event;
when a step fails for good, the DAG's ``rollback`` task runs. Meanwhile the emulator injects seeded random
faults of every kind (429, 503 with ``retry-after``, 500, latency, dropped connections, commit-then-drop),
and some runs get a REJECTED Tweet or an outage of one endpoint so that the rollback path is exercised too.

After each run the emulator's state is compared with what the run should have left:

- success: exactly one ACTIVE line item with that name, every criterion and Tweet exactly once, ACCEPTED;
- failure: a clear, typed error, and nothing of the run left live (its line item deleted by the rollback).

Duplicates (an entity written twice, even if deleted later) and lost writes (something a task reported as
written, or that a successful run needs, missing from the emulator) must both be 0.

Usage: ``make soak`` (200 runs) or ``python benchmarks/soak.py --runs 50 --seed 7``.
"""

from __future__ import annotations

import argparse
import asyncio
import collections
import copy
import importlib.util
import json
import logging
import os
import random
import sys
import tempfile
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from types import SimpleNamespace
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
DAG_FILE = ROOT / "dags_examples" / "twads_campaign_launch.py"
DAG_ID = "twads_campaign_launch"
#: The launch's steps in dependency order, and the teardown that runs when one of them fails for good.
STEPS = (
    "plan_launch",
    "create_line_item",
    "load_targeting",
    "attach_targeting",
    "promote_tweets",
    "wait_for_approval",
    "activate",
)
ROLLBACK = "rollback"
FAULT_KINDS = ("429", "503", "500", "latency", "drop", "commit_then_drop")
#: The first run's data interval end; run k launches the week ending k days later (a distinct name each).
FIRST_DAY = (2031, 1, 6)

log = logging.getLogger("twads.soak")


def _prepare_airflow_env() -> None:
    """Airflow reads its configuration on first import: give a standalone soak a throwaway home."""
    if "AIRFLOW_HOME" not in os.environ:
        os.environ["AIRFLOW_HOME"] = tempfile.mkdtemp(prefix="twads-soak-airflow-")
    os.environ.setdefault("AIRFLOW__CORE__LOAD_EXAMPLES", "False")
    os.environ.setdefault("AIRFLOW__CORE__UNIT_TEST_MODE", "True")
    # The tasks' own logs (every retry, every batch) would drown the figures; -v shows the soak's lines.
    os.environ.setdefault("AIRFLOW__LOGGING__LOGGING_LEVEL", "ERROR")


# ----------------------------------------------------------------------------------------------------------
# Running the DAG's tasks in-process
# ----------------------------------------------------------------------------------------------------------
class SoakTaskInstance:
    """What the tasks read from ``context["ti"]``: identity, XCom push and pull (kept per run)."""

    def __init__(self, run: RunContext, task_id: str, try_number: int) -> None:
        self._run = run
        self.dag_id = DAG_ID
        self.task_id = task_id
        self.run_id = run.run_id
        self.map_index = -1
        self.try_number = try_number

    def xcom_push(self, key: str, value: Any) -> None:
        self._run.xcoms[(self.task_id, key)] = value

    def xcom_pull(
        self, task_ids: str | None = None, key: str = "return_value", default: Any = None, **_: Any
    ) -> Any:
        return self._run.xcoms.get((task_ids or self.task_id, key), default)


@dataclass
class RunContext:
    """One soak run: its DAG run identity and the XComs its tasks pushed."""

    number: int
    run_id: str
    data_interval_start: Any
    data_interval_end: Any
    params: dict[str, Any]
    xcoms: dict[tuple[str, str], Any] = field(default_factory=dict)


@dataclass
class Totals:
    """What the soak counted."""

    runs: int = 0
    succeeded: int = 0
    rolled_back: int = 0
    faults: collections.Counter[str] = field(default_factory=collections.Counter)
    task_retries: int = 0
    deferrals: int = 0
    http_calls: int = 0
    api_requests: int = 0
    http_retries: int = 0
    waits: float = 0.0
    duplicates: int = 0
    lost_writes: int = 0
    left_behind: int = 0
    unclear_errors: int = 0
    failure_reasons: collections.Counter[str] = field(default_factory=collections.Counter)
    failures_by_scenario: collections.Counter[str] = field(default_factory=collections.Counter)
    problems: list[str] = field(default_factory=list)
    seconds: float = 0.0

    def add(self, o: RunOutcome) -> None:
        """Count one run."""
        self.runs += 1
        self.succeeded += o.failure is None
        self.faults.update(o.faults)
        self.task_retries += o.task_retries
        self.deferrals += o.deferrals
        self.http_calls += o.http_calls
        self.api_requests += o.api_requests
        self.http_retries += o.http_retries
        self.waits += o.waits
        self.duplicates += o.verdict.duplicates
        self.lost_writes += o.verdict.lost_writes
        self.left_behind += o.verdict.left_behind
        self.problems += o.verdict.problems
        if o.failure is not None:
            self.rolled_back += o.rollback_error is None
            self.failure_reasons[type(o.failure).__name__] += 1
            self.failures_by_scenario[o.scenario] += 1
            self.unclear_errors += not is_clear_error(o.failure)

    def as_dict(self) -> dict[str, Any]:
        counters = ("faults", "failure_reasons", "failures_by_scenario", "problems")
        out = {k: v for k, v in self.__dict__.items() if k not in counters}
        out["failures_by_scenario"] = dict(self.failures_by_scenario)
        out["faults"] = {k: self.faults.get(k, 0) for k in FAULT_KINDS}
        out["failure_reasons"] = dict(self.failure_reasons)
        out["problems"] = list(self.problems)
        out["waits"] = round(self.waits, 2)
        out["seconds"] = round(self.seconds, 1)
        return out


def load_launch_dag() -> Any:
    """The launch DAG object, imported from its file (parse only: no DB, no HTTP)."""
    spec = importlib.util.spec_from_file_location("_twads_soak_launch_dag", DAG_FILE)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.dag


class LaunchRunner:
    """Runs the launch DAG's tasks in this process, with Airflow's retry semantics.

    :param dag: the launch DAG.
    :param retry: the HTTP client's retry policy (short waits for a soak).
    :param poll_interval: the sensor's poke / trigger poll interval, seconds (the DAG's is 2 s).
    """

    def __init__(self, dag: Any, retry: Any, poll_interval: float = 0.2) -> None:
        self.dag = dag
        self.retry = retry
        self.poll_interval = poll_interval
        self.env = dag.get_template_env()
        self.clients: list[Any] = []
        self.task_retries = 0
        self.deferrals = 0

    def context(self, run: RunContext, task: Any, ti: SoakTaskInstance) -> dict[str, Any]:
        return {
            "dag": self.dag,
            "task": task,
            "ti": ti,
            "task_instance": ti,
            "run_id": run.run_id,
            "params": run.params,
            "data_interval_start": run.data_interval_start,
            "data_interval_end": run.data_interval_end,
            "logical_date": run.data_interval_end,
            "ds": run.data_interval_end.to_date_string(),
            # A scheduled run due at the end of its interval: the DAG's plan_launch takes its launch day
            # from run_after (see launch_day in the DAG).
            "dag_run": SimpleNamespace(
                run_id=run.run_id,
                run_type="scheduled",
                logical_date=run.data_interval_end,
                run_after=run.data_interval_end,
            ),
        }

    def _attempt(self, run: RunContext, task_id: str, try_number: int, overrides: Mapping[str, Any]) -> Any:
        """One try of a task: a fresh copy of the operator (as a new worker process has), rendered, run."""
        from airflow.sdk.exceptions import TaskDeferred

        from airflow_provider_twads.hooks.ads_api import AdsApiHook

        task = copy.deepcopy(self.dag.get_task(task_id))
        for key, value in overrides.items():
            setattr(task, key, value)
        ti = SoakTaskInstance(run, task_id, try_number)
        context = self.context(run, task, ti)
        task.render_template_fields(context, self.env)
        if hasattr(task, "twitter_ads_conn_id"):
            # The operator's own hook (AdsApiHookMixin.hook), with the soak's short retry waits.
            hook = AdsApiHook(
                twitter_ads_conn_id=task.twitter_ads_conn_id,
                account_id=task.account_id or None,
                retry=self.retry,
            )
            task.__dict__["hook"] = hook
            self.clients.append(hook.get_conn())
        try:
            result = task.execute(context)
        except TaskDeferred as deferred:
            self.deferrals += 1
            event = asyncio.run(_first_event(deferred.trigger, self.poll_interval))
            result = getattr(task, deferred.method_name)(context, event=event, **(deferred.kwargs or {}))
        ti.xcom_push("return_value", result)
        if getattr(task, "multiple_outputs", False) and isinstance(result, dict):
            for key, value in result.items():  # what Airflow's task runner pushes for multiple_outputs
                ti.xcom_push(key, value)
        return result

    def run_task(self, run: RunContext, task_id: str, overrides: Mapping[str, Any] | None = None) -> Any:
        """Run a task with its retries; raise the last error when every try failed."""
        from airflow.sdk.exceptions import AirflowFailException, AirflowSensorTimeout

        task = self.dag.get_task(task_id)
        tries = 1 + int(task.retries or 0)
        for try_number in range(1, tries + 1):
            try:
                return self._attempt(run, task_id, try_number, overrides or {})
            except (AirflowFailException, AirflowSensorTimeout):
                raise  # Airflow fails these at once, retries or not
            except Exception as exc:
                if try_number == tries:
                    raise
                self.task_retries += 1
                log.info("run %d: %s try %d of %d failed (%s); retrying", run.number, task_id, try_number,
                         tries, _short(exc))  # fmt: skip
        raise AssertionError("unreachable")

    def close(self) -> None:
        for client in self.clients:
            client.close()


async def _first_event(trigger: Any, poll_interval: float) -> Any:
    """Run a trigger as the triggerer would, until its first event (the soak polls faster than the DAG)."""
    trigger.poll_interval = poll_interval
    agen = trigger.run()
    try:
        event = await agen.__anext__()
    finally:
        await agen.aclose()
    return event.payload


def _short(exc: BaseException) -> str:
    return f"{type(exc).__name__}: {' '.join(str(exc).split())[:160]}"


# ----------------------------------------------------------------------------------------------------------
# Faults and checks
# ----------------------------------------------------------------------------------------------------------
def fault_config(seed: int, rng: random.Random, first_write_fault: str) -> tuple[dict[str, Any], str]:
    """The emulator's fault configuration for one run, and the run's scenario name.

    Every run gets random faults of every kind, and one fault of the given kind on one of its first writes
    (so that every kind is injected whatever the random draws). About one run in twelve also gets an
    outage of one endpoint, so that a step fails for good and the rollback runs.

    :param seed: the emulator's seed for this run's random faults.
    :param rng: the soak's random source (scenario, position of the scripted fault).
    :param first_write_fault: the kind of the scripted fault.
    """
    retry_after = rng.choice((0, 0, 0, 1))
    rules: list[dict[str, Any]] = [
        {"kind": "429", "probability": 0.01},
        {"kind": "503", "probability": 0.04},
        {"kind": "500", "probability": 0.03},
        {"kind": "latency", "probability": 0.05, "seconds": 0.05},
        {"kind": "drop", "probability": 0.03},
        {"kind": "commit_then_drop", "probability": 0.06},
    ]
    scenario = "random faults"
    roll = rng.random()
    if roll < 0.05:
        scenario = "promoted tweets outage"
        rules.insert(
            0,
            {
                "kind": "503",
                "probability": 1.0,
                "method": "POST",
                "path": "/promoted_tweets$",
                "retry_after": 0,
            },
        )
    elif roll < 0.08:
        scenario = "targeting outage"
        rules.insert(0, {"kind": "500", "probability": 1.0, "path": "/targeting_criteria$"})
    script = ["none"] * rng.randint(0, 2) + [first_write_fault]
    config = {
        "seed": seed,
        "retry_after": retry_after,
        "script": script,
        "match": {"method": "POST"},
        "rules": rules,
    }
    return config, scenario


def criterion_key(c: Mapping[str, Any]) -> tuple[str, str, str]:
    return (str(c["targeting_type"]), str(c["targeting_value"]), str(c.get("operator_type") or "EQ"))


@dataclass
class Verdict:
    duplicates: int
    lost_writes: int
    left_behind: int
    problems: list[str]


def check_run(
    state: Mapping[str, Any],
    name: str,
    *,
    succeeded: bool,
    criteria: list[Mapping[str, Any]],
    tweet_ids: list[str],
    xcoms: Mapping[tuple[str, str], Any],
) -> Verdict:
    """Compare the emulator's state with what the run should have left (see the module docstring)."""
    problems: list[str] = []
    items = [li for li in state["line_items"] if li.get("name") == name]
    ids = {str(li["id"]) for li in items}
    criteria_rows = [c for c in state["targeting_criteria"] if str(c.get("line_item_id")) in ids]
    tweet_rows = [p for p in state["promoted_tweets"] if str(p.get("line_item_id")) in ids]

    # Duplicates: any entity written twice, deleted since or not (a fresh line item starts empty).
    dup_items = max(0, len(items) - 1)
    by_key = collections.Counter((str(c["line_item_id"]), criterion_key(c)) for c in criteria_rows)
    dup_criteria = sum(n - 1 for n in by_key.values())
    by_tweet = collections.Counter((str(p["line_item_id"]), str(p["tweet_id"])) for p in tweet_rows)
    dup_tweets = sum(n - 1 for n in by_tweet.values())
    duplicates = dup_items + dup_criteria + dup_tweets
    if duplicates:
        problems.append(
            f"{name}: duplicates: {dup_items} line items, {dup_criteria} criteria, {dup_tweets} tweets"
        )

    lost = 0
    left = 0
    # Whatever a task reported as written must be in the emulator.
    reported_li = xcoms.get(("create_line_item", "return_value"))
    if reported_li is not None and str(reported_li) not in ids:
        lost += 1
        problems.append(f"{name}: create_line_item returned {reported_li}, not in the emulator")
    summary = xcoms.get(("attach_targeting", "return_value")) or {}
    known_tc = {str(c["id"]) for c in criteria_rows}
    missing_tc = [i for i in summary.get("created", []) if str(i) not in known_tc]
    known_pt = {str(p["id"]) for p in tweet_rows}
    missing_pt = [i for i in xcoms.get(("promote_tweets", "return_value")) or [] if str(i) not in known_pt]
    if missing_tc or missing_pt:
        lost += len(missing_tc) + len(missing_pt)
        problems.append(f"{name}: reported but absent: {len(missing_tc)} criteria, {len(missing_pt)} tweets")

    live = [li for li in items if not li.get("deleted")]
    if succeeded:
        if len(live) != 1 or live[0].get("entity_status") != "ACTIVE":
            lost += 1
            problems.append(
                f"{name}: expected one ACTIVE line item, found "
                + repr([(li["id"], li.get("entity_status"), li.get("deleted")) for li in items])
            )
        else:
            li_id = str(live[0]["id"])
            have = {
                criterion_key(c)
                for c in criteria_rows
                if str(c["line_item_id"]) == li_id and not c.get("deleted")
            }
            want = {criterion_key(c) for c in criteria}
            tweets = {
                str(p["tweet_id"]): p
                for p in tweet_rows
                if str(p["line_item_id"]) == li_id and not p.get("deleted")
            }
            missing = len(want - have) + len(set(tweet_ids) - set(tweets))
            extra = len(have - want) + len(set(tweets) - set(tweet_ids))
            not_accepted = [t for t, p in tweets.items() if p.get("approval_status") != "ACCEPTED"]
            if missing or extra or not_accepted:
                lost += missing
                problems.append(
                    f"{name}: {missing} missing, {extra} unexpected, {len(not_accepted)} not ACCEPTED"
                )
                if extra or not_accepted:
                    left += extra + len(not_accepted)
    elif live:
        left += len(live)
        problems.append(
            f"{name}: the run failed but {len(live)} line item(s) are still live: {[li['id'] for li in live]}"
        )
    return Verdict(duplicates, lost, left, problems)


# ----------------------------------------------------------------------------------------------------------
# One run, and the soak
# ----------------------------------------------------------------------------------------------------------
def soak_retry_policy() -> Any:
    """Short waits: the soak is about correctness under faults, not about waiting politely."""
    from airflow_provider_twads.api.core import RetryPolicy

    return RetryPolicy(
        max_attempts=5, backoff_initial=0.02, backoff_max=0.2, jitter=0.05, rate_limit_fallback_wait=0.5
    )


def is_clear_error(exc: BaseException) -> bool:
    """A failure a person can act on: the provider's typed errors, or Airflow's own task failures."""
    from airflow.sdk.exceptions import AirflowException

    from airflow_provider_twads.api.errors import AdsApiError
    from airflow_provider_twads.reconcile import ReconcileError

    return isinstance(exc, AdsApiError | ReconcileError | AirflowException) and bool(str(exc).strip())


@dataclass
class Launch:
    """The shared, parsed inputs of every run: the DAG, its criteria and its default params."""

    dag: Any
    criteria: list[dict[str, Any]]
    params: dict[str, Any]

    @classmethod
    def load(cls) -> Launch:
        dag = load_launch_dag()
        data = json.loads((DAG_FILE.parent / "data" / "launch_targeting.json").read_text())
        params = {k: dag.params.get_param(k).value for k in dag.params}
        return cls(dag, data["criteria"], params)


@dataclass
class RunOutcome:
    """What one run did and left."""

    number: int
    name: str
    scenario: str
    failure: BaseException | None
    rollback_error: BaseException | None
    verdict: Verdict
    faults: collections.Counter[str]
    task_retries: int
    deferrals: int
    http_calls: int
    api_requests: int
    http_retries: int
    waits: float
    xcoms: dict[tuple[str, str], Any]


def launch_once(
    emulator: Any,
    launch: Launch,
    number: int,
    *,
    faults: Mapping[str, Any] | None = None,
    approval: Mapping[str, Any] | None = None,
    tweet_ids: list[str] | None = None,
    deferrable: bool = True,
    scenario: str = "",
) -> RunOutcome:
    """Run the launch once for day ``number`` (its own line item name), then check the emulator's state.

    :param emulator: the emulator (``admin`` sets faults and approval, reads the state and request log).
    :param launch: the parsed DAG and its inputs.
    :param number: the run's number: the data interval ends ``number - 1`` days after the first run's.
    :param faults: the emulator's fault configuration during the run (cleared after it).
    :param approval: the emulator's approval rule for promoted Tweets.
    :param tweet_ids: the ``tweet_ids`` param (default: the DAG's).
    :param deferrable: run the sensor deferrable (the DAG's setting; the trigger runs in-process) or poking.
    :param scenario: a label for logs.
    """
    import pendulum

    admin = emulator.admin
    end = pendulum.datetime(*FIRST_DAY, tz="UTC").add(days=number - 1)
    run = RunContext(
        number=number,
        run_id=f"soak__{end.isoformat()}",
        data_interval_start=end.subtract(weeks=1),
        data_interval_end=end,
        params={**launch.params, "tweet_ids": list(tweet_ids or launch.params["tweet_ids"])},
    )
    name = f"spring-running {end.to_date_string()}"
    log_before = admin.requests()
    since = log_before[-1]["seq"] if log_before else 0
    admin.set_approval(dict(approval or {"status": "ACCEPTED"}))
    if faults:
        admin.set_faults(dict(faults))
    runner = LaunchRunner(launch.dag, soak_retry_policy())
    sensor = {"deferrable": deferrable, "poke_interval": runner.poll_interval}
    failure: BaseException | None = None
    rollback_error: BaseException | None = None
    try:
        for task_id in STEPS:
            try:
                runner.run_task(run, task_id, sensor if task_id == "wait_for_approval" else None)
            except Exception as exc:
                failure = exc
                log.info("run %d (%s) failed at %s: %s", number, scenario, task_id, _short(exc))
                break
        if failure is not None:
            try:
                runner.run_task(run, ROLLBACK)
            except Exception as exc:  # counted by the check: a failed rollback leaves the line item live
                rollback_error = exc
                log.info("run %d: rollback failed: %s", number, _short(exc))
    finally:
        admin.clear_faults()
        runner.close()
    requests = admin.requests(since)
    state = admin.state("line_items", "targeting_criteria", "promoted_tweets")
    verdict = check_run(
        state,
        name,
        succeeded=failure is None,
        criteria=launch.criteria,
        tweet_ids=[str(t) for t in run.params["tweet_ids"]],
        xcoms=run.xcoms,
    )
    if failure is not None and not is_clear_error(failure):
        verdict.problems.append(f"run {number}: unclear failure {_short(failure)}")
    if rollback_error is not None:
        verdict.problems.append(f"run {number}: rollback failed: {_short(rollback_error)}")
    return RunOutcome(
        number=number,
        name=name,
        scenario=scenario,
        failure=failure,
        rollback_error=rollback_error,
        verdict=verdict,
        faults=collections.Counter(r["fault"] for r in requests if r.get("fault")),
        task_retries=runner.task_retries,
        deferrals=runner.deferrals,
        http_calls=sum(c.stats.calls for c in runner.clients),
        api_requests=len(requests),
        http_retries=sum(c.stats.retries for c in runner.clients),
        waits=sum(c.stats.waits for c in runner.clients),
        xcoms=run.xcoms,
    )


def soak(
    emulator: Any,
    *,
    runs: int,
    seed: int = 20261116,
    progress: Callable[[str], None] = print,
    report_every: int = 10,
) -> Totals:
    """Run the launch ``runs`` times against ``emulator`` under seeded random faults; return the totals.

    The ``twitter_ads_default`` connection must point at ``emulator``.

    :param emulator: an ``EmulatorServer``.
    :param runs: how many DAG runs.
    :param seed: the soak's seed: the same seed draws the same scenarios and fault sequences.
    :param progress: receives progress lines.
    :param report_every: a progress line every this many runs.
    """
    launch = Launch.load()
    rng = random.Random(seed)
    totals = Totals()
    started = time.monotonic()
    progress(
        f"Soak: {runs} runs of {DAG_ID} ({len(launch.criteria)} criteria, "
        f"{len(launch.params['tweet_ids'])} Tweets each), seed {seed}"
    )
    for n in range(1, runs + 1):
        faults, scenario = fault_config(seed * 1000 + n, rng, FAULT_KINDS[n % len(FAULT_KINDS)])
        approval: dict[str, Any] = {"status": "ACCEPTED", "after_seconds": rng.choice((0.0, 0.0, 0.3))}
        tweet_ids = [str(t) for t in launch.params["tweet_ids"]]
        if rng.random() < 0.05:
            scenario = (
                "a Tweet is rejected" if scenario == "random faults" else f"{scenario}, a Tweet is rejected"
            )
            rejected = str(1_700_000_000_000_000_000 + n)
            tweet_ids.append(rejected)
            approval["tweets"] = {rejected: "REJECTED"}
        # Each run starts from the seeded state: the check reads the whole state, which must not grow.
        emulator.admin.reset()
        outcome = launch_once(
            emulator,
            launch,
            n,
            faults=faults,
            approval=approval,
            tweet_ids=tweet_ids,
            deferrable=n % 2 == 1,  # the DAG's deferrable sensor, and every other run the poke mode
            scenario=scenario,
        )
        totals.add(outcome)
        if n % report_every == 0 or n == runs:
            progress(
                f"run {n} of {runs}: {totals.succeeded} launched, {totals.runs - totals.succeeded} failed "
                f"and rolled back, {sum(totals.faults.values())} faults injected, duplicates "
                f"{totals.duplicates}, lost writes {totals.lost_writes} ({time.monotonic() - started:.0f} s)"
            )
    totals.seconds = time.monotonic() - started
    emulator.admin.set_approval({"status": "ACCEPTED"})
    return totals


def format_report(t: Totals) -> str:
    """The soak's figures as printed (and as recorded in docs/reliability.md)."""
    faults = ", ".join(f"{k} {t.faults.get(k, 0)}" for k in FAULT_KINDS)
    reasons = ", ".join(f"{k} {v}" for k, v in sorted(t.failure_reasons.items())) or "none"
    failed = t.runs - t.succeeded
    by_scenario = ", ".join(f"{k} {v}" for k, v in sorted(t.failures_by_scenario.items())) or "none"
    lines = [
        f"runs                 {t.runs} ({t.succeeded} launched, {failed} failed and rolled back)",
        f"faults injected      {sum(t.faults.values())}: {faults}",
        f"retries              {t.task_retries} task-level (Airflow), {t.http_retries} HTTP-level (client)",
        f"waits                {t.waits:.1f} s in client backoff/pacing; {t.deferrals} sensor deferrals",
        f"HTTP requests        {t.api_requests} to the emulator ({t.http_calls} by the operators' clients)",
        f"failures             {reasons}",
        f"failed runs by cause {by_scenario}",
        f"unclear errors       {t.unclear_errors}",
        f"left live after fail {t.left_behind}",
        f"duplicates           {t.duplicates}",
        f"lost writes          {t.lost_writes}",
        f"time                 {t.seconds:.0f} s",
    ]
    return "\n".join(lines)


@contextmanager
def _emulator() -> Iterator[Any]:
    from twads_emulator import EmulatorServer
    from twads_emulator.connection import connection_env

    with EmulatorServer(port=0) as server:
        os.environ.update(connection_env(server.base_url))
        yield server


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=200, help="DAG runs (default 200)")
    parser.add_argument("--seed", type=int, default=20261116, help="seed of the fault sequence")
    parser.add_argument("--json", type=Path, help="also write the figures to this JSON file")
    parser.add_argument("-v", "--verbose", action="store_true", help="log every task failure and retry")
    args = parser.parse_args(argv)
    _prepare_airflow_env()
    log.setLevel(logging.INFO if args.verbose else logging.WARNING)
    log.addHandler(logging.StreamHandler(sys.stdout))
    log.propagate = False
    with _emulator() as server:
        totals = soak(server, runs=args.runs, seed=args.seed, report_every=max(1, min(20, args.runs // 10)))
    print()
    print(format_report(totals))
    for problem in totals.problems[:20]:
        print("PROBLEM:", problem)
    if args.json:
        args.json.write_text(json.dumps(totals.as_dict(), indent=1))
    ok = not (totals.duplicates or totals.lost_writes or totals.left_behind or totals.unclear_errors)
    print("\nOK: zero duplicates, zero lost writes" if ok else "\nFAILED: see the problems above")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
