"""AdsCursorSensor against the emulator: every page on each poke, conditions, terminal failures, deferral."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from airflow.providers.common.compat.sdk import AirflowFailException, AirflowSensorTimeout, TaskDeferred

from airflow_provider_twads.api.errors import AdsApiValidationError
from airflow_provider_twads.sensors.cursor import AdsCursorSensor
from airflow_provider_twads.triggers.cursor import AdsCursorTrigger
from twads_emulator import SEED

LINE_ITEM = SEED["line_item_id"]
TWEETS = [str(1_600_000_000_000_000_000 + i) for i in range(7)]


@pytest.fixture
def promoted(emu: Any, client: Any) -> list[dict[str, Any]]:
    """Seven promoted Tweets on the seeded line item, PENDING until the test decides."""
    emu.admin.set_approval({"mode": "manual"})
    return client.create_promoted_tweets(LINE_ITEM, TWEETS)


def list_gets(emu: Any, since: int = 0) -> list[dict[str, Any]]:
    return [r for r in emu.admin.requests() if r["seq"] > since and r["method"] == "GET"]


def last_seq(emu: Any) -> int:
    return max((r["seq"] for r in emu.admin.requests()), default=0)


def approval_sensor(**kwargs: Any) -> AdsCursorSensor:
    return AdsCursorSensor(
        task_id="wait",
        resource="promoted_tweets",
        filters={"line_item_ids": LINE_ITEM},
        approval_status="ACCEPTED",
        page_size=2,
        **kwargs,
    )


def test_poke_reads_every_page_and_returns_the_matched_ids(emu, promoted):
    sensor = approval_sensor()
    start = last_seq(emu)
    waiting = sensor.poke({})
    assert not waiting.is_done
    pages = list_gets(emu, start)
    assert len(pages) >= 4 and all(p["query"]["count"] == "2" for p in pages)  # 7+ entities, 2 per page
    assert "cursor" in pages[-1]["query"]

    emu.admin.set_approval({"status": "ACCEPTED"})
    done = sensor.poke({})
    assert done.is_done
    assert set(done.xcom_value) >= {pt["id"] for pt in promoted}


def test_one_pending_entity_on_the_last_page_keeps_waiting(emu, promoted):
    emu.admin.set_approval({"status": "ACCEPTED", "tweets": {TWEETS[-1]: "PENDING"}})
    assert not approval_sensor().poke({}).is_done


def test_min_count(emu, promoted):
    emu.admin.set_approval({"status": "PENDING", "tweets": {TWEETS[0]: "ACCEPTED", TWEETS[1]: "ACCEPTED"}})
    assert approval_sensor(min_count=2).poke({}).is_done
    assert not approval_sensor(min_count=3).poke({}).is_done


def test_rejected_fails_fast_naming_the_ids(emu, promoted):
    emu.admin.set_approval({"status": "ACCEPTED", "tweets": {TWEETS[3]: "REJECTED"}})
    rejected = next(pt["id"] for pt in promoted if pt["tweet_id"] == TWEETS[3])
    with pytest.raises(AirflowFailException, match=f"{rejected} REJECTED"):
        approval_sensor().poke({})


def test_draft_campaign_activated_in_the_ads_ui(emu):
    sensor = AdsCursorSensor(
        task_id="wait",
        resource="campaigns",
        filters={"campaign_ids": [SEED["draft_campaign_id"]]},
        entity_status="ACTIVE",
    )
    assert not sensor.poke({}).is_done
    emu.admin.activate("campaigns", SEED["draft_campaign_id"])
    assert sensor.poke({}).xcom_value == [SEED["draft_campaign_id"]]


def test_deleted_named_entity_fails_fast(emu, client):
    line_item = client.create_line_item(
        campaign_id=SEED["empty_campaign_id"],
        objective="ENGAGEMENTS",
        product_type="PROMOTED_TWEETS",
        placements=["ALL_ON_TWITTER"],
        bid_strategy="AUTO",
        name="doomed",
    )["id"]
    sensor = AdsCursorSensor(
        task_id="wait", resource="line_items", filters={"line_item_ids": [line_item]}, entity_status="ACTIVE"
    )
    client.delete_line_item(line_item)
    with pytest.raises(AirflowFailException, match=f"{line_item} deleted"):
        sensor.poke({})


@pytest.mark.parametrize(
    ("kwargs", "parameter"),
    [
        ({"resource": "tweets"}, "resource"),
        ({"approval_status": "APPROVED"}, "approval_status"),
        ({"page_size": 5000}, "page_size"),
        ({"filters": {"cursor": "x"}}, "filters.cursor"),
        ({"resource": "targeting_criteria", "filters": {}}, "filters.line_item_ids"),
        ({"page_size": "abc"}, "page_size"),
        ({"page_size": ""}, "page_size"),
        ({"page_size": "1e3"}, "page_size"),
        ({"page_size": 2.5}, "page_size"),
        ({"page_size": True}, "page_size"),
        ({"page_size": None}, "page_size"),
        ({"min_count": "abc"}, "min_count"),
        ({"min_count": "1.5"}, "min_count"),
        ({"min_count": 2.5}, "min_count"),
        ({"min_count": "-3"}, "min_count"),
        ({"min_count": 0}, "min_count"),
        ({"min_count": "\x00"}, "min_count"),
        ({"min_count": [2]}, "min_count"),
        ({"min_count": "+-5"}, "min_count"),
    ],
)
def test_bad_input_makes_no_http_call(emu, kwargs, parameter):
    sensor = AdsCursorSensor(task_id="wait", **{"resource": "promoted_tweets", **kwargs})
    with pytest.raises(AdsApiValidationError) as err:
        sensor.poke({})
    assert err.value.parameter == parameter
    assert emu.admin.requests() == []


@pytest.mark.parametrize(
    ("kwargs", "expected"),
    [
        ({"min_count": "2", "page_size": "2"}, (2, 2)),  # rendered from a template
        ({"min_count": " 2 ", "page_size": 2.0}, (2, 2)),
        ({"min_count": None, "page_size": 1000}, (None, 1000)),
        ({"min_count": "None", "page_size": "1000"}, (None, 1000)),  # a template rendering None
        ({"min_count": "", "page_size": 1}, (None, 1)),
    ],
)
def test_numbers_from_templates_are_read_exactly(kwargs, expected):
    sensor = AdsCursorSensor(task_id="wait", resource="promoted_tweets", **kwargs)
    condition, _filters = sensor._validated()
    assert (condition.min_count, sensor._page_size()) == expected


def test_deferrable_checks_once_before_deferring(emu, promoted):
    emu.admin.set_approval({"status": "ACCEPTED"})
    result = approval_sensor(deferrable=True).execute({})  # no TaskDeferred: done at the first check
    assert set(result) >= {pt["id"] for pt in promoted}


def run_trigger(trigger: AdsCursorTrigger) -> dict[str, Any]:
    async def first_event() -> dict[str, Any]:
        async for event in trigger.run():
            return event.payload
        raise AssertionError("the trigger yielded nothing")

    return asyncio.run(first_event())


def test_deferrable_end_to_end_through_the_trigger(emu, promoted):
    sensor = approval_sensor(deferrable=True, poke_interval=0.05, timeout=30)
    with pytest.raises(TaskDeferred) as deferred:
        sensor.execute({})
    trigger = deferred.value.trigger
    assert deferred.value.method_name == "execute_complete"
    assert isinstance(trigger, AdsCursorTrigger)
    emu.admin.set_approval({"status": "ACCEPTED", "after_seconds": 0.3})  # decided while the trigger polls
    start = last_seq(emu)
    event = run_trigger(trigger)
    assert event["status"] == "success"
    assert len(list_gets(emu, start)) >= 8  # at least two full polls of 4+ pages
    assert set(sensor.execute_complete({}, event)) >= {pt["id"] for pt in promoted}


def test_execute_complete_validates_the_event():
    sensor = approval_sensor(deferrable=True)
    with pytest.raises(AirflowFailException, match="REJECTED"):
        sensor.execute_complete(
            {}, {"status": "failure", "message": "x REJECTED", "matched_ids": [], "failed_ids": ["x"]}
        )
    with pytest.raises(AirflowSensorTimeout):
        sensor.execute_complete(
            {}, {"status": "timeout", "message": "t", "matched_ids": [], "failed_ids": []}
        )
    for bad in (None, {"status": "weird"}, {"status": "success", "matched_ids": "abc"}):
        with pytest.raises(Exception, match="Invalid event"):
            sensor.execute_complete({}, bad)


def test_id_filters_accept_a_rendered_xcom_list(emu, promoted):
    sensor = AdsCursorSensor(
        task_id="wait",
        resource="promoted_tweets",
        filters={"line_item_ids": [f"['{LINE_ITEM}']"]},
        min_count=7,
    )
    assert sensor.poke({}).is_done
    assert {r["query"]["line_item_ids"] for r in list_gets(emu)} == {LINE_ITEM}


class _FirstTry:
    """What reschedule mode asks of the task instance (Airflow's DB keeps the first reschedule date)."""

    def get_first_reschedule_date(self, context: Any) -> None:
        return None


def test_reschedule_mode_frees_the_slot_until_the_condition_holds(emu, promoted):
    try:
        from airflow.sdk.exceptions import AirflowRescheduleException
    except ImportError:  # Airflow 3.0, 3.1 (not in common-compat)
        from airflow.exceptions import AirflowRescheduleException  # type: ignore[no-redef]

    sensor = approval_sensor(mode="reschedule", poke_interval=30)
    with pytest.raises(AirflowRescheduleException) as rescheduled:
        sensor.execute({"ti": _FirstTry()})
    assert rescheduled.value.reschedule_date is not None

    emu.admin.set_approval({"status": "ACCEPTED"})
    matched = sensor.execute({"ti": _FirstTry()})
    assert set(matched) >= {pt["id"] for pt in promoted}
