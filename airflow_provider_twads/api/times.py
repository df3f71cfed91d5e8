"""The one time normaliser: every time the client sends goes through :func:`to_api_time`.

The reference asks for ISO 8601 (``current-line-items.mdx``) and answers in UTC with seconds precision
(``2024-05-01T00:00:00Z``); the emulator reads a time without an offset as UTC. A time without a timezone
(a naive ``datetime``, a ``date``, ``"2024-05-01"`` or ``"2024-05-01T10:00:00"``) is therefore taken as UTC,
as Airflow does with its own naive times, and sent with an explicit ``Z``: what goes out never depends on
how the API would guess a zone (its analytics page says it would pick the ad account's zone for a bare
date). Give an offset (``+02:00``) or an aware ``datetime`` to mean another zone.
"""

from __future__ import annotations

import functools
from datetime import UTC, date, datetime
from typing import Any

from airflow_provider_twads.api.errors import AdsApiValidationError

__all__ = ["to_api_time"]

_FORMAT = "%Y-%m-%dT%H:%M:%SZ"
_NOT_ISO = "is not an ISO 8601 time (e.g. 2024-05-01T00:00:00Z or '{{ data_interval_start }}')"


def _format(dt: datetime) -> str | None:
    """``dt`` (naive: UTC) as the API's UTC form; ``None`` when it cannot be shown in UTC (year 1 or 9999)."""
    if dt.tzinfo is None:
        dt = dt.replace(tzinfo=UTC)
    try:
        return dt.astimezone(UTC).strftime(_FORMAT)
    except (OverflowError, ValueError):
        return None


@functools.lru_cache(maxsize=256)
def _parse_text(text: str) -> tuple[str | None, str]:
    """An ISO 8601 string as ``(normalised, "")`` or ``(None, why not)``; cached: a batch repeats times."""
    try:
        parsed = datetime.fromisoformat(text)
    except ValueError:
        # pendulum knows a few ISO 8601 forms the standard library does not; "now" it also knows, but a
        # start time that changes on every retry breaks idempotent re-runs, and the API does not take it.
        if text.lower() == "now":
            return None, _NOT_ISO
        try:
            import pendulum

            # exact: a time of day stays a time (not "today at noon", which would change every day).
            value = pendulum.parse(text, exact=True)
        except Exception:
            return None, _NOT_ISO
        if isinstance(value, datetime):
            parsed = value
        elif isinstance(value, date):  # e.g. "2024-05" or an ordinal date: midnight, like any date
            parsed = datetime(value.year, value.month, value.day)
        else:  # a time of day, a duration or an interval is not a point in time
            return None, "is not a point in time"
    formatted = _format(parsed)
    return (formatted, "") if formatted else (None, "is out of range")


def to_api_time(value: Any, *, parameter: str = "start_time") -> str | None:
    """Normalise a time to ISO 8601 UTC with seconds precision (``2024-05-01T00:00:00Z``).

    Accepts ISO 8601 strings (including what Jinja renders for ``{{ data_interval_start }}``, e.g.
    ``2024-05-01 00:00:00+00:00``), ``datetime``/pendulum objects and ``date``. Values without a timezone
    (naive datetimes, dates, strings without an offset) are taken as UTC, as Airflow does.

    :param value: the time, or ``None``/``""`` for "not set".
    :param parameter: the parameter name, for the error message.
    :return: the normalised string, or ``None``.
    :raises AdsApiValidationError: not a time, naming ``parameter``.
    """
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    if isinstance(value, datetime):
        formatted = _format(value)
        if formatted is None:
            raise AdsApiValidationError(parameter, f"{value!r} is out of range")
        return formatted
    if isinstance(value, date):
        return f"{value.isoformat()}T00:00:00Z"
    if isinstance(value, str):
        formatted, why = _parse_text(value.strip())
        if formatted is None:
            raise AdsApiValidationError(parameter, f"{value!r} {why}")
        return formatted
    raise AdsApiValidationError(
        parameter, f"expected an ISO 8601 string or a datetime, got {type(value).__name__}"
    )
