"""A sensor that waits until a condition holds over every entity a list endpoint returns (all pages)."""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from airflow.providers.common.compat.sdk import (
    AirflowException,
    AirflowFailException,
    AirflowSensorTimeout,
    BaseSensorOperator,
    PokeReturnValue,
    conf,
)

from airflow_provider_twads.api import vocabulary as vocab
from airflow_provider_twads.common import (
    CONN_TEMPLATE_FIELDS,
    DEFAULT_CONN_ID,
    AdsApiHookMixin,
    as_id_list,
    as_int,
    fail_fast_on_deterministic_errors,
)
from airflow_provider_twads.condition import Condition, ConditionResult, evaluate, read_event

if TYPE_CHECKING:
    from airflow.providers.common.compat.sdk import Context

__all__ = ["AdsCursorSensor"]

_OPERATION = "AdsCursorSensor"


def _flatten_ids(value: Any, parameter: str) -> list[str]:
    """An ID filter as a flat list, also from ``["{{ ti.xcom_pull(...) }}"]`` rendering to a list's repr."""
    items = value if isinstance(value, list | tuple | set) else [value]
    out: list[str] = []
    for item in items:
        out.extend(as_id_list(item, parameter=parameter))
    return list(dict.fromkeys(out))


def _normalize_filters(
    resource: str, filters: Mapping[str, Any] | None, fail_on_deleted: bool
) -> dict[str, Any]:
    from airflow_provider_twads.api.errors import AdsApiValidationError

    if filters is not None and not isinstance(filters, Mapping):
        raise AdsApiValidationError(
            "filters", f"must be a dict of list filters, got {type(filters).__name__}"
        )
    out: dict[str, Any] = {}
    for key, value in (filters or {}).items():
        if key in ("cursor", "count"):
            raise AdsApiValidationError(
                f"filters.{key}", "is managed by the sensor (every page is read; use page_size)"
            )
        if key.endswith("_ids"):
            value = _flatten_ids(value, f"filters.{key}")
        out[key] = value
    if resource == "targeting_criteria" and not out.get("line_item_ids"):
        raise AdsApiValidationError(
            "filters.line_item_ids", "is required for targeting_criteria (the API lists them per line item)"
        )
    # Deleted entities are listed (and fail the wait) only when the filters name the entities themselves:
    # a deleted line item among a campaign's history must not fail a wait on the campaign's line items.
    if fail_on_deleted and out.get(vocab.RESOURCE_IDS_FILTER[resource]):
        out.setdefault("with_deleted", True)
    if resource in ("campaigns", "line_items") and not {vocab.DRAFT_FILTER, vocab.LEGACY_DRAFT_FILTER} & set(
        out
    ):
        out[vocab.DRAFT_FILTER] = True  # so that waiting for a draft to be activated sees the draft
    return out


