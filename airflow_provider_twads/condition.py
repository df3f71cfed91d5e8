"""What the cursor sensor and its trigger share: the wait condition, its evaluation, and the event.

Pure data in, pure data out: no Airflow, no HTTP. The sensor (poke and reschedule modes) and the trigger
(deferrable mode) both list every page of entities and hand them to :func:`evaluate`; the trigger reports
with :func:`trigger_event` and the sensor reads that back with :func:`read_event`.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass, field
from typing import Any

from airflow_provider_twads.api import vocabulary as vocab
from airflow_provider_twads.api.errors import AdsApiValidationError

__all__ = [
    "EVENT_STATUSES",
    "Condition",
    "ConditionResult",
    "TriggerOutcome",
    "evaluate",
    "read_event",
    "trigger_event",
]

#: The statuses of the trigger's event: the condition held, cannot hold any more, time ran out, or the
#: trigger could not list (connection, API error).
EVENT_STATUSES = ("success", "failure", "timeout", "error")

#: For each awaited approval status, the statuses from which it can no longer be reached.
_APPROVAL_DEAD_ENDS: dict[str, frozenset[str]] = {
    s: frozenset(vocab.PROMOTED_TWEET_TERMINAL_APPROVAL_STATUSES) - {s}
    for s in vocab.PROMOTED_TWEET_APPROVAL_STATUSES
}


@dataclass(frozen=True)
class Condition:
    """What the sensor waits for, over all entities the list endpoint returns.

    :param approval_status: entities must have this ``approval_status`` (e.g. ``ACCEPTED``); an entity in
        another final approval status (``REJECTED``) is a terminal failure.
    :param entity_status: entities must have this ``entity_status`` (e.g. ``ACTIVE``).
    :param min_count: ``None``: every listed entity must match, and at least one must be listed.
        ``N``: at least N entities must match (the others may still be pending).
    :param fail_on_deleted: a deleted entity among those listed is a terminal failure; when ``False``
        deleted entities are ignored.
    """

    approval_status: str | None = None
    entity_status: str | None = None
    min_count: int | None = None
    fail_on_deleted: bool = True

    def __post_init__(self) -> None:
        op = "AdsCursorSensor"
        if (
            self.approval_status is not None
            and self.approval_status not in vocab.PROMOTED_TWEET_APPROVAL_STATUSES
        ):
            raise AdsApiValidationError(
                "approval_status",
                f"{self.approval_status!r} is not allowed",
                allowed=vocab.PROMOTED_TWEET_APPROVAL_STATUSES,
                operation=op,
            )
        if self.entity_status is not None and self.entity_status not in vocab.ENTITY_STATUSES:
            raise AdsApiValidationError(
                "entity_status",
                f"{self.entity_status!r} is not allowed",
                allowed=vocab.ENTITY_STATUSES,
                operation=op,
            )
        if self.min_count is not None and (
            isinstance(self.min_count, bool) or not isinstance(self.min_count, int) or self.min_count < 1
        ):
            raise AdsApiValidationError("min_count", "must be a positive integer or None", operation=op)

    def to_dict(self) -> dict[str, Any]:
        """JSON-serialisable form (for trigger kwargs)."""
        return asdict(self)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Condition:
        """Rebuild from :meth:`to_dict`.

        :param data: the dict.
        """
        return cls(**dict(data))

    def describe(self) -> str:
        """A short human description, for logs."""
        wants = [
            f"{k}={v}"
            for k, v in (("approval_status", self.approval_status), ("entity_status", self.entity_status))
            if v
        ]
        what = " and ".join(wants) or "listed"
        scope = f"at least {self.min_count} entities {what}" if self.min_count else f"all entities {what}"
        return scope


@dataclass
class ConditionResult:
    """The verdict over one full listing.

    :param done: the condition holds.
    :param failed: a terminal failure makes the condition unreachable.
    :param matched_ids: IDs of the entities that match.
    :param failed_ids: IDs of the entities in a terminal failure.
    :param pending_ids: IDs of the entities that do not match yet.
    :param total: how many entities were considered.
    :param message: one line for logs and errors.
    """

    done: bool
    failed: bool
    matched_ids: list[str] = field(default_factory=list)
    failed_ids: list[str] = field(default_factory=list)
    pending_ids: list[str] = field(default_factory=list)
    total: int = 0
    message: str = ""


def _ids(ids: list[str], limit: int = 20) -> str:
    more = f" (+{len(ids) - limit} more)" if len(ids) > limit else ""
    return ", ".join(ids[:limit]) + more


def evaluate(entities: Iterable[Mapping[str, Any]], condition: Condition) -> ConditionResult:
    """Evaluate the condition over every listed entity (all pages).

    :param entities: the entities, as the list endpoint returns them.
    :param condition: what to wait for.
    :return: the verdict; ``failed`` wins over ``done``.
    """
    matched: list[str] = []
    pending: list[str] = []
    failures: list[str] = []
    reasons: list[str] = []
    dead_ends = _APPROVAL_DEAD_ENDS.get(condition.approval_status or "", frozenset())
    total = 0
    for e in entities:
        eid = str(e.get("id"))
        if e.get("deleted"):
            if condition.fail_on_deleted:
                failures.append(eid)
                reasons.append(f"{eid} deleted")
            continue
        total += 1
        approval = e.get("approval_status")
        if condition.approval_status and approval in dead_ends:
            failures.append(eid)
            reasons.append(f"{eid} {approval}")
            continue
        ok = (not condition.approval_status or approval == condition.approval_status) and (
            not condition.entity_status or e.get("entity_status") == condition.entity_status
        )
        (matched if ok else pending).append(eid)

    if failures:
        return ConditionResult(
            done=False,
            failed=True,
            matched_ids=matched,
            failed_ids=failures,
            pending_ids=pending,
            total=total,
            message=f"Terminal failure, {condition.describe()} can no longer hold: {_ids(reasons)}",
        )
    if condition.min_count is None:
        done = total > 0 and not pending
        need = (
            "at least one entity"
            if total == 0
            else f"{len(pending)} of {total} not yet matching ({_ids(pending)})"
        )
    else:
        done = len(matched) >= condition.min_count
        need = f"{len(matched)} of the required {condition.min_count} match ({total} listed)"
    message = (
        f"Condition met: {condition.describe()} ({len(matched)} of {total} match)"
        if done
        else f"Waiting for {condition.describe()}: {need}"
    )
    return ConditionResult(
        done=done,
        failed=False,
        matched_ids=matched,
        failed_ids=[],
        pending_ids=pending,
        total=total,
        message=message,
    )


def trigger_event(
    status: str, matched: list[str] | None = None, failed: list[str] | None = None, message: str = ""
) -> dict[str, Any]:
    """The trigger's event payload (JSON-only).

    :param status: one of :data:`EVENT_STATUSES`.
    :param matched: IDs of the entities that match.
    :param failed: IDs of the entities in a terminal failure.
    :param message: one line for the task log.
    """
    if status not in EVENT_STATUSES:
        raise ValueError(f"unknown event status {status!r}")
    return {"status": status, "matched_ids": matched or [], "failed_ids": failed or [], "message": message}


@dataclass(frozen=True)
class TriggerOutcome:
    """A trigger event, checked.

    :param status: one of :data:`EVENT_STATUSES`.
    :param message: the event's message.
    :param matched_ids: IDs of the matching entities (``success``).
    """

    status: str
    message: str
    matched_ids: list[str]


def read_event(event: Any) -> TriggerOutcome:
    """Check an event from :func:`trigger_event` (it crossed a process boundary: trust nothing).

    :param event: the event payload.
    :raises ValueError: the event is not one the trigger sends.
    """
    if not isinstance(event, Mapping) or event.get("status") not in EVENT_STATUSES:
        raise ValueError(f"Invalid event from AdsCursorTrigger: {event!r}")
    matched = event.get("matched_ids")
    if event["status"] == "success" and (
        not isinstance(matched, list) or not all(isinstance(i, str) for i in matched)
    ):
        raise ValueError(f"Invalid event from AdsCursorTrigger (matched_ids): {event!r}")
    return TriggerOutcome(
        status=str(event["status"]),
        message=str(event.get("message") or ""),
        matched_ids=list(matched) if isinstance(matched, list) else [],
    )
