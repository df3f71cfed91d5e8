"""The emulator's seeded state and credentials: pure data.

The IDs are the ones the spec's examples use (``../shared/spec``), so that every documented example
request can be replayed against a freshly reset emulator and find the entities it names.
"""

from __future__ import annotations

from typing import Any, Final

# The credentials the emulator accepts. They are not secret (anyone can read them here); they exist so
# that clients sign requests exactly as they do against the real API.
DEFAULT_CREDENTIALS: Final[dict[str, str]] = {
    "consumer_key": "twadsEmulatorConsumerKey0001",
    "consumer_secret": "twads-emulator-consumer-secret-0001",
    "access_token": "756201191646691328-twadsEmulatorToken01",
    "access_token_secret": "twads-emulator-access-token-secret-0001",
}
# A second user of the same app, who may use only the "other" account (and not the default one).
OTHER_CREDENTIALS: Final[dict[str, str]] = {
    "consumer_key": DEFAULT_CREDENTIALS["consumer_key"],
    "consumer_secret": DEFAULT_CREDENTIALS["consumer_secret"],
    "access_token": "111111111111111111-twadsEmulatorToken02",
    "access_token_secret": "twads-emulator-access-token-secret-0002",
}

ACCOUNT_ID: Final = "18ce54d4x5t"
SECOND_ACCOUNT_ID: Final = "gq180y"  # also usable by the default token
OTHER_ACCOUNT_ID: Final = "18ce54cvmes"  # exists, but the default token may NOT use it

# consumer key -> consumer secret; access token -> (consumer key, token secret, account IDs it may use)
CONSUMERS: Final[dict[str, str]] = {
    DEFAULT_CREDENTIALS["consumer_key"]: DEFAULT_CREDENTIALS["consumer_secret"]
}
TOKENS: Final[dict[str, tuple[str, str, tuple[str, ...]]]] = {
    DEFAULT_CREDENTIALS["access_token"]: (
        DEFAULT_CREDENTIALS["consumer_key"],
        DEFAULT_CREDENTIALS["access_token_secret"],
        (ACCOUNT_ID, SECOND_ACCOUNT_ID),
    ),
    OTHER_CREDENTIALS["access_token"]: (
        OTHER_CREDENTIALS["consumer_key"],
        OTHER_CREDENTIALS["access_token_secret"],
        (OTHER_ACCOUNT_ID,),
    ),
}

SEED: Final[dict[str, Any]] = {
    "account_id": ACCOUNT_ID,
    "second_account_id": SECOND_ACCOUNT_ID,
    "other_account_id": OTHER_ACCOUNT_ID,
    "funding_instrument_id": "lygyi",
    "campaign_id": "8gdx6",  # ACTIVE, holds line item 8v7jo (ENGAGEMENTS / PROMOTED_TWEETS)
    "empty_campaign_id": "8slvg",  # PAUSED, no line items
    "paused_campaign_id": "8wku2",  # PAUSED, no line items (the campaigns examples)
    "draft_campaign_id": "6aian",  # DRAFT, holds the DRAFT line item 6ll9a
    "line_item_id": "8v7jo",
    "draft_line_item_id": "6ll9a",
    "campaign_ids": ["8wku2", "8gdx6", "8slvg", "8yn7m", "hwtq0", "f4z6x", "90r8n", "7x9gk", "6aian"],
}

_USER_ID = "756201191646691328"
_FEATURES_DEFAULT = [
    "CITY_TARGETING",
    "CONVERSATION_CARD",
    "PROMOTED_MEDIA_POLLS",
    "REACH_AND_FREQUENCY_ANALYTICS",
    "REACH_FREQUENCY_CAP",
    "UNIVERSAL_LOOKALIKE",
]


def _account(id_: str, name: str, features: list[str], **extra: Any) -> dict[str, Any]:
    return {
        "name": name,
        "business_name": None,
        "timezone": "America/Los_Angeles",
        "timezone_switch_at": "2016-07-21T07:00:00Z",
        "id": id_,
        "created_at": "2016-07-21T22:42:09Z",
        "updated_at": "2017-07-06T16:51:04Z",
        "industry_type": "TRAVEL",
        "business_id": None,
        "approval_status": "ACCEPTED",
        "deleted": False,
        "_features": features,
        **extra,
    }


def _campaign(id_: str, name: str, status: str, created: str, **extra: Any) -> dict[str, Any]:
    record = {
        "account_id": ACCOUNT_ID,
        "name": name,
        "budget_optimization": "LINE_ITEM",
        "reasons_not_servable": ["PAUSED_BY_ADVERTISER", "INCOMPLETE"] if status != "ACTIVE" else [],
        "servable": status == "ACTIVE",
        "purchase_order_number": None,
        "effective_status": "UNKNOWN" if status != "ACTIVE" else "RUNNING",
        "daily_budget_amount_local_micro": 10000000,
        "funding_instrument_id": "lygyi",
        "duration_in_days": None,
        "standard_delivery": None,
        "total_budget_amount_local_micro": None,
        "id": id_,
        "entity_status": status,
        "frequency_cap": None,
        "currency": "USD",
        "created_at": created,
        "updated_at": created,
        "deleted": False,
    }
    record.update(extra)
    return record


