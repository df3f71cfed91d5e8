"""`make e2e-workers`: overlapping launches on a real multi-worker Airflow (issue 11, part 4).

Starts the emulator, Redis (Debian's ``redis-server``, private, on a free port) and a real Airflow with the
CeleryExecutor and two Celery workers (LocalExecutor with parallelism 8 when Celery cannot run here), with
three copies of the launch DAG (``twads_campaign_launch``, ``_b``, ``_c``: three DAGs launching into one
campaign, unscheduled so that only the runs triggered here exist). The account's write limit is set low
(2 writes per 3 s) through the emulator's admin API. Then:

1. *Overlap*: the ``twads_writes`` pool has 8 slots (no guard): each DAG launches the same name (same
   ``name_prefix`` and ``launch_date``) at once, and then a launch of its own (queued behind it by
   ``max_active_runs=1``): six launches into one rate-limited account, three racing on one line item
   (a new line item is applied 2.5 s after it is sent, to widen the race window as a busy API does).
2. *Pool*: the pool is set to 1 slot and the three DAGs launch another shared name: writes take turns.

Checks, from the emulator's state and Airflow's REST API and task logs: nothing live twice (line items
per name, criteria per key, promoted Tweets per Tweet), no line item ACTIVE twice, every run green or
failed with a typed error in its log, no try failed by a 429, all green runs of one name returned the same
line item, and with the pool no two writing tasks overlapped. Prints a summary; exits non-zero on a failed
check. Everything it started is stopped on the way out (Ctrl-C and SIGTERM too).
"""

from __future__ import annotations

import argparse
import collections
import datetime
import importlib.util
import json
import os
import shutil
import socket
import sys
import time
from pathlib import Path
from typing import Any

from scripts.e2e.airflow_api import TERMINAL
from scripts.e2e.checks import Checks
from scripts.e2e.deployment import (
    ADMIN,
    Deployment,
    ProcessGroup,
    emulator,
    ensure_debian_packages,
    free_port,
    stop_on_sigterm,
    wait_until,
)

REPO = Path(__file__).resolve().parents[2]
RESULTS = REPO / "e2e-results" / "workers"
BASE_DAG = "twads_campaign_launch"
DAGS = (BASE_DAG, f"{BASE_DAG}_b", f"{BASE_DAG}_c")
POOL = "twads_writes"  # the example DAGs' writing tasks run in it
WRITE_LIMIT = {"limit": 2, "window": 3}  # the figure: 2 writes per 3 s for the whole account
CRITERIA = len(json.loads((REPO / "dags_examples/data/launch_targeting.json").read_text())["criteria"])
TWEETS = 20  # the DAG's default tweet_ids
WORKERS, CONCURRENCY = 2, 4
RUN_TIMEOUT = 900
CREATE_LATENCY = 2.5  # seconds before the emulator applies a new line item, in the overlap phase


def dags_folder(root: Path) -> Path:
    """Three copies of the launch DAG (other dag_ids, no schedule) and its data, in a fresh folder."""
    source = REPO / "dags_examples"
    folder = root / "dags"
    shutil.rmtree(folder, ignore_errors=True)  # of an earlier run
    shutil.copytree(source / "data", folder / "data")
    text = (source / f"{BASE_DAG}.py").read_text()
    for old in ('schedule="@weekly"', f'dag_id="{BASE_DAG}"'):
        if text.count(old) != 1:
            raise RuntimeError(f"{BASE_DAG}.py changed: {old!r} is not there once; update {__file__}")
    # No schedule: unpausing starts no run of its own, only the runs triggered here exist.
    text = text.replace('schedule="@weekly"', "schedule=None")
    for dag_id in DAGS:
        (folder / f"{dag_id}.py").write_text(text.replace(f'dag_id="{BASE_DAG}"', f'dag_id="{dag_id}"'))
    return folder


