"""Reconciliation's errors, members of the provider's one error family.

They subclass :class:`~airflow_provider_twads.api.errors.AdsApiError`, so ``except AdsApiError`` catches
every error the provider raises, whether the API refused a request or reconciliation found that what exists
does not match what was asked. They keep their messages as written, over several lines (one per setting or
step), and pickle like the client's errors.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from airflow_provider_twads.api.errors import TRANSIENT_CLIENT_STATUSES, AdsApiError, is_deterministic

__all__ = ["PartialApplyError", "ReconcileError", "SettingsMismatchError", "format_diff"]


class ReconcileError(AdsApiError):
    """Base class of the errors raised by reconciliation (not by the API).

    :param message: what is wrong and what to do about it.
    """

    def __init__(self, message: str) -> None:
        super().__init__(message)

    def __str__(self) -> str:
        # No method, path or status to head the line with: the message says it all, in its own lines.
        return f"{self.message} | Hint: {self.hint}" if self.hint else self.message


def format_diff(name: str, line_item_id: str, diff: Mapping[str, tuple[Any, Any]]) -> str:
    """A readable account of a settings diff.

    :param name: the line item name.
    :param line_item_id: the existing line item's ID.
    :param diff: as from :func:`~airflow_provider_twads.reconcile.line_items.diff_line_item`.
    :return: several lines, one per differing setting.
    """
    lines = [f"Line item {name!r} (id {line_item_id}) exists with other settings:"]
    for key, (have, want) in sorted(diff.items()):
        lines.append(f"  {key}: existing {have!r}, requested {want!r}")
    return "\n".join(lines)


class SettingsMismatchError(ReconcileError):
    """Line items with the requested names exist with other settings, and ``if_exists`` says not to update.

    :param mismatches: ``(name, line_item_id, diff)`` per line item, ``diff`` as from
        :func:`~airflow_provider_twads.reconcile.line_items.diff_line_item`.
    :param immutable: ``True`` when some differing setting cannot be changed after creation.
    """

    def __init__(
        self, mismatches: Sequence[tuple[str, str, Mapping[str, tuple[Any, Any]]]], *, immutable: bool = False
    ) -> None:
        self.mismatches = [(n, i, dict(d)) for n, i, d in mismatches]
        self.immutable = immutable
        parts = [format_diff(n, i, d) for n, i, d in self.mismatches]
        if immutable:
            parts.append(
                "objective, placements, product_type and campaign_id cannot be changed after creation: "
                "give the line item another name, or delete the existing one first."
            )
        else:
            parts.append(
                'Pass if_exists="update" to update the existing line item, or give this one another name.'
            )
        super().__init__("\n".join(parts))

    @property
    def deterministic(self) -> bool:
        """The same settings meet the same existing line item on every try."""
        return True


class PartialApplyError(ReconcileError):
    """A multi-step write stopped part-way. The message says what was applied; a re-run completes the rest.

    :param message: what failed and what was applied.
    :param applied: what was applied before the failure (operator-specific summary).
    """

    def __init__(self, message: str, *, applied: Mapping[str, Any]) -> None:
        self.applied = dict(applied)
        super().__init__(message)

    @property
    def deterministic(self) -> bool:
        """As the failure that stopped it (raised ``from`` it): a refused request stays refused."""
        return is_deterministic(self.__cause__) if self.__cause__ is not None else False


def rerun_advice(err: BaseException, rerun: str) -> str:
    """What to do after a failed write: a re-run, unless the API refused the request itself.

    A 4xx (other than 408, 423 and 429) is deterministic: the same request fails the same way on every
    re-run, so the advice is to fix the input first.

    :param err: the failure.
    :param rerun: what a re-run does, e.g. "it skips Tweets already promoted and promotes the rest."
    """
    status = getattr(err, "status", None)
    if isinstance(status, int) and 400 <= status < 500 and status not in TRANSIENT_CLIENT_STATUSES:
        return (
            f"The API refused the request itself (HTTP {status}): re-sending it cannot help. Fix what the "
            f"error names first; a re-run then {rerun.removeprefix('it ')}"
        )
    return f"Re-run the task: {rerun}"
