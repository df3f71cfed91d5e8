"""One value checked and normalised by its parameter's :class:`~airflow_provider_twads.api.params.Kind`."""

from __future__ import annotations

import functools
import logging
import re
from collections.abc import Callable, Iterable, Mapping
from datetime import UTC, datetime
from typing import Any

from airflow_provider_twads.api import vocabulary as vocab
from airflow_provider_twads.api.errors import AdsApiValidationError
from airflow_provider_twads.api.params.model import Kind, Param
from airflow_provider_twads.api.times import to_api_time

__all__ = ["check_value", "to_bool", "to_list", "tweet_id_problem"]

log = logging.getLogger(__name__)

# ASCII digits only: int() also reads Arabic-Indic or full-width digits, which would send another number
# than the one the user sees (and str.isdigit() accepts superscripts, which int() then rejects).
_INTEGER = re.compile(r"\s*[+-]?[0-9]+\s*")


def tweet_id_problem(text: str) -> str | None:
    """Why ``text`` is not a Tweet ID, or ``None`` when it is one (ASCII digits, positive, 64-bit).

    :param text: the stripped value.
    """
    if not text:
        return "is empty"
    if not (text.isascii() and text.isdigit()):
        return "is not a Tweet ID: Tweet IDs are numeric, written with the digits 0-9"
    number = int(text)
    if number <= 0:
        return "is not a Tweet ID: Tweet IDs are positive numeric IDs"
    if number > vocab.MAX_TWEET_ID:
        return f"is not a Tweet ID ({len(text)} digits: Tweet IDs are 64-bit numbers of at most 19 digits)"
    return None


def to_bool(name: str, value: Any, operation: str | None) -> bool:
    """A boolean, or ``"true"``/``"false"`` in any case (what a template renders).

    :param name: the parameter, for the error.
    :param value: the value.
    :param operation: the operation, for the error.
    """
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.lower() in ("true", "false"):
        return value.lower() == "true"
    raise AdsApiValidationError(
        name, f"must be a boolean, got {value!r}", allowed=[True, False], operation=operation
    )


def to_list(name: str, value: Any, operation: str | None) -> list[str]:
    """A list of stripped strings from a list or a comma-separated string; no empty items.

    :param name: the parameter, for the error.
    :param value: the value.
    :param operation: the operation, for the error.
    """
    if isinstance(value, str):
        items = [v.strip() for v in value.split(",")]
    elif isinstance(value, Iterable) and not isinstance(value, bytes | Mapping):
        items = [str(v).strip() for v in value]
    else:
        raise AdsApiValidationError(
            name, f"must be a list or a comma-separated string, got {value!r}", operation=operation
        )
    if not any(items):
        raise AdsApiValidationError(name, "is empty (no values given)", operation=operation)
    if any(not v for v in items):
        raise AdsApiValidationError(name, f"contains an empty value: {value!r}", operation=operation)
    return items


def _to_int(name: str, p: Param, value: Any, operation: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int | str):
        raise AdsApiValidationError(name, f"must be an integer, got {value!r}", operation=operation)
    if isinstance(value, str) and not _INTEGER.fullmatch(value):
        raise AdsApiValidationError(
            name, f"must be an integer (digits 0-9), got {value[:40]!r}", operation=operation
        )
    number = int(value)
    if (p.minimum is not None and number < p.minimum) or (p.maximum is not None and number > p.maximum):
        bounds = f"from {p.minimum}" + (f" to {p.maximum}" if p.maximum is not None else " up")
        raise AdsApiValidationError(name, f"must be {bounds}, got {number}", operation=operation)
    return number


def _to_choice(name: str, p: Param, value: Any, operation: str) -> Any:
    candidate = value
    if isinstance(value, str):
        if p.str_choices:
            candidate = value.upper()
        elif value.isascii() and value.isdigit():  # numeric choices (duration_in_days) from a template
            candidate = int(value)
    try:
        known = candidate in p.choice_set
    except TypeError:  # unhashable (a list, a dict): not a choice
        known = False
    if not known:
        raise AdsApiValidationError(name, f"invalid value {value!r}", allowed=p.choices, operation=operation)
    return candidate


