"""The writable fields of line items, campaigns and targeting criteria, and the rules between them.

:data:`LINE_ITEM_FIELDS` is the one list of a line item's POST parameters: the endpoints, the operators'
arguments, template fields and docstrings are all derived from it.
"""

from __future__ import annotations

import dataclasses
from typing import Final

from airflow_provider_twads.api import vocabulary as vocab
from airflow_provider_twads.api.params.model import Kind, Param, Rule, RuleKind

__all__ = [
    "BUDGET_RULES",
    "CAMPAIGN_CREATE",
    "CAMPAIGN_CREATE_ONLY_FIELDS",
    "CAMPAIGN_FIELDS",
    "CAMPAIGN_UPDATE",
    "CAMPAIGN_UPDATE_FIELDS",
    "LINE_ITEM_CREATE",
    "LINE_ITEM_CREATE_ONLY_FIELDS",
    "LINE_ITEM_CREATE_RULES",
    "LINE_ITEM_FIELDS",
    "LINE_ITEM_UPDATE",
    "LINE_ITEM_UPDATE_FIELDS",
    "LINE_ITEM_VALUE_RULES",
    "TARGETING_CRITERION_CREATE",
]

# Budgets, like the other optional settings marked ``clearable``, are removed on update by sending them
# empty (``""``): fundamentals/making-authenticated-requests.mdx. ``None`` means "not given" everywhere.
MONEY: Final = Param(Kind.INT, minimum=1, clearable=True)
BOOL: Final = Param(Kind.BOOL)


def _money(doc: str, *, clearable: bool = True) -> Param:
    return dataclasses.replace(MONEY, clearable=clearable, doc=doc)


# Line items (current-line-items.mdx, POST accounts/:account_id/line_items, v12). start_time/end_time are
# marked "required" on today's POST page but not on the older page, and the batch example omits them: the
# emulator and the client treat them as optional.
LINE_ITEM_FIELDS: Final[dict[str, Param]] = {
    "campaign_id": Param(Kind.ID, doc="the campaign to create the line item in"),
    "objective": Param(
        Kind.ENUM,
        choices=vocab.ALL_OBJECTIVES,
        doc="the campaign objective, e.g. ``ENGAGEMENTS`` (legacy names such as ``TWEET_ENGAGEMENTS`` are "
        "accepted)",
    ),
    "placements": Param(Kind.ENUM_LIST, choices=vocab.PLACEMENTS, doc="where the ads may appear"),
    "product_type": Param(Kind.ENUM, choices=vocab.PRODUCT_TYPES, doc="the type of promoted content"),
    "start_time": Param(Kind.TIME, clearable=True, doc="when it starts serving"),
    "end_time": Param(Kind.TIME, clearable=True, doc='when it stops serving (``""`` on update: no end)'),
    "advertiser_domain": Param(doc="the advertiser's domain (required for ``PUBLISHER_NETWORK``)"),
    "android_app_store_identifier": Param(doc="the Google Play app ID"),
    "ios_app_store_identifier": Param(doc="the App Store app ID"),
    "bid_amount_local_micro": _money("the bid in micros of the account currency", clearable=False),
    "categories": Param(
        Kind.ID_LIST, clearable=True, doc="IAB categories (required for ``PUBLISHER_NETWORK``)"
    ),
    "primary_web_event_tag": Param(doc="the primary web event tag (required for ``WEBSITE_CONVERSIONS``)"),
    "advertiser_user_id": Param(Kind.ID, doc="the promoting handle's user ID (for ``PREROLL_VIEWS``)"),
    "audience_expansion": Param(
        Kind.ENUM,
        choices=vocab.AUDIENCE_EXPANSIONS,
        clearable=True,
        doc="how far to expand the targeted audience",
    ),
    "bid_strategy": Param(Kind.ENUM, choices=vocab.BID_STRATEGIES, doc="the bidding mechanism"),
    "duration_in_days": Param(
        Kind.ENUM, choices=vocab.DURATION_IN_DAYS, clearable=True, doc="the frequency-cap window"
    ),
    "entity_status": Param(Kind.ENUM, choices=vocab.ENTITY_STATUSES, doc="the line item status"),
    "frequency_cap": Param(Kind.INT, minimum=1, clearable=True, doc="the maximum impressions per user"),
    "goal": Param(Kind.ENUM, choices=vocab.GOALS, doc="the optimisation goal"),
    "name": Param(max_length=vocab.LINE_ITEM_NAME_MAX_LENGTH, doc="the line item name"),
    "pay_by": Param(Kind.ENUM, choices=vocab.PAY_BY, doc="the billing unit"),
    "standard_delivery": Param(Kind.BOOL, doc="standard (``True``) or accelerated delivery"),
    "total_budget_amount_local_micro": _money("the total budget in micros"),
    "daily_budget_amount_local_micro": _money("the daily budget in micros"),
}
#: Fields that cannot change after creation (not on the PUT page).
LINE_ITEM_CREATE_ONLY_FIELDS: Final[tuple[str, ...]] = (
    *vocab.LINE_ITEM_IMMUTABLE_FIELDS,
    "standard_delivery",
)
LINE_ITEM_UPDATE_FIELDS: Final[tuple[str, ...]] = tuple(
    f for f in LINE_ITEM_FIELDS if f not in LINE_ITEM_CREATE_ONLY_FIELDS
)
LINE_ITEM_CREATE: Final[dict[str, Param]] = {
    k: (dataclasses.replace(p, required=True) if k in vocab.LINE_ITEM_CREATE_REQUIRED else p)
    for k, p in LINE_ITEM_FIELDS.items()
}
LINE_ITEM_UPDATE: Final[dict[str, Param]] = {k: LINE_ITEM_FIELDS[k] for k in LINE_ITEM_UPDATE_FIELDS} | {
    "entity_status": dataclasses.replace(
        LINE_ITEM_FIELDS["entity_status"], choices=vocab.UPDATABLE_ENTITY_STATUSES
    )
}

