"""What the delivery sensor, its trigger and the pause operator share: a threshold over stats, judged.

Pure data in, pure data out: no Airflow, no HTTP. A :class:`Threshold` reads one metric (``impressions``,
``spend``...) summed over a window and compares it; :class:`DeliveryCondition` adds the entities, the window
start and the deadline, and :func:`judge` gives the verdict from the stats' totals
(:func:`~airflow_provider_twads.api.analytics.totals`).
"""

from __future__ import annotations

import operator
from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from airflow_provider_twads.api.errors import AdsApiValidationError
from airflow_provider_twads.api.params.stats import (
    METRIC_ALIASES,
    NUMERIC_METRICS,
    STATS_ENTITIES,
    STATS_PLACEMENTS,
)

__all__ = [
    "DeliveryCondition",
    "DeliveryResult",
    "Threshold",
    "delivery_event",
    "floor_hour",
    "judge",
    "read_delivery_event",
    "stats_window",
]

_OPS: dict[str, Callable[[float, float], bool]] = {
    ">": operator.gt,
    ">=": operator.ge,
    "<": operator.lt,
    "<=": operator.le,
}
_GROUP_OF = {metric: group for group, metrics in NUMERIC_METRICS.items() for metric in metrics}
EVENT_STATUSES = ("success", "failure", "timeout", "error")


def floor_hour(t: datetime) -> datetime:
    """``t`` (naive: UTC) rounded down to its hour, in UTC.

    :param t: the time.
    """
    t = t.replace(tzinfo=UTC) if t.tzinfo is None else t.astimezone(UTC)
    return t.replace(minute=0, second=0, microsecond=0)


def stats_window(start: datetime, now: datetime) -> tuple[datetime, datetime]:
    """The whole hours from ``start``'s hour to the end of ``now``'s (the current hour counts: stats are
    near real time).

    :param start: when to count from.
    :param now: the current time.
    """
    begin = floor_hour(start)
    return begin, max(floor_hour(now) + timedelta(hours=1), begin + timedelta(hours=1))


@dataclass(frozen=True)
class Threshold:
    """``metric op value``, e.g. ``impressions > 0`` or ``spend >= 50_000_000`` (micros).

    :param metric: a numeric metric of ``ENGAGEMENT``, ``BILLING`` or ``VIDEO`` (``spend`` is
        ``billed_charge_local_micro``).
    :param op: ``>``, ``>=``, ``<`` or ``<=``.
    :param value: the number to compare with.
    """

    metric: str = "impressions"
    op: str = ">"
    value: float = 0

    def __post_init__(self) -> None:
        metric = METRIC_ALIASES.get(str(self.metric).strip(), str(self.metric).strip())
        if metric not in _GROUP_OF:
            raise AdsApiValidationError(
                "metric", f"{self.metric!r} is not a numeric metric", allowed=[*METRIC_ALIASES, *_GROUP_OF]
            )
        if self.op not in _OPS:
            raise AdsApiValidationError("op", f"{self.op!r} is not a comparison", allowed=list(_OPS))
        if isinstance(self.value, bool) or not isinstance(self.value, int | float):
            raise AdsApiValidationError("value", f"must be a number, got {self.value!r}")
        object.__setattr__(self, "metric", metric)

    @property
    def metric_group(self) -> str:
        """The metric group to ask for."""
        return _GROUP_OF[self.metric]

    def holds(self, observed: float | None) -> bool:
        """Whether an observed value (``None``: no activity, i.e. 0) meets the threshold.

        :param observed: the value.
        """
        return _OPS[self.op](observed or 0, self.value)

    def describe(self) -> str:
        """E.g. ``impressions > 0``."""
        return f"{self.metric} {self.op} {self.value:g}"