def line_item_defaults() -> dict[str, Any]:
    """A fresh copy of the fields every emulator line item starts from (seeded, or bulk-seeded through
    the admin API), without its identity (IDs, name), status and times."""
    return {
        "advertiser_user_id": _USER_ID,
        "placements": ["ALL_ON_TWITTER"],
        "start_time": None,
        "bid_amount_local_micro": 100000,
        "advertiser_domain": None,
        "target_cpa_local_micro": None,
        "primary_web_event_tag": None,
        "goal": "ENGAGEMENT",
        "daily_budget_amount_local_micro": None,
        "product_type": "PROMOTED_TWEETS",
        "end_time": None,
        "bid_strategy": "MAX",
        "duration_in_days": None,
        "standard_delivery": None,
        "total_budget_amount_local_micro": None,
        "objective": "ENGAGEMENTS",
        "automatic_tweet_promotion": None,
        "frequency_cap": None,
        "android_app_store_identifier": None,
        "categories": [],
        "currency": "USD",
        "pay_by": "ENGAGEMENT",
        "ios_app_store_identifier": None,
        "creative_source": "MANUAL",
        "deleted": False,
    }


def _line_item(id_: str, campaign_id: str, created: str, **extra: Any) -> dict[str, Any]:
    record = {
        "account_id": ACCOUNT_ID,
        "name": "Untitled",
        **line_item_defaults(),
        "funding_instrument_id": "lygyi",
        "id": id_,
        "entity_status": "ACTIVE",
        "created_at": created,
        "updated_at": created,
        "campaign_id": campaign_id,
        # Older-vocabulary fields the API still stores but no longer returns.
        "include_sentiment": "POSITIVE_ONLY",
        "tracking_tags": [],
        "audience_expansion": None,
    }
    record.update(extra)
    return record


def _criterion(
    id_: str, line_item_id: str, ttype: str, value: str, name: str, created: str, **extra: Any
) -> dict[str, Any]:
    record = {
        "account_id": ACCOUNT_ID,
        "line_item_id": line_item_id,
        "name": name,
        "id": id_,
        "operator_type": "EQ",
        "created_at": created,
        "targeting_value": value,
        "updated_at": created,
        "deleted": False,
        "targeting_type": ttype,
    }
    record.update(extra)
    return record


def _promoted_tweet(id_: str, line_item_id: str, tweet_id: str, created: str, updated: str) -> dict[str, Any]:
    return {
        "account_id": ACCOUNT_ID,
        "line_item_id": line_item_id,
        "id": id_,
        "entity_status": "ACTIVE",
        "created_at": created,
        "updated_at": updated,
        "approval_status": "ACCEPTED",
        "tweet_id": tweet_id,
        "deleted": False,
    }


