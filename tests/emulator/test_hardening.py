"""The emulator as a dev server on a developer's machine: what a web page, a rebinding DNS name or a slow or
greedy client must not get from it. Real HTTP, and raw sockets where a client library would be too polite."""

from __future__ import annotations

import contextlib
import json
import socket
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests

from twads_emulator import EmulatorServer
from twads_emulator.cli import build_parser
from twads_emulator.guard import HEAD_TIMEOUT, KEEP_ALIVE_TIMEOUT, MAX_BODY_BYTES

from .conftest import Api


def _connect(emu: Any) -> socket.socket:
    return socket.create_connection(("127.0.0.1", emu.port), timeout=10)


def _exchange(emu: Any, raw: bytes) -> tuple[int, bytes]:
    """Send ``raw`` on a new connection; (status, body) of the answer, read until the server closes."""
    with _connect(emu) as sock:
        sock.sendall(raw)
        data = _read_to_close(sock)
    head, _, body = data.partition(b"\r\n\r\n")
    return int(head.split(b" ", 2)[1]), body


def _read_to_close(sock: socket.socket, timeout: float = 10) -> bytes:
    sock.settimeout(timeout)
    chunks = []
    with contextlib.suppress(ConnectionResetError):  # closed with unread data of ours: a reset
        while chunk := sock.recv(65536):
            chunks.append(chunk)
    return b"".join(chunks)


def _generation(emu: Any) -> int:
    return int(emu.admin.health()["generation"])


# ---- the admin API against web pages ---------------------------------------------------------------------
def test_admin_writes_from_another_origin_are_refused(emu: Any) -> None:
    before = _generation(emu)
    url = f"{emu.base_url}/_emulator/reset"
    refused = requests.post(url, json={}, headers={"Origin": "https://evil.example"}, timeout=10)
    assert refused.status_code == 403 and refused.json()["key"] == "Origin"
    assert requests.post(url, json={}, headers={"Origin": "null"}, timeout=10).status_code == 403
    assert _generation(emu) == before
    # The server's own origin (the emulator's page, were it to serve one) and no origin (curl, Python) pass.
    assert requests.post(url, json={}, headers={"Origin": emu.base_url}, timeout=10).status_code == 200
    assert requests.post(url, json={}, timeout=10).status_code == 200
    assert _generation(emu) == before + 2


@pytest.mark.parametrize(
    ("content_type", "body"),
    [("text/plain", b"{}"), ("application/x-www-form-urlencoded", b"a=b"), ("multipart/form-data; b=x", b""),
     (None, b"{}")],
)  # fmt: skip
def test_admin_writes_that_are_not_json_are_refused(emu: Any, content_type: str | None, body: bytes) -> None:
    """What an HTML form or a "simple" fetch() can send cross-origin without a preflight."""
    before = _generation(emu)
    headers = {"Content-Type": content_type} if content_type else {}
    session = requests.Session()
    request = requests.Request("POST", f"{emu.base_url}/_emulator/reset", data=body, headers=headers)
    prepared = session.prepare_request(request)
    if content_type is None:
        prepared.headers.pop("Content-Type", None)
    refused = session.send(prepared, timeout=10)
    assert refused.status_code == 415 and refused.json()["key"] == "Content-Type"
    assert _generation(emu) == before
    faults = requests.put(f"{emu.base_url}/_emulator/faults", data=b"rules=x", timeout=10,
                          headers={"Content-Type": "text/plain"})  # fmt: skip
    assert faults.status_code == 415 and emu.admin.state()["faults"]["config"] == {}


def test_a_bodiless_admin_write_needs_no_content_type(emu: Any) -> None:
    before = _generation(emu)
    status, _ = _exchange(emu, f"POST /_emulator/reset HTTP/1.1\r\nHost: 127.0.0.1:{emu.port}\r\n"
                               "Content-Length: 0\r\nConnection: close\r\n\r\n".encode())  # fmt: skip
    assert status == 200 and _generation(emu) == before + 1


