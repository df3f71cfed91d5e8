"""Serving the emulator: uvicorn in a background thread (tests, demo) or in the foreground (CLI)."""

from __future__ import annotations

import asyncio
import json
import os
import socket
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Collection
from types import TracebackType
from typing import Any, cast

import uvicorn
from uvicorn.protocols.http.auto import AutoHTTPProtocol

from twads_emulator.app import ConnectionRegistry, Emulator
from twads_emulator.config import LOG_LEVELS, ConfigError, array, choice, number, string
from twads_emulator.guard import (
    BODY_TIMEOUT,
    HEAD_TIMEOUT,
    KEEP_ALIVE_TIMEOUT,
    MAX_HEAD_BYTES,
    Guard,
    allowed_host_names,
)

_HEAD_TIMED_OUT = b"HTTP/1.1 408 Request Timeout\r\nConnection: close\r\nContent-Length: 0\r\n\r\n"
_HEAD_TOO_LARGE = (
    b"HTTP/1.1 431 Request Header Fields Too Large\r\nConnection: close\r\nContent-Length: 0\r\n\r\n"
)


def _protocol_class(registry: ConnectionRegistry, head_timeout: float) -> type[asyncio.Protocol]:
    """uvicorn's HTTP protocol, registering each connection's transport so that a handler can abort it,
    and bounding the time and size of each request's head.

    ASGI gives an application no way to close its connection without answering; the "drop" faults need
    exactly that, so the transport is looked up by the client address that the ASGI scope carries.
    Neither uvicorn parser bounds how long a head may take (a client sending a header byte every few
    seconds holds a connection forever: slowloris), nor, with httptools, how large it may grow; both are
    bounded here, where the bytes arrive.
    """

    class TrackingProtocol(AutoHTTPProtocol):  # type: ignore[misc, valid-type]
        _peer: tuple[str, int] | None = None
        _head_timer: asyncio.TimerHandle | None = None
        _awaiting_head = True  # between requests: the next bytes are a head
        _head_bytes = 0

        def connection_made(self, transport: asyncio.BaseTransport) -> None:
            super().connection_made(transport)
            peer = transport.get_extra_info("peername")
            if peer:
                self._peer = (peer[0], peer[1])
                registry.add(self._peer, transport)
            self._arm()  # a connection that never sends a byte is closed too

        def data_received(self, data: bytes) -> None:
            cycle = self.cycle
            if self._awaiting_head:
                self._head_bytes += len(data)
                if self._head_timer is None:
                    self._arm()
            super().data_received(data)
            if self.cycle is not cycle:  # the parser completed a head: the application has it now
                self._awaiting_head, self._head_bytes = False, 0
                self._disarm()
            elif self._awaiting_head and self._head_bytes > MAX_HEAD_BYTES:
                self._refuse(_HEAD_TOO_LARGE)

        def on_response_complete(self) -> None:
            super().on_response_complete()
            # Idle time is uvicorn's keep-alive timeout; the head clock starts with the next byte.
            self._awaiting_head, self._head_bytes = True, 0
            self._disarm()

        def connection_lost(self, exc: Exception | None) -> None:
            self._disarm()
            if self._peer is not None:
                registry.remove(self._peer)
            super().connection_lost(exc)

        def _arm(self) -> None:
            self._head_timer = asyncio.get_running_loop().call_later(head_timeout, self._head_expired)

        def _disarm(self) -> None:
            if self._head_timer is not None:
                self._head_timer.cancel()
                self._head_timer = None

        def _head_expired(self) -> None:
            self._head_timer = None
            if self._awaiting_head:
                self._refuse(_HEAD_TIMED_OUT if self._head_bytes else b"")

        def _refuse(self, answer: bytes) -> None:
            self._disarm()
            if not self.transport.is_closing():
                if answer:
                    self.transport.write(answer)
                self.transport.close()

    return TrackingProtocol


