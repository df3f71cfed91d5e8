"""The endpoints' behaviour: validation rules, stateful rules and response shapes.

Responses always use today's (v12) names on both served versions (11 and 12); requests may use either
vocabulary (the spec README: "the emulator accepts both"). Legacy values are translated on the way in and
echoed as sent in ``request.params``.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from twads_emulator import vocabulary as v
from twads_emulator.config import ConfigError, boolean, check_object, choice, number
from twads_emulator.params import ApiError, Listing, Params, invalid, now_iso
from twads_emulator.seed import LOCALIZED_NAMES, TARGETING_VALUE_NAMES, line_item_defaults
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
    "id",
    "name",
    "type",
    "currency",
    "entity_status",
    "created_at",
    "updated_at",
    "deleted",
)

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

# Defaults the API derives from the objective.
DEFAULT_GOAL = {
    "ENGAGEMENTS": "ENGAGEMENT",
    "REACH": "MAX_REACH",
    "FOLLOWERS": "FOLLOWERS",
    "VIDEO_VIEWS": "VIDEO_VIEW",
    "PREROLL_VIEWS": "PREROLL",
    "WEBSITE_CLICKS": "LINK_CLICKS",
    "APP_INSTALLS": "APP_INSTALLS",
    "APP_ENGAGEMENTS": "APP_CLICKS",
    "QUALIFIED_IMPRESSIONS": "ENGAGEMENT",
}
DEFAULT_PAY_BY = {
    "ENGAGEMENTS": "ENGAGEMENT",
    "FOLLOWERS": "FOLLOW",
    "WEBSITE_CLICKS": "LINK_CLICK",
    "APP_ENGAGEMENTS": "APP_CLICK",
    "VIDEO_VIEWS": "VIEW",
    "PREROLL_VIEWS": "VIEW",
}
ADVERTISER_USER_ID = "756201191646691328"
# The fields of a bulk-seeded line item (admin seeding), which ``overrides`` may change; its account,
# campaign, funding instrument, ID and name are not overridable.
SEED_DEFAULTS: dict[str, Any] = {**line_item_defaults(), "standard_delivery": True, "entity_status": "PAUSED"}
SEEDABLE_FIELDS = (*SEED_DEFAULTS, "created_at", "updated_at")


def shape(record: dict[str, Any], keys: tuple[str, ...]) -> dict[str, Any]:
    return {k: record.get(k) for k in keys}


def not_found(kind: str, id_: str) -> ApiError:
    """404 with the reference's code for the kind (``LINE_ITEM_NOT_FOUND``, ...)."""
    what = kind[:-1].replace("_", " ").replace("criteri", "criterion").capitalize()
    return ApiError(404, v.NOT_FOUND_CODES[kind], f"{what} {id_} not found")


APPROVAL_MODES = ("immediate", "after", "manual")
_AFTER_KEYS = ("after_seconds", "seconds")
_APPROVAL_KEYS = ("mode", "status", *_AFTER_KEYS, "tweets")


