"""Batch requests without I/O: chunking, and mapping a chunk's errors back to the caller's input items.

A batch endpoint applies a chunk atomically and answers in input order; a sequence of chunks is not
atomic. :class:`BatchRun` tracks which chunks were applied so that a failure can say exactly what is
already written.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from airflow_provider_twads.api import vocabulary as vocab
from airflow_provider_twads.api.envelope import group_operation_errors
from airflow_provider_twads.api.errors import (
    AdsApiError,
    AdsApiValidationError,
    AmbiguousBatchError,
    AmbiguousWriteError,
    BatchError,
)

__all__ = ["BatchRun", "Chunk", "check_chunk_size", "chunk_size_for", "chunks", "operation_errors_by_index"]


def chunk_size_for(resource: str, requested: int | None = None) -> int:
    """The chunk size for a batch of ``resource``: the caller's, else the vocabulary's safe default.

    :param resource: ``line_items``, ``targeting_criteria`` or ``campaigns``.
    :param requested: the caller's chunk size, if any.
    :raises AdsApiValidationError: the resource has no batch endpoint, or the size is out of range.
    """
    if resource not in vocab.BATCH_CHUNK_SIZES:
        raise AdsApiValidationError(
            "resource", f"{resource!r} has no batch endpoint", allowed=sorted(vocab.BATCH_CHUNK_SIZES)
        )
    if requested is None:
        return vocab.BATCH_CHUNK_SIZES[resource]
    return check_chunk_size(requested, vocab.BATCH_MAX_SIZES[resource], what=f" for {resource}")


def check_chunk_size(value: Any, maximum: int, *, what: str = "", operation: str | None = None) -> int:
    """``value`` if it is an ``int`` from 1 to ``maximum``; anything else (``"10"``, ``2.5``, ``True``,
    ``None``) is an error naming ``chunk_size``, raised before any HTTP call.

    :param value: the requested chunk size.
    :param maximum: the endpoint's largest chunk.
    :param what: appended to the message, e.g. `` for line_items``.
    :param operation: the operation, for the error.
    :raises AdsApiValidationError: naming ``chunk_size``.
    """
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= maximum:
        raise AdsApiValidationError(
            "chunk_size", f"must be an integer from 1 to {maximum}{what}, got {value!r}", operation=operation
        )
    return value


@dataclass(frozen=True)
class Chunk:
    """One chunk of a batch.

    :param number: 1-based chunk number.
    :param total: number of chunks.
    :param start: index of the chunk's first operation in the input.
    :param operations: the chunk's operations.
    """

    number: int
    total: int
    start: int
    operations: list[dict[str, Any]]


def chunks(operations: Sequence[dict[str, Any]], size: int) -> Iterator[Chunk]:
    """Split operations into chunks of at most ``size``, remembering where each starts.

    :param operations: the operations, in input order.
    :param size: the chunk size.
    """
    total = (len(operations) + size - 1) // size
    for n, start in enumerate(range(0, len(operations), size), start=1):
        yield Chunk(n, total, start, list(operations[start : start + size]))


def operation_errors_by_index(
    envelope: Mapping[str, Any] | None, offset: int, size: int | None = None
) -> dict[int, list[dict[str, Any]]]:
    """Map a batch response's ``operation_errors`` to input indices, in either shape (one list per
    operation in order, or one flat list whose items name their operation: see
    :func:`~airflow_provider_twads.api.envelope.group_operation_errors`).

    :param envelope: the parsed batch error response.
    :param offset: the input index of the chunk's first operation.
    :param size: how many operations the chunk had, when known.
    :return: input index -> that operation's errors (only operations that have errors).
    """
    if not envelope:
        return {}
    mapped, _loose = group_operation_errors(envelope.get("operation_errors"), size)
    return {offset + i: errs for i, errs in mapped.items()}


@dataclass
class BatchRun:
    """The progress of a chunked batch.

    :param resource: the batch's resource.
    :param total_chunks: how many chunks.
    :param total_operations: how many operations.
    """

    resource: str
    total_chunks: int
    total_operations: int
    applied_chunks: list[int] = field(default_factory=list)
    results: list[Any] = field(default_factory=list)

    def applied(self, chunk: Chunk, data: Any) -> None:
        """Record a chunk the API applied, with its results (in the chunk's order).

        :param chunk: the chunk.
        :param data: the response's ``data``.
        """
        items = data if isinstance(data, list) else [data]
        self.applied_chunks.append(chunk.number)
        self.results.extend(items)

    def failure(self, chunk: Chunk, error: AdsApiError) -> BatchError:
        """The error to raise when ``chunk`` failed: it says which chunks were applied, with their results.

        :param chunk: the failed chunk.
        :param error: the chunk's error (its ``operation_errors`` are mapped to input indices).
        """
        item_errors = operation_errors_by_index(
            {"operation_errors": error.operation_errors}, chunk.start, len(chunk.operations)
        )
        end = chunk.start + len(chunk.operations) - 1
        what = (
            f"batch {self.resource}: chunk {chunk.number} of {chunk.total} (items {chunk.start}-{end}) "
            f"{'may or may not have been applied' if isinstance(error, AmbiguousWriteError) else 'failed'}"
        )
        cls = AmbiguousBatchError if isinstance(error, AmbiguousWriteError) else BatchError
        exc = cls(
            f"{what}: {error.message}",
            status=error.status,
            method=error.method,
            path=error.path,
            codes=error.codes,
            messages=[f"{what}: {m}" for m in error.messages] or [what],
            parameter=error.parameter,
            hint=error.hint,
            errors=error.errors,
            item_errors=item_errors,
            applied_chunks=self.applied_chunks,
            failed_chunk=chunk.number,
            total_chunks=self.total_chunks,
            applied_results=self.results,
        )
        exc.__cause__ = error
        return exc
