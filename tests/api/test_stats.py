"""Synchronous stats and active entities through the client, against the emulator over real HTTP."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from airflow_provider_twads.api.analytics import totals
from airflow_provider_twads.api.errors import AdsApiValidationError
from twads_emulator import SEED
from twads_emulator.stats import hourly

LI = SEED["line_item_id"]  # ACTIVE since 2017: it served every hour of these windows
START = datetime(2024, 5, 1, tzinfo=UTC)


def _stats_requests(emu: Any) -> list[dict[str, Any]]:
    return [r for r in emu.admin.requests() if "/stats/" in r["path"]]


def _expected(entity_id: str, start: datetime, hours: int, metric: str) -> list[int]:
    return [hourly(entity_id, "ALL_ON_TWITTER", start + timedelta(hours=h))[metric] for h in range(hours)]


def test_hourly_series_match_the_emulators_numbers(client: Any, emu: Any) -> None:
    out = client.get_stats(
        "LINE_ITEM", [LI], START, START + timedelta(hours=6), metric_groups=["ENGAGEMENT", "BILLING"],
        granularity="HOUR",
    )  # fmt: skip
    assert out["time_series_length"] == 6
    metrics = out["data"][0]["id_data"][0]["metrics"]
    assert metrics["impressions"] == _expected(LI, START, 6, "impressions")
    assert metrics["billed_charge_local_micro"] == _expected(LI, START, 6, "billed_charge_local_micro")
    assert metrics["poll_card_vote"] is None
    assert totals(out)[LI]["impressions"] == sum(_expected(LI, START, 6, "impressions"))
    (req,) = _stats_requests(emu)
    assert req["query"]["start_time"] == "2024-05-01T00:00:00Z"
    assert req["query"]["placement"] == "ALL_ON_TWITTER"


def test_more_than_20_ids_are_chunked_and_merged_in_order(client: Any, emu: Any) -> None:
    ids = [LI, *(f"nope{i}" for i in range(44))]
    out = client.get_stats(
        "LINE_ITEM", ids, "2024-05-01T00:00:00Z", "2024-05-01T02:00:00Z", metric_groups="ENGAGEMENT"
    )
    assert [row["id"] for row in out["data"]] == ids
    sent = [r["query"]["entity_ids"].split(",") for r in _stats_requests(emu)]
    assert [len(s) for s in sent] == [20, 20, 5]
    assert totals(out)[LI]["impressions"] == sum(_expected(LI, START, 2, "impressions"))
    assert totals(out)["nope3"]["impressions"] is None  # never served: null, as the API answers


def test_more_than_7_days_of_hours_are_split_and_concatenated(client: Any, emu: Any) -> None:
    end = START + timedelta(days=10)
    out = client.get_stats("LINE_ITEM", LI, START, end, metric_groups="ENGAGEMENT", granularity="HOUR")
    assert out["time_series_length"] == 240
    assert out["data"][0]["id_data"][0]["metrics"]["impressions"] == _expected(LI, START, 240, "impressions")
    windows = [(r["query"]["start_time"], r["query"]["end_time"]) for r in _stats_requests(emu)]
    assert windows == [
        ("2024-05-01T00:00:00Z", "2024-05-08T00:00:00Z"),
        ("2024-05-08T00:00:00Z", "2024-05-11T00:00:00Z"),
    ]


def test_days_over_7_days_end_at_the_accounts_midnights(client: Any, emu: Any) -> None:
    # The seeded account is in America/Los_Angeles: midnight is 07:00Z in May.
    start = datetime(2024, 5, 1, 7, tzinfo=UTC)
    out = client.get_stats("LINE_ITEM", LI, start, start + timedelta(days=9), metric_groups="BILLING",
                           granularity="DAY")  # fmt: skip
    assert out["time_series_length"] == 9
    spend = out["data"][0]["id_data"][0]["metrics"]["billed_charge_local_micro"]
    day1 = sum(_expected(LI, start + timedelta(days=1), 24, "billed_charge_local_micro"))
    assert spend[1] == day1
    windows = [r["query"]["end_time"] for r in _stats_requests(emu)]
    assert windows == ["2024-05-08T07:00:00Z", "2024-05-10T07:00:00Z"]


def test_days_across_a_daylight_saving_change_stay_within_7_days(client: Any, emu: Any) -> None:
    start = datetime(2024, 3, 5, 8, tzinfo=UTC)  # midnight PST; DST starts on 10 March
    out = client.get_stats("LINE_ITEM", LI, start, start + timedelta(days=14) - timedelta(hours=1),
                           metric_groups="ENGAGEMENT", granularity="DAY")  # fmt: skip
    assert out["time_series_length"] == 14
    assert all(r["status"] == 200 for r in _stats_requests(emu))


@pytest.mark.parametrize(
    ("kwargs", "parameter"),
    [
        ({"start_time": "2024-05-01T00:30:00Z"}, "start_time"),
        ({"end_time": "2024-05-01T00:00:00Z"}, "end_time"),
        ({"placement": "ALL_ON_TWITTER,SPOTLIGHT"}, "placement"),
        ({"placement": "SOMEWHERE"}, "placement"),
        ({"granularity": "TOTAL", "end_time": "2024-05-09T00:00:00Z"}, "end_time"),
        ({"granularity": "WEEK"}, "granularity"),
        ({"metric_groups": "CLICKS"}, "metric_groups"),
        ({"entity": "AD_GROUP"}, "entity"),
        ({"entity_ids": []}, "entity_ids"),
    ],
)
def test_refused_before_any_call(client: Any, emu: Any, kwargs: dict[str, Any], parameter: str) -> None:
    args: dict[str, Any] = {
        "entity": "LINE_ITEM",
        "entity_ids": [LI],
        "start_time": "2024-05-01T00:00:00Z",
        "end_time": "2024-05-02T00:00:00Z",
        "metric_groups": "ENGAGEMENT",
        "granularity": "HOUR",
    } | kwargs
    with pytest.raises(AdsApiValidationError) as err:
        client.get_stats(
            args.pop("entity"), args.pop("entity_ids"), args.pop("start_time"), args.pop("end_time"), **args
        )
    assert err.value.parameter == parameter
    assert client.stats.calls == 0


def test_the_servers_refusal_is_typed(client: Any) -> None:
    # DAY needs the account's midnights: the client cannot know them without a call, so the API decides.
    from airflow_provider_twads.api.errors import AdsApiError

    with pytest.raises(AdsApiError) as err:
        client.get_stats("LINE_ITEM", LI, START, START + timedelta(days=1), metric_groups="ENGAGEMENT",
                         granularity="DAY")  # fmt: skip
    assert err.value.status == 400
    assert "INVALID_TIME_WINDOW" in str(err.value)


def test_active_entities_and_filters(client: Any) -> None:
    rows = client.active_entities("LINE_ITEM", START, START + timedelta(hours=3), line_item_ids=[LI])
    assert rows == [
        {
            "entity_id": LI,
            "activity_start_time": "2024-05-01T00:00:00Z",
            "activity_end_time": "2024-05-01T03:00:00Z",
            "placements": ["ALL_ON_TWITTER"],
        }
    ]
    campaigns = client.active_entities("CAMPAIGN", START, START + timedelta(hours=3))
    assert SEED["campaign_id"] in [r["entity_id"] for r in campaigns]
    with pytest.raises(AdsApiValidationError):
        client.active_entities(
            "LINE_ITEM", START, START + timedelta(hours=1), line_item_ids=[LI], campaign_ids=["x"]
        )


def test_analytics_pace_from_their_own_rate_limit(make_client: Any, emu: Any) -> None:
    from tests.api.conftest import SleepRecorder

    emu.admin.set_rate_limits({"analytics": {"limit": 2, "window": 2}})
    sleeps = SleepRecorder(cap=3.0)
    c = make_client(sleep=sleeps)
    ids = [f"id{i}" for i in range(60)]  # three requests, one more than the window allows
    c.get_stats("LINE_ITEM", ids, START, START + timedelta(hours=1), metric_groups="ENGAGEMENT")
    assert len(sleeps.waits) == 1  # waited for the reset instead of taking a 429
    # Active entities count in the same window (spent again by the third stats request): it waits too.
    c.get_stats("LINE_ITEM", LI, START, START + timedelta(hours=1), metric_groups="ENGAGEMENT")
    c.active_entities("LINE_ITEM", START, START + timedelta(hours=1))
    assert len(sleeps.waits) == 2
    assert {r["status"] for r in _stats_requests(emu)} == {200}


def test_faults_apply_to_stats(make_client: Any, emu: Any) -> None:
    emu.admin.set_faults({"script": ["503", "500"], "match": {"path": "/stats/"}})
    out = make_client().get_stats(
        "LINE_ITEM", LI, START, START + timedelta(hours=1), metric_groups="ENGAGEMENT"
    )
    assert totals(out)[LI]["impressions"] == _expected(LI, START, 1, "impressions")[0]
    assert [r["fault"] for r in _stats_requests(emu)] == ["503", "500", None]
