"""Targeting criteria, keyed by ``(targeting_type, targeting_value, operator_type)`` per line item.

Pure parts (the key, input validation, the per-line-item rules, the plan) take and return plain data;
:func:`apply_targeting` reads what exists, plans, and applies the plan through batches.
"""

from __future__ import annotations

import ast
import json
import time
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import partial
from typing import TYPE_CHECKING, Any

from airflow_provider_twads.api import spec as api_spec
from airflow_provider_twads.api import vocabulary as vocab
from airflow_provider_twads.api.batch import check_chunk_size
from airflow_provider_twads.api.errors import (
    AdsApiError,
    AdsApiValidationError,
    AmbiguousWriteError,
    BatchError,
    MalformedResponseError,
)
from airflow_provider_twads.reconcile._common import (
    ChunkTracker,
    Progress,
    check_choice,
    chunks,
    entity_field,
    noop,
    write_missing,
)
from airflow_provider_twads.reconcile._converge import Converged, converge
from airflow_provider_twads.reconcile.errors import PartialApplyError, rerun_advice

if TYPE_CHECKING:
    from airflow_provider_twads.api.client import AdsApiClient

__all__ = [
    "TARGETING_MODES",
    "CriterionKey",
    "TargetingPlan",
    "apply_targeting",
    "check_targeting_rules",
    "criterion_key",
    "normalize_criteria",
    "plan_targeting",
]

TARGETING_MODES: tuple[str, ...] = ("add", "replace")
# Batches refused because another writer deleted some of their criteria first, re-planned at most.
MAX_STALE_DELETES = 3
CriterionKey = tuple[str, str, str]
#: ``(line_item_id, criterion key)``: what identifies a criterion in an account.
GroupKey = tuple[str, CriterionKey]


def criterion_key(criterion: Mapping[str, Any]) -> CriterionKey:
    """The natural key of a targeting criterion within its line item.

    :param criterion: a requested or existing criterion.
    :return: ``(targeting_type, targeting_value, operator_type)``; the operator defaults to ``EQ``.
    """
    return (
        str(criterion.get("targeting_type") or "").upper(),
        str(criterion.get("targeting_value") if criterion.get("targeting_value") is not None else ""),
        str(criterion.get("operator_type") or vocab.DEFAULT_OPERATOR_TYPE).upper(),
    )


def _parse_rendered(text: str, parameter: str, operation: str) -> Any:
    """A list rendered to a string by a template: JSON (``tojson``) or its Python repr (an XCom list)."""
    try:
        return json.loads(text)
    except ValueError:
        pass
    try:
        return ast.literal_eval(text.strip())
    except (ValueError, SyntaxError, TypeError, MemoryError, RecursionError):
        raise AdsApiValidationError(
            parameter,
            f"must be a list of dicts; got a string that is neither a JSON nor a Python list: {text[:80]!r}",
            operation=operation,
            hint="pass the list itself, or render it with render_template_as_native_obj=True",
        ) from None


