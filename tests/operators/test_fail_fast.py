"""Deterministic errors fail the task at once on every Airflow 3; the others stay retryable.

Airflow retries any exception except ``AirflowFailException``; the operators raise an error that no retry
can fix (bad input, a settings mismatch, credentials, an unknown account, a missing account feature, a
draft) as both itself and ``AirflowFailException``. A 404 or a plain 400 may be another writer's doing
(an entity its rollback deleted, a criterion it added meanwhile): a retry reconciles those.
"""

from __future__ import annotations

import pickle
from typing import Any

import pytest
from airflow.providers.common.compat.sdk import AirflowFailException

from airflow_provider_twads.api.config import RetryPolicy
from airflow_provider_twads.api.errors import (
    AdsApiValidationError,
    BadRequestError,
    ForbiddenError,
    NotFoundError,
    ServerError,
)
from airflow_provider_twads.common import fail_fast_on_deterministic_errors
from airflow_provider_twads.hooks.ads_api import AdsApiHook
from airflow_provider_twads.operators.line_items import CreateLineItemOperator, UpdateLineItemOperator
from airflow_provider_twads.reconcile import PartialApplyError, SettingsMismatchError
from twads_emulator import SEED

CAMPAIGN = SEED["campaign_id"]


def _create(**overrides: Any) -> CreateLineItemOperator:
    params: dict[str, Any] = {
        "task_id": "create",
        "campaign_id": CAMPAIGN,
        "name": "fail-fast",
        "objective": "ENGAGEMENTS",
        "placements": ["ALL_ON_TWITTER"],
        "bid_strategy": "AUTO",
        "start_time": "2030-01-01T00:00:00Z",
    }
    return CreateLineItemOperator(**(params | overrides))


def test_bad_input_fails_without_retry_and_stays_what_it_is(emu: Any, execute: Any) -> None:
    with pytest.raises(AdsApiValidationError) as info:
        execute(_create(objective="NOT_AN_OBJECTIVE"))
    assert isinstance(info.value, AirflowFailException)
    assert "objective" in str(info.value)
    assert emu.admin.requests() == []  # refused before any request


def test_an_unknown_account_fails_without_retry(emu: Any, execute: Any) -> None:
    with pytest.raises(ForbiddenError) as info:
        execute(_create(account_id="nosuchaccount"))
    assert isinstance(info.value, AirflowFailException)
    assert "ACCOUNT_NOT_FOUND" in str(info.value)


def test_an_entity_gone_stays_retryable(emu: Any, execute: Any) -> None:
    # Another run's rollback may have deleted it: the retry reconciles (finds or recreates by name).
    with pytest.raises(NotFoundError) as info:
        execute(_create(campaign_id="nosuchcampaign"))
    assert not isinstance(info.value, AirflowFailException)


def test_a_settings_mismatch_fails_without_retry_and_pickles_as_itself(emu: Any, execute: Any) -> None:
    execute(_create())
    with pytest.raises(SettingsMismatchError) as info:
        execute(_create(bid_strategy="MAX", bid_amount_local_micro=2_000_000))
    assert isinstance(info.value, AirflowFailException)
    copy = pickle.loads(pickle.dumps(info.value))
    assert type(copy) is SettingsMismatchError and str(copy) == str(info.value)


def test_a_transient_failure_stays_retryable(emu: Any, execute: Any) -> None:
    line_item = execute(_create())
    emu.admin.set_faults({"rules": [{"kind": "500", "probability": 1.0, "method": "PUT"}]})
    op = UpdateLineItemOperator(task_id="activate", line_item_id=line_item, entity_status="ACTIVE")
    op.__dict__["hook"] = AdsApiHook(retry=RetryPolicy(max_attempts=1, max_total_wait=0.0))
    with pytest.raises(ServerError) as info:
        execute(op)
    assert not isinstance(info.value, AirflowFailException)


def test_a_partial_apply_is_as_deterministic_as_what_stopped_it() -> None:

    @fail_fast_on_deterministic_errors
    def stopped_by(cause: Exception) -> None:
        raise PartialApplyError("1 of 2 chunks applied", applied={"created": ["a"]}) from cause

    with pytest.raises(PartialApplyError) as refused:
        stopped_by(ForbiddenError("Account not found", status=403, codes=["ACCOUNT_NOT_FOUND"]))
    assert isinstance(refused.value, AirflowFailException)
    with pytest.raises(PartialApplyError) as transient:
        stopped_by(ServerError("Internal error", status=500))
    assert not isinstance(transient.value, AirflowFailException)
    with pytest.raises(PartialApplyError) as raced:  # e.g. a second AGE bucket another writer just added
        stopped_by(BadRequestError("one AGE bucket per line item", status=400, codes=["INVALID_PARAMETER"]))
    assert not isinstance(raced.value, AirflowFailException)
