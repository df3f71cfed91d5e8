"""The Ads API's vocabulary as the emulator enforces it, taken from ``../shared/spec`` (the API contract).

This is the emulator's own copy, on purpose: the emulator is the client's test peer and must be able to
catch the client being wrong, so it never imports the provider's tables. It imports nothing beyond the
standard library and holds no logic: only names, enums, renames and limits.

Sources are noted next to each block: ``current-*.mdx`` is today's (v12) reference; ``line-items.txt`` is
the older line items page whose vocabulary DAGs may still use (see ``LEGACY_*`` below).
"""

from __future__ import annotations

from typing import Final

# --------------------------------------------------------------------------------------------------------
# Versions (fundamentals/versioning.mdx)
# --------------------------------------------------------------------------------------------------------
API_VERSIONS: Final[tuple[str, ...]] = ("11", "12")
DEFAULT_API_VERSION: Final = "12"


# --------------------------------------------------------------------------------------------------------
# Resources (path segment under accounts/:account_id/) and their singular names / id parameters
# --------------------------------------------------------------------------------------------------------
RESOURCE_ID_PARAM: Final[dict[str, str]] = {
    "accounts": "account_id",
    "campaigns": "campaign_id",
    "line_items": "line_item_id",
    "targeting_criteria": "targeting_criterion_id",
    "promoted_tweets": "promoted_tweet_id",
}
# ``data_type`` values in list responses.
RESOURCE_DATA_TYPE: Final[dict[str, str]] = {
    "accounts": "account",
    "campaigns": "campaign",
    "line_items": "line_item",
    "targeting_criteria": "targeting_criterion",
    "promoted_tweets": "promoted_tweet",
    "funding_instruments": "funding_instrument",
    "features": "features",
}
# 404 codes by kind (fundamentals/error-codes-and-responses.mdx).
NOT_FOUND_CODES: Final[dict[str, str]] = {
    "campaigns": "CAMPAIGN_NOT_FOUND",
    "line_items": "LINE_ITEM_NOT_FOUND",
    "funding_instruments": "FUNDING_INSTRUMENT_NOT_FOUND",
    "targeting_criteria": "TARGETING_CRITERION_NOT_FOUND",
    "promoted_tweets": "PROMOTED_TWEET_NOT_FOUND",
}

# --------------------------------------------------------------------------------------------------------
# Current enums (v11/v12; current-line-items.mdx, current-campaigns.mdx, current-targeting-criteria.mdx)
# --------------------------------------------------------------------------------------------------------
OBJECTIVES: Final[tuple[str, ...]] = (
    "APP_ENGAGEMENTS",
    "APP_INSTALLS",
    "REACH",
    "FOLLOWERS",
    "ENGAGEMENTS",
    "VIDEO_VIEWS",
    "PREROLL_VIEWS",
    "WEBSITE_CLICKS",
)
# Objectives the API knows but which an account must be granted (forum-account-features-error.txt):
# saving them without the feature yields a 400 "requires one of these account features".
FEATURE_GATED_OBJECTIVES: Final[tuple[str, ...]] = ("QUALIFIED_IMPRESSIONS",)
ALL_OBJECTIVES: Final[tuple[str, ...]] = OBJECTIVES + FEATURE_GATED_OBJECTIVES

PRODUCT_TYPES: Final[tuple[str, ...]] = ("MEDIA", "PROMOTED_ACCOUNT", "PROMOTED_TWEETS")

PLACEMENTS: Final[tuple[str, ...]] = (
    "ALL_ON_TWITTER",
    "PUBLISHER_NETWORK",
    "TAP_BANNER",
    "TAP_FULL",
    "TAP_FULL_LANDSCAPE",
    "TAP_NATIVE",
    "TAP_MRECT",
    "TWITTER_PROFILE",
    "TWITTER_REPLIES",
    "TWITTER_SEARCH",
    "TWITTER_TIMELINE",
)