def seed_entities() -> dict[str, list[dict[str, Any]]]:
    """Return fresh copies of the seeded entities, by kind, in creation order."""
    accounts = [
        _account(ACCOUNT_ID, "API McTestface", list(_FEATURES_DEFAULT)),
        _account(SECOND_ACCOUNT_ID, "Sandbox account", ["CPI_CHARGING", "EVENT_TARGETING"]),
        _account(OTHER_ACCOUNT_ID, "Someone else's account", ["QUALIFIED_VIEWS"]),
    ]
    funding_instruments: list[dict[str, Any]] = [
        {
            "account_id": ACCOUNT_ID,
            "id": "lygyi",
            "name": "Emulator credit line",
            "description": "Visa ending in 0650",
            "type": "CREDIT_CARD",
            "currency": "USD",
            "entity_status": "ACTIVE",
            "start_time": "2016-07-22T04:24:04Z",
            "end_time": None,
            "credit_limit_local_micro": 200000000,
            "funded_amount_local_micro": 645940000,
            "credit_remaining_local_micro": None,
            "io_header": None,
            "able_to_fund": True,
            "reasons_not_able_to_fund": [],
            "created_at": "2016-07-21T22:42:09Z",
            "updated_at": "2016-07-21T22:42:09Z",
            "deleted": False,
        }
    ]
    campaigns = [
        _campaign("8wku2", "test", "PAUSED", "2022-06-03T21:38:07Z"),
        _campaign("8gdx6", "Launch campaign", "ACTIVE", "2017-05-27T08:00:00Z"),
        _campaign("8slvg", "Empty campaign", "PAUSED", "2017-06-20T10:00:00Z"),
        _campaign(
            "8yn7m",
            "batch campaigns",
            "PAUSED",
            "2022-06-03T21:38:07Z",
            daily_budget_amount_local_micro=140000000,
        ),
        _campaign(
            "hwtq0", "demo", "PAUSED", "2022-06-03T21:38:07Z", daily_budget_amount_local_micro=140000000
        ),
        _campaign("f4z6x", "li-18 campaign", "PAUSED", "2021-02-23T23:30:00Z"),
        _campaign("90r8n", "Flight of July", "ACTIVE", "2017-07-14T00:00:00Z"),
        _campaign("7x9gk", "Targeting and Tweets", "ACTIVE", "2016-11-11T17:00:00Z"),
        _campaign("6aian", "Draft campaign", "DRAFT", "2016-10-27T23:53:09Z"),
    ]
    line_items = [
        _line_item("8v7jo", "8gdx6", "2017-05-27T08:04:00Z", updated_at="2017-05-27T08:06:25Z"),
        _line_item(
            "itttx",
            "f4z6x",
            "2021-02-23T23:37:54Z",
            name="li-18",
            start_time="2021-02-16T00:00:00Z",
            bid_amount_local_micro=320000,
            entity_status="PAUSED",
            updated_at="2022-06-01T02:01:18Z",
        ),
        _line_item(
            "9f2ix",
            "90r8n",
            "2017-07-14T00:01:50Z",
            placements=[],
            end_time="2017-07-21T00:00:00Z",
            duration_in_days=1,
            frequency_cap=5,
            updated_at="2017-08-09T07:41:08Z",
        ),
        _line_item(
            "9cqi0",
            "8yn7m",
            "2017-07-07T17:42:20Z",
            name=None,
            start_time="2017-07-10T00:00:00Z",
            bid_amount_local_micro=3210000,
            entity_status="PAUSED",
        ),
        _line_item("8u94t", "7x9gk", "2017-05-26T03:20:00Z"),
        _line_item("619jl", "7x9gk", "2016-11-11T17:00:00Z"),
        _line_item("6f9an", "7x9gk", "2016-11-11T17:10:00Z"),
        _line_item("6keuo", "7x9gk", "2016-11-11T17:20:00Z"),
        _line_item("96uzp", "7x9gk", "2017-06-29T05:00:00Z"),
        _line_item("9pl99", "7x9gk", "2017-08-17T17:00:00Z"),
        _line_item(
            "6ll9a",
            "6aian",
            "2016-10-27T23:53:09Z",
            placements=["TWITTER_PROFILE", "TWITTER_TIMELINE"],
            bid_amount_local_micro=2000000,
            entity_status="DRAFT",
        ),
    ]
    targeting_criteria = [
        _criterion(
            "dpl3a6", "8u94t", "CUSTOM_AUDIENCE", "249yj", "Custom audience targeting", "2017-05-26T03:29:35Z"
        ),
        _criterion("eijd4y", "619jl", "BROAD_KEYWORD", "\U0001f916", "\U0001f916", "2017-07-06T16:51:04Z"),
        _criterion(
            "al2rua",
            "6keuo",
            "BROAD_KEYWORD",
            "accounts",
            "accounts",
            "2016-11-11T17:50:19Z",
            updated_at="2016-11-11T22:59:50Z",
        ),
        _criterion(
            "afypqh",
            "6ll9a",
            "LOCATION",
            "96683cc9126741d1",
            "United States",
            "2016-10-27T23:53:09Z",
            location_type="COUNTRY",
        ),
    ]
    promoted_tweets = [
        _promoted_tweet(
            "1efwlo", "96uzp", "880290790664060928", "2017-06-29T05:06:57Z", "2017-06-29T05:08:46Z"
        ),
        _promoted_tweet(
            "1gp8a5", "9pl99", "844796297743757315", "2017-08-17T17:02:21Z", "2017-08-17T17:02:21Z"
        ),
    ]
    return {
        "accounts": accounts,
        "funding_instruments": funding_instruments,
        "campaigns": campaigns,
        "line_items": line_items,
        "targeting_criteria": targeting_criteria,
        "promoted_tweets": promoted_tweets,
    }


# Names the emulator gives to well-known targeting values (LOCATION values are opaque IDs).
TARGETING_VALUE_NAMES: Final[dict[str, tuple[str, str | None]]] = {
    "5122804691e5fecc": ("San Francisco-Oakland-San Jose CA, US", "CITY"),
    "96683cc9126741d1": ("United States", "COUNTRY"),
    "06ef846bfc783874": ("England, GB", "REGION"),
    "f3bfc7dcc928977f": ("France", "COUNTRY"),
}
# Localized names for ``lang`` (ISO-639-1); other languages fall back to the English name.
LOCALIZED_NAMES: Final[dict[str, dict[str, str]]] = {
    "fr": {"United States": "\u00c9tats-Unis", "France": "France", "England, GB": "Angleterre, GB"},
    "de": {"United States": "Vereinigte Staaten", "France": "Frankreich", "England, GB": "England, GB"},
    "es": {"United States": "Estados Unidos", "France": "Francia", "England, GB": "Inglaterra, GB"},
}
