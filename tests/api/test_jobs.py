"""Asynchronous analytics jobs in the client: planning and validation, create/list/cancel over HTTP,
the streaming result reader and its rows."""

from __future__ import annotations

import gzip
import json
import time
from typing import Any

import pytest

from airflow_provider_twads.api.analytics_jobs import JobsQuery, is_too_many_jobs, iter_result, job_key, rows
from airflow_provider_twads.api.errors import AdsApiError, AdsApiValidationError
from twads_emulator import SEED
from twads_emulator.stats import hourly

LI = SEED["line_item_id"]


def query(**kwargs: Any) -> JobsQuery:
    args: dict[str, Any] = {
        "entity": "LINE_ITEM",
        "entity_ids": [LI],
        "start_time": "2024-05-01T07:00:00Z",
        "end_time": "2024-05-01T10:00:00Z",
        "metric_groups": ["ENGAGEMENT"],
        "granularity": "HOUR",
    } | kwargs
    return JobsQuery.build(**args)


def test_plans_the_fewest_jobs_the_limits_allow() -> None:
    ids = [f"li{i}" for i in range(41)]
    plain = query(entity_ids=ids, start_time="2024-01-01T00:00:00Z", end_time="2024-06-01T00:00:00Z")
    assert len(plain.job_params()) == 2 * 3  # 152 days: 2 windows of 90; 41 IDs: 3 groups of 20
    segmented = JobsQuery.build(
        "LINE_ITEM", ids[:20], "2024-01-01T00:00:00Z", "2024-03-01T00:00:00Z",
        metric_groups="ENGAGEMENT", granularity="HOUR", segmentation_type="GENDER",
    )  # fmt: skip
    assert len(segmented.job_params()) == 2  # 60 days, 45 per segmented job
    total = query(granularity="TOTAL", start_time="2024-01-01T00:00:00Z", end_time="2024-03-01T00:00:00Z")
    assert len(total.job_params()) == 1  # a TOTAL over 60 days: one job (the synchronous limit is 7)
    with pytest.raises(AdsApiValidationError, match="90 days"):
        query(granularity="TOTAL", start_time="2024-01-01T00:00:00Z", end_time="2024-06-01T00:00:00Z")
    with pytest.raises(AdsApiValidationError, match="country"):
        query(segmentation_type="METROS")
    with pytest.raises(AdsApiValidationError):
        query(start_time="2024-05-01T07:30:00Z")


def test_jobs_over_http_create_list_download_cancel(emu: Any, client: Any) -> None:
    emu.admin.set_jobs(processing_seconds=0.2)
    q = query()
    (params,) = client.plan_stats_jobs(q)
    job = client.create_stats_job(params)
    assert job["status"] == "QUEUED" and job_key(job) == job_key(params)
    for _ in range(100):
        (job,) = client.list_stats_jobs([job["id_str"]])
        if job["status"] == "SUCCESS":
            break
        time.sleep(0.05)
    elements = list(client.iter_job_result(job["url"]))
    assert [e["id"] for e in elements] == [LI]
    out = list(rows(job, elements))
    assert [r["time"] for r in out] == [
        "2024-05-01T07:00:00Z",
        "2024-05-01T08:00:00Z",
        "2024-05-01T09:00:00Z",
    ]
    assert out[1]["impressions"] == hourly(LI, "ALL_ON_TWITTER", q.stats.start.replace(hour=8))["impressions"]
    other = client.create_stats_job(params)
    assert {j["id_str"] for j in client.list_stats_jobs()} == {job["id_str"], other["id_str"]}
    assert client.cancel_stats_job(other["id_str"])["status"] == "CANCELLED"
    assert [j["id_str"] for j in client.list_stats_jobs()] == [job["id_str"]]


def test_too_many_jobs_is_recognised(emu: Any, client: Any) -> None:
    emu.admin.set_jobs(concurrent_limit=1, processing_seconds=60)
    (params,) = client.plan_stats_jobs(query())
    client.create_stats_job(params)
    with pytest.raises(AdsApiError) as info:
        client.create_stats_job(params)
    assert is_too_many_jobs(info.value)


def test_listing_more_than_200_ids_takes_several_requests(emu: Any, client: Any) -> None:
    before = len(emu.admin.requests())
    assert client.list_stats_jobs([str(10**18 + i) for i in range(450)]) == []
    assert len(emu.admin.requests()) - before == 3


def test_stream_reader_yields_entities_from_small_pieces() -> None:
    doc = {
        "data_type": "stats",
        "time_series_length": 12345,
        "data": [
            {"id": f"e{i}", "id_data": [{"segment": None, "metrics": {"x": [i, 1.5]}}]} for i in range(50)
        ],
        "request": {"params": {}},
    }
    blob = gzip.compress(json.dumps(doc).encode())
    pieces = [blob[i : i + 7] for i in range(0, len(blob), 7)]
    assert list(iter_result(pieces)) == doc["data"]
    assert list(iter_result([gzip.compress(b'{"data": []}')])) == []


def test_the_client_keeps_the_concurrent_job_headers(emu: Any, client: Any) -> None:
    emu.admin.set_jobs(concurrent_limit=3, processing_seconds=60)
    assert client.job_slots() is None  # nothing seen yet
    (params,) = client.plan_stats_jobs(query())
    client.create_stats_job(params)
    slots = client.job_slots()
    assert (slots.limit, slots.remaining) == (3, 2)
    emu.admin.set_jobs(concurrent_limit=1)
    assert client.refresh_job_slots().remaining == 0


def finished_job(emu: Any, client: Any) -> dict[str, Any]:
    emu.admin.set_jobs(processing_seconds=0)
    (params,) = client.plan_stats_jobs(query(entity_ids=[LI, "other"]))
    job = client.create_stats_job(params)
    (job,) = client.list_stats_jobs([job["id_str"]])
    return dict(job)


def test_a_download_failing_midway_is_read_again_from_the_start(emu: Any, client: Any) -> None:
    job = finished_job(emu, client)
    emu.admin.set_faults({"script": ["drop", "503"], "match": {"path": "/_emulator/files/"}})
    attempts: list[list[str]] = []

    def consume(entities: Any) -> int:
        attempts.append([])
        for e in entities:
            attempts[-1].append(e["id"])
        return len(attempts[-1])

    assert client.read_job_result(job["url"], consume) == 2
    assert attempts[-1] == [LI, "other"] and len(attempts) == 3  # cut off, 503, whole
    assert client.stats.retries == 2


def test_a_missing_file_is_not_retried(emu: Any, client: Any) -> None:
    job = finished_job(emu, client)
    client.cancel_stats_job(job["id_str"])  # its file goes with it
    calls: list[int] = []
    with pytest.raises(AdsApiError) as info:
        client.read_job_result(job["url"], lambda entities: calls.append(len(list(entities))))
    assert info.value.status == 404 and calls == [] and client.stats.retries == 0
