"""Planning and merging of synchronous analytics calls (analytics.mdx), pure: no HTTP here.

:class:`StatsQuery` checks a stats call whole before anything is sent and plans it as requests within the
reference's limits (:class:`StatsPlan`); :meth:`StatsPlan.merge` puts the answers back together in the
reference's shape. :mod:`airflow_provider_twads.api.analytics` sends them.
"""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Iterable, Mapping, Sequence
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from airflow_provider_twads.api.errors import AdsApiValidationError, MalformedResponseError
from airflow_provider_twads.api.params.stats import MAX_STATS_ENTITY_IDS, MAX_STATS_RANGE
from airflow_provider_twads.api.times import to_api_time

if TYPE_CHECKING:
    from airflow_provider_twads.api.core import ClientCore, PreparedRequest

__all__ = [
    "ANALYTICS_BUCKET",
    "StatsPlan",
    "StatsQuery",
    "analytics_request",
    "parse_hour",
    "stats_window",
    "totals",
]

log = logging.getLogger("airflow_provider_twads.api")

#: The rate-limit bucket of every analytics request (a user-level category of its own).
ANALYTICS_BUCKET = "analytics"
_HOUR = timedelta(hours=1)
_FORMAT = "%Y-%m-%dT%H:%M:%SZ"


def parse_hour(value: Any, parameter: str) -> datetime:
    """A time as an aware UTC ``datetime``, which must be a whole hour (the reference's rule).

    :param value: an ISO 8601 string, a ``datetime`` or a ``date`` (naive means UTC).
    :param parameter: the parameter name, for the error message.
    """
    text = to_api_time(value, parameter=parameter)
    if text is None:
        raise AdsApiValidationError(parameter, "is required")
    parsed = datetime.strptime(text, _FORMAT).replace(tzinfo=UTC)
    if parsed.minute or parsed.second:
        raise AdsApiValidationError(
            parameter, f"must be a whole hour (0 minutes and 0 seconds), got {text}", operation="stats"
        )
    return parsed


def stats_window(start_time: Any, end_time: Any) -> tuple[datetime, datetime]:
    """``(start, end)`` as whole UTC hours, end after start; validation errors name the parameter."""
    start, end = parse_hour(start_time, "start_time"), parse_hour(end_time, "end_time")
    if end <= start:
        raise AdsApiValidationError(
            "end_time", f"must be after start_time (end is exclusive), got {start:%Y-%m-%dT%H:%M}Z to "
            f"{end:%Y-%m-%dT%H:%M}Z", operation="stats"
        )  # fmt: skip
    return start, end


def _ids(value: str | Iterable[str], parameter: str) -> list[str]:
    items = value.split(",") if isinstance(value, str) else [str(v) for v in value]
    ids = list(dict.fromkeys(i.strip() for i in items if i and i.strip()))
    if not ids:
        raise AdsApiValidationError(parameter, "at least one ID is required", operation="stats")
    return ids


def _fmt(t: datetime) -> str:
    return t.astimezone(UTC).strftime(_FORMAT)


