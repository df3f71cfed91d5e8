"""The server itself: start/stop, persistence with a database file, bulk seeding, the CLI, keep-alive."""

from __future__ import annotations

import http.client
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest
import requests

from twads_emulator import DEFAULT_CREDENTIALS, SEED, EmulatorServer

from .conftest import LINE_ITEM, Api


def test_state_survives_a_restart_with_a_database_file(tmp_path: Path) -> None:
    db = str(tmp_path / "emulator.db")
    with EmulatorServer(port=0, db_path=db) as first:
        api = Api(first.base_url)
        created = api.post("line_items", **LINE_ITEM, name="kept").json()["data"]["id"]
        api.close()
    with EmulatorServer(port=0, db_path=db) as second:
        api = Api(second.base_url)
        assert api.get(f"line_items/{created}").json()["data"]["name"] == "kept"
        second.admin.reset()
        assert api.get(f"line_items/{created}").status_code == 404
        api.close()


def test_start_failure_cleans_up() -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen(1)
        port = taken.getsockname()[1]
        server = EmulatorServer(port=port)
        with pytest.raises(OSError):
            server.start()
        server.stop()  # safe after a failed start


def test_bulk_seeding_and_state_include_deleted(api: Any, emu: Any) -> None:
    result = emu.admin.seed_line_items("8slvg", 20_000)
    assert result["count"] == 20_000
    body = api.get("line_items", campaign_ids="8slvg", count="1000", with_total_count="true").json()
    assert body["total_count"] == 20_000 and len(body["data"]) == 1000
    assert len({li["id"] for li in body["data"]}) == 1000
    api.delete("line_items/8v7jo")
    state = emu.admin.state("line_items", "campaigns")
    assert set(state) >= {"line_items", "campaigns", "faults", "rate_limits", "features"}
    assert "targeting_criteria" not in state
    deleted = [li for li in state["line_items"] if li["deleted"]]
    assert [li["id"] for li in deleted] == ["8v7jo"]


def test_keep_alive_connection_is_reused(emu: Any) -> None:
    from oauthlib.oauth1 import Client

    c = DEFAULT_CREDENTIALS
    signer = Client(c["consumer_key"], c["consumer_secret"], c["access_token"], c["access_token_secret"])
    conn = http.client.HTTPConnection("127.0.0.1", emu.port, timeout=10)
    try:
        sockets = set()
        for _ in range(5):
            uri, headers, _ = signer.sign(f"{emu.base_url}/12/accounts/{SEED['account_id']}/line_items/8v7jo")
            conn.request("GET", uri.removeprefix(emu.base_url), headers=headers)
            response = conn.getresponse()
            response.read()
            assert response.status == 200
            sockets.add(id(conn.sock))
        assert len(sockets) == 1 and conn.sock is not None  # one connection, kept open
    finally:
        conn.close()


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_cli_prints_credentials_and_serves(tmp_path: Path) -> None:
    port = _free_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "twads_emulator.cli", "--port", str(port),
         "--log-level", "warning", "--rate-limits", '{"writes": 7}'],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )  # fmt: skip
    try:
        deadline = time.monotonic() + 20
        while True:
            try:
                health = requests.get(f"http://127.0.0.1:{port}/_emulator/health", timeout=1)
                break
            except requests.ConnectionError:
                assert proc.poll() is None and time.monotonic() < deadline, "the CLI did not start"
                time.sleep(0.1)
        assert health.json()["ok"] is True
        api = Api(f"http://127.0.0.1:{port}")
        assert api.put("line_items/8v7jo", name="x").headers["x-rate-limit-limit"] == "7"
        api.close()
    finally:
        proc.terminate()
        output, _ = proc.communicate(timeout=10)
    assert DEFAULT_CREDENTIALS["consumer_key"] in output and DEFAULT_CREDENTIALS["access_token"] in output
    assert SEED["account_id"] in output


def test_cli_refuses_bad_json() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "twads_emulator.cli", "--faults", "{nope"],
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert result.returncode == 2 and "not valid JSON" in result.stderr
