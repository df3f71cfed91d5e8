"""Targeting criteria in bulk: add the missing ones, or make a line item's criteria exactly a given set."""

from __future__ import annotations

from collections.abc import Sequence
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

__all__ = ["BatchTargetingOperator"]


class BatchTargetingOperator(AdsApiHookMixin, BaseOperator):
    """Attach targeting criteria to line items through the batch endpoint, safely re-runnable.

    Criteria are identified by ``(targeting_type, targeting_value, operator_type)`` per line item; those
    that exist are skipped, so a re-run (after a retry or a failed batch) creates only the rest. Before any
    write, the input and the spec's rules are checked on what each line item would end with (existing +
    new): one AGE bucket per line item, APP_LIST only with ``operator_type="NE"``, TV_SHOW needs a LOCATION.
    Operations go out in batches of ``chunk_size`` (at most 500); progress is logged per batch. If a batch
    fails, the error says which batches were applied.

    Returns (XCom) ``{"created": [...], "deleted": [...], "unchanged": [...]}`` targeting criterion IDs.

    :param line_item_ids: a line item ID, a comma-separated string of IDs, or a list; the same criteria
        apply to each.
    :param criteria: a list of ``{"targeting_type", "targeting_value", "operator_type"}`` dicts
        (``operator_type`` defaults to ``EQ``).
    :param mode: ``add`` (create the missing criteria) or ``replace`` (also delete the line item's criteria
        that are not in ``criteria``).
    :param chunk_size: operations per batch request (1 to 500).
    :param twitter_ads_conn_id: the X Ads connection.
    :param account_id: the ad account; default: the connection's ``account_id`` extra.
    """

    template_fields: Sequence[str] = ("line_item_ids", "criteria", "mode", *CONN_TEMPLATE_FIELDS)
    template_fields_renderers = {"criteria": "json"}
    ui_color = "#e8f5fd"

    def __init__(
        self,
        *,
        line_item_ids: str | list[str],
        criteria: list[dict[str, Any]],
        mode: str = "add",
        chunk_size: int = 500,
        twitter_ads_conn_id: str = DEFAULT_CONN_ID,
        account_id: str | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.line_item_ids = line_item_ids
        self.criteria = criteria
        self.mode = mode
        self.chunk_size = chunk_size
        self.twitter_ads_conn_id = twitter_ads_conn_id
        self.account_id = account_id

    @fail_fast_on_deterministic_errors
    def execute(self, context: Context) -> dict[str, list[str]]:
        """Reconcile the criteria; return the created, deleted and unchanged IDs.

        :param context: the task context.
        """
        from airflow_provider_twads.reconcile import apply_targeting

        ids = as_id_list(self.line_item_ids, parameter="line_item_ids")
        summary = apply_targeting(
            self.client,
            ids,
            self.criteria,
            mode=self.mode,
            chunk_size=self.chunk_size,
            progress=self.log.info,
        )
        self.log.info(
            "Targeting on %d line item(s): %d created, %d deleted, %d unchanged",
            len(ids),
            len(summary["created"]),
            len(summary["deleted"]),
            len(summary["unchanged"]),
        )
        return summary