def normalize_criteria(criteria: Any, *, parameter: str = "criteria") -> list[dict[str, str]]:
    """Validate requested criteria and return them de-duplicated, in order, with ``operator_type`` set.

    :param criteria: a list of dicts with ``targeting_type``, ``targeting_value`` and ``operator_type``
        (default ``EQ``), or that list rendered to a string by a template (JSON or Python literal), as ID
        arguments accept rendered lists.
    :param parameter: the parameter name, for error messages.
    :return: ``[{"targeting_type", "targeting_value", "operator_type"}, ...]``.
    """
    operation = "targeting_criteria.batch"
    if isinstance(criteria, str):
        criteria = _parse_rendered(criteria, parameter, operation)
    if isinstance(criteria, Mapping) or not isinstance(criteria, Iterable) or isinstance(criteria, str):
        raise AdsApiValidationError(parameter, "must be a list of dicts", operation=operation)
    out: dict[CriterionKey, dict[str, str]] = {}
    for pos, item in enumerate(criteria):
        where = f"{parameter}[{pos}]"
        if not isinstance(item, Mapping):
            raise AdsApiValidationError(
                where, f"must be a dict, got {type(item).__name__}", operation=operation
            )
        unknown = set(item) - {"targeting_type", "targeting_value", "operator_type"}
        if unknown:
            raise AdsApiValidationError(
                f"{where}.{sorted(unknown)[0]}",
                "is not a targeting criterion field",
                allowed=("targeting_type", "targeting_value", "operator_type"),
                operation=operation,
            )
        raw_value = item.get("targeting_value")
        if raw_value is not None and (isinstance(raw_value, bool) or not isinstance(raw_value, str | int)):
            # str() of a list would be sent as one value "['a', 'b']": one criterion per value instead.
            raise AdsApiValidationError(
                f"{where}.targeting_value",
                f"must be one value (a string), got {type(raw_value).__name__}",
                operation=operation,
                hint="give one criterion per value, e.g. [{'targeting_type': 'LOCATION', 'targeting_value': "
                "'a'}, {'targeting_type': 'LOCATION', 'targeting_value': 'b'}]",
            )
        ttype, value, op = criterion_key(item)
        check_choice(f"{where}.targeting_type", ttype, vocab.TARGETING_TYPES, operation=operation)
        check_choice(f"{where}.operator_type", op, vocab.OPERATOR_TYPES, operation=operation)
        if not value.strip():
            raise AdsApiValidationError(f"{where}.targeting_value", "is required", operation=operation)
        if len(value) > vocab.TARGETING_VALUE_MAX_LENGTH:
            raise AdsApiValidationError(
                f"{where}.targeting_value",
                f"at most {vocab.TARGETING_VALUE_MAX_LENGTH} characters, got {len(value)}",
                operation=operation,
            )
        out.setdefault(
            (ttype, value, op), {"targeting_type": ttype, "targeting_value": value, "operator_type": op}
        )
    return list(out.values())


def check_targeting_rules(
    line_item_id: str, final: Sequence[Mapping[str, Any]], *, check_prerequisites: bool = True
) -> None:
    """Check the per-line-item rules on the set of criteria a line item would end with (existing + new).

    One AGE bucket per line item; APP_LIST only with ``NE``; TV_SHOW needs a LOCATION criterion. The rules
    are the client's (:func:`airflow_provider_twads.api.spec.check_targeting_set`); this adds which of the
    criteria exist already and what to do about it.

    :param line_item_id: the line item (or line items), for the message.
    :param final: the criteria it would have.
    :param check_prerequisites: whether to check TV_SHOW-needs-LOCATION (not when ``final`` is partial).
    :raises AdsApiValidationError: naming the rule and the criteria that break it.
    """
    try:
        api_spec.check_targeting_set(
            [], [{**c, "line_item_id": line_item_id} for c in final], check_prerequisites=check_prerequisites
        )
    except AdsApiValidationError as err:
        existing = [
            f"{criterion_key(c)[0]} {criterion_key(c)[1]} (id {c['id']})" for c in final if c.get("id")
        ]
        if existing and any(t in str(err) for t in vocab.SINGLE_PER_LINE_ITEM_TARGETING_TYPES):
            err.hint = (
                f"Existing on the line item: {', '.join(existing[:10])}. "
                "Use mode='replace' to swap an existing criterion for a new one."
            )
        err.parameter = "criteria"
        raise


@dataclass
class TargetingPlan:
    """What to do on one line item.

    :param line_item_id: the line item.
    :param create: criteria to create (dicts with the natural-key fields), prerequisites first.
    :param delete: existing criteria to delete.
    :param unchanged: existing criteria that are already as requested.
    """

    line_item_id: str
    create: list[dict[str, str]] = field(default_factory=list)
    delete: list[dict[str, Any]] = field(default_factory=list)
    unchanged: list[dict[str, Any]] = field(default_factory=list)