# ---- Host names (DNS rebinding) ---------------------------------------------------------------------------
@pytest.mark.parametrize("path", ["/_emulator/health", "/12/accounts", "/_emulator/reset"])
def test_other_host_names_get_421(emu: Any, path: str) -> None:
    method = "POST" if path.endswith("reset") else "GET"
    before = _generation(emu)
    status, body = _exchange(emu, f"{method} {path} HTTP/1.1\r\nHost: rebind.evil.example:{emu.port}\r\n"
                                  "Content-Length: 0\r\n\r\n".encode())  # fmt: skip
    assert status == 421 and b"rebind.evil.example" in body
    assert _generation(emu) == before


@pytest.mark.parametrize("host", ["127.0.0.1", "localhost", "LOCALHOST.", "[::1]"])
def test_loopback_names_are_answered(emu: Any, host: str) -> None:
    status, body = _exchange(emu, f"GET /_emulator/health HTTP/1.1\r\nHost: {host}:{emu.port}\r\n"
                                  "Connection: close\r\n\r\n".encode())  # fmt: skip
    assert status == 200 and json.loads(body)["ok"] is True


def test_more_host_names_can_be_allowed() -> None:
    with EmulatorServer(port=0, allowed_hosts=["dev.test"]) as emu:
        for host, status in (("dev.test", 200), ("other.test", 421)):
            got, _ = _exchange(emu, f"GET /_emulator/health HTTP/1.1\r\nHost: {host}\r\n"
                                    "Connection: close\r\n\r\n".encode())  # fmt: skip
            assert got == status, host
    with EmulatorServer(port=0, allowed_hosts=("*",)) as emu:
        got, _ = _exchange(
            emu, b"GET /_emulator/health HTTP/1.1\r\nHost: any.test\r\nConnection: close\r\n\r\n"
        )
        assert got == 200
    assert build_parser().parse_args(
        ["--allowed-host", "a.test", "--allowed-host", "b.test"]
    ).allowed_host == [
        "a.test",
        "b.test",
    ]
    with pytest.raises(ValueError, match="allowed_hosts"):
        EmulatorServer(port=0, allowed_hosts="dev.test")  # type: ignore[arg-type]  # a str is not a list


# ---- body size --------------------------------------------------------------------------------------------
def _rss_mb() -> float:
    statm = Path("/proc/self/statm")
    return int(statm.read_text().split()[1]) * 4096 / 2**20


