"""An analytics report of 1,000,000+ metric rows through ``AnalyticsReportOperator`` (issue 15, part 7).

The report: N active line items x the AGE segments (4) x hourly buckets over D days, one row per entity x
segment x hour, as the operator writes them (JSON lines, metrics flattened). The defaults (174 line items,
60 days, HOUR, AGE) give 1,002,240 rows and need 18 jobs: 9 groups of 20 IDs x 2 windows (a segmented job
covers at most 45 days). ``--rows`` picks the entity count for another row target; ``--entities`` sets it.

Measured, in one run against the emulator in its own process (``twads-emulator`` on a free loopback port):

- the operator, ``execute()`` in this process, not deferrable, from job creation to files on disk (a short
  poll interval, a small processing delay): rows written, wall time, rows/s, the client's CPU, and the RSS
  growth over its start (a 5 ms sampler of ``/proc/self/statm``) against the 100 MB target;
- the baseline, a plain loop over the same result files: download each whole with ``requests``,
  ``gzip.decompress`` + ``json.loads``, flatten, ``json.dumps`` a line per row, write; the same figures;
- the ratio of the two in rows/s (the target: within 1.10x of the plain loop's time, as issue 6 set for the
  client), reported and not gated;
- jobs created (``POST stats/jobs`` in the emulator's request log) against the floor
  ``ceil(entities / 20) x ceil(days / 90, or 45 when segmented)``.

Exits 1 if the rows written differ from the rows expected, the RSS growth is over 100 MB or the jobs
created are not the floor. Run ``make bench-report`` or ``.venv/bin/python benchmarks/bench_report.py``.
"""

from __future__ import annotations

import argparse
import contextlib
import gc
import gzip
import json
import math
import os
import shutil
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from benchmarks import bench_triggers  # noqa: E402
from benchmarks.bench_triggers import start_emulator  # noqa: E402

MAX_IDS_PER_JOB = 20  # analytics.mdx: entity IDs per job
DAYS_PER_JOB = {False: 90, True: 45}  # unsegmented / segmented
SEGMENTS = {"AGE": 4, "GENDER": 2, "PLATFORMS": 3, None: 1}  # what the emulator reports per segmentation
METRIC_GROUPS = ["ENGAGEMENT", "BILLING"]
GROWTH_TARGET_MB = 100.0
RATIO_TARGET = 1 / 1.10  # rows/s within 1.10x of the plain loop's time
_FORMAT = "%Y-%m-%dT%H:%M:%SZ"
RESULT_MARKER = "RESULT "


class RssSampler:
    """The process's resident set size every 5 ms in a thread; ``growth_mb`` over the size at start."""

    def __init__(self) -> None:
        self._page = os.sysconf("SC_PAGE_SIZE")
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self.start_bytes = self.peak_bytes = self._rss()

    def _rss(self) -> int:
        with open("/proc/self/statm") as f:
            return int(f.read().split()[1]) * self._page

    def _run(self) -> None:
        while not self._stop.wait(0.005):
            self.peak_bytes = max(self.peak_bytes, self._rss())

    def __enter__(self) -> RssSampler:
        gc.collect()
        self.start_bytes = self.peak_bytes = self._rss()
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()
        self.peak_bytes = max(self.peak_bytes, self._rss())

    @property
    def growth_mb(self) -> float:
        return (self.peak_bytes - self.start_bytes) / 2**20


def plan(args: argparse.Namespace, timezone: str) -> dict[str, Any]:
    """The report's shape: entities, window, buckets, expected rows and the floor of jobs.

    :param args: the command line.
    :param timezone: the account's time zone (``DAY`` buckets start at its midnights).
    """
    segmentation = None if args.segmentation.upper() == "NONE" else args.segmentation.upper()
    segments = SEGMENTS[segmentation]
    buckets = args.days * 24 if args.granularity == "HOUR" else args.days
    entities = args.entities or math.ceil(args.rows / (segments * buckets))
    # The window ends at a UTC midnight two days ago, so every bucket has served (HOUR); DAY buckets start
    # at the account's midnights (the operator reads its time zone), so the window is cut there.
    end = datetime.now(UTC).replace(hour=0, minute=0, second=0, microsecond=0) - timedelta(days=2)
    start = end - timedelta(days=args.days)
    if args.granularity == "DAY":
        from zoneinfo import ZoneInfo

        def midnight(day: Any) -> datetime:
            return datetime.combine(day, datetime.min.time(), ZoneInfo(timezone)).astimezone(UTC)

        start, end = midnight(start.date()), midnight(end.date())
    windows = math.ceil(args.days / DAYS_PER_JOB[segmentation is not None])
    return {
        "entities": entities,
        "segmentation": segmentation,
        "segments": segments,
        "granularity": args.granularity,
        "days": args.days,
        "buckets": buckets,
        "start": start,
        "end": end,
        "expected_rows": entities * segments * buckets,
        "floor_jobs": math.ceil(entities / MAX_IDS_PER_JOB) * windows,
        "id_groups": math.ceil(entities / MAX_IDS_PER_JOB),
        "windows": windows,
    }


