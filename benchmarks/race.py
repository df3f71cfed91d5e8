"""Many writers at once on colliding natural keys: does every operator converge? (issue 11)

K writers, each in its own process (multiprocessing, spawn: what separate Airflow workers are), start
together behind a barrier and reconcile the same keys through the provider's reconciliation functions
(what the operators call in ``execute``):

- ``campaigns``: the same campaign name in the account, asked ACTIVE (the worst case: double spend);
- ``line_items``: the same line item name in one campaign, asked ACTIVE (the worst case: double spend);
- ``promoted``: one line item, overlapping Tweet IDs (writer i promotes a window shifted by i);
- ``targeting_add``: one line item, the same criteria, ``mode="add"``;
- ``targeting_replace_same``: one line item, the same criteria, ``mode="replace"``;
- ``targeting_replace_diff``: one line item, a different set per writer (half shared), ``mode="replace"``.

Latency faults on the reads (and some writes) widen the window between "look" and "write". After each
trial the emulator's state is checked and the script prints, per scenario: live duplicates (entities
alive twice for one key: must be 0), ACTIVE campaigns or line items beyond one per name (0), keys for
which writers returned different IDs (0), tasks failed, and time. For ``targeting_replace_diff`` a task may
fail, with a message naming what another writer changed, but a task that succeeded must see its own set as
the final state unless a later writer started after it finished (``stale successes``: must be 0).

Usage: ``make race`` or ``python benchmarks/race.py --writers 4 --trials 3 [--short] [--scenario ...]``.
"""

from __future__ import annotations

import argparse
import multiprocessing as mp
import sys
import time
import traceback
from collections import Counter, defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:  # run as a script: the benchmarks package and tests are importable
    sys.path.insert(0, str(ROOT))

SCENARIOS = (
    "campaigns",
    "line_items",
    "promoted",
    "targeting_add",
    "targeting_replace_same",
    "targeting_replace_diff",
)
LATENCY = 0.3  # seconds on every read of the contested resource: the window between "look" and "write"


@dataclass
class Outcome:
    """What one writer returned (or how it failed)."""

    writer: int
    ok: bool
    ids: dict[str, str] = field(default_factory=dict)  # natural key (as text) -> the ID it returned
    error: str = ""
    error_type: str = ""
    wanted: list[str] = field(default_factory=list)  # replace: the keys of its set
    started: float = 0.0
    finished: float = 0.0


def _client(base_url: str) -> Any:
    from airflow_provider_twads.api.client import AdsApiClient, Credentials
    from twads_emulator import DEFAULT_CREDENTIALS, SEED

    return AdsApiClient(
        Credentials(**DEFAULT_CREDENTIALS),
        host=base_url,
        api_version="12",
        account_id=SEED["account_id"],
        timeout=30,
    )


def _criteria(scenario: str, writer: int, size: int) -> list[dict[str, str]]:
    if scenario != "targeting_replace_diff":
        return [{"targeting_type": "BROAD_KEYWORD", "targeting_value": f"kw{i}"} for i in range(size)]
    # Half the set is shared by every writer, half is the writer's own.
    half = size // 2
    shared = [f"kw{i}" for i in range(half)]
    own = [f"w{writer}kw{i}" for i in range(size - half)]
    return [{"targeting_type": "BROAD_KEYWORD", "targeting_value": v} for v in shared + own]


