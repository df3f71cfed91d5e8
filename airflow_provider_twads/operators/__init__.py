"""X Ads operators, re-exported lazily: importing this package costs nothing at DAG parse time."""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # the real types for type checkers and IDEs; at run time __getattr__ imports on use
    from airflow_provider_twads.operators.analytics import (
        AnalyticsReportOperator as AnalyticsReportOperator,
    )
    from airflow_provider_twads.operators.campaigns import (
        CreateCampaignOperator as CreateCampaignOperator,
    )
    from airflow_provider_twads.operators.campaigns import (
        DeleteCampaignOperator as DeleteCampaignOperator,
    )
    from airflow_provider_twads.operators.campaigns import (
        UpdateCampaignOperator as UpdateCampaignOperator,
    )
    from airflow_provider_twads.operators.delivery import (
        PauseOverspendingLineItemsOperator as PauseOverspendingLineItemsOperator,
    )
    from airflow_provider_twads.operators.line_items import (
        CreateLineItemOperator as CreateLineItemOperator,
    )
    from airflow_provider_twads.operators.line_items import (
        DeleteLineItemOperator as DeleteLineItemOperator,
    )
    from airflow_provider_twads.operators.line_items import (
        UpdateLineItemOperator as UpdateLineItemOperator,
    )
    from airflow_provider_twads.operators.promoted_tweets import (
        PromoteTweetsOperator as PromoteTweetsOperator,
    )
    from airflow_provider_twads.operators.targeting import (
        BatchTargetingOperator as BatchTargetingOperator,
    )

_EXPORTS = {
    "CreateLineItemOperator": "line_items",
    "UpdateLineItemOperator": "line_items",
    "DeleteLineItemOperator": "line_items",
    "BatchTargetingOperator": "targeting",
    "PromoteTweetsOperator": "promoted_tweets",
    "CreateCampaignOperator": "campaigns",
    "UpdateCampaignOperator": "campaigns",
    "DeleteCampaignOperator": "campaigns",
    "PauseOverspendingLineItemsOperator": "delivery",
    "AnalyticsReportOperator": "analytics",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> Any:
    if name in _EXPORTS:
        return getattr(importlib.import_module(f"{__name__}.{_EXPORTS[name]}"), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
