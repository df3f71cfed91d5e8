"""The one condition evaluator shared by the sensor and the trigger."""

from __future__ import annotations

import json

import pytest

from airflow_provider_twads.api.errors import AdsApiValidationError
from airflow_provider_twads.condition import Condition, evaluate


def pt(i, approval="PENDING", status="ACTIVE", deleted=False):
    return {"id": i, "approval_status": approval, "entity_status": status, "deleted": deleted}


def test_all_accepted():
    cond = Condition(approval_status="ACCEPTED")
    waiting = evaluate([pt("a", "ACCEPTED"), pt("b")], cond)
    assert (waiting.done, waiting.failed, waiting.pending_ids) == (False, False, ["b"])
    assert "1 of 2 not yet matching (b)" in waiting.message
    done = evaluate([pt("a", "ACCEPTED"), pt("b", "ACCEPTED")], cond)
    assert done.done and done.matched_ids == ["a", "b"]


def test_nothing_listed_is_not_done():
    result = evaluate([], Condition(approval_status="ACCEPTED"))
    assert not result.done and not result.failed
    assert "at least one entity" in result.message


def test_rejected_fails_fast_naming_ids():
    result = evaluate(
        [pt("a", "ACCEPTED"), pt("b", "REJECTED"), pt("c", "REJECTED")], Condition(approval_status="ACCEPTED")
    )
    assert result.failed and not result.done
    assert result.failed_ids == ["b", "c"]
    assert "b REJECTED, c REJECTED" in result.message


def test_deleted_fails_fast_or_is_ignored():
    entities = [pt("a", status="ACTIVE"), pt("b", status="PAUSED", deleted=True)]
    failed = evaluate(entities, Condition(entity_status="ACTIVE"))
    assert failed.failed and failed.failed_ids == ["b"] and "b deleted" in failed.message
    ignored = evaluate(entities, Condition(entity_status="ACTIVE", fail_on_deleted=False))
    assert ignored.done and ignored.matched_ids == ["a"]


def test_entity_status_reached():
    cond = Condition(entity_status="ACTIVE")
    assert not evaluate([{"id": "c1", "entity_status": "DRAFT"}], cond).done
    assert evaluate([{"id": "c1", "entity_status": "ACTIVE"}], cond).matched_ids == ["c1"]


def test_min_count():
    cond = Condition(approval_status="ACCEPTED", min_count=2)
    assert not evaluate([pt("a", "ACCEPTED"), pt("b"), pt("c")], cond).done
    result = evaluate([pt("a", "ACCEPTED"), pt("b"), pt("c", "ACCEPTED")], cond)
    assert result.done and result.matched_ids == ["a", "c"] and result.pending_ids == ["b"]
    # no status: "at least N entities are listed"
    assert evaluate([{"id": str(i)} for i in range(3)], Condition(min_count=3)).done
    assert not evaluate([{"id": str(i)} for i in range(2)], Condition(min_count=3)).done


def test_round_trips_through_json():
    cond = Condition(approval_status="ACCEPTED", min_count=3, fail_on_deleted=False)
    assert Condition.from_dict(json.loads(json.dumps(cond.to_dict()))) == cond


@pytest.mark.parametrize(
    ("kwargs", "parameter"),
    [
        ({"approval_status": "APPROVED"}, "approval_status"),
        ({"entity_status": "RUNNING"}, "entity_status"),
        ({"min_count": 0}, "min_count"),
        ({"min_count": "3"}, "min_count"),
    ],
)
def test_invalid_conditions(kwargs, parameter):
    with pytest.raises(AdsApiValidationError) as err:
        Condition(**kwargs)
    assert err.value.parameter == parameter
