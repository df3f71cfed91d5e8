"""`make demo`: run the campaign-launch DAG end to end against the local emulator and say what it did.

Steps: a local AIRFLOW_HOME inside the repo (ignored by git), `airflow db migrate`, the emulator on a free
loopback port, ``twitter_ads_default`` pointed at it through the environment, ``airflow dags test
twads_campaign_launch``, then a summary read back from the emulator. The emulator stops on success,
failure and Ctrl-C alike.
"""

from __future__ import annotations

import collections
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
AIRFLOW_HOME = REPO / ".airflow"
DAG_ID = "twads_campaign_launch"
# The emulator approves promoted Tweets a few seconds after they are created, so the deferrable sensor
# really waits (through the triggerer loop that `airflow dags test` runs inline).
APPROVAL_DELAY_SECONDS = 3


def _airflow_env(base_url: str) -> dict[str, str]:
    from twads_emulator.connection import connection_env

    env = dict(os.environ)
    env.update(
        {
            "AIRFLOW_HOME": str(AIRFLOW_HOME),
            "AIRFLOW__CORE__DAGS_FOLDER": str(REPO / "dags_examples"),
            "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
            "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": f"sqlite:///{AIRFLOW_HOME / 'airflow.db'}",
            "AIRFLOW__LOGGING__LOGGING_LEVEL": "INFO",
            **connection_env(base_url),
        }
    )
    return env


def _run(cmd: list[str], env: dict[str, str], log_path: Path) -> int:
    """Run ``cmd``, teeing our provider's progress lines to the terminal and everything to ``log_path``."""
    interesting = ("airflow_provider_twads", "[DAG TEST] running task", "batch ", "Marking run", "ERROR")
    with (
        log_path.open("w") as log,
        subprocess.Popen(
            cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, cwd=REPO
        ) as proc,
    ):
        assert proc.stdout is not None
        for line in proc.stdout:
            log.write(line)
            if any(key in line for key in interesting):
                print("  " + line.rstrip()[:220], flush=True)
        return proc.wait()


def _ids(state: dict[str, Any], kind: str) -> set[str]:
    return {e["id"] for e in state.get(kind, [])}


def _delivery(log_path: Path) -> str:
    """What the monitoring step (``watch_delivery``) said, from the run's log."""
    import re

    said = "not reached"
    for line in log_path.read_text(errors="replace").splitlines():
        for marker in (
            "Delivery condition met",
            "Deadline ",
            "the flight ended at",
            "Waiting for impressions",
        ):
            if marker in line:
                said = line[line.index(marker) :]
    # Drop the structured-log tail (" [logger] loc=...") that follows the message.
    return re.split(r"\s+\[[\w.]+\]", said, maxsplit=1)[0].strip()


def _summary(
    before: dict[str, Any],
    state: dict[str, Any],
    requests_log: list[dict[str, Any]],
    seconds: float,
    delivery: str = "",
) -> str:
    seeded = _ids(before, "line_items")
    line_items = [li for li in state.get("line_items", []) if li["id"] not in seeded]
    live = [li for li in line_items if not li.get("deleted")]
    live_ids = {li["id"] for li in live}
    criteria = [
        tc
        for tc in state.get("targeting_criteria", [])
        if tc["line_item_id"] in live_ids and not tc.get("deleted")
    ]
    tweets = [
        pt
        for pt in state.get("promoted_tweets", [])
        if pt["line_item_id"] in live_ids and not pt.get("deleted")
    ]
    by_kind = collections.Counter(f"{r['method']} {r['status']}" for r in requests_log)
    approvals = collections.Counter(pt.get("approval_status") for pt in tweets)
    out = ["", "=== twads demo: what the launch DAG did ==="]
    for li in live:
        out.append(
            f"line item {li['id']}  '{li.get('name')}'  status={li.get('entity_status')}  "
            f"campaign={li.get('campaign_id')}  flight={li.get('start_time')} .. {li.get('end_time')}"
        )
    out.append(f"targeting criteria attached: {len(criteria)}")
    out.append(f"promoted Tweets: {len(tweets)}  approval: {dict(approvals)}")
    if delivery:
        out.append(f"delivery watch: {delivery}")
    calls = ", ".join(f"{kind}: {n}" for kind, n in sorted(by_kind.items()))
    out.append(f"HTTP calls to the Ads API: {len(requests_log)}  ({calls})")
    out.append(f"time taken: {seconds:.1f} s")
    return "\n".join(out)


def main() -> int:
    """Run the demo; the exit code is that of ``airflow dags test``."""
    from twads_emulator import EmulatorServer
    from twads_emulator.connection import connection_env

    AIRFLOW_HOME.mkdir(exist_ok=True)
    started = time.monotonic()
    airflow = str(Path(sys.executable).parent / "airflow")
    log_path = AIRFLOW_HOME / "demo-last-run.log"

    with EmulatorServer(
        port=0, approval={"status": "ACCEPTED", "after_seconds": APPROVAL_DELAY_SECONDS}
    ) as emu:
        env = _airflow_env(emu.base_url)
        print(f"emulator listening on {emu.base_url} (X Ads API v11/v12, OAuth 1.0a verified)", flush=True)
        # Ready to paste into another shell while the demo runs (the emulator's public test credentials).
        for name, value in connection_env(emu.base_url).items():
            print(f"  export {name}='{value}'", flush=True)
        print(f"AIRFLOW_HOME={AIRFLOW_HOME}; migrating the metadata DB ...", flush=True)
        migrate = subprocess.run(
            [airflow, "db", "migrate"], env=env, cwd=REPO, capture_output=True, text=True, check=False
        )
        if migrate.returncode != 0:
            print(migrate.stdout[-3000:], migrate.stderr[-3000:], sep="\n")
            print("airflow db migrate failed", file=sys.stderr)
            return migrate.returncode
        before = emu.admin.state()
        seen_requests = len(emu.admin.requests())
        print(f"running: airflow dags test {DAG_ID}  (full log: {log_path})", flush=True)
        try:
            rc = _run([airflow, "dags", "test", DAG_ID], env, log_path)
        except KeyboardInterrupt:
            print("\ninterrupted: stopping the emulator", file=sys.stderr)
            return 130
        state = emu.admin.state()
        requests_log = emu.admin.requests()[seen_requests:]

    print(_summary(before, state, requests_log, time.monotonic() - started, _delivery(log_path)))
    if rc != 0:
        print(f"\nthe DAG run FAILED (exit {rc}); see {log_path}", file=sys.stderr)
        return rc
    print("\ndemo finished: the launch DAG ran end to end against the emulator")
    return 0


if __name__ == "__main__":
    sys.exit(main())