def seed(admin: Any, shape: dict[str, Any]) -> list[str]:
    """Active line items created a day before the window: each serves every hour of it."""
    from twads_emulator import SEED

    created = (shape["start"] - timedelta(days=1)).strftime(_FORMAT)
    before = {li["id"] for li in admin.state("line_items")["line_items"]}
    admin.seed_line_items(SEED["campaign_id"], shape["entities"], entity_status="ACTIVE", created_at=created)
    return sorted(li["id"] for li in admin.state("line_items")["line_items"] if li["id"] not in before)


def operator(shape: dict[str, Any], ids: list[str], folder: Path, poll: float, **overrides: Any) -> Any:
    from airflow_provider_twads.operators.analytics import AnalyticsReportOperator

    kwargs: dict[str, Any] = {
        "task_id": "report",
        "entity": "LINE_ITEM",
        "entity_ids": ids,
        "start_time": shape["start"].strftime(_FORMAT),
        "end_time": shape["end"].strftime(_FORMAT),
        "metric_groups": METRIC_GROUPS,
        "granularity": shape["granularity"],
        "segmentation_type": shape["segmentation"],
        "output_path": f"file://{folder}",
        "output_format": "jsonl",
        "poll_interval": poll,
        "deferrable": False,
    }
    return AnalyticsReportOperator(**(kwargs | overrides))


def run_operator(op: Any) -> list[str]:
    """``execute()`` as a worker calls it (a task instance stand-in: the operator reads none of it)."""
    ti = type("TI", (), {"dag_id": "bench", "task_id": op.task_id, "run_id": "bench", "map_index": -1})()
    paths: list[str] = op.execute({"ti": ti, "task_instance": ti, "run_id": "bench", "task": op})
    return paths


def count_lines(path: Path) -> int:
    n = 0
    with path.open("rb") as f:
        while chunk := f.read(1 << 20):
            n += chunk.count(b"\n")
    return n


def local_path(url: str) -> Path:
    return Path(url.removeprefix("file://"))


def baseline(jobs: list[dict[str, Any]], folder: Path, timezone: str) -> int:
    """The plain loop: each file downloaded whole, decompressed whole, parsed whole, flattened, written."""
    from zoneinfo import ZoneInfo

    import requests

    written = 0
    with requests.Session() as session:
        for job in jobs:
            resp = session.get(job["url"], timeout=120)
            resp.raise_for_status()
            doc = json.loads(gzip.decompress(resp.content))
            start = datetime.strptime(job["start_time"], _FORMAT).replace(tzinfo=UTC)
            local = start.astimezone(ZoneInfo(timezone))
            granularity = job["granularity"]
            with (folder / f"stats_job_{job['id_str']}.jsonl").open("w") as out:
                for element in doc["data"]:
                    for item in element["id_data"]:
                        segment = item["segment"]
                        name = segment["segment_name"] if segment else None
                        flat: dict[str, Any] = {}
                        for metric, series in item["metrics"].items():
                            if isinstance(series, dict):
                                flat.update({f"{metric}.{k}": v for k, v in series.items()})
                            else:
                                flat[metric] = series
                        for i in range(doc["time_series_length"]):
                            if granularity == "HOUR":
                                at = start + timedelta(hours=i)
                            elif granularity == "DAY":
                                at = (local + timedelta(days=i)).astimezone(UTC)
                            else:
                                at = start
                            row = {
                                "entity_id": element["id"],
                                "segment": name,
                                "time": at.strftime(_FORMAT),
                                "placement": job["placement"],
                            }
                            for metric, series in flat.items():
                                row[metric] = series[i] if series is not None else None
                            out.write(json.dumps(row, separators=(",", ":")) + "\n")
                            written += 1
    return written


def cpu_of(pid: int) -> float:
    """A process's CPU seconds (user + system), from ``/proc``: the emulator's."""
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def timed(work: Callable[[], Any], server_pid: int) -> dict[str, Any]:
    """Run ``work`` under the RSS sampler: its result, start (epoch), wall seconds, this process's CPU
    seconds and the emulator's, RSS growth."""
    with RssSampler() as rss:
        server0 = cpu_of(server_pid)
        started, t0, cpu0 = time.time(), time.perf_counter(), time.process_time()
        result = work()
        seconds, cpu = time.perf_counter() - t0, time.process_time() - cpu0
    return {
        "result": result,
        "started": started,
        "seconds": seconds,
        "cpu_s": cpu,
        "server_cpu_s": cpu_of(server_pid) - server0,
        "growth_mb": rss.growth_mb,
    }


