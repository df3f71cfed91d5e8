"""Fault injection: what goes wrong, on which request, reproducibly.

A fault configuration is a dict (the admin endpoint and ``--faults`` take it as JSON)::

    {
      "seed": 7,                                   # makes the probabilities reproducible
      "script": ["503", "none", {"kind": "latency", "seconds": 0.2}, "commit_then_drop"],
      "match": {"method": "POST", "path": "line_items"},   # which requests the script applies to
      "rules": [{"kind": "503", "probability": 0.2, "method": "GET", "path": "/line_items"}],
      "retry_after": 1                             # seconds, for 503 and 429 (default 1)
    }

``script`` gives the faults of the next N matching requests, in order ("none" lets one through); once it
is used up, ``rules`` apply: each matching rule fires with its probability, drawn from a generator seeded
with ``seed``. ``path`` is a regular expression searched in the request path; ``method`` is exact.

Kinds: ``503`` (SERVICE_UNAVAILABLE with ``retry-after``), ``429`` (TOO_MANY_REQUESTS with reset headers),
``500`` (INTERNAL_ERROR), ``latency`` (``seconds``, then the request proceeds), ``drop`` (the connection
is closed before the request is processed: nothing is written), ``commit_then_drop`` (the request is
processed and committed, then the connection is closed without a response).
"""

from __future__ import annotations

import random
import re
import threading
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

KINDS = ("503", "429", "500", "latency", "drop", "commit_then_drop")
_ALIASES = {
    "503": "503",
    "service_unavailable": "503",
    "429": "429",
    "too_many_requests": "429",
    "500": "500",
    "internal_error": "500",
    "latency": "latency",
    "drop": "drop",
    "drop_before": "drop",
    "commit_then_drop": "commit_then_drop",
    "commit_drop": "commit_then_drop",
    "drop_after": "commit_then_drop",
}


class FaultConfigError(ValueError):
    """A fault configuration that cannot be understood."""


@dataclass(frozen=True)
class Fault:
    """One injected fault."""

    kind: str
    seconds: float = 0.0  # latency
    retry_after: int = 1  # 503 / 429
    html: bool = False  # 503 / 500 with an HTML body, as real gateways sometimes send


@dataclass
class _Matcher:
    method: str | None = None
    path: re.Pattern[str] | None = None

    def matches(self, method: str, path: str) -> bool:
        if self.method and self.method.upper() != method.upper():
            return False
        return not (self.path and not self.path.search(path))


@dataclass
class _Rule:
    fault: Fault
    probability: float
    matcher: _Matcher


@dataclass
class _Config:
    script: list[Fault | None] = field(default_factory=list)
    script_matcher: _Matcher = field(default_factory=_Matcher)
    rules: list[_Rule] = field(default_factory=list)
    seed: int | None = None


def _matcher(spec: dict[str, Any]) -> _Matcher:
    path = spec.get("path")
    try:
        return _Matcher(spec.get("method"), re.compile(path) if path else None)
    except re.error as exc:
        raise FaultConfigError(f"bad path pattern {path!r}: {exc}") from exc


def _fault(item: Any, retry_after: int) -> Fault | None:
    if item is None or item in ("none", "ok", "pass"):
        return None
    if isinstance(item, (str, int)):
        item = {"kind": str(item)}
    if not isinstance(item, dict) or "kind" not in item:
        raise FaultConfigError(f"a fault is a kind name or an object with 'kind', got {item!r}")
    kind = _ALIASES.get(str(item["kind"]).lower())
    if kind is None:
        raise FaultConfigError(f"unknown fault kind {item['kind']!r}; allowed: {', '.join(KINDS)}")
    try:
        return Fault(
            kind=kind,
            seconds=float(item.get("seconds", 0.5 if kind == "latency" else 0.0)),
            retry_after=int(item.get("retry_after", retry_after)),
            html=bool(item.get("html", False)),
        )
    except (TypeError, ValueError) as exc:
        raise FaultConfigError(f"bad fault {item!r}: {exc}") from exc


def parse_config(spec: dict[str, Any] | None) -> _Config:
    """Validate a fault configuration (see the module docstring)."""
    if not spec:
        return _Config()
    if not isinstance(spec, dict):
        raise FaultConfigError("the fault configuration is a JSON object")
    unknown = set(spec) - {"seed", "script", "match", "rules", "retry_after"}
    if unknown:
        raise FaultConfigError(f"unknown fault settings: {', '.join(sorted(unknown))}")
    retry_after = int(spec.get("retry_after", 1))
    script = [_fault(item, retry_after) for item in spec.get("script") or []]
    rules = []
    for rule in spec.get("rules") or []:
        fault = _fault(rule, retry_after)
        if fault is None:
            continue
        probability = float(rule.get("probability", 1.0))
        if not 0.0 <= probability <= 1.0:
            raise FaultConfigError(f"probability must be within 0..1, got {probability}")
        rules.append(_Rule(fault, probability, _matcher(rule)))
    seed = spec.get("seed")
    return _Config(script, _matcher(spec.get("match") or {}), rules, None if seed is None else int(seed))


class FaultInjector:
    """Decide, request by request, which fault (if any) to inject; count what was injected."""

    def __init__(self, spec: dict[str, Any] | None = None) -> None:
        self._lock = threading.Lock()
        self.counts: Counter[str] = Counter()
        self.configure(spec)

    def configure(self, spec: dict[str, Any] | None) -> None:
        """Replace the configuration (``None`` clears it); the random generator restarts from ``seed``."""
        config = parse_config(spec)
        with self._lock:
            self._config = config
            self._spec = spec or {}
            self._rng = random.Random(config.seed)

    def clear(self) -> None:
        """No more faults; the counters are kept until :meth:`reset_counts`."""
        self.configure(None)

    def reset_counts(self) -> None:
        with self._lock:
            self.counts.clear()

    def describe(self) -> dict[str, Any]:
        with self._lock:
            return {
                "config": self._spec,
                "script_remaining": len(self._config.script),
                "injected": dict(self.counts),
            }

    def pick(self, method: str, path: str) -> Fault | None:
        """The fault for this request, or None."""
        with self._lock:
            config = self._config
            if config.script and config.script_matcher.matches(method, path):
                fault = config.script.pop(0)
            else:
                fault = None
                for rule in config.rules:
                    if rule.matcher.matches(method, path) and self._rng.random() < rule.probability:
                        fault = rule.fault
                        break
            if fault is not None:
                self.counts[fault.kind] += 1
            return fault
