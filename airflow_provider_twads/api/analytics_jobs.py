"""Asynchronous analytics jobs (analytics.mdx, "Asynchronous Analytics").

``POST stats/jobs/accounts/:account_id`` takes the synchronous stats parameters plus an optional
``segmentation_type`` (``country``/``platform`` where the segmentation needs them), at most 20 entity IDs and
at most 90 days (45 when segmented) per job; ``GET stats/jobs/accounts/:account_id`` reports up to 200 jobs
at once; ``DELETE .../:job_id`` cancels one. A finished job has a ``url`` to a gzip JSON file of the
synchronous response's schema.

:class:`JobsQuery` validates a call whole and plans the fewest jobs the limits allow (pure, no HTTP);
:func:`job_key` names a job by its parameters, so that a retried task finds the jobs it already created;
:func:`iter_result` reads a result file as a stream (gzip decoded and JSON parsed incrementally, one
entity at a time) and :func:`rows` flattens it to one row per entity x segment x time bucket.
"""

from __future__ import annotations

import dataclasses
import json
import logging
import zlib
from collections.abc import Iterable, Iterator, Mapping
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from airflow_provider_twads.api.errors import AdsApiError, AdsApiValidationError, MalformedResponseError
from airflow_provider_twads.api.params.stats import (
    MAX_JOB_IDS,
    MAX_JOB_RANGE,
    MAX_SEGMENTED_JOB_RANGE,
    MAX_STATS_ENTITY_IDS,
)
from airflow_provider_twads.api.stats_query import StatsQuery, analytics_request

if TYPE_CHECKING:
    from airflow_provider_twads.api.aclient import AsyncAdsApiClient
    from airflow_provider_twads.api.core import ClientCore, PreparedRequest

__all__ = [
    "TERMINAL",
    "AnalyticsJobsMethods",
    "JobsQuery",
    "alist_stats_jobs",
    "is_too_many_jobs",
    "iter_result",
    "job_key",
    "job_states",
    "rows",
]

log = logging.getLogger("airflow_provider_twads.api")

#: Job statuses after which nothing changes (CANCELLED: what a cancel answers).
TERMINAL = frozenset({"SUCCESS", "FAILED", "CANCELLED"})
_NEEDS_COUNTRY = ("METROS",)
_FORMAT = "%Y-%m-%dT%H:%M:%SZ"
_CHUNK = 1 << 16


