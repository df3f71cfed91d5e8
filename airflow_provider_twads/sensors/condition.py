"""The declarative wait condition of the cursor sensor, evaluated in one place for sensor and trigger.

Pure data in, pure data out: no Airflow, no HTTP. The sensor (poke and reschedule modes) and the trigger
(deferrable mode) both list every page of entities and hand them to :func:`evaluate`.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass, field
from typing import Any

from airflow_provider_twads.api import vocabulary as vocab
from airflow_provider_twads.api.errors import AdsApiValidationError

__all__ = ["Condition", "ConditionResult", "evaluate"]

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
