"""Cursor paging, total counts and rate limits over real HTTP."""

from __future__ import annotations

import math
import time
from types import SimpleNamespace
from typing import Any

from twads_emulator import SEED
from twads_emulator.ratelimits import QuotaCounter

from .conftest import error_codes


def test_paging_over_several_pages(api: Any, emu: Any) -> None:
    emu.admin.seed_line_items("8slvg", 250)
    seen: list[str] = []
    cursor = None
    pages = 0
    while True:
        params = {"campaign_ids": "8slvg", "count": "100"}
        if cursor:
            params["cursor"] = cursor
        body = api.get("line_items", **params).json()
        seen += [li["id"] for li in body["data"]]
        pages += 1
        cursor = body["next_cursor"]
        if cursor is None:
            break
        assert isinstance(cursor, str)
    assert pages == 3 and len(seen) == len(set(seen)) == 250
    assert [li["name"] for li in api.get("line_items", campaign_ids="8slvg", count="1").json()["data"]] == [
        "bulk-000000"
    ]


def test_default_count_total_count_and_exclusive_cursor(api: Any, emu: Any) -> None:
    emu.admin.seed_line_items("8slvg", 201)
    body = api.get("line_items", campaign_ids="8slvg", with_total_count="true").json()
    assert len(body["data"]) == 200 and body["total_count"] == 201 and body["next_cursor"]
    response = api.get(
        "line_items", campaign_ids="8slvg", with_total_count="true", cursor=body["next_cursor"]
    )
    assert response.status_code == 400 and error_codes(response) == ["EXCLUSIVE_PARAMETERS"]
    last = api.get("line_items", campaign_ids="8slvg", cursor=body["next_cursor"]).json()
    assert len(last["data"]) == 1 and last["next_cursor"] is None
    # A cursor of another resource is refused.
    assert api.get("campaigns", cursor=body["next_cursor"]).status_code == 400


def test_rate_limit_headers_on_every_response(api: Any) -> None:
    read = api.get("line_items")
    assert {"x-rate-limit-limit", "x-account-rate-limit-limit", "x-account-rate-limit-remaining"} <= set(
        read.headers
    )
    assert read.headers["x-account-rate-limit-limit"] == "10000"
    write = api.put("line_items/8v7jo", name="x")
    assert write.headers["x-rate-limit-limit"] == "450" and "x-account-rate-limit-limit" not in write.headers
    assert int(write.headers["x-rate-limit-reset"]) > time.time()
    assert api.get("targeting_criteria", line_item_ids="8u94t").headers["x-rate-limit-limit"] == "400"
    assert api.get("line_items", with_total_count="true").headers["x-account-rate-limit-limit"] == "200"
    assert api.request("GET", "accounts", account=None).headers["x-rate-limit-limit"] == "5"


def test_writes_past_the_budget_get_429(api: Any, emu: Any) -> None:
    emu.admin.set_rate_limits({"writes": {"limit": 3, "window": 60}})
    remaining = [
        api.put("line_items/8v7jo", name=f"n{i}").headers["x-rate-limit-remaining"] for i in range(3)
    ]
    assert remaining == ["2", "1", "0"]
    refused = api.put("line_items/8v7jo", name="too many")
    assert refused.status_code == 429 and error_codes(refused) == ["TOO_MANY_REQUESTS"]
    assert 0 < int(refused.headers["x-rate-limit-reset"]) - time.time() <= 61
    assert api.get("line_items/8v7jo").json()["data"]["name"] == "n2"  # the refused write was not applied
    assert api.get("line_items/8v7jo").status_code == 200  # reads have their own budget


def test_account_read_budget_is_per_account_and_endpoint(api: Any, emu: Any) -> None:
    emu.admin.set_rate_limits({"core_reads": {"limit": 2, "window": 60}})
    assert [api.get("campaigns").status_code for _ in range(3)] == [200, 200, 429]
    assert api.get("line_items").status_code == 200  # another endpoint
    assert api.request("GET", "campaigns", account=SEED["second_account_id"]).status_code == 200


def _at_start_of_a_second() -> None:
    """Sleep to just after the next whole second: a short window then cannot end between two requests."""
    time.sleep(math.ceil(time.time()) - time.time() + 0.02)


def test_window_resets(api: Any, emu: Any) -> None:
    emu.admin.set_rate_limits({"targeting_criteria": {"limit": 1, "window": 1}})
    _at_start_of_a_second()
    assert api.get("targeting_criteria", line_item_ids="8u94t").status_code == 200
    refused = api.get("targeting_criteria", line_item_ids="8u94t")
    assert refused.status_code == 429
    time.sleep(max(0.0, int(refused.headers["x-rate-limit-reset"]) - time.time()) + 0.05)
    assert api.get("targeting_criteria", line_item_ids="8u94t").status_code == 200


def test_a_window_ends_exactly_at_the_announced_reset(monkeypatch: Any) -> None:
    now = [1000.7]
    monkeypatch.setattr("twads_emulator.ratelimits.time", SimpleNamespace(time=lambda: now[0]))
    quota = QuotaCounter({"writes": {"limit": 2, "window": 3}})
    key = ("writes", "token")
    resets = [quota.hit(key, None)[1]["x-rate-limit-reset"] for _ in range(2)]
    assert resets == ["1003", "1003"]  # the window opened at the whole second of its first request
    now[0] = 1002.999
    allowed, headers = quota.hit(key, None)
    assert not allowed and headers["x-rate-limit-reset"] == "1003"
    now[0] = 1003.0  # exactly the announced reset: a new window, which ends 3 s later (no drift)
    allowed, headers = quota.hit(key, None)
    assert allowed and headers["x-rate-limit-reset"] == "1006" and headers["x-rate-limit-remaining"] == "1"
    now[0] = 1010.4  # a quiet spell: the next window opens at the whole second of its first request
    assert quota.hit(key, None)[1]["x-rate-limit-reset"] == "1013"
    assert quota.peek(("global_reads", "token"))["x-rate-limit-reset"] == str(1010 + 900)


def test_a_client_waiting_for_the_announced_reset_loses_no_time(api: Any, emu: Any) -> None:
    emu.admin.set_rate_limits({"writes": {"limit": 1, "window": 2}})
    _at_start_of_a_second()
    first = api.put("line_items/8v7jo", name="w0")
    reset = int(first.headers["x-rate-limit-reset"])
    refused = api.put("line_items/8v7jo", name="too soon")
    assert refused.status_code == 429 and int(refused.headers["x-rate-limit-reset"]) == reset
    for n in range(1, 3):  # each send at the announced reset opens a window ending exactly 2 s later
        time.sleep(max(0.0, reset - time.time()) + 0.01)
        sent = api.put("line_items/8v7jo", name=f"w{n}")
        assert sent.status_code == 200
        assert int(sent.headers["x-rate-limit-reset"]) == reset + 2
        reset += 2
