"""`make test-matrix`: the provider against the latest patch of each supported Airflow minor.

Each version gets its own venv under ``.venv-matrix/<version>`` (uv when it can be had, else venv + pip),
with the provider and ``./twads-emulator`` editable and the pins of ``constraints/airflow-<minor>.txt``:
the same files a user installs with. Per version, in order:

- ``imports``: every module of ``airflow_provider_twads`` imports, and none of them raises a
  DeprecationWarning of its own;
- ``airflow``: a trivial ``@task`` DAG runs under ``airflow dags test`` (fresh AIRFLOW_HOME, ``airflow db
  migrate`` first), which proves the pins let Airflow itself run a task;
- the full suite on the newest version; on the older ones ``tests/hooks``, one end-to-end run of the
  launch DAG, and the analytics report (the operator, its trigger, and the daily report DAG end to end:
  object storage and the trigger's kill handling differ between minors) (``--full`` runs the full suite
  everywhere, ``--short`` nowhere).

The steps go on after a failure so that the table shows everything; the exit status is non-zero if any
step failed. The floor of ``apache-airflow`` in pyproject.toml must be the lowest version in the matrix:
versions below it are not supported and are skipped.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
import tomllib
from dataclasses import dataclass
from pathlib import Path

# The latest patch of each supported minor: bump a version here when Airflow releases a new patch
# (`pip index versions apache-airflow`), and add its constraints/airflow-<minor>.txt with a new minor.
MATRIX = ("3.0.6", "3.1.8", "3.2.2", "3.3.2")

REPO = Path(__file__).resolve().parent.parent
VENVS = REPO / ".venv-matrix"
LAUNCH_TEST = "tests/dags/test_launch_dag.py::test_launch_runs_end_to_end_and_a_rerun_converges"
REPORT_TESTS = [
    "tests/operators/test_analytics_report.py",
    "tests/triggers/test_analytics_trigger.py",
    "tests/dags/test_report_dag.py::test_daily_report_writes_the_last_7_days_of_every_active_line_item",
]

# Run inside the version's venv: import every provider module, report failures and our own deprecations.
IMPORT_CHECK = r"""
import importlib, pkgutil, warnings
from pathlib import Path

failed = []
with warnings.catch_warnings(record=True) as caught:
    warnings.simplefilter("always")
    import airflow_provider_twads as pkg
    root = Path(pkg.__file__).resolve().parent
    names = [m.name for m in pkgutil.walk_packages(pkg.__path__, "airflow_provider_twads.",
                                                   onerror=lambda name: failed.append(name))]
    for name in sorted(set(names)):
        try:
            importlib.import_module(name)
        except Exception as exc:
            failed.append(f"{name}: {type(exc).__name__}: {exc}")
    pkg.get_provider_info()
ours = {
    f"{Path(w.filename).name}:{w.lineno}: {w.category.__name__}: {w.message}"
    for w in caught
    if issubclass(w.category, DeprecationWarning) and Path(w.filename).resolve().is_relative_to(root)
}
for line in failed:
    print("import failed:", line)
for line in sorted(ours):
    print("deprecation:", line)
print(f"{len(names)} modules, {len(failed)} failed, {len(ours)} deprecations")
raise SystemExit(1 if failed or ours else 0)
"""

SMOKE_DAG = """
import os
from datetime import datetime

from airflow.sdk import dag, task


@dag(dag_id="matrix_smoke", schedule=None, start_date=datetime(2025, 1, 1), catchup=False)
def matrix_smoke():
    @task
    def touch() -> None:
        with open(os.environ["MATRIX_SMOKE_MARKER"], "w") as f:
            f.write("ran")

    touch()


matrix_smoke()
"""


@dataclass
class Result:
    version: str
    step: str
    ok: bool | None  # None: skipped
    seconds: float
    detail: str


def minor(version: str) -> str:
    return ".".join(version.split(".")[:2])


def as_tuple(version: str) -> tuple[int, ...]:
    return tuple(int(part) for part in version.split("."))


def pyproject_floor() -> str:
    """The lowest ``apache-airflow`` the provider's pyproject.toml accepts."""
    deps = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]["dependencies"]
    for dep in deps:
        found = re.match(r"apache-airflow\s*>=\s*([\d.]+)", dep)
        if found:
            return found.group(1)
    raise SystemExit("pyproject.toml declares no apache-airflow>= floor")


