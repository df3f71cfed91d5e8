"""Sequential keep-alive GETs per second against the emulator on loopback.

Two clients, one connection each, one request at a time (what a DAG task does):

* ``requests-oauthlib``: an ``OAuth1Session``, the provider's own transport stack;
* ``http.client + oauthlib``: the thinnest signed client, to show how much of the time is the server's.

Each signed GET reads one line item (``GET /12/accounts/:id/line_items/8v7jo``) and a page of 200 line
items from a campaign with 100,000 seeded ones (``count=200``, the default page). Every request goes
through OAuth verification, the rate limiter, SQLite and JSON rendering. The aim is >= 500 GETs per second
on a 2-core machine.

Usage: ``.venv/bin/python benchmarks/bench_emulator.py [--seconds 3]``
"""

from __future__ import annotations

import argparse
import http.client
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from oauthlib.oauth1 import Client  # noqa: E402
from requests_oauthlib import OAuth1Session  # noqa: E402

from airflow_provider_twads.emulator import DEFAULT_CREDENTIALS, SEED, EmulatorServer  # noqa: E402

C = DEFAULT_CREDENTIALS


def _rate(call: Callable[[], int], seconds: float) -> tuple[float, float]:
    """(requests per second, median latency in ms) of ``call`` repeated for ``seconds``."""
    for _ in range(20):  # warm-up: connection set up, caches filled
        assert call() == 200
    latencies = []
    deadline = time.perf_counter() + seconds
    while (start := time.perf_counter()) < deadline:
        status = call()
        latencies.append(time.perf_counter() - start)
        if status != 200:
            raise RuntimeError(f"unexpected status {status}")
    return len(latencies) / sum(latencies), statistics.median(latencies) * 1000


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=3.0, help="measuring time per case (default 3)")
    args = parser.parse_args(argv)
    with EmulatorServer(port=0) as emu:
        emu.admin.set_rate_limits({"core_reads": {"limit": 10_000_000, "window": 900}})
        print("seeding 100,000 line items ...", flush=True)
        started = time.perf_counter()
        emu.admin.seed_line_items(SEED["empty_campaign_id"], 100_000)
        print(f"seeded 100,000 line items in {time.perf_counter() - started:.2f} s", flush=True)
        base = f"{emu.base_url}/12/accounts/{SEED['account_id']}"
        paths = {
            "one line item": f"{base}/line_items/{SEED['line_item_id']}",
            "page of 200 of 100,000": f"{base}/line_items?campaign_ids={SEED['empty_campaign_id']}&count=200",
        }
        session = OAuth1Session(
            C["consumer_key"], C["consumer_secret"], C["access_token"], C["access_token_secret"]
        )
        signer = Client(C["consumer_key"], C["consumer_secret"], C["access_token"], C["access_token_secret"])
        conn = http.client.HTTPConnection("127.0.0.1", emu.port, timeout=10)

        def raw(url: str) -> Callable[[], int]:
            def call() -> int:
                uri, headers, _ = signer.sign(url)
                conn.request("GET", uri.removeprefix(emu.base_url), headers=headers)
                response = conn.getresponse()
                response.read()
                return response.status

            return call

        print(f"{'case':28} {'client':26} {'GETs/s':>8} {'median ms':>10}")
        for case, url in paths.items():
            for client_name, call in (
                ("requests-oauthlib", lambda url=url: session.get(url, timeout=10).status_code),
                ("http.client + oauthlib", raw(url)),
            ):
                rate, median = _rate(call, args.seconds)
                print(f"{case:28} {client_name:26} {rate:8.0f} {median:10.2f}", flush=True)
        session.close()
        conn.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
