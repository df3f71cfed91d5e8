"""One write budget, many worker processes: do they all finish, and how close to the budget's pace?

K worker processes (spawned, as Airflow's workers are separate processes with nothing shared) each make
6-8 writes (``PUT`` of a line item's name) with their own ``AdsApiClient`` and the default retry policy,
against one emulator whose write limit is 2 per 3 s (``--limit``, ``--window``). They start together.
Printed per run: writes, failed workers (any exception; a 429 that ran out is a failure), 429s taken,
wall time from the common start to the last worker's end, and the theoretical minimum (writes / budget:
``writes / limit * window``) with the ratio. The goal (issue 11): 0 failed, ratio <= 1.2.

Usage: ``make bench-budget`` or ``.venv/bin/python benchmarks/bench_shared_budget.py --workers 4 8``.
``run()`` is also used by ``tests/api/test_shared_budget.py`` (3 workers, small budget; never on time).
"""

from __future__ import annotations

import argparse
import json
import multiprocessing as mp
import random
import time
from dataclasses import dataclass
from typing import Any


@dataclass
class BudgetRun:
    """What one run measured."""

    workers: int
    writes: int
    failed: list[str]
    rate_limited: int
    wall: float
    minimum: float

    @property
    def ratio(self) -> float:
        return self.wall / self.minimum if self.minimum else float("nan")

    def line(self) -> str:
        return (
            f"{self.workers} workers: {self.writes} writes, {len(self.failed)} failed, "
            f"{self.rate_limited} 429s taken, {self.wall:.1f} s vs minimum {self.minimum:.1f} s "
            f"(ratio {self.ratio:.2f})"
        )


def _worker(base_url: str, line_item_id: str, writes: int, tag: str, start_at: float, out: Any) -> None:
    """One worker process: wait for the common start, make ``writes`` PUTs, report what happened."""
    from airflow_provider_twads.api.client import AdsApiClient, Credentials
    from twads_emulator import DEFAULT_CREDENTIALS, SEED

    result: dict[str, Any] = {"tag": tag, "ok": 0, "error": None, "limited": 0}
    with AdsApiClient(
        Credentials(**DEFAULT_CREDENTIALS), host=base_url, account_id=SEED["account_id"], timeout=30
    ) as client:
        time.sleep(max(0.0, start_at - time.time()))
        try:
            for n in range(writes):
                client.update_line_item(line_item_id, name=f"budget {tag} {n}")
                result["ok"] += 1
        except Exception as exc:  # any failure counts, whatever its type
            result["error"] = f"{type(exc).__name__}: {exc}"[:300]
        result["limited"] = client.stats.by_status.get(429, 0)
    result["end"] = time.time()
    out.put(result)


def run(
    base_url: str,
    admin: Any,
    *,
    workers: int,
    writes: tuple[int, int] = (6, 8),
    limit: int = 2,
    window: int = 3,
    seed: int = 0,
) -> BudgetRun:
    """Run ``workers`` spawned processes against the emulator at ``base_url`` sharing one write budget.

    :param base_url: the emulator's URL.
    :param admin: the emulator's admin client (``EmulatorServer.admin``): reset and rate limits.
    :param workers: how many worker processes.
    :param writes: each worker makes a random number of writes in this range (inclusive).
    :param limit: writes per window.
    :param window: the window, seconds.
    :param seed: for the number of writes per worker.
    """
    from twads_emulator import SEED

    admin.reset()
    admin.set_rate_limits({"writes": {"limit": limit, "window": window}})
    rng = random.Random(seed)
    counts = [rng.randint(*writes) for _ in range(workers)]
    ctx = mp.get_context("spawn")
    out = ctx.Queue()
    start_at = time.time() + 3.0 + 0.5 * workers  # after every process has imported the client
    procs = [
        ctx.Process(target=_worker, args=(base_url, SEED["line_item_id"], n, f"w{i}", start_at, out))
        for i, n in enumerate(counts)
    ]
    for p in procs:
        p.start()
    results = [out.get(timeout=1800) for _ in procs]
    for p in procs:
        p.join(30)
    failed = [
        f"{r['tag']}: {r['error']}" for r in results if r["error"] or r["ok"] != counts[int(r["tag"][1:])]
    ]
    total = sum(counts)
    return BudgetRun(
        workers=workers,
        writes=total,
        failed=failed,
        rate_limited=sum(r["limited"] for r in results),
        wall=max(r["end"] for r in results) - start_at,
        minimum=total / limit * window,
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--workers", type=int, nargs="+", default=[4, 8])
    parser.add_argument("--limit", type=int, default=2)
    parser.add_argument("--window", type=int, default=3)
    parser.add_argument("--reps", type=int, default=1)
    parser.add_argument("--json", action="store_true", help="print one JSON line per run")
    args = parser.parse_args()
    from twads_emulator import EmulatorServer

    with EmulatorServer(port=0) as server:
        for workers in args.workers:
            for rep in range(args.reps):
                res = run(
                    server.base_url,
                    server.admin,
                    workers=workers,
                    limit=args.limit,
                    window=args.window,
                    seed=rep,
                )
                print(json.dumps({**res.__dict__, "ratio": round(res.ratio, 3)}) if args.json else res.line())
                for failure in res.failed:
                    print("   ", failure)


if __name__ == "__main__":
    main()
