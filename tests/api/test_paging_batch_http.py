"""Cursor paging and chunked batches against the emulator; the async client on the same core."""

from __future__ import annotations

import asyncio
import math
from typing import Any

import pytest

from airflow_provider_twads.api.errors import AmbiguousWriteError, BatchError
from tests.api.conftest import api_requests
from tests.api.test_client_http import LINE_ITEM
from twads_emulator import DEFAULT_CREDENTIALS, SEED


def _seed(emu: Any, n: int) -> None:
    emu.admin.seed_line_items(SEED["empty_campaign_id"], n)


def test_list_pages_lazily_with_count_1000(client: Any, emu: Any) -> None:
    _seed(emu, 2_500)
    cursor = client.list_line_items(campaign_ids=[SEED["empty_campaign_id"]])
    assert api_requests(emu, "GET") == []  # lazy: nothing fetched yet
    ids = [li["id"] for li in cursor]
    assert len(ids) == len(set(ids)) == 2_500
    gets = api_requests(emu, "GET", "/line_items")
    assert len(gets) == math.ceil(2_500 / 1000) == cursor.pages
    assert all(r["query"]["count"] == "1000" for r in gets)
    assert cursor.next_cursor is None and cursor.exhausted


def test_cursor_can_be_resumed_from_next_cursor(client: Any, emu: Any) -> None:
    _seed(emu, 250)
    first = client.list_line_items(campaign_ids=[SEED["empty_campaign_id"]], count=100)
    page = first.first_page()
    assert len(page) == 100 and first.next_cursor
    rest = client.list_line_items(
        campaign_ids=[SEED["empty_campaign_id"]], count=100, cursor=first.next_cursor
    )
    ids = [li["id"] for li in page] + [li["id"] for li in rest]
    assert len(ids) == len(set(ids)) == 250
    assert rest.pages == 2


def test_with_total_count_only_on_the_first_page(client: Any, emu: Any) -> None:
    _seed(emu, 30)
    cursor = client.list_line_items(campaign_ids=[SEED["empty_campaign_id"]], count=10, with_total_count=True)
    assert sum(1 for _ in cursor) == 30
    assert cursor.total_count == 30
    queries = [r["query"] for r in api_requests(emu, "GET", "/line_items")]
    assert queries[0].get("with_total_count") == "true" and "cursor" not in queries[0]
    assert all("with_total_count" not in q and q["cursor"] for q in queries[1:])


def test_batch_chunks_by_20_and_returns_input_order(client: Any, emu: Any) -> None:
    ops = [
        {
            "operation_type": "Create",
            "params": {**LINE_ITEM, "campaign_id": SEED["empty_campaign_id"], "name": f"b{i:02d}"},
        }
        for i in range(45)
    ]
    progress: list[tuple[int, int, int]] = []
    results = client.batch_line_items(
        ops, on_chunk=lambda n, total, items: progress.append((n, total, len(items)))
    )
    assert [r["name"] for r in results] == [f"b{i:02d}" for i in range(45)]
    assert progress == [(1, 3, 20), (2, 3, 20), (3, 3, 5)]
    assert len(api_requests(emu, "POST", "/batch/")) == 3
    stored = {li["name"] for li in emu.admin.state("line_items")["line_items"]}
    assert {f"b{i:02d}" for i in range(45)} <= stored


def test_batch_failure_in_a_later_chunk_says_what_was_applied(client: Any, emu: Any) -> None:
    ops = [
        {
            "operation_type": "Create",
            "params": {**LINE_ITEM, "campaign_id": SEED["empty_campaign_id"], "name": f"f{i:02d}"},
        }
        for i in range(30)
    ]
    ops[25]["params"]["campaign_id"] = "nosuch"  # valid input, rejected by the API
    with pytest.raises(BatchError) as info:
        client.batch_line_items(ops)
    err = info.value
    assert err.applied_chunks == [1] and err.failed_chunk == 2 and err.total_chunks == 2
    assert [r["name"] for r in err.applied_results] == [f"f{i:02d}" for i in range(20)]
    assert list(err.item_errors) == [25]
    text = str(err)
    assert "chunk 2 of 2" in text and "item 25" in text and "applied chunks: 1" in text and "\n" not in text
    stored = {li["name"] for li in emu.admin.state("line_items")["line_items"]}
    assert {f"f{i:02d}" for i in range(20)} <= stored
    assert not {f"f{i:02d}" for i in range(20, 30)} & stored  # the failed chunk is atomic


def test_batch_chunk_lost_after_commit_is_ambiguous_and_not_resent(client: Any, emu: Any) -> None:
    emu.admin.set_faults(
        {"script": ["none", "commit_then_drop"], "match": {"method": "POST", "path": "batch"}}
    )
    ops = [
        {
            "operation_type": "Create",
            "params": {**LINE_ITEM, "campaign_id": SEED["empty_campaign_id"], "name": f"a{i:02d}"},
        }
        for i in range(25)
    ]
    with pytest.raises(AmbiguousWriteError) as info:
        client.batch_line_items(ops)
    assert isinstance(info.value, BatchError)
    assert info.value.applied_chunks == [1] and info.value.failed_chunk == 2
    assert len(api_requests(emu, "POST", "/batch/")) == 2


def test_targeting_batch_uses_chunks_of_500(client: Any, emu: Any) -> None:
    li = client.create_line_item(name="tc batch", **{**LINE_ITEM, "campaign_id": SEED["empty_campaign_id"]})
    ops = [
        {
            "operation_type": "Create",
            "params": {
                "line_item_id": li["id"],
                "targeting_type": "BROAD_KEYWORD",
                "targeting_value": f"kw{i}",
            },
        }
        for i in range(501)
    ]
    results = client.batch_targeting_criteria(ops)
    assert [r["targeting_value"] for r in results] == [f"kw{i}" for i in range(501)]
    assert len(api_requests(emu, "POST", "/batch/")) == 2


def test_async_client_shares_the_core(emu: Any) -> None:
    from airflow_provider_twads.api.aclient import AsyncAdsApiClient
    from airflow_provider_twads.api.client import Credentials, RetryPolicy
    from airflow_provider_twads.api.errors import NotFoundError

    _seed(emu, 1_200)
    emu.admin.set_faults({"script": ["503"], "match": {"method": "GET"}})
    waits: list[float] = []

    async def fake_sleep(s: float) -> None:
        waits.append(s)

    async def main() -> tuple[int, Any, Any]:
        async with AsyncAdsApiClient(
            Credentials(**DEFAULT_CREDENTIALS),
            host=emu.base_url,
            account_id=SEED["account_id"],
            retry=RetryPolicy(jitter=0.0),
            sleep=fake_sleep,
        ) as ac:
            n = 0
            async for _ in ac.alist("line_items", campaign_ids=[SEED["empty_campaign_id"]]):
                n += 1
            one = await ac.acall("line_items.get", line_item_id=SEED["line_item_id"])
            with pytest.raises(NotFoundError):
                await ac.acall("line_items.get", line_item_id="nosuch")
            return n, one, ac.stats

    n, one, stats = asyncio.run(main())
    assert n == 1_200 and one["id"] == SEED["line_item_id"]
    assert stats.retries == 1 and waits and waits[0] >= 1  # the 503's retry-after, honoured
    assert len(api_requests(emu, "GET", "/line_items")) == 1 + 2 + 2  # 503 + two pages + get + 404