def _tweets(writer: int, size: int) -> list[str]:
    step = max(1, size // 3)
    return [str(1000 + writer * step + i) for i in range(size)]


def _line_item_spec(campaign_id: str, name: str) -> dict[str, Any]:
    return {
        "campaign_id": campaign_id,
        "objective": "ENGAGEMENTS",
        "product_type": "PROMOTED_TWEETS",
        "placements": ["ALL_ON_TWITTER"],
        "bid_strategy": "AUTO",
        "start_time": "2031-01-01T00:00:00Z",
        "name": name,
        "entity_status": "ACTIVE",
    }


def _campaign_spec(name: str) -> dict[str, Any]:
    from twads_emulator import SEED

    return {
        "name": name,
        "funding_instrument_id": SEED["funding_instrument_id"],
        "daily_budget_amount_local_micro": 5_000_000,
        "entity_status": "ACTIVE",
    }


def writer_main(job: dict[str, Any], barrier: Any, queue: Any) -> None:
    """One writer (in its own process): wait for the others, reconcile, report an :class:`Outcome`."""
    from airflow_provider_twads import reconcile
    from airflow_provider_twads.reconcile import criterion_key

    scenario, writer, size = job["scenario"], job["writer"], job["size"]
    client = _client(job["base_url"])
    out = Outcome(writer, ok=False)
    barrier.wait()
    out.started = time.time()
    try:
        if scenario == "campaigns":
            spec = _campaign_spec(job["name"])
            campaign = reconcile.ensure_campaign(client, spec)
            out.ids = {job["name"]: campaign.id}
        elif scenario == "line_items":
            spec = _line_item_spec(job["campaign_id"], job["name"])
            (result,) = reconcile.ensure_line_items(client, [spec])
            out.ids = {job["name"]: result.id}
        elif scenario == "promoted":
            tweets = _tweets(writer, size)
            ids = reconcile.ensure_promoted_tweets(client, job["line_item_id"], tweets)
            out.ids = dict(zip(tweets, ids, strict=True))
        else:
            mode = "add" if scenario == "targeting_add" else "replace"
            criteria = _criteria(scenario, writer, size)
            summary = reconcile.apply_targeting(client, [job["line_item_id"]], criteria, mode=mode)
            out.wanted = sorted("|".join(criterion_key(c)) for c in criteria)
            mine = set(summary["created"]) | set(summary["unchanged"])
            out.ids = {"ids": ",".join(sorted(mine))}
        out.ok = True
    except Exception as exc:  # every failure is reported, with its message: that is what is measured
        out.error, out.error_type = str(exc), type(exc).__name__
        if not hasattr(exc, "message"):  # not one of ours: keep the traceback for the report
            out.error += "\n" + traceback.format_exc(limit=5)
    finally:
        out.finished = time.time()
        client.close()
    queue.put(out)


@dataclass
class TrialResult:
    scenario: str
    writers: int
    live_duplicates: int = 0
    extra_active: int = 0
    divergent: int = 0
    failed: int = 0
    conflicts: int = 0  # replace_diff: failures that name what another writer changed
    stale_successes: int = 0  # replace_diff: succeeded, yet the final set is not its own
    final_is_requested: bool = True
    seconds: float = 0.0
    errors: list[str] = field(default_factory=list)


def _fresh_line_item(base_url: str, name: str) -> str:
    from airflow_provider_twads.reconcile import ensure_line_items
    from twads_emulator import SEED

    client = _client(base_url)
    try:
        spec = {**_line_item_spec(SEED["empty_campaign_id"], name), "entity_status": "PAUSED"}
        return ensure_line_items(client, [spec])[0].id
    finally:
        client.close()


def run_trial(emu: Any, scenario: str, writers: int, size: int, trial: int, latency: float) -> TrialResult:
    """Reset the emulator, run ``writers`` processes on ``scenario``, and check the state they left."""
    from twads_emulator import SEED

    emu.admin.reset()
    name = f"race-{scenario}-{trial}"
    job: dict[str, Any] = {"scenario": scenario, "size": size, "base_url": emu.base_url, "name": name}
    job["campaign_id"] = SEED["empty_campaign_id"]
    if scenario not in ("campaigns", "line_items"):
        job["line_item_id"] = _fresh_line_item(emu.base_url, name)
    resource = {"campaigns": "campaigns", "line_items": "line_items", "promoted": "promoted_tweets"}.get(
        scenario, "targeting_criteria"
    )
    if latency:
        emu.admin.set_faults(
            {
                "seed": trial,
                "rules": [
                    {
                        "kind": "latency",
                        "seconds": latency,
                        "probability": 1.0,
                        "method": "GET",
                        "path": resource,
                    },
                    {
                        "kind": "latency",
                        "seconds": latency,
                        "probability": 0.5,
                        "method": "POST",
                        "path": resource,
                    },
                ],
            }
        )
    ctx = mp.get_context("spawn")
    barrier, queue = ctx.Barrier(writers), ctx.Queue()
    procs = [
        ctx.Process(target=writer_main, args=({**job, "writer": w}, barrier, queue)) for w in range(writers)
    ]
    for p in procs:
        p.start()
    outcomes: list[Outcome] = [queue.get(timeout=600) for _ in procs]
    for p in procs:
        p.join()
    emu.admin.clear_faults()
    result = TrialResult(scenario, writers)
    result.seconds = max(o.finished for o in outcomes) - min(o.started for o in outcomes)
    _check(emu, scenario, job, outcomes, result)
    return result


def _check(
    emu: Any, scenario: str, job: dict[str, Any], outcomes: list[Outcome], result: TrialResult
) -> None:
    from airflow_provider_twads.reconcile import criterion_key

    state = emu.admin.state()
    result.failed = sum(not o.ok for o in outcomes)
    result.errors = [f"writer {o.writer}: {o.error_type}: {o.error}" for o in outcomes if not o.ok]
    if scenario in ("campaigns", "line_items"):
        live = [e for e in state[scenario] if e["name"] == job["name"] and not e.get("deleted")]
        result.live_duplicates = max(0, len(live) - 1)
        result.extra_active = max(0, sum(e.get("entity_status") == "ACTIVE" for e in live) - 1)
    elif scenario == "promoted":
        live = [
            pt
            for pt in state["promoted_tweets"]
            if pt["line_item_id"] == job["line_item_id"] and not pt.get("deleted")
        ]
        per_key = Counter(str(pt["tweet_id"]) for pt in live)
        result.live_duplicates = sum(n - 1 for n in per_key.values())
    else:
        live = [
            c
            for c in state["targeting_criteria"]
            if c["line_item_id"] == job["line_item_id"] and not c.get("deleted")
        ]
        key_of = {c["id"]: "|".join(criterion_key(c)) for c in state["targeting_criteria"]}
        per_key = Counter(key_of[c["id"]] for c in live)
        result.live_duplicates = sum(n - 1 for n in per_key.values())
        for o in outcomes:  # the IDs a writer returned, by key
            if o.ok:
                o.ids = {key_of.get(i, i): i for i in o.ids.get("ids", "").split(",") if i}
        if scenario == "targeting_replace_diff":
            final = sorted(per_key)
            requested = [o for o in outcomes if final == o.wanted]
            result.final_is_requested = bool(requested)
            result.conflicts = sum(not o.ok and "another writer" in o.error for o in outcomes)
            for o in outcomes:
                later = [p for p in outcomes if p.ok and p is not o and p.started > o.finished]
                if o.ok and o.wanted != final and not later:
                    result.stale_successes += 1
    by_key: dict[str, set[str]] = defaultdict(set)
    for o in outcomes:
        if o.ok:
            for key, ident in o.ids.items():
                by_key[key].add(ident)
    result.divergent = sum(len(ids) > 1 for ids in by_key.values())


def _line(name: str, values: Sequence[Any]) -> str:
    return f"{name:<26}" + "".join(f"{v!s:>15}" for v in values)


def report(results: list[TrialResult]) -> str:
    """One column per scenario, summed over its trials."""
    by: dict[str, list[TrialResult]] = defaultdict(list)
    for r in results:
        by[r.scenario].append(r)
    names = list(by)
    short = {s: s.replace("targeting_", "tgt_").replace("replace", "repl") for s in names}
    rows = [_line("scenario", [short[s] for s in names]), _line("trials", [len(by[s]) for s in names])]
    for label, attr in (
        ("live duplicates", "live_duplicates"),
        ("ACTIVE beyond one", "extra_active"),
        ("divergent IDs (keys)", "divergent"),
        ("tasks failed", "failed"),
        ("  of them: conflict named", "conflicts"),
        ("stale successes", "stale_successes"),
    ):
        rows.append(_line(label, [sum(getattr(r, attr) for r in by[s]) for s in names]))
    rows.append(_line("final set requested", [sum(r.final_is_requested for r in by[s]) for s in names]))
    rows.append(_line("time per trial (s)", [f"{max(r.seconds for r in by[s]):.1f}" for s in names]))
    return "\n".join(rows)


def run(
    emu: Any,
    *,
    writers: int = 4,
    trials: int = 3,
    scenarios: Sequence[str] = SCENARIOS,
    size: int = 60,
    latency: float = LATENCY,
    verbose: bool = False,
) -> list[TrialResult]:
    """Run every scenario ``trials`` times; return the results (printing nothing).

    :param emu: a started :class:`twads_emulator.EmulatorServer`.
    :param writers: processes per trial.
    :param trials: trials per scenario.
    :param scenarios: which scenarios.
    :param size: Tweets per writer, criteria per writer.
    :param latency: seconds added to each read of the contested resource.
    :param verbose: print each failed task's message.
    """
    results = []
    for scenario in scenarios:
        for trial in range(trials):
            r = run_trial(emu, scenario, writers, size, trial, latency)
            if verbose:
                for err in r.errors:
                    print(f"[{scenario} trial {trial}] {err[:400]}", file=sys.stderr)
            results.append(r)
    return results


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--writers", type=int, default=4)
    parser.add_argument("--trials", type=int, default=3)
    parser.add_argument("--size", type=int, default=60, help="Tweets / criteria per writer")
    parser.add_argument("--latency", type=float, default=LATENCY)
    parser.add_argument("--scenario", action="append", choices=SCENARIOS)
    parser.add_argument("--short", action="store_true", help="3 writers, 1 trial, 12 per writer")
    parser.add_argument("-v", "--verbose", action="store_true")
    args = parser.parse_args(argv)
    if args.short:
        args.writers, args.trials, args.size = 3, 1, 12
    from twads_emulator import EmulatorServer

    started = time.monotonic()
    with EmulatorServer(port=0) as emu:
        results = run(
            emu,
            writers=args.writers,
            trials=args.trials,
            scenarios=args.scenario or SCENARIOS,
            size=args.size,
            latency=args.latency,
            verbose=args.verbose,
        )
    print(f"{args.writers} writers per trial, {args.size} per writer, {args.latency} s latency on reads")
    print(report(results))
    print(f"total {time.monotonic() - started:.0f} s")
    bad = sum(r.live_duplicates + r.extra_active + r.divergent + r.stale_successes for r in results)
    failed = sum(r.failed - r.conflicts for r in results)
    return 1 if bad or failed else 0


if __name__ == "__main__":
    sys.exit(main())
