"""A reset starts a new generation: requests that began before it are neither applied nor logged after it."""

from __future__ import annotations

import threading
import time
from typing import Any

import pytest
import requests

from .conftest import LINE_ITEM, Api


def _abandon(api: Api, method: str, path: str, **params: Any) -> None:
    """Send a request and give up on it before the emulator answers (a client timeout)."""
    with pytest.raises(requests.Timeout):
        api.session.request(method, api.url(path), params=params, timeout=0.2)


def _names(emu: Any) -> list[str]:
    return [li["name"] for li in emu.admin.state("line_items")["line_items"] if li["campaign_id"] == "8slvg"]


def test_an_abandoned_write_does_not_land_after_a_reset(api: Api, emu: Any) -> None:
    emu.admin.set_faults({"script": [{"kind": "latency", "seconds": 0.8}], "match": {"method": "POST"}})
    _abandon(api, "POST", "line_items", **LINE_ITEM, name="from the previous test")
    assert emu.admin.health()["in_flight"] == 1
    generation = emu.admin.health()["generation"]
    emu.admin.reset()
    assert emu.admin.health()["generation"] == generation + 1
    # The next test starts: one call of its own while the abandoned one is still sleeping.
    assert api.get("line_items/8v7jo").status_code == 200
    emu.admin.wait_idle()
    assert _names(emu) == []  # not written after the reset
    log = emu.admin.requests()
    assert [(r["method"], r["path"], r["seq"]) for r in log] == [
        ("GET", "/12/accounts/18ce54d4x5t/line_items/8v7jo", 1)
    ]
    assert emu.admin.state()["faults"]["injected"] == {}


def test_a_request_straddling_a_reset_is_refused_unapplied(emu: Any) -> None:
    """A client still waiting gets a 503 that says so (a retry would be a request of the new generation)."""
    emu.admin.set_faults({"script": [{"kind": "latency", "seconds": 0.5}], "match": {"method": "POST"}})
    api = Api(emu.base_url)
    answer: list[requests.Response] = []
    sender = threading.Thread(target=lambda: answer.append(api.post("line_items", **LINE_ITEM, name="x")))
    sender.start()
    try:
        deadline = time.monotonic() + 5
        while emu.admin.health()["in_flight"] == 0 and time.monotonic() < deadline:
            time.sleep(0.01)
        emu.admin.reset()
    finally:
        sender.join(10)
        api.close()
    assert answer[0].status_code == 503
    assert answer[0].json()["errors"][0]["code"] == "SERVICE_UNAVAILABLE"
    assert "reset" in answer[0].json()["errors"][0]["message"]
    assert _names(emu) == [] and emu.admin.requests() == []


def test_wait_idle_times_out_while_a_request_is_in_flight(api: Api, emu: Any) -> None:
    emu.admin.set_faults({"script": [{"kind": "latency", "seconds": 0.6}]})
    _abandon(api, "GET", "line_items/8v7jo")
    with pytest.raises(TimeoutError, match="1 emulator request"):
        emu.admin.wait_idle(timeout=0.05)
    emu.admin.wait_idle()
    assert emu.admin.requests()[-1]["fault"] == "latency"  # no reset: it belongs to this generation


def test_a_write_abandoned_during_latency_is_still_applied(api: Api, emu: Any) -> None:
    """Without a reset, a client's timeout does not stop the server: the write is ambiguous, as for real."""
    emu.admin.set_faults({"script": [{"kind": "latency", "seconds": 0.5}], "match": {"method": "POST"}})
    _abandon(api, "POST", "line_items", **LINE_ITEM, name="late")
    emu.admin.wait_idle()
    assert _names(emu) == ["late"]
    assert [(r["status"], r["fault"]) for r in emu.admin.requests()] == [(200, "latency")]