BID_STRATEGIES: Final[tuple[str, ...]] = ("AUTO", "MAX", "TARGET")
# bid_amount_local_micro is required with these bid strategies.
BID_STRATEGIES_REQUIRING_BID: Final[tuple[str, ...]] = ("MAX", "TARGET")
# "MAX ... is not available when the objective is set to REACH or FOLLOWERS".
OBJECTIVES_WITHOUT_MAX_BID: Final[tuple[str, ...]] = ("REACH", "FOLLOWERS")
# "TARGET ... is available when the objective is set to REACH, FOLLOWERS, or WEBSITE_CLICKS" (POST page).
OBJECTIVES_WITH_TARGET_BID: Final[tuple[str, ...]] = ("REACH", "FOLLOWERS", "WEBSITE_CLICKS")

GOALS: Final[tuple[str, ...]] = (
    "APP_CLICKS",
    "APP_INSTALLS",
    "APP_PURCHASES",
    "ENGAGEMENT",
    "FOLLOWERS",
    "LINK_CLICKS",
    "MAX_REACH",
    "PREROLL",
    "PREROLL_STARTS",
    "REACH_WITH_ENGAGEMENT",
    "SITE_VISITS",
    "VIDEO_VIEW",
    "VIEW_3S_100PCT",
    "VIEW_6S",
    "VIEW_15S",
    "WEBSITE_CONVERSIONS",
)
# The documented values, and those only seen in responses (ENGAGEMENT in the reference's own example line
# items; FOLLOW and VIEW as the objectives' defaults): what the API returns, it takes back.
PAY_BY: Final[tuple[str, ...]] = ("APP_CLICK", "IMPRESSION", "LINK_CLICK", "ENGAGEMENT", "FOLLOW", "VIEW")

ENTITY_STATUSES: Final[tuple[str, ...]] = ("ACTIVE", "DRAFT", "PAUSED")
DRAFT_STATUS: Final = "DRAFT"

AUDIENCE_EXPANSIONS: Final[tuple[str, ...]] = ("BROAD", "DEFINED", "EXPANDED")
INCLUDE_SENTIMENTS: Final[tuple[str, ...]] = ("ALL", "POSITIVE_ONLY")
DURATION_IN_DAYS: Final[tuple[int, ...]] = (1, 7, 30)
BUDGET_OPTIMIZATIONS: Final[tuple[str, ...]] = ("CAMPAIGN", "LINE_ITEM")  # current-campaigns.mdx
# "APP_INSTALLS and APP_ENGAGEMENTS objectives require setting at least one app store identifier".
OBJECTIVES_REQUIRING_APP_ID: Final[tuple[str, ...]] = ("APP_INSTALLS", "APP_ENGAGEMENTS")
APP_STORE_ID_PARAMS: Final[tuple[str, ...]] = ("android_app_store_identifier", "ios_app_store_identifier")
# frequency_cap "Only supported for REACH, ENGAGEMENTS, VIDEO_VIEWS, and PREROLL_VIEWS objectives".
OBJECTIVES_WITH_FREQUENCY_CAP: Final[tuple[str, ...]] = (
    "REACH",
    "ENGAGEMENTS",
    "VIDEO_VIEWS",
    "PREROLL_VIEWS",
)

# Line item parameters (POST/PUT accounts/:account_id/line_items, v12).
LINE_ITEM_NAME_MAX_LENGTH: Final = 255

# Campaign parameters (current-campaigns.mdx).
CAMPAIGN_NAME_MAX_LENGTH: Final = 255
PURCHASE_ORDER_NUMBER_MAX_LENGTH: Final = 50