@dataclasses.dataclass(frozen=True)
class StatsQuery:
    """One stats call, validated (no HTTP). Build it with :meth:`build`.

    :param entity: the entity type.
    :param entity_ids: every entity ID asked for, in order.
    :param start: the window's start (UTC).
    :param end: the window's end, exclusive.
    :param granularity: ``HOUR``, ``DAY`` or ``TOTAL``.
    :param metric_groups: the metric groups.
    :param placement: the one placement.
    """

    entity: str
    entity_ids: tuple[str, ...]
    start: datetime
    end: datetime
    granularity: str
    metric_groups: tuple[str, ...]
    placement: str

    @classmethod
    def build(
        cls,
        entity: str,
        entity_ids: str | Iterable[str],
        start_time: Any,
        end_time: Any,
        *,
        metric_groups: str | Iterable[str],
        granularity: str = "TOTAL",
        placement: str = "ALL_ON_TWITTER",
    ) -> StatsQuery:
        """Check what the API would refuse, and what no chunking can fix.

        :param entity: the entity type, e.g. ``LINE_ITEM``.
        :param entity_ids: any number of IDs (sent 20 per request).
        :param start_time: a whole hour.
        :param end_time: a whole hour after ``start_time`` (exclusive).
        :param metric_groups: e.g. ``["ENGAGEMENT", "BILLING"]``.
        :param granularity: ``HOUR``, ``DAY`` or ``TOTAL``.
        :param placement: one placement (a request per placement: the API takes one).
        """
        if not isinstance(placement, str) or "," in placement:
            raise AdsApiValidationError(
                "placement",
                f"only one placement per request, got {placement!r}: call once per placement",
                operation="stats",
            )
        start, end = stats_window(start_time, end_time)
        granularity = str(granularity).strip().upper()
        if granularity == "TOTAL" and end - start > MAX_STATS_RANGE:
            raise AdsApiValidationError(
                "end_time",
                f"a TOTAL over {end - start} is more than the 7 days one request may cover, and totals of "
                "several windows are not the API's total: ask for granularity DAY (chunked by 7 days) and "
                "sum, or use the asynchronous analytics jobs",
                operation="stats",
            )
        groups = [metric_groups] if isinstance(metric_groups, str) else list(metric_groups)
        return cls(
            entity=str(entity).strip().upper(),
            entity_ids=tuple(_ids(entity_ids, "entity_ids")),
            start=start,
            end=end,
            granularity=granularity,
            metric_groups=tuple(
                g.strip().upper() for grp in groups for g in str(grp).split(",") if g.strip()
            ),
            placement=placement.strip().upper(),
        )

    @property
    def needs_timezone(self) -> bool:
        """Whether planning needs the account's time zone (a ``DAY`` series over more than 7 days)."""
        return self.granularity == "DAY" and self.end - self.start > MAX_STATS_RANGE

    def windows(
        self, timezone: str | None = None, longest: timedelta = MAX_STATS_RANGE
    ) -> list[tuple[datetime, datetime]]:
        """The time windows, each within ``longest`` (``DAY`` windows on the account's midnights).

        :param timezone: the account's time zone (needed when :attr:`needs_timezone`).
        :param longest: the longest window (7 days here; 90 or 45 for the asynchronous jobs).
        """
        if self.end - self.start <= longest:
            return [(self.start, self.end)]
        out: list[tuple[datetime, datetime]] = []
        cursor = self.start
        if self.granularity == "DAY":
            from zoneinfo import ZoneInfo

            tz = ZoneInfo(timezone or "UTC")
            while cursor < self.end:
                # Whole local days, fewer when a daylight-saving change makes them longer than 7 x 24 h.
                local = cursor.astimezone(tz)
                days = longest.days
                nxt = (local + timedelta(days=days)).astimezone(UTC)
                while nxt - cursor > longest:
                    days -= 1
                    nxt = (local + timedelta(days=days)).astimezone(UTC)
                nxt = min(nxt, self.end)
                out.append((cursor, nxt))
                cursor = nxt
            return out
        while cursor < self.end:
            nxt = min(cursor + longest, self.end)
            out.append((cursor, nxt))
            cursor = nxt
        return out

    def plan(self, core: ClientCore, account_id: str | None = None, timezone: str | None = None) -> StatsPlan:
        """Every request of this call, each validated against the parameter table (still no HTTP).

        :param core: the client's core.
        :param account_id: the account, else the client's default.
        :param timezone: the account's time zone (see :attr:`needs_timezone`).
        """
        windows = self.windows(timezone)
        size = MAX_STATS_ENTITY_IDS
        id_chunks = [self.entity_ids[i : i + size] for i in range(0, len(self.entity_ids), size)]
        requests = [
            analytics_request(
                core,
                "stats.get",
                {
                    "entity": self.entity,
                    "entity_ids": list(ids),
                    "start_time": _fmt(start),
                    "end_time": _fmt(end),
                    "granularity": self.granularity,
                    "metric_groups": list(self.metric_groups),
                    "placement": self.placement,
                },
                account_id,
            )
            for start, end in windows
            for ids in id_chunks
        ]
        if len(requests) > 1:
            log.info(
                "Stats of %d %s entities from %s to %s: %d requests (%d windows x %d groups of IDs)",
                len(self.entity_ids), self.entity, _fmt(self.start), _fmt(self.end), len(requests),
                len(windows), len(id_chunks),
            )  # fmt: skip
        return StatsPlan(self, requests, len(windows), len(id_chunks))


def analytics_request(
    core: ClientCore, operation: str, params: Mapping[str, Any], account_id: str | None
) -> PreparedRequest:
    """A validated analytics request, in the analytics rate-limit bucket.

    :param core: the client's core.
    :param operation: ``stats.get`` or ``stats.active_entities``.
    :param params: its parameters.
    :param account_id: the account, else the client's default.
    """
    return dataclasses.replace(
        core.prepare(operation, params, account_id=account_id), bucket=ANALYTICS_BUCKET
    )