def start_redis(group: ProcessGroup) -> str | None:
    """Debian's redis-server on a free loopback port, no persistence; its URL, or None if it cannot run."""
    if ensure_debian_packages({"redis-server": "redis-server"}):
        return None
    port = free_port()
    cmd = ["redis-server", "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"]
    group.start("redis", cmd, os.environ)

    def ready() -> bool:
        group.check_alive()
        with socket.create_connection(("127.0.0.1", port), timeout=2) as conn:
            conn.sendall(b"PING\r\n")
            return conn.recv(16).startswith(b"+PONG")

    wait_until(ready, 30, "redis-server")
    return f"redis://127.0.0.1:{port}"


def executor_setup(group: ProcessGroup, want: str) -> tuple[str, dict[str, str], dict[str, list[str]], str]:
    """``(executor, extra_env, extra_components, description)``: Celery with two workers, or LocalExecutor."""
    # A private port for each log server: several deployments may share this machine.
    env = {
        "AIRFLOW__LOGGING__WORKER_LOG_SERVER_PORT": str(free_port()),
        "AIRFLOW__LOGGING__TRIGGER_LOG_SERVER_PORT": str(free_port()),
    }
    why = "asked for"
    if want == "celery":
        redis_url = None
        if importlib.util.find_spec("airflow.providers.celery") is None:
            why = "apache-airflow-providers-celery is not installed"
        elif (redis_url := start_redis(group)) is None:
            why = "redis-server cannot be installed here"
        if redis_url:
            env["AIRFLOW__CELERY__BROKER_URL"] = f"{redis_url}/0"
            env["AIRFLOW__CELERY__RESULT_BACKEND"] = f"{redis_url}/1"
            # The api-server reads task logs from the shared AIRFLOW_HOME: workers serve none (no port clash).
            flags = ["--skip-serve-logs", "--without-gossip", "--without-mingle"]
            workers = {
                f"worker-{i}": ["celery", "worker", "-c", str(CONCURRENCY), "-H", f"worker{i}@%h", *flags]
                for i in range(1, WORKERS + 1)
            }
            return "CeleryExecutor", env, workers, f"CeleryExecutor, {WORKERS} workers x {CONCURRENCY}"
        print(f"Celery cannot run here ({why}): LocalExecutor instead", flush=True)
    return "LocalExecutor", env, {}, f"LocalExecutor, parallelism 8 ({why})"


def _when(value: str | None) -> datetime.datetime | None:
    return datetime.datetime.fromisoformat(value) if value else None