@dataclasses.dataclass(frozen=True)
class JobsQuery:
    """One report over asynchronous jobs, validated (no HTTP). Build it with :meth:`build`.

    :param stats: the entity, IDs, window, granularity, metric groups and placement.
    :param segmentation_type: the segmentation, or None.
    :param country: the country targeting value (geographic segmentations).
    :param platform: the platform targeting value.
    """

    stats: StatsQuery
    segmentation_type: str | None = None
    country: str | None = None
    platform: str | None = None

    @classmethod
    def build(
        cls,
        entity: str,
        entity_ids: str | Iterable[str],
        start_time: Any,
        end_time: Any,
        *,
        metric_groups: str | Iterable[str],
        granularity: str = "DAY",
        placement: str = "ALL_ON_TWITTER",
        segmentation_type: str | None = None,
        country: str | None = None,
        platform: str | None = None,
    ) -> JobsQuery:
        """Check what the API would refuse and no chunking can fix (see :meth:`StatsQuery.build`).

        :param entity: the entity type, e.g. ``LINE_ITEM``.
        :param entity_ids: any number of IDs (20 per job).
        :param start_time: a whole hour.
        :param end_time: a whole hour after ``start_time`` (exclusive).
        :param metric_groups: e.g. ``["ENGAGEMENT", "BILLING"]``.
        :param granularity: ``HOUR``, ``DAY`` or ``TOTAL``.
        :param placement: one placement.
        :param segmentation_type: ``AGE``, ``GENDER``, ``METROS`` (needs ``country``), ``PLATFORMS``,
            ``CONVERSION_TAGS`` (``WEB_CONVERSION`` only), or None.
        :param country: the country targeting value, for ``METROS``.
        :param platform: the platform targeting value, where a segmentation takes one.
        """
        wanted = str(granularity).strip().upper()
        # StatsQuery refuses a TOTAL over 7 days (the synchronous limit): check as HOUR, then set it.
        stats = StatsQuery.build(
            entity,
            entity_ids,
            start_time,
            end_time,
            metric_groups=metric_groups,
            granularity="HOUR" if wanted == "TOTAL" else wanted,
            placement=placement,
        )
        stats = dataclasses.replace(stats, granularity=wanted)
        segmentation = str(segmentation_type).strip().upper() if segmentation_type else None
        query = cls(stats, segmentation, country or None, platform or None)
        if wanted == "TOTAL" and stats.end - stats.start > query.longest:
            raise AdsApiValidationError(
                "end_time",
                f"a TOTAL over {stats.end - stats.start} is more than the {query.longest.days} days one job "
                "may cover: ask for granularity DAY and sum",
                operation="stats.jobs.create",
            )
        if segmentation in _NEEDS_COUNTRY and not country:
            raise AdsApiValidationError(
                "country", f"{segmentation} segmentation needs a country", operation="stats.jobs.create"
            )
        return query

    @property
    def longest(self) -> timedelta:
        """The longest window of one job: 90 days, 45 when segmented."""
        return MAX_SEGMENTED_JOB_RANGE if self.segmentation_type else MAX_JOB_RANGE

    @property
    def needs_timezone(self) -> bool:
        """Whether planning needs the account's time zone (a ``DAY`` series over more than one job)."""
        return self.stats.granularity == "DAY" and self.stats.end - self.stats.start > self.longest

    def job_params(self, timezone: str | None = None) -> list[dict[str, Any]]:
        """The parameters of every job, the fewest the limits allow: windows x groups of 20 IDs.

        :param timezone: the account's time zone (see :attr:`needs_timezone`).
        """
        q = self.stats
        ids = q.entity_ids
        chunks = [ids[i : i + MAX_STATS_ENTITY_IDS] for i in range(0, len(ids), MAX_STATS_ENTITY_IDS)]
        extra = {
            "segmentation_type": self.segmentation_type,
            "country": self.country,
            "platform": self.platform,
        }
        return [
            {
                "entity": q.entity,
                "entity_ids": list(chunk),
                "start_time": start.strftime(_FORMAT),
                "end_time": end.strftime(_FORMAT),
                "granularity": q.granularity,
                "metric_groups": list(q.metric_groups),
                "placement": q.placement,
                **{k: v for k, v in extra.items() if v is not None},
            }
            for start, end in q.windows(timezone, self.longest)
            for chunk in chunks
        ]

    def requests(
        self, core: ClientCore, account_id: str | None = None, timezone: str | None = None
    ) -> list[PreparedRequest]:
        """Every job's create request, each validated against the parameter table (still no HTTP).

        :param core: the client's core.
        :param account_id: the account, else the client's default.
        :param timezone: the account's time zone (see :attr:`needs_timezone`).
        """
        return [
            analytics_request(core, "stats.jobs.create", params, account_id)
            for params in self.job_params(timezone)
        ]


def job_key(job: Mapping[str, Any]) -> str:
    """A job's identity by its parameters: the same for the parameters sent and the job listed back.

    :param job: job parameters (:meth:`JobsQuery.job_params`) or a job from ``GET stats/jobs``.
    """

    def norm(value: Any) -> Any:
        if isinstance(value, list | tuple):
            return sorted(str(v).upper() for v in value)
        return None if value in (None, "") else str(value).upper()

    names = ("entity", "entity_ids", "start_time", "end_time", "granularity", "metric_groups", "placement",
             "segmentation_type", "country", "platform")  # fmt: skip
    return json.dumps([norm(job.get(name)) for name in names])


def job_states(job_ids: Iterable[str], jobs: Iterable[Mapping[str, Any]]) -> tuple[int, str | None]:
    """How many of ``job_ids`` succeeded, and what went wrong (a job FAILED, cancelled or gone), if anything.

    :param job_ids: the jobs waited for.
    :param jobs: what ``GET stats/jobs`` listed for them.
    """
    by_id = {str(j.get("id_str") or j.get("id")): j for j in jobs}
    succeeded = 0
    for job_id in job_ids:
        job = by_id.get(str(job_id))
        status = job.get("status") if job else None
        if job is None or status in ("FAILED", "CANCELLED"):
            return succeeded, f"analytics job {job_id} is {status or 'gone (cancelled or expired)'}"
        succeeded += status == "SUCCESS" and bool(job.get("url"))
    return succeeded, None


def is_too_many_jobs(exc: BaseException) -> bool:
    """Whether an error is the concurrent-job limit (400 ``TOO_MANY_JOBS``): wait, do not fail.

    :param exc: the error.
    """
    return isinstance(exc, AdsApiError) and "TOO_MANY_JOBS" in exc.codes


