"""Line items by natural key (``name`` within the campaign): the read, and creating what is missing.

:func:`find_line_items_by_name` is the natural-key read that every step keys on: before writing, and again
after a create that ended ambiguously, so that nothing is created twice.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from airflow_provider_twads.api import vocabulary as vocab
from airflow_provider_twads.api.errors import AdsApiError, AmbiguousWriteError
from airflow_provider_twads.reconcile._common import (
    ChunkTracker,
    Progress,
    chunks,
    entity_field,
    write_missing,
)
from airflow_provider_twads.reconcile.errors import PartialApplyError, rerun_advice

if TYPE_CHECKING:
    from airflow_provider_twads.api.client import AdsApiClient

__all__ = ["LineItemKey", "LineItemResult", "create_line_items", "find_line_items_by_name"]

#: ``(campaign_id, name)``: what identifies a line item.
LineItemKey = tuple[str, str]


@dataclass(frozen=True)
class LineItemResult:
    """What happened to one requested line item.

    :param id: the line item ID.
    :param name: its name.
    :param campaign_id: its campaign.
    :param action: ``created``, ``reused`` or ``updated``.
    """

    id: str
    name: str
    campaign_id: str
    action: str


def find_line_items_by_name(
    client: AdsApiClient, campaign_ids: Iterable[str]
) -> dict[LineItemKey, list[dict[str, Any]]]:
    """Index the non-deleted line items (drafts included) of some campaigns by ``(campaign_id, name)``.

    :param client: the API client.
    :param campaign_ids: the campaigns to read (every page, 1000 per page, 200 campaigns per request).
    :return: ``{(campaign_id, name): [line items, oldest first]}``.
    """
    index: dict[LineItemKey, list[dict[str, Any]]] = {}
    ids = sorted({str(c) for c in campaign_ids})
    for chunk in chunks(ids, vocab.MAX_IDS_PER_FILTER):
        for item in client.list_line_items(
            campaign_ids=list(chunk), count=vocab.BULK_READ_COUNT, with_draft=True
        ):
            if item.get("deleted"):
                continue
            entity_field(item, "id", "line item")
            index.setdefault((str(item.get("campaign_id")), str(item.get("name"))), []).append(item)
    for items in index.values():
        items.sort(key=lambda i: (str(i.get("created_at") or ""), str(i.get("id"))))
    return index


def create_line_items(
    client: AdsApiClient,
    specs: Sequence[Mapping[str, Any]],
    keys: Sequence[LineItemKey],
    missing: Sequence[int],
    *,
    use_batch: bool,
    chunk_size: int,
    progress: Progress,
) -> dict[int, LineItemResult]:
    """Create the line items at positions ``missing`` of ``specs``, one POST each or through batches.

    :param client: the API client.
    :param specs: validated POST parameters, one dict per requested line item.
    :param keys: the natural key of each spec.
    :param missing: the positions to create.
    :param use_batch: create through the batch endpoint (in chunks) instead of one POST per line item.
    :param chunk_size: operations per batch request.
    :param progress: receives progress lines.
    :return: ``{position: result}`` for each created line item.
    """
    run = _Creation(client, specs, keys, len(missing), progress)
    if use_batch:
        answer = write_missing(
            missing, lambda todo: run.create_batch(todo, chunk_size), run.look_batch, fail=run.fail_batch
        )
        if answer is not None:
            run.record(*answer)
        progress(f"Line items created: {len(run.done)} of {len(missing)}")
        return run.done
    for n, pos in enumerate(missing, 1):
        item = write_missing([pos], run.create_one, run.look_one, fail=run.fail_one)
        if item is not None:
            run.record([pos], [item])
        progress(f"Line item {n} of {len(missing)} created: {run.done[pos].id} ({keys[pos][1]!r})")
    return run.done


@dataclass
class _Creation:
    """One :func:`create_line_items` call: writes, looks after an ambiguous write, and keeps what exists."""

    client: AdsApiClient
    specs: Sequence[Mapping[str, Any]]
    keys: Sequence[LineItemKey]
    total: int
    progress: Progress
    done: dict[int, LineItemResult] = field(default_factory=dict)

    def record(self, positions: Sequence[int], items: Sequence[Any]) -> None:
        for pos, item in zip(positions, items, strict=False):
            self.done[pos] = LineItemResult(
                entity_field(item, "id", "created line item"), self.keys[pos][1], self.keys[pos][0], "created"
            )

    def look(self, positions: Sequence[int]) -> list[int]:
        """After an ambiguous write: record which of these line items exist now, return the others."""
        index = find_line_items_by_name(self.client, {self.keys[p][0] for p in positions})
        found = 0
        for pos in positions:
            items = index.get(self.keys[pos])
            if items:
                self.done[pos] = LineItemResult(
                    str(items[0]["id"]), self.keys[pos][1], self.keys[pos][0], "created"
                )
                found += 1
        self.progress(
            f"Looked up after an ambiguous write: {found} of {len(positions)} line items were created; "
            f"{len(positions) - found} still to create"
        )
        return [p for p in positions if p not in self.done]

    def partial(self, err: AdsApiError) -> PartialApplyError:
        created = ", ".join(f"{r.name!r}={r.id}" for r in self.done.values()) or "none"
        return PartialApplyError(
            f"Creating line items failed: {err}\nApplied before the failure: {len(self.done)} of "
            f"{self.total} line items created ({created}). "
            + rerun_advice(
                err, "it reuses the line items that exist (by name within the campaign) and creates the rest."
            ),
            applied={"created": [r.id for r in self.done.values()]},
        )

    # One POST per line item.
    def create_one(self, positions: list[int]) -> dict[str, Any]:
        return self.client.create_line_item(**self.specs[positions[0]])

    def look_one(self, positions: list[int], err: AmbiguousWriteError) -> list[int]:
        self.progress(
            f"Creating line item {self.keys[positions[0]][1]!r} ended ambiguously ({err}); looking it up"
        )
        return self.look(positions)

    def fail_one(self, err: AdsApiError, _positions: list[int]) -> BaseException:
        # Nothing created yet and the API refused: its own error says it best.
        if self.done or isinstance(err, AmbiguousWriteError):
            return self.partial(err)
        return err

    # Through the batch endpoint.
    def create_batch(self, positions: list[int], chunk_size: int) -> tuple[list[int], list[dict[str, Any]]]:
        ops = [{"operation_type": "Create", "params": dict(self.specs[p])} for p in positions]
        tracker = ChunkTracker("Line item", "line items created", len(ops), self.progress)
        return positions, self.client.batch("line_items", ops, chunk_size=chunk_size, on_chunk=tracker)

    def look_batch(self, positions: list[int], err: AmbiguousWriteError) -> list[int]:
        applied = list(getattr(err, "applied_results", []))
        self.record(positions, applied)
        self.progress("A line item batch ended ambiguously; looking up which of its line items exist")
        return self.look(positions[len(applied) :])

    def fail_batch(self, err: AdsApiError, positions: list[int]) -> PartialApplyError:
        if not isinstance(err, AmbiguousWriteError):  # chunks before the failed one were applied
            self.record(positions, list(getattr(err, "applied_results", [])))
        return self.partial(err)
