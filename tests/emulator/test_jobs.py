"""The emulator's asynchronous analytics jobs: life cycle, limits and headers, result files, faults."""

from __future__ import annotations

import gzip
import json
import time
from typing import Any

import pytest
import requests

from twads_emulator import SEED

from .conftest import error_codes
from .test_stats import q as job

LI = SEED["line_item_id"]
JOBS = "/12/stats/jobs/accounts/" + SEED["account_id"]


def wait_success(api: Any, job_id: str) -> dict[str, Any]:
    for _ in range(100):
        data = api.get(JOBS, job_ids=job_id).json()["data"][0]
        if data["status"] == "SUCCESS":
            return dict(data)
        time.sleep(0.05)
    raise AssertionError("job never finished")


def test_job_runs_to_a_gzip_file_equal_to_the_synchronous_answer(emu: Any, api: Any) -> None:
    emu.admin.set_jobs(processing_seconds=0.3)
    r = api.post(JOBS, **job())
    assert r.status_code == 200, r.text
    created = r.json()["data"]
    assert (
        created["status"] == "QUEUED" and created["url"] is None and created["id_str"] == str(created["id"])
    )
    assert r.headers["X-Concurrent-Job-Limit"] == "100"
    assert r.headers["X-Concurrent-Job-Limit-Remaining"] == "99"
    done = wait_success(api, created["id_str"])
    assert done["expires_at"] and done["url"].endswith(f"stats_job_{created['id_str']}.json.gz")
    raw = requests.get(done["url"], timeout=10)
    assert raw.status_code == 200
    result = json.loads(gzip.decompress(raw.content))
    sync = api.get("/12/stats/accounts/" + SEED["account_id"], **job()).json()
    assert result["data"] == sync["data"]
    assert result["time_series_length"] == 3 and result["request"]["params"]["segmentation_type"] is None


def test_segmented_jobs_and_their_limits(emu: Any, api: Any) -> None:
    emu.admin.set_jobs(processing_seconds=0)
    r = api.post(JOBS, **job(segmentation_type="GENDER"))
    assert r.status_code == 200
    done = wait_success(api, r.json()["data"]["id_str"])
    result = json.loads(gzip.decompress(requests.get(done["url"], timeout=10).content))
    segments = [d["segment"]["segment_name"] for d in result["data"][0]["id_data"]]
    assert segments == ["Female", "Male"]
    long = job(start_time="2024-01-01T00:00:00Z", end_time="2024-03-01T00:00:00Z", granularity="TOTAL")
    assert api.post(JOBS, **long).status_code == 200  # 60 days: fine unsegmented
    r = api.post(JOBS, **long, segmentation_type="AGE")
    assert r.status_code == 400 and error_codes(r) == ["INVALID_TIME_WINDOW"]  # 45 days when segmented
    r = api.post(JOBS, **job(segmentation_type="METROS"))
    assert r.status_code == 400 and error_codes(r) == ["MISSING_PARAMETER"]
    r = api.post(JOBS, **job(entity_ids=",".join(f"li{i}" for i in range(21))))
    assert r.status_code == 400 and error_codes(r) == ["INVALID_PARAMETER"]


def test_concurrent_job_limit_and_cancel(emu: Any, api: Any) -> None:
    emu.admin.set_jobs(concurrent_limit=2, processing_seconds=60)
    ids = [api.post(JOBS, **job()).json()["data"]["id_str"] for _ in range(2)]
    r = api.post(JOBS, **job())
    assert r.status_code == 400 and error_codes(r) == ["TOO_MANY_JOBS"]
    assert r.headers["X-Concurrent-Job-Limit-Remaining"] == "0"
    listed = api.get(JOBS)
    assert [j["id_str"] for j in listed.json()["data"]] == ids[::-1]
    assert listed.headers["X-Concurrent-Job-Limit"] == "2"
    r = api.delete(f"{JOBS}/{ids[0]}")
    assert r.status_code == 200 and r.json()["data"]["status"] == "CANCELLED"
    assert api.get(JOBS, job_ids=ids[0]).json()["data"] == []
    assert api.post(JOBS, **job()).status_code == 200  # a slot was freed
    assert api.delete(f"{JOBS}/{ids[0]}").status_code == 404


def test_listing_pages_and_caps_job_ids(emu: Any, api: Any) -> None:
    ids = [api.post(JOBS, **job()).json()["data"]["id_str"] for _ in range(3)]
    page = api.get(JOBS, count=2).json()
    assert len(page["data"]) == 2 and page["next_cursor"] == ids[0]
    rest = api.get(JOBS, count=2, cursor=page["next_cursor"]).json()
    assert [j["id_str"] for j in rest["data"]] == [ids[0]] and rest["next_cursor"] is None
    r = api.get(JOBS, job_ids=",".join(str(10**18 + i) for i in range(201)))
    assert r.status_code == 400


def test_faults_apply_to_jobs_and_files(emu: Any, api: Any) -> None:
    emu.admin.set_jobs(processing_seconds=0)
    done = wait_success(api, api.post(JOBS, **job()).json()["data"]["id_str"])
    emu.admin.set_faults({"script": ["503"], "match": {"path": "stats/jobs"}})
    assert api.get(JOBS).status_code == 503
    emu.admin.set_faults({"script": ["500"], "match": {"path": "/_emulator/files/"}})
    assert requests.get(done["url"], timeout=10).status_code == 500
    assert requests.get(done["url"], timeout=10).status_code == 200


def test_expiry_failed_jobs_and_a_file_cut_off_halfway(emu: Any, api: Any) -> None:
    emu.admin.set_jobs(processing_seconds=0, expiry_seconds=0.5)
    done = wait_success(api, api.post(JOBS, **job()).json()["data"]["id_str"])
    finished = time.time()
    assert requests.get(done["url"], timeout=10).status_code == 200
    emu.admin.set_faults({"script": ["drop"], "match": {"path": "/_emulator/files/"}})
    with pytest.raises(requests.exceptions.ChunkedEncodingError):  # the body stops halfway
        b"".join(requests.get(done["url"], timeout=10, stream=True).iter_content(1 << 16))
    time.sleep(max(0.0, finished + 0.6 - time.time()))
    assert requests.get(done["url"], timeout=10).status_code == 404  # expired
    failing = api.post(JOBS, **job()).json()["data"]["id_str"]
    emu.admin.set_jobs(fail_jobs=[failing])
    (failed,) = api.get(JOBS, job_ids=failing).json()["data"]
    assert failed["status"] == "FAILED" and failed["url"] is None
