"""`make e2e`: the provider in a real Airflow deployment, checked through its REST API and a real browser.

Starts the emulator and a real Airflow (api-server, scheduler, dag-processor, triggerer; LocalExecutor;
PostgreSQL when it can run here, else SQLite) on a temporary AIRFLOW_HOME with ``dags_examples/`` as the
DAGs folder; triggers the launch DAG through the REST API with no logical date and checks the run, the
sensor's deferral and the emulator's end state; triggers it again from the CLI (it must converge); runs a
launch whose Tweet is rejected (it must end failed, its line item removed); runs the daily analytics
report, whose ``report`` task defers to the triggerer while the emulator's jobs process (its files must
match the active line items and ``summarize``'s XCom), and marks a second report failed while deferred (the
trigger's ``on_kill`` must cancel its jobs); then drives headless Chromium through the connection form.
Prints a summary; exits non-zero on any failed check. Everything it started is stopped on the way out, on
failure and Ctrl-C too. ``--no-browser`` skips the browser part.
"""

from __future__ import annotations

import argparse
import shutil
import sys
import time
from pathlib import Path

from scripts.e2e.checks import Checks
from scripts.e2e.deployment import (
    ADMIN,
    Deployment,
    ProcessGroup,
    emulator,
    ensure_debian_packages,
    stop_on_sigterm,
)

REPO = Path(__file__).resolve().parents[2]
RESULTS = REPO / "e2e-results"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="make e2e", description=__doc__.splitlines()[0])
    parser.add_argument("--no-browser", action="store_true", help="skip the browser checks")
    parser.add_argument("--database", default="auto", choices=("auto", "postgres", "sqlite"))
    parser.add_argument("--results", type=Path, default=RESULTS, help="screenshots and logs go here")
    args = parser.parse_args(argv)

    from scripts.e2e.airflow_api import AirflowApi
    from scripts.e2e.launch import (
        DAG_ID,
        check_launch_without_logical_date,
        check_rejected_launch_rolls_back,
        check_scheduled_runs,
    )
    from twads_emulator.connection import connection_dict

    started = time.monotonic()
    checks = Checks()
    for old in ("logs", "screenshots"):  # of an earlier run
        shutil.rmtree(args.results / old, ignore_errors=True)
    args.results.mkdir(parents=True, exist_ok=True)
    if not args.no_browser:
        missing = ensure_debian_packages({"chromium": "chromium"})
        checks.expect("Debian chromium installed", not missing, f"missing: {missing}" if missing else "")
    group = ProcessGroup(args.results / "logs")
    try:
        with (
            stop_on_sigterm(),
            emulator(group, approval={"status": "ACCEPTED", "after_seconds": 3}) as emu_url,
        ):
            from twads_emulator.server import AdminClient

            admin = AdminClient(emu_url)
            print(f"emulator on {emu_url}", flush=True)
            deployment = Deployment(
                REPO / "dags_examples",
                database=args.database,
                connections={"twitter_ads_default": connection_dict(emu_url)},
                pools={"twads_writes": 1},  # the example DAGs' writing tasks run in it
                logs_to=args.results / "logs",
            )
            with checks.step("the deployment and everything run in it"), deployment:
                print(f"AIRFLOW_HOME={deployment.home}", flush=True)
                checks.expect(
                    f"deployment up ({deployment.db_kind}, {deployment.executor}, "
                    "api-server + scheduler + dag-processor + triggerer)",
                    True,
                    deployment.base_url,
                    time.monotonic() - started,
                )
                api = AirflowApi(deployment.base_url, ADMIN, deployment.password)
                api.wait_for_dag(DAG_ID)
                api.unpause(DAG_ID)
                with checks.step("the scheduled run that unpausing starts"):
                    check_scheduled_runs(checks, api, admin)
                with checks.step("launch through the REST API, then the CLI"):
                    check_launch_without_logical_date(checks, api, deployment, admin)
                with checks.step("a launch with a rejected Tweet"):
                    check_rejected_launch_rolls_back(checks, api, admin)
                with checks.step("the daily report: deferred, then killed while deferred"):
                    from scripts.e2e.report import check_daily_report

                    check_daily_report(checks, api, deployment, admin, emu_url)
                if not args.no_browser:
                    from scripts.e2e.browser import check_connection_form

                    with checks.step("the connection form in headless Chromium"):
                        check_connection_form(checks, deployment, emu_url, args.results)
    except KeyboardInterrupt:
        print("\ninterrupted: everything started was stopped", file=sys.stderr)
        return 130
    finally:
        group.stop()
        print(f"logs (emulator, Airflow components, tasks): {args.results / 'logs'}", flush=True)
    print(checks.summary(time.monotonic() - started))
    return 1 if checks.failed else 0


if __name__ == "__main__":
    sys.exit(main())
