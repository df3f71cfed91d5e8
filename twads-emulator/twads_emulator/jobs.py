"""Asynchronous analytics jobs (analytics.mdx, "Asynchronous Analytics"): ``POST``/``GET
stats/jobs/accounts/:account_id`` and ``DELETE stats/jobs/accounts/:account_id/:job_id``.

A job is QUEUED, then PROCESSING, then SUCCESS once its processing delay has passed (measured from its
creation, so no background work is needed); on SUCCESS it has a ``url`` to a gzip JSON file of the
synchronous response's schema, served by the emulator under ``/_emulator/files/`` (like the API's
``ton.twimg.com`` files, unsigned). Metrics are :func:`~twads_emulator.stats.hourly`'s: an unsegmented
job's file holds what ``GET stats`` answers for the same parameters; a segment's numbers hash the segment
name into the source ID. Jobs not yet finished count against the account's concurrent-job limit (100 by
default), announced by ``X-Concurrent-Job-Limit`` and ``X-Concurrent-Job-Limit-Remaining``; beyond it a
create is a 400 ``TOO_MANY_JOBS``. A finished job's file is served until its ``expires_at`` (2 days after it
finished), then 404. The limit, the delay and the expiry are set through ``/_emulator/jobs``. Faults apply to
the files too: ``500``/``503`` answer that status, ``drop`` cuts the body off halfway (:func:`cut_off`).
The jobs named in ``fail_jobs`` end FAILED (no file).
"""

from __future__ import annotations

import datetime as dt
import gzip
import json
import threading
import time
from collections.abc import AsyncIterator
from typing import Any

from twads_emulator.config import array, check_object, number, string
from twads_emulator.entities import Context
from twads_emulator.params import ApiError, Params, format_time, invalid
from twads_emulator.stats import (
    GRANULARITIES,
    METRIC_GROUPS,
    STATS_ENTITIES,
    STATS_PLACEMENTS,
    Analytics,
    Window,
)

__all__ = ["LIMIT_HEADER", "REMAINING_HEADER", "JobBook", "Jobs", "cut_off"]

LIMIT_HEADER = "X-Concurrent-Job-Limit"
REMAINING_HEADER = "X-Concurrent-Job-Limit-Remaining"
ERROR_TOO_MANY_JOBS = "TOO_MANY_JOBS"
MAX_JOB_ENTITY_IDS = 20
MAX_JOB_IDS = 200
MAX_JOB_RANGE = dt.timedelta(days=90)
MAX_SEGMENTED_RANGE = dt.timedelta(days=45)
EXPIRY = dt.timedelta(days=2)
FIRST_JOB_ID = 1120829647711653888  # the reference's example job ID
# Segmentation types enabled today (analytics.mdx) and the segments the emulator reports for each.
SEGMENTS: dict[str, tuple[str, ...]] = {
    "AGE": ("AGE_18_TO_24", "AGE_25_TO_34", "AGE_35_TO_49", "AGE_OVER_50"),
    "GENDER": ("Female", "Male"),
    "METROS": ("501", "819"),
    "PLATFORMS": ("Android", "Desktop and laptop computers", "iOS"),
    "CONVERSION_TAGS": ("tag_1",),
}
NEEDS_COUNTRY = ("METROS",)
_STATS_KEYS = ("entity", "entity_ids", "start_time", "end_time", "granularity", "metric_groups", "placement")


