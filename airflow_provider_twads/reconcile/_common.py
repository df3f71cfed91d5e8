"""What every resource's reconciliation shares: chunking, progress lines, entity keys, and the one loop that
looks before writing again after an ambiguous write.

The loop, :func:`write_missing`, is the place where "never blindly re-send" lives: a write that may or may
not have been applied (:class:`~airflow_provider_twads.api.errors.AmbiguousWriteError`) is followed by a
read by natural key, and only what is still missing is written again. Each resource module gives it three
functions: how to write, how to look, and what to raise when it fails. The same natural-key reads are what
a step that converges after writing (several writers on one key) would read back.
"""

from __future__ import annotations

import ast
import logging
from collections.abc import Callable, Mapping, Sequence
from typing import Any, NoReturn, TypeVar

from airflow_provider_twads.api.errors import (
    AdsApiError,
    AdsApiValidationError,
    AmbiguousWriteError,
    MalformedResponseError,
    NotFoundError,
)

log = logging.getLogger(__name__)

__all__ = [
    "MAX_AMBIGUOUS_ATTEMPTS",
    "ChunkTracker",
    "Progress",
    "check_choice",
    "chunks",
    "entity_field",
    "noop",
    "split_ids",
    "write_missing",
]

#: Receives one human-readable progress line (operators pass ``self.log.info``).
Progress = Callable[[str], None]

# Attempts at one write when each attempt ends ambiguously (look, then write only what is missing).
MAX_AMBIGUOUS_ATTEMPTS = 3

T = TypeVar("T")
R = TypeVar("R")


def noop(_: str) -> None:
    """The default :data:`Progress`: says nothing."""
    return None


def chunks(items: Sequence[T], size: int) -> list[Sequence[T]]:
    """``items`` in consecutive slices of at most ``size``."""
    return [items[i : i + size] for i in range(0, len(items), size)]


def entity_field(entity: Any, key: str, what: str) -> str:
    """A key field (``id``, ``tweet_id``) of an entity the API returned, as a string.

    Reconciliation keys on these fields: one missing (or an entity that is not an object) is a malformed
    response, reported as such instead of a KeyError from deep inside a write.

    :param entity: the entity as the API returned it.
    :param key: the field.
    :param what: what the entity is, for the message (``line item``, ``promoted Tweet``).
    :raises MalformedResponseError: naming the field.
    """
    value = entity.get(key) if isinstance(entity, Mapping) else None
    if isinstance(value, bool) or not isinstance(value, str | int) or not str(value).strip():
        raise MalformedResponseError(
            f"the API returned a {what} without a usable {key!r}: {entity!r:.100}", parameter=key
        )
    return str(value)


def check_choice(parameter: str, value: Any, allowed: Sequence[Any], *, operation: str) -> None:
    """Raise :class:`AdsApiValidationError` unless ``value`` is one of ``allowed``."""
    if value not in allowed:
        raise AdsApiValidationError(
            parameter, f"{value!r} is not allowed", allowed=allowed, operation=operation
        )


def split_ids(text: str) -> list[str]:
    """IDs from one string: comma-separated, or a rendered list.

    Jinja renders an XCom list as its repr (``"['abc', 'def']"``) unless the DAG renders native objects;
    both forms are accepted.

    :param text: the string.
    :return: the IDs, stripped (empty items kept, so that callers can name them).
    """
    stripped = text.strip()
    if stripped.startswith("[") and stripped.endswith("]"):
        try:
            value = ast.literal_eval(stripped)
        except (ValueError, SyntaxError):
            value = None
        if isinstance(value, list):
            return [str(v).strip() for v in value]
    return [part.strip() for part in stripped.split(",")]


