"""Assemble README.md from the section files in docs/readme/ (run: python docs/assemble_readme.py).

The sections are kept as separate files so that each part's owner edits its own; README.md is what users
read and is committed assembled.
"""

from __future__ import annotations

import re
from pathlib import Path

DOCS = Path(__file__).resolve().parent / "readme"
ORDER = [
    "intro.md",
    "connection-and-hook.md",
    "operators.md",
    "example-dags.md",
    "environments.md",
    "troubleshooting.md",
    "emulator.md",
    "reliability.md",
    "benchmarks.md",
    "development.md",
]


def main() -> None:
    """Concatenate the sections that exist, in order, and write README.md."""
    parts = [(DOCS / name).read_text().strip() for name in ORDER if (DOCS / name).exists()]
    text = "\n\n".join(parts) + "\n"
    text = re.sub(r"\n{3,}", "\n\n", text)
    (DOCS.parent.parent / "README.md").write_text(text)


if __name__ == "__main__":
    main()
