"""The emulator's synchronous analytics: exact numbers, activity windows, the reference's refusals."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from twads_emulator import SEED
from twads_emulator.stats import hourly

LI = SEED["line_item_id"]  # ACTIVE since 2017
START = datetime(2024, 5, 1, 7, tzinfo=UTC)  # midnight in the account's zone (America/Los_Angeles)


def q(**kwargs: Any) -> dict[str, Any]:
    return {
        "entity": "LINE_ITEM",
        "entity_ids": LI,
        "start_time": "2024-05-01T07:00:00Z",
        "end_time": "2024-05-01T10:00:00Z",
        "granularity": "HOUR",
        "metric_groups": "ENGAGEMENT,BILLING",
        "placement": "ALL_ON_TWITTER",
    } | kwargs


def metrics(body: dict[str, Any], index: int = 0) -> dict[str, Any]:
    return dict(body["data"][index]["id_data"][0]["metrics"])


def now_hour() -> datetime:
    return datetime.now(UTC).replace(minute=0, second=0, microsecond=0)


def test_hourly_numbers_are_deterministic_and_in_the_reference_shape(api: Any) -> None:
    r = api.get("/12/stats/accounts/" + SEED["account_id"], **q())
    assert r.status_code == 200
    body = r.json()
    assert body["data_type"] == "stats" and body["time_series_length"] == 3
    expected = [hourly(LI, "ALL_ON_TWITTER", START + timedelta(hours=h))["impressions"] for h in range(3)]
    assert metrics(body)["impressions"] == expected
    assert metrics(body)["tweets_send"] is None
    assert (
        body["request"]["params"]["entity_ids"] == [LI]
        and body["request"]["params"]["segmentation_type"] is None
    )
    assert r.headers["x-rate-limit-limit"] == "250"  # analytics: 250 per 15 minutes per user


def test_day_and_total_add_up_the_hours(api: Any) -> None:
    path = "/12/stats/accounts/" + SEED["account_id"]
    hours = api.get(path, **q(end_time="2024-05-03T07:00:00Z")).json()
    days = api.get(path, **q(end_time="2024-05-03T07:00:00Z", granularity="DAY")).json()
    total = api.get(path, **q(end_time="2024-05-03T07:00:00Z", granularity="TOTAL")).json()
    series = metrics(hours)["billed_charge_local_micro"]
    assert metrics(days)["billed_charge_local_micro"] == [sum(series[:24]), sum(series[24:])]
    assert metrics(total)["billed_charge_local_micro"] == [sum(series)]


def test_nothing_before_activation_then_numbers(api: Any, emu: Any) -> None:
    new = emu.admin.seed_line_items(SEED["campaign_id"], 1, entity_status="PAUSED")["first_id"]
    start, end = now_hour() - timedelta(hours=2), now_hour() + timedelta(hours=1)
    window = {"entity_ids": new, "start_time": start.isoformat(), "end_time": end.isoformat()}
    path = "/12/stats/accounts/" + SEED["account_id"]
    assert metrics(api.get(path, **q(**window)).json())["impressions"] is None
    emu.admin.activate("line_items", new)
    impressions = metrics(api.get(path, **q(**window)).json())["impressions"]
    assert impressions == [0, 0, hourly(new, "ALL_ON_TWITTER", now_hour())["impressions"]]
    emu.admin.activate("line_items", new, "PAUSED")  # paused: its history stays
    assert metrics(api.get(path, **q(**window)).json())["impressions"] == impressions
    active = api.get(path + "/active_entities", entity="LINE_ITEM", line_item_ids=new,
                     start_time=start.isoformat(), end_time=end.isoformat()).json()  # fmt: skip
    assert [row["entity_id"] for row in active["data"]] == [new]


def test_campaigns_sum_their_line_items(api: Any) -> None:
    path = "/12/stats/accounts/" + SEED["account_id"]
    campaign = metrics(api.get(path, **q(entity="CAMPAIGN", entity_ids=SEED["campaign_id"])).json())
    times = {"start_time": "2024-05-01T07:00:00Z", "end_time": "2024-05-01T10:00:00Z"}
    active = api.get(path + "/active_entities", entity="LINE_ITEM", campaign_ids=SEED["campaign_id"], **times)
    line_items = active.json()["data"]
    ids = [row["entity_id"] for row in line_items]
    assert LI in ids
    per_item = [metrics(api.get(path, **q(entity_ids=i)).json())["impressions"] for i in ids]
    assert campaign["impressions"] == [sum(col) for col in zip(*per_item, strict=True)]


@pytest.mark.parametrize(
    ("params", "status", "code", "parameter"),
    [
        ({"entity_ids": ",".join(f"a{i}" for i in range(21))}, 400, "INVALID_PARAMETER", "entity_ids"),
        ({"start_time": "2024-05-01T07:30:00Z"}, 400, "INVALID_TIME_WINDOW", "start_time"),
        ({"end_time": "2024-05-08T08:00:00Z"}, 400, "INVALID_TIME_WINDOW", "end_time"),
        ({"end_time": "2024-05-01T07:00:00Z"}, 400, "INVALID_TIME_WINDOW", "end_time"),
        ({"granularity": "DAY"}, 400, "INVALID_TIME_WINDOW", "start_time"),
        ({"placement": "ALL_ON_TWITTER,TREND"}, 400, "INVALID_PARAMETER", "placement"),
        ({"placement": "TIMELINE"}, 400, "INVALID_PARAMETER", "placement"),
        ({"granularity": None}, 400, "MISSING_PARAMETER", "granularity"),
        ({"metric_groups": "CLICKS"}, 400, "INVALID_PARAMETER", "metric_groups"),
        ({"segmentation_type": "AGE"}, 400, "INVALID_PARAMETER", "segmentation_type"),
    ],
)
def test_refusals(api: Any, params: dict[str, Any], status: int, code: str, parameter: str) -> None:
    query = {k: v for k, v in q(**params).items() if v is not None}
    r = api.get("/12/stats/accounts/" + SEED["account_id"], **query)
    assert r.status_code == status
    assert r.json()["errors"][0]["code"] == code and r.json()["errors"][0]["parameter"] == parameter


def test_active_entities_filters_are_exclusive_and_the_range_is_limited(api: Any) -> None:
    path = "/12/stats/accounts/" + SEED["account_id"] + "/active_entities"
    times = {"start_time": "2024-05-01T07:00:00Z", "end_time": "2024-05-01T08:00:00Z"}
    r = api.get(path, entity="LINE_ITEM", campaign_ids="a", line_item_ids="b", **times)
    assert r.status_code == 400 and r.json()["errors"][0]["code"] == "EXCLUSIVE_PARAMETERS"
    r = api.get(path, entity="LINE_ITEM", start_time="2024-01-01T00:00:00Z", end_time="2024-05-01T00:00:00Z")
    assert r.status_code == 400 and r.json()["errors"][0]["code"] == "INVALID_TIME_WINDOW"


def test_faults_and_rate_limits_apply(api: Any, emu: Any) -> None:
    emu.admin.set_faults({"script": ["503"], "match": {"path": "/stats/"}})
    path = "/12/stats/accounts/" + SEED["account_id"]
    assert api.get(path, **q()).status_code == 503
    assert api.get(path, **q()).status_code == 200
    emu.admin.set_rate_limits({"analytics": 1})
    assert api.get(path + "/active_entities", entity="LINE_ITEM", start_time=q()["start_time"],
                   end_time=q()["end_time"]).status_code == 200  # fmt: skip
    r = api.get(path, **q())
    assert r.status_code == 429 and r.headers["x-rate-limit-remaining"] == "0"