class JobBook:
    """Every job of the emulator (in memory), the limit and the delay; thread-safe."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.jobs: dict[str, dict[str, Any]] = {}
        self.limit = 100
        self.processing_seconds = 1.0
        self.expiry_seconds = EXPIRY.total_seconds()
        self.failing: set[str] = set()  # job IDs that end FAILED rather than SUCCESS
        self.base_url = "http://localhost"
        self._next = FIRST_JOB_ID

    def configure(self, payload: Any) -> dict[str, Any]:
        """Admin: ``{"concurrent_limit": n, "processing_seconds": s, "expiry_seconds": e, "fail_jobs": [id]}``
        (any of them; ``expiry_seconds`` applies to jobs already finished too; the jobs of ``fail_jobs`` end
        FAILED)."""
        keys = ("concurrent_limit", "processing_seconds", "expiry_seconds", "fail_jobs")
        payload = check_object("jobs", payload, keys)
        with self.lock:
            if "concurrent_limit" in payload:
                self.limit = int(number("jobs.concurrent_limit", payload["concurrent_limit"], minimum=0,
                                        maximum=100_000, integer=True))  # fmt: skip
            if "processing_seconds" in payload:
                self.processing_seconds = float(
                    number("jobs.processing_seconds", payload["processing_seconds"], minimum=0, maximum=3600)
                )
            if "expiry_seconds" in payload:
                self.expiry_seconds = float(
                    number("jobs.expiry_seconds", payload["expiry_seconds"], minimum=0, maximum=30 * 86400)
                )
            if "fail_jobs" in payload:
                ids = array("jobs.fail_jobs", payload["fail_jobs"])
                self.failing = {string(f"jobs.fail_jobs[{i}]", str(x)) for i, x in enumerate(ids)}
            return self.describe()

    def describe(self) -> dict[str, Any]:
        return {
            "concurrent_limit": self.limit,
            "processing_seconds": self.processing_seconds,
            "expiry_seconds": self.expiry_seconds,
            "fail_jobs": sorted(self.failing),
        }

    def expires(self, job: dict[str, Any]) -> float:
        """When a job's file goes away (epoch seconds)."""
        return float(job["_created"]) + self.processing_seconds + self.expiry_seconds

    def new_id(self) -> int:
        self._next += 1
        return self._next

    def status(self, job: dict[str, Any], now: float) -> str:
        elapsed = now - job["_created"]
        if elapsed >= self.processing_seconds:
            return "FAILED" if job["id_str"] in self.failing else "SUCCESS"
        return "QUEUED" if elapsed < self.processing_seconds / 2 else "PROCESSING"

    def running(self, account_id: str, now: float) -> int:
        return sum(
            1
            for j in self.jobs.values()
            if j["account_id"] == account_id and self.status(j, now) in ("QUEUED", "PROCESSING")
        )

    def headers(self, account_id: str) -> dict[str, str]:
        with self.lock:
            remaining = max(0, self.limit - self.running(account_id, time.time()))
        return {LIMIT_HEADER: str(self.limit), REMAINING_HEADER: str(remaining)}

    def view(self, job: dict[str, Any], now: float) -> dict[str, Any]:
        status = self.status(job, now)
        out = {k: v for k, v in job.items() if not k.startswith("_")}
        out["status"] = status
        if status == "SUCCESS":
            done = job["_created"] + self.processing_seconds
            out["updated_at"] = format_time(dt.datetime.fromtimestamp(done, dt.UTC))
            out["url"] = f"{self.base_url}/_emulator/files/stats_job_{job['id_str']}.json.gz"
            out["expires_at"] = format_time(dt.datetime.fromtimestamp(self.expires(job), dt.UTC))
        return out