def clean_env(venv: Path) -> dict[str, str]:
    """The caller's environment without its Airflow settings or venv, with ``venv`` first on PATH."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("AIRFLOW") and k != "VIRTUAL_ENV"}
    env["PATH"] = f"{venv / 'bin'}{os.pathsep}{env.get('PATH', '')}"
    return env


def run(cmd: list[str], log: Path, env: dict[str, str], timeout: float) -> tuple[bool, str]:
    """Run ``cmd`` with its output in ``log``; return success and the output's last lines."""
    with log.open("a") as out:
        # The import check is a script given with -c: its first line is enough here.
        out.write("$ " + " ".join(arg.strip().splitlines()[0] if arg.strip() else arg for arg in cmd) + "\n")
        out.flush()
        try:
            code = subprocess.run(
                cmd, cwd=REPO, env=env, stdout=out, stderr=subprocess.STDOUT, timeout=timeout, check=False
            ).returncode
        except subprocess.TimeoutExpired:
            out.write(f"\ntimed out after {timeout:.0f} s\n")
            code = -1
    return code == 0, log.read_text(errors="replace")[-6000:]


def installer() -> str | None:
    """uv from $UV (the Makefile's choice) or PATH; None means venv + pip."""
    uv = os.environ.get("UV") or shutil.which("uv")
    return uv if uv and os.access(uv, os.X_OK) else None


def install(version: str, venv: Path, log: Path, uv: str | None, reinstall: bool) -> tuple[bool, str]:
    """(Re)create ``venv`` for ``version`` unless its stamp says it is current."""
    constraints = REPO / "constraints" / f"airflow-{minor(version)}.txt"
    if not constraints.exists():
        return False, f"missing {constraints.relative_to(REPO)}"
    inputs = [REPO / "pyproject.toml", REPO / "twads-emulator/pyproject.toml", constraints]
    digest = hashlib.sha256(b"".join(p.read_bytes() for p in inputs) + str(uv is None).encode()).hexdigest()
    stamp = venv / ".matrix-installed"
    if not reinstall and stamp.exists() and stamp.read_text() == digest:
        return True, "up to date"
    shutil.rmtree(venv, ignore_errors=True)
    env = clean_env(venv)
    reqs = ["-e", ".[dev]", "-e", "./twads-emulator", f"apache-airflow=={version}", "-c", str(constraints)]
    if uv:
        steps = [
            [uv, "venv", "--quiet", "--python", sys.executable, str(venv)],
            [uv, "pip", "install", "--quiet", "--python", str(venv / "bin/python"), *reqs],
        ]
    else:
        steps = [
            [sys.executable, "-m", "venv", str(venv)],
            [str(venv / "bin/python"), "-m", "pip", "install", "--quiet", *reqs],
        ]
    for cmd in steps:
        ok, tail = run(cmd, log, env, timeout=1200)
        if not ok:
            return False, tail
    stamp.write_text(digest)
    return True, "uv" if uv else "pip"


def smoke(venv: Path, log: Path) -> tuple[bool, str]:
    """A trivial ``@task`` DAG under ``airflow dags test``: does this Airflow run a task at all?"""
    with tempfile.TemporaryDirectory(prefix="twads-matrix-") as tmp:
        home = Path(tmp)
        (home / "dags").mkdir()
        (home / "dags/matrix_smoke.py").write_text(SMOKE_DAG)
        marker = home / "ran"
        env = clean_env(venv) | {
            "AIRFLOW_HOME": str(home),
            "AIRFLOW__CORE__DAGS_FOLDER": str(home / "dags"),
            "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
            "MATRIX_SMOKE_MARKER": str(marker),
        }
        airflow = str(venv / "bin/airflow")
        ok, tail = run([airflow, "db", "migrate"], log, env, timeout=600)
        if ok:
            ok, tail = run([airflow, "dags", "test", "matrix_smoke", "2025-01-01"], log, env, timeout=600)
        if ok and not marker.exists():
            return False, "`airflow dags test` exited 0 but the task did not run"
        return ok, "a @task ran under `airflow dags test`" if ok else tail


def pytest(venv: Path, log: Path, args: list[str]) -> tuple[bool, str]:
    return run([str(venv / "bin/python"), "-m", "pytest", "-q", *args], log, clean_env(venv), timeout=5400)


def summary(ok: bool, tail: str) -> str:
    """One line for the table: pytest's closing line, the check's own count, or the last line of output."""
    lines = [line.strip() for line in tail.splitlines() if line.strip()]
    if len(lines) == 1:
        return lines[0][:100]
    for line in reversed(lines):
        found = re.fullmatch(r"=*\s*(.*? in [\d.]+s.*?)\s*=*", line)
        if found and re.search(r"\d+ (passed|failed|error)", line):
            return found.group(1)
        if re.fullmatch(r"\d+ modules, .*", line):
            return line
    return lines[-1][:100] if lines and not ok else ""