def _after_seconds(where: str, spec: dict[str, Any]) -> float:
    """``after_seconds`` (or its alias ``seconds``; not both) as a number of seconds >= 0 (default 0)."""
    given = [k for k in _AFTER_KEYS if k in spec]
    if len(given) > 1:
        raise ConfigError(
            f"{where}: give 'after_seconds' or 'seconds', not both", f"{where}.seconds", _AFTER_KEYS
        )
    if not given:
        return 0.0
    return float(number(f"{where}.{given[0]}", spec[given[0]], minimum=0))


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
class Approval:
    """When and how promoted Tweets leave PENDING (set through the admin API)."""

    status: str = "ACCEPTED"  # or REJECTED, or PENDING (never decided)
    after_seconds: float = 0.0
    tweets: dict[str, tuple[str, float]] = field(default_factory=dict)

    @classmethod
    def parse(cls, spec: dict[str, Any] | None) -> Approval:
        """``{"status": "ACCEPTED", "after_seconds": 5, "tweets": {"123": "REJECTED"}}``.

        ``mode`` may be ``immediate`` (decided at once), ``after`` (needs ``after_seconds`` > 0) or
        ``manual`` (stays PENDING; no ``status``). A rule for one tweet ID (a status, or an object with
        ``status`` and ``after_seconds``) applies at once unless it says when. ``seconds`` is accepted for
        ``after_seconds``.

        :raises ConfigError: naming the key or value it does not understand, and the allowed ones.
        """
        spec = check_object("approval", {} if spec is None else spec, _APPROVAL_KEYS)
        mode = choice("approval.mode", spec["mode"], APPROVAL_MODES) if "mode" in spec else None
        status = "ACCEPTED"
        if "status" in spec:
            status = choice("approval.status", spec["status"], v.PROMOTED_TWEET_APPROVAL_STATUSES, upper=True)
        after = _after_seconds("approval", spec)
        if mode == "manual":
            if ("status" in spec and status != "PENDING") or after:
                raise ConfigError(
                    "approval: mode 'manual' leaves promoted Tweets PENDING; it takes no 'status' other "
                    "than PENDING and no 'after_seconds'",
                    "approval.mode",
                    APPROVAL_MODES,
                )
            status = "PENDING"
        elif mode == "immediate" and after:
            raise ConfigError(
                "approval: mode 'immediate' decides at once; remove 'after_seconds' or use mode 'after'",
                "approval.after_seconds",
            )
        elif mode == "after" and not after:
            raise ConfigError(
                "approval: mode 'after' needs 'after_seconds' > 0 (seconds after creation)",
                "approval.after_seconds",
            )
        tweets: dict[str, tuple[str, float]] = {}
        rules = spec.get("tweets", {})
        if not isinstance(rules, dict):
            raise ConfigError(
                "approval.tweets must be an object: tweet ID -> status, or -> {status, after_seconds}; "
                f"got {rules!r}",
                "approval.tweets",
            )
        for tweet_id, rule in rules.items():
            where = f"approval.tweets.{tweet_id}"
            if isinstance(rule, str):
                rule = {"status": rule}
            rule = check_object(where, rule, ("status", *_AFTER_KEYS), required=("status",))
            tweet_status = choice(
                f"{where}.status", rule["status"], v.PROMOTED_TWEET_APPROVAL_STATUSES, upper=True
            )
            tweets[str(tweet_id)] = (tweet_status, _after_seconds(where, rule))
        return cls(status, after, tweets)

    def decide(self, tweet_id: str, created_epoch: float, now: float) -> str:
        status, after = self.tweets.get(tweet_id, (self.status, self.after_seconds))
        return status if now >= created_epoch + after else "PENDING"


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