class Launches:
    """Triggers runs of the DAG copies and checks them against Airflow and the emulator.

    :param checks: where results go.
    :param api: the REST client.
    :param admin: the emulator's admin client.
    :param deployment: the running deployment (task logs are read from its AIRFLOW_HOME).
    """

    def __init__(self, checks: Checks, api: Any, admin: Any, deployment: Deployment) -> None:
        self.checks, self.api, self.admin, self.deployment = checks, api, admin, deployment
        # A launch day two weeks ahead, so that the flights are not in the past.
        self.day = (datetime.datetime.now(datetime.UTC).date() + datetime.timedelta(days=14)).isoformat()

    def run(self, launches: list[tuple[str, str]]) -> list[dict[str, Any]]:
        """Trigger ``(dag_id, name_prefix)`` launches for the launch day, all at once; wait for every run."""
        triggered = [
            (
                dag_id,
                prefix,
                self.api.trigger(dag_id, conf={"name_prefix": prefix, "launch_date": self.day}),
            )
            for dag_id, prefix in launches
        ]
        deadline = time.monotonic() + RUN_TIMEOUT
        runs = []
        for dag_id, prefix, run_id in triggered:
            while (run := self.api.call("GET", f"dags/{dag_id}/dagRuns/{run_id}"))["state"] not in TERMINAL:
                # A worker that died (say, a broken Celery install) fails the run now, not at the timeout.
                self.deployment.group.check_alive()
                if time.monotonic() > deadline:
                    raise TimeoutError(f"{dag_id} run {run_id} still {run['state']} after {RUN_TIMEOUT} s")
                time.sleep(2)
            tis = self.api.task_instances(dag_id, run_id)
            runs.append(
                {"dag_id": dag_id, "run_id": run_id, "name": f"{prefix} {self.day}", **run, "tis": tis}
            )
        return runs

    def _logs(self, run: dict[str, Any], task_id: str | None = None) -> dict[str, str]:
        """The run's task log files (every try), by path relative to the run's folder."""
        folder = self.deployment.home / "logs" / f"dag_id={run['dag_id']}" / f"run_id={run['run_id']}"
        pattern = f"task_id={task_id}/**/*.log" if task_id else "**/*.log"
        return {str(p.relative_to(folder)): p.read_text(errors="replace") for p in folder.glob(pattern)}

    def _returned(self, run: dict[str, Any]) -> str:
        """The line item ID ``create_line_item`` returned (its XCom)."""
        path = f"dags/{run['dag_id']}/dagRuns/{run['run_id']}/taskInstances/create_line_item/xcomEntries"
        value = self.api.call("GET", f"{path}/return_value")["value"]
        return str(json.loads(value) if isinstance(value, str) and value.startswith('"') else value)

    def check_runs(self, label: str, runs: list[dict[str, Any]]) -> None:
        """Green or failed with a typed error; no try failed by a 429; one line item ID per name."""
        from airflow_provider_twads.api import errors
        from airflow_provider_twads.reconcile import PartialApplyError, SettingsMismatchError

        typed = {
            name
            for name, obj in vars(errors).items()
            if isinstance(obj, type) and issubclass(obj, Exception) and obj.__module__ == errors.__name__
        } | {PartialApplyError.__name__, SettingsMismatchError.__name__, "AirflowFailException"}
        states = collections.Counter(r["state"] for r in runs)
        unclear, rate_limited, returned = [], [], collections.defaultdict(set)
        for run in runs:
            logs = self._logs(run)
            rate_limited += [f"{run['dag_id']}/{p}" for p, text in logs.items() if "RateLimitError" in text]
            if run["state"] == "success":
                returned[run["name"]].add(self._returned(run))
                continue
            for task_id, ti in run["tis"].items():
                if ti["state"] != "failed":
                    continue
                text = "\n".join(self._logs(run, task_id.split("[")[0]).values())
                named = sorted(t for t in typed if t in text)
                print(f"  failed: {run['dag_id']} {run['run_id']} {task_id}: {named or 'no typed error'}")
                if not named:
                    unclear.append(f"{run['dag_id']}.{task_id}")
        self.checks.expect(
            f"{label}: every run ended, green or failed with a typed error in its task log",
            sum(states.values()) == len(runs) and not unclear,
            f"{dict(states)}" + (f"; no typed error: {unclear}" if unclear else ""),
        )
        self.checks.expect(
            f"{label}: no task try failed by a 429 (RateLimitError)",
            not rate_limited,
            ", ".join(rate_limited),
        )
        self.checks.expect(
            f"{label}: green runs of one name returned the same line item",
            all(len(ids) == 1 for ids in returned.values()),
            "; ".join(f"{name!r}: {sorted(ids)}" for name, ids in returned.items()),
        )

    def check_emulator(self, label: str, runs: list[dict[str, Any]]) -> None:
        """Nothing live twice, nothing ACTIVE twice; a name with a green run is launched in full."""
        state = self.admin.state("line_items", "targeting_criteria", "promoted_tweets")
        names = sorted({r["name"] for r in runs})
        green = {r["name"] for r in runs if r["state"] == "success"}
        twice, incomplete, per_name = [], [], []
        for name in names:
            items = [li for li in state["line_items"] if li.get("name") == name]
            live = [li for li in items if not li.get("deleted")]
            active = [li for li in items if li.get("entity_status") == "ACTIVE"]
            per_name.append(f"{name!r}: {len(items)} made, {len(live)} live, {len(active)} ACTIVE")
            if len(live) > 1 or len(active) > 1:
                twice.append(name)
            if name in green and not (len(live) == 1 and live[0]["entity_status"] == "ACTIVE"):
                incomplete.append(name)
        live_ids = {
            li["id"] for li in state["line_items"] if li.get("name") in names and not li.get("deleted")
        }
        criteria = collections.Counter(
            (c["line_item_id"], c["targeting_type"], c["targeting_value"], c.get("operator_type", "EQ"))
            for c in state["targeting_criteria"]
            if c["line_item_id"] in live_ids and not c.get("deleted")
        )
        tweets = collections.Counter(
            (t["line_item_id"], str(t["tweet_id"]))
            for t in state["promoted_tweets"]
            if t["line_item_id"] in live_ids and not t.get("deleted")
        )
        self.checks.expect(
            f"{label}: one live line item per name at most, none ACTIVE twice", not twice, "; ".join(per_name)
        )
        dup_c = sum(n - 1 for n in criteria.values())
        dup_t = sum(n - 1 for n in tweets.values())
        self.checks.expect(
            f"{label}: no criterion or promoted Tweet live twice on a line item",
            dup_c == 0 and dup_t == 0,
            f"{dup_c} duplicate criteria, {dup_t} duplicate promoted Tweets",
        )
        for li in live_ids:
            n_c = sum(1 for key in criteria if key[0] == li)
            n_t = sum(1 for key in tweets if key[0] == li)
            if (n_c, n_t) != (CRITERIA, TWEETS):
                incomplete.append(f"{li}: {n_c} criteria, {n_t} Tweets")
        self.checks.expect(
            f"{label}: every launched name is ACTIVE with its {CRITERIA} criteria and {TWEETS} Tweets",
            not incomplete,
            ", ".join(incomplete),
        )

    @staticmethod
    def write_overlaps(runs: list[dict[str, Any]]) -> int:
        """How many pairs of the runs' writing tasks (pool ``twads_writes``) ran at the same time."""
        spans = sorted(
            (start, end)
            for run in runs
            for ti in run["tis"].values()
            if ti.get("pool") == POOL
            and (start := _when(ti.get("start_date")))
            and (end := _when(ti.get("end_date")))
        )
        return sum(1 for i, (_, end) in enumerate(spans) for start, _ in spans[i + 1 :] if start < end)


