"""The hook against a plain ``requests`` + ``OAuth1Session`` loop, on the same emulator, in one run.

1. Sequential GETs of one line item: the hook's client (validation, pacing, retries, error parsing
   included) against the thinnest correct loop. Rounds alternate between the two; the figure is the
   ratio of the median per-request times (target: within 1.10x).
2. Paging 100,000 line items with the hook's cursor: HTTP calls (target: ceil(N/1000)) and the peak
   memory growth of the walk measured with tracemalloc (target: under 50 MB), next to the plain loop's
   time for the same walk.

The emulator runs in a separate process so that its memory and CPU are not the client's. Usage:
``.venv/bin/python benchmarks/bench_hook.py [--gets N] [--rounds R] [--items N] [--json PATH]``
"""

from __future__ import annotations

import argparse
import json
import math
import os
import socket
import statistics
import subprocess
import sys
import time
import tracemalloc
import urllib.request
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from twads_emulator import DEFAULT_CREDENTIALS, SEED  # noqa: E402
from twads_emulator.server import AdminClient  # noqa: E402


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def start_emulator() -> tuple[subprocess.Popen[bytes], str]:
    """Start ``twads-emulator`` in its own process; return it and its base URL once it answers."""
    port = _free_port()
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "twads_emulator.cli",
            "--port",
            str(port),
            "--log-level",
            "warning",
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            urllib.request.urlopen(f"{base}/_emulator/health", timeout=1).read()
            return proc, base
        except OSError:
            time.sleep(0.1)
    proc.kill()
    raise RuntimeError("the emulator did not start within 60 s")


def plain_session() -> Any:
    from requests_oauthlib import OAuth1Session

    c = DEFAULT_CREDENTIALS
    return OAuth1Session(
        c["consumer_key"],
        client_secret=c["consumer_secret"],
        resource_owner_key=c["access_token"],
        resource_owner_secret=c["access_token_secret"],
    )


def make_hook(base: str) -> Any:
    """The hook on the emulator, through an ``AIRFLOW_CONN_`` variable (no metadata DB)."""
    c = DEFAULT_CREDENTIALS
    os.environ["AIRFLOW_CONN_TWADS_BENCH"] = json.dumps(
        {
            "conn_type": "twitter_ads",
            "login": c["consumer_key"],
            "password": c["consumer_secret"],
            "extra": {
                "access_token": c["access_token"],
                "access_token_secret": c["access_token_secret"],
                "host": base,
                "account_id": SEED["account_id"],
                "timeout": 30,
            },
        }
    )
    from airflow_provider_twads.hooks.ads_api import AdsApiHook

    return AdsApiHook(twitter_ads_conn_id="twads_bench")


