"""The benchmark's harness: prepare a workload on the emulator, run one contender, count and check.

Everything a contender must not pay for happens here: resetting and bulk-seeding the emulator through its
admin API (which is not an API call and is not counted), setting rate limits and faults, and reading the
request log and the state afterwards. ``benchmarks/run_all.py`` drives it; the smoke test in
``tests/benchmarks`` uses it with tiny sizes.
"""

from __future__ import annotations

import itertools
import json
import math
import os
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from benchmarks.contenders import child
from benchmarks.contenders import workloads as w
from benchmarks.contenders.floor import Floor, category
from benchmarks.contenders.workloads import Conn

ROOT = Path(__file__).resolve().parent.parent

# Workload sizes: the figures, and a small set for --quick and the smoke test.
FULL: dict[str, Any] = {
    "targeting_line_items": 10,
    "criteria_per_line_item": 500,
    "promote_tweets": 1000,
    "create_line_items": 200,
    "list_line_items": 100_000,
    "launch_criteria": 500,
    "launch_tweets": 100,
}
SMALL: dict[str, Any] = {
    "targeting_line_items": 3,
    "criteria_per_line_item": 120,
    "promote_tweets": 120,
    "create_line_items": 45,
    "list_line_items": 2_500,
    "launch_criteria": 30,
    "launch_tweets": 60,
}

# Low rate limits for the launch: (requests per window, window seconds) by the emulator's categories.
# The writes budget binds: the launch's 4 writes need one full window of waiting. The window is long
# because the API's reset header has a one-second resolution: any client that waits for the announced
# reset (rather than taking a 429) waits up to 1 s past the real end of the window, which a short window
# would turn into a large ratio no client can beat. Reads get budgets that the fewest calls do not exhaust.
LOW_RATE_LIMITS: dict[str, tuple[int, int]] = {
    "writes": (2, 10),
    "core_reads": (5, 10),
    "targeting_criteria": (3, 10),
}
# Faults for the launch. The script applies to POSTs in order (every contender meets the same faults at
# its first five writes); then GETs fail with a seeded probability.
FAULTS: dict[str, Any] = {
    "seed": 20260611,
    "match": {"method": "POST"},
    "script": [
        "commit_then_drop",  # the line item POST: applied, then the connection drops (the duplicate maker)
        "503",  # unavailable (retry-after 1 s): not applied
        "none",
        "commit_then_drop",  # applied, no response
        "500",  # a POST that fails with 500: applied or not? (the emulator does not apply it)
    ],
    "rules": [{"kind": "500", "probability": 0.25, "method": "GET"}],
    "retry_after": 1,
}


def conn_for(emu: Any, api_version: str = "12") -> Conn:
    """The connection details of the emulator's default credentials and account."""
    from twads_emulator import DEFAULT_CREDENTIALS, SEED

    return Conn(
        base_url=emu.base_url, account_id=SEED["account_id"], api_version=api_version, **DEFAULT_CREDENTIALS
    )


def seed_line_items(emu: Any, campaign_id: str, n: int) -> list[str]:
    """Bulk-seed ``n`` line items in a campaign through the admin API; their IDs."""
    before = {li["id"] for li in emu.admin.state()["line_items"]}
    emu.admin.seed_line_items(campaign_id, n)
    return [li["id"] for li in emu.admin.state()["line_items"] if li["id"] not in before]


def last_seq(emu: Any) -> int:
    log = emu.admin.requests()
    return log[-1]["seq"] if log else 0


def api_calls(emu: Any, after_seq: int) -> list[dict[str, Any]]:
    """The API requests (admin calls excluded) logged after ``after_seq``."""
    return [
        r for r in emu.admin.requests() if r["seq"] > after_seq and not r["path"].startswith("/_emulator")
    ]


