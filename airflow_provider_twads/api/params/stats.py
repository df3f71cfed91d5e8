"""The analytics vocabulary and limits (analytics.mdx, synchronous analytics and active entities)."""

from __future__ import annotations

from datetime import timedelta
from typing import Final

__all__ = [
    "ACTIVE_ENTITY_TYPES",
    "GRANULARITIES",
    "MAX_ACTIVE_ENTITIES_RANGE",
    "MAX_JOB_IDS",
    "MAX_JOB_RANGE",
    "MAX_SEGMENTED_JOB_RANGE",
    "MAX_STATS_ENTITY_IDS",
    "MAX_STATS_RANGE",
    "METRIC_ALIASES",
    "METRIC_GROUPS",
    "NUMERIC_METRICS",
    "SEGMENTATION_TYPES",
    "STATS_ENTITIES",
    "STATS_PLACEMENTS",
]

STATS_ENTITIES: Final[tuple[str, ...]] = (
    "ACCOUNT",
    "CAMPAIGN",
    "FUNDING_INSTRUMENT",
    "LINE_ITEM",
    "PROMOTED_ACCOUNT",
    "PROMOTED_TWEET",
)
ACTIVE_ENTITY_TYPES: Final[tuple[str, ...]] = tuple(e for e in STATS_ENTITIES if e != "ACCOUNT")
GRANULARITIES: Final[tuple[str, ...]] = ("DAY", "HOUR", "TOTAL")
METRIC_GROUPS: Final[tuple[str, ...]] = (
    "BILLING",
    "ENGAGEMENT",
    "LIFE_TIME_VALUE_MOBILE_CONVERSION",
    "MOBILE_CONVERSION",
    "VIDEO",
    "WEB_CONVERSION",
)
# Today's analytics placements plus PUBLISHER_NETWORK, which active entities still report: an entity's
# placements from active entities can be asked for as they are.
STATS_PLACEMENTS: Final[tuple[str, ...]] = ("ALL_ON_TWITTER", "PUBLISHER_NETWORK", "SPOTLIGHT", "TREND")
MAX_STATS_ENTITY_IDS: Final = 20  # "Up to 20 entity IDs may be provided."
MAX_STATS_RANGE: Final = timedelta(days=7)  # "A maximum time range (end_time - start_time) of 7 days"
MAX_ACTIVE_ENTITIES_RANGE: Final = timedelta(days=90)

# The numeric metrics of the groups a delivery check can read, by group (analytics.mdx); conversions are
# objects, not counts.
NUMERIC_METRICS: Final[dict[str, tuple[str, ...]]] = {
    "ENGAGEMENT": (
        "impressions", "engagements", "retweets", "replies", "likes", "follows", "card_engagements",
        "clicks", "app_clicks", "url_clicks", "qualified_impressions", "carousel_swipes",
    ),
    "BILLING": ("billed_engagements", "billed_charge_local_micro"),
    "VIDEO": (
        "video_total_views", "video_views_25", "video_views_50", "video_views_75", "video_views_100",
        "video_cta_clicks", "video_content_starts", "video_3s100pct_views", "video_6s_views",
        "video_15s_views",
    ),
}  # fmt: skip
#: Short names a DAG author may use for a metric.
METRIC_ALIASES: Final[dict[str, str]] = {"spend": "billed_charge_local_micro"}

# Asynchronous jobs (analytics.mdx, "Asynchronous Analytics", and the segmentation table).
MAX_JOB_IDS: Final = 200  # job_ids per GET stats/jobs
MAX_JOB_RANGE: Final = timedelta(days=90)
MAX_SEGMENTED_JOB_RANGE: Final = timedelta(days=45)
SEGMENTATION_TYPES: Final[tuple[str, ...]] = ("AGE", "CONVERSION_TAGS", "GENDER", "METROS", "PLATFORMS")
