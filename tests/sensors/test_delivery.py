"""AdsDeliverySensor and its trigger against the emulator: thresholds over stats, deadlines, deferral."""

from __future__ import annotations

import asyncio
import time
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from airflow.providers.common.compat.sdk import AirflowException, AirflowFailException, TaskDeferred

from airflow_provider_twads.api.errors import AdsApiValidationError
from airflow_provider_twads.delivery import DeliveryCondition, Threshold, judge
from airflow_provider_twads.sensors.delivery import AdsDeliverySensor
from airflow_provider_twads.triggers.delivery import AdsDeliveryTrigger
from twads_emulator import SEED
from twads_emulator.stats import hourly

LI = SEED["line_item_id"]  # ACTIVE since 2017


def hour(hours_ago: int = 0) -> datetime:
    return datetime.now(UTC).replace(minute=0, second=0, microsecond=0) - timedelta(hours=hours_ago)


def expected(entity_id: str, metric: str, start: datetime) -> int:
    hours = int((hour() - start) / timedelta(hours=1)) + 1  # up to and including the current hour
    return sum(hourly(entity_id, "ALL_ON_TWITTER", start + timedelta(hours=h))[metric] for h in range(hours))


@pytest.fixture
def paused(emu: Any) -> str:
    """A line item created PAUSED just now: it has not served."""
    return str(emu.admin.seed_line_items(SEED["campaign_id"], 1, entity_status="PAUSED")["first_id"])


def sensor(**kwargs: Any) -> AdsDeliverySensor:
    return AdsDeliverySensor(task_id="deliver", poke_interval=0.05, **kwargs)


def first_event(t: AdsDeliveryTrigger) -> dict[str, Any]:
    async def run() -> dict[str, Any]:
        async for event in t.run():
            return dict(event.payload)
        raise AssertionError("no event")

    return asyncio.run(run())


def test_poke_sums_the_metric_since_the_start(emu: Any) -> None:
    start = hour(5)
    result = sensor(entity_ids=LI, start_time=start.isoformat()).poke({})
    assert result.is_done
    assert result.xcom_value == {LI: expected(LI, "impressions", start)}


def test_default_start_is_the_data_interval_start(emu: Any) -> None:
    start = hour(2)
    result = sensor(entity_ids=[LI], metric="spend", op=">=", value=1).poke({"data_interval_start": start})
    assert result.xcom_value == {LI: expected(LI, "billed_charge_local_micro", start)}


def test_waits_until_activation_then_delivers(emu: Any, paused: str) -> None:
    s = sensor(entity_ids=[LI, paused], start_time=hour(1).isoformat(), within_hours=48)
    assert not s.poke({}).is_done  # the new line item has not served
    emu.admin.activate("line_items", paused)
    done = s.poke({})
    assert done.is_done and done.xcom_value[paused] == expected(paused, "impressions", hour())


def test_sum_over_entities(emu: Any, paused: str) -> None:
    start = hour(3)
    total = expected(LI, "impressions", start)
    assert sensor(entity_ids=[LI, paused], each=False, value=total - 1, start_time=start).poke({}).is_done
    assert not sensor(entity_ids=[LI, paused], each=False, value=total, start_time=start).poke({}).is_done


def test_deadline_passed_fails_with_a_readable_message(emu: Any, paused: str) -> None:
    with pytest.raises(AirflowFailException) as err:
        sensor(entity_ids=[LI, paused], start_time=hour(3), within_hours=1).poke({})
    message = str(err.value)
    assert "Deadline" in message and "impressions > 0" in message and f"{paused}: no activity" in message
    assert LI not in message.split("not meeting it:")[1]


@pytest.mark.parametrize(
    ("kwargs", "parameter"),
    [
        ({"metric": "spendd"}, "metric"),
        ({"op": "=="}, "op"),
        ({"value": "lots"}, "value"),
        ({"entity_ids": []}, "entity_ids"),
    ],
)
def test_invalid_arguments_are_refused_before_any_call(
    emu: Any, kwargs: dict[str, Any], parameter: str
) -> None:
    args = {"entity_ids": [LI], **kwargs}
    with pytest.raises(AdsApiValidationError) as err:
        sensor(**args).poke({})
    assert err.value.parameter == parameter
    assert not [r for r in emu.admin.requests() if "/stats/" in r["path"]]


