"""The one time normaliser: naive means UTC, everything goes out as ``YYYY-MM-DDTHH:MM:SSZ``."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, timezone
from typing import Any

import pendulum
import pytest

from airflow_provider_twads.api import spec
from airflow_provider_twads.api.errors import AdsApiValidationError
from airflow_provider_twads.api.times import to_api_time

CASES: list[tuple[Any, str]] = [
    # aware
    (datetime(2030, 5, 1, 12, 0, tzinfo=timezone(timedelta(hours=-5))), "2030-05-01T17:00:00Z"),
    (datetime(2030, 5, 1, 12, 0, tzinfo=UTC), "2030-05-01T12:00:00Z"),
    (pendulum.datetime(2030, 5, 1, tz="Europe/Paris"), "2030-04-30T22:00:00Z"),
    ("2030-05-01T00:00:00Z", "2030-05-01T00:00:00Z"),
    ("2030-05-01 02:30:00+02:00", "2030-05-01T00:30:00Z"),  # what Jinja renders for a pendulum time
    ("  2030-05-01T00:00:00.999+00:00 ", "2030-05-01T00:00:00Z"),  # seconds precision, stripped
    # naive: UTC
    (datetime(2030, 5, 1, 12, 0, 7, 999), "2030-05-01T12:00:07Z"),
    ("2030-05-01T12:00:00", "2030-05-01T12:00:00Z"),
    ("2030-05-01 12:00", "2030-05-01T12:00:00Z"),
    # dates: midnight UTC
    (date(2030, 5, 1), "2030-05-01T00:00:00Z"),
    ("2030-05-01", "2030-05-01T00:00:00Z"),
]


@pytest.mark.parametrize(("value", "expected"), CASES)
def test_times_are_sent_as_utc_with_naive_ones_taken_as_utc(value: Any, expected: str) -> None:
    assert to_api_time(value) == expected


@pytest.mark.parametrize(("value", "expected"), CASES)
def test_validation_normalises_times_with_the_same_function(value: Any, expected: str) -> None:
    out = spec.validate("line_items.update", {"end_time": value})
    assert out == {"end_time": expected}


@pytest.mark.parametrize("value", [None, "", "   "])
def test_nothing_is_not_a_time(value: Any) -> None:
    assert to_api_time(value) is None


@pytest.mark.parametrize(
    "value",
    [
        "next tuesday",
        "now",  # pendulum would say "the current time": a different start on every retry
        "NOW",
        "12:00",  # a time of day is not a point in time
        "2030-13-01",
        "0001-01-01T00:00:00+05:00",  # before year 1 in UTC
        12345,
        1.5,
        ["2030-05-01"],
        True,
    ],
)
def test_what_is_not_a_time_is_refused_naming_the_parameter(value: Any) -> None:
    with pytest.raises(AdsApiValidationError) as info:
        to_api_time(value, parameter="end_time")
    assert info.value.parameter == "end_time"
    with pytest.raises(AdsApiValidationError) as info:
        spec.validate("line_items.update", {"start_time": value})
    assert info.value.parameter == "start_time"
    assert info.value.operation == "line_items.update"


def test_an_empty_time_given_to_validation_is_sent_empty_to_clear_it() -> None:
    # "" un-sets a field on update (fundamentals/making-authenticated-requests.mdx: ``end_time=``).
    assert spec.validate("line_items.update", {"end_time": "", "start_time": " "}) == {
        "end_time": "",
        "start_time": "",
    }