def _to_items(name: str, p: Param, value: Any, operation: str) -> list[str]:
    items = to_list(name, value, operation)
    if p.kind is Kind.ENUM_LIST:
        items = [i.upper() for i in items]
        bad = [i for i in items if i not in p.choice_set]
        if bad:
            raise AdsApiValidationError(
                name, f"invalid value(s) {bad}", allowed=p.choices, operation=operation
            )
    if p.numeric:
        problems = [(i, why) for i in items if (why := tweet_id_problem(i))]
        if problems:
            (first, why), more = problems[0], len(problems) - 1
            raise AdsApiValidationError(
                name, f"{first[:40]!r} {why}" + (f" (and {more} more)" if more else ""), operation=operation
            )
    if p.max_items is not None and len(items) > p.max_items:
        raise AdsApiValidationError(
            name, f"at most {p.max_items} values per request, got {len(items)}", operation=operation
        )
    if len(set(items)) != len(items):
        items = list(dict.fromkeys(items))
    return items


def _to_time(name: str, value: Any, operation: str) -> str:
    try:
        text = to_api_time(value, parameter=name)
    except AdsApiValidationError as exc:
        exc.operation = operation
        raise
    if text is None:  # "" or blank: "not set" to the normaliser, but here it was given
        raise AdsApiValidationError(
            name, f"must be an ISO 8601 time such as 2024-07-05T00:00:00Z, got {value!r}", operation=operation
        )
    if int(text[:4]) < vocab.EARLIEST_FLIGHT_YEAR:
        raise AdsApiValidationError(
            name,
            f"{text} is before {vocab.EARLIEST_FLIGHT_YEAR}, when no ad could serve",
            operation=operation,
            hint="a template probably rendered the wrong date (an unset variable, a default of year 1)",
        )
    # A past end is a flight that never serves; for analytics (stats.*) it is the usual window.
    if (
        name == "end_time"
        and not operation.startswith("stats.")
        and text < datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    ):
        _warn_past_end(text, operation)
    return text


@functools.lru_cache(maxsize=64)
def _warn_past_end(text: str, operation: str) -> None:
    """One warning per past end time (a batch repeats it): sent, since the API decides, but never serves."""
    log.warning(
        "%s: end_time %s is in the past; the line item will not serve. Sending it anyway "
        "(an existing line item's end time may be past).",
        operation,
        text,
    )


def _to_text(name: str, p: Param, value: Any, operation: str) -> str:
    if isinstance(value, bool) or not isinstance(value, str | int):
        raise AdsApiValidationError(
            name, f"must be a string, got {type(value).__name__}", operation=operation
        )
    text = str(value)
    if not p.blank and not text.strip():
        raise AdsApiValidationError(name, "is required (not blank)", operation=operation)
    if p.kind is Kind.ID and (not text.strip() or "/" in text or "," in text):
        raise AdsApiValidationError(name, f"is not a valid ID: {text!r}", operation=operation)
    if p.max_length is not None and len(text) > p.max_length:
        raise AdsApiValidationError(
            name, f"at most {p.max_length} characters, got {len(text)}", operation=operation
        )
    return text


def _warn_clear(name: str, operation: str) -> None:
    """Say so when an update clears a field: a template that rendered empty by mistake also does this."""
    log.warning(
        "%s: %s is empty, which clears it (give None, or leave it out, to keep the current value)",
        operation,
        name,
    )


# One checker per kind, looked up once per value (validation runs per batch item: thousands of times per
# task, and a dict lookup is cheaper than comparing against each enum member in turn).
_Checker = Callable[[str, Param, Any, str], Any]
_CHECKERS: dict[Kind, _Checker] = {
    Kind.BOOL: lambda name, _, value, operation: to_bool(name, value, operation),
    Kind.INT: _to_int,
    Kind.ENUM: _to_choice,
    Kind.ENUM_LIST: _to_items,
    Kind.ID_LIST: _to_items,
    Kind.TIME: lambda name, _, value, operation: _to_time(name, value, operation),
    Kind.STR: _to_text,
    Kind.ID: _to_text,
}


def check_value(name: str, p: Param, value: Any, operation: str) -> Any:
    """``value`` checked against ``p`` and normalised (upper-cased enums, lists, ints, UTC times).

    :param name: the parameter.
    :param p: its spec.
    :param value: the given value (not ``None``).
    :param operation: the operation, for the error.
    :raises AdsApiValidationError: naming the parameter (and the allowed values, when finite).
    """
    if p.clearable and (value == [] or (isinstance(value, str) and not value.strip())):
        # [] is how the API returns an unset list (categories): sent back, it means the same as "".
        if value != [] and operation.endswith(".update"):
            _warn_clear(name, operation)
        return ""  # sent empty: the API un-sets the field
    return _CHECKERS[p.kind](name, p, value, operation)