@dataclass(frozen=True)
class DeliveryCondition:
    """What the delivery sensor waits for.

    :param entity_ids: the entities.
    :param threshold: the metric comparison, as :meth:`Threshold` fields.
    :param start_time: count from this time (ISO 8601 UTC, e.g. the activation).
    :param deadline: fail when the condition does not hold by then (ISO 8601 UTC; ``None``: none).
    :param entity: the entity type.
    :param each: every entity must meet the threshold (``True``) or their sum must (``False``).
    :param placement: the analytics placement.
    """

    entity_ids: tuple[str, ...]
    threshold: Threshold
    start_time: str
    deadline: str | None = None
    entity: str = "LINE_ITEM"
    each: bool = True
    placement: str = "ALL_ON_TWITTER"

    def __post_init__(self) -> None:
        if self.entity not in STATS_ENTITIES:
            raise AdsApiValidationError("entity", f"{self.entity!r} is not allowed", allowed=STATS_ENTITIES)
        if not self.entity_ids:
            raise AdsApiValidationError("entity_ids", "at least one ID is required")
        if self.placement not in STATS_PLACEMENTS:
            raise AdsApiValidationError(
                "placement", f"{self.placement!r} is not allowed (one placement)", allowed=STATS_PLACEMENTS
            )

    def to_dict(self) -> dict[str, Any]:
        """JSON-serialisable form (trigger kwargs)."""
        data = asdict(self)
        data["entity_ids"] = list(self.entity_ids)
        return data

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> DeliveryCondition:
        """Rebuild from :meth:`to_dict`.

        :param data: the dict.
        """
        fields = dict(data)
        fields["entity_ids"] = tuple(fields["entity_ids"])
        fields["threshold"] = Threshold(**fields["threshold"])
        return cls(**fields)

    def stats_request(self, now: datetime) -> dict[str, Any]:
        """The stats read of one check at ``now``: keyword arguments of ``client.get_stats`` and of
        :func:`~airflow_provider_twads.api.analytics.astats` (an HOUR series over :func:`stats_window`).

        :param now: the current time.
        """
        start, end = stats_window(datetime.fromisoformat(self.start_time.replace("Z", "+00:00")), now)
        return {
            "entity": self.entity,
            "entity_ids": self.entity_ids,
            "start_time": start,
            "end_time": end,
            "metric_groups": [self.threshold.metric_group],
            "granularity": "HOUR",
            "placement": self.placement,
        }

    def describe(self) -> str:
        """E.g. ``impressions > 0 for every LINE_ITEM``."""
        scope = f"for every {self.entity}" if self.each else f"summed over the {self.entity} entities"
        return f"{self.threshold.describe()} {scope}"


@dataclass(frozen=True)
class DeliveryResult:
    """One verdict.

    :param done: the condition holds.
    :param expired: the deadline passed without it holding (a failure).
    :param values: each entity's value of the metric (``None``: no activity).
    :param message: one line for logs and errors.
    """

    done: bool
    expired: bool
    values: dict[str, int | None]
    message: str


def _show(value: int | None) -> str:
    return "no activity" if value is None else f"{value:,}"


def judge(
    condition: DeliveryCondition, entity_totals: Mapping[str, Mapping[str, int | None]], now: datetime
) -> DeliveryResult:
    """The verdict over the entities' totals since the start.

    :param condition: what to wait for.
    :param entity_totals: :func:`~airflow_provider_twads.api.analytics.totals` of the stats.
    :param now: the current time (for the deadline).
    """
    metric = condition.threshold.metric
    values = {eid: (entity_totals.get(eid) or {}).get(metric) for eid in condition.entity_ids}
    if condition.each:
        missing = [eid for eid, v in values.items() if not condition.threshold.holds(v)]
        done = not missing
    else:
        total = sum(v or 0 for v in values.values())
        done = condition.threshold.holds(total)
        missing = [] if done else list(values)
    shown = ", ".join(f"{eid}: {_show(values[eid])}" for eid in (missing or list(values))[:20])
    if not condition.each:
        shown = f"total {sum(v or 0 for v in values.values()):,} ({shown})"
    since = f"since {condition.start_time}"
    if done:
        return DeliveryResult(
            True, False, values, f"Delivery condition met: {condition.describe()} {since} ({shown})"
        )
    deadline = condition.deadline
    if deadline is not None and now >= datetime.fromisoformat(deadline.replace("Z", "+00:00")):
        message = (
            f"Deadline {deadline} passed: {condition.describe()} does not hold {since}; not meeting it: "
            f"{shown}. Check that the entities are ACTIVE and servable (budget, targeting, approval)."
        )
        return DeliveryResult(False, True, values, message)
    return DeliveryResult(False, False, values, f"Waiting for {condition.describe()} {since}: {shown}")


def delivery_event(
    status: str, values: Mapping[str, int | None] | None = None, message: str = ""
) -> dict[str, Any]:
    """The delivery trigger's event (JSON-only).

    :param status: ``success``, ``failure`` (deadline passed), ``timeout`` or ``error``.
    :param values: each entity's value of the metric.
    :param message: one line for the task log.
    """
    if status not in EVENT_STATUSES:
        raise ValueError(f"unknown event status {status!r}")
    return {"status": status, "values": dict(values or {}), "message": message}


def read_delivery_event(event: Any) -> tuple[str, dict[str, int | None], str]:
    """``(status, values, message)`` of an event from :func:`delivery_event` (it crossed a process
    boundary: trust nothing).

    :param event: the event payload.
    :raises ValueError: not an event the trigger sends.
    """
    if not isinstance(event, Mapping) or event.get("status") not in EVENT_STATUSES:
        raise ValueError(f"Invalid event from AdsDeliveryTrigger: {event!r}")
    values = event.get("values")
    if not isinstance(values, Mapping) or not all(
        isinstance(k, str) and (v is None or (isinstance(v, int) and not isinstance(v, bool)))
        for k, v in values.items()
    ):
        raise ValueError(f"Invalid event from AdsDeliveryTrigger (values): {event!r}")
    return str(event["status"]), dict(values), str(event.get("message") or "")
