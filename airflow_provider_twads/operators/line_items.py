"""Line item operators: create (idempotent, one or many), update (activate, pause, bid, budget...), delete."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from airflow.sdk import BaseOperator

from airflow_provider_twads.api.params.docs import document_params
from airflow_provider_twads.api.params.fields import LINE_ITEM_FIELDS, LINE_ITEM_UPDATE
from airflow_provider_twads.common import (
    CONN_TEMPLATE_FIELDS,
    DEFAULT_CONN_ID,
    AdsApiHookMixin,
    as_id_list,
    fail_fast_on_deterministic_errors,
    ids_result,
)
from airflow_provider_twads.links import LineItemLink

if TYPE_CHECKING:
    from airflow.sdk import Context

__all__ = ["CreateLineItemOperator", "DeleteLineItemOperator", "UpdateLineItemOperator"]

#: Every POST parameter of a line item (v12), each a constructor argument and a template field: the table's.
LINE_ITEM_PARAMS: tuple[str, ...] = tuple(LINE_ITEM_FIELDS)
#: What UpdateLineItemOperator changes (besides ``extra_params``): a few of the table's updatable fields.
UPDATE_PARAMS: tuple[str, ...] = (
    "entity_status",
    "bid_amount_local_micro",
    "bid_strategy",
    "daily_budget_amount_local_micro",
    "total_budget_amount_local_micro",
    "start_time",
    "end_time",
    "name",
)


@document_params(
    LINE_ITEM_FIELDS,
    LINE_ITEM_PARAMS,
    {
        "product_type": "default ``PROMOTED_TWEETS``",
        "placements": "a list or a comma-separated string; default ``ALL_ON_TWITTER``",
        "name": "it identifies the line item in its campaign; derived from DAG, task and run when ``None``",
        "entity_status": "default ``PAUSED``",
    },
)
class CreateLineItemOperator(AdsApiHookMixin, BaseOperator):
    """Create a line item (or many), safely re-runnable.

    A line item is identified by its ``name`` within its campaign. If one with that name exists (and is not
    deleted), it is reused when its settings match; otherwise the task fails with a readable diff, or
    updates it when ``if_exists="update"``. Without a ``name``, a deterministic one is derived from the DAG,
    task, run (and map index), so that a retry or a cleared task finds what the first try created, even when
    the first POST's response was lost.

    ``entity_status`` defaults to ``PAUSED``: nothing spends until a later step (e.g.
    :class:`UpdateLineItemOperator` with ``entity_status="ACTIVE"``) activates it. It is not compared when
    reusing an existing line item, so re-running the create never pauses an active one.

    Before writing, a feature-gated objective (e.g. ``QUALIFIED_IMPRESSIONS``) is checked against the
    account's features, and a missing feature fails with the account's actual feature list.

    Every argument is templated. ``start_time``/``end_time`` accept ISO 8601 strings, ``datetime``/pendulum
    objects, or Jinja such as ``"{{ data_interval_start }}"``; they are sent as ISO 8601 UTC (a time or date
    without a timezone is taken as UTC).

    Returns (XCom) the line item ID, or the list of IDs in input order when ``line_items`` is given. The
    "X Ads line item" extra link opens it in the Ads UI.

    {params from the table}
    :param extra_params: any other POST parameter (legacy names such as ``bid_type`` are accepted).
    :param line_items: several line items: a list of dicts with the keys above. The keyword arguments act
        as defaults for every dict. Created through the batch endpoint in chunks of ``chunk_size``.
    :param if_exists: ``reuse`` (default: reuse when settings match, fail with a diff otherwise) or
        ``update`` (update the existing line item's mutable settings).
    :param chunk_size: line items per batch request (20: valid on every API version).
    :param twitter_ads_conn_id: the X Ads connection.
    :param account_id: the ad account; default: the connection's ``account_id`` extra.
    """

    template_fields: Sequence[str] = (
        *LINE_ITEM_PARAMS,
        "extra_params",
        "line_items",
        "if_exists",
        *CONN_TEMPLATE_FIELDS,
    )
    template_fields_renderers = {"line_items": "json", "extra_params": "json"}
    operator_extra_links = (LineItemLink(),)
    ui_color = "#e8f5fd"

    def __init__(
        self,
        *,
        campaign_id: str | None = None,
        objective: str | None = None,
        product_type: str = "PROMOTED_TWEETS",
        placements: Sequence[str] | str = ("ALL_ON_TWITTER",),
        start_time: Any = None,
        end_time: Any = None,
        name: str | None = None,
        entity_status: str = "PAUSED",
        bid_amount_local_micro: int | str | None = None,
        bid_strategy: str | None = None,
        goal: str | None = None,
        pay_by: str | None = None,
        daily_budget_amount_local_micro: int | str | None = None,
        total_budget_amount_local_micro: int | str | None = None,
        standard_delivery: bool | None = None,
        frequency_cap: int | str | None = None,
        duration_in_days: int | str | None = None,
        audience_expansion: str | None = None,
        advertiser_domain: str | None = None,
        advertiser_user_id: str | None = None,
        categories: Sequence[str] | str | None = None,
        primary_web_event_tag: str | None = None,
        android_app_store_identifier: str | None = None,
        ios_app_store_identifier: str | None = None,
        extra_params: dict[str, Any] | None = None,
        line_items: list[dict[str, Any]] | None = None,
        if_exists: str = "reuse",
        chunk_size: int = 20,
        twitter_ads_conn_id: str = DEFAULT_CONN_ID,
        account_id: str | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.campaign_id = campaign_id
        self.objective = objective
        self.product_type = product_type
        self.placements = placements
        self.start_time = start_time
        self.end_time = end_time
        self.name = name
        self.entity_status = entity_status
        self.bid_amount_local_micro = bid_amount_local_micro
        self.bid_strategy = bid_strategy
        self.goal = goal
        self.pay_by = pay_by
        self.daily_budget_amount_local_micro = daily_budget_amount_local_micro
        self.total_budget_amount_local_micro = total_budget_amount_local_micro
        self.standard_delivery = standard_delivery
        self.frequency_cap = frequency_cap
        self.duration_in_days = duration_in_days
        self.audience_expansion = audience_expansion
        self.advertiser_domain = advertiser_domain
        self.advertiser_user_id = advertiser_user_id
        self.categories = categories
        self.primary_web_event_tag = primary_web_event_tag
        self.android_app_store_identifier = android_app_store_identifier
        self.ios_app_store_identifier = ios_app_store_identifier
        self.extra_params = extra_params
        self.line_items = line_items
        self.if_exists = if_exists
        self.chunk_size = chunk_size
        self.twitter_ads_conn_id = twitter_ads_conn_id
        self.account_id = account_id

    def build_specs(self, context: Context) -> list[dict[str, Any]]:
        """The POST parameters of each line item to create, names derived where missing (no HTTP).

        :param context: the task context (for derived names).
        :return: one dict per line item.
        """
        from airflow_provider_twads.api.errors import AdsApiValidationError
        from airflow_provider_twads.reconcile import derive_line_item_name

        defaults: dict[str, Any] = {p: getattr(self, p) for p in LINE_ITEM_PARAMS}
        if self.extra_params is not None:
            if not isinstance(self.extra_params, Mapping):
                raise AdsApiValidationError("extra_params", "must be a dict of POST parameters")
            defaults.update(self.extra_params)
        if isinstance(defaults.get("placements"), tuple):
            defaults["placements"] = list(defaults["placements"])
        ti = context["ti"]
        map_index = getattr(ti, "map_index", -1)

        if self.line_items is None:
            spec = {k: v for k, v in defaults.items() if v is not None}
            spec.setdefault("name", derive_line_item_name(ti.dag_id, ti.task_id, ti.run_id, map_index))
            return [spec]
        if isinstance(self.line_items, Mapping | str) or not isinstance(self.line_items, Sequence):
            raise AdsApiValidationError("line_items", "must be a list of dicts (one per line item)")
        if not self.line_items:
            raise AdsApiValidationError("line_items", "is empty: give at least one line item")
        specs = []
        for i, item in enumerate(self.line_items):
            if not isinstance(item, Mapping):
                raise AdsApiValidationError(f"line_items[{i}]", f"must be a dict, got {type(item).__name__}")
            spec = {k: v for k, v in {**defaults, "name": None, **item}.items() if v is not None}
            spec.setdefault("name", derive_line_item_name(ti.dag_id, ti.task_id, ti.run_id, map_index, i))
            specs.append(spec)
        return specs

    @fail_fast_on_deterministic_errors
    def execute(self, context: Context) -> str | list[str]:
        """Create (or reuse) the line item(s) and return the ID(s).

        :param context: the task context.
        """
        from airflow_provider_twads.reconcile import ensure_line_items, to_api_time

        specs = self.build_specs(context)
        for spec in specs:  # normalised here so the log shows what is sent
            for key in ("start_time", "end_time"):
                if key in spec:
                    spec[key] = to_api_time(spec[key], parameter=key)
        self.log.info(
            "Ensuring %d line item(s) in account %s (if_exists=%s): %s",
            len(specs),
            self.hook.account_id,
            self.if_exists,
            ", ".join(
                f"{s['name']!r} in campaign {s.get('campaign_id')} ({s.get('entity_status')})"
                for s in specs[:10]
            )
            + (f" and {len(specs) - 10} more" if len(specs) > 10 else ""),
        )
        results = ensure_line_items(
            self.client,
            specs,
            if_exists=self.if_exists,
            use_batch=self.line_items is not None,
            chunk_size=self.chunk_size,
            progress=self.log.info,
        )
        for r in results:
            self.log.info("Line item %s %r in campaign %s: %s", r.id, r.name, r.campaign_id, r.action)
        LineItemLink.persist(
            context,
            account_id=str(self.hook.account_id),
            campaign_ids=list(dict.fromkeys(r.campaign_id for r in results)),
            line_item_ids=[r.id for r in results],
            host=self.hook.settings.host,
        )
        ids = [r.id for r in results]
        return ids if self.line_items is not None else ids[0]


@document_params(LINE_ITEM_UPDATE, UPDATE_PARAMS, {"start_time": "same formats as for creation"})
class UpdateLineItemOperator(AdsApiHookMixin, BaseOperator):
    """Update line items: activate or pause, change bid, budget, times or name.

    Re-runnable: a line item that already has the requested settings gets no PUT. A draft line item can
    only be activated or paused in the Ads UI; trying it here fails with that hint (``DraftEntityError``).

    :param line_item_id: a line item ID, a comma-separated string of IDs, or a list of IDs.
    {params from the table}
    :param extra_params: any other PUT parameter (``LINE_ITEM_UPDATE_FIELDS`` in
        :mod:`airflow_provider_twads.api.params`).
    :param twitter_ads_conn_id: the X Ads connection.
    :param account_id: the ad account; default: the connection's ``account_id`` extra.
    """

    template_fields: Sequence[str] = ("line_item_id", *UPDATE_PARAMS, "extra_params", *CONN_TEMPLATE_FIELDS)
    template_fields_renderers = {"extra_params": "json"}
    ui_color = "#e8f5fd"

    def __init__(
        self,
        *,
        line_item_id: str | list[str],
        entity_status: str | None = None,
        bid_amount_local_micro: int | str | None = None,
        bid_strategy: str | None = None,
        daily_budget_amount_local_micro: int | str | None = None,
        total_budget_amount_local_micro: int | str | None = None,
        start_time: Any = None,
        end_time: Any = None,
        name: str | None = None,
        extra_params: dict[str, Any] | None = None,
        twitter_ads_conn_id: str = DEFAULT_CONN_ID,
        account_id: str | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.line_item_id = line_item_id
        self.entity_status = entity_status
        self.bid_amount_local_micro = bid_amount_local_micro
        self.bid_strategy = bid_strategy
        self.daily_budget_amount_local_micro = daily_budget_amount_local_micro
        self.total_budget_amount_local_micro = total_budget_amount_local_micro
        self.start_time = start_time
        self.end_time = end_time
        self.name = name
        self.extra_params = extra_params
        self.twitter_ads_conn_id = twitter_ads_conn_id
        self.account_id = account_id

    @fail_fast_on_deterministic_errors
    def execute(self, context: Context) -> str | list[str]:
        """Apply the changes to each line item; return the ID(s).

        :param context: the task context.
        """
        from airflow_provider_twads.api.errors import AdsApiValidationError
        from airflow_provider_twads.reconcile import update_line_item

        ids = as_id_list(self.line_item_id, parameter="line_item_id")
        changes: dict[str, Any] = {p: getattr(self, p) for p in UPDATE_PARAMS if getattr(self, p) is not None}
        changes.update(self.extra_params or {})
        if not changes:
            raise AdsApiValidationError(
                "entity_status",
                "nothing to update: give at least one setting",
                allowed=(*UPDATE_PARAMS, "extra_params"),
            )
        sent = 0
        for n, line_item_id in enumerate(ids, 1):
            _, put = update_line_item(self.client, line_item_id, changes, progress=self.log.info)
            sent += put
            self.log.info("Line item %d of %d done (%s)", n, len(ids), line_item_id)
        self.log.info(
            "%d of %d line item(s) updated, %d already as requested", sent, len(ids), len(ids) - sent
        )
        return ids_result(self.line_item_id, ids)


class DeleteLineItemOperator(AdsApiHookMixin, BaseOperator):
    """Delete line items (e.g. to roll a launch back). Deleting what is already deleted succeeds.

    :param line_item_id: a line item ID, a comma-separated string of IDs, or a list of IDs.
    :param twitter_ads_conn_id: the X Ads connection.
    :param account_id: the ad account; default: the connection's ``account_id`` extra.
    """

    template_fields: Sequence[str] = ("line_item_id", *CONN_TEMPLATE_FIELDS)
    ui_color = "#fde8e8"

    def __init__(
        self,
        *,
        line_item_id: str | list[str],
        twitter_ads_conn_id: str = DEFAULT_CONN_ID,
        account_id: str | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.line_item_id = line_item_id
        self.twitter_ads_conn_id = twitter_ads_conn_id
        self.account_id = account_id

    @fail_fast_on_deterministic_errors
    def execute(self, context: Context) -> str | list[str]:
        """Delete each line item; return the ID(s).

        :param context: the task context.
        """
        from airflow_provider_twads.reconcile import delete_line_item

        ids = as_id_list(self.line_item_id, parameter="line_item_id")
        for n, line_item_id in enumerate(ids, 1):
            outcome = delete_line_item(self.client, line_item_id, progress=self.log.info)
            self.log.info("Line item %d of %d (%s): %s", n, len(ids), line_item_id, outcome)
        return ids_result(self.line_item_id, ids)