def prepare(
    workload: str,
    emu: Any,
    sizes: dict[str, Any],
    cache: dict[str, Any],
    rate_limits: dict[str, tuple[int, int]] | None = None,
) -> dict[str, Any]:
    """Bring the emulator to the workload's starting state; the job for the contenders.

    :param workload: one of :data:`benchmarks.contenders.workloads.WORKLOADS` (or ``LAUNCH_FREE``)
    :param emu: the running ``EmulatorServer``
    :param sizes: :data:`FULL`, :data:`SMALL` or the like
    :param cache: kept between calls (the seeded listing is reused while the workload repeats)
    :param rate_limits: the limits of the rate-limited launch (default :data:`LOW_RATE_LIMITS`)
    """
    from twads_emulator import SEED

    if workload == w.LIST_LINE_ITEMS:
        # Listing does not change the state: seed once, then reset only the counters between runs.
        if cache.get("list_size") != sizes["list_line_items"]:
            emu.admin.reset()
            emu.admin.seed_line_items(SEED["campaign_id"], sizes["list_line_items"])
            # What a full listing must return, as the API counts it (drafts and deleted ones excluded).
            f = Floor(conn_for(emu))
            total = f.call("GET", f"{f.api}/line_items", params={"with_total_count": "true", "count": 1})
            cache["list_size"] = sizes["list_line_items"]
            cache["list_job"] = {"expected": total["total_count"]}
        return cache["list_job"]
    emu.admin.reset()
    cache.pop("list_size", None)
    campaign = SEED["campaign_id"]
    if workload == w.TARGETING:
        ids = seed_line_items(emu, campaign, sizes["targeting_line_items"])
        return {"line_item_ids": ids, "per_line_item": sizes["criteria_per_line_item"]}
    if workload == w.PROMOTE:
        (line_item,) = seed_line_items(emu, campaign, 1)
        return {"line_item_id": line_item, "tweet_ids": w.tweet_ids(sizes["promote_tweets"])}
    if workload == w.CREATE_LINE_ITEMS:
        # Two seeded campaigns without line items (the API allows 100 line items per campaign).
        campaigns = [SEED["empty_campaign_id"], SEED["paused_campaign_id"]]
        return {"campaign_ids": campaigns, "count": sizes["create_line_items"], "name_prefix": "bench-li-"}
    if workload in w.LAUNCHES:
        if workload == w.LAUNCH_LIMITED:
            emu.admin.set_rate_limits({k: list(v) for k, v in (rate_limits or LOW_RATE_LIMITS).items()})
        elif workload == w.LAUNCH_FAULTS:
            emu.admin.set_faults(FAULTS)
        return {
            "campaign_id": campaign,
            "name": "bench-launch",
            "criteria": sizes["launch_criteria"],
            "tweet_ids": w.tweet_ids(sizes["launch_tweets"], offset=10_000),
        }
    raise ValueError(f"workload={workload!r}: allowed values are {', '.join(w.WORKLOADS)}")


def child_env(conn: Conn, airflow_home: str) -> dict[str, str]:
    """A child's environment: the Airflow connection the hook and operators read, a throwaway AIRFLOW_HOME."""
    airflow_conn = {
        "conn_type": "twitter_ads",
        "login": conn.consumer_key,
        "password": conn.consumer_secret,
        "extra": {
            "access_token": conn.access_token,
            "access_token_secret": conn.access_token_secret,
            "host": conn.base_url,
            "api_version": conn.api_version,
            "account_id": conn.account_id,
            "timeout": 30,
        },
    }
    env = dict(os.environ)
    env.update(
        {
            "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH")])),
            "AIRFLOW_HOME": airflow_home,
            "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
            "AIRFLOW__CORE__UNIT_TEST_MODE": "True",
            "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": f"sqlite:///{airflow_home}/airflow.db",
            "AIRFLOW_CONN_TWITTER_ADS_DEFAULT": json.dumps(airflow_conn),
        }
    )
    return env


def subprocess_runner(env: dict[str, str]) -> Callable[[str, str, Conn, dict[str, Any]], dict[str, Any]]:
    """Run each contender in a fresh interpreter (``benchmarks/contenders/child.py``)."""

    def run(contender: str, workload: str, conn: Conn, job: dict[str, Any]) -> dict[str, Any]:
        payload = json.dumps(
            {"contender": contender, "workload": workload, "conn": conn.to_json(), "job": job}
        )
        proc = subprocess.run(
            [sys.executable, "-m", "benchmarks.contenders.child"],
            input=payload,
            capture_output=True,
            text=True,
            cwd=ROOT,
            env=env,
            timeout=600,
        )
        for line in proc.stdout.splitlines():
            if line.startswith(child.MARKER):
                return json.loads(line[len(child.MARKER) :])
        tail = " | ".join((proc.stderr or proc.stdout).strip().splitlines()[-5:])
        return {
            "seconds": None,
            "peak_rss_mb": None,
            "growth_mb": None,
            "summary": {},
            "error": f"child exited {proc.returncode}: {tail}"[:500],
        }

    return run


def in_process_runner(contender: str, workload: str, conn: Conn, job: dict[str, Any]) -> dict[str, Any]:
    """Run a contender in this process (the smoke test: fast, memory figures not meaningful)."""
    return child.run(contender, workload, conn.to_json(), job)


def statuses(calls: list[dict[str, Any]]) -> dict[str, int]:
    """Non-2xx responses and injected faults among ``calls``, by status or fault kind."""
    out: dict[str, int] = {}
    for c in calls:
        key = str(c.get("fault") or c["status"])
        if key.startswith("2"):
            continue
        out[key] = out.get(key, 0) + 1
    return out


