"""Sequential keep-alive GETs per second against the emulator on loopback, before and after the fast
OAuth verification.

Two clients, one connection each, one request at a time (what a DAG task does):

* ``requests-oauthlib``: an ``OAuth1Session``, the provider's own transport stack;
* ``http.client + oauthlib``: the thinnest signed client, to show how much of the time is the server's.

Each signed GET reads one line item (``GET /12/accounts/:id/line_items/8v7jo``) or a page of 200 line
items from a campaign with 100,000 seeded ones (``count=200``, the default page). Every request goes
through OAuth verification, the rate limiter, SQLite and JSON rendering.

Two server-side OAuth verifiers are compared in the same run, in alternating blocks so that a change in
machine load hits both alike: "before" is oauthlib's ``SignatureOnlyEndpoint`` (``EndpointVerifier``),
"after" the emulator's ``OAuthVerifier`` (the same checks on oauthlib's signature primitives). Besides
wall-clock rates the script reports CPU time per request of the server thread and of the client, which
machine load does not inflate. The aim is >= 500 GETs per second on a 2-core machine.

Two more figures, for the emulator's own cost on the big workloads (issue 10):

* ``batch``: emulator CPU per 500-criterion targeting batch (``POST batch/.../targeting_criteria``), ten
  batches onto one line item (5,000 criteria in the end, as in the benchmarks' targeting workload);
  the target is <= 0.1 s each;
* ``paging``: every one of 100,000 seeded line items read with ``count=1000`` (100 pages): wall time,
  emulator CPU and line items per second.

Usage: ``.venv/bin/python benchmarks/bench_emulator.py [--seconds 6] [--blocks 3]
[--sections gets,batch,paging]``
"""

from __future__ import annotations

import argparse
import http.client
import os
import statistics
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from oauthlib.oauth1 import Client  # noqa: E402
from requests_oauthlib import OAuth1Session  # noqa: E402

from twads_emulator import DEFAULT_CREDENTIALS, SEED, EmulatorServer  # noqa: E402
from twads_emulator.oauth import EndpointVerifier, OAuthVerifier  # noqa: E402
from twads_emulator.seed import CONSUMERS, TOKENS  # noqa: E402

C = DEFAULT_CREDENTIALS
VERIFIERS = {"before": EndpointVerifier, "after": OAuthVerifier}


@dataclass
class Tally:
    """Requests, wall time and CPU times accumulated over the blocks of one (case, client, verifier)."""

    requests: int = 0
    wall: float = 0.0
    server_cpu: float = 0.0
    client_cpu: float = 0.0
    latencies: list[float] = field(default_factory=list)

    def row(self) -> str:
        n = max(self.requests, 1)
        return (
            f"{self.requests / self.wall:8.0f} {statistics.median(self.latencies) * 1000:10.2f} "
            f"{self.server_cpu / n * 1000:11.3f} {self.client_cpu / n * 1000:11.3f}"
        )


def _block(call: Callable[[], int], seconds: float, emu: EmulatorServer, tally: Tally) -> None:
    """Repeat ``call`` for ``seconds``, adding to ``tally``."""
    server_start, client_start = emu.cpu_time(), time.thread_time()
    deadline = time.perf_counter() + seconds
    while (start := time.perf_counter()) < deadline:
        status = call()
        tally.latencies.append(time.perf_counter() - start)
        if status != 200:
            raise RuntimeError(f"unexpected status {status}")
    tally.requests = len(tally.latencies)
    tally.wall = sum(tally.latencies)
    tally.server_cpu += emu.cpu_time() - server_start
    tally.client_cpu += time.thread_time() - client_start


def _session() -> OAuth1Session:
    return OAuth1Session(C["consumer_key"], C["consumer_secret"], C["access_token"], C["access_token_secret"])


def batch_cpu(emu: EmulatorServer, batches: int = 10, size: int = 500) -> list[float]:
    """Emulator CPU seconds of each of ``batches`` targeting batches of ``size`` onto one new line item."""
    base = f"{emu.base_url}/12"
    account = SEED["account_id"]
    with _session() as session:
        line_item = {
            "campaign_id": SEED["empty_campaign_id"], "objective": "ENGAGEMENTS",
            "product_type": "PROMOTED_TWEETS", "placements": "ALL_ON_TWITTER",
            "bid_amount_local_micro": "3210000", "entity_status": "PAUSED",
        }  # fmt: skip
        created = session.post(f"{base}/accounts/{account}/line_items", params=line_item, timeout=30)
        line_item_id = created.json()["data"]["id"]
        cpu = []
        for b in range(batches):
            ops = [
                {"operation_type": "Create", "params": {
                    "line_item_id": line_item_id, "targeting_type": "BROAD_KEYWORD",
                    "targeting_value": f"keyword{b:02d}{i:04d}", "operator_type": "EQ"}}
                for i in range(size)
            ]  # fmt: skip
            start = emu.cpu_time()
            answer = session.post(f"{base}/batch/accounts/{account}/targeting_criteria", json=ops, timeout=60)
            cpu.append(emu.cpu_time() - start)
            if answer.status_code != 200:
                raise RuntimeError(f"batch {b}: {answer.status_code} {answer.text[:200]}")
    return cpu