def excerpt(tail: str, limit: int = 15) -> str:
    """What a person needs from a failed step: the error lines (deduplicated), else the last lines."""
    lines = tail.splitlines()
    errors = re.compile(
        r"^(E\s+\S*(Error|Exception)\b|FAILED |ERROR |import failed:|deprecation:|\S*Error: )"
    )
    found = list(dict.fromkeys(line for line in lines if errors.search(line)))
    return "\n".join(f"    {line[:300]}" for line in (found or lines)[-limit:])


def check_version(version: str, plan: list[str], args: argparse.Namespace, uv: str | None) -> list[Result]:
    venv = VENVS / version
    logs = VENVS / "logs" / version
    shutil.rmtree(logs, ignore_errors=True)
    logs.mkdir(parents=True)
    results: list[Result] = []
    steps = {
        "install": lambda log: install(version, venv, log, uv, args.reinstall),
        "imports": lambda log: run(
            [str(venv / "bin/python"), "-c", IMPORT_CHECK], log, clean_env(venv), timeout=600
        ),
        "airflow": lambda log: smoke(venv, log),
        "hooks": lambda log: pytest(venv, log, ["tests/hooks"]),
        "launch": lambda log: pytest(venv, log, [LAUNCH_TEST]),
        "report": lambda log: pytest(venv, log, REPORT_TESTS),
        "suite": lambda log: pytest(venv, log, []),
    }
    for name in ["install", *plan]:
        log = logs / f"{name}.log"
        print(f"[{version}] {name} ...", flush=True)
        start = time.monotonic()
        ok, tail = steps[name](log)
        seconds = time.monotonic() - start
        results.append(Result(version, name, ok, seconds, summary(ok, tail)))
        if not ok:
            print(excerpt(tail), flush=True)
            print(f"[{version}] {name} FAILED in {seconds:.0f} s: full log in {log.relative_to(REPO)}")
            if name == "install":
                break
    return results


def table(results: list[Result]) -> str:
    rows = [("version", "step", "result", "seconds", "detail")]
    for r in results:
        result = "skipped" if r.ok is None else "passed" if r.ok else "FAILED"
        rows.append((r.version, r.step, result, f"{r.seconds:.0f}", r.detail))
    widths = [max(len(row[i]) for row in rows) for i in range(4)]
    return "\n".join(
        "  ".join(cell.ljust(w) for cell, w in zip(row[:4], widths, strict=True)) + "  " + row[4]
        for row in rows
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--versions", help="comma-separated subset of the matrix, e.g. 3.2,3.3.2")
    depth = parser.add_mutually_exclusive_group()
    depth.add_argument("--full", action="store_true", help="the full suite on every version")
    depth.add_argument("--short", action="store_true", help="no full suite: the short checks everywhere")
    parser.add_argument("--reinstall", action="store_true", help="recreate the venvs even if current")
    args = parser.parse_args()

    # A minor ("3.2") stands for its patch in the matrix.
    wanted = args.versions.split(",") if args.versions else list(MATRIX)
    chosen = [v for v in MATRIX if v in wanted or minor(v) in wanted]
    unknown = sorted(w for w in wanted if w not in MATRIX and w not in map(minor, MATRIX))
    if unknown:
        parser.error(f"not in the matrix: {', '.join(unknown)} (the matrix: {', '.join(MATRIX)})")
    floor = pyproject_floor()
    uv = installer()
    results: list[Result] = []
    # The floor users read in pyproject is the lowest version this matrix runs: no claim it does not test.
    floor_ok = floor == MATRIX[0]
    note = "equals the lowest tested" if floor_ok else f"must be the lowest tested: >={MATRIX[0]}"
    results.append(Result(f">={floor}", "floor", floor_ok, 0, f"pyproject's apache-airflow floor {note}"))
    start = time.monotonic()
    for version in sorted(chosen, key=as_tuple):
        if as_tuple(version) < as_tuple(floor):
            results.append(Result(version, "all", None, 0, f"below pyproject's floor >={floor}"))
            continue
        newest = version == MATRIX[-1]
        full = args.full or (newest and not args.short)
        plan = ["imports", "airflow", *(["suite"] if full else ["hooks", "launch", "report"])]
        results.extend(check_version(version, plan, args, uv))

    passed = sum(r.ok is True for r in results)
    failed = sum(r.ok is False for r in results)
    elapsed = time.monotonic() - start
    print(f"\nAirflow matrix ({'uv' if uv else 'pip'}; logs in .venv-matrix/logs/), {elapsed:.0f} s:")
    print(table(results))
    print(f"matrix: {passed} passed, {failed} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
