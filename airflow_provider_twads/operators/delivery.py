"""Pause line items whose spend or cost per result crossed a threshold."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from airflow.sdk import BaseOperator

from airflow_provider_twads.common import (
    CONN_TEMPLATE_FIELDS,
    DEFAULT_CONN_ID,
    AdsApiHookMixin,
    as_id_list,
    fail_fast_on_deterministic_errors,
)

if TYPE_CHECKING:
    from airflow.sdk import Context

__all__ = ["PauseOverspendingLineItemsOperator"]

_SPEND = "billed_charge_local_micro"


def _optional_int(value: Any, parameter: str) -> int | None:
    from airflow_provider_twads.common import as_int

    if value in (None, "", "None"):
        return None
    return as_int(value, parameter=parameter, minimum=0, operation="PauseOverspendingLineItemsOperator")


class PauseOverspendingLineItemsOperator(AdsApiHookMixin, BaseOperator):
    """Pause the ACTIVE line items whose spend, or cost per result, crossed a threshold since ``start_time``.

    Reads the line items (drafts and deleted ones are left alone), their stats from ``start_time``'s hour to
    the current hour (``BILLING`` plus the result metric's group, chunked to the API's limits), and pauses
    those over a threshold in batches. Safe to re-run: a line item already paused is not paused again, and a
    re-run pauses nothing new. Returns (XCom) ``{"paused": [...], "already_paused": [...]}``: the line items
    this run paused, and those over a threshold that were already paused.

    :param line_item_ids: the line items to watch (a list or a comma-separated string), or
    :param campaign_ids: every line item of these campaigns.
    :param max_spend_local_micro: pause when spend (micros of the account currency) reaches this.
    :param max_cost_per_result_local_micro: pause when spend / results reaches this; a line item with spend
        but no result counts as over it once its spend reaches it.
    :param result_metric: the result of "cost per result": ``engagements`` (default), ``clicks``,
        ``url_clicks``, ``video_total_views``, ``follows``...
    :param start_time: count from this time (templated); default: the run's data interval start, else its
        logical date.
    :param twitter_ads_conn_id: the X Ads connection.
    :param account_id: the ad account; default: the connection's ``account_id`` extra.
    """

    template_fields: Sequence[str] = (
        "line_item_ids",
        "campaign_ids",
        "max_spend_local_micro",
        "max_cost_per_result_local_micro",
        "result_metric",
        "start_time",
        *CONN_TEMPLATE_FIELDS,
    )
    ui_color = "#fde8e8"

    def __init__(
        self,
        *,
        line_item_ids: Sequence[str] | str | None = None,
        campaign_ids: Sequence[str] | str | None = None,
        max_spend_local_micro: int | str | None = None,
        max_cost_per_result_local_micro: int | str | None = None,
        result_metric: str = "engagements",
        start_time: Any = None,
        twitter_ads_conn_id: str = DEFAULT_CONN_ID,
        account_id: str | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.line_item_ids = line_item_ids
        self.campaign_ids = campaign_ids
        self.max_spend_local_micro = max_spend_local_micro
        self.max_cost_per_result_local_micro = max_cost_per_result_local_micro
        self.result_metric = result_metric
        self.start_time = start_time
        self.twitter_ads_conn_id = twitter_ads_conn_id
        self.account_id = account_id

    def _over(self, spend: int, results: int, max_spend: int | None, max_cpr: int | None) -> str | None:
        """Why a line item is over a threshold, or ``None``."""
        if max_spend is not None and spend >= max_spend:
            return f"spend {spend:,} >= {max_spend:,}"
        if max_cpr is not None and spend > 0:
            if results == 0 and spend >= max_cpr:
                return f"spend {spend:,} and no {self.result_metric}"
            if results and spend / results >= max_cpr:
                return f"cost per {self.result_metric} {spend / results:,.0f} >= {max_cpr:,}"
        return None

    @fail_fast_on_deterministic_errors
    def execute(self, context: Context) -> dict[str, list[str]]:
        """Read, judge, pause; return what was paused.

        :param context: the task context.
        """
        from airflow_provider_twads.api.analytics import totals
        from airflow_provider_twads.api.errors import AdsApiValidationError
        from airflow_provider_twads.delivery import Threshold, stats_window
        from airflow_provider_twads.sensors.delivery import start_of

        max_spend = _optional_int(self.max_spend_local_micro, "max_spend_local_micro")
        max_cpr = _optional_int(self.max_cost_per_result_local_micro, "max_cost_per_result_local_micro")
        if max_spend is None and max_cpr is None:
            raise AdsApiValidationError(
                "max_spend_local_micro", "give max_spend_local_micro, max_cost_per_result_local_micro or both"
            )
        if (self.line_item_ids is None) == (self.campaign_ids is None):
            raise AdsApiValidationError("line_item_ids", "give either line_item_ids or campaign_ids")
        result = Threshold(self.result_metric)
        start, end = stats_window(start_of(self.start_time, context), datetime.now(UTC))
        if self.line_item_ids is not None:
            filters = {"line_item_ids": as_id_list(self.line_item_ids, parameter="line_item_ids")}
        else:
            filters = {"campaign_ids": as_id_list(self.campaign_ids, parameter="campaign_ids")}
        line_items = [li for li in self.client.list_line_items(**filters) if not li.get("deleted")]
        watched = {str(li["id"]): li.get("entity_status") for li in line_items}
        watched = {i: s for i, s in watched.items() if s in ("ACTIVE", "PAUSED")}
        if not watched:
            self.log.info("No ACTIVE or PAUSED line item among %s", filters)
            return {"paused": [], "already_paused": []}
        groups = list(dict.fromkeys(["BILLING", result.metric_group]))
        response = self.client.get_stats(
            "LINE_ITEM", list(watched), start, end, metric_groups=groups, granularity="HOUR"
        )
        over: dict[str, str] = {}
        for eid, metrics in totals(response).items():
            reason = self._over(metrics.get(_SPEND) or 0, metrics.get(result.metric) or 0, max_spend, max_cpr)
            if reason and eid in watched:
                over[eid] = reason
        to_pause = [i for i in over if watched[i] == "ACTIVE"]
        already = [i for i in over if watched[i] == "PAUSED"]
        for eid, reason in over.items():
            self.log.info("Line item %s since %s: %s", eid, start.strftime("%Y-%m-%dT%H:%MZ"), reason)
        if to_pause:
            ops = [
                {"operation_type": "Update", "params": {"line_item_id": i, "entity_status": "PAUSED"}}
                for i in to_pause
            ]
            self.client.batch_line_items(ops)
        self.log.info(
            "Paused %d line item(s) %s; %d over a threshold were already paused; %d watched",
            len(to_pause), to_pause, len(already), len(watched),
        )  # fmt: skip
        return {"paused": to_pause, "already_paused": already}
