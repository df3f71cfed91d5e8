"""The emulator: its state and the pipeline of the Ads API under ``/{version}/...`` (the HTTP application,
with the admin API under ``/_emulator/...``, is built by :mod:`twads_emulator.admin`).

Every API request goes through the same pipeline: fault injection, OAuth 1.0a verification, routing,
account access, rate limits, parameter parsing, the endpoint's handler (writes in one SQLite
transaction), and an optional "commit then drop". Every step that refuses answers with the API's error
envelope and is recorded in the request log.
"""

from __future__ import annotations

import asyncio
import json
import logging
import re
import threading
import time
from collections import deque
from typing import Any
from urllib.parse import parse_qsl

from starlette.requests import ClientDisconnect, Request
from starlette.responses import Response

from twads_emulator import vocabulary as v
from twads_emulator.admin import build_app
from twads_emulator.entities import Context
from twads_emulator.faults import Fault, FaultInjector
from twads_emulator.oauth import FORM_CONTENT_TYPE, OAuthVerifier, SignedRequest
from twads_emulator.params import ApiError, Params, invalid
from twads_emulator.promoted import Approval
from twads_emulator.ratelimits import QuotaCounter, classify
from twads_emulator.resources import BatchFailed, Resources
from twads_emulator.seed import CONSUMERS, TOKENS
from twads_emulator.store import KINDS, Store

logger = logging.getLogger(__name__)
_JSON = "application/json"
_A = r"accounts/(?P<account_id>[^/]+)"


def _routes() -> list[tuple[re.Pattern[str], dict[str, str], str, str | None]]:
    """(path pattern, method -> handler, rate-limit route name, in-line ID parameter name)."""
    table: list[tuple[str, dict[str, str], str, str | None]] = [
        ("accounts", {"GET": "list_accounts"}, "accounts", None),
        (_A, {"GET": "get_account"}, "accounts", None),
        (_A + "/features", {"GET": "get_features"}, "features", None),
        (_A + "/funding_instruments", {"GET": "list_funding_instruments"}, "funding_instruments", None),
        (_A + "/funding_instruments/(?P<id>[^/]+)", {"GET": "get_funding_instrument"}, "funding_instruments",
         "funding_instrument_id"),
        (_A + "/campaigns", {"GET": "list_campaigns", "POST": "create_campaign"}, "campaigns", None),
        (_A + "/campaigns/(?P<id>[^/]+)",
         {"GET": "get_campaign", "PUT": "update_campaign", "DELETE": "delete_campaign"}, "campaigns",
         "campaign_id"),
        (_A + "/line_items", {"GET": "list_line_items", "POST": "create_line_item"}, "line_items", None),
        (_A + "/line_items/(?P<id>[^/]+)",
         {"GET": "get_line_item", "PUT": "update_line_item", "DELETE": "delete_line_item"}, "line_items",
         "line_item_id"),
        (_A + "/targeting_criteria", {"GET": "list_targeting_criteria", "POST": "create_targeting_criterion"},
         "targeting_criteria", None),
        (_A + "/targeting_criteria/(?P<id>[^/]+)",
         {"GET": "get_targeting_criterion", "DELETE": "delete_targeting_criterion"}, "targeting_criteria",
         "targeting_criterion_id"),
        (_A + "/promoted_tweets", {"GET": "list_promoted_tweets", "POST": "create_promoted_tweets"},
         "promoted_tweets", None),
        (_A + "/promoted_tweets/(?P<id>[^/]+)",
         {"GET": "get_promoted_tweet", "DELETE": "delete_promoted_tweet"}, "promoted_tweets",
         "promoted_tweet_id"),
        ("batch/" + _A + "/(?P<kind>campaigns|line_items|targeting_criteria)", {"POST": "batch"}, "batch",
         None),
        ("stats/" + _A, {"GET": "get_stats"}, "stats", None),
        ("stats/" + _A + "/active_entities", {"GET": "get_active_entities"}, "stats", None),
        ("stats/jobs/" + _A, {"GET": "list_stats_jobs", "POST": "create_stats_job"}, "stats_jobs", None),
        ("stats/jobs/" + _A + "/(?P<id>[^/]+)", {"DELETE": "cancel_stats_job"}, "stats_jobs", "job_id"),
    ]  # fmt: skip
    return [
        (re.compile(pattern + "$"), methods, name, id_param) for pattern, methods, name, id_param in table
    ]


