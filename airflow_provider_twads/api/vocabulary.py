"""The Ads API's vocabulary as pure data, taken from ``../shared/spec`` (the API contract).

The client's parameter table, validation, chunking and pacing read it. The emulator keeps its own copy
(``twads_emulator/vocabulary.py``), so that its enforcement can catch the client being wrong. It imports
nothing beyond the standard library and holds no logic: only names, enums, renames and limits. Keep names
stable; append rather than rename. Parameter names and kinds live in :mod:`airflow_provider_twads.api.params`.

Sources are noted next to each block: ``current-*.mdx`` is today's (v12) reference; ``line-items.txt`` is
the older line items page whose vocabulary DAGs may still use (see ``LEGACY_*`` below).
"""

from __future__ import annotations

from typing import Final

# --------------------------------------------------------------------------------------------------------
# Versions and hosts (fundamentals/versioning.mdx, fundamentals/sandbox.mdx, spec README)
# --------------------------------------------------------------------------------------------------------
API_VERSIONS: Final[tuple[str, ...]] = ("11", "12")
DEFAULT_API_VERSION: Final = "12"

PRODUCTION_HOST: Final = "https://ads-api.x.com"
SANDBOX_HOST: Final = "https://ads-api-sandbox.x.com"
DEFAULT_HOST: Final = PRODUCTION_HOST
# Older pages say ads-api.twitter.com; the same service answers there.
LEGACY_HOSTS: Final[dict[str, str]] = {
    "https://ads-api.twitter.com": PRODUCTION_HOST,
    "https://ads-api-sandbox.twitter.com": SANDBOX_HOST,
}
# The Ads UI (for links and hints: drafts can only be activated or paused there).
ADS_UI_URL: Final = "https://ads.x.com"