BUDGET_RULES: Final = (
    Rule(
        RuleKind.NOT_GREATER,
        ("daily_budget_amount_local_micro", "total_budget_amount_local_micro"),
        why="the daily budget should be less than or equal to the total budget",
    ),
)
LINE_ITEM_VALUE_RULES: Final = (
    Rule(
        RuleKind.NOT_VALUE_WHEN,
        ("bid_strategy",),
        when="objective",
        values=vocab.OBJECTIVES_WITHOUT_MAX_BID,
        forbidden=("MAX",),
        why="bid_strategy MAX is not available when the objective is REACH or FOLLOWERS",
    ),
    Rule(
        RuleKind.VALUE_ONLY_WHEN,
        ("bid_strategy",),
        when="objective",
        values=vocab.OBJECTIVES_WITH_TARGET_BID,
        forbidden=("TARGET",),
        why="bid_strategy TARGET is available only with the objectives REACH, FOLLOWERS or WEBSITE_CLICKS",
    ),
    Rule(
        RuleKind.REQUIRED_WHEN,
        ("bid_amount_local_micro",),
        when="bid_strategy",
        values=vocab.BID_STRATEGIES_REQUIRING_BID,
        why="bid_amount_local_micro is required when bid_strategy is MAX or TARGET",
    ),
    Rule(
        RuleKind.ONLY_WHEN,
        ("frequency_cap",),
        when="objective",
        values=vocab.OBJECTIVES_WITH_FREQUENCY_CAP,
        why="frequency_cap is only supported for REACH, ENGAGEMENTS, VIDEO_VIEWS and PREROLL_VIEWS",
    ),
    Rule(
        RuleKind.REQUIRED_WHEN,
        ("primary_web_event_tag",),
        when="goal",
        values=("WEBSITE_CONVERSIONS",),
        why="primary_web_event_tag is required when the goal is WEBSITE_CONVERSIONS",
    ),
    *BUDGET_RULES,
    Rule(
        RuleKind.NOT_GREATER,
        ("start_time", "end_time"),
        why="the line item would stop serving before it starts; swap the two or fix the template",
    ),
)
LINE_ITEM_CREATE_RULES: Final = (
    *LINE_ITEM_VALUE_RULES,
    Rule(
        RuleKind.REQUIRED_WHEN,
        ("advertiser_domain",),
        when="placements",
        values=("PUBLISHER_NETWORK",),
        why="advertiser_domain is required when placements include PUBLISHER_NETWORK",
    ),
    Rule(
        RuleKind.REQUIRED_WHEN,
        ("categories",),
        when="placements",
        values=("PUBLISHER_NETWORK",),
        why="categories is required when placements include PUBLISHER_NETWORK",
    ),
    Rule(
        RuleKind.ONE_OF_WHEN,
        vocab.APP_STORE_ID_PARAMS,
        when="objective",
        values=vocab.OBJECTIVES_REQUIRING_APP_ID,
        why="APP_INSTALLS and APP_ENGAGEMENTS require an app store identifier",
    ),
)