def test_a_declared_oversize_body_is_refused_unread(emu: Any) -> None:
    api = Api(emu.base_url)
    try:
        ops = [{"operation_type": "Create", "params": {"line_item_id": "8v7jo", "targeting_type": "LANGUAGE",
                "targeting_value": "x" * 1000}}] * (MAX_BODY_BYTES // 1000)  # fmt: skip
        response = api.batch("targeting_criteria", ops)
        assert response.status_code == 413 and response.json()["errors"][0]["code"] == "REQUEST_TOO_LARGE"
    finally:
        api.close()
    # 50 MB announced, none of it sent: the answer comes at once.
    with _connect(emu) as sock:
        sock.sendall(f"POST /12/batch/accounts/18ce54d4x5t/targeting_criteria HTTP/1.1\r\n"
                     f"Host: 127.0.0.1:{emu.port}\r\nContent-Type: application/json\r\n"
                     f"Content-Length: {50 * 2**20}\r\n\r\n".encode())  # fmt: skip
        answer = _read_to_close(sock, timeout=5)
    assert answer.startswith(b"HTTP/1.1 413 ")


@pytest.mark.skipif(not Path("/proc/self/statm").exists(), reason="RSS is read from /proc")
def test_a_streamed_oversize_body_is_cut_off(emu: Any) -> None:
    """50 MB sent chunked (no Content-Length): the server answers 413 and closes once it has read 1 MiB,
    and its memory does not grow by the body (the server runs in this process)."""
    rss_before = _rss_mb()
    sent = 0
    chunk = b"%x\r\n%s\r\n" % (65536, b"[" * 65536)
    with _connect(emu) as sock:
        sock.sendall(f"POST /12/batch/accounts/18ce54d4x5t/targeting_criteria HTTP/1.1\r\n"
                     f"Host: 127.0.0.1:{emu.port}\r\nContent-Type: application/json\r\n"
                     "Transfer-Encoding: chunked\r\n\r\n".encode())  # fmt: skip
        try:
            while sent < 50 * 2**20:
                sock.sendall(chunk)
                sent += 65536
        except OSError:  # the server closed the connection: the rest is never sent
            pass
        answer = _read_to_close(sock, timeout=5)
    assert sent < 50 * 2**20, "the server read a 50 MB body to the end"
    assert answer == b"" or answer.startswith(b"HTTP/1.1 413 ")
    assert _rss_mb() - rss_before < 20
    assert emu.admin.health()["ok"] is True


# ---- slow and idle connections ----------------------------------------------------------------------------
def test_half_sent_idle_and_silent_connections_are_closed_in_time(emu: Any) -> None:
    """The documented timeouts on the session's emulator: a head must be complete HEAD_TIMEOUT seconds
    after its first byte (or after the connection opens), an idle keep-alive connection lasts
    KEEP_ALIVE_TIMEOUT seconds."""
    opened = time.monotonic()
    half = [_connect(emu) for _ in range(20)]
    for sock in half:
        sock.sendall(f"GET /12/accounts HTTP/1.1\r\nHost: 127.0.0.1:{emu.port}\r\nX-Slow: ".encode())
    silent = _connect(emu)
    idle = _connect(emu)
    idle.sendall(f"GET /_emulator/health HTTP/1.1\r\nHost: 127.0.0.1:{emu.port}\r\n\r\n".encode())
    idle.settimeout(10)
    assert idle.recv(65536).startswith(b"HTTP/1.1 200 ")
    limit = max(HEAD_TIMEOUT, KEEP_ALIVE_TIMEOUT) + 2
    for sock in [*half, silent, idle]:
        with sock:
            rest = _read_to_close(sock, timeout=limit)
            assert time.monotonic() - opened < limit
            assert rest == b"" or rest.startswith(b"HTTP/1.1 408 ")
    assert time.monotonic() - opened >= min(HEAD_TIMEOUT, KEEP_ALIVE_TIMEOUT) - 0.5


@pytest.fixture
def quick() -> Iterator[EmulatorServer]:
    """An emulator with short head and body timeouts."""
    with EmulatorServer(port=0, head_timeout=1.0, body_timeout=1.0) as emu:
        yield emu


def test_a_trickled_head_does_not_restart_the_clock(quick: EmulatorServer) -> None:
    with _connect(quick) as sock:
        started = time.monotonic()
        sock.sendall(b"GET /_emulator/health HTTP/1.1\r\n")
        sock.settimeout(0.1)
        answer = None
        while answer is None and time.monotonic() - started < 5:
            try:
                sock.sendall(b"X")  # one header byte every 0.1 s: a head that would never end
                answer = sock.recv(65536)  # b"" once closed, or the 408
            except TimeoutError:
                continue
            except OSError:
                answer = b""
    assert answer == b"" or (answer or b"").startswith(b"HTTP/1.1 408 ")
    assert time.monotonic() - started < 2.5


def test_a_half_sent_body_times_out_with_408(quick: EmulatorServer) -> None:
    with _connect(quick) as sock:
        started = time.monotonic()
        sock.sendall(f"PUT /_emulator/faults HTTP/1.1\r\nHost: 127.0.0.1:{quick.port}\r\n"
                     "Content-Type: application/json\r\nContent-Length: 100\r\n\r\n{".encode())  # fmt: skip
        answer = _read_to_close(sock, timeout=5)
    assert answer.startswith(b"HTTP/1.1 408 ") and time.monotonic() - started < 2.5
    assert quick.admin.health()["ok"] is True


def test_an_oversize_head_is_refused(emu: Any) -> None:
    with _connect(emu) as sock:
        with contextlib.suppress(OSError):
            sock.sendall(
                b"GET /_emulator/health HTTP/1.1\r\nHost: 127.0.0.1\r\n" + b"X-Big: " + b"a" * 200_000
            )
        answer = _read_to_close(sock, timeout=5)
    assert answer == b"" or answer.split(b" ", 2)[1] in (b"431", b"400")