class AdminError(RuntimeError):
    """An admin call the emulator refused: ``status`` (400 for a configuration it does not understand),
    ``error`` (the message), ``key`` (the offending key) and ``allowed`` (the allowed keys or values)."""

    def __init__(self, method: str, path: str, status: int, detail: str) -> None:
        super().__init__(f"emulator admin {method} {path} failed ({status}): {detail}")
        self.status = status
        try:
            body = json.loads(detail)
        except ValueError:
            body = None
        body = body if isinstance(body, dict) else {}
        self.error: str = body.get("error", detail)
        self.key: str | None = body.get("key")
        self.allowed: list[str] | None = body.get("allowed")


class AdminClient:
    """The admin API (``/_emulator/...``) from Python: no OAuth, plain JSON."""

    def __init__(self, base_url: str, timeout: float = 60.0) -> None:
        self.base_url = base_url.rstrip("/")
        self.timeout = timeout

    def _call(self, method: str, path: str, payload: Any = None, query: dict[str, Any] | None = None) -> Any:
        url = f"{self.base_url}/_emulator/{path}"
        if query:
            url += "?" + urllib.parse.urlencode(query)
        data = None if payload is None else json.dumps(payload).encode()
        request = urllib.request.Request(
            url, data=data, method=method, headers={"Content-Type": "application/json"}
        )
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as response:
                return json.loads(response.read() or b"null")
        except urllib.error.HTTPError as exc:
            raise AdminError(method, path, exc.code, exc.read().decode(errors="replace")) from None

    def health(self) -> dict[str, Any]:
        """``ok``, ``versions``, ``generation`` (resets so far) and ``in_flight`` (API requests being
        served, including ones their client gave up on)."""
        return cast(dict[str, Any], self._call("GET", "health"))

    def wait_idle(self, timeout: float = 10.0) -> None:
        """Wait until no API request is in flight (e.g. one a client abandoned during a latency fault).

        :param timeout: seconds to wait at most.
        :raises TimeoutError: if requests are still in flight after ``timeout`` seconds.
        """
        deadline = time.monotonic() + timeout
        while (busy := self.health()["in_flight"]) and time.monotonic() < deadline:
            time.sleep(0.02)
        if busy:
            raise TimeoutError(f"{busy} emulator request(s) still in flight after {timeout} s")

    def reset(self) -> None:
        """Back to the seeded state; start-up faults, rate limits and approval; empty request log.

        A reset starts a new generation: a request still in flight from before it (one a client gave up
        on during a latency fault, say) is answered 503 without being applied, and is not logged."""
        self._call("POST", "reset", {})

    def state(self, *kinds: str) -> dict[str, Any]:
        """Every entity, deleted ones included, by kind (all kinds unless some are named), plus
        ``features`` by account, ``faults`` (configuration and injected counts) and ``rate_limits``."""
        return cast(
            dict[str, Any], self._call("GET", "state", query={"kinds": ",".join(kinds)} if kinds else None)
        )

    def requests(self, since: int = 0) -> list[dict[str, Any]]:
        """The request log: ``seq``, ``method``, ``path``, ``query`` (no OAuth parameters), ``status``
        (None when no answer was sent: a drop fault, or the client left before its body arrived),
        ``fault`` and ``time``."""
        return cast(
            list[dict[str, Any]], self._call("GET", "requests", query={"since": since} if since else None)
        )

    def set_faults(self, config: dict[str, Any]) -> dict[str, Any]:
        """Replace the fault configuration (see :mod:`twads_emulator.faults`)."""
        return cast(dict[str, Any], self._call("PUT", "faults", config))

    def clear_faults(self) -> dict[str, Any]:
        return cast(dict[str, Any], self._call("DELETE", "faults"))

    def set_rate_limits(self, limits: dict[str, Any]) -> dict[str, Any]:
        """E.g. ``{"writes": {"limit": 3, "window": 60}}``; the named categories' counters restart."""
        return cast(dict[str, Any], self._call("PUT", "rate_limits", limits))

    def set_approval(self, rule: dict[str, Any]) -> None:
        """E.g. ``{"status": "ACCEPTED", "after_seconds": 2, "tweets": {"123": "REJECTED"}}``."""
        self._call("PUT", "approval", rule)

    def activate(self, resource: str, entity_id: str, status: str = "ACTIVE") -> dict[str, Any]:
        """Set an entity's status from outside the API, as the Ads UI does (drafts included)."""
        return cast(
            dict[str, Any],
            self._call("POST", "activate", {"resource": resource, "id": entity_id, "status": status}),
        )

    def set_jobs(self, **config: Any) -> dict[str, Any]:
        """Analytics jobs: ``concurrent_limit`` per account, ``processing_seconds``, ``expiry_seconds``,
        ``fail_jobs`` (job IDs that end FAILED)."""
        return cast(dict[str, Any], self._call("PUT", "jobs", config))

    def set_features(self, account_id: str, features: list[str]) -> list[str]:
        """Replace an account's features (e.g. grant ``QUALIFIED_VIEWS``)."""
        return cast(
            list[str],
            self._call("PUT", "features", {"account_id": account_id, "features": features})["features"],
        )

    def add_funding_instrument(self, account_id: str, **fields: Any) -> dict[str, Any]:
        """Add a funding instrument to an account: ``name``, ``description``, ``type``, ``currency``,
        ``entity_status`` (ACTIVE, PAUSED or CANCELLED; default ACTIVE), ``able_to_fund``. To leave an
        account with no active one, pause the seeded one:
        ``activate("funding_instruments", id, "PAUSED")``."""
        return cast(
            dict[str, Any],
            self._call("POST", "funding_instruments", {"account_id": account_id, "fields": fields}),
        )

    def seed_line_items(self, campaign_id: str, count: int, **overrides: Any) -> dict[str, Any]:
        """Insert ``count`` line items under a campaign in one go (benchmarks; no per-campaign limit)."""
        return cast(
            dict[str, Any],
            self._call(
                "POST",
                "seed/line_items",
                {"campaign_id": campaign_id, "count": count, "overrides": overrides},
            ),
        )


