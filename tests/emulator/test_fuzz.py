"""Whatever a client sends, the emulator answers with an envelope and never a 500 (property-based)."""

from __future__ import annotations

from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from .conftest import LINE_ITEM

_KEYS = [*LINE_ITEM, "bid_strategy", "bid_type", "automatically_select_bid", "start_time", "end_time"]
_KEYS += ["name", "count", "cursor", "sort_by", "with_deleted", "with_total_count", "frequency_cap", "junk"]
_VALUES = st.one_of(
    st.sampled_from(
        ["", "true", "0", "-1", "9" * 30, "ALL_ON_TWITTER", "8slvg", "2030-01-01", "MAX", "AUTO"]
    ),
    st.text(max_size=40),
)
_JSON_VALUES = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.floats(allow_nan=False, allow_infinity=False),
    _VALUES,
    st.lists(_VALUES, max_size=3),
    st.dictionaries(st.text(max_size=5), _VALUES, max_size=2),
)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    params=st.dictionaries(st.sampled_from(_KEYS), _VALUES, max_size=8),
    method=st.sampled_from(["GET", "POST"]),
)
def test_query_parameters_never_crash(api: Any, params: dict[str, str], method: str) -> None:
    response = api.request(method, "line_items", **params)
    assert response.status_code in (200, 400, 404), response.text
    body = response.json()
    assert "request" in body and ("data" in body or body["errors"][0]["code"])


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(ops=st.lists(st.one_of(_JSON_VALUES, st.fixed_dictionaries(
    {"operation_type": st.sampled_from(["Create", "Update", "Delete", "Nope"]),
     "params": st.dictionaries(st.sampled_from(_KEYS), _JSON_VALUES, max_size=6)})), max_size=4))  # fmt: skip
def test_batch_bodies_never_crash(api: Any, emu: Any, ops: list[Any]) -> None:
    response = api.batch("line_items", ops)
    assert response.status_code in (200, 400), response.text
    assert all(r["status"] != 500 for r in emu.admin.requests())
