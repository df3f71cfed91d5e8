"""PauseOverspendingLineItemsOperator against the emulator: thresholds, batches, idempotent re-runs."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from airflow_provider_twads.api.errors import AdsApiValidationError
from airflow_provider_twads.operators.delivery import PauseOverspendingLineItemsOperator
from twads_emulator import SEED
from twads_emulator.stats import hourly

LI = SEED["line_item_id"]  # ACTIVE since 2017


def hour(hours_ago: int = 0) -> datetime:
    return datetime.now(UTC).replace(minute=0, second=0, microsecond=0) - timedelta(hours=hours_ago)


def spend(entity_id: str, start: datetime) -> int:
    hours = int((hour() - start) / timedelta(hours=1)) + 1
    metric = "billed_charge_local_micro"
    return sum(hourly(entity_id, "ALL_ON_TWITTER", start + timedelta(hours=h))[metric] for h in range(hours))


def op(**kwargs: Any) -> PauseOverspendingLineItemsOperator:
    return PauseOverspendingLineItemsOperator(task_id="pause", start_time=hour(3), **kwargs)


def status(client: Any, line_item_id: str) -> str:
    return str(client.get_line_item(line_item_id)["entity_status"])


def test_pauses_over_spend_and_a_rerun_pauses_nothing_new(emu: Any, client: Any, execute: Any) -> None:
    fresh = str(emu.admin.seed_line_items(SEED["campaign_id"], 1, entity_status="PAUSED")["first_id"])
    emu.admin.activate("line_items", fresh)  # serving from this hour only: far less spend
    limit = spend(LI, hour(3))
    assert spend(fresh, hour()) < limit
    result = execute(op(line_item_ids=[LI, fresh], max_spend_local_micro=limit))
    assert result == {"paused": [LI], "already_paused": []}
    assert status(client, LI) == "PAUSED" and status(client, fresh) == "ACTIVE"
    # Pausing keeps the history: the re-run still sees the spend, and pauses nothing new.
    assert execute(op(line_item_ids=[LI, fresh], max_spend_local_micro=limit)) == {
        "paused": [],
        "already_paused": [LI],
    }


def test_cost_per_result_by_campaign(emu: Any, client: Any, execute: Any) -> None:
    # A cost per engagement is at most a few thousand dollars in micros: every serving line item crosses 1.
    result = execute(op(campaign_ids=SEED["campaign_id"], max_cost_per_result_local_micro=1))
    assert LI in result["paused"]
    assert status(client, LI) == "PAUSED"
    batches = [
        r
        for r in emu.admin.requests()
        if r["path"].endswith("/batch/accounts/" + SEED["account_id"] + "/line_items")
    ]
    assert batches  # paused in batches, not one PUT each


def test_nothing_over_the_threshold_pauses_nothing(emu: Any, client: Any, execute: Any) -> None:
    assert execute(op(line_item_ids=LI, max_spend_local_micro=10**15)) == {"paused": [], "already_paused": []}
    assert status(client, LI) == "ACTIVE"


@pytest.mark.parametrize(
    "kwargs",
    [
        {"line_item_ids": LI},  # no threshold
        {"max_spend_local_micro": 1},  # no line items
        {"line_item_ids": LI, "campaign_ids": "x", "max_spend_local_micro": 1},
        {"line_item_ids": LI, "max_spend_local_micro": "-1"},
        {"line_item_ids": LI, "max_spend_local_micro": 1, "result_metric": "smiles"},
    ],
)
def test_invalid_arguments_are_refused_before_any_call(
    emu: Any, execute: Any, kwargs: dict[str, Any]
) -> None:
    with pytest.raises(AdsApiValidationError):
        execute(op(**kwargs))
    assert not emu.admin.requests()
