"""A sensor that waits until entities deliver: a threshold over synchronous stats since a start time."""

from __future__ import annotations

import time
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from airflow.providers.common.compat.sdk import (
    AirflowException,
    AirflowFailException,
    AirflowSensorTimeout,
    BaseSensorOperator,
    PokeReturnValue,
    conf,
)

from airflow_provider_twads.common import (
    CONN_TEMPLATE_FIELDS,
    DEFAULT_CONN_ID,
    AdsApiHookMixin,
    as_id_list,
    fail_fast_on_deterministic_errors,
)

if TYPE_CHECKING:
    from airflow.providers.common.compat.sdk import Context

    from airflow_provider_twads.delivery import DeliveryCondition, DeliveryResult

__all__ = ["AdsDeliverySensor"]


def _number(value: Any, parameter: str) -> float:
    from airflow_provider_twads.api.errors import AdsApiValidationError

    try:
        number = float(value)
    except (TypeError, ValueError):
        number = float("nan")
    if isinstance(value, bool) or number != number or number in (float("inf"), float("-inf")):
        raise AdsApiValidationError(
            parameter, f"must be a number, got {value!r}", operation="AdsDeliverySensor"
        )
    return number


def start_of(value: Any, context: Context | None) -> datetime:
    """The time to count delivery from: ``value`` when given, else the run's data interval start, else
    its logical date, else now (stable across re-checks only when the run has a date).

    :param value: the ``start_time`` argument (rendered), or ``None``.
    :param context: the task context.
    """
    from airflow_provider_twads.api.times import to_api_time

    if value in (None, "", "None"):
        ctx: Any = context or {}
        value = ctx.get("data_interval_start") or ctx.get("logical_date") or datetime.now(UTC)
    text = to_api_time(value, parameter="start_time")
    assert text is not None
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