# Campaigns (current-campaigns.mdx). :data:`CAMPAIGN_FIELDS` feeds the campaign operators, as
# :data:`LINE_ITEM_FIELDS` feeds the line item ones.
CAMPAIGN_FIELDS: Final[dict[str, Param]] = {
    "funding_instrument_id": Param(Kind.ID, doc="the funding instrument the campaign spends from"),
    "name": Param(max_length=vocab.CAMPAIGN_NAME_MAX_LENGTH, doc="the campaign name"),
    "budget_optimization": Param(
        Kind.ENUM,
        choices=vocab.BUDGET_OPTIMIZATIONS,
        doc="where the budget is optimised: per line item or across the campaign",
    ),
    "daily_budget_amount_local_micro": _money(
        "the daily budget in micros of the funding instrument's currency"
    ),
    "total_budget_amount_local_micro": _money("the total budget in micros"),
    "entity_status": Param(Kind.ENUM, choices=vocab.ENTITY_STATUSES, doc="the campaign status"),
    "purchase_order_number": Param(
        max_length=vocab.PURCHASE_ORDER_NUMBER_MAX_LENGTH,
        clearable=True,
        doc="the booking reference, for invoice reconciliation",
    ),
    "standard_delivery": Param(Kind.BOOL, doc="deprecated at the campaign level (set it on line items)"),
}
#: Fields that cannot change after creation (not on the PUT page).
CAMPAIGN_CREATE_ONLY_FIELDS: Final[tuple[str, ...]] = ("funding_instrument_id",)
CAMPAIGN_UPDATE_FIELDS: Final[tuple[str, ...]] = tuple(
    f for f in CAMPAIGN_FIELDS if f not in CAMPAIGN_CREATE_ONLY_FIELDS
)
CAMPAIGN_CREATE: Final[dict[str, Param]] = {
    k: (dataclasses.replace(p, required=True) if k in ("funding_instrument_id", "name") else p)
    for k, p in CAMPAIGN_FIELDS.items()
}
CAMPAIGN_UPDATE: Final[dict[str, Param]] = {k: CAMPAIGN_FIELDS[k] for k in CAMPAIGN_UPDATE_FIELDS} | {
    "entity_status": dataclasses.replace(
        CAMPAIGN_FIELDS["entity_status"], choices=vocab.UPDATABLE_ENTITY_STATUSES
    )
}

# Targeting criteria (current-targeting-criteria.mdx).
TARGETING_CRITERION_CREATE: Final[dict[str, Param]] = {
    "line_item_id": Param(Kind.ID, required=True),
    # Required by the reference, omitted by its own batch example: the client fills in EQ.
    "operator_type": Param(Kind.ENUM, choices=vocab.OPERATOR_TYPES, default=vocab.DEFAULT_OPERATOR_TYPE),
    "targeting_type": Param(Kind.ENUM, required=True, choices=vocab.TARGETING_TYPES),
    "targeting_value": Param(required=True, blank=False, max_length=vocab.TARGETING_VALUE_MAX_LENGTH),
}
