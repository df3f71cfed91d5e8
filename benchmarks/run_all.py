"""``make bench``: this provider against the official twitter-ads SDK and the floor, on the local emulator.

One run starts one emulator and, for each workload, runs every contender several times in rotating order,
each run in a fresh subprocess (``benchmarks/contenders/child.py``) on a freshly reset and seeded
emulator (see ``benchmarks/harness.py``). For each run it records the HTTP calls from the emulator's
request log, the wall time and memory the child measured, and checks the emulator's state (the right
entities, no duplicates). The results go to ``benchmarks/README.md`` (between markers, the rest of the
file is left alone) and ``benchmarks/results.png``.

Usage: ``.venv/bin/python benchmarks/run_all.py [--quick] [--only WORKLOAD ...] [--contenders NAME ...]
[--reps N] [--no-write] [--json PATH]``
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import sys
import tempfile
import time
from importlib import metadata
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from benchmarks import harness, report  # noqa: E402
from benchmarks.contenders import CONTENDERS  # noqa: E402
from benchmarks.contenders import workloads as w  # noqa: E402

HERE = Path(__file__).resolve().parent

# Runs per workload and contender (the table gives the median, min and max). Chosen so that the whole
# run stays around 10 minutes on a 2-core machine; the rate-limited launch is mostly forced waiting.
REPS: dict[str, int] = {
    w.TARGETING: 3,
    w.PROMOTE: 5,
    w.CREATE_LINE_ITEMS: 5,
    w.LIST_LINE_ITEMS: 3,
    w.LAUNCH_FREE: 3,
    w.LAUNCH_LIMITED: 3,
    w.LAUNCH_FAULTS: 3,
}
# Contenders that have nothing of their own to run on a workload: listing is the hook's job, not an
# operator's; the launch without limits only measures the floor (for the theoretical minimum).
SKIP: dict[str, set[str]] = {w.LIST_LINE_ITEMS: {"provider_ops"}, w.LAUNCH_FREE: set(CONTENDERS) - {"floor"}}


def versions() -> str:
    """The machine and the versions of what ran."""

    def v(dist: str) -> str:
        try:
            return metadata.version(dist)
        except metadata.PackageNotFoundError:
            return "not installed"

    cpu = "unknown CPU"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    mem = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    return (
        f"- Machine: {cpu}, {os.cpu_count()} cores, {mem:.0f} GiB RAM, {platform.platform()}\n"
        f"- Python {platform.python_version()}; airflow-provider-twads {v('airflow-provider-twads')}; "
        f"twitter-ads {v('twitter-ads')} (API 11); requests {v('requests')}; "
        f"requests-oauthlib {v('requests-oauthlib')}; apache-airflow {v('apache-airflow')}; "
        f"emulator on uvicorn {v('uvicorn')} / starlette {v('starlette')}, in the same machine\n"
    )


def launch_minimum(cells: dict[tuple[str, str], report.Cell]) -> tuple[float, float, dict[str, int]] | None:
    """The theoretical minimum time of the rate-limited launch: (minimum, forced waits, calls by category).

    The fewest calls the launch needs are the floor's; under the low limits, their categories force
    :func:`harness.pacing_minimum` seconds of waiting; the calls themselves take what the floor needs for
    the same launch without limits (median of its runs).
    """
    free = cells.get((w.LAUNCH_FREE, "floor"))
    if free is None or not free.seconds:
        return None
    by_cat = harness.calls_by_category(free.runs[0]["calls_by_endpoint"])
    waits = harness.pacing_minimum(by_cat, harness.LOW_RATE_LIMITS)
    minima = [
        harness.minimum_time(r["call_offsets"], r["seconds"], harness.LOW_RATE_LIMITS)
        for r in free.runs
        if r.get("call_offsets") and r["seconds"]
    ]
    if not minima:
        return None
    return statistics.median(minima), waits, by_cat


def launch_minimum_note(cells: dict[tuple[str, str], report.Cell]) -> str:
    """The rate-limited launch against its theoretical minimum, per contender."""
    found = launch_minimum(cells)
    if found is None:
        return ""
    minimum, waits, by_cat = found
    limits = ", ".join(f"{k} {b} per {s} s" for k, (b, s) in harness.LOW_RATE_LIMITS.items())
    lines = [
        "### The rate-limited launch against its theoretical minimum",
        "",
        f"Limits: {limits}. The launch needs at least {sum(by_cat.values())} calls "
        f"({', '.join(f'{k}: {v}' for k, v in sorted(by_cat.items()))}), so the limits force at least "
        f"{waits:.0f} s of waiting. Replaying the floor's calls from its runs without limits (each call as "
        "long as it took there) under these windows, starting each call as soon as both the previous call "
        "and its window allow, gives the theoretical minimum (median over those runs): "
        f"**{minimum:.3f} s**. The API announces `reset` in whole seconds, so a client that waits for the "
        "announced reset instead of taking a 429 starts up to 1 s after the real end of the window: about "
        "+0.5 s on average per wait here, which no client avoids without taking 429s.",
        "",
        "| contender | HTTP calls | median s (min-max) | / theoretical minimum | 429 responses "
        "| error surfaced |",
        "|---|---:|---:|---:|---:|---|",
    ]
    for contender in report.LABELS:
        cell = cells.get((w.LAUNCH_LIMITED, contender))
        if not cell or not cell.seconds:
            continue
        s = cell.seconds
        lines.append(
            f"| {report.LABELS[contender]} | {cell.calls_text} | "
            f"{cell.median_s:.3f} ({min(s):.3f}-{max(s):.3f}) | "
            f"{report.ratio(cell.median_s, minimum)} | {cell.statuses.get('429', 0)} | "
            f"{'; '.join(cell.errors) or 'none'} |"
        )
    return "\n".join(lines) + "\n"


def calls_note(cells: dict[tuple[str, str], report.Cell], workloads: list[str]) -> str:
    """Which endpoints each contender called, per workload (first run): where extra calls come from."""
    lines = [
        "### Where the calls go (first run of each)",
        "",
        "| workload | contender | calls by endpoint |",
        "|---|---|---|",
    ]
    for wl in workloads:
        for contender in report.LABELS:
            cell = cells.get((wl, contender))
            if cell and cell.runs:
                by = cell.runs[0]["calls_by_endpoint"]
                lines.append(
                    f"| {wl} | {contender} | {', '.join(f'{k}: {v}' for k, v in sorted(by.items()))} |"
                )
    return "\n".join(lines) + "\n"


def render(
    cells: dict[tuple[str, str], report.Cell],
    workloads: list[str],
    titles: dict[str, str],
    elapsed: float,
    quick: bool,
    loads: list[float],
) -> str:
    when = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())
    shown = [wl for wl in workloads if wl != w.LAUNCH_FREE]
    parts = [
        "## Provider vs. official SDK vs. floor",
        "",
        f"Recorded by `make bench` on {when} (whole run: {elapsed / 60:.1f} min"
        f"{'; QUICK sizes, one run each' if quick else ''}).",
        "",
        versions(),
        f"- Machine load (1-minute load average, sampled before each workload): "
        f"{', '.join(f'{x:.1f}' for x in loads)}. Wall times on a loaded machine stretch; the CPU columns "
        "(client: the contender's process; server: the emulator's) move much less and are the better guide "
        "to what each contender costs.",
        "",
        "![results](results.png)",
        "",
        report.table(cells, shown, titles),
    ]
    if w.LAUNCH_LIMITED in workloads:
        parts.append(launch_minimum_note(cells))
    parts.append(calls_note(cells, workloads))
    return "\n".join(parts)


def title_args(workload: str, sizes: dict[str, Any]) -> dict[str, Any]:
    launch = workload in w.LAUNCHES
    return {
        "criteria": sizes["launch_criteria"]
        if launch
        else sizes["targeting_line_items"] * sizes["criteria_per_line_item"],
        "line_items": {
            w.TARGETING: sizes["targeting_line_items"],
            w.CREATE_LINE_ITEMS: sizes["create_line_items"],
            w.LIST_LINE_ITEMS: sizes["list_line_items"],
        }.get(workload, 1),
        "tweets": sizes["launch_tweets"] if launch else sizes["promote_tweets"],
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="small workloads, one run each (a dry run)")
    parser.add_argument("--only", nargs="+", choices=w.WORKLOADS, help="run only these workloads")
    parser.add_argument("--contenders", nargs="+", choices=CONTENDERS, default=list(CONTENDERS))
    parser.add_argument("--reps", type=int, help="runs per workload and contender (default: per workload)")
    parser.add_argument("--no-write", action="store_true", help="print the results, leave README/PNG alone")
    parser.add_argument("--json", type=Path, help="also write every run as JSON to this file")
    parser.add_argument(
        "--merge",
        type=Path,
        help="runs of an earlier --json to report with this run's (this run's workloads replace theirs)",
    )
    args = parser.parse_args(argv)

    from twads_emulator import EmulatorServer

    sizes = harness.SMALL if args.quick else harness.FULL
    workloads = list(args.only or w.WORKLOADS)
    if w.LAUNCH_LIMITED in workloads:
        workloads.insert(workloads.index(w.LAUNCH_LIMITED), w.LAUNCH_FREE)
    titles = {wl: w.TITLES[wl].format(**title_args(wl, sizes)) for wl in w.TITLES}
    cells: dict[tuple[str, str], report.Cell] = {}
    started = time.perf_counter()
    loads: list[float] = []
    with (
        tempfile.TemporaryDirectory(prefix="twads-bench-airflow-") as airflow_home,
        EmulatorServer(port=0) as emu,
    ):
        runner = harness.subprocess_runner(harness.child_env(harness.conn_for(emu), airflow_home))
        cache: dict[str, Any] = {}
        for wl in workloads:
            loads.append(os.getloadavg()[0])
            contenders = [c for c in args.contenders if c not in SKIP.get(wl, set())]
            reps = args.reps or (1 if args.quick else REPS[wl])
            for rep in range(reps):
                k = rep % max(len(contenders), 1)
                for contender in contenders[k:] + contenders[:k]:
                    run = harness.run_one(wl, contender, emu, sizes, cache, runner)
                    cells.setdefault((wl, contender), report.Cell(wl, contender)).runs.append(run)
                    secs = f"{run['seconds']:.3f}s" if run["seconds"] is not None else "-"
                    print(
                        f"[{time.perf_counter() - started:5.0f}s] {wl} {rep + 1}/{reps} {contender:12s} "
                        f"calls={run['calls']:<4d} time={secs} cpu={run.get('cpu_s') or 0:.2f}s "
                        f"server_cpu={run['server_cpu_s']:.2f}s growth={run['growth_mb'] or 0:.1f}MB "
                        f"ok={run['ok']} dup={run['duplicates']} {run['detail']} {run['statuses'] or ''}"
                        + (f" ERROR {run['error']}" if run["error"] else ""),
                        flush=True,
                    )
    elapsed = time.perf_counter() - started
    if args.merge:
        for run in json.loads(args.merge.read_text()):
            if run["workload"] not in workloads:
                cells.setdefault(
                    (run["workload"], run["contender"]), report.Cell(run["workload"], run["contender"])
                )
                cells[(run["workload"], run["contender"])].runs.append(run)
        workloads = [
            wl for wl in [*w.WORKLOADS[:4], w.LAUNCH_FREE, *w.WORKLOADS[4:]] if any(k[0] == wl for k in cells)
        ]
    body = render(cells, workloads, titles, elapsed, args.quick, loads)
    print(body)
    if args.json:
        args.json.write_text(json.dumps([r for c in cells.values() for r in c.runs], indent=1, default=str))
    if not args.no_write:
        report.chart(cells, [wl for wl in workloads if wl != w.LAUNCH_FREE], titles, HERE / "results.png")
        report.write_readme(HERE / "README.md", body)
        print(f"wrote {HERE / 'README.md'} and {HERE / 'results.png'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