def api_log(admin: Any, after_seq: int) -> Iterator[dict[str, Any]]:
    return (r for r in admin.requests(after_seq) if not r["path"].startswith("/_emulator"))


def same_files(a: list[Path], b: list[Path]) -> bool:
    """Whether two sets of files hold the same bytes (the baseline writes what the operator writes)."""
    import hashlib

    def digest(p: Path) -> str:
        h = hashlib.blake2b()
        with p.open("rb") as f:
            while chunk := f.read(1 << 20):
                h.update(chunk)
        return h.hexdigest()

    return sorted(map(digest, a)) == sorted(map(digest, b))


def run(args: argparse.Namespace) -> dict[str, Any]:
    from airflow_provider_twads.api.client import AdsApiClient, Credentials
    from twads_emulator import DEFAULT_CREDENTIALS, SEED
    from twads_emulator.connection import connection_env
    from twads_emulator.server import AdminClient

    proc, url = start_emulator(None)
    work = Path(tempfile.mkdtemp(prefix="twads-bench-report-", dir=args.dir))
    client = AdsApiClient(Credentials(**DEFAULT_CREDENTIALS), host=url, account_id=SEED["account_id"])
    try:
        os.environ.update(connection_env(url, timeout=120))
        admin = AdminClient(url, timeout=120)
        timezone = str(client.get_account().get("timezone") or "UTC")
        shape = plan(args, timezone)
        admin.set_jobs(processing_seconds=args.processing_seconds)
        ids = seed(admin, shape)
        # Warm-up, not measured: the same operator on one entity and one hour loads what a worker has
        # loaded before its task (Airflow's connection lookup, object storage, the client's imports).
        one_hour = {
            "end_time": (shape["start"] + timedelta(hours=1)).strftime(_FORMAT),
            "granularity": "HOUR",
        }
        run_operator(operator(shape, ids[:1], work / "warm-up", args.poll, **one_hour))
        warm_up_jobs = {j["id_str"] for j in client.list_stats_jobs()}
        seq0 = max((r["seq"] for r in admin.requests()), default=0)

        op_run = timed(lambda: run_operator(operator(shape, ids, work / "operator", args.poll)), proc.pid)
        op_paths = [local_path(p) for p in op_run.pop("result")]
        log = list(api_log(admin, seq0))
        created = [r for r in log if r["method"] == "POST" and "/stats/jobs/" in r["path"]]
        polls = [r for r in log if r["method"] == "GET" and "/stats/jobs/" in r["path"]]
        waiting = (max(r["time"] for r in polls) - op_run["started"]) if polls else 0.0
        op_rows = sum(map(count_lines, op_paths))

        # The baseline reads the same finished jobs' files (their URLs from GET stats/jobs, not timed).
        jobs = [j for j in client.list_stats_jobs() if j["id_str"] not in warm_up_jobs]
        (work / "baseline").mkdir()
        base = timed(lambda: baseline(jobs, work / "baseline", timezone), proc.pid)
        base_rows = base.pop("result")
        base_paths = sorted((work / "baseline").iterdir())
        identical = same_files(op_paths, base_paths)
    finally:
        client.close()
        proc.terminate()
        proc.wait(10)
        if not args.keep:
            shutil.rmtree(work, ignore_errors=True)
    op_rate, base_rate = op_rows / op_run["seconds"], base_rows / base["seconds"]
    return {
        "entities": shape["entities"],
        "segmentation": shape["segmentation"],
        "segments": shape["segments"],
        "granularity": shape["granularity"],
        "days": shape["days"],
        "buckets": shape["buckets"],
        "window": [shape["start"].strftime(_FORMAT), shape["end"].strftime(_FORMAT)],
        "expected_rows": shape["expected_rows"],
        "rows": op_rows,
        "files": len(op_paths),
        "jobs_created": sum(1 for r in created if r["status"] == 200),
        "create_attempts": len(created),
        "job_polls": len(polls),
        "floor_jobs": shape["floor_jobs"],
        "id_groups": shape["id_groups"],
        "windows": shape["windows"],
        "operator": {**op_run, "rows_per_s": op_rate, "waiting_s": waiting},
        "baseline": {**base, "rows": base_rows, "rows_per_s": base_rate},
        "ratio": op_rate / base_rate,
        "cpu_ratio": (op_rows / op_run["cpu_s"]) / (base_rows / base["cpu_s"]),
        "identical_files": identical,
        "processing_seconds": args.processing_seconds,
        "poll_interval": args.poll,
        "load_average": os.getloadavg()[0],
    }