class Resources:
    """Handlers for every API endpoint, over one :class:`Store`."""

    def __init__(self, store: Store, approval: dict[str, Any] | None = None) -> None:
        self.store = store
        self._start_approval = Approval.parse(approval)
        self.approval = self._start_approval

    def reset(self) -> None:
        self.approval = self._start_approval

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

    @staticmethod
    def _single(kind: str, data: Any, echo: dict[str, Any]) -> dict[str, Any]:
        """A single-entity response: ``data`` an object, and its ``data_type`` as real responses give it."""
        return {"request": {"params": echo}, "data_type": v.RESOURCE_DATA_TYPE[kind], "data": data}

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
        with_deleted = ctx.params.boolean("with_deleted", default=False)
        ctx.params.finish()
        record = self._entity("funding_instruments", ctx, ctx.path_id or "", with_deleted=bool(with_deleted))
        return self._single("funding_instruments", shape(record, FUNDING_INSTRUMENT_KEYS), ctx.params.echo)

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
        with_deleted = ctx.params.boolean("with_deleted", default=False)
        ctx.params.finish()
        record = self._entity("campaigns", ctx, ctx.path_id or "", with_deleted=bool(with_deleted))
        return self._single("campaigns", shape(record, CAMPAIGN_KEYS), ctx.params.echo)

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

    # ---- line items ---------------------------------------------------------------------------------
    def list_line_items(self, ctx: Context) -> dict[str, Any]:
        return self._list(
            ctx,
            "line_items",
            LINE_ITEM_KEYS,
            {
                "line_item_ids": "id",
                "campaign_ids": "parent_id",
                "funding_instrument_ids": "funding_instrument_id",
            },
            drafts=True,
            q=True,
        )

    def get_line_item(self, ctx: Context) -> dict[str, Any]:
        with_deleted = ctx.params.boolean("with_deleted", default=False)
        ctx.params.finish()
        record = self._entity("line_items", ctx, ctx.path_id or "", with_deleted=bool(with_deleted))
        return self._single("line_items", shape(record, LINE_ITEM_KEYS), ctx.params.echo)

    def _line_item_fields(self, p: Params, creating: bool) -> tuple[dict[str, Any], dict[str, Any]]:
        """Parse line item parameters in either vocabulary.

        :return: (changes in today's names, facts about how they were given, for the bid rules).
        """
        changes: dict[str, Any] = {}
        given: dict[str, Any] = {}

        def put(name: str, value: Any) -> None:
            if value is not None or p.has(name):
                changes[name] = value

        if creating:
            changes["campaign_id"] = p.string("campaign_id", required=True, max_len=64)
            changes["objective"] = p.enum(
                "objective", v.ALL_OBJECTIVES, required=True, legacy=v.LEGACY_OBJECTIVES
            )
            changes["product_type"] = p.enum("product_type", v.PRODUCT_TYPES, required=True)
            changes["placements"] = p.enum_list("placements", v.PLACEMENTS, required=True)
        name = p.string("name", max_len=v.LINE_ITEM_NAME_MAX_LENGTH, min_len=1)
        put("name", name)
        for t in ("start_time", "end_time"):
            put(t, p.time(t))
        for s in ("advertiser_domain", "android_app_store_identifier", "ios_app_store_identifier",
                  "primary_web_event_tag", "advertiser_user_id"):  # fmt: skip
            put(s, p.string(s, max_len=255))
        put("bid_amount_local_micro", p.integer("bid_amount_local_micro", minimum=1))
        for amount in ("total_budget_amount_local_micro", "daily_budget_amount_local_micro"):
            put(amount, p.integer(amount, minimum=1))
        categories = p.string_list("categories")
        if categories is not None:
            changes["categories"] = categories
        put("duration_in_days", p.integer("duration_in_days", minimum=1, maximum=30))
        if changes.get("duration_in_days") not in (None, *v.DURATION_IN_DAYS):
            raise invalid("duration_in_days", f"duration_in_days must be one of {list(v.DURATION_IN_DAYS)}")
        put("frequency_cap", p.integer("frequency_cap", minimum=1, maximum=10_000))
        _read_status(p, creating, changes)
        sd = p.boolean("standard_delivery")
        if sd is not None:
            changes["standard_delivery"] = sd
        # Older page only (stored, not returned by today's API).
        sentiment = p.enum("include_sentiment", v.INCLUDE_SENTIMENTS)
        if sentiment:
            changes["include_sentiment"] = sentiment
            given["include_sentiment"] = True
        tags = p.string_list("tracking_tags")
        if tags is not None:
            changes["tracking_tags"] = tags

        # Renamed parameters: each current name may come from one legacy name, never from both.
        def renamed(current: str, allowed: tuple[str, ...], legacy_names: tuple[str, ...]) -> None:
            sent = [n for n in (current, *legacy_names) if p.has(n)]
            if len(sent) > 1:
                raise ApiError(
                    400,
                    v.ERROR_EXCLUSIVE_PARAMETERS,
                    f"{' and '.join(sent)} are exclusive parameters (the same setting in two vocabularies)",
                    sent[1],
                )
            if not sent:
                return
            name = sent[0]
            if name == current:
                value = p.enum(name, allowed)
            else:
                values = v.LEGACY_PARAMETER_VALUES[name]
                value = p.enum(name, tuple(values), legacy=None)
                value = values[value] if value is not None else None
            changes[current] = value
            given[current] = name

        renamed("bid_strategy", v.BID_STRATEGIES, ("bid_type",))
        renamed("audience_expansion", v.AUDIENCE_EXPANSIONS, ("lookalike_expansion",))
        renamed("pay_by", v.PAY_BY, ("charge_by",))
        renamed("goal", v.GOALS, ("bid_unit", "optimization"))
        auto = p.boolean(v.LEGACY_AUTOMATICALLY_SELECT_BID)
        if auto is not None:
            if "bid_strategy" in given:
                raise ApiError(
                    400,
                    v.ERROR_EXCLUSIVE_PARAMETERS,
                    f"automatically_select_bid and {given['bid_strategy']} cannot be set in the same request",
                    v.LEGACY_AUTOMATICALLY_SELECT_BID,
                )
            given["automatically_select_bid"] = auto
            if auto:
                changes["bid_strategy"] = "AUTO"
        return changes, given

    def _check_line_item(
        self, record: dict[str, Any], changes: dict[str, Any], given: dict[str, Any]
    ) -> None:
        """The documented per-entity rules, on the merged record."""
        objective = record["objective"]
        strategy = changes.get("bid_strategy") or (
            None if "bid_amount_local_micro" in changes else record.get("bid_strategy")
        )
        bid = record.get("bid_amount_local_micro")
        if strategy is None:
            if given.get("automatically_select_bid") is False and bid is None:
                raise ApiError(
                    400,
                    v.ERROR_MISSING_PARAMETER,
                    "bid_amount_local_micro is required when automatically_select_bid is false",
                    "bid_amount_local_micro",
                )
            if bid is None:
                strategy = "AUTO"
            else:
                strategy = "TARGET" if objective in v.OBJECTIVES_WITHOUT_MAX_BID else "MAX"
        bid_param = given.get("bid_strategy", "bid_strategy")
        if strategy in v.BID_STRATEGIES_REQUIRING_BID and bid is None:
            raise ApiError(
                400,
                v.ERROR_MISSING_PARAMETER,
                f"bid_amount_local_micro is required when {bid_param} is {strategy}",
                "bid_amount_local_micro",
            )
        if strategy == "MAX" and objective in v.OBJECTIVES_WITHOUT_MAX_BID:
            raise invalid(bid_param, f"{bid_param} MAX is not available with objective {objective}")
        if strategy == "TARGET" and objective not in v.OBJECTIVES_WITH_TARGET_BID:
            raise invalid(
                bid_param,
                f"{bid_param} TARGET is only available with objectives "
                f"{', '.join(v.OBJECTIVES_WITH_TARGET_BID)}",
            )
        record["bid_strategy"] = strategy
        if strategy == "AUTO":
            record["bid_amount_local_micro"] = (
                None  # "If set to AUTO, bid_amount_local_micro will be ignored."
            )
        placements = record.get("placements") or []
        if "PUBLISHER_NETWORK" in placements:
            if not record.get("advertiser_domain"):
                raise ApiError(
                    400,
                    v.ERROR_MISSING_PARAMETER,
                    "advertiser_domain is required when placements include PUBLISHER_NETWORK",
                    "advertiser_domain",
                )
            if not record.get("categories"):
                raise ApiError(
                    400,
                    v.ERROR_MISSING_PARAMETER,
                    "categories is required when placements include PUBLISHER_NETWORK",
                    "categories",
                )
        if given.get("include_sentiment"):
            if record["product_type"] != "PROMOTED_TWEETS":
                raise invalid(
                    "include_sentiment", "include_sentiment is only valid for product_type PROMOTED_TWEETS"
                )
            if not set(placements) <= {"ALL_ON_TWITTER", "TWITTER_TIMELINE"}:
                raise invalid(
                    "include_sentiment",
                    "include_sentiment is only valid with placements ALL_ON_TWITTER or TWITTER_TIMELINE",
                )
        if objective in v.OBJECTIVES_REQUIRING_APP_ID and not any(
            record.get(k) for k in v.APP_STORE_ID_PARAMS
        ):
            raise ApiError(
                400,
                v.ERROR_MISSING_PARAMETER,
                f"{objective} requires android_app_store_identifier or ios_app_store_identifier",
                "ios_app_store_identifier",
            )
        if record.get("frequency_cap") is not None and objective not in v.OBJECTIVES_WITH_FREQUENCY_CAP:
            raise invalid(
                "frequency_cap",
                f"frequency_cap is only supported for objectives "
                f"{', '.join(v.OBJECTIVES_WITH_FREQUENCY_CAP)}",
            )
        start, end = record.get("start_time"), record.get("end_time")
        if start and end and end <= start:
            raise invalid("end_time", "end_time must be after start_time")
        self._check_budgets(record)

    def _check_account_feature(self, ctx: Context, objective: str, p: Params) -> None:
        needed = v.OBJECTIVE_REQUIRED_FEATURES.get(objective)
        if not needed or set(needed) & set(self.account_features(ctx.account_id or "")):
            return
        # The exact shape and text of the forum thread's error (code INVALID, "attribute", internal name).
        internal = objective
        for group in v.SAME_PRODUCT_NAMES:
            if objective in group:
                internal = next(name for name in group if name != objective)
        features = ", ".join(needed)
        message = f"Saving value {internal} to field OBJECTIVE {v.ACCOUNT_FEATURE_ERROR_MARKER}: {features}"
        raise ApiError(
            400,
            "INVALID",
            message,
            errors=[{"code": "INVALID", "message": message, "attribute": "objective"}],
        )

    def _check_campaign_rules(self, ctx: Context, campaign: dict[str, Any], record: dict[str, Any]) -> None:
        where = {"account_id": ctx.account_id, "parent_id": campaign["id"], "deleted": 0}
        if self.store.count("line_items", **where) >= v.MAX_LINE_ITEMS_PER_CAMPAIGN:
            raise ApiError(
                400,
                v.ERROR_TOO_MANY_LINE_ITEMS,
                f"Campaign {campaign['id']} already has the maximum of {v.MAX_LINE_ITEMS_PER_CAMPAIGN} "
                "line items",
                "campaign_id",
            )
        for sibling in self.store.find("line_items", limit=1, **where):
            for attr in ("product_type", "objective"):
                if sibling[attr] != record[attr]:
                    raise invalid(
                        attr,
                        f"All line items within a campaign must be of the same product_type and objective: "
                        f"campaign {campaign['id']} has {sibling['product_type']} / {sibling['objective']}, "
                        f"got {record['product_type']} / {record['objective']}",
                    )

    def create_line_item(self, ctx: Context) -> dict[str, Any]:
        p = ctx.params
        record = self._create_line_item(ctx, p)
        return self._single("line_items", shape(record, LINE_ITEM_KEYS), p.echo)

    def _create_line_item(self, ctx: Context, p: Params) -> dict[str, Any]:
        changes, given = self._line_item_fields(p, creating=True)
        p.finish()
        campaign = self._parent("campaigns", ctx, changes["campaign_id"], "campaign_id")
        self._check_account_feature(ctx, changes["objective"], p)
        now = now_iso()
        record: dict[str, Any] = {
            "account_id": ctx.account_id,
            "advertiser_user_id": ADVERTISER_USER_ID,
            "name": None,
            "start_time": None,
            "bid_amount_local_micro": None,
            "advertiser_domain": None,
            "target_cpa_local_micro": None,
            "primary_web_event_tag": None,
            "goal": DEFAULT_GOAL.get(changes["objective"], "ENGAGEMENT"),
            "daily_budget_amount_local_micro": None,
            "end_time": None,
            "funding_instrument_id": campaign["funding_instrument_id"],
            "bid_strategy": None,
            "duration_in_days": None,
            "standard_delivery": True,
            "total_budget_amount_local_micro": None,
            "entity_status": "ACTIVE",
            "automatic_tweet_promotion": None,
            "frequency_cap": None,
            "android_app_store_identifier": None,
            "categories": [],
            "currency": "USD",
            "pay_by": DEFAULT_PAY_BY.get(changes["objective"], "IMPRESSION"),
            "created_at": now,
            "ios_app_store_identifier": None,
            "updated_at": now,
            "creative_source": "MANUAL",
            "deleted": False,
            "include_sentiment": "POSITIVE_ONLY" if changes["product_type"] == "PROMOTED_TWEETS" else None,
            "tracking_tags": [],
            "audience_expansion": None,
        }
        record.update(
            {k: val for k, val in changes.items() if val is not None or k not in ("goal", "pay_by")}
        )
        if "standard_delivery" not in changes:
            # Pacing applies to a budget: without one the API shows null (batch example), with one true.
            budgets = ("daily_budget_amount_local_micro", "total_budget_amount_local_micro")
            record["standard_delivery"] = True if any(record.get(b) for b in budgets) else None
        self._check_line_item(record, changes, given)
        self._check_campaign_rules(ctx, campaign, record)
        return self.store.create("line_items", lambda new_id: {**record, "id": new_id})

    def update_line_item(self, ctx: Context) -> dict[str, Any]:
        p = ctx.params
        record = self._update_line_item(ctx, p, ctx.path_id or "")
        return self._single("line_items", shape(record, LINE_ITEM_KEYS), p.echo)

    def _update_line_item(self, ctx: Context, p: Params, id_: str) -> dict[str, Any]:
        changes, given = self._line_item_fields(p, creating=False)
        p.finish()
        record = self._entity("line_items", ctx, id_)
        self._check_draft(record, changes, p)
        record.update(changes)
        # A legacy value with no current equivalent means "let the API choose" (the objective's default).
        if "goal" in changes and changes["goal"] is None:
            record["goal"] = DEFAULT_GOAL.get(record["objective"], "ENGAGEMENT")
        if "pay_by" in changes and changes["pay_by"] is None:
            record["pay_by"] = DEFAULT_PAY_BY.get(record["objective"], "IMPRESSION")
        self._check_line_item(record, changes, given)
        record["updated_at"] = now_iso()
        self.store.update("line_items", record)
        return record

    def delete_line_item(self, ctx: Context) -> dict[str, Any]:
        ctx.params.finish()
        record = self._delete("line_items", ctx, ctx.path_id or "")
        return self._single("line_items", shape(record, LINE_ITEM_KEYS), ctx.params.echo)

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

    # ---- promoted tweets ----------------------------------------------------------------------------
    def _promoted_view(self, record: dict[str, Any]) -> dict[str, Any]:
        if record["approval_status"] == "PENDING":
            decided = self.approval.decide(record["tweet_id"], record.get("_created_epoch", 0.0), time.time())
            if decided != "PENDING":
                record["approval_status"] = decided
                record["updated_at"] = now_iso()
                self.store.update("promoted_tweets", record)
        return shape(record, PROMOTED_TWEET_KEYS)

    def list_promoted_tweets(self, ctx: Context) -> dict[str, Any]:
        return self._list(
            ctx,
            "promoted_tweets",
            PROMOTED_TWEET_KEYS,
            {"promoted_tweet_ids": "id", "line_item_ids": "parent_id"},
            render=self._promoted_view,
            exclude_deleted_parents=True,
        )

    def get_promoted_tweet(self, ctx: Context) -> dict[str, Any]:
        with_deleted = bool(ctx.params.boolean("with_deleted", default=False))
        ctx.params.finish()
        record = self._entity("promoted_tweets", ctx, ctx.path_id or "", with_deleted=with_deleted)
        parent = self.store.get("line_items", record["line_item_id"])
        if parent is not None and parent["deleted"] and not with_deleted:
            raise not_found("promoted_tweets", record["id"])
        return self._single("promoted_tweets", self._promoted_view(record), ctx.params.echo)

    def create_promoted_tweets(self, ctx: Context) -> dict[str, Any]:
        p = ctx.params
        line_item_id = p.string("line_item_id", required=True, max_len=64)
        tweet_ids = p.long_list("tweet_ids", required=True, max_items=v.MAX_TWEET_IDS_PER_REQUEST)
        p.finish()
        self._parent("line_items", ctx, line_item_id, "line_item_id")
        now, epoch = now_iso(), time.time()
        created = []
        for tweet_id in tweet_ids:
            record = {
                "account_id": ctx.account_id,
                "line_item_id": line_item_id,
                "entity_status": "ACTIVE",
                "created_at": now,
                "updated_at": now,
                "approval_status": "PENDING",
                "tweet_id": str(tweet_id),
                "deleted": False,
                "_created_epoch": epoch,
            }
            created.append(self.store.create("promoted_tweets", lambda new_id, r=record: {**r, "id": new_id}))
        data = [self._promoted_view(r) for r in created]
        return {"data": data, "request": {"params": p.echo}, "total_count": len(data)}

    def delete_promoted_tweet(self, ctx: Context) -> dict[str, Any]:
        ctx.params.finish()
        record = self._delete("promoted_tweets", ctx, ctx.path_id or "")
        return self._single("promoted_tweets", self._promoted_view(record), ctx.params.echo)

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
        record["entity_status"] = status
        if kind == "campaigns":
            self._status_fields(record)
        record["updated_at"] = now_iso()
        self.store.update(kind, record)
        return record

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
