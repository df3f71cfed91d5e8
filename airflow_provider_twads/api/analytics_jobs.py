"""Asynchronous analytics jobs (analytics.mdx, "Asynchronous Analytics").

``POST stats/jobs/accounts/:account_id`` takes the synchronous stats parameters plus an optional
``segmentation_type`` (``country``/``platform`` where the segmentation needs them), at most 20 entity IDs and
at most 90 days (45 when segmented) per job; ``GET stats/jobs/accounts/:account_id`` reports up to 200 jobs
at once; ``DELETE .../:job_id`` cancels one. A finished job has a ``url`` to a gzip JSON file of the
synchronous response's schema, until its ``expires_at``. The jobs endpoints announce the account's
concurrent-job budget in ``X-Concurrent-Job-Limit`` and ``X-Concurrent-Job-Limit-Remaining``: every client
keeps the last of them per account (:class:`JobSlotBook`), so that a writer waits for a free slot rather than
sending a create that would fail.

:class:`JobsQuery` validates a call whole and plans the fewest jobs the limits allow (pure, no HTTP);
:func:`job_key` names a job by its parameters, so that a retried task finds the jobs it already created;
the result file is read as a stream by :mod:`.job_results` (:func:`iter_result`, :func:`rows`), and
:meth:`AnalyticsJobsMethods.read_job_result` restarts a download that failed midway.
"""

from __future__ import annotations

import dataclasses
import json
import logging
from collections.abc import Callable, Generator, Iterable, Iterator, Mapping
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any, TypeVar
from urllib.parse import urlsplit

from airflow_provider_twads.api.errors import AdsApiError, AdsApiValidationError, MalformedResponseError
from airflow_provider_twads.api.job_results import iter_result, rows
from airflow_provider_twads.api.job_slots import LIMIT_HEADER, REMAINING_HEADER, JobSlotBook, JobSlots
from airflow_provider_twads.api.params.stats import (
    MAX_JOB_IDS,
    MAX_JOB_RANGE,
    MAX_SEGMENTED_JOB_RANGE,
    MAX_STATS_ENTITY_IDS,
)
from airflow_provider_twads.api.request import PreparedRequest
from airflow_provider_twads.api.stats_query import StatsQuery, analytics_request

if TYPE_CHECKING:
    from airflow_provider_twads.api.aclient import AsyncAdsApiClient
    from airflow_provider_twads.api.core import ClientCore

__all__ = [
    "LIMIT_HEADER",
    "REMAINING_HEADER",
    "TERMINAL",
    "AnalyticsJobsMethods",
    "JobSlotBook",
    "JobSlots",
    "JobsQuery",
    "acancel_stats_jobs",
    "alist_stats_jobs",
    "is_expired",
    "is_too_many_jobs",
    "iter_result",
    "job_key",
    "job_states",
    "rows",
]

log = logging.getLogger("airflow_provider_twads.api")

#: Job statuses after which nothing changes (CANCELLED: what a cancel answers).
TERMINAL = frozenset({"SUCCESS", "FAILED", "CANCELLED"})
#: A finished job whose file expires sooner than this is not reattached to: the download may come later.
EXPIRY_MARGIN = timedelta(minutes=5)
_NEEDS_COUNTRY = ("METROS",)
_FORMAT = "%Y-%m-%dT%H:%M:%SZ"
_CHUNK = 1 << 16
_T = TypeVar("_T")
_CANCEL_CONCURRENCY = 8


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


def is_expired(job: Mapping[str, Any], now: datetime | None = None) -> bool:
    """Whether a finished job's file is gone, or will be within :data:`EXPIRY_MARGIN` (its ``expires_at``).

    :param job: a job from ``GET stats/jobs``.
    :param now: the time to judge at (default: now).
    """
    expires = job.get("expires_at")
    if job.get("status") != "SUCCESS" or not expires:
        return False
    try:
        at = datetime.strptime(str(expires), _FORMAT).replace(tzinfo=UTC)
    except ValueError:
        return False  # a format we do not know: let the download tell
    return at - EXPIRY_MARGIN <= (now or datetime.now(UTC))


def _data(env: Mapping[str, Any], req: PreparedRequest) -> Any:
    if "data" not in env:
        raise MalformedResponseError("stats jobs: no data in the response", method=req.method, path=req.path)
    return env["data"]