def verdicts(r: dict[str, Any]) -> dict[str, bool]:
    return {
        "rows": r["rows"] == r["expected_rows"],
        "memory": r["operator"]["growth_mb"] <= GROWTH_TARGET_MB,
        "jobs": r["jobs_created"] == r["floor_jobs"],
    }


def report(r: dict[str, Any]) -> str:
    """The figures, one line each."""
    ok = verdicts(r)
    mark = {True: "ok", False: "FAILED"}
    o, b = r["operator"], r["baseline"]
    seg = f"{r['segments']} segments ({r['segmentation']})" if r["segmentation"] else "no segmentation"
    per_job = DAYS_PER_JOB[r["segmentation"] is not None]
    ratio_met = "met" if r["ratio"] >= RATIO_TARGET else "not met"
    return "\n".join(
        [
            f"report: {r['entities']:,} LINE_ITEM x {seg} x {r['buckets']:,} {r['granularity']} buckets "
            f"({r['days']} days, {r['window'][0]} to {r['window'][1]}) = {r['expected_rows']:,} rows",
            f"rows written: {r['rows']:,} in {r['files']} files, expected {r['expected_rows']:,}: "
            f"{mark[ok['rows']]}",
            f"jobs created: {r['jobs_created']} ({r['create_attempts']} POSTs, "
            f"{r['job_polls']} GET stats/jobs); floor {r['floor_jobs']} = "
            f"ceil({r['entities']}/20)={r['id_groups']} x ceil({r['days']}/{per_job})={r['windows']}: "
            f"{mark[ok['jobs']]}",
            f"operator: {o['seconds']:.2f} s wall, {o['rows_per_s']:,.0f} rows/s, "
            f"client CPU {o['cpu_s']:.2f} s, emulator CPU {o['server_cpu_s']:.2f} s; of the wall time, "
            f"{o['waiting_s']:.2f} s creating and waiting for jobs (processing delay "
            f"{r['processing_seconds']} s, poll {r['poll_interval']} s)",
            f"operator RSS growth: {o['growth_mb']:.1f} MB, target <= {GROWTH_TARGET_MB:.0f} MB: "
            f"{mark[ok['memory']]}",
            f"baseline (plain loop, whole files): {b['rows']:,} rows, {b['seconds']:.2f} s wall, "
            f"{b['rows_per_s']:,.0f} rows/s, client CPU {b['cpu_s']:.2f} s, "
            f"emulator CPU {b['server_cpu_s']:.2f} s, RSS growth {b['growth_mb']:.1f} MB",
            f"operator/baseline rows/s: {r['ratio']:.3f}x wall, {r['cpu_ratio']:.3f}x per client CPU "
            f"second; target >= {RATIO_TARGET:.3f}x wall (time within 1.10x of the loop's): {ratio_met}",
            f"same bytes written by both: {'yes' if r['identical_files'] else 'no'}",
        ]
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=1_000_000, help="row target: sets the entity count")
    parser.add_argument("--entities", type=int, default=0, help="entity count (overrides --rows)")
    parser.add_argument("--days", type=int, default=60, help="days in the report (default 60)")
    parser.add_argument("--granularity", choices=["HOUR", "DAY"], default="HOUR")
    parser.add_argument("--segmentation", default="AGE", choices=["AGE", "GENDER", "PLATFORMS", "none"])
    parser.add_argument("--processing-seconds", type=float, default=0.5, help="the emulator's job delay")
    parser.add_argument("--poll", type=float, default=0.25, help="the operator's poll interval, s")
    parser.add_argument("--dir", help="where to write the files (a temporary folder under it)")
    parser.add_argument("--keep", action="store_true", help="keep the files written")
    parser.add_argument("--json", type=Path, help="also write the figures here")
    args = parser.parse_args(argv)
    with contextlib.suppress(OSError):  # the empty AIRFLOW_HOME bench_triggers makes on import: unused here
        bench_triggers.HOME.rmdir()
    home = tempfile.mkdtemp(prefix="twads-bench-report-home-")
    os.environ.setdefault("AIRFLOW_HOME", home)
    os.environ.setdefault("AIRFLOW__CORE__LOAD_EXAMPLES", "False")
    os.environ.setdefault("AIRFLOW__CORE__UNIT_TEST_MODE", "True")
    os.environ.setdefault("AIRFLOW__DATABASE__SQL_ALCHEMY_CONN", f"sqlite:///{home}/airflow.db")
    try:
        result = run(args)
    finally:
        shutil.rmtree(home, ignore_errors=True)
    print(report(result), flush=True)
    print(RESULT_MARKER + json.dumps({**result, "verdicts": verdicts(result)}), flush=True)
    if args.json:
        args.json.write_text(json.dumps(result, indent=1))
    return 0 if all(verdicts(result).values()) else 1


if __name__ == "__main__":
    sys.exit(main())
