"""Natural-key reconciliation: what makes a re-run converge instead of duplicating.

An Airflow retry, a cleared task or a POST that failed ambiguously all run the same writes again. Before
writing, these functions look at what exists and write only the difference, keyed on natural keys:

* a campaign by its ``name`` within the account (:mod:`.campaigns`),
* a line item by its ``name`` within its campaign (:mod:`.line_items`),
* a targeting criterion by ``(targeting_type, targeting_value, operator_type)`` per line item
  (:mod:`.targeting`),
* a promoted Tweet by ``tweet_id`` per line item (:mod:`.promoted_tweets`).

The modules mirror ``operators/``; what they share (chunking, progress lines, and the one loop that looks
before writing again after an ambiguous write) is in :mod:`._common`, and their errors, part of the
provider's error family (:class:`~airflow_provider_twads.api.errors.AdsApiError`), in :mod:`.errors`.
Nothing here imports Airflow. The public names are importable from this package. Its modules load only
when a task runs (operators import them inside ``execute``), never when a DAG file is parsed.
"""

from __future__ import annotations

from airflow_provider_twads.reconcile._common import split_ids
from airflow_provider_twads.reconcile.campaigns import (
    CampaignResult,
    CampaignSettingsMismatchError,
    FundingInstrumentError,
    delete_campaign,
    ensure_campaign,
    find_campaigns_by_name,
    resolve_funding_instrument,
    update_campaign,
)
from airflow_provider_twads.reconcile.errors import (
    PartialApplyError,
    ReconcileError,
    SettingsMismatchError,
    format_diff,
)
from airflow_provider_twads.reconcile.line_items import (
    IF_EXISTS_MODES,
    LineItemResult,
    delete_line_item,
    derive_line_item_name,
    diff_line_item,
    ensure_line_items,
    find_line_items_by_name,
    to_api_time,
    update_line_item,
)
from airflow_provider_twads.reconcile.promoted_tweets import ensure_promoted_tweets, validate_tweet_ids
from airflow_provider_twads.reconcile.targeting import (
    TARGETING_MODES,
    TargetingPlan,
    apply_targeting,
    check_targeting_rules,
    criterion_key,
    normalize_criteria,
    plan_targeting,
)

__all__ = [
    "IF_EXISTS_MODES",
    "TARGETING_MODES",
    "CampaignResult",
    "CampaignSettingsMismatchError",
    "FundingInstrumentError",
    "LineItemResult",
    "PartialApplyError",
    "ReconcileError",
    "SettingsMismatchError",
    "TargetingPlan",
    "apply_targeting",
    "check_targeting_rules",
    "criterion_key",
    "delete_campaign",
    "delete_line_item",
    "derive_line_item_name",
    "diff_line_item",
    "ensure_campaign",
    "ensure_line_items",
    "ensure_promoted_tweets",
    "find_campaigns_by_name",
    "find_line_items_by_name",
    "format_diff",
    "normalize_criteria",
    "plan_targeting",
    "resolve_funding_instrument",
    "split_ids",
    "to_api_time",
    "update_campaign",
    "update_line_item",
    "validate_tweet_ids",
]
