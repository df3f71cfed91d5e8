"""Campaign operators: create (idempotent by name in the account), update (status, budgets), delete."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from airflow.sdk import BaseOperator

from airflow_provider_twads.api.params.docs import document_params
from airflow_provider_twads.api.params.fields import CAMPAIGN_FIELDS, CAMPAIGN_UPDATE, CAMPAIGN_UPDATE_FIELDS
from airflow_provider_twads.common import (
    CONN_TEMPLATE_FIELDS,
    DEFAULT_CONN_ID,
    AdsApiHookMixin,
    as_id_list,
    fail_fast_on_deterministic_errors,
    ids_result,
)

if TYPE_CHECKING:
    from airflow.sdk import Context

__all__ = ["CreateCampaignOperator", "DeleteCampaignOperator", "UpdateCampaignOperator"]

#: Every POST parameter of a campaign, each a constructor argument and a template field: the table's.
CAMPAIGN_PARAMS: tuple[str, ...] = tuple(CAMPAIGN_FIELDS)
#: What UpdateCampaignOperator changes (besides ``extra_params``): every updatable field of the table.
UPDATE_PARAMS: tuple[str, ...] = CAMPAIGN_UPDATE_FIELDS


@document_params(
    CAMPAIGN_FIELDS,
    CAMPAIGN_PARAMS,
    {
        "funding_instrument_id": "default: the account's only active funding instrument (an error lists them "
        "when there are several or none)",
        "name": "it identifies the campaign in the account; derived from DAG, task and run when ``None``",
        "entity_status": "default ``PAUSED``; ``DRAFT`` creates a draft, which only the Ads UI can activate",
    },
)
class CreateCampaignOperator(AdsApiHookMixin, BaseOperator):
    """Create a campaign, safely re-runnable.

    A campaign is identified by its ``name`` within the ad account. If one with that name exists (not
    deleted; drafts included), it is reused when its requested settings match; otherwise the task fails with
    a readable diff (``SettingsMismatchError``), or updates it when ``if_exists="update"``. Without a
    ``name``, a deterministic one is derived from the DAG, task and run (and map index), so that a retry or a
    cleared task finds what the first try created, even when the first POST's response was lost.

    Safe under concurrent writers (overlapping runs, a zombie beside its retry): after writing, the name is
    read back and every writer returns the same campaign (ACTIVE first, then the earliest created); the
    extras are deleted, never an ACTIVE one or one that holds line items. ``entity_status="ACTIVE"``
    creates the campaign ``PAUSED`` and activates only that survivor.

    ``entity_status`` defaults to ``PAUSED``: nothing spends until a later step (e.g.
    :class:`UpdateCampaignOperator` with ``entity_status="ACTIVE"``) activates it. It is not compared when
    reusing an existing campaign, so re-running the create never pauses an active one.

    Every argument is templated. Returns (XCom) the campaign ID.

    {params from the table}
    :param extra_params: any other POST parameter.
    :param if_exists: ``reuse`` (default: reuse when settings match, fail with a diff otherwise) or
        ``update`` (update the existing campaign's settings; its funding instrument cannot change).
    :param twitter_ads_conn_id: the X Ads connection.
    :param account_id: the ad account; default: the connection's ``account_id`` extra.
    """

    template_fields: Sequence[str] = (*CAMPAIGN_PARAMS, "extra_params", "if_exists", *CONN_TEMPLATE_FIELDS)
    template_fields_renderers = {"extra_params": "json"}
    ui_color = "#e8f5fd"

    def __init__(
        self,
        *,
        name: str | None = None,
        funding_instrument_id: str | None = None,
        budget_optimization: str | None = None,
        daily_budget_amount_local_micro: int | str | None = None,
        total_budget_amount_local_micro: int | str | None = None,
        entity_status: str = "PAUSED",
        purchase_order_number: str | None = None,
        standard_delivery: bool | None = None,
        extra_params: dict[str, Any] | None = None,
        if_exists: str = "reuse",
        twitter_ads_conn_id: str = DEFAULT_CONN_ID,
        account_id: str | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.name = name
        self.funding_instrument_id = funding_instrument_id
        self.budget_optimization = budget_optimization
        self.daily_budget_amount_local_micro = daily_budget_amount_local_micro
        self.total_budget_amount_local_micro = total_budget_amount_local_micro
        self.entity_status = entity_status
        self.purchase_order_number = purchase_order_number
        self.standard_delivery = standard_delivery
        self.extra_params = extra_params
        self.if_exists = if_exists
        self.twitter_ads_conn_id = twitter_ads_conn_id
        self.account_id = account_id

    def build_spec(self, context: Context) -> dict[str, Any]:
        """The campaign's POST parameters, its name derived when missing (no HTTP).

        :param context: the task context (for a derived name).
        """
        from airflow_provider_twads.api.errors import AdsApiValidationError
        from airflow_provider_twads.reconcile import derive_line_item_name

        spec: dict[str, Any] = {p: getattr(self, p) for p in CAMPAIGN_PARAMS}
        if self.extra_params is not None:
            if not isinstance(self.extra_params, Mapping):
                raise AdsApiValidationError("extra_params", "must be a dict of POST parameters")
            spec.update(self.extra_params)
        spec = {k: v for k, v in spec.items() if v is not None}
        if "name" not in spec:
            ti = context["ti"]
            spec["name"] = derive_line_item_name(
                ti.dag_id, ti.task_id, ti.run_id, getattr(ti, "map_index", -1)
            )
        return spec

    @fail_fast_on_deterministic_errors
    def execute(self, context: Context) -> str:
        """Create (or reuse) the campaign and return its ID.

        :param context: the task context.
        """
        from airflow_provider_twads.reconcile import ensure_campaign

        spec = self.build_spec(context)
        self.log.info(
            "Ensuring campaign %r in account %s (%s, funding instrument %s, if_exists=%s)",
            spec["name"],
            self.hook.account_id,
            spec.get("entity_status"),
            spec.get("funding_instrument_id", "to pick"),
            self.if_exists,
        )
        result = ensure_campaign(self.client, spec, if_exists=self.if_exists, progress=self.log.info)
        self.log.info(
            "Campaign %s %r (funding instrument %s): %s",
            result.id,
            result.name,
            result.funding_instrument_id,
            result.action,
        )
        return result.id


@document_params(CAMPAIGN_UPDATE, UPDATE_PARAMS)
class UpdateCampaignOperator(AdsApiHookMixin, BaseOperator):
    """Update campaigns: activate or pause, change budgets, budget optimization or name.

    Re-runnable: a campaign that already has the requested settings gets no PUT. A draft campaign can only
    be activated or paused in the Ads UI: trying it here fails before the PUT with that hint
    (``DraftEntityError``), and ``entity_status="DRAFT"`` fails before any request.

    :param campaign_id: a campaign ID, a comma-separated string of IDs, or a list of IDs.
    {params from the table}
    :param extra_params: any other PUT parameter.
    :param twitter_ads_conn_id: the X Ads connection.
    :param account_id: the ad account; default: the connection's ``account_id`` extra.
    """

    template_fields: Sequence[str] = ("campaign_id", *UPDATE_PARAMS, "extra_params", *CONN_TEMPLATE_FIELDS)
    template_fields_renderers = {"extra_params": "json"}
    ui_color = "#e8f5fd"

    def __init__(
        self,
        *,
        campaign_id: str | list[str],
        name: str | None = None,
        budget_optimization: str | None = None,
        daily_budget_amount_local_micro: int | str | None = None,
        total_budget_amount_local_micro: int | str | None = None,
        entity_status: str | None = None,
        purchase_order_number: str | None = None,
        standard_delivery: bool | None = None,
        extra_params: dict[str, Any] | None = None,
        twitter_ads_conn_id: str = DEFAULT_CONN_ID,
        account_id: str | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.campaign_id = campaign_id
        self.name = name
        self.budget_optimization = budget_optimization
        self.daily_budget_amount_local_micro = daily_budget_amount_local_micro
        self.total_budget_amount_local_micro = total_budget_amount_local_micro
        self.entity_status = entity_status
        self.purchase_order_number = purchase_order_number
        self.standard_delivery = standard_delivery
        self.extra_params = extra_params
        self.twitter_ads_conn_id = twitter_ads_conn_id
        self.account_id = account_id

    @fail_fast_on_deterministic_errors
    def execute(self, context: Context) -> str | list[str]:
        """Apply the changes to each campaign; return the ID(s).

        :param context: the task context.
        """
        from airflow_provider_twads.reconcile.campaigns import check_update, update_campaign

        ids = as_id_list(self.campaign_id, parameter="campaign_id")
        changes: dict[str, Any] = {p: getattr(self, p) for p in UPDATE_PARAMS if getattr(self, p) is not None}
        changes.update(self.extra_params or {})
        check_update(changes)  # before the first request, for every campaign
        sent = 0
        for n, campaign_id in enumerate(ids, 1):
            _, put = update_campaign(self.client, campaign_id, changes, progress=self.log.info)
            sent += put
            self.log.info("Campaign %d of %d done (%s)", n, len(ids), campaign_id)
        self.log.info(
            "%d of %d campaign(s) updated, %d already as requested", sent, len(ids), len(ids) - sent
        )
        return ids_result(self.campaign_id, ids)


class DeleteCampaignOperator(AdsApiHookMixin, BaseOperator):
    """Delete campaigns (e.g. to roll a launch back). Deleting what is already deleted succeeds.

    :param campaign_id: a campaign ID, a comma-separated string of IDs, or a list of IDs.
    :param twitter_ads_conn_id: the X Ads connection.
    :param account_id: the ad account; default: the connection's ``account_id`` extra.
    """

    template_fields: Sequence[str] = ("campaign_id", *CONN_TEMPLATE_FIELDS)
    ui_color = "#fde8e8"

    def __init__(
        self,
        *,
        campaign_id: str | list[str],
        twitter_ads_conn_id: str = DEFAULT_CONN_ID,
        account_id: str | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.campaign_id = campaign_id
        self.twitter_ads_conn_id = twitter_ads_conn_id
        self.account_id = account_id

    @fail_fast_on_deterministic_errors
    def execute(self, context: Context) -> str | list[str]:
        """Delete each campaign; return the ID(s).

        :param context: the task context.
        """
        from airflow_provider_twads.reconcile import delete_campaign

        ids = as_id_list(self.campaign_id, parameter="campaign_id")
        for n, campaign_id in enumerate(ids, 1):
            outcome = delete_campaign(self.client, campaign_id, progress=self.log.info)
            self.log.info("Campaign %d of %d (%s): %s", n, len(ids), campaign_id, outcome)
        return ids_result(self.campaign_id, ids)
