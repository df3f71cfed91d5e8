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

Keys that a fault object may carry besides ``kind``: ``retry_after`` (503, 429), ``html`` (503, 500, 429),
``seconds`` (latency); a rule also ``probability``, ``method``, ``path``. Anything else (an unknown key, a
key that does not apply to the kind, a probability outside 0..1, ``match`` without a script) is refused
with a :class:`FaultConfigError` that names it.
"""

from __future__ import annotations

import random
import re
import threading
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from twads_emulator.config import (
    ConfigError,
    array,
    boolean,
    check_object,
    choice,
    number,
    string,
)

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


class FaultConfigError(ConfigError):
    """A fault configuration that cannot be understood."""


# The keys of a fault object, by kind (besides ``kind``); a key that does not apply to the kind is refused
# rather than ignored (a ``retry_after`` on a 500 would never show up).
_FAULT_KEYS: dict[str, tuple[str, ...]] = {
    "503": ("retry_after", "html"),
    "429": ("retry_after", "html"),
    "500": ("html",),
    "latency": ("seconds",),
    "drop": (),
    "commit_then_drop": (),
}
_RULE_KEYS = ("probability", "method", "path")
_TOP_KEYS = ("seed", "script", "match", "rules", "retry_after")
_PASS = ("none", "ok", "pass")
METHODS = ("GET", "POST", "PUT", "DELETE", "PATCH", "HEAD")
MAX_LATENCY = 3600.0


@dataclass(frozen=True)
class Fault:
    """One injected fault."""

    kind: str
    seconds: float = 0.0  # latency
    retry_after: int = 1  # 503 / 429
    html: bool = False  # 503 / 500 / 429 with an HTML body, as real gateways sometimes send


@dataclass
class _Matcher:
    method: str | None = None
    path: re.Pattern[str] | None = None

    def matches(self, method: str, path: str) -> bool:
        if self.method and self.method != method.upper():
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


def _refuse(exc: ConfigError) -> FaultConfigError:
    return FaultConfigError(str(exc), exc.key, exc.allowed)


def _matcher(where: str, spec: dict[str, Any]) -> _Matcher:
    method = spec.get("method")
    if method is not None:
        method = choice(f"{where}.method", method, METHODS, upper=True)
    path = spec.get("path")
    if path is None:
        return _Matcher(method, None)
    try:
        return _Matcher(method, re.compile(string(f"{where}.path", path)))
    except re.error as exc:
        raise FaultConfigError(
            f"{where}.path is not a valid regular expression ({exc}): {path!r}", f"{where}.path"
        ) from exc


def _kind(where: str, item: dict[str, Any]) -> str:
    name = item.get("kind")
    if isinstance(name, int) and not isinstance(name, bool):
        name = str(name)
    kind = _ALIASES.get(name.lower()) if isinstance(name, str) else None
    if kind is None:
        raise FaultConfigError(
            f"{where}.kind: unknown fault kind {name!r}; allowed: {', '.join(KINDS)}", f"{where}.kind", KINDS
        )
    return kind


def _fault(where: str, item: Any, retry_after: int, extra_keys: tuple[str, ...] = ()) -> Fault | None:
    """One fault: a kind name (``"503"``, ``"none"``) or an object with ``kind`` and the kind's keys.

    :param where: its place in the configuration, for messages.
    :param item: the parsed JSON.
    :param retry_after: the configuration's default ``retry_after``.
    :param extra_keys: further keys the caller reads itself (a rule's probability and matcher).
    """
    if isinstance(item, int) and not isinstance(item, bool):
        item = str(item)  # 503 as well as "503"
    if item is None or (isinstance(item, str) and item.lower() in _PASS):
        return None
    if isinstance(item, str):
        item = {"kind": item}
    if not isinstance(item, dict):
        raise FaultConfigError(
            f"{where}: a fault is a kind name ({', '.join(KINDS + _PASS)}) or an object with 'kind'; "
            f"got {item!r}",
            where,
            KINDS + _PASS,
        )
    kind = _kind(where, item)
    check_object(where, item, ("kind", *_FAULT_KEYS[kind], *extra_keys), required=("kind",))
    seconds = 0.5 if kind == "latency" else 0.0
    if "seconds" in item:
        seconds = number(f"{where}.seconds", item["seconds"], minimum=0, maximum=MAX_LATENCY)
    if "retry_after" in item:
        retry_after = number(f"{where}.retry_after", item["retry_after"], minimum=0, integer=True)
    html = boolean(f"{where}.html", item["html"]) if "html" in item else False
    return Fault(kind=kind, seconds=seconds, retry_after=retry_after, html=html)


def parse_config(spec: dict[str, Any] | None) -> _Config:
    """Validate a fault configuration (see the module docstring).

    :raises FaultConfigError: naming the key or value it does not understand, and the allowed ones.
    """
    if spec is None:
        return _Config()
    try:
        spec = check_object("faults", spec, _TOP_KEYS)
        retry_after = 1
        if "retry_after" in spec:
            retry_after = number("faults.retry_after", spec["retry_after"], minimum=0, integer=True)
        script = [
            _fault(f"faults.script[{i}]", item, retry_after)
            for i, item in enumerate(array("faults.script", spec.get("script", [])))
        ]
        if "match" in spec and not script:
            raise FaultConfigError(
                "faults.match selects the requests of the script, and there is no script; a rule takes "
                "its own 'method' and 'path'",
                "faults.match",
            )
        match = _matcher(
            "faults.match", check_object("faults.match", spec.get("match", {}), ("method", "path"))
        )
        rules = []
        for i, rule in enumerate(array("faults.rules", spec.get("rules", []))):
            where = f"faults.rules[{i}]"
            if not isinstance(rule, dict):
                raise FaultConfigError(
                    f"{where} must be an object with 'kind' and {', '.join(_RULE_KEYS)}; got {rule!r}", where
                )
            fault = _fault(where, rule, retry_after, _RULE_KEYS)
            assert fault is not None  # an object always names a kind
            probability = 1.0
            if "probability" in rule:
                probability = number(f"{where}.probability", rule["probability"], minimum=0, maximum=1)
            rules.append(_Rule(fault, probability, _matcher(where, rule)))
        seed = spec.get("seed")
        if seed is not None:
            seed = number("faults.seed", seed, integer=True)
    except FaultConfigError:
        raise
    except ConfigError as exc:
        raise _refuse(exc) from None
    return _Config(script, match, rules, seed)


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