ROUTES = _routes()


class ConnectionRegistry:
    """Open transports by client address, so a handler can drop its own connection (fault injection)."""

    def __init__(self) -> None:
        self._transports: dict[tuple[str, int], asyncio.BaseTransport] = {}

    def add(self, peer: tuple[str, int], transport: asyncio.BaseTransport) -> None:
        self._transports[peer] = transport

    def remove(self, peer: tuple[str, int]) -> None:
        self._transports.pop(peer, None)

    def abort(self, client: Any) -> bool:
        """Close the client's connection at once, without a response. True if it was found."""
        transport = self._transports.pop(tuple(client or ())[:2], None)
        if transport is None:
            return False
        abort = getattr(transport, "abort", None)
        (abort or transport.close)()
        return True


class Emulator:
    """The emulator's state and behaviour, independent of how it is served."""

    def __init__(
        self,
        db_path: str | None = None,
        rate_limits: dict[str, Any] | None = None,
        faults: dict[str, Any] | None = None,
        approval: dict[str, Any] | None = None,
    ) -> None:
        """:param db_path: an SQLite file that keeps the state across restarts (default: in memory).
        :param rate_limits: category overrides, e.g. ``{"writes": {"limit": 5, "window": 60}}``.
        :param faults: a fault configuration active from the start (and after each reset).
        :param approval: the promoted Tweet approval rule (default: ACCEPTED at once).
        :raises ConfigError: (a ``ValueError``) for a configuration it does not understand, before the
            database is opened."""
        self.faults = FaultInjector(faults)
        self._start_faults = faults
        self.limiter = QuotaCounter(rate_limits)
        Approval.parse(approval)
        self.store = Store(db_path)
        self.resources = Resources(self.store, approval)
        self.oauth = OAuthVerifier(CONSUMERS, TOKENS)
        self.connections = ConnectionRegistry()
        self._log: deque[dict[str, Any]] = deque(maxlen=200_000)
        self._seq = 0
        self._lock = threading.Lock()
        # Each reset starts a new generation. A request remembers the generation it began in: if a reset
        # came in between (a client gave up on it during a latency fault, say), it neither touches the
        # state nor enters the request log of the new generation. _state_lock makes "check the
        # generation, then process" atomic against a reset from another thread.
        self.generation = 0
        self._state_lock = threading.RLock()
        self.in_flight = 0  # API requests whose handler has not returned (abandoned ones included)
        self.app = build_app(self)

    # ---- admin operations ---------------------------------------------------------------------------
    def reset(self) -> None:
        """Seeded state; start-up faults, rate limits and approval rule; empty request log; a new
        generation (requests in flight from before are neither applied nor logged)."""
        with self._state_lock:
            self.generation += 1
            self.store.reset()
            self.resources.reset()
            self.resources.reset_jobs()
            self.faults.configure(self._start_faults)
            self.faults.reset_counts()
            self.limiter.reset()
            self.oauth.reset()
            with self._lock:
                self._log.clear()
                self._seq = 0

    def health(self) -> dict[str, Any]:
        """Served versions, the generation (resets so far) and the API requests in flight."""
        return {
            "ok": True,
            "versions": list(v.API_VERSIONS),
            "generation": self.generation,
            "in_flight": self.in_flight,
        }

    def requests(self, since: int = 0) -> list[dict[str, Any]]:
        with self._lock:
            return [dict(e) for e in self._log if e["seq"] > since]

    def state_json(self, kinds: list[str] | None = None) -> str:
        """The admin state as JSON text: entities by kind (stored JSON passed through), plus features by
        account, the fault configuration with injected counts, and the rate limits."""
        extra = json.dumps(self.state_extras())
        entities = ",".join(f'"{kind}":{text}' for kind, text in self.store.dump_json(kinds or KINDS).items())
        return "{" + entities + "," + extra[1:]

    def state_extras(self) -> dict[str, Any]:
        state: dict[str, Any] = {}
        state["features"] = {a["id"]: a.get("_features", []) for a in self.store.find("accounts")}
        state["faults"] = self.faults.describe()
        state["rate_limits"] = {
            k: {"limit": lim, "window": win} for k, (lim, win) in self.limiter.limits().items()
        }
        return state

    def set_features(self, account_id: str, features: list[str]) -> list[str]:
        account = self.store.get("accounts", account_id)
        if account is None:
            raise KeyError(f"account {account_id} not found")
        granted = sorted(set(features))
        account["_features"] = granted
        self.store.update("accounts", account)
        return granted

    def _record(
        self,
        generation: int,
        method: str,
        path: str,
        query: dict[str, str],
        status: int | None,
        fault: str | None,
    ) -> None:
        with self._lock:
            if generation != self.generation:
                return  # began before a reset: not part of this generation's log
            self._seq += 1
            self._log.append(
                {
                    "seq": self._seq,
                    "method": method,
                    "path": path,
                    "query": query,
                    "status": status,
                    "fault": fault,
                    "time": time.time(),
                }
            )

    # ---- the API pipeline ---------------------------------------------------------------------------
    async def api(self, request: Request) -> Response:
        """Serve one API request (counted in ``in_flight`` until its handler returns)."""
        self.in_flight += 1
        try:
            return await self._api(request)
        finally:
            self.in_flight -= 1

    async def _api(self, request: Request) -> Response:
        generation = self.generation
        method, path = request.method, request.scope["path"]
        query_pairs = parse_qsl(
            request.scope.get("query_string", b"").decode("latin-1"), keep_blank_values=True
        )
        logged_query = {k: val for k, val in query_pairs if not k.startswith("oauth_")}
        try:
            # Read before any latency fault: a client that gives up meanwhile does not stop the request,
            # as on a real server (so a timed-out write is really ambiguous).
            body_bytes = await request.body()
        except ClientDisconnect:  # gone before its body arrived: nothing to process, nobody to answer
            self._record(generation, method, path, logged_query, None, None)
            return Response(status_code=400)  # never sent
        fault = self.faults.pick(method, path)
        fault_kind = fault.kind if fault else None
        if fault is not None and fault.kind == "latency":
            await asyncio.sleep(fault.seconds)
        if fault is not None and fault.kind == "drop":
            await self._drop(request)
            self._record(generation, method, path, logged_query, None, fault_kind)
            return Response(status_code=500)  # never sent: the connection is gone
        echo: dict[str, Any] = dict(logged_query)
        headers: dict[str, str] = {v.API_VERSION_HEADER: v.DEFAULT_API_VERSION}
        try:
            if fault is not None and fault.kind in ("503", "500", "429"):
                response = self._fault_response(fault, headers, echo)
                self._record(generation, method, path, logged_query, response.status_code, fault_kind)
                return response
            with self._state_lock:
                if generation != self.generation:
                    raise ApiError(
                        503,
                        v.ERROR_SERVICE_UNAVAILABLE,
                        "The emulator was reset while this request was in flight; nothing was applied",
                    )
                status, body, headers = self._handle(request, body_bytes, method, path, query_pairs, headers)
        except ApiError as exc:
            status = exc.status
            headers.update(exc.headers)
            body = {"errors": exc.errors, "request": {"params": getattr(exc, "echo", None) or echo}}
        except BatchFailed as exc:
            status, body = 400, exc.body
        except Exception:  # a bug in the emulator: say so in the API's terms, and in the log
            logger.exception("Unexpected error on %s %s", method, path)
            status = 500
            body = {
                "errors": [{"code": v.ERROR_INTERNAL_ERROR, "message": "Emulator bug"}],
                "request": {"params": echo},
            }
        if fault is not None and fault.kind == "commit_then_drop":
            await self._drop(request)
            self._record(generation, method, path, logged_query, None, fault_kind)
            return Response(status_code=500)  # never sent
        self._record(generation, method, path, logged_query, status, fault_kind)
        return Response(
            json.dumps(body, ensure_ascii=False, separators=(",", ":")).encode(),
            status_code=status,
            headers=headers,
            media_type=_JSON,
        )

    async def _drop(self, request: Request) -> None:
        self.connections.abort(request.scope.get("client"))
        # Let the server see the connection closed before this handler returns, so that it does not try
        # to answer on it.
        for _ in range(3):
            await asyncio.sleep(0)

    def _fault_response(self, fault: Fault, headers: dict[str, str], echo: dict[str, Any]) -> Response:
        if fault.kind == "503":
            headers[v.RETRY_AFTER_HEADER] = str(fault.retry_after)
            status, code, message = 503, v.ERROR_SERVICE_UNAVAILABLE, "Service unavailable, try again later"
        elif fault.kind == "500":
            status, code, message = 500, v.ERROR_INTERNAL_ERROR, "Internal error"
        else:
            reset = str(int(time.time()) + fault.retry_after)
            headers.update(
                {"x-rate-limit-limit": "1", "x-rate-limit-remaining": "0", "x-rate-limit-reset": reset}
            )
            status, code, message = 429, v.ERROR_TOO_MANY_REQUESTS, "Rate limit exceeded"
        if fault.html:
            html = f"<html><body><h1>{status} {message}</h1></body></html>"
            return Response(html, status_code=status, headers=headers, media_type="text/html")
        body = {"errors": [{"code": code, "message": message}], "request": {"params": echo}}
        return Response(json.dumps(body).encode(), status_code=status, headers=headers, media_type=_JSON)

    def _handle(
        self,
        request: Request,
        body: bytes,
        method: str,
        path: str,
        query_pairs: list[tuple[str, str]],
        headers: dict[str, str],
    ) -> tuple[int, dict[str, Any], dict[str, str]]:
        # Bodies above the limit never get here: the server's Guard refuses them (413) unread.
        # ---- OAuth ----
        scope = request.scope
        headers_in = request.headers
        host = headers_in.get("host") or "{}:{}".format(*scope["server"])
        raw_path = scope.get("raw_path") or path.encode()
        content_type = headers_in.get("content-type", "")
        try:
            body_text = body.decode("utf-8")
        except UnicodeDecodeError:
            raise invalid("body", "The request body is not UTF-8") from None
        token, reason = self.oauth.verify(
            SignedRequest(
                method,
                scope.get("scheme", "http"),
                host,
                raw_path.decode("latin-1"),
                scope.get("query_string", b"").decode("latin-1"),
                body_text if FORM_CONTENT_TYPE in content_type else "",
                headers_in.get("authorization"),
            )
        )
        if token is None:
            message = f"This request is not properly authenticated: {reason}"
            raise ApiError(
                401,
                v.ERROR_UNAUTHORIZED_ACCESS,
                message,
                headers=self.limiter.peek((v.RATE_LIMIT_GLOBAL_READS, "")),
            )
        # ---- routing ----
        version, _, rest = path.lstrip("/").partition("/")
        if version not in v.API_VERSIONS:
            raise ApiError(404, "ROUTE_NOT_FOUND", f"API version {version!r} is not served; use one of "
                           f"{', '.join(v.API_VERSIONS)}")  # fmt: skip
        match, route = None, None
        for route in ROUTES:
            match = route[0].match(rest.rstrip("/"))
            if match:
                break
        if match is None or route is None:
            raise ApiError(404, "ROUTE_NOT_FOUND", f"No route for {method} {path}")
        _pattern, methods, route_name, id_param = route
        handler_name = methods.get(method)
        if handler_name is None:
            raise ApiError(405, "METHOD_NOT_ALLOWED", f"{method} is not allowed on {path}; allowed: "
                           f"{', '.join(methods)}")  # fmt: skip
        groups = match.groupdict()
        account_id = groups.get("account_id")
        allowed_accounts = TOKENS[token][2]
        path_params: dict[str, str] = {}
        if account_id is not None:
            path_params["account_id"] = account_id
        if id_param:
            path_params[id_param] = groups["id"]
        if account_id is not None:
            refusal = None
            if self.store.get("accounts", account_id) is None:
                # 403, not 404, on the API: a wrong account ID must not pass for "already deleted".
                refusal = ApiError(
                    403, v.ERROR_ACCOUNT_NOT_FOUND, f"Account {account_id} not found", "account_id"
                )
            elif account_id not in allowed_accounts:
                refusal = ApiError(
                    403,
                    v.ERROR_UNAUTHORIZED_CLIENT_APPLICATION,
                    f"This access token may not use account {account_id}",
                    "account_id",
                )
            if refusal is not None:
                refusal.echo = path_params  # type: ignore[attr-defined]
                refusal.headers = self.limiter.peek((classify(method, route_name, True, False)[0], token))
                raise refusal
        # ---- parameters ----
        raw: dict[str, Any] = {}
        pairs = [(k, val) for k, val in query_pairs if not k.startswith("oauth_")]
        json_body: Any = None
        is_batch = route_name == "batch"
        if body and "application/x-www-form-urlencoded" in content_type:
            pairs += [
                (k, val)
                for k, val in parse_qsl(body_text, keep_blank_values=True)
                if not k.startswith("oauth_")
            ]
        elif body.strip() and ("json" in content_type or is_batch):
            if "json" not in content_type:
                raise invalid("Content-Type", "Batch requests need Content-Type: application/json")
            try:
                json_body = json.loads(body_text)
            except ValueError as exc:
                raise invalid("body", f"Malformed JSON body: {exc}") from None
            if not is_batch:
                if not isinstance(json_body, dict):
                    raise invalid("body", "A JSON body must be an object of parameters")
                pairs += list(json_body.items())
        for k, val in pairs:
            if k in raw:
                raise invalid(k, f"Parameter {k!r} was given more than once")
            raw[k] = val
        params = Params(raw, path_params)
        # ---- rate limits ----
        with_total = str(raw.get("with_total_count", "")).lower() == "true"
        has_account = account_id is not None
        user_cat, account_cat = classify(method, route_name, has_account, with_total)
        account_key = (account_cat, account_id or "", rest) if account_cat else None
        if account_key is not None and id_param:
            account_key = (account_cat or "", account_id or "", rest.rsplit("/", 1)[0] + "/:id")
        allowed, rl_headers = self.limiter.hit((user_cat, token), account_key)
        headers.update(rl_headers)
        if not allowed:
            raise ApiError(429, v.ERROR_TOO_MANY_REQUESTS, "Rate limit exceeded", headers=rl_headers)
        # ---- the endpoint ----
        ctx = Context(method, version, account_id, params, groups.get("id"), json_body)
        try:
            if route_name == "stats_jobs":  # in memory; result URLs on this server; the job-limit headers
                book = self.resources.job_book
                book.base_url = f"{scope.get('scheme', 'http')}://{host}"
                result = getattr(self.resources, handler_name)(ctx)
                return 200, result, {**headers, **book.headers(account_id or "")}
            if method == "GET":
                if handler_name == "list_accounts":
                    return 200, self.resources.list_accounts(ctx, allowed_accounts), headers
                return 200, getattr(self.resources, handler_name)(ctx), headers
            if is_batch:
                if json_body is None:
                    raise invalid("body", "The batch body must be a non-empty JSON array of operations")
                with self.store.transaction():
                    status, result = self.resources.batch(ctx, groups["kind"])
                return status, result, headers
            with self.store.transaction():
                return 200, getattr(self.resources, handler_name)(ctx), headers
        except ApiError as exc:
            exc.echo = params.error_echo()  # type: ignore[attr-defined]
            exc.headers = {**headers, **exc.headers}
            raise

    # ---- admin HTTP API -----------------------------------------------------------------------------
