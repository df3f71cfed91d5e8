"""A finished analytics job's result file, read as a stream: :func:`iter_result` decodes the gzip JSON
incrementally (one entity parsed at a time) and :func:`rows` flattens it to one row per entity x segment x
time bucket."""

from __future__ import annotations

import json
import zlib
from collections.abc import Iterable, Iterator, Mapping
from datetime import datetime, timedelta
from typing import Any

from airflow_provider_twads.api.errors import MalformedResponseError

__all__ = ["iter_result", "rows"]

_FORMAT = "%Y-%m-%dT%H:%M:%SZ"


def iter_result(chunks: Iterable[bytes]) -> Iterator[dict[str, Any]]:
    """The elements of a gzip result file's ``data`` array, decoded as the bytes arrive.

    Only one element (one entity) is held parsed at a time; the file is never read whole.

    :param chunks: the file's bytes, in pieces.
    """
    inflate = zlib.decompressobj(wbits=31)  # gzip
    decoder = json.JSONDecoder()
    pieces = iter(chunks)
    buf, pos, eof = "", 0, False

    def more() -> bool:
        nonlocal buf, pos, eof
        while not eof:
            chunk = next(pieces, None)
            text = inflate.decompress(chunk) if chunk is not None else inflate.flush()
            eof = chunk is None
            if text:
                buf = buf[pos:] + text.decode("utf-8")
                pos = 0
                return True
        return False

    def skip_ws() -> str:
        nonlocal pos
        while True:
            while pos < len(buf) and buf[pos] in " \t\r\n":
                pos += 1
            if pos < len(buf):
                return buf[pos]
            if not more():
                raise MalformedResponseError("stats job file: truncated")

    def value() -> Any:
        nonlocal pos
        while True:
            skip_ws()
            try:
                parsed, end = decoder.raw_decode(buf, pos)
            except json.JSONDecodeError:
                if more():
                    continue
                raise MalformedResponseError("stats job file: not JSON") from None
            if end < len(buf) or eof or not more():  # a number may go on in the next piece
                pos = end
                return parsed

    def expect(chars: str) -> str:
        nonlocal pos
        c = skip_ws()
        if c not in chars:
            raise MalformedResponseError(f"stats job file: expected one of {chars!r}, got {c!r}")
        pos += 1
        return c

    expect("{")
    if skip_ws() == "}":
        return
    while True:
        key = value()
        expect(":")
        if key == "data" and skip_ws() == "[":
            pos += 1
            if skip_ws() == "]":
                pos += 1
            else:
                while True:
                    element = value()
                    if isinstance(element, dict):
                        yield element
                    if expect(",]") == "]":
                        break
        else:
            value()
        if expect(",}") == "}":
            return


def rows(
    job: Mapping[str, Any], elements: Iterable[Mapping[str, Any]], timezone: str | None = None
) -> Iterator[dict[str, Any]]:
    """One row per entity x segment x time bucket, the metrics flattened (an object metric's keys become
    ``metric.key``); ``time`` is the bucket's start (UTC).

    :param job: the job (its ``start_time``, ``end_time``, ``granularity``, ``placement``).
    :param elements: the ``data`` elements of its file (:func:`iter_result`).
    :param timezone: the account's time zone (``DAY`` buckets start at its midnights).
    """
    from zoneinfo import ZoneInfo

    start = datetime.strptime(str(job["start_time"]), _FORMAT).replace(tzinfo=ZoneInfo("UTC"))
    granularity = str(job.get("granularity") or "TOTAL").upper()
    local = start.astimezone(ZoneInfo(timezone or "UTC"))
    for element in elements:
        for item in element.get("id_data") or []:
            segment = item.get("segment")
            name = segment.get("segment_name") if isinstance(segment, Mapping) else segment
            flat: dict[str, list[Any] | None] = {}
            for metric, series in (item.get("metrics") or {}).items():
                if isinstance(series, Mapping):
                    flat.update({f"{metric}.{k}": v for k, v in series.items()})
                else:
                    flat[metric] = series
            length = max((len(s) for s in flat.values() if isinstance(s, list)), default=0)
            for i in range(length):
                if granularity == "HOUR":
                    at = start + timedelta(hours=i)
                elif granularity == "DAY":
                    at = (local + timedelta(days=i)).astimezone(ZoneInfo("UTC"))
                else:
                    at = start
                row: dict[str, Any] = {
                    "entity_id": element.get("id"),
                    "segment": name,
                    "time": at.strftime(_FORMAT),
                    "placement": job.get("placement"),
                }
                for metric, series in flat.items():
                    row[metric] = series[i] if isinstance(series, list) and i < len(series) else None
                yield row
