"""The runs of ``benchmarks/run_all.py`` as a results table, a chart and ``benchmarks/README.md``."""

from __future__ import annotations

import statistics
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

LABELS: dict[str, str] = {
    "floor": "floor (requests + OAuth1Session)",
    "sdk": "twitter-ads SDK",
    "provider": "provider: hook client",
    "provider_ops": "provider: operators",
}
BEGIN = "<!-- BEGIN run_all.py results (generated: do not edit by hand) -->"
END = "<!-- END run_all.py results -->"


@dataclass
class Cell:
    """Every run of one contender on one workload."""

    workload: str
    contender: str
    runs: list[dict[str, Any]] = field(default_factory=list)

    def _values(self, key: str) -> list[float]:
        return [r[key] for r in self.runs if r.get(key) is not None]

    @property
    def seconds(self) -> list[float]:
        return self._values("seconds")

    @property
    def median_s(self) -> float:
        return statistics.median(self.seconds)

    @property
    def calls(self) -> list[int]:
        return [r["calls"] for r in self.runs]

    @property
    def calls_text(self) -> str:
        lo, hi = min(self.calls), max(self.calls)
        return f"{lo}" if lo == hi else f"{lo}-{hi}"

    @property
    def median_calls(self) -> float:
        return statistics.median(self.calls)

    @property
    def ok_runs(self) -> int:
        return sum(1 for r in self.runs if r["ok"] and not r["error"])

    @property
    def duplicates(self) -> int:
        return max(r["duplicates"] for r in self.runs)

    @property
    def statuses(self) -> dict[str, int]:
        """Non-2xx statuses and injected faults seen by the emulator, summed over the runs."""
        out: dict[str, int] = {}
        for r in self.runs:
            for k, v in r["statuses"].items():
                out[k] = out.get(k, 0) + v
        return out

    @property
    def errors(self) -> list[str]:
        return sorted({r["error"] for r in self.runs if r["error"]})


def ratio(a: float | None, b: float | None) -> str:
    if a is None or b is None or b == 0:
        return "n/a"
    return f"{a / b:.2f}x"


def _fmt_s(x: float) -> str:
    return f"{x:.3f}" if x < 10 else f"{x:.2f}"


def _outcome(cell: Cell) -> str:
    n = len(cell.runs)
    text = f"{cell.ok_runs}/{n} ok"
    if cell.duplicates:
        text += f", {cell.duplicates} dup"
    st = cell.statuses
    if st:
        text += ", " + " ".join(f"{k}:{v}" for k, v in sorted(st.items()))
    return text


def _peak(cell: Cell) -> str:
    # Runs recorded before the child read VmHWM reported ru_maxrss, which a child inherits from its parent.
    values = [r["peak_rss_mb"] for r in cell.runs if r.get("peak_rss_source") == "VmHWM"]
    return f"{max(values):.0f}" if values else "n/a"


def _median(cell: Cell, key: str) -> str:
    values = cell._values(key)
    return f"{statistics.median(values):.3f}" if values else "n/a"


def _ratios(cell: Cell, other: Cell | None) -> str:
    if other is None or not other.runs:
        return ""
    return f"{ratio(cell.median_calls, other.median_calls)}, {ratio(cell.median_s, other.median_s)}"


def table(cells: dict[tuple[str, str], Cell], workloads: list[str], titles: dict[str, str]) -> str:
    """The Markdown results table: one row per workload and contender, ratios on the provider rows."""
    head = (
        "| workload | contender | HTTP calls | wall s median (min-max) | client CPU s | server CPU s "
        "| peak RSS MB | RSS growth MB | outcome | provider/floor calls, time | provider/SDK calls, time |\n"
        "|---|---|---:|---|---:|---:|---:|---:|---|---|---|\n"
    )
    rows = []
    for wl in workloads:
        floor = cells.get((wl, "floor"))
        sdk = cells.get((wl, "sdk"))
        for contender in LABELS:
            cell = cells.get((wl, contender))
            if cell is None or not cell.runs:
                continue
            s = cell.seconds
            vs_floor = vs_sdk = ""
            if contender.startswith("provider"):
                vs_floor = _ratios(cell, floor)
                vs_sdk = _ratios(cell, sdk)
            rows.append(
                f"| {titles[wl]} | {LABELS[contender]} | {cell.calls_text} | "
                f"{_fmt_s(statistics.median(s))} ({_fmt_s(min(s))}-{_fmt_s(max(s))}) | "
                f"{_median(cell, 'cpu_s')} | {_median(cell, 'server_cpu_s')} | "
                f"{_peak(cell)} | {max(cell._values('growth_mb')):.1f} | "
                f"{_outcome(cell)} | {vs_floor} | {vs_sdk} |"
            )
    return head + "\n".join(rows) + "\n"


