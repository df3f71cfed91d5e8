"""The emulator's HTTP application: the admin API (``/_emulator/...``: reset, state, request log, faults,
rate limits, approval, the Ads UI's activation, features, bulk seeding) in front of the Ads API routes."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response, StreamingResponse
from starlette.routing import Mount, Route

from twads_emulator import vocabulary as v
from twads_emulator.config import ConfigError, array, check_object, choice, number, string
from twads_emulator.entities import FUNDING_INSTRUMENT_FIELDS
from twads_emulator.jobs import cut_off
from twads_emulator.promoted import Approval
from twads_emulator.seed import seed_entities
from twads_emulator.store import KINDS

if TYPE_CHECKING:
    from twads_emulator.app import Emulator

MAX_SEED = 1_000_000  # line items per admin seeding call
ACTIVATABLE = ("campaigns", "line_items", "promoted_tweets", "funding_instruments")


def _known_features() -> tuple[str, ...]:
    """The account features an admin call may grant: the documented ones and the seeded ones."""
    seeded = {name for account in seed_entities()["accounts"] for name in account["_features"]}
    gated = {name for names in v.OBJECTIVE_REQUIRED_FEATURES.values() for name in names}
    return tuple(sorted(seeded | gated | set(v.SANDBOX_FEATURE_KEYS) | set(v.FEATURE_KEYS_QUERYABLE)))


KNOWN_FEATURES = _known_features()
_JSON = "application/json"


class RawJSON:
    """Admin results already rendered as JSON text."""

    def __init__(self, text: str) -> None:
        self.text = text


def build_app(emulator: Emulator) -> Starlette:
    """The Starlette application: the admin API under ``/_emulator/`` and every other path to
    :meth:`Emulator.api`."""

    def admin(
        fn: Callable[[Request, Any], Any], query: tuple[str, ...] = (), body: bool = True
    ) -> Callable[[Request], Any]:
        """An admin endpoint: a JSON object body (if ``body``), only the ``query`` parameters; what it
        does not understand is a 400 naming it and the allowed ones."""

        async def endpoint(request: Request) -> Response:
            raw = await request.body()
            try:
                check_object("query", dict(request.query_params), query)
                if raw.strip() and not body:
                    raise ConfigError(f"{request.url.path} takes no request body", "body")
                try:
                    payload = json.loads(raw) if raw.strip() else {}
                except ValueError as exc:
                    raise ConfigError(f"the request body is not valid JSON: {exc}", "body") from None
                result = fn(request, payload)
            except ConfigError as exc:
                return JSONResponse(exc.as_json(), status_code=400)
            except ValueError as exc:  # a value the emulator's own checks refused
                return JSONResponse({"error": str(exc), "key": None, "allowed": None}, 400)
            except LookupError as exc:  # an entity that does not exist
                return JSONResponse({"error": str(exc).strip("'\""), "key": None, "allowed": None}, 404)
            if isinstance(result, RawJSON):
                return Response(result.text, media_type=_JSON)
            return JSONResponse(result)

        return endpoint

    def kinds(request: Request) -> list[str] | None:
        wanted = request.query_params.get("kinds")
        if not wanted:
            return None
        return [choice("kinds", k, KINDS) for k in wanted.split(",") if k]

    def since(request: Request) -> int:
        value = request.query_params.get("since", "0")
        if not value.isdigit():
            raise ConfigError(f"since must be a request log seq (an integer >= 0); got {value!r}", "since")
        return int(value)

    def reset(_r: Request, payload: Any) -> Any:
        check_object("reset", payload, ())
        emulator.reset()
        return {"ok": True, "generation": emulator.generation}

    def set_faults(_r: Request, payload: Any) -> Any:
        emulator.faults.configure(payload)
        return emulator.faults.describe()

    def clear_faults(_r: Request, _p: Any) -> Any:
        emulator.faults.clear()
        return emulator.faults.describe()

    def set_rate_limits(_r: Request, payload: Any) -> Any:
        limits = emulator.limiter.configure(payload)
        return {k: {"limit": lim, "window": win} for k, (lim, win) in limits.items()}

    def set_approval(_r: Request, payload: Any) -> Any:
        emulator.resources.approval = Approval.parse(payload)
        return {"ok": True}

    def activate(_r: Request, payload: Any) -> Any:
        payload = check_object("activate", payload, ("resource", "id", "status"), ("resource", "id"))
        kind = choice("activate.resource", payload["resource"], ACTIVATABLE)
        status = choice("activate.status", payload.get("status", "ACTIVE"), v.ENTITY_STATUSES)
        return emulator.resources.admin_activate(kind, string("activate.id", payload["id"]), status)

    def seed_line_items(_r: Request, payload: Any) -> Any:
        payload = check_object(
            "seed", payload, ("campaign_id", "count", "overrides"), ("campaign_id", "count")
        )
        count = number("seed.count", payload["count"], minimum=1, maximum=MAX_SEED, integer=True)
        ids = emulator.resources.admin_seed_line_items(
            string("seed.campaign_id", payload["campaign_id"]), count, **payload.get("overrides", {})
        )
        return {"count": len(ids), "first_id": ids[0], "last_id": ids[-1]}

    def add_funding_instrument(_r: Request, payload: Any) -> Any:
        payload = check_object("funding_instrument", payload, ("account_id", "fields"), ("account_id",))
        fields = check_object(
            "funding_instrument.fields", payload.get("fields", {}), FUNDING_INSTRUMENT_FIELDS
        )
        account_id = string("funding_instrument.account_id", payload["account_id"])
        return emulator.resources.admin_add_funding_instrument(account_id, **fields)

    def set_features(_r: Request, payload: Any) -> Any:
        payload = check_object("features", payload, ("account_id", "features"), ("account_id", "features"))
        account_id = string("features.account_id", payload["account_id"])
        features = [
            choice(f"features.features[{i}]", name, KNOWN_FEATURES)
            for i, name in enumerate(array("features.features", payload["features"]))
        ]
        return {"features": emulator.set_features(account_id, features)}

    def job_file(request: Request) -> Response:
        """An analytics job's result file: unsigned, as the API's download URLs are; faults apply."""
        fault = emulator.faults.pick("GET", request.url.path)
        if fault is not None and fault.kind in ("500", "503"):
            return Response(f"{fault.kind} injected", status_code=int(fault.kind), media_type="text/plain")
        content = emulator.resources.job_file(request.path_params["name"])
        if content is None:
            return Response("Not found", status_code=404, media_type="text/plain")
        if fault is not None and fault.kind in ("drop", "commit_then_drop"):
            return StreamingResponse(cut_off(content), media_type="application/gzip")
        return Response(content, media_type="application/gzip")

    # The admin API is a Mount, so that an API request is matched against two routes, not a dozen.
    admin_routes = [
        Route("/health", admin(lambda r, p: emulator.health(), body=False), methods=["GET"]),
        Route("/reset", admin(reset), methods=["POST"]),
        Route("/state", admin(lambda r, p: RawJSON(emulator.state_json(kinds(r))), ("kinds",), body=False),
              methods=["GET"]),
        Route("/requests", admin(lambda r, p: emulator.requests(since(r)), ("since",), body=False),
              methods=["GET"]),
        Route("/faults", admin(set_faults), methods=["PUT", "POST"]),
        Route("/faults", admin(clear_faults, body=False), methods=["DELETE"]),
        Route("/rate_limits", admin(set_rate_limits), methods=["PUT", "POST"]),
        Route("/approval", admin(set_approval), methods=["PUT", "POST"]),
        Route("/activate", admin(activate), methods=["POST"]),
        Route("/seed/line_items", admin(seed_line_items), methods=["POST"]),
        Route("/features", admin(set_features), methods=["PUT", "POST"]),
        Route("/funding_instruments", admin(add_funding_instrument), methods=["POST"]),
        Route("/jobs", admin(lambda r, p: emulator.resources.job_book.configure(p)), methods=["PUT", "POST"]),
        Route("/files/{name}", job_file, methods=["GET"]),
    ]  # fmt: skip
    endpoints = sorted({f"/_emulator{r.path}" for r in admin_routes})

    def unknown(request: Request) -> Response:
        body = {"error": f"no admin endpoint {request.method} {request.url.path}", "key": None}
        return JSONResponse({**body, "allowed": endpoints}, 404)

    admin_routes.append(Route("/{rest:path}", unknown, methods=["GET", "POST", "PUT", "DELETE", "PATCH"]))
    return Starlette(
        routes=[
            Mount("/_emulator", routes=admin_routes),
            Route("/{path:path}", emulator.api, methods=["GET", "POST", "PUT", "DELETE", "PATCH", "HEAD"]),
        ]
    )