# --------------------------------------------------------------------------------------------------------
# Resources (path segment under accounts/:account_id/) and their singular names / id parameters
# --------------------------------------------------------------------------------------------------------
RESOURCES: Final[tuple[str, ...]] = ("campaigns", "line_items", "targeting_criteria", "promoted_tweets")
RESOURCE_ID_PARAM: Final[dict[str, str]] = {
    "accounts": "account_id",
    "campaigns": "campaign_id",
    "line_items": "line_item_id",
    "targeting_criteria": "targeting_criterion_id",
    "promoted_tweets": "promoted_tweet_id",
}
# The filter on the list endpoint that scopes by these entities' own IDs.
RESOURCE_IDS_FILTER: Final[dict[str, str]] = {
    "accounts": "account_ids",
    "campaigns": "campaign_ids",
    "line_items": "line_item_ids",
    "targeting_criteria": "targeting_criterion_ids",
    "promoted_tweets": "promoted_tweet_ids",
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
# The documented values, then the ones the API returns (the reference's own example line items have
# ENGAGEMENT; FOLLOW and VIEW are the defaults of FOLLOWERS and VIDEO_VIEWS line items): a line item read
# and sent back unchanged must pass (spec README, "Where the two disagree").
PAY_BY_DOCUMENTED: Final[tuple[str, ...]] = ("APP_CLICK", "IMPRESSION", "LINK_CLICK")
PAY_BY: Final[tuple[str, ...]] = (*PAY_BY_DOCUMENTED, "ENGAGEMENT", "FOLLOW", "VIEW")

ENTITY_STATUSES: Final[tuple[str, ...]] = ("ACTIVE", "DRAFT", "PAUSED")
# What PUT accepts: a draft cannot be activated or paused through the API (draft-campaigns-announcement.txt).
UPDATABLE_ENTITY_STATUSES: Final[tuple[str, ...]] = ("ACTIVE", "PAUSED")

AUDIENCE_EXPANSIONS: Final[tuple[str, ...]] = ("BROAD", "DEFINED", "EXPANDED")
DURATION_IN_DAYS: Final[tuple[int, ...]] = (1, 7, 30)
# The reference documents LINE_ITEM only; CAMPAIGN (campaign budget optimization) came first and is still
# what older campaigns return and accept.
BUDGET_OPTIMIZATIONS: Final[tuple[str, ...]] = ("LINE_ITEM", "CAMPAIGN")
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

# Line item parameters (POST/PUT accounts/:account_id/line_items, v12). The parameters themselves, with their
# kinds, are listed once, in airflow_provider_twads/api/params/fields.py.
LINE_ITEM_CREATE_REQUIRED: Final[tuple[str, ...]] = (
    "campaign_id",
    "objective",
    "placements",
    "product_type",
)
# Fields that cannot change after creation (not on the PUT page).
LINE_ITEM_IMMUTABLE_FIELDS: Final[tuple[str, ...]] = (
    "campaign_id",
    "objective",
    "placements",
    "product_type",
)
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
PROMOTED_TWEET_TERMINAL_APPROVAL_STATUSES: Final[tuple[str, ...]] = ("ACCEPTED", "REJECTED")

# Batch endpoints (POST batch/accounts/:account_id/<resource>).
BATCH_RESOURCE_OPERATION_TYPES: Final[dict[str, tuple[str, ...]]] = {
    "campaigns": ("Create", "Update", "Delete"),
    "line_items": ("Create", "Update", "Delete"),
    "targeting_criteria": ("Create", "Delete"),
}

# Objective -> the account features of which the account needs one (forum-account-features-error.txt:
# saving QUALIFIED_IMPRESSIONS "requires one of these account features: QUALIFIED_VIEWS").
# Account features (current-features.mdx).
OBJECTIVE_REQUIRED_FEATURES: Final[dict[str, tuple[str, ...]]] = {
    "QUALIFIED_IMPRESSIONS": ("QUALIFIED_VIEWS",),
}
# Names that refer to the same product (the forum thread: "these two names refer to the same product").
SAME_PRODUCT_NAMES: Final[tuple[tuple[str, ...], ...]] = (("QUALIFIED_IMPRESSIONS", "QUALIFIED_VIEWS"),)
# The marker in an error message that names missing account features.
ACCOUNT_FEATURE_ERROR_MARKER: Final = "requires one of these account features"
# The message when pausing/activating a draft through the API (draft-campaigns-announcement.txt).
DRAFT_ERROR_MARKER: Final = "Draft entities can only be activated or paused"

# --------------------------------------------------------------------------------------------------------
# Legacy vocabulary (line-items.txt, written against an older API version) -> current names
# --------------------------------------------------------------------------------------------------------
LEGACY_OBJECTIVES: Final[dict[str, str]] = {
    "TWEET_ENGAGEMENTS": "ENGAGEMENTS",
    "AWARENESS": "REACH",
    "VIDEO_VIEWS_PREROLL": "PREROLL_VIEWS",
}
# Parameter renames whose values carry over unchanged (values are renamed by the per-parameter maps).
LEGACY_PARAMETERS: Final[dict[str, str]] = {
    "bid_type": "bid_strategy",
    "lookalike_expansion": "audience_expansion",
    "charge_by": "pay_by",
    "bid_unit": "goal",
    "optimization": "goal",
}
# ``automatically_select_bid=true`` -> ``bid_strategy=AUTO`` (and false means "the caller sets a bid").
LEGACY_AUTOMATICALLY_SELECT_BID: Final = "automatically_select_bid"
LEGACY_AUTOMATICALLY_SELECT_BID_TRUE: Final[tuple[str, str]] = ("bid_strategy", "AUTO")
# Value maps for the renamed parameters, keyed by the OLD parameter name. A value mapped to None has no
# current equivalent and is dropped (the API chooses the default); a value absent from a map is invalid.
LEGACY_PARAMETER_VALUES: Final[dict[str, dict[str, str | None]]] = {
    "bid_type": {"AUTO": "AUTO", "MAX": "MAX", "TARGET": "TARGET"},
    "lookalike_expansion": {"BROAD": "BROAD", "DEFINED": "DEFINED", "EXPANDED": "EXPANDED"},
    # APP_INSTALL (pay per install) has no equivalent today: refused (LEGACY_REFUSED), never re-billed.
    "charge_by": {"APP_CLICK": "APP_CLICK", "ENGAGEMENT": "ENGAGEMENT"},
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
# Legacy values refused, with what to do instead: translating them would change what the advertiser pays
# for (the older translation of charge_by=APP_INSTALL to pay_by=IMPRESSION did, announced by a log line).
LEGACY_REFUSED: Final[dict[tuple[str, str], str]] = {
    ("charge_by", "APP_INSTALL"): (
        "paying per app install has no equivalent today: APP_INSTALLS line items pay by APP_CLICK or "
        "IMPRESSION. Set pay_by=APP_CLICK or pay_by=IMPRESSION yourself, or leave it out for the API's "
        "default (IMPRESSION)"
    ),
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
BULK_READ_COUNT: Final = 1000  # what the client asks for when reading everything ("request maximum count")
MAX_IDS_PER_FILTER: Final = 200  # campaign_ids, line_item_ids, ... "Up to 200 IDs may be provided."
MAX_TWEET_IDS_PER_REQUEST: Final = 50  # POST promoted_tweets tweet_ids
# Tweet IDs are 64-bit snowflakes: positive and below 2**63 (19 digits at most).
MAX_TWEET_ID: Final = 2**63 - 1
# The reference gives no limit for targeting_value; the longest real values (keyword phrases, IDs) are far
# shorter. The client refuses longer ones before any request (the emulator allows the same).
TARGETING_VALUE_MAX_LENGTH: Final = 1024
# Flight times before this year cannot be meant (the Ads API did not exist): refused, likely a template
# rendering the wrong date. Later past times pass (an existing line item's start_time is in the past).
EARLIEST_FLIGHT_YEAR: Final = 2010
MAX_TARGETING_CRITERIA_PER_BATCH: Final = 500
MAX_LINE_ITEMS_PER_BATCH_LEGACY: Final = 20  # line-items.txt
MAX_LINE_ITEMS_PER_BATCH_CURRENT: Final = 40  # current-line-items.mdx
MAX_CAMPAIGNS_PER_BATCH: Final = 40
# Chunk sizes the client uses: valid on every API version and on both pages.
BATCH_CHUNK_SIZES: Final[dict[str, int]] = {
    "line_items": MAX_LINE_ITEMS_PER_BATCH_LEGACY,
    "targeting_criteria": MAX_TARGETING_CRITERIA_PER_BATCH,
    "campaigns": MAX_LINE_ITEMS_PER_BATCH_LEGACY,
}
# The server-side maximum per batch request (what the emulator enforces).
BATCH_MAX_SIZES: Final[dict[str, int]] = {
    "line_items": MAX_LINE_ITEMS_PER_BATCH_CURRENT,
    "targeting_criteria": MAX_TARGETING_CRITERIA_PER_BATCH,
    "campaigns": MAX_CAMPAIGNS_PER_BATCH,
}

# --------------------------------------------------------------------------------------------------------
# Rate limits (fundamentals/rate-limiting.mdx)
# --------------------------------------------------------------------------------------------------------
# Categories the client paces by (the limits themselves are read from the response headers).
RATE_LIMIT_WRITES: Final = "writes"  # POST, PUT, DELETE: category, 450 per minute
RATE_LIMIT_CORE_READS: Final = "core_reads"  # GET campaigns, line items, ...: endpoint, per ad account
RATE_LIMIT_TARGETING: Final = "targeting_criteria"  # category, 400 per 15 minutes
RATE_LIMIT_TOTAL_COUNT: Final = "total_count"  # requests with with_total_count=true: 200 per 15 minutes
RATE_LIMIT_ACCOUNT_READS: Final = "account_reads"  # other GETs with :account_id: 2000 per 15 minutes
RATE_LIMIT_GLOBAL_READS: Final = "global_reads"  # GETs without :account_id (GET accounts): 5 per 15 minutes
# Response headers. Account-level headers (GETs) take precedence over user-level ones when present.
RATE_LIMIT_HEADER_PREFIXES: Final[tuple[str, ...]] = ("x-account-rate-limit-", "x-rate-limit-")
RETRY_AFTER_HEADER: Final = "retry-after"

# --------------------------------------------------------------------------------------------------------
# Error codes (fundamentals/error-codes-and-responses.mdx), the ones the client treats specially
# --------------------------------------------------------------------------------------------------------
ERROR_FEATURE_NOT_AVAILABLE: Final = "FEATURE_NOT_AVAILABLE"
ERROR_UNAUTHORIZED_CLIENT_APPLICATION: Final = "UNAUTHORIZED_CLIENT_APPLICATION"
ERROR_ACCOUNT_NOT_FOUND: Final = "ACCOUNT_NOT_FOUND"
# Transient statuses: the request may be sent again (for a POST, see the two tuples below).
# 408 CANCELLED_REQUEST and 423 LOCK_ACQUISITION_TIMEOUT are documented and transient.
RETRYABLE_STATUSES: Final[tuple[int, ...]] = (408, 423, 429, 500, 502, 503, 504)
# Of these, the ones that say "not processed" even for writes (a 408/500/502/504 on a POST is ambiguous:
# a request cancelled while it ran may have written; a lock that was never acquired wrote nothing).
NOT_APPLIED_STATUSES: Final[tuple[int, ...]] = (423, 429, 503)
# The others: a POST answered with one of these may have been applied (look before writing again).
AMBIGUOUS_WRITE_STATUSES: Final[tuple[int, ...]] = tuple(
    s for s in RETRYABLE_STATUSES if s not in NOT_APPLIED_STATUSES
)