def plan_targeting(
    line_item_id: str, existing: Sequence[Mapping[str, Any]], desired: Sequence[Mapping[str, Any]], mode: str
) -> TargetingPlan:
    """Compute (and check) the changes that bring a line item's criteria to the requested state.

    :param line_item_id: the line item.
    :param existing: its current non-deleted criteria, as the API returns them.
    :param desired: the requested criteria (as from :func:`normalize_criteria`).
    :param mode: ``add`` (create the missing ones) or ``replace`` (also delete the ones not requested).
    :return: the plan; the rules are checked on the resulting set before anything is written.
    """
    check_choice("mode", mode, TARGETING_MODES, operation="targeting_criteria.batch")
    have: dict[CriterionKey, Mapping[str, Any]] = {}
    duplicates: list[Mapping[str, Any]] = []
    for c in existing:
        if c.get("deleted"):
            continue
        if criterion_key(c) in have:
            duplicates.append(c)
        else:
            have[criterion_key(c)] = c
    want = {criterion_key(c): c for c in desired}
    plan = TargetingPlan(line_item_id)
    plan.unchanged = [dict(have[k]) for k in want if k in have]
    # Prerequisites (LOCATION for TV_SHOW) first: the API checks them when each criterion is created.
    prereqs = set(vocab.TARGETING_TYPE_PREREQUISITES.values())
    plan.create = sorted(
        ({"line_item_id": line_item_id, **dict(c)} for k, c in want.items() if k not in have),
        key=lambda c: c["targeting_type"] not in prereqs,
    )
    if mode == "replace":
        plan.delete = [dict(c) for k, c in have.items() if k not in want] + [dict(c) for c in duplicates]
        final: list[Mapping[str, Any]] = [*plan.unchanged, *plan.create]
    else:
        final = [*have.values(), *plan.create]
    check_targeting_rules(line_item_id, final)
    return plan


def _targeting_operations(plans: Sequence[TargetingPlan]) -> list[dict[str, Any]]:
    """Order operations so that each batch is valid when applied in sequence, narrowing before widening.

    1. deletes that make room (a replaced AGE bucket), 2. creates (prerequisites first), 3. other deletes.
    Deleting the rest last means an interrupted replace leaves extra criteria rather than missing ones.
    """
    single = set(vocab.SINGLE_PER_LINE_ITEM_TARGETING_TYPES)
    first: list[dict[str, Any]] = []
    creates: list[dict[str, Any]] = []
    last: list[dict[str, Any]] = []
    for plan in plans:
        for c in plan.delete:
            op = {"operation_type": "Delete", "params": {"targeting_criterion_id": str(c["id"])}}
            (first if criterion_key(c)[0] in single else last).append(op)
        creates.extend({"operation_type": "Create", "params": dict(c)} for c in plan.create)
    prereqs = set(vocab.TARGETING_TYPE_PREREQUISITES.values())
    creates.sort(key=lambda op: op["params"]["targeting_type"] not in prereqs)
    return first + creates + last


def _precheck_targeting(
    desired: Sequence[Mapping[str, Any]], mode: str, line_item_ids: Sequence[str]
) -> None:
    """The rules the request alone can break, checked before any HTTP call.

    In ``replace`` mode the request is the final set; in ``add`` mode existing criteria only add to it,
    so a rule on "at most one" is already broken by the request itself. The criteria apply to each line
    item: the message names them.
    """
    label = ", ".join(line_item_ids[:3]) + (
        f" (and {len(line_item_ids) - 3} more)" if len(line_item_ids) > 3 else ""
    )
    check_targeting_rules(label, desired, check_prerequisites=mode == "replace")


def _list_criteria(client: AdsApiClient, line_item_ids: Sequence[str]) -> dict[str, list[dict[str, Any]]]:
    found: dict[str, list[dict[str, Any]]] = {li: [] for li in line_item_ids}
    for chunk in chunks(list(line_item_ids), vocab.MAX_IDS_PER_FILTER):
        for c in client.list_targeting_criteria(list(chunk), count=vocab.BULK_READ_COUNT):
            if not c.get("deleted"):
                entity_field(c, "id", "targeting criterion")
                found.setdefault(str(c.get("line_item_id")), []).append(c)
    return found


def _record_targeting(
    ops: Sequence[Mapping[str, Any]],
    created: list[str],
    deleted: list[str],
    offset: int,
    results: Sequence[Mapping[str, Any]],
) -> None:
    for op, res in zip(ops[offset:], results, strict=False):
        (created if op["operation_type"] == "Create" else deleted).append(
            entity_field(res, "id", "criterion")
        )


