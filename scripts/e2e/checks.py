"""Named pass/fail checks with their timing, and the closing summary."""

from __future__ import annotations

import contextlib
import time
import traceback
from collections.abc import Iterator
from dataclasses import dataclass, field


@dataclass
class Result:
    name: str
    ok: bool
    detail: str = ""
    seconds: float = 0.0
    known: bool = False  # a known bug outside this project (named in the detail): reported, not failed

    @property
    def mark(self) -> str:
        return "KNOWN" if self.known else "PASS" if self.ok else "FAIL"


@dataclass
class Checks:
    """Collects results; a step that raises is a failed check, and later steps still run."""

    results: list[Result] = field(default_factory=list)

    def expect(
        self, name: str, ok: bool, detail: str = "", seconds: float = 0.0, known: bool = False
    ) -> bool:
        """Record one check (``known``: a known outside bug, which does not fail the run); return ``ok``."""
        result = Result(name, bool(ok) or known, detail, seconds, known)
        self.results.append(result)
        print(f"  [{result.mark}] {name}" + (f": {detail}" if detail else ""), flush=True)
        return bool(ok)

    @contextlib.contextmanager
    def step(self, name: str) -> Iterator[None]:
        """Time a block; an exception in it is recorded as a failure of ``name`` (not raised further)."""
        print(f"--- {name}", flush=True)
        started = time.monotonic()
        try:
            yield
        except KeyboardInterrupt:
            raise
        except Exception as exc:
            self.expect(name, False, f"{type(exc).__name__}: {exc}"[-1500:], time.monotonic() - started)
            traceback.print_exc()
        else:
            self.results.append(Result(f"{name} (step)", True, "", time.monotonic() - started))

    @property
    def failed(self) -> list[Result]:
        return [r for r in self.results if not r.ok]

    def summary(self, total_seconds: float) -> str:
        """One line per check, then the totals."""
        lines = ["", "=== make e2e: summary ==="]
        checks = [r for r in self.results if not r.name.endswith("(step)")]
        for r in checks:
            lines.append(f"{r.mark:5} {r.name}" + (f" ({r.seconds:.1f} s)" if r.seconds else ""))
        steps = [r for r in self.results if r.name.endswith("(step)")]
        lines.append("steps: " + "; ".join(f"{r.name[: -len(' (step)')]} {r.seconds:.0f} s" for r in steps))
        lines.append(
            f"{sum(r.ok for r in checks)} passed, {len(checks) - sum(r.ok for r in checks)} failed"
            f" in {total_seconds:.0f} s"
        )
        return "\n".join(lines)
