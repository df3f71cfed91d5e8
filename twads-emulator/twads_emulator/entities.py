"""What every endpoint family shares: response shapes, the request context, and the base class whose
helpers find, list, delete and render entities (one module per family builds on it)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from twads_emulator import vocabulary as v
from twads_emulator.params import ApiError, Listing, Params, invalid, now_iso
from twads_emulator.store import Store

# ---- response shapes (key order as in the current-*.mdx examples) ------------------------------------
ACCOUNT_KEYS = (
    "name", "business_name", "timezone", "timezone_switch_at", "id", "created_at", "updated_at",
    "business_id", "approval_status", "deleted",
)  # fmt: skip
CAMPAIGN_KEYS = (
    "name", "budget_optimization", "reasons_not_servable", "servable", "purchase_order_number",
    "effective_status", "daily_budget_amount_local_micro", "funding_instrument_id", "duration_in_days",
    "standard_delivery", "total_budget_amount_local_micro", "id", "entity_status", "frequency_cap",
    "currency", "created_at", "updated_at", "deleted",
)  # fmt: skip
LINE_ITEM_KEYS = (
    "advertiser_user_id", "name", "placements", "start_time", "bid_amount_local_micro",
    "advertiser_domain", "target_cpa_local_micro", "primary_web_event_tag", "goal",
    "daily_budget_amount_local_micro", "product_type", "end_time", "funding_instrument_id", "bid_strategy",
    "duration_in_days", "standard_delivery", "total_budget_amount_local_micro", "objective", "id",
    "entity_status", "automatic_tweet_promotion", "frequency_cap", "android_app_store_identifier",
    "categories", "currency", "pay_by", "created_at", "ios_app_store_identifier", "updated_at",
    "campaign_id", "creative_source", "deleted",
)  # fmt: skip
CRITERION_KEYS = (
    "line_item_id", "name", "id", "operator_type", "created_at", "targeting_value", "updated_at",
    "deleted", "targeting_type",
)  # fmt: skip
PROMOTED_TWEET_KEYS = (
    "line_item_id", "id", "entity_status", "created_at", "updated_at", "approval_status", "tweet_id",
    "deleted",
)  # fmt: skip
FUNDING_INSTRUMENT_KEYS = (
    "start_time", "description", "name", "credit_limit_local_micro", "end_time", "id", "entity_status",
    "account_id", "reasons_not_able_to_fund", "io_header", "currency", "funded_amount_local_micro",
    "created_at", "type", "able_to_fund", "updated_at", "credit_remaining_local_micro", "deleted",
)  # fmt: skip
# What the admin API may set on a funding instrument it adds (tests: one, several or no active ones).
FUNDING_INSTRUMENT_FIELDS = ("name", "description", "type", "currency", "entity_status", "able_to_fund")
FUNDING_INSTRUMENT_STATUSES = ("ACTIVE", "PAUSED", "CANCELLED")

SORTABLE = {
    "accounts": ("created_at", "updated_at", "deleted", "name"),
    "funding_instruments": ("created_at", "updated_at", "deleted"),
    "campaigns": (
        "created_at", "updated_at", "deleted", "name", "start_time", "end_time",
        "daily_budget_amount_local_micro", "total_budget_amount_local_micro", "standard_delivery",
    ),
    "line_items": ("created_at", "updated_at", "deleted", "bid_amount_local_micro", "name"),
    "targeting_criteria": ("created_at", "updated_at", "deleted", "name"),
    "promoted_tweets": ("created_at", "updated_at", "deleted", "entity_status"),
}  # fmt: skip


def shape(record: dict[str, Any], keys: tuple[str, ...]) -> dict[str, Any]:
    return {k: record.get(k) for k in keys}


def not_found(kind: str, id_: str) -> ApiError:
    """404 with the reference's code for the kind (``LINE_ITEM_NOT_FOUND``, ...)."""
    what = kind[:-1].replace("_", " ").replace("criteri", "criterion").capitalize()
    return ApiError(404, v.NOT_FOUND_CODES[kind], f"{what} {id_} not found")


def _read_status(p: Params, creating: bool, changes: dict[str, Any]) -> None:
    """``entity_status`` (DRAFT only on creation), or the older ``paused`` flag on updates; not both.

    :param p: the request's parameter reader.
    :param creating: True for a POST, False for a PUT.
    :param changes: the record changes being built; the status goes there.
    """
    # DRAFT parses on updates too: sent back unchanged it is a no-op; as a change, _check_draft refuses it.
    status = p.enum("entity_status", v.ENTITY_STATUSES)
    if status:
        changes["entity_status"] = status
    if not creating:
        paused = p.boolean(v.LEGACY_PAUSED_PARAMETER)
        if paused is not None:
            if status:
                raise ApiError(
                    400, v.ERROR_EXCLUSIVE_PARAMETERS, "paused and entity_status are exclusive", "paused"
                )
            changes["entity_status"] = "PAUSED" if paused else "ACTIVE"


@dataclass
class Context:
    """One API call: who, on which account, with which parameters."""

    method: str
    version: str
    account_id: str | None
    params: Params
    path_id: str | None = None
    body: Any = None  # parsed JSON body (batch endpoints)
    # What one request has already looked up, shared by a batch's operations (so that 500 criteria on one
    # line item read its parent and its targeting types once, not 500 times).
    memo: dict[tuple[str, str], Any] = field(default_factory=dict)


