"""BatchTargetingOperator on the emulator: chunking, add/replace, rules before writes, partial failures."""

from __future__ import annotations

import collections
from typing import Any

import pytest

from airflow_provider_twads.api.errors import AdsApiValidationError
from airflow_provider_twads.operators.line_items import CreateLineItemOperator
from airflow_provider_twads.operators.targeting import BatchTargetingOperator
from airflow_provider_twads.reconcile import PartialApplyError
from twads_emulator import SEED

LOCATION = {"targeting_type": "LOCATION", "targeting_value": "96683cc9126741d1"}


@pytest.fixture
def line_items(emu, execute) -> list[str]:
    op = CreateLineItemOperator(
        task_id="create",
        campaign_id=SEED["empty_campaign_id"],
        objective="ENGAGEMENTS",
        bid_strategy="AUTO",
        line_items=[{"name": "li-a"}, {"name": "li-b"}],
    )
    return execute(op)


def keywords(n: int) -> list[dict[str, str]]:
    return [{"targeting_type": "BROAD_KEYWORD", "targeting_value": f"kw{i:04d}"} for i in range(n)]


def live(emu: Any, line_item_ids: list[str]) -> collections.Counter:
    return collections.Counter(
        (c["line_item_id"], c["targeting_type"], c["targeting_value"], c["operator_type"])
        for c in emu.admin.state()["targeting_criteria"]
        if c["line_item_id"] in line_item_ids and not c["deleted"]
    )


def batch_posts(emu: Any, since: int = 0) -> list[dict[str, Any]]:
    return [
        r
        for r in emu.admin.requests()
        if r["seq"] > since and r["method"] == "POST" and "batch" in r["path"] and "targeting" in r["path"]
    ]


def last_seq(emu: Any) -> int:
    return max((r["seq"] for r in emu.admin.requests()), default=0)


def test_add_chunks_by_500_and_a_rerun_converges(emu, execute, line_items, capsys):
    op = BatchTargetingOperator(task_id="t", line_item_ids=line_items, criteria=keywords(251))
    start = last_seq(emu)
    summary = execute(op)
    assert (len(summary["created"]), summary["deleted"], summary["unchanged"]) == (502, [], [])
    assert len(batch_posts(emu, start)) == 2  # 500 + 2
    counts = live(emu, line_items)
    assert len(counts) == 502 and max(counts.values()) == 1
    out = capsys.readouterr().out
    assert "Targeting batch 1 of 2 applied: 500 of 502 operations" in out
    assert "Targeting batch 2 of 2 applied: 502 of 502 operations" in out

    start = last_seq(emu)
    again = execute(op)
    assert (again["created"], again["deleted"], sorted(again["unchanged"])) == (
        [],
        [],
        sorted(summary["created"]),
    )
    assert batch_posts(emu, start) == []


def test_replace_makes_the_set_exact_swapping_the_age_bucket(emu, execute, line_items):
    first = [LOCATION, {"targeting_type": "AGE", "targeting_value": "AGE_18_TO_24"}, *keywords(3)]
    execute(BatchTargetingOperator(task_id="t", line_item_ids=line_items[0], criteria=first))
    wanted = [LOCATION, {"targeting_type": "AGE", "targeting_value": "AGE_25_TO_34"}, *keywords(2)[1:]]
    summary = execute(
        BatchTargetingOperator(task_id="t", line_item_ids=line_items[0], criteria=wanted, mode="replace")
    )
    assert (len(summary["created"]), len(summary["deleted"]), len(summary["unchanged"])) == (1, 3, 2)
    assert set(live(emu, line_items)) == {
        (line_items[0], "LOCATION", "96683cc9126741d1", "EQ"),
        (line_items[0], "AGE", "AGE_25_TO_34", "EQ"),
        (line_items[0], "BROAD_KEYWORD", "kw0001", "EQ"),
    }


def test_tv_show_with_its_location_in_the_same_call(emu, execute, line_items):
    criteria = [{"targeting_type": "TV_SHOW", "targeting_value": "10000000031"}, LOCATION]
    summary = execute(BatchTargetingOperator(task_id="t", line_item_ids=line_items, criteria=criteria))
    assert len(summary["created"]) == 4


