"""What a dev server on a developer's machine must refuse, in front of the emulator's application.

A web page the developer visits can make the browser send requests to ``127.0.0.1``: a "simple"
cross-origin POST (``text/plain`` or a form) needs no CORS preflight, and a DNS-rebinding page reaches the
server under a name of its own. Anything on the machine can also open connections and send slowly or send
much. So, before the application sees a request:

* the ``Host`` must be an allowed name (loopback names and the bound address by default): 421 otherwise;
* admin writes (``POST``/``PUT``/``DELETE``/``PATCH`` under ``/_emulator/``) must come from no browser
  origin or the server's own (403 otherwise) and carry JSON if they carry anything (415 otherwise);
* a body above :data:`MAX_BODY_BYTES` is refused with 413, from ``Content-Length`` before reading, or as
  soon as a streamed (chunked) body passes the limit; the connection is then closed;
* the body must arrive within :data:`BODY_TIMEOUT` seconds of the head (408 and close otherwise).

The time allowed for a request's head (the slowloris defence) is enforced by the connection's protocol in
:mod:`twads_emulator.server`, which ASGI cannot see.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Awaitable, Callable, Collection, MutableMapping
from typing import Any

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

MAX_BODY_BYTES = 1024 * 1024  # 1 MiB; a 500-criterion batch is about 80 KB
MAX_HEAD_BYTES = 64 * 1024  # request line and headers
HEAD_TIMEOUT = 5.0  # seconds from a connection's first byte (or its opening) to a complete head
BODY_TIMEOUT = 10.0  # seconds from the head to the end of the body
KEEP_ALIVE_TIMEOUT = 5  # seconds an idle keep-alive connection stays open
LOOPBACK_HOSTS = ("127.0.0.1", "localhost", "::1")
ANY_HOST = "*"
_WRITES = ("POST", "PUT", "DELETE", "PATCH")
_ADMIN = "/_emulator/"


def allowed_host_names(bound: str, extra: Collection[str] | None) -> frozenset[str]:
    """The ``Host`` names the server answers to: loopback, the bound address (unless a wildcard) and
    ``extra`` (``"*"`` allows any).

    :param bound: the address the server listens on.
    :param extra: more names (e.g. ``host.docker.internal``), from ``--allowed-host``.
    """
    names = {*LOOPBACK_HOSTS, *(normalise_host(h) for h in extra or ())}
    if bound not in ("0.0.0.0", "::", ""):
        names.add(normalise_host(bound))
    return frozenset(names)


def normalise_host(value: str) -> str:
    """``Host`` header value -> lower-case name without port, brackets or trailing dot."""
    value = value.strip().lower()
    if value.startswith("["):  # [::1]:8765
        value = value[1 : value.find("]")] if "]" in value else value[1:]
    elif value.count(":") == 1:
        value = value.partition(":")[0]
    return value.rstrip(".")


class Guard:
    """ASGI middleware: the refusals above, then the application with the body already read."""

    def __init__(
        self,
        app: ASGIApp,
        allowed_hosts: frozenset[str],
        *,
        max_body: int = MAX_BODY_BYTES,
        body_timeout: float = BODY_TIMEOUT,
    ) -> None:
        """:param app: the emulator's application.
        :param allowed_hosts: from :func:`allowed_host_names`.
        :param max_body: the largest body accepted, in bytes.
        :param body_timeout: seconds allowed for the body once the head has arrived."""
        self.app = app
        self.allowed_hosts = allowed_hosts
        self.max_body = max_body
        self.body_timeout = body_timeout

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers: dict[str, str] = {}
        for name, value in scope["headers"]:
            headers.setdefault(name.decode("latin-1").lower(), value.decode("latin-1"))
        refusal = self._refusal(scope, headers)
        if refusal is not None:
            await _answer(send, scope, *refusal)
            return
        body, refusal, disconnected = await self._read_body(receive)
        refusal = refusal or self._admin_body_refusal(scope, headers, body)
        if refusal is not None:
            await _answer(send, scope, *refusal)
            return
        await self.app(scope, _replay(body, disconnected, receive), send)

    def _refusal(self, scope: Scope, headers: dict[str, str]) -> tuple[int, str, str, str] | None:
        """(status, code, message, key) for a request refused on its head alone, else None."""
        host = headers.get("host")
        # No Host at all is HTTP/1.0 from a tool, never a browser: nothing to rebind.
        if host is not None and ANY_HOST not in self.allowed_hosts:
            name = normalise_host(host)
            if name not in self.allowed_hosts:
                return (421, "MISDIRECTED_REQUEST", f"Host {name[:100]!r} is not served here; allowed: "
                        f"{', '.join(sorted(self.allowed_hosts))} (add names with --allowed-host or "
                        "EmulatorServer(allowed_hosts=[...]))", "Host")  # fmt: skip
        if _is_admin_write(scope):
            origin = headers.get("origin")
            own = f"{scope.get('scheme', 'http')}://{(host or '').lower()}"
            if origin is not None and origin.lower() != own:
                return (403, "FORBIDDEN_ORIGIN", f"admin writes are refused from origin {origin[:100]!r} "
                        f"(only from no browser origin, or {own})", "Origin")  # fmt: skip
        length = headers.get("content-length")
        if length is not None and (not length.strip().isdigit() or int(length) > self.max_body):
            return (413, "REQUEST_TOO_LARGE", f"the request body is larger than {self.max_body} bytes "
                    f"(Content-Length {length[:30]})", "Content-Length")  # fmt: skip
        return None

    async def _read_body(self, receive: Receive) -> tuple[bytes, tuple[int, str, str, str] | None, bool]:
        """(body, refusal or None, whether the client left first), reading at most ``max_body`` + 1 bytes
        and waiting at most ``body_timeout`` seconds."""
        chunks: list[bytes] = []
        size = 0
        deadline = asyncio.get_running_loop().time() + self.body_timeout
        more = True
        while more:
            remaining = deadline - asyncio.get_running_loop().time()
            try:
                message = await asyncio.wait_for(receive(), max(remaining, 0.0))
            except TimeoutError:
                return b"", (408, "REQUEST_TIMEOUT", f"the request body did not arrive within "
                             f"{self.body_timeout:g} s", "body"), False  # fmt: skip
            if message["type"] == "http.disconnect":
                return b"".join(chunks), None, True
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > self.max_body:
                return b"", (413, "REQUEST_TOO_LARGE", f"the request body is larger than {self.max_body} "
                             "bytes", "body"), False  # fmt: skip
            chunks.append(chunk)
            more = message.get("more_body", False)
        return b"".join(chunks), None, False

    @staticmethod
    def _admin_body_refusal(
        scope: Scope, headers: dict[str, str], body: bytes
    ) -> tuple[int, str, str, str] | None:
        if not _is_admin_write(scope):
            return None
        media_type = headers.get("content-type", "").partition(";")[0].strip().lower()
        # A bodiless write without a type (curl -X POST .../reset) is fine; any other type is what an HTML
        # form or a "simple" fetch() sends.
        if (media_type or body.strip()) and media_type != "application/json":
            return (415, "UNSUPPORTED_MEDIA_TYPE", "admin writes take a JSON body with Content-Type "
                    f"application/json; got {media_type or 'no Content-Type'!r}", "Content-Type")  # fmt: skip
        return None


def _is_admin_write(scope: Scope) -> bool:
    return bool(scope["method"] in _WRITES and str(scope["path"]).startswith(_ADMIN))


def _replay(body: bytes, disconnected: bool, receive: Receive) -> Receive:
    """A ``receive`` that gives the body already read, then (if the client left) the disconnect, then
    whatever the connection says next."""
    pending: list[Message] = [{"type": "http.request", "body": body, "more_body": disconnected}]
    if disconnected:
        pending.append({"type": "http.disconnect"})

    async def replay() -> Message:
        return pending.pop(0) if pending else await receive()

    return replay


async def _answer(send: Send, scope: Scope, status: int, code: str, message: str, key: str) -> None:
    """The refusal in the shape the path's clients read (the admin API's or the Ads API's), and the
    connection closed after it (its unread body is not worth reading)."""
    if str(scope["path"]).startswith(_ADMIN):
        payload: dict[str, Any] = {"error": message, "key": key, "allowed": None}
    else:
        payload = {
            "errors": [{"code": code, "message": message, "parameter": key}],
            "request": {"params": {}},
        }
    body = json.dumps(payload).encode()
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(body)).encode()),
                (b"connection", b"close"),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})
