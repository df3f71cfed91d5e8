"""Deferrable waits at scale: N cursor triggers in one asyncio loop, as one triggerer runs them (issue 16).

For each N, N promoted Tweets wait for approval; each trigger is built the way the triggerer builds it,
from the class path and kwargs of ``serialize()`` of the trigger the sensor defers to (``AdsCursorSensor``
validates and normalises the filters). All N run in one loop with a 10 ms ticker that measures how late
the loop wakes it (the stall every other trigger of the triggerer would see). After ``--warm`` seconds of
waiting the emulator's admin API approves every Tweet, and the run ends when every trigger has fired (or
``--settle`` seconds later).

Measured: the longest loop stall and the number over 0.1 s, list GETs per poll interval on the account
(from the emulator's request log, during the waiting phase) against the floor ``ceil(N / 200)``, 429s,
RSS growth per trigger, CPU per poll interval, and seconds from the approval to the last event.

The emulator runs in its own process (``twads-emulator``), so its work does not count as loop stalls.
Run ``make bench-triggers`` or ``.venv/bin/python benchmarks/bench_triggers.py --n 10 100 500 1000``; to
measure another tree of the provider (the base before issue 16), put it first on ``PYTHONPATH``.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import importlib
import json
import math
import os
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

HOME = Path(tempfile.mkdtemp(prefix="twads-bench-triggers-"))


def _rss_kb() -> int:
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def start_emulator(rate_limits: dict[str, Any] | None) -> tuple[subprocess.Popen[bytes], str]:
    port = _free_port()
    cmd = [str(Path(sys.executable).with_name("twads-emulator")), "--host", "127.0.0.1", "--port", str(port)]
    if rate_limits:
        cmd += ["--rate-limits", json.dumps(rate_limits)]
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}"
    from twads_emulator.server import AdminClient

    admin = AdminClient(url, timeout=10)
    for _ in range(200):
        try:
            admin.health()
            return proc, url
        except OSError:
            time.sleep(0.05)
    proc.kill()
    raise RuntimeError("the emulator did not start")


def build_triggers(ids: list[str], interval: float) -> list[Any]:
    """Triggers as the triggerer rebuilds them: from the class path and kwargs of serialize()."""
    from airflow_provider_twads.sensors.cursor import AdsCursorSensor
    from airflow_provider_twads.triggers.cursor import AdsCursorTrigger

    out = []
    for i in ids:
        sensor = AdsCursorSensor(
            task_id=f"wait_{i}",
            resource="promoted_tweets",
            filters={"promoted_tweet_ids": [i]},
            approval_status="ACCEPTED",
            poke_interval=interval,
            timeout=3600,
            deferrable=True,
        )
        condition, filters = sensor._validated()
        trigger = AdsCursorTrigger(
            resource=sensor.resource,
            filters=filters,
            condition=condition.to_dict(),
            twitter_ads_conn_id=sensor.twitter_ads_conn_id,
            account_id=sensor.account_id,
            poll_interval=float(interval),
            end_time=time.time() + 3600,
            page_size=sensor._page_size(),
        )
        path, kwargs = trigger.serialize()
        module, _, name = path.rpartition(".")
        out.append(getattr(importlib.import_module(module), name)(**json.loads(json.dumps(kwargs))))
    return out


async def drive(triggers: list[Any], admin: Any, warm: float, settle: float, rss0: int) -> dict[str, Any]:
    lateness: list[float] = []
    worst: list[float] = [0.0, 0.0]  # lateness, when (epoch)
    stop = asyncio.Event()

    async def ticker() -> None:
        while not stop.is_set():
            before = time.perf_counter()
            await asyncio.sleep(0.01)
            lateness.append(time.perf_counter() - before - 0.01)
            if lateness[-1] > worst[0]:
                worst[:] = [lateness[-1], time.time()]

    fired: list[float] = []
    statuses: dict[str, int] = {}

    async def one(t: Any) -> None:
        async for event in t.run():
            fired.append(time.time())
            statuses[event.payload["status"]] = statuses.get(event.payload["status"], 0) + 1
            return

    # The garbage collector's pauses, to tell them from our own blocking work.
    gc_pauses: list[float] = []
    gc_started = [0.0]

    def on_gc(phase: str, info: dict[str, Any]) -> None:
        if phase == "start":
            gc_started[0] = time.perf_counter()
        else:
            gc_pauses.append(time.perf_counter() - gc_started[0])

    gc.callbacks.append(on_gc)
    tick = asyncio.ensure_future(ticker())
    await asyncio.sleep(0.1)
    cpu0 = time.process_time()
    started = time.time()
    tasks = [asyncio.ensure_future(one(t)) for t in triggers]
    await asyncio.sleep(warm)
    waiting_cpu = time.process_time() - cpu0
    rss1 = _rss_kb()
    early = len(fired)
    approved_at = time.time()
    await asyncio.to_thread(admin.set_approval, {"status": "ACCEPTED"})
    _done, pending = await asyncio.wait(tasks, timeout=settle)
    for task in pending:
        task.cancel()
    await asyncio.gather(*pending, return_exceptions=True)
    stop.set()
    await tick
    gc.callbacks.remove(on_gc)
    return {
        "started": started,
        "approved_at": approved_at,
        "waiting_cpu": waiting_cpu,
        "rss_kb": rss1 - rss0,
        "early": early,
        "fired": len(fired),
        "statuses": statuses,
        "last_event": max(fired) - approved_at if len(fired) == len(triggers) else None,
        "max_stall": max(lateness),
        "stalls_over_100ms": sum(1 for x in lateness if x > 0.1),
        "worst_stall_at": worst[1],
        "max_gc_pause": max(gc_pauses, default=0.0),
    }


def run(
    n: int, interval: float, warm: float, settle: float, rate_limits: dict[str, Any] | None
) -> dict[str, Any]:
    from airflow_provider_twads.api.client import AdsApiClient, Credentials
    from twads_emulator import DEFAULT_CREDENTIALS, SEED
    from twads_emulator.connection import connection_env
    from twads_emulator.server import AdminClient

    # What a triggerer has imported before our first trigger runs (else N=10 pays for the imports).
    importlib.import_module("airflow_provider_twads.triggers.cursor")
    for name in ("httpx", "oauthlib.oauth1", "tenacity", "airflow_provider_twads.api.aclient"):
        importlib.import_module(name)
    proc, url = start_emulator(rate_limits)
    try:
        os.environ.update(connection_env(url))
        admin = AdminClient(url, timeout=30)
        admin.set_approval({"mode": "manual"})
        with AdsApiClient(Credentials(**DEFAULT_CREDENTIALS), host=url, account_id=SEED["account_id"]) as c:
            tweets = [str(1_720_000_000_000_000_000 + i) for i in range(n)]
            ids = [pt["id"] for pt in c.create_promoted_tweets(SEED["line_item_id"], tweets)]
        rss0 = _rss_kb()
        triggers = build_triggers(ids, interval)
        gc.collect()  # the sensors built above exist in the worker, not in the triggerer
        seq0 = max((r["seq"] for r in admin.requests()), default=0)
        result = asyncio.run(drive(triggers, admin, warm, settle, rss0))
        log = [r for r in admin.requests(seq0) if r["method"] == "GET"]
        waiting = [r for r in log if r["time"] < result["approved_at"]]
        # The waiting phase, less the first interval (start-up), in whole intervals.
        steady = [r for r in waiting if r["time"] >= result["started"] + interval]
        intervals = max(1.0, (result["approved_at"] - result["started"] - interval) / interval)
        cycles = max(1.0, warm / interval)
        return {
            "n": n,
            "interval": interval,
            "max_stall": round(result["max_stall"], 3),
            "stalls_over_100ms": result["stalls_over_100ms"],
            # When the longest stall ended, seconds after the start / after the approval.
            "worst_stall_after_start_s": round(result["worst_stall_at"] - result["started"], 2),
            "worst_stall_after_approval_s": round(result["worst_stall_at"] - result["approved_at"], 2),
            "longest_gc_pause_s": round(result["max_gc_pause"], 3),
            "gets_per_interval": round(len(steady) / intervals, 1),
            "floor": math.ceil(n / 200),
            "gets_total": len(log),
            "429s": sum(1 for r in log if r["status"] == 429),
            "rss_kb_per_trigger": round(result["rss_kb"] / n, 1),
            "cpu_ms_per_interval": round(1000 * result["waiting_cpu"] / cycles, 1),
            "fired": f"{result['fired']}/{n}",
            "statuses": result["statuses"],
            "approval_to_last_event_s": (
                round(result["last_event"], 2) if result["last_event"] is not None else None
            ),
        }
    finally:
        proc.terminate()
        proc.wait(10)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--n", type=int, nargs="+", default=[10, 100, 500, 1000])
    parser.add_argument("--interval", type=float, default=2.0, help="poll interval, s (default 2)")
    parser.add_argument("--warm", type=float, default=20.0, help="seconds of waiting before the approval")
    parser.add_argument("--settle", type=float, default=30.0, help="seconds to wait for every event")
    parser.add_argument("--rate-limits", type=json.loads, default=None, help='e.g. {"core_reads": [50, 15]}')
    parser.add_argument("--json", type=Path, help="also write the results here")
    args = parser.parse_args()
    os.environ.setdefault("AIRFLOW_HOME", str(HOME))
    os.environ.setdefault("AIRFLOW__CORE__LOAD_EXAMPLES", "False")
    os.environ.setdefault("AIRFLOW__CORE__UNIT_TEST_MODE", "True")
    os.environ.setdefault("AIRFLOW__DATABASE__SQL_ALCHEMY_CONN", f"sqlite:///{HOME / 'airflow.db'}")
    results = []
    for n in args.n:
        res = run(n, args.interval, args.warm, args.settle, args.rate_limits)
        print(json.dumps(res), file=sys.stderr, flush=True)  # stdout carries the triggers' log lines
        results.append(res)
    if args.json:
        args.json.write_text(json.dumps(results, indent=1))
    goal = results[-1]
    print(
        f"goal at N={goal['n']}: stall {goal['max_stall']} s (<= 0.2), 429s {goal['429s']} (0), "
        f"last event {goal['approval_to_last_event_s']} s after approval (<= {2 * args.interval}), "
        f"{goal['rss_kb_per_trigger']} KB per trigger (<= 100)",
        file=sys.stderr,
    )


if __name__ == "__main__":
    main()