def chart(
    cells: dict[tuple[str, str], Cell], workloads: list[str], titles: dict[str, str], path: Path
) -> None:
    """Three panels (calls, wall time, RSS growth), workloads down, one bar per contender, log scales."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    contenders = [c for c in LABELS if any((wl, c) in cells for wl in workloads)]
    colors = {"floor": "#7f7f7f", "sdk": "#d62728", "provider": "#1f77b4", "provider_ops": "#17becf"}
    fig, axes = plt.subplots(1, 3, figsize=(17, 0.9 * len(workloads) + 2.2), sharey=True)
    height = 0.8 / max(len(contenders), 1)
    metrics = [
        ("HTTP calls (fewer is better)", lambda c: c.median_calls),
        ("wall time, s, median (shorter is better)", lambda c: c.median_s),
        ("RSS growth during the work, MB", lambda c: max(max(c._values("growth_mb")), 0.1)),
    ]
    for ax, (title, metric) in zip(axes, metrics, strict=True):
        for k, contender in enumerate(contenders):
            ys, xs, notes = [], [], []
            for i, wl in enumerate(workloads):
                cell = cells.get((wl, contender))
                if cell and cell.runs:
                    ys.append(i + (k - (len(contenders) - 1) / 2) * height)
                    xs.append(metric(cell))
                    # A contender that stopped early is cheap: say so on its bar, or it reads as a win.
                    note = "" if cell.ok_runs == len(cell.runs) else f"  ✗ {cell.ok_runs}/{len(cell.runs)} ok"
                    notes.append(note + (f", {cell.duplicates} dup" if cell.duplicates else ""))
            ax.barh(ys, xs, height=height, color=colors[contender], label=LABELS[contender])
            for y, x, note in zip(ys, xs, notes, strict=True):
                ax.text(x, y, f" {x:.3g}{note}", va="center", fontsize=7)
        ax.set_xscale("log")
        ax.set_title(title, fontsize=10)
        ax.grid(axis="x", alpha=0.3)
    axes[0].set_yticks(range(len(workloads)))
    axes[0].set_yticklabels([titles[wl] for wl in workloads], fontsize=8)
    axes[0].invert_yaxis()
    handles, labels = axes[0].get_legend_handles_labels()
    fig.legend(handles, labels, loc="upper center", ncol=len(contenders), fontsize=9, frameon=False)
    fig.text(
        0.5,
        0.01,
        "✗ k/n ok: only k of n runs ended in the right state (the others stopped early or duplicated)",
        ha="center",
        fontsize=8,
    )
    fig.subplots_adjust(left=0.23, right=0.98, top=0.86, bottom=0.08, wspace=0.12)
    fig.savefig(path, dpi=110)
    plt.close(fig)


def write_readme(path: Path, body: str) -> None:
    """Replace the generated block of ``path`` (create the file, or append the block, when absent)."""
    block = f"{BEGIN}\n{body.rstrip()}\n{END}\n"
    text = path.read_text() if path.exists() else "# Benchmarks\n\n"
    if BEGIN in text and END in text:
        start = text.index(BEGIN)
        stop = text.index(END) + len(END)
        text = text[:start] + block.rstrip("\n") + text[stop:]
    else:
        text = text.rstrip("\n") + "\n\n" + block
    path.write_text(text)