# Targeting criteria (current-targeting-criteria.mdx).
OPERATOR_TYPES: Final[tuple[str, ...]] = ("EQ", "NE", "GTE", "LT")
DEFAULT_OPERATOR_TYPE: Final = "EQ"
KEYWORD_TARGETING_TYPES: Final[tuple[str, ...]] = (
    "BROAD_KEYWORD",
    "EXACT_KEYWORD",
    "PHRASE_KEYWORD",
    "UNORDERED_KEYWORD",
)
TARGETING_TYPES: Final[tuple[str, ...]] = (
    "AGE",
    "DEVICE",
    "EVENT",
    "CAMPAIGN_ENGAGEMENT",
    "CAMPAIGN_ENGAGEMENT_LOOKALIKE",
    "CONVERSATION",
    "ENGAGEMENT_TYPE",
    "FOLLOWERS_OF_USER",
    "GENDER",
    "INTEREST",
    "LANGUAGE",
    "LIVE_TV_EVENT",
    "LOCATION",
    "NETWORK_ACTIVATION_DURATION",
    "NETWORK_OPERATOR",
    "PLATFORM",
    "PLATFORM_VERSION",
    "SIMILAR_TO_FOLLOWERS_OF_USER",
    "TV_SHOW",
    "USER_ENGAGEMENT",
    "USER_ENGAGEMENT_LOOKALIKE",
    "WIFI_ONLY",
    *KEYWORD_TARGETING_TYPES,
    "CUSTOM_AUDIENCE",
    "CUSTOM_AUDIENCE_EXPANDED",
    "APP_STORE_CATEGORY",
    "APP_STORE_CATEGORY_LOOKALIKE",
    "APP_LIST",
)
# The set rules (checked against existing + new criteria of one line item):
# "It is only possible to target a single AGE bucket per line item."
SINGLE_PER_LINE_ITEM_TARGETING_TYPES: Final[tuple[str, ...]] = ("AGE",)
# "APP_LIST (may only be used with operator_type=NE)".
TARGETING_TYPE_REQUIRED_OPERATOR: Final[dict[str, str]] = {"APP_LIST": "NE"}
# "When using targeting type TV_SHOW, there must be at least one LOCATION targeting criterion on the line
# item prior to setting the TV_SHOW targeting".
TARGETING_TYPE_PREREQUISITES: Final[dict[str, str]] = {"TV_SHOW": "LOCATION"}

# Promoted tweets (current-promoted-tweets.mdx): no PUT; approval is decided by X.
PROMOTED_TWEET_APPROVAL_STATUSES: Final[tuple[str, ...]] = ("ACCEPTED", "PENDING", "REJECTED")

# Batch endpoints (POST batch/accounts/:account_id/<resource>).
BATCH_RESOURCE_OPERATION_TYPES: Final[dict[str, tuple[str, ...]]] = {
    "campaigns": ("Create", "Update", "Delete"),
    "line_items": ("Create", "Update", "Delete"),
    "targeting_criteria": ("Create", "Delete"),
}

# Account features (current-features.mdx). The features endpoint lists only beta/limited features.
FEATURE_KEYS_QUERYABLE: Final[tuple[str, ...]] = (
    "REACH_AND_FREQUENCY_ANALYTICS",
    "REACH_FREQUENCY_CAP",
    "WEBSITE_CLICKS_CPM_BILLING",
)
SANDBOX_FEATURE_KEYS: Final[tuple[str, ...]] = (
    "AGE_TARGETING",
    "ALLOW_SKIPPABLE_VIDEOS_FOR_PREROLL_VIEWS_OBJECTIVE",
    "AWARENESS_OBJECTIVE",
    "BRAND_TPN",
    "CHARGE_FOR_GOOD_CLICK",
    "CONVERSATION_CARD",
    "CONVERSATION_CARD_FOUR_OPTIONS",
    "CONVERSATION_CARD_UNLOCK",
    "CPI_CHARGING",
    "DIRECT_MESSAGE_CARD",
    "DR_TAP",
    "ENGAGER_RETARGETING",
    "EVENT_TARGETING",
    "INSTALLED_APP_CATEGORY_TARGETING",
    "MOBILE_CONVERSION_TRANSACTION_VALUE",
    "OPTIMIZED_ACTION_BIDDING",
    "REACH_AND_FREQUENCY_ANALYTICS",
    "REACH_FREQUENCY_CAP",
    "VALIDATED_AGE_TARGETING",
    "VIDEO_VIEWS_MIDROLL_OBJECTIVE",
    "PREROLL_VIEWS_OBJECTIVE",
    "VIDEO_APP_DOWNLOAD_CARD",
)
# Objective -> the account features of which the account needs one (forum-account-features-error.txt:
# saving QUALIFIED_IMPRESSIONS "requires one of these account features: QUALIFIED_VIEWS").
OBJECTIVE_REQUIRED_FEATURES: Final[dict[str, tuple[str, ...]]] = {
    "QUALIFIED_IMPRESSIONS": ("QUALIFIED_VIEWS",),
}
# Names that refer to the same product (the forum thread: "these two names refer to the same product").
SAME_PRODUCT_NAMES: Final[tuple[tuple[str, ...], ...]] = (("QUALIFIED_IMPRESSIONS", "QUALIFIED_VIEWS"),)
# The marker in an error message that names missing account features.
ACCOUNT_FEATURE_ERROR_MARKER: Final = "requires one of these account features"
# The message when pausing/activating a draft through the API (draft-campaigns-announcement.txt).
DRAFT_ERROR_MESSAGE: Final = "Draft entities can only be activated or paused via the Twitter Ads UI"