@pytest.mark.parametrize(
    ("criteria", "mode", "fragment"),
    [
        (
            [
                {"targeting_type": "AGE", "targeting_value": "AGE_18_TO_24"},
                {"targeting_type": "AGE", "targeting_value": "AGE_25_TO_34"},
            ],
            "add",
            "only one AGE bucket",
        ),
        (
            [{"targeting_type": "APP_LIST", "targeting_value": "abc", "operator_type": "EQ"}],
            "add",
            "operator_type=NE",
        ),
        (
            [{"targeting_type": "TV_SHOW", "targeting_value": "10000000031"}],
            "replace",
            "needs at least one LOCATION",
        ),
        ([{"targeting_type": "INTERESTS", "targeting_value": "1"}], "add", "allowed"),
        ([LOCATION], "merge", "allowed: add, replace"),
    ],
)
def test_rules_checked_from_the_request_alone_make_no_http_call(emu, execute, criteria, mode, fragment):
    op = BatchTargetingOperator(task_id="t", line_item_ids=["abc12"], criteria=criteria, mode=mode)
    with pytest.raises(AdsApiValidationError, match=fragment):
        execute(op)
    assert emu.admin.requests() == []


def test_rules_that_depend_on_existing_criteria_fail_before_any_write(emu, execute, line_items):
    execute(
        BatchTargetingOperator(
            task_id="t",
            line_item_ids=line_items,
            criteria=[{"targeting_type": "AGE", "targeting_value": "AGE_18_TO_24"}],
        )
    )
    start = last_seq(emu)
    with pytest.raises(AdsApiValidationError, match="only one AGE bucket") as err:
        execute(
            BatchTargetingOperator(
                task_id="t",
                line_item_ids=line_items,
                criteria=[{"targeting_type": "AGE", "targeting_value": "AGE_35_TO_49"}],
            )
        )
    assert "mode='replace'" in str(err.value)
    with pytest.raises(AdsApiValidationError, match="needs at least one LOCATION"):
        execute(
            BatchTargetingOperator(
                task_id="t",
                line_item_ids=line_items,
                criteria=[{"targeting_type": "TV_SHOW", "targeting_value": "1"}],
            )
        )
    assert [r["method"] for r in emu.admin.requests() if r["seq"] > start] == ["GET", "GET"]


def test_commit_then_drop_mid_batch_converges_in_the_same_run(emu, execute, line_items):
    emu.admin.set_faults(
        {"script": ["none", "commit_then_drop"], "match": {"method": "POST", "path": "batch/.*targeting"}}
    )
    op = BatchTargetingOperator(task_id="t", line_item_ids=line_items, criteria=keywords(6), chunk_size=5)
    summary = execute(op)
    counts = live(emu, line_items)
    assert len(counts) == 12 and max(counts.values()) == 1
    assert len(summary["created"]) == 12 and summary["unchanged"] == []
    assert [r["fault"] for r in batch_posts(emu)] == [None, "commit_then_drop", None]


def test_partial_failure_says_what_was_applied_and_a_rerun_completes(emu, execute, line_items):
    # chunk 1 applied; then every attempt at the rest fails with a 500 (maybe applied: looked up each time)
    emu.admin.set_faults(
        {"script": ["none", "500", "500", "500"], "match": {"method": "POST", "path": "batch/.*targeting"}}
    )
    op = BatchTargetingOperator(task_id="t", line_item_ids=line_items, criteria=keywords(6), chunk_size=5)
    with pytest.raises(PartialApplyError) as err:
        execute(op)
    assert "created 5" in str(err.value) and "Re-run the task" in str(err.value)
    assert len(err.value.applied["created"]) == 5
    assert sum(live(emu, line_items).values()) == 5

    summary = execute(op)
    assert (len(summary["created"]), len(summary["unchanged"])) == (7, 5)
    counts = live(emu, line_items)
    assert len(counts) == 12 and max(counts.values()) == 1
