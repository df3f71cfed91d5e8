"""A small real HTTP peer on loopback that serves scripted responses: what the emulator cannot produce.

HTML error pages, truncated JSON, mistyped fields, odd status codes, lying ``Content-Length`` headers and
endless cursors come from here. It checks no OAuth signature; every request it got is in ``hits``.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

#: (status, headers, body); a route may also be a function of the request giving one.
Response = tuple[int, dict[str, str], bytes | str]
Route = Response | Callable[["Request"], Response]


class Request:
    """What a route function sees of a request."""

    def __init__(self, method: str, path: str, query: str, body: bytes) -> None:
        self.method, self.path, self.query, self.body = method, path, query, body


def json_body(doc: Any) -> str:
    return json.dumps(doc)


class ScriptedPeer:
    """``routes[path] = response`` (any method) or ``routes[(method, path)] = response``; unknown: 404."""

    def __init__(self) -> None:
        self.routes: dict[Any, Route] = {}
        self.hits: list[tuple[str, str]] = []
        peer = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: Any) -> None:  # quiet
                pass

            def _serve(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                path, _, query = self.path.partition("?")
                peer.hits.append((self.command, self.path))
                route = peer.routes.get((self.command, path), peer.routes.get(path))
                if route is None:
                    route = (404, {}, json_body({"errors": [{"code": "NOT_FOUND", "message": "no route"}]}))
                status, headers, payload = (
                    route(Request(self.command, path, query, body)) if callable(route) else route
                )
                data = payload.encode() if isinstance(payload, str) else payload
                self.send_response(status)
                headers = {"Content-Type": "application/json", **headers}
                for key, value in headers.items():
                    self.send_header(key, value)
                if "Content-Length" not in headers:
                    self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            do_GET = do_POST = do_PUT = do_DELETE = _serve

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, name="scripted-peer", daemon=True)
        self._thread.start()
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}"

    def reset(self) -> None:
        self.routes.clear()
        self.hits.clear()

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(5)
