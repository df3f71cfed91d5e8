"""Project standards as tests: ruff clean, mypy clean, and DAG-facing modules light to import.

Each check runs its tool in a subprocess from the repository root, so the configuration in pyproject.toml
applies exactly as on the command line, and a failure shows the tool's own report.
"""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = "airflow_provider_twads"

#: What ruff checks: the package and every Python tree around it.
RUFF_PATHS = [PACKAGE, "twads-emulator", "tests", "dags_examples", "benchmarks", "scripts"]


#: The modules DAG files import (directly or through the operators' imports).
DAG_FACING_MODULES = [
    f"{PACKAGE}.operators",
    f"{PACKAGE}.operators.line_items",
    f"{PACKAGE}.operators.targeting",
    f"{PACKAGE}.operators.promoted_tweets",
    f"{PACKAGE}.sensors.cursor",
    f"{PACKAGE}.links",
    f"{PACKAGE}.hooks.ads_api",
]
#: Heavy or HTTP libraries that must only be imported when a task runs.
HEAVY_LIBRARIES = {"requests", "requests_oauthlib", "oauthlib", "httpx", "tenacity", "starlette", "uvicorn"}
#: The provider's own modules that pull those libraries in (or are large), likewise only at run time.
HEAVY_PROVIDER_MODULES = {
    f"{PACKAGE}.api.client",
    f"{PACKAGE}.api.aclient",
    f"{PACKAGE}.api.core",
    f"{PACKAGE}.reconcile",
    f"{PACKAGE}.triggers.cursor",
}


def _run(*args: str, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, *args], cwd=ROOT, capture_output=True, text=True, timeout=timeout, check=False
    )


def test_ruff_check_is_clean() -> None:
    result = _run("-m", "ruff", "check", "--no-fix", *RUFF_PATHS)
    assert result.returncode == 0, f"ruff check found problems:\n{result.stdout}{result.stderr}"


def test_ruff_format_is_clean() -> None:
    result = _run("-m", "ruff", "format", "--check", *RUFF_PATHS)
    assert result.returncode == 0, f"files ruff format would change:\n{result.stdout}{result.stderr}"


def test_mypy_is_clean() -> None:
    # The incremental cache (.mypy_cache, git-ignored) makes repeated runs take about a second.
    result = _run("-m", "mypy", "--config-file", "pyproject.toml", PACKAGE, timeout=300)
    assert result.returncode == 0, f"mypy found errors:\n{result.stdout}{result.stderr}"
    assert "Success" in result.stdout


def test_dag_facing_modules_import_no_http_or_heavy_libraries() -> None:
    # A clean interpreter: what this test session imported must not hide what the modules import.
    # airflow.sdk is the baseline (every DAG file imports it, and it brings httpx and tenacity itself):
    # the provider's modules must add none of the heavy libraries on top of it.
    script = textwrap.dedent(
        f"""
        import importlib, json, sys
        import airflow.sdk
        baseline = set(sys.modules)
        for name in {DAG_FACING_MODULES!r}:
            importlib.import_module(name)
        added = sorted(set(sys.modules) - baseline)
        print(json.dumps({{"baseline": sorted(baseline), "added": added}}))
        """
    )
    result = _run("-c", script, timeout=120)
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout.strip().splitlines()[-1])
    added = report["added"]
    assert any(name.startswith(f"{PACKAGE}.operators.") for name in added)  # the imports did happen

    def top(name: str) -> str:
        return name.split(".")[0]

    heavy_added = sorted({top(n) for n in added} & HEAVY_LIBRARIES)
    assert not heavy_added, f"importing the DAG-facing modules imports {heavy_added} at parse time"
    heavy_own = sorted(
        n for n in added if any(n == m or n.startswith(m + ".") for m in HEAVY_PROVIDER_MODULES)
    )
    assert not heavy_own, f"importing the DAG-facing modules imports {heavy_own} at parse time"
    # Those airflow.sdk does not bring must not be loaded at all.
    never = sorted({top(n) for n in report["baseline"] + added} & (HEAVY_LIBRARIES - {"httpx", "tenacity"}))
    assert not never, f"{never} imported at DAG parse time"
