"""What the emulator's fast paths must not change: rules across a batch (read once per batch, kept up to
date per operation) and cursors that continue after the last row seen."""

from __future__ import annotations

from typing import Any

from .conftest import LINE_ITEM


def _op(kind: str, **params: str) -> dict[str, Any]:
    return {"operation_type": kind, "params": params}


def _new_line_item(api: Any) -> str:
    return str(api.post("line_items", **LINE_ITEM).json()["data"]["id"])


def test_a_batch_sees_its_own_earlier_operations(api: Any) -> None:
    line_item = _new_line_item(api)
    age = _op("Create", line_item_id=line_item, targeting_type="AGE", targeting_value="AGE_18_TO_24")
    location = _op(
        "Create", line_item_id=line_item, targeting_type="LOCATION", targeting_value="96683cc9126741d1"
    )
    tv_show = _op("Create", line_item_id=line_item, targeting_type="TV_SHOW", targeting_value="10000")
    # TV_SHOW after a LOCATION created earlier in the same batch is fine; a second AGE is not.
    created = api.batch("targeting_criteria", [age, location, tv_show])
    assert created.status_code == 200, created.text
    age_id = next(c["id"] for c in created.json()["data"] if c["targeting_type"] == "AGE")
    second_age = {**age, "params": {**age["params"], "targeting_value": "AGE_25_TO_34"}}
    refused = api.batch("targeting_criteria", [second_age])
    assert refused.status_code == 400 and refused.json()["operation_errors"][0]
    # Deleting the AGE bucket earlier in a batch frees the slot for a later operation of that batch.
    swapped = api.batch("targeting_criteria", [_op("Delete", targeting_criterion_id=age_id), second_age])
    assert swapped.status_code == 200, swapped.text
    live = api.get("targeting_criteria", line_item_ids=line_item).json()["data"]
    assert sorted(c["targeting_value"] for c in live if c["targeting_type"] == "AGE") == ["AGE_25_TO_34"]


def test_a_cursor_continues_after_the_last_row_even_if_earlier_rows_go(api: Any, emu: Any) -> None:
    emu.admin.seed_line_items("8slvg", 250)
    first = api.get("line_items", campaign_ids="8slvg", count="100").json()
    seen = [li["id"] for li in first["data"]]
    # Deleting a row already seen must not make the next page skip an unseen one.
    assert api.delete(f"line_items/{seen[0]}").status_code == 200
    cursor = first["next_cursor"]
    while cursor:
        page = api.get("line_items", campaign_ids="8slvg", count="100", cursor=cursor).json()
        seen += [li["id"] for li in page["data"]]
        cursor = page["next_cursor"]
    assert len(seen) == len(set(seen)) == 250


def test_a_sorted_listing_pages_by_offset(api: Any, emu: Any) -> None:
    emu.admin.seed_line_items("8slvg", 30)
    names: list[str] = []
    cursor = None
    while True:
        extra = {"cursor": cursor} if cursor else {}
        page = api.get("line_items", campaign_ids="8slvg", count="7", sort_by="name-desc", **extra).json()
        names += [li["name"] for li in page["data"]]
        if not (cursor := page["next_cursor"]):
            break
    assert names == sorted(names, reverse=True) and len(set(names)) == 30