class AnalyticsJobsMethods:
    """Mixed into the sync client, which provides ``_core`` and ``send``."""

    _core: ClientCore
    _sleep: Callable[[float], None]

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

    def job_slots(self, account_id: str | None = None) -> JobSlots | None:
        """The account's concurrent-job budget as the jobs endpoints last announced it (None: not seen yet).

        :param account_id: the account, else the client's default.
        """
        return self._core.job_slots.get(self._core.resolve_account(account_id))

    def refresh_job_slots(self, account_id: str | None = None) -> JobSlots | None:
        """Read the budget afresh (one ``GET stats/jobs`` of one job: the headers come with any answer).

        :param account_id: the account, else the client's default.
        """
        self.send(analytics_request(self._core, "stats.jobs.list", {"count": 1}, account_id))
        return self.job_slots(account_id)

    def iter_job_result(self, url: str, timeout: float = 60.0) -> Generator[dict[str, Any]]:
        """The entities of a finished job's file, one at a time, downloaded as a stream (one attempt:
        :meth:`read_job_result` retries).

        :param url: the job's ``url``.
        :param timeout: seconds per read.
        """
        import requests

        from airflow_provider_twads.api.network import network_policy

        req = _file_request(url)
        # The file is on another host than the API (no OAuth), reached under the same CA/proxy policy.
        policy = network_policy(url)
        with requests.Session() as session:
            session.trust_env = False
            session.verify = policy.verify
            session.proxies = {"http": policy.proxy, "https": policy.proxy} if policy.proxy else {}
            try:
                with session.get(url, stream=True, timeout=timeout) as resp:
                    if resp.status_code != 200:
                        self._core.handle_response(req, resp.status_code, resp.headers, resp.content)
                        raise MalformedResponseError(  # a 2xx other than 200: not a file
                            f"stats job file: HTTP {resp.status_code}",
                            status=resp.status_code,
                            method="GET",
                            path=req.path,
                        )
                    yield from iter_result(resp.iter_content(_CHUNK))
            except requests.exceptions.RequestException as exc:  # reset, timeout, body cut short
                description = f"{type(exc).__name__}: {exc}"
                raise self._core.transport_error(req, description, maybe_sent=True) from None

    def read_job_result(
        self, url: str, consume: Callable[[Iterator[dict[str, Any]]], _T], timeout: float = 60.0
    ) -> _T:
        """Stream a finished job's file into ``consume`` and return what it returns.

        A transient failure midway (connection reset, timeout, 5xx) starts the download over under the
        client's retry policy and calls ``consume`` again from the first entity: ``consume`` must start its
        output over each time (truncate and rewrite), so that no row is written twice.

        :param url: the job's ``url``.
        :param consume: reads the entities (:func:`iter_result`'s) and writes them somewhere.
        :param timeout: seconds per read.
        """
        from tenacity import Retrying

        for attempt in Retrying(sleep=self._sleep, **self._core.tenacity_kwargs(_file_request(url))):
            with attempt:
                entities = self.iter_job_result(url, timeout)
                try:
                    return consume(entities)
                finally:
                    entities.close()  # a failed attempt's connection is released now
        raise AssertionError("unreachable")  # pragma: no cover  (tenacity re-raises)


def _file_request(url: str) -> PreparedRequest:
    """The download of a result file, as the core's error and retry helpers take it (query left out)."""
    parts = urlsplit(url)
    return PreparedRequest("GET", url, f"{parts.scheme}://{parts.netloc}{parts.path}", {}, None, {},
                           "stats.jobs.file", None)  # fmt: skip


def _list_params(job_ids: Iterable[str] | None) -> list[dict[str, Any]]:
    if job_ids is None:
        return [{"count": 1000}]
    ids = list(dict.fromkeys(str(i) for i in job_ids))
    return [
        {"job_ids": ids[i : i + MAX_JOB_IDS], "count": MAX_JOB_IDS} for i in range(0, len(ids), MAX_JOB_IDS)
    ]


async def alist_stats_jobs(
    client: AsyncAdsApiClient, job_ids: Iterable[str] | None, account_id: str | None = None, count: int = 1000
) -> list[dict[str, Any]]:
    """:meth:`AnalyticsJobsMethods.list_stats_jobs` by IDs, over the async client (the trigger's).

    :param client: the async client.
    :param job_ids: the jobs (200 per request); None: the account's newest jobs (one page of ``count``).
    :param account_id: the account, else the client's default.
    :param count: the page size when ``job_ids`` is None.
    """
    out: list[dict[str, Any]] = []
    for params in _list_params(job_ids) if job_ids is not None else [{"count": count}]:
        req = analytics_request(client.core, "stats.jobs.list", params, account_id)
        out.extend(dict(j) for j in _data(await client.send(req), req) or [])
    return out


async def acancel_stats_jobs(
    client: AsyncAdsApiClient, job_ids: Iterable[str], account_id: str | None = None
) -> list[str]:
    """Cancel jobs over the async client (a killed task's), a few at once: Airflow bounds the time a trigger's
    ``on_kill`` may take. Returns those cancelled (a job finished or gone meanwhile is logged, not raised).

    :param client: the async client.
    :param job_ids: the jobs.
    :param account_id: the account, else the client's default.
    """
    import asyncio

    gate = asyncio.Semaphore(_CANCEL_CONCURRENCY)

    async def cancel(job_id: str) -> str | None:
        req = client.core.prepare("stats.jobs.cancel", account_id=account_id, job_id=job_id)
        async with gate:
            try:
                await client.send(req)
            except AdsApiError as err:
                log.info("Could not cancel analytics job %s: %s", job_id, err)
                return None
        return job_id

    done = await asyncio.gather(*(cancel(i) for i in dict.fromkeys(str(i) for i in job_ids)))
    return [i for i in done if i is not None]