def bench_gets(base: str, n: int, rounds: int) -> dict[str, Any]:
    """Sequential GETs: per-request median of each side, alternating rounds."""
    account, line_item = SEED["account_id"], SEED["line_item_id"]
    url = f"{base}/12/accounts/{account}/line_items/{line_item}"
    session = plain_session()
    client = make_hook(base).get_conn()

    def plain_once() -> None:
        resp = session.get(url, timeout=30)
        resp.raise_for_status()
        assert resp.json()["data"]["id"] == line_item

    def hook_once() -> None:
        assert client.get_line_item(line_item)["id"] == line_item

    for fn in (plain_once, hook_once):  # warm up: connections, imports
        for _ in range(20):
            fn()
    # Short alternating blocks: load from other processes drifts slowly, so each pair of blocks sees
    # the same conditions; the figure is the median of the per-pair ratios.
    block = 25
    pairs = max(1, rounds * n // block)
    per_request: dict[str, list[float]] = {"plain": [], "hook": []}
    ratios: list[float] = []
    for p in range(pairs):
        order = [("plain", plain_once), ("hook", hook_once)]
        if p % 2:
            order.reverse()
        took: dict[str, float] = {}
        for name, fn in order:
            start = time.perf_counter()
            for _ in range(block):
                fn()
            took[name] = (time.perf_counter() - start) / block
            per_request[name].append(took[name])
        ratios.append(took["hook"] / took["plain"])
    plain = statistics.median(per_request["plain"])
    hook = statistics.median(per_request["hook"])
    session.close()
    client.close()
    return {
        "gets_per_side": pairs * block,
        "block": block,
        "plain_ms": round(plain * 1000, 3),
        "hook_ms": round(hook * 1000, 3),
        "ratio": round(statistics.median(ratios), 3),
    }


def bench_paging(base: str, admin: AdminClient, items: int) -> dict[str, Any]:
    """Walk ``items`` line items with the hook's cursor (memory, calls) and with the plain loop (time)."""
    campaign = SEED["empty_campaign_id"]
    admin.reset()
    admin.seed_line_items(campaign, items)
    client = make_hook(base).get_conn()
    seq0 = max((r["seq"] for r in admin.requests()), default=0)

    # Walk 1, under tracemalloc: memory and HTTP calls. Walk 2, untraced: time (tracemalloc slows it).
    tracemalloc.start()
    base_mem = tracemalloc.get_traced_memory()[0]
    tracemalloc.reset_peak()
    seen = 0
    for _ in client.list_line_items(campaign_ids=[campaign]):
        seen += 1
    peak = tracemalloc.get_traced_memory()[1] - base_mem
    tracemalloc.stop()
    calls = [
        r for r in admin.requests(since=seq0) if r["method"] == "GET" and r["path"].endswith("/line_items")
    ]
    stats_calls = client.stats.calls
    start = time.perf_counter()
    timed = sum(1 for _ in client.list_line_items(campaign_ids=[campaign]))
    hook_s = time.perf_counter() - start
    assert timed == seen

    session = plain_session()
    url = f"{base}/12/accounts/{SEED['account_id']}/line_items"
    start = time.perf_counter()
    plain_seen, cursor = 0, None
    while True:
        params = {"campaign_ids": campaign, "count": 1000, **({"cursor": cursor} if cursor else {})}
        doc = session.get(url, params=params, timeout=60).json()
        plain_seen += len(doc["data"])
        cursor = doc.get("next_cursor")
        if not cursor:
            break
    plain_s = time.perf_counter() - start
    session.close()
    client.close()
    return {
        "items": items,
        "seen": seen,
        "plain_seen": plain_seen,
        "http_calls": len(calls),
        "expected_calls": math.ceil(items / 1000),
        "client_stats_calls": stats_calls,
        "peak_memory_growth_mb": round(peak / 1e6, 2),
        "hook_s": round(hook_s, 2),
        "plain_s": round(plain_s, 2),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--gets", type=int, default=300, help="GETs per round (default 300)")
    parser.add_argument("--rounds", type=int, default=6, help="alternating rounds (default 6)")
    parser.add_argument("--items", type=int, default=100_000, help="line items to page (default 100000)")
    parser.add_argument("--json", metavar="PATH", help="also write the figures as JSON")
    args = parser.parse_args(argv)

    proc, base = start_emulator()
    try:
        admin = AdminClient(base, timeout=600)
        admin.reset()
        admin.set_rate_limits({"core_reads": {"limit": 1_000_000, "window": 900}})
        gets = bench_gets(base, args.gets, args.rounds)
        paging = bench_paging(base, admin, args.items)
    finally:
        proc.terminate()
        proc.wait(timeout=30)

    ok_ratio = gets["ratio"] <= 1.10
    ok_calls = paging["http_calls"] == paging["expected_calls"] and paging["seen"] == paging["items"]
    ok_mem = paging["peak_memory_growth_mb"] < 50
    print("Hook vs plain requests + OAuth1Session, same emulator, one run")
    print(f"  sequential GETs ({gets['gets_per_side']} per side, alternating blocks of {gets['block']}):")
    print(f"    plain loop  {gets['plain_ms']:.3f} ms/request")
    print(f"    hook        {gets['hook_ms']:.3f} ms/request")
    print(
        f"    ratio       {gets['ratio']:.3f}x, median of per-block ratios "
        f"(target <= 1.10x: {'met' if ok_ratio else 'NOT met'})"
    )
    print(f"  paging {paging['items']:,} line items with count=1000:")
    print(
        f"    HTTP calls  {paging['http_calls']} (target ceil(N/1000) = {paging['expected_calls']}: "
        f"{'met' if ok_calls else 'NOT met'})"
    )
    print(
        f"    peak memory growth {paging['peak_memory_growth_mb']:.2f} MB "
        f"(target < 50 MB: {'met' if ok_mem else 'NOT met'})"
    )
    print(f"    time        hook {paging['hook_s']:.2f} s, plain loop {paging['plain_s']:.2f} s")
    if args.json:
        Path(args.json).write_text(json.dumps({"gets": gets, "paging": paging}, indent=2))
    return 0 if ok_ratio and ok_calls and ok_mem else 1


if __name__ == "__main__":
    sys.exit(main())