class Jobs(Analytics):
    """The asynchronous analytics endpoints (mixed into :class:`~twads_emulator.resources.Resources`)."""

    @property
    def job_book(self) -> JobBook:
        book = self.__dict__.get("_job_book")
        if book is None:
            book = self.__dict__["_job_book"] = JobBook()
        return book

    def reset_jobs(self) -> None:
        self.__dict__["_job_book"] = JobBook()

    # ---- POST stats/jobs/accounts/:account_id -------------------------------------------------------
    def create_stats_job(self, ctx: Context) -> dict[str, Any]:
        p = ctx.params
        tz = self._timezone(ctx.account_id or "")
        entity = p.enum("entity", STATS_ENTITIES, required=True)
        ids = p.id_list("entity_ids", required=True, max_items=MAX_JOB_ENTITY_IDS)
        segmentation = p.enum("segmentation_type", SEGMENTS)
        window = self._window(p, tz, MAX_SEGMENTED_RANGE if segmentation else MAX_JOB_RANGE)
        granularity = p.enum("granularity", GRANULARITIES, required=True)
        groups = p.enum_list("metric_groups", METRIC_GROUPS, required=True)
        if "," in str(p.raw.get("placement", "")):
            raise invalid("placement", "Only a single placement value is accepted per request")
        placement = p.enum("placement", STATS_PLACEMENTS, required=True)
        country = p.string("country", max_len=64)
        platform = p.string("platform", max_len=64)
        if segmentation in NEEDS_COUNTRY and not country:
            raise ApiError(400, "MISSING_PARAMETER", f"{segmentation} segmentation needs country", "country")
        if segmentation == "CONVERSION_TAGS" and groups != ["WEB_CONVERSION"]:
            raise invalid("metric_groups", "CONVERSION_TAGS segmentation needs metric_groups WEB_CONVERSION")
        p.finish()
        self._buckets(window, granularity, tz)  # DAY needs local midnights: refuse now, not in the file
        book, acct, now = self.job_book, ctx.account_id or "", time.time()
        with book.lock:
            if book.running(acct, now) >= book.limit:
                raise ApiError(
                    400,
                    ERROR_TOO_MANY_JOBS,
                    f"A maximum of {book.limit} jobs can be in processing state",
                    headers={LIMIT_HEADER: str(book.limit), REMAINING_HEADER: "0"},
                )
            job_id = book.new_id()
            created = format_time(dt.datetime.fromtimestamp(now, dt.UTC))
            job = {
                "start_time": format_time(window.start),
                "segmentation_type": segmentation,
                "url": None,
                "id_str": str(job_id),
                "entity_ids": ids,
                "end_time": format_time(window.end),
                "country": country,
                "placement": placement,
                "id": job_id,
                "expires_at": None,
                "account_id": acct,
                "status": "QUEUED",
                "granularity": granularity,
                "entity": entity,
                "created_at": created,
                "platform": platform,
                "updated_at": created,
                "metric_groups": groups,
                "_created": now,
            }
            book.jobs[str(job_id)] = job
            return {"request": {"params": p.echo}, "data": book.view(job, now)}

    # ---- GET stats/jobs/accounts/:account_id --------------------------------------------------------
    def list_stats_jobs(self, ctx: Context) -> dict[str, Any]:
        p = ctx.params
        wanted = p.id_list("job_ids", max_items=MAX_JOB_IDS)
        count = p.integer("count", minimum=1, maximum=1000) or 200
        cursor = p.string("cursor", max_len=64)
        p.finish()
        book, acct, now = self.job_book, ctx.account_id or "", time.time()
        with book.lock:
            jobs = sorted(
                (j for j in book.jobs.values() if j["account_id"] == acct),
                key=lambda j: -int(j["id"]),
            )  # newest first, as the API lists them
            if wanted is not None:
                jobs = [j for j in jobs if j["id_str"] in wanted]
            if cursor:
                if not cursor.isdigit():
                    raise invalid("cursor", f"Invalid cursor {cursor[:40]!r}")
                jobs = [j for j in jobs if int(j["id"]) <= int(cursor)]
            page, rest = jobs[:count], jobs[count:]
            data = [book.view(j, now) for j in page]
        return {
            "request": {"params": p.echo},
            "data_type": "job",
            "data": data,
            "next_cursor": rest[0]["id_str"] if rest else None,
        }

    # ---- DELETE stats/jobs/accounts/:account_id/:job_id ---------------------------------------------
    def cancel_stats_job(self, ctx: Context) -> dict[str, Any]:
        p = ctx.params
        p.finish()
        book, now = self.job_book, time.time()
        with book.lock:
            job = book.jobs.get(ctx.path_id or "")
            if job is None or job["account_id"] != ctx.account_id:
                raise ApiError(404, "NOT_FOUND", f"Job {ctx.path_id} not found", "job_id")
            del book.jobs[job["id_str"]]
            view = book.view(job, now)
        view["status"] = "CANCELLED"
        return {"request": {"params": p.echo}, "data": view}

    # ---- the result file ----------------------------------------------------------------------------
    def job_file(self, name: str) -> bytes | None:
        """The gzip JSON file of a finished job (``stats_job_<id>.json.gz``), or None."""
        job_id = name.removeprefix("stats_job_").removesuffix(".json.gz")
        book, now = self.job_book, time.time()
        with book.lock:
            job = book.jobs.get(job_id)
            if job is None or book.status(job, now) != "SUCCESS" or now >= book.expires(job):
                return None
            job = dict(job)
        return gzip.compress(json.dumps(self._job_result(job), separators=(",", ":")).encode(), 6)

    def _job_result(self, job: dict[str, Any]) -> dict[str, Any]:
        acct = job["account_id"]
        tz = self._timezone(acct)
        ctx = Context("GET", "12", acct, Params({}))
        start = dt.datetime.fromisoformat(job["start_time"].replace("Z", "+00:00"))
        end = dt.datetime.fromisoformat(job["end_time"].replace("Z", "+00:00"))
        buckets = self._buckets(Window(start, end), job["granularity"], tz)
        metrics = [m for g in job["metric_groups"] for m in METRIC_GROUPS[g]]
        segmentation = job["segmentation_type"]
        segments: tuple[str | None, ...] = (None,) if segmentation is None else SEGMENTS[segmentation]
        data = [
            {
                "id": eid,
                "id_data": [
                    {
                        "segment": None if seg is None else {"segment_name": seg, "segment_value": seg},
                        "metrics": self._metrics(
                            ctx, job["entity"], eid, job["placement"], buckets, metrics, seg
                        ),
                    }
                    for seg in segments
                ],
            }
            for eid in job["entity_ids"]
        ]
        params = {k: job[k] for k in _STATS_KEYS}
        params.update(segmentation_type=segmentation, country=job["country"], platform=job["platform"])
        return {
            "data_type": "stats",
            "time_series_length": len(buckets),
            "data": data,
            "request": {"params": params},
        }


async def cut_off(content: bytes) -> AsyncIterator[bytes]:
    """A file body that stops halfway with the connection closed (the ``drop`` fault on a result file)."""
    yield content[: len(content) // 2]
    raise ConnectionAbortedError("drop fault: the result file's body is cut off halfway")