def _data(env: Mapping[str, Any], req: PreparedRequest) -> Any:
    if "data" not in env:
        raise MalformedResponseError("stats jobs: no data in the response", method=req.method, path=req.path)
    return env["data"]


class AnalyticsJobsMethods:
    """Mixed into the sync client, which provides ``_core`` and ``send``."""

    _core: ClientCore

    if TYPE_CHECKING:  # provided by AdsApiClient

        def send(self, req: PreparedRequest) -> dict[str, Any]: ...

    def plan_stats_jobs(self, query: JobsQuery, account_id: str | None = None) -> list[dict[str, Any]]:
        """The parameters of the jobs of ``query``, validated (reads the account's time zone if needed).

        :param query: the report.
        :param account_id: the account, else the client's default.
        """
        timezone = None
        if query.needs_timezone:
            account = self.send(self._core.prepare("accounts.get", account_id=account_id)).get("data")
            timezone = str(account.get("timezone") or "UTC") if isinstance(account, Mapping) else "UTC"
        query.requests(self._core, account_id, timezone)  # every job validated before the first is sent
        return query.job_params(timezone)

    def create_stats_job(self, params: Mapping[str, Any], account_id: str | None = None) -> dict[str, Any]:
        """Create one job (:meth:`plan_stats_jobs` gives the parameters); returns the job.

        :param params: one job's parameters.
        :param account_id: the account, else the client's default.
        """
        req = analytics_request(self._core, "stats.jobs.create", params, account_id)
        return dict(_data(self.send(req), req))

    def list_stats_jobs(
        self, job_ids: Iterable[str] | None = None, account_id: str | None = None
    ) -> list[dict[str, Any]]:
        """Jobs by ID (200 per request), or every job of the account (following the cursor).

        :param job_ids: the jobs; None lists them all, newest first.
        :param account_id: the account, else the client's default.
        """
        out: list[dict[str, Any]] = []
        for params in _list_params(job_ids):
            while True:
                req = analytics_request(self._core, "stats.jobs.list", params, account_id)
                env = self.send(req)
                out.extend(dict(j) for j in _data(env, req) or [])
                cursor = env.get("next_cursor")
                if not cursor:
                    break
                params = {**params, "cursor": cursor}
        return out

    def cancel_stats_job(self, job_id: str, account_id: str | None = None) -> dict[str, Any]:
        """Cancel one job.

        :param job_id: the job.
        :param account_id: the account, else the client's default.
        """
        req = self._core.prepare("stats.jobs.cancel", account_id=account_id, job_id=str(job_id))
        return dict(_data(self.send(req), req))

    def iter_job_result(self, url: str, timeout: float = 60.0) -> Iterator[dict[str, Any]]:
        """The entities of a finished job's file, one at a time, downloaded as a stream.

        :param url: the job's ``url``.
        :param timeout: seconds per read.
        """
        import requests

        from airflow_provider_twads.api.network import network_policy

        # The file is on another host than the API (no OAuth), reached under the same CA/proxy policy.
        policy = network_policy(url)
        with requests.Session() as session:
            session.trust_env = False
            session.verify = policy.verify
            session.proxies = {"http": policy.proxy, "https": policy.proxy} if policy.proxy else {}
            with session.get(url, stream=True, timeout=timeout) as resp:
                if resp.status_code != 200:
                    raise MalformedResponseError(
                        f"stats job file: HTTP {resp.status_code}",
                        status=resp.status_code,
                        method="GET",
                        path=url,
                    )
                yield from iter_result(resp.iter_content(_CHUNK))


def _list_params(job_ids: Iterable[str] | None) -> list[dict[str, Any]]:
    if job_ids is None:
        return [{"count": 1000}]
    ids = list(dict.fromkeys(str(i) for i in job_ids))
    return [
        {"job_ids": ids[i : i + MAX_JOB_IDS], "count": MAX_JOB_IDS} for i in range(0, len(ids), MAX_JOB_IDS)
    ]


async def alist_stats_jobs(
    client: AsyncAdsApiClient, job_ids: Iterable[str], account_id: str | None = None
) -> list[dict[str, Any]]:
    """:meth:`AnalyticsJobsMethods.list_stats_jobs` by IDs, over the async client (the trigger's).

    :param client: the async client.
    :param job_ids: the jobs (200 per request).
    :param account_id: the account, else the client's default.
    """
    out: list[dict[str, Any]] = []
    for params in _list_params(job_ids):
        req = analytics_request(client.core, "stats.jobs.list", params, account_id)
        out.extend(dict(j) for j in _data(await client.send(req), req) or [])
    return out


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
