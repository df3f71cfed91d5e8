"""Checks shared by every emulator configuration: admin calls, ``EmulatorServer(...)`` and the CLI flags.

A configuration that the emulator does not understand is refused with a :class:`ConfigError` that names
the key or value and what is allowed: a typo (``"secs"`` for ``"seconds"``) must never be accepted and
silently mean something else. The admin API answers these errors with a 400, the constructor raises them
(they are ``ValueError``), the CLI prints them and exits with status 2.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from typing import Any

LOG_LEVELS = ("critical", "error", "warning", "info", "debug", "trace")  # uvicorn's


class ConfigError(ValueError):
    """A configuration the emulator does not understand.

    :param message: what is wrong, naming the key or value and the allowed ones.
    :param key: the offending key (dotted path), when there is one.
    :param allowed: the allowed keys or values, when they are a closed set.
    """

    def __init__(self, message: str, key: str | None = None, allowed: Iterable[Any] | None = None) -> None:
        super().__init__(message)
        self.key = key
        self.allowed = None if allowed is None else [str(a) for a in allowed]

    def as_json(self) -> dict[str, Any]:
        """The admin API's 400 body."""
        return {"error": str(self), "key": self.key, "allowed": self.allowed}


def _join(where: str, key: str) -> str:
    return f"{where}.{key}" if where else key


def check_object(
    where: str, value: Any, allowed: Iterable[str], required: Iterable[str] = ()
) -> dict[str, Any]:
    """``value`` as a dict whose keys are all ``allowed`` and include every ``required`` one.

    :param where: what the value is, for the message (e.g. ``approval`` or ``faults.rules[2]``).
    :param value: the parsed JSON.
    :param allowed: the keys it may have.
    :param required: the keys it must have.
    """
    allowed = list(allowed)
    if not isinstance(value, Mapping):
        raise ConfigError(
            f"{where or 'the configuration'} must be a JSON object with keys among {', '.join(allowed)}; "
            f"got {type(value).__name__} {value!r}",
            where or None,
            allowed,
        )
    unknown = sorted(str(k) for k in value if k not in allowed)
    if unknown:
        raise ConfigError(
            f"{where or 'the configuration'}: unknown key{'s' if len(unknown) > 1 else ''} "
            f"{', '.join(repr(k) for k in unknown)}; allowed: {', '.join(allowed)}",
            _join(where, unknown[0]),
            allowed,
        )
    missing = [k for k in required if k not in value]
    if missing:
        raise ConfigError(
            f"{where or 'the configuration'}: missing {', '.join(repr(k) for k in missing)} "
            f"(required: {', '.join(required)}; allowed: {', '.join(allowed)})",
            _join(where, missing[0]),
            allowed,
        )
    return dict(value)


def number(
    where: str,
    value: Any,
    *,
    minimum: float | None = None,
    maximum: float | None = None,
    integer: bool = False,
) -> Any:
    """A finite JSON number (not a boolean, not a string) within bounds; an ``int`` if ``integer``.

    :param where: the key, for the message.
    :param value: the parsed JSON.
    :param minimum: the smallest allowed value.
    :param maximum: the largest allowed value.
    :param integer: whether only whole numbers are allowed.
    """
    kind = "an integer" if integer else "a number"
    bounds = ""
    if minimum is not None and maximum is not None:
        bounds = f" within {minimum:g}..{maximum:g}"
    elif minimum is not None:
        bounds = f" >= {minimum:g}"
    elif maximum is not None:
        bounds = f" <= {maximum:g}"
    ok = isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)
    if ok and integer and isinstance(value, float):
        ok = value.is_integer()
    if ok and ((minimum is not None and value < minimum) or (maximum is not None and value > maximum)):
        ok = False
    if not ok:
        raise ConfigError(f"{where} must be {kind}{bounds}; got {value!r}", where)
    return int(value) if integer else float(value)


def choice(where: str, value: Any, allowed: Iterable[str], *, upper: bool = False) -> str:
    """One of ``allowed`` (compared in upper case if ``upper``).

    :param where: the key, for the message.
    :param value: the parsed JSON.
    :param allowed: the allowed values.
    :param upper: accept any letter case and return the upper-case value.
    """
    allowed = list(allowed)
    candidate = value.upper() if upper and isinstance(value, str) else value
    if not isinstance(candidate, str) or candidate not in allowed:
        raise ConfigError(f"{where} must be one of {', '.join(allowed)}; got {value!r}", where, allowed)
    return candidate


def string(where: str, value: Any) -> str:
    """A non-empty JSON string.

    :param where: the key, for the message.
    :param value: the parsed JSON.
    """
    if not isinstance(value, str) or not value:
        raise ConfigError(f"{where} must be a non-empty string; got {value!r}", where)
    return value


def boolean(where: str, value: Any) -> bool:
    """A JSON boolean (``true``/``false``, not ``1`` or ``"yes"``).

    :param where: the key, for the message.
    :param value: the parsed JSON.
    """
    if not isinstance(value, bool):
        raise ConfigError(f"{where} must be true or false; got {value!r}", where, ("true", "false"))
    return value


def array(where: str, value: Any) -> list[Any]:
    """A JSON array.

    :param where: the key, for the message.
    :param value: the parsed JSON.
    """
    if not isinstance(value, list):
        raise ConfigError(f"{where} must be a JSON array; got {type(value).__name__} {value!r}", where)
    return value