def endpoint_of(call: dict[str, Any]) -> str:
    """``"POST batch/targeting_criteria"``, ``"GET line_items"``: a request-log entry without IDs."""
    parts = [p for p in call["path"].strip("/").split("/")[1:] if p]  # drop the API version
    if parts and parts[0] == "batch":
        return f"{call['method']} batch/{parts[3] if len(parts) > 3 else parts[-1]}"
    # accounts/:id/<resource>[/:id] -> <resource>; accounts/:id -> accounts
    name = parts[2] if len(parts) > 2 else parts[0] if parts else ""
    return f"{call['method']} {name}"


def run_one(
    workload: str,
    contender: str,
    emu: Any,
    sizes: dict[str, Any],
    cache: dict[str, Any],
    runner: Callable[[str, str, Conn, dict[str, Any]], dict[str, Any]],
    rate_limits: dict[str, tuple[int, int]] | None = None,
) -> dict[str, Any]:
    """Prepare, run one contender once, then count its calls and check the emulator's state."""
    conn = conn_for(emu)
    job = prepare(workload, emu, sizes, cache, rate_limits)
    seq0 = last_seq(emu)
    # The emulator runs in this process: its CPU time while the contender runs is what the contender's
    # requests cost the server (nothing else runs here meanwhile when the runner is a subprocess).
    server0 = time.process_time()
    result = runner(contender, workload, conn, job)
    server_cpu = time.process_time() - server0
    calls = api_calls(emu, seq0)
    state = emu.admin.state() if workload != w.LIST_LINE_ITEMS else {}
    checked = w.check(workload, job, state, result.get("summary") or {})
    by_endpoint: dict[str, int] = {}
    for c in calls:
        key = endpoint_of(c)
        by_endpoint[key] = by_endpoint.get(key, 0) + 1
    t_first = calls[0]["time"] if calls else 0.0
    return {
        "workload": workload,
        "contender": contender,
        **result,
        # When each request reached the emulator (launches only: they are short), for the minimum.
        "call_offsets": [[c["method"], c["path"], c["time"] - t_first] for c in calls]
        if workload in w.LAUNCHES
        else [],
        "server_cpu_s": server_cpu,
        "calls": len(calls),
        "statuses": statuses(calls),
        "calls_by_endpoint": by_endpoint,
        **checked,
    }


def pacing_minimum(calls_by_category: dict[str, int], limits: dict[str, tuple[int, int]]) -> float:
    """The least waiting ``n`` calls per category need under ``budget`` per ``window`` seconds.

    A window opens with the first call and the budget refills when it ends, so ``n`` calls need
    ``ceil(n / budget) - 1`` full windows of waiting; categories are independent, so the slowest one bounds
    the whole.
    """
    worst = 0.0
    for cat, n in calls_by_category.items():
        name = cat.split(":", 1)[0]  # "core_reads:line_items" counts against "core_reads", per endpoint
        if name in limits and n:
            budget, window = limits[name]
            worst = max(worst, (math.ceil(n / budget) - 1) * window)
    return worst


def minimum_time(offsets: list[list[Any]], total: float, limits: dict[str, tuple[int, int]]) -> float:
    """The least time a sequence of calls can take under ``limits``, replayed with its own durations.

    ``offsets`` are ``[method, path, seconds since the first call]`` of a run without limits, ``total`` its
    wall time; each call lasts until the next one starts (the last one until ``total``). Replayed under
    the emulator's windows (a window opens with the first call of its category and allows ``budget``
    calls until it ends), a call starts when the previous one has ended and its category allows it, never
    earlier: that is the fastest any client can go, knowing the windows to the microsecond.
    """
    if not offsets:
        return 0.0
    lead = max(total - offsets[-1][2], 0.0)  # client set-up + the last call; attribute it to the last call
    durations = [b[2] - a[2] for a, b in itertools.pairwise(offsets)] + [lead]
    windows: dict[str, tuple[float, int]] = {}  # category -> (window end, calls used)
    t = 0.0
    for (method, path, _offset), duration in zip(offsets, durations, strict=True):
        cat = category(method, path)
        name = cat.split(":", 1)[0]
        if name in limits:
            budget, window = limits[name]
            end, used = windows.get(cat, (-1.0, 0))
            if t >= end:
                end, used = t + window, 0
            elif used >= budget:
                t = end
                end, used = t + window, 0
            windows[cat] = (end, used + 1)
        t += duration
    return t


def calls_by_category(by_endpoint: dict[str, int]) -> dict[str, int]:
    """Group :func:`endpoint_of` counts by rate-limit category."""
    out: dict[str, int] = {}
    for key, n in by_endpoint.items():
        method, endpoint = key.split(" ", 1)
        cat = category(method, "/" + endpoint)
        out[cat] = out.get(cat, 0) + n
    return out