# --------------------------------------------------------------------------------------------------------
# Legacy vocabulary (line-items.txt, written against an older API version) -> current names
# --------------------------------------------------------------------------------------------------------
LEGACY_OBJECTIVES: Final[dict[str, str]] = {
    "TWEET_ENGAGEMENTS": "ENGAGEMENTS",
    "AWARENESS": "REACH",
    "VIDEO_VIEWS_PREROLL": "PREROLL_VIEWS",
}
# ``automatically_select_bid=true`` -> ``bid_strategy=AUTO`` (and false means "the caller sets a bid").
LEGACY_AUTOMATICALLY_SELECT_BID: Final = "automatically_select_bid"
# Value maps for the renamed parameters, keyed by the OLD parameter name. A value mapped to None has no
# current equivalent and is dropped (the API chooses the default); a value absent from a map is invalid.
LEGACY_PARAMETER_VALUES: Final[dict[str, dict[str, str | None]]] = {
    "bid_type": {"AUTO": "AUTO", "MAX": "MAX", "TARGET": "TARGET"},
    "lookalike_expansion": {"BROAD": "BROAD", "DEFINED": "DEFINED", "EXPANDED": "EXPANDED"},
    "charge_by": {"APP_CLICK": "APP_CLICK", "APP_INSTALL": "IMPRESSION", "ENGAGEMENT": None},
    "bid_unit": {
        "APP_CLICK": "APP_CLICKS",
        "APP_INSTALL": "APP_INSTALLS",
        "VIEW": "VIDEO_VIEW",
        "VIEW_3S_100PCT": "VIEW_3S_100PCT",
        "ENGAGEMENT": "ENGAGEMENT",
    },
    "optimization": {
        "DEFAULT": None,
        "ENGAGEMENTS": "ENGAGEMENT",
        "WEBSITE_CONVERSIONS": "WEBSITE_CONVERSIONS",
    },
}
# The older list filter (draft-campaigns-announcement.txt) and today's one; both are accepted.
LEGACY_DRAFT_FILTER: Final = "draft_only"
DRAFT_FILTER: Final = "with_draft"
# Older fields that may still be sent by DAGs and that the API no longer knows.
LEGACY_PAUSED_PARAMETER: Final = "paused"  # paused=true/false -> entity_status=PAUSED/ACTIVE