def paging(emu: EmulatorServer, campaign_id: str) -> tuple[int, float, float]:
    """Read every line item of ``campaign_id`` with ``count=1000``: (items, wall s, emulator CPU s)."""
    url = f"{emu.base_url}/12/accounts/{SEED['account_id']}/line_items"
    items, cursor = 0, None
    with _session() as session:
        wall, cpu = time.perf_counter(), emu.cpu_time()
        while True:
            params = {"campaign_ids": campaign_id, "count": "1000", **({"cursor": cursor} if cursor else {})}
            page = session.get(url, params=params, timeout=60).json()
            items += len(page["data"])
            if not (cursor := page["next_cursor"]):
                break
        return items, time.perf_counter() - wall, emu.cpu_time() - cpu


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--seconds", type=float, default=6.0, help="measuring time per case (default 6)")
    parser.add_argument("--blocks", type=int, default=3, help="alternating blocks per case (default 3)")
    parser.add_argument(
        "--sections", default="gets,batch,paging", help="what to measure (default gets,batch,paging)"
    )
    args = parser.parse_args(argv)
    sections = set(args.sections.split(","))
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    print(f"machine: {os.cpu_count()} cores, load average {load:.2f}", flush=True)
    with EmulatorServer(port=0) as emu:
        emu.admin.set_rate_limits({"core_reads": {"limit": 10_000_000, "window": 900}})
        if "batch" in sections:
            cpu = batch_cpu(emu)
            print(f"500-criterion batch, emulator CPU s (10 batches onto one line item): median "
                  f"{statistics.median(cpu):.3f}, first {cpu[0]:.3f}, last {cpu[-1]:.3f}, max {max(cpu):.3f}",
                  flush=True)  # fmt: skip
        if not sections & {"gets", "paging"}:
            return 0
        print("seeding 100,000 line items ...", flush=True)
        started = time.perf_counter()
        emu.admin.seed_line_items(SEED["empty_campaign_id"], 100_000)
        print(f"seeded 100,000 line items in {time.perf_counter() - started:.2f} s", flush=True)
        if "paging" in sections:
            items, wall, cpu_s = paging(emu, SEED["empty_campaign_id"])
            print(f"paging {items:,} line items (count=1000): {wall:.2f} s wall, {cpu_s:.2f} s emulator CPU, "
                  f"{items / wall:,.0f} line items/s", flush=True)  # fmt: skip
        if "gets" not in sections:
            return 0
        base = f"{emu.base_url}/12/accounts/{SEED['account_id']}"
        paths = {
            "one line item": f"{base}/line_items/{SEED['line_item_id']}",
            "page of 200 of 100,000": f"{base}/line_items?campaign_ids={SEED['empty_campaign_id']}&count=200",
        }
        session = _session()
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

        verifiers = {name: cls(CONSUMERS, TOKENS) for name, cls in VERIFIERS.items()}
        block = args.seconds / args.blocks / len(verifiers)
        total = len(paths) * 2 * args.blocks
        done = 0
        results: list[tuple[str, str, str, Tally]] = []
        for case, url in paths.items():
            clients: dict[str, Callable[[], int]] = {
                "requests-oauthlib": lambda url=url: session.get(url, timeout=10).status_code,
                "http.client + oauthlib": raw(url),
            }
            for client_name, call in clients.items():
                tallies = {name: Tally() for name in verifiers}
                for _ in range(20):  # warm-up: connection set up, caches filled
                    assert call() == 200
                for b in range(args.blocks):
                    order = list(verifiers) if b % 2 == 0 else list(reversed(verifiers))
                    for name in order:
                        emu.emulator.oauth = verifiers[name]
                        _block(call, block, emu, tallies[name])
                    done += 1
                    print(f"  block {done} of {total}: {case}, {client_name}", flush=True)
                results += [(case, client_name, name, tally) for name, tally in tallies.items()]
        emu.emulator.oauth = verifiers["after"]
        session.close()
        conn.close()
    print()
    print(f"{'case':24} {'client':24} {'verifier':8} {'GETs/s':>8} {'median ms':>10} "
          f"{'server CPU':>11} {'client CPU':>11}")  # fmt: skip
    print(f"{'':58} {'':8} {'':10} {'ms/request':>11} {'ms/request':>11}")
    for case, client_name, name, tally in results:
        print(f"{case:24} {client_name:24} {name:8} {tally.row()}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
