"""Line items: parameters in either vocabulary, the documented rules, create, update, delete."""

from __future__ import annotations

from typing import Any

from twads_emulator import vocabulary as v
from twads_emulator.entities import LINE_ITEM_KEYS, Context, EntityBase, _read_status, shape
from twads_emulator.params import ApiError, Params, invalid, now_iso
from twads_emulator.seed import line_item_defaults
from twads_emulator.stats import mark_status

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


class LineItems(EntityBase):
    """The line item endpoints."""

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
        return self._get_one(ctx, "line_items", LINE_ITEM_KEYS)

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
        mark_status(record, changes.get("entity_status"))
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