@dataclasses.dataclass(frozen=True)
class StatsPlan:
    """The requests of one stats call, window-major, and how to merge their answers.

    :param query: the call.
    :param requests: one per (time window, group of up to 20 IDs).
    :param n_windows: how many time windows.
    :param n_id_chunks: how many groups of IDs per window.
    """

    query: StatsQuery
    requests: list[PreparedRequest]
    n_windows: int
    n_id_chunks: int

    def merge(self, envelopes: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
        """One response of the reference's shape from the responses of :attr:`requests`, in order.

        :param envelopes: the parsed responses.
        """
        if len(envelopes) != len(self.requests):
            raise ValueError(f"expected {len(self.requests)} responses, got {len(envelopes)}")
        lengths: list[int] = []
        per_window: list[dict[str, Any]] = []
        for w in range(self.n_windows):
            found: dict[str, Any] = {}
            length = None
            for c in range(self.n_id_chunks):
                index = w * self.n_id_chunks + c
                env, req = envelopes[index], self.requests[index]
                data = env.get("data")
                if not isinstance(data, list):
                    raise MalformedResponseError(
                        f"stats: expected a list as data, got {type(data).__name__}",
                        method=req.method,
                        path=req.path,
                    )
                length = _series_length(env, req)
                for row in data:
                    if isinstance(row, Mapping) and "id" in row:
                        found[str(row["id"])] = _metrics_of(row)
            lengths.append(length or 0)
            per_window.append(found)
        data_out = []
        for eid in self.query.entity_ids:
            parts = [(window.get(eid), n) for window, n in zip(per_window, lengths, strict=True)]
            names = list(dict.fromkeys(k for metrics, _ in parts for k in (metrics or {})))
            metrics = {name: _concat([((m or {}).get(name), n) for m, n in parts]) for name in names}
            data_out.append({"id": eid, "id_data": [{"segment": None, "metrics": metrics}]})
        q = self.query
        return {
            "data_type": "stats",
            "time_series_length": sum(lengths),
            "data": data_out,
            "request": {
                "params": {
                    "entity": q.entity,
                    "entity_ids": list(q.entity_ids),
                    "start_time": _fmt(q.start),
                    "end_time": _fmt(q.end),
                    "granularity": q.granularity,
                    "metric_groups": list(q.metric_groups),
                    "placement": q.placement,
                }
            },
        }


def _series_length(env: Mapping[str, Any], req: PreparedRequest) -> int:
    length = env.get("time_series_length")
    if isinstance(length, bool) or not isinstance(length, int) or length < 0:
        raise MalformedResponseError(
            f"stats: expected time_series_length as a count, got {length!r}", method=req.method, path=req.path
        )
    return length


def _metrics_of(row: Mapping[str, Any]) -> dict[str, Any]:
    id_data = row.get("id_data")
    if isinstance(id_data, list) and id_data and isinstance(id_data[0], Mapping):
        metrics = id_data[0].get("metrics")
        if isinstance(metrics, Mapping):
            return dict(metrics)
    return {}


def _concat(parts: list[tuple[Any, int]]) -> Any:
    """One metric's series over consecutive windows: ``null`` where no window has a value, else the
    windows' series end to end, a window without values contributing zeros (the API's ``null`` means no
    activity, shown as 0 in the Ads UI). Object metrics (conversions) are merged key by key."""
    values = [v for v, _ in parts if v is not None]
    if not values:
        return None
    if len(parts) == 1:
        return parts[0][0]
    if all(isinstance(v, Mapping) for v in values):
        keys = list(dict.fromkeys(k for v in values for k in v))
        return {k: _concat([((v or {}).get(k), n) for v, n in parts]) for k in keys}
    out: list[Any] = []
    for value, n in parts:
        out.extend(value if isinstance(value, list) else [0] * n)
    return out


def totals(response: Mapping[str, Any]) -> dict[str, dict[str, int | None]]:
    """Each entity's metrics summed over the whole window (``None``: no activity at all).

    Only numeric series are summed; object metrics (conversions) are left out.

    :param response: what :meth:`AnalyticsMethods.get_stats` returned.
    """
    out: dict[str, dict[str, int | None]] = {}
    for row in response.get("data") or []:
        sums: dict[str, int | None] = {}
        for name, series in _metrics_of(row).items():
            if series is None:
                sums[name] = None
            elif isinstance(series, list) and all(isinstance(x, int | float | None) for x in series):
                sums[name] = sum(int(x or 0) for x in series)
        out[str(row.get("id"))] = sums
    return out