@dataclass
class _TargetingRun:
    """One :func:`apply_targeting` call: reads and plans, writes the plan, and keeps count of what it did.

    After an ambiguous batch, :meth:`plan` reads again: what the batch applied shows up as existing
    criteria, and the new plan holds only what is still to do.
    """

    client: AdsApiClient
    ids: list[str]
    desired: list[dict[str, str]]
    mode: str
    chunk_size: int
    progress: Progress
    created: list[str] = field(default_factory=list)
    deleted: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    initial_ids: set[str] | None = None
    tracker: ChunkTracker | None = None
    created_keys: set[GroupKey] = field(default_factory=set)
    first_read: tuple[dict[GroupKey, list[dict[str, Any]]], float] | None = None
    last_write: float | None = None

    def summary(self) -> dict[str, list[str]]:
        return {"created": self.created, "deleted": self.deleted, "unchanged": self.unchanged}

    def plan(self) -> list[dict[str, Any]]:
        """Read the criteria, account for what an earlier batch did, and return the operations left."""
        started = time.monotonic()
        existing = _list_criteria(self.client, self.ids)
        current_ids = {str(c["id"]) for cs in existing.values() for c in cs}
        plans = [plan_targeting(li, existing.get(li, []), self.desired, self.mode) for li in self.ids]
        if self.initial_ids is None:
            self.initial_ids = current_ids
            self.unchanged = [str(c["id"]) for p in plans for c in p.unchanged]
            self.created_keys = {(p.line_item_id, criterion_key(c)) for p in plans for c in p.create}
            self.first_read = (_group(existing), started)
        else:  # after an ambiguous batch: account for what it did
            new = [str(c["id"]) for p in plans for c in p.unchanged if str(c["id"]) not in self.initial_ids]
            self.created = list(dict.fromkeys([*self.created, *new]))
            self.deleted = list(dict.fromkeys([*self.deleted, *(self.initial_ids - current_ids)]))
        ops = _targeting_operations(plans)
        if ops:
            n_create = sum(1 for op in ops if op["operation_type"] == "Create")
            self.progress(
                f"Targeting: {n_create} to create, {len(ops) - n_create} to delete, {len(self.unchanged)} "
                f"unchanged, on {len(self.ids)} line item(s), in batches of up to {self.chunk_size}"
            )
        return ops

    def write(self, ops: list[dict[str, Any]]) -> None:
        for attempt in range(1, MAX_STALE_DELETES + 1):
            record = partial(_record_targeting, ops, self.created, self.deleted)
            self.tracker = ChunkTracker("Targeting", "operations", len(ops), self.progress, record)
            try:
                self.client.batch(
                    "targeting_criteria", ops, chunk_size=self.chunk_size, on_chunk=self.tracker
                )
                return
            except BatchError as err:
                # Deleting what another writer deleted first: the batch was refused as a whole. Read again.
                if attempt == MAX_STALE_DELETES or not _only_gone(ops, err):
                    raise
                self.progress("Criteria to delete were deleted by another writer meanwhile; reading again")
                ops = self.plan()
                if not ops:
                    return
            finally:
                self.last_write = time.monotonic()

    def look(self, _ops: list[dict[str, Any]], _err: AmbiguousWriteError) -> list[dict[str, Any]]:
        self.progress("A targeting batch ended ambiguously; re-reading the criteria before going on")
        return self.plan()

    def fail(self, err: AdsApiError, ops: list[dict[str, Any]]) -> PartialApplyError:
        done = self.tracker.done if self.tracker is not None else 0
        if isinstance(err, AmbiguousWriteError):
            message = (
                f"Targeting batches kept ending ambiguously: {err}\n"
                f"Applied so far: created {len(self.created)}, deleted {len(self.deleted)}. "
                "Re-run the task to complete the rest."
            )
        elif isinstance(err, MalformedResponseError):  # from reading an applied batch's results
            message = (
                f"Targeting: the results of an applied batch could not be read: {err}\nApplied: "
                f"{done} of {len(ops)} operations before that batch, and that batch itself. Re-run "
                "the task: it reads the criteria that exist and completes the rest."
            )
        else:
            message = (
                f"Targeting failed: {err}\nApplied before the failure: {done} of {len(ops)} "
                f"operations (created {len(self.created)}, deleted {len(self.deleted)}); the failed batch "
                "was not applied (a batch succeeds or fails as a whole). "
                + rerun_advice(err, "it skips the criteria that exist and completes the rest.")
            )
        return PartialApplyError(message, applied=self.summary())


