"""The endpoints the provider uses: method, path template, parameters and rules, by operation name."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Final

from airflow_provider_twads.api import vocabulary as vocab
from airflow_provider_twads.api.errors import AdsApiValidationError
from airflow_provider_twads.api.params.fields import (
    BOOL,
    BUDGET_RULES,
    CAMPAIGN_CREATE,
    CAMPAIGN_UPDATE,
    LINE_ITEM_CREATE,
    LINE_ITEM_CREATE_RULES,
    LINE_ITEM_UPDATE,
    LINE_ITEM_VALUE_RULES,
    TARGETING_CRITERION_CREATE,
)
from airflow_provider_twads.api.params.model import Endpoint, Kind, Param, Rule, RuleKind
from airflow_provider_twads.api.params.stats import (
    ACTIVE_ENTITY_TYPES,
    GRANULARITIES,
    MAX_JOB_IDS,
    MAX_STATS_ENTITY_IDS,
    METRIC_GROUPS,
    SEGMENTATION_TYPES,
    STATS_ENTITIES,
    STATS_PLACEMENTS,
)

__all__ = ["ENDPOINTS", "endpoint"]

_ID_LIST = Param(Kind.ID_LIST, max_items=vocab.MAX_IDS_PER_FILTER)
_COUNT = Param(Kind.INT, minimum=vocab.COUNT_MIN, maximum=vocab.COUNT_MAX)
_PAGING: dict[str, Param] = {
    "count": _COUNT,
    "cursor": Param(),
    "sort_by": Param(),
    "with_deleted": BOOL,
    "with_total_count": BOOL,
}
_PAGING_RULES = (
    Rule(
        RuleKind.EXCLUSIVE,
        ("cursor", "with_total_count"),
        why="with_total_count and cursor are exclusive (EXCLUSIVE_PARAMETERS); total_count is on page one",
    ),
)


def _e(
    operation: str,
    method: str,
    path: str,
    params: Mapping[str, Param] | None = None,
    rules: Sequence[Rule] = (),
    *,
    legacy: bool = False,
    paged: bool = False,
) -> Endpoint:
    return Endpoint(operation, method, path, dict(params or {}), tuple(rules), legacy, paged)


def _list(resource: str, path: str, filters: Mapping[str, Param]) -> Endpoint:
    return _e(f"{resource}.list", "GET", path, {**filters, **_PAGING}, _PAGING_RULES, paged=True)


_ACC = "accounts/{account_id}"
_STATS_PARAMS = {
    "entity": Param(Kind.ENUM, required=True, choices=STATS_ENTITIES),
    "entity_ids": Param(Kind.ID_LIST, required=True, max_items=MAX_STATS_ENTITY_IDS),
    "start_time": Param(Kind.TIME, required=True),
    "end_time": Param(Kind.TIME, required=True),
    "granularity": Param(Kind.ENUM, required=True, choices=GRANULARITIES),
    "metric_groups": Param(Kind.ENUM_LIST, required=True, choices=METRIC_GROUPS),
    "placement": Param(Kind.ENUM, required=True, choices=STATS_PLACEMENTS),
}
# The listings that hold drafts: the older filter (draft_only) and today's (with_draft) are both accepted.
_DRAFT_FILTERS = {"q": Param(), "with_draft": BOOL, "draft_only": BOOL}
ENDPOINTS: Final[dict[str, Endpoint]] = {
    e.operation: e
    for e in (
        _list("accounts", "accounts", {"account_ids": _ID_LIST, "q": Param()}),
        _e("accounts.get", "GET", _ACC, {"with_deleted": BOOL}),
        _e("accounts.features", "GET", f"{_ACC}/features", {"feature_keys": Param(Kind.ID_LIST)}),
        _list("funding_instruments", f"{_ACC}/funding_instruments", {"funding_instrument_ids": _ID_LIST}),
        _e(
            "funding_instruments.get",
            "GET",
            f"{_ACC}/funding_instruments/{{funding_instrument_id}}",
            {"with_deleted": BOOL},
        ),
        _list(
            "campaigns",
            f"{_ACC}/campaigns",
            {"campaign_ids": _ID_LIST, "funding_instrument_ids": _ID_LIST, **_DRAFT_FILTERS},
        ),
        _e("campaigns.get", "GET", f"{_ACC}/campaigns/{{campaign_id}}", {"with_deleted": BOOL}),
        _e("campaigns.create", "POST", f"{_ACC}/campaigns", CAMPAIGN_CREATE, BUDGET_RULES),
        _e("campaigns.update", "PUT", f"{_ACC}/campaigns/{{campaign_id}}", CAMPAIGN_UPDATE, BUDGET_RULES),
        _e("campaigns.delete", "DELETE", f"{_ACC}/campaigns/{{campaign_id}}"),
        _list(
            "line_items",
            f"{_ACC}/line_items",
            {
                "campaign_ids": _ID_LIST,
                "funding_instrument_ids": _ID_LIST,
                "line_item_ids": _ID_LIST,
                **_DRAFT_FILTERS,
            },
        ),
        _e("line_items.get", "GET", f"{_ACC}/line_items/{{line_item_id}}", {"with_deleted": BOOL}),
        _e(
            "line_items.create",
            "POST",
            f"{_ACC}/line_items",
            LINE_ITEM_CREATE,
            LINE_ITEM_CREATE_RULES,
            legacy=True,
        ),
        _e(
            "line_items.update",
            "PUT",
            f"{_ACC}/line_items/{{line_item_id}}",
            LINE_ITEM_UPDATE,
            LINE_ITEM_VALUE_RULES,
            legacy=True,
        ),
        _e("line_items.delete", "DELETE", f"{_ACC}/line_items/{{line_item_id}}"),
        _list(
            "targeting_criteria",
            f"{_ACC}/targeting_criteria",
            {
                "line_item_ids": Param(Kind.ID_LIST, required=True, max_items=vocab.MAX_IDS_PER_FILTER),
                "targeting_criterion_ids": _ID_LIST,
                "lang": Param(),
            },
        ),
        _e(
            "targeting_criteria.get",
            "GET",
            f"{_ACC}/targeting_criteria/{{targeting_criterion_id}}",
            {"lang": Param(), "with_deleted": BOOL},
        ),
        _e("targeting_criteria.create", "POST", f"{_ACC}/targeting_criteria", TARGETING_CRITERION_CREATE),
        _e("targeting_criteria.delete", "DELETE", f"{_ACC}/targeting_criteria/{{targeting_criterion_id}}"),
        _list(
            "promoted_tweets",
            f"{_ACC}/promoted_tweets",
            {"line_item_ids": _ID_LIST, "promoted_tweet_ids": _ID_LIST},
        ),
        _e(
            "promoted_tweets.get",
            "GET",
            f"{_ACC}/promoted_tweets/{{promoted_tweet_id}}",
            {"with_deleted": BOOL},
        ),
        _e(
            "promoted_tweets.create",
            "POST",
            f"{_ACC}/promoted_tweets",
            {
                "line_item_id": Param(Kind.ID, required=True),
                "tweet_ids": Param(
                    Kind.ID_LIST, required=True, max_items=vocab.MAX_TWEET_IDS_PER_REQUEST, numeric=True
                ),
            },
        ),
        _e("promoted_tweets.delete", "DELETE", f"{_ACC}/promoted_tweets/{{promoted_tweet_id}}"),
        _e("stats.get", "GET", f"stats/{_ACC}", _STATS_PARAMS),
        _e(
            "stats.active_entities",
            "GET",
            f"stats/{_ACC}/active_entities",
            {
                "entity": Param(Kind.ENUM, required=True, choices=ACTIVE_ENTITY_TYPES),
                "start_time": Param(Kind.TIME, required=True),
                "end_time": Param(Kind.TIME, required=True),
                "campaign_ids": _ID_LIST,
                "funding_instrument_ids": _ID_LIST,
                "line_item_ids": _ID_LIST,
            },
            (
                Rule(
                    RuleKind.EXCLUSIVE,
                    ("campaign_ids", "funding_instrument_ids", "line_item_ids"),
                    why="campaign_ids, funding_instrument_ids and line_item_ids are exclusive",
                ),
            ),
        ),
        _e(
            "stats.jobs.create",
            "POST",
            f"stats/jobs/{_ACC}",
            {
                **_STATS_PARAMS,
                "segmentation_type": Param(Kind.ENUM, choices=SEGMENTATION_TYPES),
                "country": Param(),
                "platform": Param(),
            },
        ),
        _e(
            "stats.jobs.list",
            "GET",
            f"stats/jobs/{_ACC}",
            {"job_ids": Param(Kind.ID_LIST, max_items=MAX_JOB_IDS), "count": _COUNT, "cursor": Param()},
        ),
        _e("stats.jobs.cancel", "DELETE", f"stats/jobs/{_ACC}/{{job_id}}"),
    )
}


def endpoint(operation: str) -> Endpoint:
    """The spec of ``operation``.

    :param operation: e.g. ``line_items.create``.
    :raises AdsApiValidationError: unknown operation.
    """
    try:
        return ENDPOINTS[operation]
    except KeyError:
        raise AdsApiValidationError(
            "operation", f"unknown operation {operation!r}", allowed=sorted(ENDPOINTS)
        ) from None