def _write_stats(admin: Any, since: int) -> tuple[int, int]:
    """Writes the emulator applied since request ``since``, and how many more it answered 429."""
    writes = [r for r in admin.requests(since) if r["method"] != "GET"]
    limited = sum(r.get("status") == 429 for r in writes)
    return len(writes) - limited, limited


def _made(admin: Any, name: str) -> int:
    """How many line items named ``name`` were ever created (deleted ones included)."""
    return sum(li.get("name") == name for li in admin.state("line_items")["line_items"])


def scenario(checks: Checks, launches: Launches, admin: Any, deployment: Deployment) -> None:
    """Both phases (see the module's doc)."""
    per_second = WRITE_LIMIT["limit"] / WRITE_LIMIT["window"]
    with checks.step("overlap: 3 DAGs launch one name at once, then 3 names, pool of 8"):
        # A slow create (applied 2.5 s after it is sent, as a busy API does) widens the window between a
        # writer's look and its write showing: racing creates that start within it all see nothing.
        latency = {"kind": "latency", "seconds": CREATE_LATENCY, "probability": 1.0, "method": "POST"}
        admin.set_faults({"seed": 11, "rules": [{**latency, "path": "line_items$"}]})
        seen, started = len(admin.requests()), time.monotonic()
        runs = launches.run(
            [(d, "e2e-overlap") for d in DAGS] + [(d, f"e2e-{x}") for d, x in zip(DAGS, "abc", strict=True)]
        )
        seconds = time.monotonic() - started
        admin.clear_faults()
        writes, limited = _write_stats(admin, seen)
        checks.expect(
            "overlap: the racing launches really overlapped and met the write limit",
            launches.write_overlaps(runs[:3]) > 0 and limited > 0,
            f"{launches.write_overlaps(runs[:3])} overlapping pairs of writing tasks; "
            f"{_made(admin, runs[0]['name'])} line items created for the shared name; {writes} writes "
            f"applied, {limited} answered 429; {seconds:.0f} s, minimum {writes / per_second:.0f} s",
            seconds,
        )
        launches.check_runs("overlap", runs)
        launches.check_emulator("overlap", runs)
    with checks.step("pool: 3 DAGs launch one name at once, pool of 1"):
        deployment.set_pool(POOL, 1)
        seen, started = len(admin.requests()), time.monotonic()
        runs = launches.run([(d, "e2e-pooled") for d in DAGS])
        seconds = time.monotonic() - started
        writes, limited = _write_stats(admin, seen)
        checks.expect(
            "pool: no two writing tasks ran at the same time, every run green",
            launches.write_overlaps(runs) == 0 and all(r["state"] == "success" for r in runs),
            f"{launches.write_overlaps(runs)} overlapping pairs; {[r['state'] for r in runs]}; "
            f"{writes} writes, {limited} answered 429",
            seconds,
        )
        launches.check_runs("pool", runs)
        launches.check_emulator("pool", runs)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="make e2e-workers", description=__doc__.splitlines()[0])
    parser.add_argument("--executor", default="celery", choices=("celery", "local"))
    parser.add_argument("--database", default="auto", choices=("auto", "postgres", "sqlite"))
    parser.add_argument("--results", type=Path, default=RESULTS, help="logs go here")
    args = parser.parse_args(argv)

    from scripts.e2e.airflow_api import AirflowApi
    from twads_emulator.connection import connection_dict

    started = time.monotonic()
    checks = Checks()
    shutil.rmtree(args.results / "logs", ignore_errors=True)
    args.results.mkdir(parents=True, exist_ok=True)
    group = ProcessGroup(args.results / "logs")
    try:
        with (
            stop_on_sigterm(),
            emulator(group, approval={"status": "ACCEPTED", "after_seconds": 3}) as emu_url,
        ):
            from twads_emulator.server import AdminClient

            admin = AdminClient(emu_url)
            admin.set_rate_limits({"writes": WRITE_LIMIT})
            executor, env, workers, described = executor_setup(group, args.executor)
            deployment = Deployment(
                dags_folder(args.results),
                connections={"twitter_ads_default": connection_dict(emu_url)},
                executor=executor,
                parallelism=8,
                database=args.database,
                extra_env=env,
                extra_components=workers,
                pools={POOL: 8},
                logs_to=args.results / "logs",
            )
            with checks.step("the deployment and everything run in it"), deployment:
                checks.expect(
                    f"deployment up ({deployment.db_kind}, {described})",
                    True,
                    deployment.base_url,
                    time.monotonic() - started,
                )
                api = AirflowApi(deployment.base_url, ADMIN, deployment.password)
                for dag_id in DAGS:
                    api.wait_for_dag(dag_id)
                    api.unpause(dag_id)
                scenario(checks, Launches(checks, api, admin, deployment), admin, deployment)
                received = {name: deployment.log(name).count(" received") for name in workers}
                if workers:
                    checks.expect(
                        "both Celery workers ran tasks", all(received.values()), f"tasks received: {received}"
                    )
    except KeyboardInterrupt:
        print("\ninterrupted: everything started was stopped", file=sys.stderr)
        return 130
    finally:
        group.stop()
        print(f"logs (emulator, redis, Airflow components, tasks): {args.results / 'logs'}", flush=True)
    print(checks.summary(time.monotonic() - started).replace("make e2e:", "make e2e-workers:"))
    return 1 if checks.failed else 0


if __name__ == "__main__":
    sys.exit(main())
