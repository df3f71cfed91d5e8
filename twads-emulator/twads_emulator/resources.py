"""The endpoints' behaviour: validation rules, stateful rules and response shapes.

Responses always use today's (v12) names on both served versions (11 and 12); requests may use either
vocabulary (the spec README: "the emulator accepts both"). Legacy values are translated on the way in and
echoed as sent in ``request.params``.
"""

from __future__ import annotations

from typing import Any

from twads_emulator import vocabulary as v
from twads_emulator.config import ConfigError, boolean, choice
from twads_emulator.entities import (
    ACCOUNT_KEYS,
    CAMPAIGN_KEYS,
    FUNDING_INSTRUMENT_KEYS,
    FUNDING_INSTRUMENT_STATUSES,
    LINE_ITEM_KEYS,
    Context,
    _read_status,
    shape,
)
from twads_emulator.jobs import Jobs
from twads_emulator.line_items import SEED_DEFAULTS, SEEDABLE_FIELDS, LineItems
from twads_emulator.params import ApiError, Params, invalid, now_iso
from twads_emulator.promoted import PromotedTweets
from twads_emulator.stats import mark_status
from twads_emulator.targeting import TargetingCriteria


class Resources(LineItems, TargetingCriteria, PromotedTweets, Jobs):
    """Handlers for every API endpoint, over one :class:`Store`: accounts, funding instruments and
    campaigns here, the other families from their modules, and the batch and admin operations that span
    them."""

    # ---- accounts -----------------------------------------------------------------------------------
    def list_accounts(self, ctx: Context, allowed: tuple[str, ...]) -> dict[str, Any]:
        ids = ctx.params.id_list("account_ids")
        wanted = [a for a in allowed if ids is None or a in ids]
        listing_ctx = Context(ctx.method, ctx.version, None, ctx.params)
        return self._list(listing_ctx, "accounts", ACCOUNT_KEYS, {}, q=True, extra_filters={"id": wanted})

    def get_account(self, ctx: Context) -> dict[str, Any]:
        p = ctx.params
        p.boolean("with_deleted", default=False)
        p.finish()
        record = self.store.get("accounts", ctx.account_id or "")
        assert record is not None  # checked by the access check
        return self._single(
            "accounts", shape(record, (*ACCOUNT_KEYS[:8], "industry_type", *ACCOUNT_KEYS[8:])), p.echo
        )

    def get_features(self, ctx: Context) -> dict[str, Any]:
        p = ctx.params
        keys = p.id_list("feature_keys")
        p.finish()
        features = self.account_features(ctx.account_id or "")
        if keys is not None:
            features = [f for f in features if f in keys]
        return {"request": {"params": p.echo}, "data_type": "features", "data": features}

    # ---- funding instruments ------------------------------------------------------------------------
    def list_funding_instruments(self, ctx: Context) -> dict[str, Any]:
        return self._list(
            ctx, "funding_instruments", FUNDING_INSTRUMENT_KEYS, {"funding_instrument_ids": "id"}
        )

    def get_funding_instrument(self, ctx: Context) -> dict[str, Any]:
        return self._get_one(ctx, "funding_instruments", FUNDING_INSTRUMENT_KEYS)

    # ---- campaigns ----------------------------------------------------------------------------------
    def list_campaigns(self, ctx: Context) -> dict[str, Any]:
        return self._list(
            ctx,
            "campaigns",
            CAMPAIGN_KEYS,
            {"campaign_ids": "id", "funding_instrument_ids": "funding_instrument_id"},
            drafts=True,
            q=True,
        )

    def get_campaign(self, ctx: Context) -> dict[str, Any]:
        return self._get_one(ctx, "campaigns", CAMPAIGN_KEYS)

    def _campaign_fields(self, p: Params, creating: bool) -> dict[str, Any]:
        changes: dict[str, Any] = {}
        if creating:
            changes["funding_instrument_id"] = p.string("funding_instrument_id", required=True, max_len=64)
        name = p.string("name", required=creating, max_len=v.CAMPAIGN_NAME_MAX_LENGTH, min_len=1)
        if name is not None or p.has("name"):
            if name is None:
                raise invalid("name", "name cannot be empty")
            changes["name"] = name
        for amount in ("daily_budget_amount_local_micro", "total_budget_amount_local_micro"):
            value = p.integer(amount, minimum=1)
            if value is not None or p.has(amount):
                changes[amount] = value
        bo = p.enum("budget_optimization", v.BUDGET_OPTIMIZATIONS)
        if bo:
            changes["budget_optimization"] = bo
        _read_status(p, creating, changes)
        po = p.string("purchase_order_number", max_len=v.PURCHASE_ORDER_NUMBER_MAX_LENGTH)
        if po is not None or p.has("purchase_order_number"):
            changes["purchase_order_number"] = po
        sd = p.boolean("standard_delivery")
        if sd is not None:
            changes["standard_delivery"] = sd
        return changes

    def create_campaign(self, ctx: Context) -> dict[str, Any]:
        p = ctx.params
        changes = self._campaign_fields(p, creating=True)
        p.finish()
        self._parent("funding_instruments", ctx, changes["funding_instrument_id"], "funding_instrument_id")
        now = now_iso()

        def build(new_id: str) -> dict[str, Any]:
            record = {
                "account_id": ctx.account_id,
                "name": None,
                "budget_optimization": "LINE_ITEM",
                "servable": False,
                "purchase_order_number": None,
                "daily_budget_amount_local_micro": None,
                "duration_in_days": None,
                "standard_delivery": None,
                "total_budget_amount_local_micro": None,
                "id": new_id,
                "entity_status": "ACTIVE",
                "frequency_cap": None,
                "currency": "USD",
                "created_at": now,
                "updated_at": now,
                "deleted": False,
            }
            record.update(changes)
            self._check_budgets(record)
            record["servable"] = False
            self._status_fields(record)
            return record

        record = self.store.create("campaigns", build)
        return self._single("campaigns", shape(record, CAMPAIGN_KEYS), p.echo)

    def update_campaign(self, ctx: Context) -> dict[str, Any]:
        p = ctx.params
        changes = self._campaign_fields(p, creating=False)
        p.finish()
        record = self._entity("campaigns", ctx, ctx.path_id or "")
        self._check_draft(record, changes, p)
        record.update(changes)
        self._check_budgets(record)
        if "entity_status" in changes:
            self._status_fields(record)
        record["updated_at"] = now_iso()
        self.store.update("campaigns", record)
        return self._single("campaigns", shape(record, CAMPAIGN_KEYS), p.echo)

    def delete_campaign(self, ctx: Context) -> dict[str, Any]:
        ctx.params.finish()
        record = self._delete("campaigns", ctx, ctx.path_id or "")
        return self._single("campaigns", shape(record, CAMPAIGN_KEYS), ctx.params.echo)

    # ---- batch --------------------------------------------------------------------------------------
    def batch(self, ctx: Context, kind: str) -> tuple[int, dict[str, Any]]:
        """POST batch/accounts/:account_id/<kind>: all or nothing, errors in input order.

        Runs inside the caller's transaction; raising rolls every operation back.
        """
        ops = ctx.body
        limit = v.BATCH_MAX_SIZES[kind]
        if not isinstance(ops, list) or not ops:
            raise invalid("body", "The batch body must be a non-empty JSON array of {operation_type, params}")
        if len(ops) > limit:
            raise invalid("body", f"The maximum batch size is {limit}, got {len(ops)}")
        allowed_ops = v.BATCH_RESOURCE_OPERATION_TYPES[kind]
        id_param = v.RESOURCE_ID_PARAM[kind]
        view = {
            "campaigns": lambda r: shape(r, CAMPAIGN_KEYS),
            "line_items": lambda r: shape(r, LINE_ITEM_KEYS),
            "targeting_criteria": self._criterion_view(None),
        }[kind]
        results: list[dict[str, Any] | None] = []
        errors: list[list[dict[str, Any]]] = []
        echoes: list[dict[str, Any]] = []
        for op in ops:
            operation = op.get("operation_type") if isinstance(op, dict) else None
            raw = op.get("params") if isinstance(op, dict) else None
            p = Params(raw if isinstance(raw, dict) else {}, {"account_id": ctx.account_id or ""})
            try:
                if operation not in allowed_ops:
                    raise invalid("operation_type", f"operation_type must be one of {', '.join(allowed_ops)}")
                if not isinstance(raw, dict):
                    raise invalid("params", "params must be a JSON object")
                item_ctx = Context(ctx.method, ctx.version, ctx.account_id, p, memo=ctx.memo)
                if operation == "Create":
                    record = self._batch_create(kind, item_ctx)
                else:
                    target = p.string(id_param, required=True, max_len=64)
                    if operation == "Update":
                        if kind == "line_items":
                            record = self._update_line_item(item_ctx, p, target)
                        else:
                            item_ctx.path_id = target
                            record = self.store.get(kind, self.update_campaign(item_ctx)["data"]["id"]) or {}
                    else:
                        p.finish()
                        record = self._delete(kind, item_ctx, target)
                        ctx.memo.pop(("targeting_types", record.get("line_item_id", "")), None)
                results.append(record)
                errors.append([])
            except ApiError as exc:
                results.append(None)
                errors.append(exc.errors)
            echoes.append({"params": p.error_echo() if errors[-1] else p.echo, "operation_type": operation})
        if any(errors):
            raise BatchFailed({"operation_errors": errors, "request": echoes})
        body: dict[str, Any] = {"data": [view(r) for r in results if r is not None], "request": echoes}
        if kind == "targeting_criteria":
            body = {"data_type": v.RESOURCE_DATA_TYPE[kind], **body}
        return 200, body

    def _batch_create(self, kind: str, ctx: Context) -> dict[str, Any]:
        if kind == "line_items":
            return self._create_line_item(ctx, ctx.params)
        if kind == "targeting_criteria":
            return self._create_criterion(ctx, ctx.params)
        created = self.create_campaign(ctx)["data"]["id"]
        return self.store.get("campaigns", created) or {}

    # ---- admin --------------------------------------------------------------------------------------
    def admin_activate(self, kind: str, id_: str, status: str = "ACTIVE") -> dict[str, Any]:
        """Stand in for the Ads UI: set any entity's status (drafts included)."""
        if status not in v.ENTITY_STATUSES:
            raise ValueError(f"status must be one of {v.ENTITY_STATUSES}")
        record = self.store.get(kind, id_)
        if record is None:
            raise KeyError(f"{kind} {id_} not found")
        mark_status(record, status)
        record["entity_status"] = status
        if kind == "campaigns":
            self._status_fields(record)
        record["updated_at"] = now_iso()
        self.store.update(kind, record)
        return record

    def admin_add_funding_instrument(self, account_id: str, **fields: Any) -> dict[str, Any]:
        """Add a funding instrument to an account (``entities.FUNDING_INSTRUMENT_FIELDS``; the admin API
        checks their names); return it as served."""
        if self.store.get("accounts", account_id) is None:
            raise KeyError(f"account {account_id} not found")
        status = choice(
            "funding_instrument.entity_status",
            fields.get("entity_status", "ACTIVE"),
            FUNDING_INSTRUMENT_STATUSES,
        )
        able = boolean("funding_instrument.able_to_fund", fields.get("able_to_fund", status == "ACTIVE"))
        now = now_iso()

        def build(new_id: str) -> dict[str, Any]:
            return {
                "account_id": account_id,
                "id": new_id,
                "name": f"Funding instrument {new_id}",
                "description": f"Funding instrument {new_id}",
                "type": "CREDIT_CARD",
                "currency": "USD",
                "start_time": now,
                "end_time": None,
                "credit_limit_local_micro": None,
                "funded_amount_local_micro": 0,
                "credit_remaining_local_micro": None,
                "io_header": None,
                "reasons_not_able_to_fund": [] if able else ["EXPIRED"],
                "created_at": now,
                "updated_at": now,
                "deleted": False,
                **fields,
                "entity_status": status,
                "able_to_fund": able,
            }

        return shape(self.store.create("funding_instruments", build), FUNDING_INSTRUMENT_KEYS)

    def admin_seed_line_items(self, campaign_id: str, count: int, **overrides: Any) -> list[str]:
        """Insert ``count`` line items under a campaign (bypassing the per-campaign limit), fast."""
        campaign = self.store.get("campaigns", campaign_id)
        if campaign is None:
            raise KeyError(f"campaign {campaign_id} not found")
        bad = sorted(set(overrides) - set(SEEDABLE_FIELDS))
        if bad:
            raise ConfigError(
                f"seed.overrides: unknown line item field{'s' if len(bad) > 1 else ''} "
                f"{', '.join(map(repr, bad))}; allowed: {', '.join(SEEDABLE_FIELDS)}",
                f"seed.overrides.{bad[0]}",
                SEEDABLE_FIELDS,
            )
        if "entity_status" in overrides:
            choice("seed.overrides.entity_status", overrides["entity_status"], v.ENTITY_STATUSES)
        if "deleted" in overrides:
            boolean("seed.overrides.deleted", overrides["deleted"])
        now = now_iso()
        base = {
            **SEED_DEFAULTS,
            "account_id": campaign["account_id"],
            "funding_instrument_id": campaign["funding_instrument_id"],
            "campaign_id": campaign_id,
            "created_at": now,
            "updated_at": now,
            **overrides,
        }
        return self.store.bulk_create("line_items", base, count, "bulk-{:06d}")


class BatchFailed(Exception):
    """A batch whose operations failed: nothing is applied; the body lists errors per operation."""

    def __init__(self, body: dict[str, Any]) -> None:
        super().__init__("batch failed")
        self.body = body