class AdsCursorSensor(AdsApiHookMixin, BaseSensorOperator):
    """Wait until a condition holds over all the entities of a list endpoint, reading every page each time.

    The condition is declarative: ``approval_status`` (e.g. every promoted Tweet ``ACCEPTED``),
    ``entity_status`` (e.g. a draft campaign activated in the Ads UI reaches ``ACTIVE``), and ``min_count``
    (``None``: all listed entities must match, and at least one must exist; ``N``: at least N match).
    Terminal failures fail the task at once, naming the entities: a ``REJECTED`` approval, or a deleted
    entity when the filters name the entities by ID (``campaign_ids`` for campaigns, ``line_item_ids`` for
    line items, ...) and ``fail_on_deleted`` is true.

    Works in ``poke`` and ``reschedule`` mode and, with ``deferrable=True``, in the triggerer (after one
    check in the worker). Returns (XCom) the IDs of the matching entities.

    :param resource: ``campaigns``, ``line_items``, ``promoted_tweets`` or ``targeting_criteria``.
    :param filters: list filters, e.g. ``{"line_item_ids": ["abc"]}`` (ID lists may be comma-separated
        strings); ``targeting_criteria`` requires ``line_item_ids``.
    :param approval_status: the approval status every (or ``min_count``) entity must have.
    :param entity_status: the entity status every (or ``min_count``) entity must have.
    :param min_count: see above (templated: a rendered string such as ``"3"`` is accepted).
    :param fail_on_deleted: fail when a named entity is deleted (else deleted entities are ignored).
    :param page_size: entities per page (1 to 1000).
    :param deferrable: wait in the triggerer; default from ``[operators] default_deferrable``.
    :param twitter_ads_conn_id: the X Ads connection.
    :param account_id: the ad account; default: the connection's ``account_id`` extra.
    """

    template_fields: Sequence[str] = (
        "resource",
        "filters",
        "approval_status",
        "entity_status",
        "min_count",
        *CONN_TEMPLATE_FIELDS,
    )
    template_fields_renderers = {"filters": "json"}
    ui_color = "#f0f8ff"

    def __init__(
        self,
        *,
        resource: str,
        filters: dict[str, Any] | None = None,
        approval_status: str | None = None,
        entity_status: str | None = None,
        min_count: int | str | None = None,
        fail_on_deleted: bool = True,
        page_size: int = vocab.BULK_READ_COUNT,
        deferrable: bool = conf.getboolean("operators", "default_deferrable", fallback=False),
        twitter_ads_conn_id: str = DEFAULT_CONN_ID,
        account_id: str | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.resource = resource
        self.filters = filters
        self.approval_status = approval_status
        self.entity_status = entity_status
        self.min_count = min_count
        self.fail_on_deleted = fail_on_deleted
        self.page_size = page_size
        self.deferrable = deferrable
        self.twitter_ads_conn_id = twitter_ads_conn_id
        self.account_id = account_id

    # -- shared by every mode ---------------------------------------------------------------------------
    def _validated(self) -> tuple[Condition, dict[str, Any]]:
        """The condition and the filters, validated (no HTTP)."""
        from airflow_provider_twads.api.errors import AdsApiValidationError

        if self.resource not in vocab.RESOURCES:
            raise AdsApiValidationError(
                "resource", f"{self.resource!r} is not allowed", allowed=vocab.RESOURCES
            )
        self._page_size()
        min_count = (
            None
            if self.min_count is None
            or (isinstance(self.min_count, str) and self.min_count.strip() in ("", "None"))
            else as_int(self.min_count, parameter="min_count", minimum=1, operation=_OPERATION)
        )
        condition = Condition(
            approval_status=self.approval_status or None,
            entity_status=self.entity_status or None,
            min_count=min_count,
            fail_on_deleted=bool(self.fail_on_deleted),
        )
        return condition, _normalize_filters(self.resource, self.filters, condition.fail_on_deleted)

    def _page_size(self) -> int:
        """``page_size`` as an int (a template may render it as a string)."""
        return as_int(
            self.page_size,
            parameter="page_size",
            minimum=vocab.COUNT_MIN,
            maximum=vocab.COUNT_MAX,
            operation=_OPERATION,
        )

    def check(self) -> ConditionResult:
        """List every page once and evaluate the condition; raise on a terminal failure."""
        condition, filters = self._validated()
        entities = self.client.list(self.resource, count=self._page_size(), **filters)
        result = evaluate(entities, condition)
        self.log.info("%s %s: %s", self.resource, filters, result.message)
        if result.failed:
            raise AirflowFailException(result.message)
        return result

    # -- poke / reschedule --------------------------------------------------------------------------------
    def poke(self, context: Context) -> PokeReturnValue:
        """One check (all pages).

        :param context: the task context.
        """
        result = self.check()
        return PokeReturnValue(is_done=result.done, xcom_value=result.matched_ids if result.done else None)

    # -- deferrable ---------------------------------------------------------------------------------------
    @fail_fast_on_deterministic_errors
    def execute(self, context: Context) -> Any:
        """Poke/reschedule as usual; when deferrable, check once, then defer to :class:`AdsCursorTrigger`.

        :param context: the task context.
        """
        if not self.deferrable:
            return super().execute(context)
        result = self.check()
        if result.done:
            return result.matched_ids
        from airflow_provider_twads.triggers.cursor import AdsCursorTrigger

        condition, filters = self._validated()
        timeout = self.timeout.total_seconds() if isinstance(self.timeout, timedelta) else self.timeout
        self.log.info(
            "Deferring: polling every %s s in the triggerer (timeout %s s)", self.poke_interval, timeout
        )
        poke_interval = (
            self.poke_interval.total_seconds()
            if isinstance(self.poke_interval, timedelta)
            else self.poke_interval
        )
        self.defer(
            trigger=AdsCursorTrigger(
                resource=self.resource,
                filters=filters,
                condition=condition.to_dict(),
                twitter_ads_conn_id=self.twitter_ads_conn_id,
                account_id=self.account_id,
                poll_interval=float(poke_interval),
                end_time=time.time() + float(timeout) if timeout is not None else None,
                page_size=self._page_size(),
            ),
            method_name="execute_complete",
            timeout=timedelta(seconds=float(timeout)) if timeout is not None else None,
        )

    def execute_complete(self, context: Context, event: dict[str, Any] | None = None) -> list[str]:
        """Resume after the trigger: validate its event and return the matched IDs.

        :param context: the task context.
        :param event: the trigger's event payload.
        """
        try:
            outcome = read_event(event)
        except ValueError as err:
            raise AirflowException(str(err)) from None
        if outcome.status == "success":
            self.log.info("%s", outcome.message)
            return outcome.matched_ids
        if outcome.status == "failure":
            raise AirflowFailException(outcome.message)
        if outcome.status == "timeout":
            raise AirflowSensorTimeout(outcome.message)
        raise AirflowException(f"AdsCursorTrigger failed: {outcome.message}")
