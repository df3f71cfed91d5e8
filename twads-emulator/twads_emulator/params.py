"""Request parameters: typed parsing, the API's error envelope, and the typed echo (``request.params``).

Values arrive as strings (query or form) or as JSON values (batch bodies); both are accepted. Every
parameter a handler reads is echoed back with the type the spec's examples show (ID lists as arrays of
strings, amounts as integers, booleans as booleans, times normalised to ``YYYY-MM-DDTHH:MM:SSZ``).
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import re
from collections.abc import Iterable, Mapping
from typing import Any

from twads_emulator.vocabulary import (
    COUNT_DEFAULT,
    COUNT_MAX,
    COUNT_MIN,
    ERROR_EXCLUSIVE_PARAMETERS,
    ERROR_INVALID_PARAMETER,
    ERROR_MISSING_PARAMETER,
    MAX_IDS_PER_FILTER,
)

LONG_MAX = 2**63 - 1
_ID_CHARS = re.compile(r"[A-Za-z0-9_-]{1,64}")
MAX_STRING = 4096  # longer values are refused rather than stored


class ApiError(Exception):
    """An error the API answers with: status plus the ``errors`` list of the envelope."""

    def __init__(
        self,
        status: int,
        code: str,
        message: str,
        parameter: str | None = None,
        *,
        errors: list[dict[str, Any]] | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        if errors is None:
            error: dict[str, Any] = {"code": code, "message": message}
            if parameter is not None:
                error["parameter"] = parameter
            errors = [error]
        self.errors = errors
        self.headers = dict(headers or {})


def invalid(parameter: str, message: str) -> ApiError:
    return ApiError(400, ERROR_INVALID_PARAMETER, message, parameter)


def missing(parameter: str) -> ApiError:
    return ApiError(400, ERROR_MISSING_PARAMETER, f"{parameter} is missing", parameter)


def format_time(value: dt.datetime) -> str:
    return value.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def now_iso() -> str:
    return format_time(dt.datetime.now(dt.UTC))


class Params:
    """The parameters of one request (or one batch operation), consumed by name."""

    def __init__(self, raw: Mapping[str, Any], path_params: Mapping[str, str] | None = None) -> None:
        """:param raw: name -> value (string, or a JSON value in batch bodies).
        :param path_params: in-line parameters of the path (echoed first, never "unknown")."""
        self.raw = dict(raw)
        self.used: set[str] = set()
        self.echo: dict[str, Any] = dict(path_params or {})

    def has(self, name: str) -> bool:
        return name in self.raw

    def _take(self, name: str) -> Any:
        self.used.add(name)
        return self.raw.get(name)

    def _store(self, name: str, value: Any, echo: Any = None) -> Any:
        self.echo[name] = value if echo is None else echo
        return value

    def _take_present(self, name: str, required: bool) -> Any:
        """The raw value, or None when absent or empty (an empty value is echoed as ``""``).

        :param name: the parameter.
        :param required: raise ``MISSING_PARAMETER`` when absent or empty.
        """
        value = self._take(name)
        if value is None or value == "":
            if required:
                raise missing(name)
            if value == "":
                self._store(name, None, "")
            return None
        return value

    # ---- scalar types -------------------------------------------------------------------------------
    def string(
        self, name: str, *, required: bool = False, max_len: int = MAX_STRING, min_len: int = 0
    ) -> Any:
        """A string; ``""`` means "unset" (None) where a value is optional."""
        value = self._take_present(name, required)
        if value is None:
            return None
        if isinstance(value, bool) or not isinstance(value, (str, int)):
            raise invalid(name, f"Expected a string for {name}, got {type(value).__name__}")
        value = str(value)
        if not min_len <= len(value) <= max_len:
            raise invalid(name, f"{name} must be {min_len} to {max_len} characters long, got {len(value)}")
        return self._store(name, value)

    def integer(self, name: str, *, required: bool = False, minimum: int = 0, maximum: int = LONG_MAX) -> Any:
        """An integer within [minimum, maximum]; ``""`` means "unset"."""
        value = self._take_present(name, required)
        if value is None:
            return None
        if isinstance(value, bool) or not isinstance(value, (str, int)):
            raise invalid(name, f"Expected an integer for {name}, got {value!r}")
        text = str(value).strip()
        if not (text.lstrip("-").isdigit() and len(text) <= 20):
            raise invalid(name, f"Expected an integer for {name}, got {str(value)[:40]!r}")
        number = int(text)
        if not minimum <= number <= maximum:
            raise invalid(name, f"{name} must be between {minimum} and {maximum}, got {number}")
        return self._store(name, number)

    def boolean(self, name: str, *, default: bool | None = None) -> Any:
        value = self._take(name)
        if value is None:
            return default
        if isinstance(value, bool):
            return self._store(name, value)
        if isinstance(value, str) and value.lower() in ("true", "false"):
            return self._store(name, value.lower() == "true")
        raise invalid(name, f"Expected true or false for {name}, got {str(value)[:40]!r}")

    def enum(
        self,
        name: str,
        allowed: Iterable[str],
        *,
        required: bool = False,
        legacy: Mapping[str, str | None] | None = None,
    ) -> Any:
        """One of ``allowed`` (or a legacy value, returned translated to today's name)."""
        value = self._take_present(name, required)
        if value is None:
            return None
        if not isinstance(value, str):
            raise invalid(name, f"Expected a string for {name}, got {value!r}")
        allowed = tuple(allowed)
        upper = value.upper()
        if upper in allowed:
            return self._store(name, upper)
        if legacy and upper in legacy:
            self._store(name, upper)
            return legacy[upper]
        names = ", ".join(allowed + tuple(v for v in (legacy or {}) if v not in allowed))
        raise invalid(name, f"Invalid {name} {value[:60]!r}; allowed values: {names}")

    def time(self, name: str) -> Any:
        """An ISO 8601 time (a date means midnight UTC), normalised; ``""`` means "unset"."""
        value = self._take_present(name, required=False)
        if value is None:
            return None
        if not isinstance(value, str) or len(value) > 40:
            raise invalid(name, f"Expected an ISO 8601 time for {name}, got {str(value)[:40]!r}")
        try:
            parsed = dt.datetime.fromisoformat(value.replace("z", "Z"))
        except ValueError:
            raise invalid(name, f"Expected an ISO 8601 time for {name}, got {value!r}") from None
        if parsed.tzinfo is None:
            parsed = parsed.replace(tzinfo=dt.UTC)
        return self._store(name, format_time(parsed))

    # ---- lists --------------------------------------------------------------------------------------
    def _items(self, name: str, value: Any) -> list[str]:
        if isinstance(value, str):
            items = [v.strip() for v in value.split(",")]
        elif isinstance(value, list) and all(
            isinstance(v, (str, int)) and not isinstance(v, bool) for v in value
        ):
            items = [str(v).strip() for v in value]
        else:
            raise invalid(name, f"Expected a comma-separated list for {name}, got {str(value)[:60]!r}")
        items = [v for v in items if v]
        if any(len(v) > 255 for v in items):
            raise invalid(name, f"A value of {name} is too long")
        return items

    def id_list(self, name: str, *, required: bool = False, max_items: int = MAX_IDS_PER_FILTER) -> Any:
        """Comma-separated IDs (up to ``max_items``), echoed as an array of strings."""
        value = self._take(name)
        if value is None or value == "":
            if required:
                raise missing(name)
            return None
        items = list(dict.fromkeys(self._items(name, value)))
        if not items:
            raise missing(name)
        bad = next((item for item in items if not _ID_CHARS.fullmatch(item)), None)
        if bad is not None:
            raise invalid(name, f"Invalid ID {bad[:40]!r} in {name}: IDs are letters, digits, '-' and '_'")
        if len(items) > max_items:
            raise invalid(name, f"Up to {max_items} IDs may be provided for {name}, got {len(items)}")
        return self._store(name, items)

    def enum_list(self, name: str, allowed: Iterable[str], *, required: bool = False) -> Any:
        value = self._take(name)
        if value is None or value == "":
            if required:
                raise missing(name)
            return None
        allowed = tuple(allowed)
        items = [v.upper() for v in self._items(name, value)]
        bad = [v for v in items if v not in allowed]
        if bad or not items:
            raise invalid(
                name, f"Invalid {name} {', '.join(bad) or '(empty)'}; allowed values: {', '.join(allowed)}"
            )
        return self._store(name, list(dict.fromkeys(items)))

    def string_list(self, name: str) -> Any:
        value = self._take(name)
        if value is None:
            return None
        if value == "":
            return self._store(name, [], "")
        return self._store(name, self._items(name, value))

    def long_list(self, name: str, *, required: bool = False, max_items: int) -> Any:
        """Comma-separated 64-bit IDs (tweet IDs), echoed as an array of integers."""
        value = self._take(name)
        if value is None or value == "":
            if required:
                raise missing(name)
            return None
        items = self._items(name, value)
        if not items:
            raise missing(name)
        if len(items) > max_items:
            raise invalid(name, f"Up to {max_items} IDs may be provided for {name}, got {len(items)}")
        numbers = []
        for item in items:
            if not item.isdigit() or len(item) > 19 or not 0 < int(item) <= LONG_MAX:
                raise invalid(name, f"Expected numeric IDs for {name}, got {item[:40]!r}")
            numbers.append(int(item))
        return self._store(name, numbers)

    # ---- bookkeeping --------------------------------------------------------------------------------
    def finish(self) -> None:
        """Refuse parameters no handler read."""
        unknown = [name for name in self.raw if name not in self.used]
        if unknown:
            raise invalid(unknown[0], f"Unknown parameter {unknown[0][:60]!r}")

    def error_echo(self) -> dict[str, Any]:
        """``request.params`` for an error: what was parsed, plus the rest as sent."""
        echo = dict(self.echo)
        for name, value in self.raw.items():
            echo.setdefault(name, value)
        return echo


# ---- listing parameters shared by every list endpoint ----------------------------------------------
def _cursor_token(kind: str, offset: int, after_seq: int | None) -> str:
    text = f"{kind}:{offset}" if after_seq is None else f"{kind}:{offset}:{after_seq}"
    return "c-" + base64.urlsafe_b64encode(text.encode()).decode().rstrip("=")


def decode_cursor(kind: str, cursor: str) -> tuple[int, int | None]:
    """(rows to skip, creation sequence number to continue after, if the listing is in creation order).

    Creation-order listings continue after the last row's sequence number (an index seek), so that page
    1,000 of 100,000 line items costs what page 1 does; sorted listings skip rows by offset."""
    try:
        if not cursor.startswith("c-"):
            raise ValueError(cursor)
        body = cursor[2:]
        text = base64.urlsafe_b64decode(body + "=" * (-len(body) % 4)).decode()
        cursor_kind, offset, *after = text.split(":")
        if (
            cursor_kind != kind
            or not offset.isdigit()
            or len(after) > 1
            or not all(a.isdigit() for a in after)
        ):
            raise ValueError(cursor)
        return int(offset), int(after[0]) if after else None
    except (ValueError, binascii.Error, UnicodeDecodeError):
        raise invalid("cursor", f"Invalid cursor {cursor[:60]!r}") from None


class Listing:
    """count, cursor, sort_by, with_deleted, with_total_count (and their rules)."""

    def __init__(self, params: Params, kind: str, sortable: Iterable[str]) -> None:
        self.kind = kind
        self.count = params.integer("count", minimum=COUNT_MIN, maximum=COUNT_MAX) or COUNT_DEFAULT
        cursor = params.string("cursor", max_len=200)
        self.with_total_count = bool(params.boolean("with_total_count", default=False))
        if cursor and self.with_total_count:
            raise ApiError(
                400,
                ERROR_EXCLUSIVE_PARAMETERS,
                "with_total_count and cursor are exclusive parameters",
                "with_total_count",
            )
        self.offset, self.after_seq = decode_cursor(kind, cursor) if cursor else (0, None)
        self.with_deleted = bool(params.boolean("with_deleted", default=False))
        self.sort: tuple[str, bool] | None = None
        sort_by = params._take("sort_by")
        if sort_by not in (None, ""):
            sortable = tuple(sortable)
            text = str(sort_by)
            field, _, direction = text.rpartition("-")
            if field not in sortable or direction not in ("asc", "desc"):
                raise invalid(
                    "sort_by",
                    f"Invalid sort_by {text[:60]!r}: use field-asc or field-desc with field one of "
                    f"{', '.join(sortable)}",
                )
            self.sort = (field, direction == "desc")
            params.echo["sort_by"] = [text]

    def envelope(
        self,
        data: list[dict[str, Any]],
        last_seq: int | None,
        total: int | None,
        echo: dict[str, Any],
        data_type: str,
    ) -> dict[str, Any]:
        """The list response; ``last_seq`` is the page's last sequence number when more rows follow (None
        on the last page)."""
        cursor = None
        if last_seq is not None:
            after = last_seq if self.sort is None else None
            cursor = _cursor_token(self.kind, self.offset + self.count, after)
        body: dict[str, Any] = {
            "request": {"params": echo},
            "next_cursor": cursor,
            "data_type": data_type,
            "data": data,
        }
        if total is not None:
            body["total_count"] = total
        return body