class EntityBase:
    """The state and helpers every endpoint family shares, over one :class:`Store`."""

    def __init__(self, store: Store) -> None:
        self.store = store

    # ---- helpers ------------------------------------------------------------------------------------
    def _entity(self, kind: str, ctx: Context, id_: str, *, with_deleted: bool = False) -> dict[str, Any]:
        record = self.store.get(kind, id_)
        if (
            record is None
            or record.get("account_id") != ctx.account_id
            or (record["deleted"] and not with_deleted)
        ):
            raise not_found(kind, id_)
        return record

    def _parent(self, kind: str, ctx: Context, id_: str, parameter: str) -> dict[str, Any]:
        record = self.store.get(kind, id_)
        if record is None or record.get("account_id") != ctx.account_id or record["deleted"]:
            raise ApiError(404, v.NOT_FOUND_CODES[kind], f"{parameter} {id_} does not exist", parameter)
        return record

    def account_features(self, account_id: str) -> list[str]:
        account = self.store.get("accounts", account_id)
        return list(account.get("_features", [])) if account else []

    @staticmethod
    def _drafts(params: Params) -> str:
        draft_only = params.boolean(v.LEGACY_DRAFT_FILTER, default=False)
        with_draft = params.boolean(v.DRAFT_FILTER, default=False)
        if draft_only:
            return "only"
        return "any" if with_draft else "exclude"

    def _list(
        self,
        ctx: Context,
        kind: str,
        keys: tuple[str, ...],
        filters: dict[str, str],
        *,
        drafts: bool = False,
        q: bool = False,
        render: Callable[[dict[str, Any]], dict[str, Any]] | None = None,
        extra_filters: dict[str, list[str]] | None = None,
        exclude_deleted_parents: bool = False,
    ) -> dict[str, Any]:
        p = ctx.params
        columns = {column: p.id_list(name) for name, column in filters.items()}
        listing = Listing(p, kind, SORTABLE[kind])
        draft_mode = self._drafts(p) if drafts else "any"
        name_prefix = p.string("q", max_len=255) if q else None
        p.finish()
        selected = {c: vals for c, vals in columns.items() if vals is not None}
        selected.update(extra_filters or {})
        rows, last_seq, total = self.store.query(
            kind,
            account_id=ctx.account_id,
            filters=selected,
            with_deleted=listing.with_deleted,
            drafts=draft_mode,
            name_prefix=name_prefix,
            exclude_deleted_parents=exclude_deleted_parents and not listing.with_deleted,
            sort=listing.sort,
            offset=listing.offset,
            after_seq=listing.after_seq if listing.sort is None else None,
            limit=listing.count,
            with_total=listing.with_total_count,
        )
        data = [render(r) if render else shape(r, keys) for r in rows]
        return listing.envelope(data, last_seq, total, p.echo, v.RESOURCE_DATA_TYPE.get(kind, kind))

    def _delete(self, kind: str, ctx: Context, id_: str) -> dict[str, Any]:
        record = self._entity(kind, ctx, id_)
        record["deleted"] = True
        record["updated_at"] = now_iso()
        self.store.update(kind, record)
        return record

    def _get_one(self, ctx: Context, kind: str, keys: tuple[str, ...]) -> dict[str, Any]:
        """GET one entity by the path's ID (``with_deleted`` the only parameter)."""
        with_deleted = ctx.params.boolean("with_deleted", default=False)
        ctx.params.finish()
        record = self._entity(kind, ctx, ctx.path_id or "", with_deleted=bool(with_deleted))
        return self._single(kind, shape(record, keys), ctx.params.echo)

    @staticmethod
    def _single(kind: str, data: Any, echo: dict[str, Any]) -> dict[str, Any]:
        """A single-entity response: ``data`` an object, and its ``data_type`` as real responses give it."""
        return {"request": {"params": echo}, "data_type": v.RESOURCE_DATA_TYPE[kind], "data": data}

    # ---- rules shared by campaigns and line items ------------------------------------------------------
    @staticmethod
    def _check_budgets(record: dict[str, Any]) -> None:
        daily, total = (
            record.get("daily_budget_amount_local_micro"),
            record.get("total_budget_amount_local_micro"),
        )
        if daily is not None and total is not None and daily > total:
            raise invalid(
                "daily_budget_amount_local_micro",
                "daily_budget_amount_local_micro must be less than or equal to "
                "total_budget_amount_local_micro",
            )

    @staticmethod
    def _status_fields(record: dict[str, Any]) -> None:
        active = record["entity_status"] == "ACTIVE"
        record["servable"] = active if record.get("servable") is not None or not active else True
        record["reasons_not_servable"] = [] if active else ["PAUSED_BY_ADVERTISER", "INCOMPLETE"]
        record["effective_status"] = "RUNNING" if active else "UNKNOWN"

    @staticmethod
    def _check_draft(record: dict[str, Any], changes: dict[str, Any], p: Params) -> None:
        """A status change on an update: none for a draft (only the Ads UI may), none into DRAFT; the
        entity's own status sent back is no change at all (a load-then-save)."""
        current, new = record.get("entity_status"), changes.get("entity_status")
        if "entity_status" not in changes or new == current:
            changes.pop("entity_status", None)
            return
        parameter = v.LEGACY_PAUSED_PARAMETER if p.has(v.LEGACY_PAUSED_PARAMETER) else "entity_status"
        if current == v.DRAFT_STATUS:
            raise invalid(parameter, v.DRAFT_ERROR_MESSAGE)
        if new == v.DRAFT_STATUS:
            raise invalid(
                parameter, "An entity cannot become a draft again; entity_status may be ACTIVE or PAUSED"
            )
