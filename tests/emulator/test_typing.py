"""The emulator is typed like the provider: ``mypy --strict`` on ``twads_emulator`` stays clean."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_mypy_strict_is_clean_on_the_emulator() -> None:
    # The root configuration (strict, third-party overrides) applies; the path names the package.
    result = subprocess.run(
        [sys.executable, "-m", "mypy", "--config-file", "pyproject.toml", "--strict",
         "twads-emulator/twads_emulator"],
        cwd=ROOT, capture_output=True, text=True, timeout=300, check=False,
    )  # fmt: skip
    assert result.returncode == 0, f"mypy found errors:\n{result.stdout}{result.stderr}"