def test_deferrable_checks_once_then_defers(emu: Any, paused: str) -> None:
    done = sensor(entity_ids=LI, start_time=hour(1), deferrable=True).execute({})
    assert done == {LI: expected(LI, "impressions", hour(1))}  # met at once: no deferral

    s = sensor(entity_ids=paused, start_time=hour(1), within_hours=24, deferrable=True, timeout=60)
    with pytest.raises(TaskDeferred) as deferred:
        s.execute({})
    trigger = deferred.value.trigger
    assert isinstance(trigger, AdsDeliveryTrigger)
    path, kwargs = trigger.serialize()
    assert path == "airflow_provider_twads.triggers.delivery.AdsDeliveryTrigger"
    emu.admin.activate("line_items", paused)
    event = first_event(AdsDeliveryTrigger(**{**kwargs, "poll_interval": 0.05}))
    assert event["status"] == "success"
    assert s.execute_complete({}, event) == {paused: expected(paused, "impressions", hour())}


def test_trigger_reports_a_passed_deadline_and_the_sensor_fails(emu: Any, paused: str) -> None:
    condition = DeliveryCondition((paused,), Threshold(), hour(3).strftime("%Y-%m-%dT%H:%M:%SZ"),
                                  deadline=hour(2).strftime("%Y-%m-%dT%H:%M:%SZ"))  # fmt: skip
    event = first_event(
        AdsDeliveryTrigger(condition.to_dict(), poll_interval=0.05, end_time=time.time() + 30)
    )
    assert event["status"] == "failure" and paused in event["message"]
    with pytest.raises(AirflowFailException):
        sensor(entity_ids=paused).execute_complete({}, event)


def test_trigger_times_out_and_api_errors_are_error_events(emu: Any, paused: str) -> None:
    condition = DeliveryCondition((paused,), Threshold(), hour(1).strftime("%Y-%m-%dT%H:%M:%SZ"))
    assert (
        first_event(AdsDeliveryTrigger(condition.to_dict(), poll_interval=0.05, end_time=time.time() + 0.2))[
            "status"
        ]
        == "timeout"
    )
    other = DeliveryCondition(("x",), Threshold(), "2024-05-01T00:00:00Z")  # on an unknown account: 403
    assert (
        first_event(
            AdsDeliveryTrigger(
                other.to_dict(), account_id="nope1", poll_interval=0.05, end_time=time.time() + 5
            )
        )["status"]
        == "error"
    )


def test_execute_complete_refuses_a_malformed_event() -> None:
    with pytest.raises(AirflowException, match="Invalid event"):
        sensor(entity_ids=LI).execute_complete({}, {"status": "success", "values": {"a": "1"}})


def test_judge_without_a_deadline_keeps_waiting() -> None:
    cond = DeliveryCondition(("a", "b"), Threshold("spend", ">=", 10), "2024-05-01T00:00:00Z")
    result = judge(cond, {"a": {"billed_charge_local_micro": 12}}, datetime.now(UTC))
    assert not result.done and not result.expired and "b: no activity" in result.message


def test_delivery_triggers_of_one_connection_share_the_triggerers_client(emu: Any, paused: str) -> None:
    """Like the cursor triggers: one client per connection and triggerer, closed by the last to leave."""
    from airflow_provider_twads.delivery import DeliveryCondition, Threshold
    from airflow_provider_twads.triggers._shared import registry

    condition = DeliveryCondition(
        entity_ids=(paused,),  # never serves: the triggers keep polling until cancelled
        threshold=Threshold("impressions", ">", 0),
        start_time=hour(1).strftime("%Y-%m-%dT%H:%M:%SZ"),
    )

    async def run() -> tuple[int, int, Any]:
        triggers = [AdsDeliveryTrigger(condition=condition.to_dict(), poll_interval=0.05) for _ in range(3)]
        tasks = [asyncio.ensure_future(t.run().__anext__()) for t in triggers]
        stats = 0
        while stats < 3:  # every trigger has read once
            await asyncio.sleep(0.05)
            stats = sum(1 for r in emu.admin.requests() if "/stats/accounts/" in r["path"])
        shared = registry()
        (entry,) = shared.clients.values()
        users = entry.users
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        return users, len(shared.clients), entry

    users, clients_left, entry = asyncio.run(run())
    assert users == 3, "one client serves the three triggers"
    assert clients_left == 0 and entry.users == 0 and entry.client._http is None