# --------------------------------------------------------------------------------------------------------
# Limits
# --------------------------------------------------------------------------------------------------------
COUNT_MIN: Final = 1
COUNT_MAX: Final = 1000
COUNT_DEFAULT: Final = 200
MAX_IDS_PER_FILTER: Final = 200  # campaign_ids, line_item_ids, ... "Up to 200 IDs may be provided."
MAX_TWEET_IDS_PER_REQUEST: Final = 50  # POST promoted_tweets tweet_ids
MAX_TARGETING_CRITERIA_PER_BATCH: Final = 500
MAX_LINE_ITEMS_PER_BATCH: Final = 40  # current-line-items.mdx (the older line-items.txt said 20)
MAX_CAMPAIGNS_PER_BATCH: Final = 40
# The server-side maximum per batch request (what the emulator enforces).
BATCH_MAX_SIZES: Final[dict[str, int]] = {
    "line_items": MAX_LINE_ITEMS_PER_BATCH,
    "targeting_criteria": MAX_TARGETING_CRITERIA_PER_BATCH,
    "campaigns": MAX_CAMPAIGNS_PER_BATCH,
}
MAX_LINE_ITEMS_PER_CAMPAIGN: Final = 100

# --------------------------------------------------------------------------------------------------------
# Rate limits (fundamentals/rate-limiting.mdx)
# --------------------------------------------------------------------------------------------------------
# Categories the client paces by; each entry: (requests per window, window seconds, scope).
RATE_LIMIT_WRITES: Final = "writes"  # POST, PUT, DELETE: category, 450 per minute
RATE_LIMIT_CORE_READS: Final = "core_reads"  # GET campaigns, line items, ...: endpoint, per ad account
RATE_LIMIT_TARGETING: Final = "targeting_criteria"  # category, 400 per 15 minutes
RATE_LIMIT_TOTAL_COUNT: Final = "total_count"  # requests with with_total_count=true: 200 per 15 minutes
RATE_LIMIT_ACCOUNT_READS: Final = "account_reads"  # other GETs with :account_id: 2000 per 15 minutes
RATE_LIMIT_GLOBAL_READS: Final = "global_reads"  # GETs without :account_id (GET accounts): 5 per 15 minutes
RATE_LIMIT_ANALYTICS: Final = "analytics"  # sync stats and active entities: 250 per 15 minutes, per user
RATE_LIMIT_CATEGORIES: Final[dict[str, tuple[int, int, str]]] = {
    RATE_LIMIT_WRITES: (450, 60, "category"),
    RATE_LIMIT_CORE_READS: (10_000, 900, "endpoint"),
    RATE_LIMIT_TARGETING: (400, 900, "category"),
    RATE_LIMIT_TOTAL_COUNT: (200, 900, "endpoint"),
    RATE_LIMIT_ACCOUNT_READS: (2000, 900, "endpoint"),
    RATE_LIMIT_GLOBAL_READS: (5, 900, "endpoint"),
    RATE_LIMIT_ANALYTICS: (250, 900, "category"),
}
# Response headers.
RETRY_AFTER_HEADER: Final = "retry-after"
API_VERSION_HEADER: Final = "x-current-api-version"

# --------------------------------------------------------------------------------------------------------
# Error codes (fundamentals/error-codes-and-responses.mdx), the ones the client treats specially
# --------------------------------------------------------------------------------------------------------
ERROR_INVALID_PARAMETER: Final = "INVALID_PARAMETER"
ERROR_MISSING_PARAMETER: Final = "MISSING_PARAMETER"
ERROR_EXCLUSIVE_PARAMETERS: Final = "EXCLUSIVE_PARAMETERS"
ERROR_TOO_MANY_LINE_ITEMS: Final = "TOO_MANY_LINE_ITEMS"
ERROR_UNAUTHORIZED_ACCESS: Final = "UNAUTHORIZED_ACCESS"
ERROR_UNAUTHORIZED_CLIENT_APPLICATION: Final = "UNAUTHORIZED_CLIENT_APPLICATION"
ERROR_ACCOUNT_NOT_FOUND: Final = "ACCOUNT_NOT_FOUND"
ERROR_TOO_MANY_REQUESTS: Final = "TOO_MANY_REQUESTS"
ERROR_INTERNAL_ERROR: Final = "INTERNAL_ERROR"
ERROR_SERVICE_UNAVAILABLE: Final = "SERVICE_UNAVAILABLE"