class ChunkTracker:
    """The ``on_chunk`` callback of :meth:`AdsApiClient.batch`: logs "batch k of n" and keeps the results.

    :param label: what is written, at the start of the line (``Targeting``).
    :param unit: what is counted, at the end (``operations``).
    :param total: how many items the whole batch has.
    :param progress: receives the lines.
    :param on_results: receives ``(offset of the chunk's first item, the chunk's results)``.
    """

    def __init__(
        self,
        label: str,
        unit: str,
        total: int,
        progress: Progress,
        on_results: Callable[[int, Sequence[Mapping[str, Any]]], None] | None = None,
    ) -> None:
        self.label, self.unit, self.total, self.progress = label, unit, total, progress
        self.on_results = on_results
        self.done = 0

    def __call__(self, k: int, n: int, results: list[dict[str, Any]]) -> None:
        if self.on_results is not None:
            self.on_results(self.done, results)
        self.done += len(results)
        self.progress(f"{self.label} batch {k} of {n} applied: {self.done} of {self.total} {self.unit}")


def _reraise(err: AdsApiError, _todo: Sequence[Any]) -> BaseException:
    return err


def write_missing(
    todo: Sequence[T],
    write: Callable[[list[T]], R],
    look: Callable[[list[T], AmbiguousWriteError], Sequence[T]],
    *,
    fail: Callable[[AdsApiError, list[T]], BaseException] = _reraise,
    attempts: int = MAX_AMBIGUOUS_ATTEMPTS,
) -> R | None:
    """Write ``todo``; after an ambiguous write, look first and write again only what is still missing.

    An ambiguous write (a timeout or a dropped connection after sending, a 500) may have been applied, so
    it is never re-sent as is: ``look`` reads what exists by natural key and returns what is still to write.
    When nothing is left the write is done; otherwise it is written again, ``attempts`` times at most.

    :param todo: what to write (items, positions or operations: whatever ``write`` and ``look`` share).
    :param write: writes what it is given and returns the API's answer. It is the only call guarded here:
        reading that answer is the caller's, after this returns.
    :param look: after an ambiguous write of what it is given, reads what exists (and records it) and
        returns what is still missing. Errors it raises propagate unchanged.
    :param fail: the exception to raise for a failed write (any other API error, or the last ambiguous
        attempt), given the error and what was being written; returning the error itself re-raises it.
    :param attempts: how many writes at most.
    :return: ``write``'s answer, or ``None`` when a look found nothing left to write.
    """
    pending = list(todo)
    for attempt in range(1, attempts + 1):
        try:
            return write(pending)
        except AmbiguousWriteError as err:
            pending = list(look(pending, err))
            if not pending:
                return None
            if attempt == attempts:
                _raise(fail(err, pending), err)
        except AdsApiError as err:
            _raise(fail(err, pending), err)
    raise AssertionError("unreachable")  # pragma: no cover


def _raise(failure: BaseException, cause: AdsApiError) -> NoReturn:
    if failure is cause:
        raise cause
    raise failure from cause


def delete_entity(
    what: str,
    entity_id: str,
    delete: Callable[[], Any],
    read_with_deleted: Callable[[], Mapping[str, Any]],
    *,
    progress: Progress = noop,
) -> str:
    """Delete one entity; deleting one that is already deleted (or absent) succeeds.

    :param what: how the log names it, e.g. ``Line item``.
    :param entity_id: its ID.
    :param delete: sends the DELETE.
    :param read_with_deleted: reads it with ``with_deleted=true`` (a 404 there: it never existed here).
    :param progress: receives progress lines.
    :return: ``deleted``, ``already deleted`` or ``not found``.
    """

    def attempt(_: list[str]) -> str:
        try:
            delete()
        except NotFoundError:
            try:
                item = read_with_deleted()
            except NotFoundError:
                log.warning("%s %s does not exist in this account: nothing to delete", what, entity_id)
                return "not found"
            if item.get("deleted"):
                progress(f"{what} {entity_id} was already deleted")
                return "already deleted"
            raise
        progress(f"{what} {entity_id} deleted")
        return "deleted"

    def look(todo: list[str], _: AmbiguousWriteError) -> list[str]:
        # Sending the DELETE again is the look: on a deleted entity it is a 404, checked above.
        progress(f"Deleting {what.lower()} {entity_id} ended ambiguously; checking whether it is deleted")
        return todo

    outcome = write_missing([entity_id], attempt, look)
    assert outcome is not None  # look never reports "nothing left": the next DELETE decides
    return outcome
