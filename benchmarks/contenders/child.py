"""Run one contender on one workload in this (fresh) process and print what it cost.

``python -m benchmarks.contenders.child`` reads ``{"contender", "workload", "conn", "job"}`` as JSON on
stdin and prints one line ``BENCH_RESULT {...}`` on stdout. A fresh process per run keeps each contender's
memory figures its own.

Time: ``time.perf_counter()`` around the workload function only. Interpreter start, imports and the
contender's ``warm_up`` (modules an Airflow worker has loaded already) are excluded; building the client,
the SDK's account lookup and the hook's connection lookup are included.

CPU: ``time.process_time()`` over the same section (user + system, all threads of the child); less
sensitive than wall time to other load on the machine.

Memory (resident set size, not the Python heap):
- ``peak_rss_mb``: the high-water mark ``VmHWM`` of the whole process (interpreter and imports included);
- ``growth_mb``: the rise of RSS over its value just before the workload, taken as the larger of a 5 ms
  sampler of ``/proc/self/statm`` and the rise of ``VmHWM`` (exact when the workload sets a new peak).
"""

from __future__ import annotations

import gc
import json
import os
import resource
import sys
import threading
import time
import traceback
from typing import Any

MARKER = "BENCH_RESULT "
_PAGE = os.sysconf("SC_PAGE_SIZE")
_MB = 1024 * 1024


def _rss() -> int:
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * _PAGE


def _maxrss() -> int:
    # VmHWM, not ru_maxrss: ru_maxrss survives exec, so a child would report its parent's peak (the
    # harness, which holds the emulator and its 100,000 seeded line items).
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) * 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024


class _GcTimer:
    """Seconds spent in the cyclic garbage collector (a big heap, e.g. Airflow's, makes it costly)."""

    def __init__(self) -> None:
        self.seconds = 0.0
        self.collections = 0
        self._t0 = 0.0

    def __call__(self, phase: str, info: dict[str, Any]) -> None:
        if phase == "start":
            self._t0 = time.perf_counter()
        else:
            self.seconds += time.perf_counter() - self._t0
            self.collections += 1


class _Sampler(threading.Thread):
    def __init__(self) -> None:
        super().__init__(daemon=True)
        self.peak = _rss()
        self.stop = threading.Event()

    def run(self) -> None:
        while not self.stop.wait(0.005):
            self.peak = max(self.peak, _rss())


def run(contender: str, workload: str, conn: dict[str, Any], job: dict[str, Any]) -> dict[str, Any]:
    """Run one workload with one contender here and measure it.

    :param contender: a name from :data:`benchmarks.contenders.CONTENDERS`
    :param workload: a name from :data:`benchmarks.contenders.workloads.WORKLOADS`
    :param conn: :class:`~benchmarks.contenders.workloads.Conn` as a dict
    :param job: the job built by the harness for this workload
    """
    from benchmarks.contenders import load
    from benchmarks.contenders.workloads import Conn

    module = load(contender)
    fn = module.WORKLOADS[workload]
    connection = Conn(**conn)
    if hasattr(module, "warm_up"):
        module.warm_up(connection)
    rss_before, maxrss_before = _rss(), _maxrss()
    sampler = _Sampler()
    sampler.start()
    gc_timer = _GcTimer()
    gc.callbacks.append(gc_timer)
    error = None
    summary: dict[str, Any] = {}
    cpu0 = time.process_time()
    t0 = time.perf_counter()
    try:
        summary = fn(connection, job)
    except Exception as exc:
        error = f"{type(exc).__name__}: {exc}"[:500]
        traceback.print_exc(file=sys.stderr)
    seconds = time.perf_counter() - t0
    cpu = time.process_time() - cpu0
    gc.callbacks.remove(gc_timer)
    sampler.stop.set()
    sampler.join()
    maxrss_after = _maxrss()
    growth = sampler.peak - rss_before
    if maxrss_after > maxrss_before:
        growth = max(growth, maxrss_after - rss_before)
    return {
        "seconds": seconds,
        "cpu_s": cpu,
        "gc_s": gc_timer.seconds,
        "gc_collections": gc_timer.collections,
        "heap_objects": len(gc.get_objects()),
        "peak_rss_mb": maxrss_after / _MB,
        "peak_rss_source": "VmHWM",
        "growth_mb": max(growth, 0) / _MB,
        "error": error,
        "summary": summary,
    }


def main() -> None:
    request = json.load(sys.stdin)
    result = run(request["contender"], request["workload"], request["conn"], request["job"])
    sys.stdout.write(MARKER + json.dumps(result, default=str) + "\n")


if __name__ == "__main__":
    main()