class AdsDeliverySensor(AdsApiHookMixin, BaseSensorOperator):
    """Wait until entities deliver: a metric summed since ``start_time`` crosses a threshold, e.g.
    impressions > 0 within 6 hours of activation, or spend >= 50 dollars (50,000,000 micros).

    Each check reads ``GET stats/accounts/:account_id`` (``HOUR`` series from ``start_time``'s hour to the
    current hour, chunked to the API's limits) and sums it. When ``within_hours`` is given and the condition
    does not hold by ``start_time + within_hours``, the task fails with a message naming the entities that
    did not deliver and their values. Works in ``poke`` and ``reschedule`` mode and, with
    ``deferrable=True``, in the triggerer (after one check in the worker). Returns (XCom) each entity's
    value of the metric (``None``: no activity).

    :param entity_ids: the entities (a list, or one comma-separated string; any number).
    :param entity: ``LINE_ITEM`` (default), ``CAMPAIGN``, ``PROMOTED_TWEET``, ``FUNDING_INSTRUMENT``...
    :param metric: a numeric metric: ``impressions`` (default), ``engagements``, ``clicks``, ``spend``
        (``billed_charge_local_micro``, in micros), ``video_total_views``...
    :param op: ``>`` (default), ``>=``, ``<`` or ``<=``.
    :param value: the threshold (default 0: "any delivery").
    :param each: every entity must meet it (default), or (``False``) their sum must.
    :param start_time: count from this time (e.g. the activation; templated); default: the run's data
        interval start, else its logical date.
    :param within_hours: fail when the condition does not hold this many hours after ``start_time``.
    :param placement: the analytics placement (default ``ALL_ON_TWITTER``).
    :param deferrable: wait in the triggerer; default from ``[operators] default_deferrable``.
    :param twitter_ads_conn_id: the X Ads connection.
    :param account_id: the ad account; default: the connection's ``account_id`` extra.
    """

    template_fields: Sequence[str] = (
        "entity_ids",
        "entity",
        "metric",
        "op",
        "value",
        "start_time",
        "within_hours",
        *CONN_TEMPLATE_FIELDS,
    )
    ui_color = "#f0f8ff"

    def __init__(
        self,
        *,
        entity_ids: Sequence[str] | str,
        entity: str = "LINE_ITEM",
        metric: str = "impressions",
        op: str = ">",
        value: float | str = 0,
        each: bool = True,
        start_time: Any = None,
        within_hours: float | str | None = None,
        placement: str = "ALL_ON_TWITTER",
        deferrable: bool = conf.getboolean("operators", "default_deferrable", fallback=False),
        twitter_ads_conn_id: str = DEFAULT_CONN_ID,
        account_id: str | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.entity_ids = entity_ids
        self.entity = entity
        self.metric = metric
        self.op = op
        self.value = value
        self.each = each
        self.start_time = start_time
        self.within_hours = within_hours
        self.placement = placement
        self.deferrable = deferrable
        self.twitter_ads_conn_id = twitter_ads_conn_id
        self.account_id = account_id

    def condition(self, context: Context | None) -> DeliveryCondition:
        """The condition, validated (no HTTP).

        :param context: the task context (for the default start time).
        """
        from airflow_provider_twads.delivery import DeliveryCondition, Threshold

        start = start_of(self.start_time, context)
        deadline = None
        if self.within_hours not in (None, "", "None"):
            hours = _number(self.within_hours, "within_hours")
            deadline = (start + timedelta(hours=hours)).strftime("%Y-%m-%dT%H:%M:%SZ")
        return DeliveryCondition(
            entity_ids=tuple(as_id_list(self.entity_ids, parameter="entity_ids")),
            threshold=Threshold(str(self.metric), str(self.op).strip(), _number(self.value, "value")),
            start_time=start.strftime("%Y-%m-%dT%H:%M:%SZ"),
            deadline=deadline,
            entity=str(self.entity).strip().upper(),
            each=bool(self.each),
            placement=str(self.placement).strip().upper(),
        )

    def check(self, context: Context | None) -> DeliveryResult:
        """Read the stats once and judge; fail when the deadline passed.

        :param context: the task context.
        """
        from airflow_provider_twads.api.analytics import totals
        from airflow_provider_twads.delivery import judge

        condition = self.condition(context)
        now = datetime.now(UTC)
        result = judge(condition, totals(self.client.get_stats(**condition.stats_request(now))), now)
        self.log.info("%s", result.message)
        if result.expired:
            raise AirflowFailException(result.message)
        return result

    def poke(self, context: Context) -> PokeReturnValue:
        """One check.

        :param context: the task context.
        """
        result = self.check(context)
        return PokeReturnValue(is_done=result.done, xcom_value=result.values if result.done else None)

    @fail_fast_on_deterministic_errors
    def execute(self, context: Context) -> Any:
        """Poke/reschedule as usual; when deferrable, check once, then defer to ``AdsDeliveryTrigger``.

        :param context: the task context.
        """
        if not self.deferrable:
            return super().execute(context)
        result = self.check(context)
        if result.done:
            return result.values
        from airflow_provider_twads.triggers.delivery import AdsDeliveryTrigger

        timeout = self.timeout.total_seconds() if isinstance(self.timeout, timedelta) else self.timeout
        interval = self.poke_interval
        interval = interval.total_seconds() if isinstance(interval, timedelta) else interval
        self.defer(
            trigger=AdsDeliveryTrigger(
                condition=self.condition(context).to_dict(),
                twitter_ads_conn_id=self.twitter_ads_conn_id,
                account_id=self.account_id,
                poll_interval=float(interval),
                end_time=time.time() + float(timeout) if timeout is not None else None,
            ),
            method_name="execute_complete",
            timeout=timedelta(seconds=float(timeout)) if timeout is not None else None,
        )

    def execute_complete(
        self, context: Context, event: dict[str, Any] | None = None
    ) -> dict[str, int | None]:
        """Resume after the trigger: validate its event and return the values.

        :param context: the task context.
        :param event: the trigger's event payload.
        """
        from airflow_provider_twads.delivery import read_delivery_event

        try:
            status, values, message = read_delivery_event(event)
        except ValueError as err:
            raise AirflowException(str(err)) from None
        if status == "success":
            self.log.info("%s", message)
            return values
        if status == "failure":
            raise AirflowFailException(message)
        if status == "timeout":
            raise AirflowSensorTimeout(message)
        raise AirflowException(f"AdsDeliveryTrigger failed: {message}")
