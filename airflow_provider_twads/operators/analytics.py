"""Analytics reports through asynchronous jobs, into object storage (deferrable, restart-safe)."""

from __future__ import annotations

import csv
import io
import json
import time
from collections.abc import Iterator, Sequence
from typing import TYPE_CHECKING, Any

from airflow.sdk import BaseOperator

from airflow_provider_twads.common import (
    CONN_TEMPLATE_FIELDS,
    DEFAULT_CONN_ID,
    AdsApiHookMixin,
    as_id_list,
    fail_fast_on_deterministic_errors,
)

if TYPE_CHECKING:
    from airflow.sdk import Context

__all__ = ["AnalyticsReportOperator"]

_FORMATS = ("jsonl", "csv")
_WRITE_CHUNK = 1 << 18


def _object_storage_path(url: str) -> Any:
    try:
        from airflow.sdk import ObjectStoragePath
    except ImportError:  # Airflow 3.0
        from airflow.providers.common.compat.sdk import ObjectStoragePath
    return ObjectStoragePath(url)


class AnalyticsReportOperator(AdsApiHookMixin, BaseOperator):
    """Run asynchronous analytics jobs and write their rows to object storage; return the file paths.

    Creates the fewest jobs the API's limits allow (20 entities, 90 days, 45 when segmented, per job),
    waits for them (deferred to the triggerer when ``deferrable``), then downloads each result as a stream
    and writes one row per entity x segment x time bucket, metrics flattened, as JSON lines or CSV: one
    file per job under ``output_path``. A retry or a restarted worker reattaches to the jobs this report
    already created (found by their parameters in ``GET stats/jobs``; not to a job whose file has expired)
    instead of creating new ones. Creation is paced by the account's concurrent-job headers (a full account
    is waited for, polling our own jobs; ``TOO_MANY_JOBS`` from other writers is waited out too). A
    download that fails midway starts over and rewrites its file. A task killed while running or deferred
    cancels its unfinished jobs (deferred: see :mod:`~airflow_provider_twads.triggers.analytics`).

    :param entity: ``LINE_ITEM``, ``CAMPAIGN``, ``PROMOTED_TWEET``, ``FUNDING_INSTRUMENT``, ``ACCOUNT``.
    :param entity_ids: the entities (a list or a comma-separated string; templated).
    :param start_time: a whole hour (templated).
    :param end_time: a whole hour, exclusive (templated).
    :param metric_groups: e.g. ``["ENGAGEMENT", "BILLING"]``.
    :param granularity: ``DAY`` (default), ``HOUR`` or ``TOTAL``.
    :param placement: one placement.
    :param segmentation_type: ``AGE``, ``GENDER``, ``PLATFORMS``, ``METROS`` (with ``country``) or None.
    :param country: the country targeting value (``METROS``).
    :param output_path: a folder URL: ``file:///...`` (default: ``file:///tmp/twads_reports``), ``s3://``
        or ``gs://`` where those providers are installed (templated).
    :param output_format: ``jsonl`` or ``csv``.
    :param poll_interval: seconds between checks of the jobs.
    :param deferrable: wait in the triggerer.
    :param twitter_ads_conn_id: the X Ads connection.
    :param account_id: the ad account; default: the connection's ``account_id`` extra.
    """

    template_fields: Sequence[str] = (
        "entity_ids",
        "start_time",
        "end_time",
        "metric_groups",
        "output_path",
        *CONN_TEMPLATE_FIELDS,
    )
    ui_color = "#e8f0fd"

    def __init__(
        self,
        *,
        entity: str = "LINE_ITEM",
        entity_ids: Sequence[str] | str,
        start_time: Any,
        end_time: Any,
        metric_groups: Sequence[str] | str = ("ENGAGEMENT", "BILLING"),
        granularity: str = "DAY",
        placement: str = "ALL_ON_TWITTER",
        segmentation_type: str | None = None,
        country: str | None = None,
        output_path: str = "file:///tmp/twads_reports",
        output_format: str = "jsonl",
        poll_interval: float = 30.0,
        deferrable: bool | None = None,
        twitter_ads_conn_id: str = DEFAULT_CONN_ID,
        account_id: str | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        if deferrable is None:
            from airflow.configuration import conf

            deferrable = conf.getboolean("operators", "default_deferrable", fallback=False)
        self.entity = entity
        self.entity_ids = entity_ids
        self.start_time = start_time
        self.end_time = end_time
        self.metric_groups = metric_groups
        self.granularity = granularity
        self.placement = placement
        self.segmentation_type = segmentation_type
        self.country = country
        self.output_path = output_path
        self.output_format = output_format
        self.poll_interval = poll_interval
        self.deferrable = deferrable
        self.twitter_ads_conn_id = twitter_ads_conn_id
        self.account_id = account_id
        self._job_ids: list[str] = []
        self._finished: set[str] = set()  # of _job_ids, those last seen in a terminal state

    # ---- creating or reattaching ---------------------------------------------------------------------
    def _jobs(self) -> tuple[list[dict[str, Any]], bool]:
        """The report's jobs: those already created with the same parameters, the others created now; and
        whether that is all of them (False: deferrable, and the account's concurrent-job limit is full)."""
        from airflow_provider_twads.api.analytics_jobs import JobsQuery, is_expired, job_key
        from airflow_provider_twads.api.errors import AdsApiValidationError

        if self.output_format not in _FORMATS:
            raise AdsApiValidationError("output_format", f"must be one of {', '.join(_FORMATS)}")
        query = JobsQuery.build(
            self.entity,
            as_id_list(self.entity_ids, parameter="entity_ids"),
            self.start_time,
            self.end_time,
            metric_groups=self.metric_groups,
            granularity=self.granularity,
            placement=self.placement,
            segmentation_type=self.segmentation_type,
            country=self.country,
        )
        client = self.client
        planned = client.plan_stats_jobs(query, self.account_id)
        wanted = {job_key(params) for params in planned}
        existing: dict[str, dict[str, Any]] = {}
        for job in client.list_stats_jobs(account_id=self.account_id):  # newest first
            key = job_key(job)
            if key not in wanted or job.get("status") in ("FAILED", "CANCELLED"):
                continue
            if is_expired(job):  # its file is gone (or nearly): a new job, not a 404 at download time
                self.log.info("Not reattaching to analytics job %s: its file expires at %s",
                              job.get("id_str"), job.get("expires_at"))  # fmt: skip
                continue
            existing.setdefault(key, job)
        jobs: list[dict[str, Any]] = []
        self._job_ids = []  # what on_kill cancels, kept current while jobs are created
        for params in planned:
            found = existing.get(job_key(params))
            if found is not None:
                self.log.info("Reattached to analytics job %s (%s)", found["id_str"], found.get("status"))
                job = found
            else:
                created = self._create(params, jobs, len(planned))
                if created is None:  # deferrable, and the account is full: wait in the triggerer
                    return jobs, False
                job = created
                self.log.info(
                    "Created analytics job %s (%d of %d)", job["id_str"], len(jobs) + 1, len(planned)
                )
            jobs.append(job)
            self._job_ids.append(str(job["id_str"]))
        return jobs, True

    def _create(
        self, params: dict[str, Any], jobs: list[dict[str, Any]], total: int
    ) -> dict[str, Any] | None:
        """Create one job once the account has a free slot, as the jobs endpoints last announced it; when
        deferrable, None instead of waiting here (the triggerer waits, and the task resumes to go on).

        ``TOO_MANY_JOBS`` stays handled: other writers on the account take slots between our reads.
        """
        from airflow_provider_twads.api.analytics_jobs import is_too_many_jobs

        client = self.client
        while True:
            slots = client.job_slots(self.account_id)
            if slots is None or slots.remaining > 0:
                try:
                    return client.create_stats_job(params, self.account_id)
                except Exception as err:
                    if not is_too_many_jobs(err):
                        raise
                    self.log.warning("Concurrent-job limit reached by another writer (%s)", err)
            if self.deferrable:
                return None
            self._wait_for_slot(jobs, total)

    def _wait_for_slot(self, jobs: list[dict[str, Any]], total: int) -> None:
        """Sleep a poll interval, then re-read the budget by polling our own unfinished jobs (so that we see
        them finish), or, with none, one listing of the account's jobs."""
        from airflow_provider_twads.api.analytics_jobs import TERMINAL

        slots = self.client.job_slots(self.account_id)
        limit = f" ({slots.limit} at once)" if slots is not None and slots.limit is not None else ""
        until = time.strftime("%H:%M:%S UTC", time.gmtime(time.time() + self.poll_interval))
        self.log.info(
            "%d of %d jobs created; the account's concurrent-job limit%s is full, waiting until a job "
            "finishes (next check at %s)",
            len(jobs),
            total,
            limit,
            until,
        )
        time.sleep(self.poll_interval)
        pending = [str(j["id_str"]) for j in jobs if j.get("status") not in TERMINAL]
        if not pending:
            self.client.refresh_job_slots(self.account_id)
            return
        fresh = {str(j["id_str"]): j for j in self.client.list_stats_jobs(pending, self.account_id)}
        jobs[:] = [fresh.get(str(j["id_str"]), j) for j in jobs]

    @fail_fast_on_deterministic_errors
    def execute(self, context: Context) -> list[str]:
        """Create or reattach, wait (deferred or here), then write.

        :param context: the task context.
        """
        from airflow_provider_twads.api.analytics_jobs import job_states

        jobs, complete = self._jobs()
        ids = self._job_ids
        if not complete:
            from airflow_provider_twads.api.analytics_jobs import TERMINAL
            from airflow_provider_twads.triggers.analytics import AnalyticsJobsTrigger

            self.log.info(
                "%d jobs created or reattached; the account's concurrent-job limit is full: waiting in the "
                "triggerer for a free slot, then creating the rest",
                len(ids),
            )
            self.defer(
                trigger=AnalyticsJobsTrigger(
                    job_ids=[str(j["id_str"]) for j in jobs if j.get("status") not in TERMINAL],
                    twitter_ads_conn_id=self.twitter_ads_conn_id,
                    account_id=self.account_id,
                    poll_interval=self.poll_interval,
                    until_slot=True,
                ),
                method_name="execute_after_slot",
            )
        while True:
            self._seen(jobs)
            done, problem = job_states(ids, jobs)
            if problem:
                from airflow_provider_twads.api.errors import AdsApiError

                raise AdsApiError(problem)
            if done == len(ids):
                return self._write(jobs)
            if self.deferrable:
                from airflow_provider_twads.triggers.analytics import AnalyticsJobsTrigger

                self.defer(
                    trigger=AnalyticsJobsTrigger(
                        job_ids=ids,
                        twitter_ads_conn_id=self.twitter_ads_conn_id,
                        account_id=self.account_id,
                        poll_interval=self.poll_interval,
                    ),
                    method_name="execute_complete",
                )
            time.sleep(self.poll_interval)
            jobs = self.client.list_stats_jobs(ids, self.account_id)

    @fail_fast_on_deterministic_errors
    def execute_after_slot(self, context: Context, event: dict[str, Any] | None = None) -> list[str]:
        """Resume when the account has room again: reattach to the jobs created so far, create the rest.

        :param context: the task context.
        :param event: the trigger's event (``{"status": "slot"}``).
        """
        from airflow_provider_twads.api.errors import AdsApiError

        if not isinstance(event, dict) or event.get("status") != "slot":
            message = event.get("message") if isinstance(event, dict) else None
            raise AdsApiError(f"Waiting for a free analytics job slot failed: {message or event!r}")
        return self.execute(context)

    @fail_fast_on_deterministic_errors
    def execute_complete(self, context: Context, event: dict[str, Any] | None = None) -> list[str]:
        """Resume from the trigger: check its event, then write.

        :param context: the task context.
        :param event: the trigger's event.
        """
        from airflow_provider_twads.api.errors import AdsApiError

        if (
            not isinstance(event, dict)
            or event.get("status") != "success"
            or not isinstance(event.get("jobs"), list)
        ):
            message = event.get("message") if isinstance(event, dict) else None
            raise AdsApiError(f"Analytics jobs did not finish: {message or event!r}")
        return self._write(event["jobs"])

    # ---- writing -------------------------------------------------------------------------------------
    def _write(self, jobs: list[dict[str, Any]]) -> list[str]:
        timezone = None
        if str(self.granularity).upper() == "DAY":
            timezone = self.client.get_account(self.account_id).get("timezone")
        folder = _object_storage_path(str(self.output_path).rstrip("/"))
        folder.mkdir(parents=True, exist_ok=True)
        paths: list[str] = []
        for number, job in enumerate(jobs, 1):
            target = folder / f"stats_job_{job['id_str']}.{self.output_format}"

            def write(
                entities: Iterator[dict[str, Any]], job: dict[str, Any] = job, target: Any = target
            ) -> int:
                return self._write_file(target, job, entities, timezone)

            # A download that fails midway starts over, and the file with it (opened "w": truncated).
            count = self.client.read_job_result(job["url"], write)
            self.log.info(
                "Job %d of %d: wrote %d rows of job %s to %s", number, len(jobs), count, job["id_str"], target
            )
            paths.append(str(target))
        return paths

    def _write_file(
        self, target: Any, job: dict[str, Any], entities: Iterator[dict[str, Any]], timezone: str | None
    ) -> int:
        from airflow_provider_twads.api.analytics_jobs import rows

        count = 0
        # Rows go to a buffer that reaches the file in ~256 KiB writes: each write() on an object storage
        # file costs a path render and a filesystem call, which per row was a third of the report's time.
        buffer = io.StringIO()
        with target.open("w") as out:
            writer: csv.DictWriter[str] | None = None
            for row in rows(job, entities, timezone):
                if self.output_format == "jsonl":
                    buffer.write(json.dumps(row, separators=(",", ":")))
                    buffer.write("\n")
                else:
                    if writer is None:
                        writer = csv.DictWriter(buffer, fieldnames=list(row), extrasaction="ignore")
                        writer.writeheader()
                    writer.writerow(row)
                count += 1
                if buffer.tell() >= _WRITE_CHUNK:
                    out.write(buffer.getvalue())
                    buffer.seek(0)
                    buffer.truncate()
            out.write(buffer.getvalue())
        return count

    def _seen(self, jobs: list[dict[str, Any]]) -> None:
        from airflow_provider_twads.api.analytics_jobs import TERMINAL

        self._finished = {str(j.get("id_str")) for j in jobs if j.get("status") in TERMINAL}

    def on_kill(self) -> None:
        """Cancel the jobs this task created or reattached to that have not finished (a finished job's file
        stays, for the next try to reattach to)."""
        for job_id in self._job_ids:
            if job_id in self._finished:
                continue
            try:
                self.client.cancel_stats_job(job_id, self.account_id)
                self.log.info("Cancelled analytics job %s", job_id)
            except Exception as err:  # finished or gone: nothing to cancel
                self.log.info("Could not cancel analytics job %s: %s", job_id, err)
