"""Fault injection, seen by a real HTTP client: statuses, latency and dropped connections."""

from __future__ import annotations

import time
from typing import Any

import pytest
import requests

from .conftest import LINE_ITEM, error_codes


def _line_item_names(emu: Any) -> list[str]:
    return [li["name"] for li in emu.admin.state("line_items")["line_items"] if li["campaign_id"] == "8slvg"]


@pytest.mark.parametrize(
    "kind,status,code",
    [("503", 503, "SERVICE_UNAVAILABLE"), ("500", 500, "INTERNAL_ERROR"), ("429", 429, "TOO_MANY_REQUESTS")],
)
def test_status_faults_are_not_applied(api: Any, emu: Any, kind: str, status: int, code: str) -> None:
    fault: dict[str, Any] = {"kind": kind, "retry_after": 2} if kind != "500" else {"kind": kind}
    emu.admin.set_faults({"script": [fault], "match": {"method": "POST"}})
    response = api.post("line_items", **LINE_ITEM, name="faulty")
    assert response.status_code == status and error_codes(response) == [code]
    if kind == "503":
        assert response.headers["retry-after"] == "2"
    if kind == "429":
        assert response.headers["x-rate-limit-remaining"] == "0"
    assert _line_item_names(emu) == []
    assert api.post("line_items", **LINE_ITEM, name="ok").status_code == 200  # the script is used up
    assert emu.admin.state()["faults"]["injected"] == {kind: 1}
    assert [r["fault"] for r in emu.admin.requests()] == [kind, None]


def test_html_error_body(api: Any, emu: Any) -> None:
    emu.admin.set_faults({"script": [{"kind": "503", "html": True}]})
    response = api.get("line_items")
    assert response.status_code == 503 and response.headers["content-type"].startswith("text/html")


def test_drop_before_processing_writes_nothing(api: Any, emu: Any) -> None:
    emu.admin.set_faults({"script": ["drop"], "match": {"method": "POST", "path": "/line_items$"}})
    with pytest.raises(requests.ConnectionError):
        api.post("line_items", **LINE_ITEM, name="dropped")
    assert _line_item_names(emu) == []
    log = emu.admin.requests()
    assert (log[-1]["status"], log[-1]["fault"]) == (None, "drop")


def test_commit_then_drop_applies_the_write(api: Any, emu: Any) -> None:
    emu.admin.set_faults({"script": ["commit_then_drop"], "match": {"method": "POST"}})
    with pytest.raises(requests.ConnectionError):
        api.post("line_items", **LINE_ITEM, name="committed")
    assert _line_item_names(emu) == ["committed"]
    # The same session goes on working on a new connection.
    assert api.get("line_items", campaign_ids="8slvg").json()["data"][0]["name"] == "committed"


def test_commit_then_drop_on_a_batch(api: Any, emu: Any) -> None:
    emu.admin.set_faults({"script": ["commit_then_drop"]})
    ops = [{"operation_type": "Create", "params": {**LINE_ITEM, "name": n}} for n in ("a", "b")]
    with pytest.raises(requests.ConnectionError):
        api.batch("line_items", ops)
    assert _line_item_names(emu) == ["a", "b"]


def test_latency(api: Any, emu: Any) -> None:
    emu.admin.set_faults({"script": [{"kind": "latency", "seconds": 0.3}]})
    started = time.monotonic()
    assert api.get("line_items/8v7jo").status_code == 200
    assert time.monotonic() - started >= 0.3
    assert emu.admin.requests()[-1]["fault"] == "latency"


def test_probabilities_are_reproducible_under_a_seed(api: Any, emu: Any) -> None:
    config = {"seed": 42, "rules": [{"kind": "503", "probability": 0.5, "method": "GET"}]}

    def run() -> list[int]:
        emu.admin.set_faults(config)
        return [api.get("line_items/8v7jo").status_code for _ in range(20)]

    first, second = run(), run()
    assert first == second and {200, 503} == set(first)
    assert api.put("line_items/8v7jo", name="x").status_code == 200  # PUT does not match the rule


def test_bad_fault_configuration_is_refused(emu: Any) -> None:
    with pytest.raises(RuntimeError, match="unknown fault kind"):
        emu.admin.set_faults({"script": ["explode"]})
    with pytest.raises(RuntimeError, match="probability"):
        emu.admin.set_faults({"rules": [{"kind": "500", "probability": 2}]})
