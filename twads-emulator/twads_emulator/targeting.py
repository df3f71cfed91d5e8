"""Targeting criteria: the set rules (one AGE bucket, APP_LIST only with NE, TV_SHOW after a LOCATION)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from twads_emulator import vocabulary as v
from twads_emulator.entities import CRITERION_KEYS, Context, EntityBase, shape
from twads_emulator.params import ApiError, Params, invalid, now_iso
from twads_emulator.seed import LOCALIZED_NAMES, TARGETING_VALUE_NAMES


class TargetingCriteria(EntityBase):
    """The targeting criteria endpoints."""

    # ---- targeting criteria -------------------------------------------------------------------------
    def _criterion_view(self, lang: str | None) -> Callable[[dict[str, Any]], dict[str, Any]]:
        def render(record: dict[str, Any]) -> dict[str, Any]:
            out = shape(record, CRITERION_KEYS)
            if record.get("location_type"):
                out["location_type"] = record["location_type"]
            if lang:
                out["localized_name"] = LOCALIZED_NAMES.get(lang, {}).get(record["name"], record["name"])
            return out

        return render

    def _lang(self, p: Params) -> str | None:
        lang = p.string("lang", max_len=8)
        if lang is not None and not (len(lang) == 2 and lang.isalpha()):
            raise invalid("lang", f"lang must be an ISO-639-1 language code, got {lang!r}")
        return lang.lower() if lang else None

    def list_targeting_criteria(self, ctx: Context) -> dict[str, Any]:
        p = ctx.params
        line_item_ids = p.id_list("line_item_ids", required=True)
        lang = self._lang(p)
        extra = {"parent_id": line_item_ids}
        if p.boolean(v.LEGACY_DRAFT_FILTER, default=False):
            drafts = {
                li["id"]
                for li in self.store.find("line_items", account_id=ctx.account_id, entity_status="DRAFT")
            }
            extra["parent_id"] = [i for i in line_item_ids if i in drafts]
        return self._list(
            ctx,
            "targeting_criteria",
            CRITERION_KEYS,
            {"targeting_criterion_ids": "id"},
            render=self._criterion_view(lang),
            extra_filters=extra,
        )

    def get_targeting_criterion(self, ctx: Context) -> dict[str, Any]:
        p = ctx.params
        lang = self._lang(p)
        with_deleted = p.boolean("with_deleted", default=False)
        p.finish()
        record = self._entity("targeting_criteria", ctx, ctx.path_id or "", with_deleted=bool(with_deleted))
        return self._single("targeting_criteria", self._criterion_view(lang)(record), p.echo)

    def create_targeting_criterion(self, ctx: Context) -> dict[str, Any]:
        record = self._create_criterion(ctx, ctx.params)
        return self._single("targeting_criteria", self._criterion_view(None)(record), ctx.params.echo)

    def _create_criterion(self, ctx: Context, p: Params) -> dict[str, Any]:
        line_item_id = p.string("line_item_id", required=True, max_len=64)
        ttype = p.enum("targeting_type", v.TARGETING_TYPES, required=True)
        value = p.string("targeting_value", required=True, max_len=1024)
        # Required on today's page, absent from its own examples: EQ when not given.
        operator = p.enum("operator_type", v.OPERATOR_TYPES) or v.DEFAULT_OPERATOR_TYPE
        p.finish()
        if ("line_item", line_item_id) not in ctx.memo:
            ctx.memo["line_item", line_item_id] = self._parent(
                "line_items", ctx, line_item_id, "line_item_id"
            )
        required_operator = v.TARGETING_TYPE_REQUIRED_OPERATOR.get(ttype)
        if required_operator and operator != required_operator:
            raise invalid("operator_type", f"{ttype} may only be used with operator_type={required_operator}")
        existing = self._targeting_types(ctx, line_item_id)
        if ttype in v.SINGLE_PER_LINE_ITEM_TARGETING_TYPES and ttype in existing:
            raise invalid(
                "targeting_type",
                f"It is only possible to target a single {ttype} bucket per line item; line item "
                f"{line_item_id} already has one",
            )
        prerequisite = v.TARGETING_TYPE_PREREQUISITES.get(ttype)
        if prerequisite and prerequisite not in existing:
            raise ApiError(
                400,
                "INVALID_TV_SHOW_LOCATIONS",
                f"{ttype} targeting needs at least one {prerequisite} targeting criterion on line item "
                f"{line_item_id} first",
                "targeting_type",
            )
        name, location_type = TARGETING_VALUE_NAMES.get(value, (value, None))
        if ttype != "LOCATION":
            name, location_type = value, None
        now = now_iso()
        record: dict[str, Any] = {
            "account_id": ctx.account_id,
            "line_item_id": line_item_id,
            "name": name,
            "operator_type": operator,
            "created_at": now,
            "targeting_value": value,
            "updated_at": now,
            "deleted": False,
            "targeting_type": ttype,
        }
        if location_type:
            record["location_type"] = location_type
        existing.add(ttype)
        return self.store.create("targeting_criteria", lambda new_id: {**record, "id": new_id})

    def _targeting_types(self, ctx: Context, line_item_id: str) -> set[str]:
        """The targeting types a line item's live criteria use (kept up to date through ``ctx.memo``)."""
        key = ("targeting_types", line_item_id)
        if key not in ctx.memo:
            ctx.memo[key] = self.store.distinct(
                "targeting_criteria", "targeting_type", account_id=ctx.account_id, parent_id=line_item_id,
                deleted=0,
            )  # fmt: skip
        types: set[str] = ctx.memo[key]
        return types

    def delete_targeting_criterion(self, ctx: Context) -> dict[str, Any]:
        ctx.params.finish()
        record = self._delete("targeting_criteria", ctx, ctx.path_id or "")
        return self._single("targeting_criteria", self._criterion_view(None)(record), ctx.params.echo)