def apply_targeting(
    client: AdsApiClient,
    line_item_ids: Sequence[str],
    criteria: Sequence[Mapping[str, Any]],
    *,
    mode: str = "add",
    chunk_size: int = vocab.MAX_TARGETING_CRITERIA_PER_BATCH,
    progress: Progress = noop,
) -> dict[str, list[str]]:
    """Bring the targeting criteria of line items to the requested set, through batches.

    Everything is validated (input and per-line-item rules on existing + new criteria) before the first
    write. Criteria that exist are skipped, so a re-run after a failed batch completes the rest. A batch
    that ends ambiguously is followed by a fresh read and a new plan for what remains.

    :param client: the API client.
    :param line_item_ids: the line items; the same criteria apply to each.
    :param criteria: the requested criteria (see :func:`normalize_criteria`).
    :param mode: ``add`` or ``replace``.
    :param chunk_size: operations per batch request (at most 500).
    :param progress: receives progress lines (batch k of n, items done of total).
    :return: ``{"created": [...], "deleted": [...], "unchanged": [...]}`` criterion IDs.
    """
    operation = "targeting_criteria.batch"
    check_choice("mode", mode, TARGETING_MODES, operation=operation)
    check_chunk_size(chunk_size, vocab.MAX_TARGETING_CRITERIA_PER_BATCH, operation=operation)
    ids = list(dict.fromkeys(str(i) for i in line_item_ids))
    if not ids:
        raise AdsApiValidationError(
            "line_item_ids", "at least one line item ID is required", operation=operation
        )
    desired = normalize_criteria(criteria)
    _precheck_targeting(desired, mode, ids)

    run = _TargetingRun(client, ids, desired, mode, chunk_size, progress)
    ops = run.plan()
    if ops:
        write_missing(ops, run.write, run.look, fail=run.fail)
    keys = [(li, criterion_key(c)) for li in ids for c in desired]
    result = converge(
        keys,
        lambda: _group(_list_criteria(client, ids)),
        partial(_delete_criteria, client, chunk_size),
        what="targeting criterion",
        first=None if ops else run.first_read,
        quiet_since=run.last_write if mode == "replace" else None,
        progress=progress,
    )
    _verify(run, result, keys)
    run.created = [str(result.survivors[k]["id"]) for k in keys if k in run.created_keys]
    run.unchanged = [str(result.survivors[k]["id"]) for k in keys if k not in run.created_keys]
    return run.summary()


def _group(found: Mapping[str, Sequence[dict[str, Any]]]) -> dict[GroupKey, list[dict[str, Any]]]:
    groups: dict[GroupKey, list[dict[str, Any]]] = {}
    for li, criteria in found.items():
        for c in criteria:
            groups.setdefault((li, criterion_key(c)), []).append(c)
    return groups


def _delete_criteria(client: AdsApiClient, chunk_size: int, extras: list[dict[str, Any]]) -> list[str]:
    ops = [{"operation_type": "Delete", "params": {"targeting_criterion_id": str(c["id"])}} for c in extras]
    client.batch("targeting_criteria", ops, chunk_size=chunk_size)
    return [str(c["id"]) for c in extras]


def _only_gone(ops: Sequence[Mapping[str, Any]], err: BatchError) -> bool:
    """Whether every operation the batch refused is a Delete of a criterion that is not found."""
    return bool(err.item_errors) and all(
        ops[i]["operation_type"] == "Delete" and all(e.get("code") == "NOT_FOUND" for e in errors)
        for i, errors in err.item_errors.items()
        if i < len(ops)
    )


def _verify(run: _TargetingRun, result: Converged[GroupKey], keys: Sequence[GroupKey]) -> None:
    """Never report success for a set nobody asked for: fail naming what another writer changed."""
    wanted = set(keys)
    missing = [k for k in keys if k in result.missing]
    extra = [k for k in result.seen if k not in wanted] if run.mode == "replace" else []
    if not missing and not extra:
        return

    def names(found: Sequence[GroupKey]) -> str:
        shown = ", ".join(f"{t} {v} ({op}) on {li}" for li, (t, v, op) in found[:10])
        return shown + (f" and {len(found) - 10} more" if len(found) > 10 else "")

    lines = [
        f"Targeting was applied, then found changed by another writer (an overlapping run, or an earlier try "
        f"of this task still running) on line item(s) {', '.join(run.ids)}:"
    ]
    if extra:
        lines.append(f"  added, not in this task's set ({len(extra)}): {names(extra)}")
    if missing:
        lines.append(f"  removed, though in this task's set ({len(missing)}): {names(missing)}")
    lines.append(
        "Nothing was rolled back. Make sure one task at a time writes a line item's targeting (an Airflow "
        "pool, max_active_runs=1), then re-run this task to make the set exactly the requested one."
    )
    raise PartialApplyError("\n".join(lines), applied=run.summary())