class EmulatorServer:
    """The emulator on a loopback port, served by uvicorn from a background thread.

    ``EmulatorServer(port=0)`` picks a free port; use it as a context manager, or call :meth:`start` and
    :meth:`stop`.
    """

    def __init__(
        self,
        host: str = "127.0.0.1",
        port: int = 0,
        db_path: str | None = None,
        rate_limits: dict[str, Any] | None = None,
        faults: dict[str, Any] | None = None,
        approval: dict[str, Any] | None = None,
        log_level: str = "warning",
        allowed_hosts: Collection[str] | None = None,
        head_timeout: float = HEAD_TIMEOUT,
        body_timeout: float = BODY_TIMEOUT,
    ) -> None:
        """:param host: the interface to listen on.
        :param port: the port; 0 picks a free one.
        :param db_path: an SQLite file that keeps the state across restarts (default: in memory).
        :param rate_limits: category overrides, e.g. ``{"writes": {"limit": 5, "window": 60}}``.
        :param faults: a fault configuration active from the start (and after each reset).
        :param approval: the promoted Tweet approval rule (default: ACCEPTED at once).
        :param log_level: uvicorn's log level (critical, error, warning, info, debug, trace).
        :param allowed_hosts: ``Host`` names answered besides the loopback names and ``host`` (``"*"``:
            any); others get 421 (DNS rebinding).
        :param head_timeout: seconds a client has to send a request's head (line and headers).
        :param body_timeout: seconds a client has to send a request's body once the head has arrived.
        :raises ValueError: for a setting it does not understand (naming it and the allowed values)."""
        if not isinstance(host, str) or not host:
            raise ConfigError(f"host must be a non-empty string; got {host!r}", "host")
        number("port", port, minimum=0, maximum=65535, integer=True)
        choice("log_level", log_level, LOG_LEVELS)
        if db_path is not None and not isinstance(db_path, (str, os.PathLike)):
            raise ConfigError(f"db_path must be a file path or None; got {db_path!r}", "db_path")
        hosts = list(allowed_hosts) if isinstance(allowed_hosts, (tuple, set, frozenset)) else allowed_hosts
        extra = [string(f"allowed_hosts[{i}]", h) for i, h in enumerate(array("allowed_hosts", hosts or []))]
        self._allowed_hosts = allowed_host_names(host, extra)
        self._head_timeout = number("head_timeout", head_timeout, minimum=0.01)
        self._body_timeout = number("body_timeout", body_timeout, minimum=0.01)
        self.emulator = Emulator(db_path=db_path, rate_limits=rate_limits, faults=faults, approval=approval)
        self.host = host
        self._port = port
        self._log_level = log_level
        self._socket: socket.socket | None = None
        self._server: uvicorn.Server | None = None
        self._thread: threading.Thread | None = None
        self._error: BaseException | None = None
        self.admin: AdminClient

    @property
    def port(self) -> int:
        return self._port

    def cpu_time(self) -> float:
        """CPU seconds the serving thread has used so far (the whole process where threads have no clock
        of their own): a measure of the server's work that machine load does not inflate."""
        thread = self._thread
        if thread is not None and thread.ident is not None and hasattr(time, "pthread_getcpuclockid"):
            return time.clock_gettime(time.pthread_getcpuclockid(thread.ident))
        return time.process_time()

    @property
    def base_url(self) -> str:
        """``http://host:port``: the API host for clients (the connection's ``host`` extra)."""
        return f"http://{self.host}:{self._port}"

    def _make_server(self) -> uvicorn.Server:
        config = uvicorn.Config(
            Guard(self.emulator.app, self._allowed_hosts, body_timeout=self._body_timeout),
            log_level=self._log_level,
            access_log=False,
            lifespan="off",
            http=_protocol_class(self.emulator.connections, self._head_timeout),
            timeout_keep_alive=KEEP_ALIVE_TIMEOUT,
        )
        return uvicorn.Server(config)

    def _bind(self) -> socket.socket:
        sock = socket.socket(socket.AF_INET6 if ":" in self.host else socket.AF_INET, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((self.host, self._port))
        sock.listen(128)
        self._port = sock.getsockname()[1]
        self.admin = AdminClient(self.base_url)
        return sock

    def start(self, timeout: float = 15.0) -> EmulatorServer:
        """Start serving in a background thread; return once the server accepts connections."""
        try:
            self._socket = self._bind()
            self._server = self._make_server()

            def run() -> None:
                try:
                    assert self._server is not None and self._socket is not None
                    self._server.run(sockets=[self._socket])
                except BaseException as exc:  # reported by start() or stop()
                    self._error = exc

            self._thread = threading.Thread(target=run, name=f"twads-emulator-{self._port}", daemon=True)
            self._thread.start()
            started = threading.Event()
            while not started.wait(0.01):
                if self._server.started:
                    started.set()
                elif self._error is not None or not self._thread.is_alive():
                    raise RuntimeError(f"the emulator failed to start: {self._error!r}")
                timeout -= 0.01
                if timeout <= 0:
                    raise RuntimeError("the emulator did not start in time")
        except BaseException:
            self.stop()
            raise
        return self

    def stop(self) -> None:
        """Stop serving and close the database (safe to call twice, and after a failed start)."""
        if self._server is not None:
            self._server.should_exit = True
        if self._thread is not None:
            self._thread.join(10)
            if self._thread.is_alive() and self._server is not None:
                self._server.force_exit = True
                self._thread.join(5)
            self._thread = None
        if self._socket is not None:
            self._socket.close()
            self._socket = None
        self._server = None
        self.emulator.store.close()

    def serve_forever(self) -> None:
        """Serve in the calling thread until interrupted (the CLI)."""
        self._socket = self._bind()
        self._server = self._make_server()
        try:
            self._server.run(sockets=[self._socket])
        finally:
            self._socket.close()
            self._socket = None
            self.emulator.store.close()

    def __enter__(self) -> EmulatorServer:
        return self.start()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()
