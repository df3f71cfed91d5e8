"""Natural-key reconciliation: what makes a re-run converge instead of duplicating.

An Airflow retry, a cleared task or a POST that failed ambiguously all run the same writes again. Before
writing, these functions look at what exists and write only the difference, keyed on natural keys:

* a line item by its ``name`` within its campaign,
* a targeting criterion by ``(targeting_type, targeting_value, operator_type)`` per line item,
* a promoted Tweet by ``tweet_id`` per line item.

The module has two layers. Pure functions (validation, time normalisation, the settings diff, the
targeting plan and its rules) take and return plain data. The ``ensure_*``/``apply_*`` functions take an
:class:`~airflow_provider_twads.api.client.AdsApiClient` and do the reads and writes; operators and
benchmarks share them. Nothing here imports Airflow.
"""

from __future__ import annotations

import ast
import hashlib
import logging
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from functools import partial
from typing import TYPE_CHECKING, Any

from airflow_provider_twads.api import spec as api_spec
from airflow_provider_twads.api import vocabulary as vocab
from airflow_provider_twads.api.batch import check_chunk_size
from airflow_provider_twads.api.errors import (
    AccountFeatureError,
    AdsApiError,
    AdsApiValidationError,
    AmbiguousWriteError,
    MalformedResponseError,
    NotFoundError,
)
from airflow_provider_twads.api.params.fields import LINE_ITEM_UPDATE_FIELDS

if TYPE_CHECKING:
    from airflow_provider_twads.api.client import AdsApiClient

__all__ = [
    "IF_EXISTS_MODES",
    "TARGETING_MODES",
    "LineItemResult",
    "PartialApplyError",
    "ReconcileError",
    "SettingsMismatchError",
    "TargetingPlan",
    "apply_targeting",
    "check_targeting_rules",
    "criterion_key",
    "delete_line_item",
    "derive_line_item_name",
    "diff_line_item",
    "ensure_line_items",
    "ensure_promoted_tweets",
    "find_line_items_by_name",
    "format_diff",
    "normalize_criteria",
    "plan_targeting",
    "split_ids",
    "to_api_time",
    "update_line_item",
    "validate_tweet_ids",
]

log = logging.getLogger(__name__)

#: Receives one human-readable progress line (operators pass ``self.log.info``).
Progress = Callable[[str], None]

IF_EXISTS_MODES: tuple[str, ...] = ("reuse", "update")
TARGETING_MODES: tuple[str, ...] = ("add", "replace")
LINE_ITEM_TIME_FIELDS: tuple[str, ...] = ("start_time", "end_time")
LIST_FIELDS: tuple[str, ...] = ("placements", "categories")
# Keys that identify a line item or that a later step owns: never part of the settings diff. A re-run of
# the create task after a later task activated the line item must neither fail nor pause it.
DIFF_EXCLUDED: frozenset[str] = frozenset({"name", "campaign_id", "entity_status"})
# Attempts at one write when each attempt ends ambiguously (look, then write only what is missing).
MAX_AMBIGUOUS_ATTEMPTS = 3


def _noop(_: str) -> None:
    return None


def _chunks(items: Sequence[Any], size: int) -> list[Sequence[Any]]:
    return [items[i : i + size] for i in range(0, len(items), size)]


def _field(entity: Any, key: str, what: str) -> str:
    """A key field (``id``, ``tweet_id``) of an entity the API returned, as a string.

    Reconciliation keys on these fields: one missing (or an entity that is not an object) is a malformed
    response, reported as such instead of a KeyError from deep inside a write.
    """
    value = entity.get(key) if isinstance(entity, Mapping) else None
    if isinstance(value, bool) or not isinstance(value, str | int) or not str(value).strip():
        raise MalformedResponseError(
            f"the API returned a {what} without a usable {key!r}: {entity!r:.100}", parameter=key
        )
    return str(value)


# ------------------------------------------------------------------------------------------------------
# Errors
# ------------------------------------------------------------------------------------------------------
class ReconcileError(Exception):
    """Base class of the errors raised by reconciliation (not by the API)."""


class SettingsMismatchError(ReconcileError):
    """Line items with the requested names exist with other settings, and ``if_exists`` says not to update.

    :param mismatches: ``(name, line_item_id, diff)`` per line item, ``diff`` as from :func:`diff_line_item`.
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


class PartialApplyError(ReconcileError):
    """A multi-step write stopped part-way. The message says what was applied; a re-run completes the rest.

    :param message: what failed and what was applied.
    :param applied: what was applied before the failure (operator-specific summary).
    """

    def __init__(self, message: str, *, applied: Mapping[str, Any]) -> None:
        self.applied = dict(applied)
        super().__init__(message)


# ------------------------------------------------------------------------------------------------------
# Pure helpers: times, names, line item settings
# ------------------------------------------------------------------------------------------------------
def to_api_time(value: Any, *, parameter: str = "start_time") -> str | None:
    """Normalise a time to ISO 8601 UTC with seconds precision (``2024-05-01T00:00:00Z``).

    Accepts ISO 8601 strings (including what Jinja renders for ``{{ data_interval_start }}``, e.g.
    ``2024-05-01 00:00:00+00:00``), ``datetime``/pendulum objects and ``date``. Naive values are taken
    as UTC, as Airflow does.

    :param value: the time, or ``None``/``""`` for "not set".
    :param parameter: the parameter name, for the error message.
    :return: the normalised string, or ``None``.
    """
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    if isinstance(value, datetime):
        dt = value
    elif isinstance(value, date):
        dt = datetime(value.year, value.month, value.day, tzinfo=UTC)
    elif isinstance(value, str):
        text = value.strip()
        try:
            dt = datetime.fromisoformat(text)
        except ValueError:
            try:
                import pendulum

                parsed = pendulum.parse(text)
            except Exception:
                raise AdsApiValidationError(
                    parameter,
                    f"{value!r} is not an ISO 8601 time (e.g. 2024-05-01T00:00:00Z or "
                    "'{{ data_interval_start }}')",
                ) from None
            if not isinstance(parsed, datetime):  # a date, time or duration is not a point in time
                raise AdsApiValidationError(parameter, f"{value!r} is not a point in time") from None
            dt = parsed
    else:
        raise AdsApiValidationError(
            parameter, f"expected an ISO 8601 string or a datetime, got {type(value).__name__}"
        )
    if dt.tzinfo is None:
        dt = dt.replace(tzinfo=UTC)
    return dt.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def derive_line_item_name(
    dag_id: str, task_id: str, run_id: str, map_index: int | None = None, index: int | None = None
) -> str:
    """A deterministic line item name for one task run, so that a re-run finds what the first run made.

    :param dag_id: the DAG ID.
    :param task_id: the task ID.
    :param run_id: the DAG run ID (a cleared task keeps it).
    :param map_index: the map index of a mapped task (``None`` or ``-1`` when not mapped).
    :param index: the position in a list of line items created by one task.
    :return: ``<dag_id>.<task_id>.<run_id>[.m<map_index>][.<index>]``, shortened with a hash to 255 chars.
    """
    parts = [dag_id, task_id, run_id]
    if map_index is not None and map_index >= 0:
        parts.append(f"m{map_index}")
    if index is not None:
        parts.append(str(index))
    name = ".".join(parts)
    limit = vocab.LINE_ITEM_NAME_MAX_LENGTH
    if len(name) > limit:
        digest = hashlib.sha256(name.encode()).hexdigest()[:12]
        name = f"{name[: limit - 13]}~{digest}"
    return name


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


def _as_list(value: Any) -> list[str]:
    if value is None:
        return []
    if isinstance(value, str):
        return [p.strip() for p in value.split(",") if p.strip()]
    return [str(p) for p in value]


def _canonical_params(
    params: Mapping[str, Any], operation: str, api_version: str = vocab.DEFAULT_API_VERSION
) -> dict[str, Any]:
    """Parameters validated and in today's vocabulary (the client's spec), times first made UTC."""
    prepared = {
        k: (to_api_time(v, parameter=k) if k in LINE_ITEM_TIME_FIELDS else v)
        for k, v in params.items()
        if v is not None
    }
    return api_spec.validate(operation, prepared, api_version)


def _same(key: str, want: Any, have: Any) -> bool:
    if key in LIST_FIELDS:
        return sorted(_as_list(want)) == sorted(_as_list(have))
    if key in LINE_ITEM_TIME_FIELDS:
        return bool(want == (to_api_time(have, parameter=key) if have else None))
    if isinstance(want, bool) or isinstance(have, bool):
        return str(want).lower() == str(have).lower()
    return str(want) == str(have)


def diff_line_item(
    desired: Mapping[str, Any],
    existing: Mapping[str, Any],
    *,
    operation: str = "line_items.create",
    api_version: str = vocab.DEFAULT_API_VERSION,
) -> dict[str, tuple[Any, Any]]:
    """The settings in which an existing line item differs from the requested ones.

    Only requested (non-``None``) settings are compared; ``name``, ``campaign_id`` and ``entity_status``
    are not (``entity_status`` belongs to the activation step). Legacy names (``bid_type``,
    ``TWEET_ENGAGEMENTS``...) compare equal to today's.

    :param desired: the requested parameters (validated with the client's spec for ``operation``).
    :param existing: the line item as the API returns it.
    :param operation: ``line_items.create`` (a full spec) or ``line_items.update`` (some settings).
    :param api_version: the API version the parameters are for.
    :return: ``{setting: (existing value, requested value)}``, empty when they match.
    """
    diff: dict[str, tuple[Any, Any]] = {}
    for key, want in _canonical_params(desired, operation, api_version).items():
        if key in DIFF_EXCLUDED:
            continue
        have = existing.get(key)
        if not _same(key, want, have):
            diff[key] = (have, want)
    return diff


def format_diff(name: str, line_item_id: str, diff: Mapping[str, tuple[Any, Any]]) -> str:
    """A readable account of a settings diff.

    :param name: the line item name.
    :param line_item_id: the existing line item's ID.
    :param diff: as from :func:`diff_line_item`.
    :return: several lines, one per differing setting.
    """
    lines = [f"Line item {name!r} (id {line_item_id}) exists with other settings:"]
    for key, (have, want) in sorted(diff.items()):
        lines.append(f"  {key}: existing {have!r}, requested {want!r}")
    return "\n".join(lines)


def _check_choice(parameter: str, value: Any, allowed: Sequence[Any], *, operation: str) -> None:
    if value not in allowed:
        raise AdsApiValidationError(
            parameter, f"{value!r} is not allowed", allowed=allowed, operation=operation
        )


# ------------------------------------------------------------------------------------------------------
# Line items
# ------------------------------------------------------------------------------------------------------
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
) -> dict[tuple[str, str], list[dict[str, Any]]]:
    """Index the non-deleted line items (drafts included) of some campaigns by ``(campaign_id, name)``.

    :param client: the API client.
    :param campaign_ids: the campaigns to read (every page, 1000 per page, 200 campaigns per request).
    :return: ``{(campaign_id, name): [line items, oldest first]}``.
    """
    index: dict[tuple[str, str], list[dict[str, Any]]] = {}
    ids = sorted({str(c) for c in campaign_ids})
    for chunk in _chunks(ids, vocab.MAX_IDS_PER_FILTER):
        for item in client.list_line_items(
            campaign_ids=list(chunk), count=vocab.BULK_READ_COUNT, with_draft=True
        ):
            if item.get("deleted"):
                continue
            _field(item, "id", "line item")
            index.setdefault((str(item.get("campaign_id")), str(item.get("name"))), []).append(item)
    for items in index.values():
        items.sort(key=lambda i: (str(i.get("created_at") or ""), str(i.get("id"))))
    return index


def _validate_line_item_specs(
    specs: Sequence[Mapping[str, Any]], if_exists: str, api_version: str
) -> list[dict[str, Any]]:
    """Validate every spec with the client's spec (before any HTTP) and return them normalized."""
    operation = "line_items.create"
    _check_choice("if_exists", if_exists, IF_EXISTS_MODES, operation=operation)
    seen: dict[tuple[str, str], int] = {}
    out: list[dict[str, Any]] = []
    for pos, raw in enumerate(specs):
        where = f"line_items[{pos}]." if len(specs) > 1 else ""
        name = raw.get("name")
        if not isinstance(name, str) or not name.strip():
            raise AdsApiValidationError(f"{where}name", "must be a non-empty string", operation=operation)
        try:
            normalized = _canonical_params(raw, operation, api_version)
        except AdsApiValidationError as err:
            err.parameter = f"{where}{err.parameter}"
            raise
        key = (str(normalized["campaign_id"]), name)
        if key in seen:
            raise AdsApiValidationError(
                f"{where}name",
                f"{name!r} is used twice in campaign {key[0]} (line_items[{seen[key]}] and [{pos}]); "
                "names identify line items within a campaign",
                operation=operation,
            )
        seen[key] = pos
        out.append(normalized)
    return out


def _preflight_account_features(client: AdsApiClient, specs: Sequence[Mapping[str, Any]]) -> None:
    """Check feature-gated objectives against the account's features (one GET, only when one is used)."""
    gated = {str(s["objective"]) for s in specs if s["objective"] in vocab.OBJECTIVE_REQUIRED_FEATURES}
    if not gated:
        return
    features = set(client.get_account_features())
    for group in vocab.SAME_PRODUCT_NAMES:  # one product, two names: having either is having both
        if features & set(group):
            features |= set(group)
    for objective in sorted(gated):
        required = vocab.OBJECTIVE_REQUIRED_FEATURES[objective]
        if not features & set(required):
            message = (
                f"Saving value {objective} to field OBJECTIVE {vocab.ACCOUNT_FEATURE_ERROR_MARKER}: "
                f"{', '.join(required)}"
            )
            err = AccountFeatureError(
                message, parameter="objective", request_params={"objective": objective}, messages=[message]
            )
            raise err.with_account_features(str(getattr(client, "account_id", "") or ""), sorted(features))


def _match_or_plan(
    spec: Mapping[str, Any], existing: dict[str, Any], if_exists: str, api_version: str
) -> tuple[str, dict[str, Any]]:
    """Decide what to do with an existing line item of the same name: ``reused``/``updated``/mismatch."""
    diff = diff_line_item(spec, existing, api_version=api_version)
    if not diff:
        return "reused", {}
    immutable = set(diff) & set(vocab.LINE_ITEM_IMMUTABLE_FIELDS)
    if if_exists == "update" and not immutable:
        return "updated", {k: want for k, (_, want) in diff.items()}
    return "mismatch", diff


def ensure_line_items(
    client: AdsApiClient,
    specs: Sequence[Mapping[str, Any]],
    *,
    if_exists: str = "reuse",
    use_batch: bool = False,
    chunk_size: int = vocab.MAX_LINE_ITEMS_PER_BATCH_LEGACY,
    progress: Progress = _noop,
) -> list[LineItemResult]:
    """Make sure a line item exists for each spec, creating only those that are missing.

    Each spec holds POST parameters and a ``name``. A non-deleted line item with that name in that
    campaign is reused when its settings match, updated when ``if_exists="update"`` (mutable settings
    only), and otherwise reported in one :class:`SettingsMismatchError` before anything is written. A
    create that ends ambiguously is followed by a look-up, and re-sent only for what is still missing.

    :param client: the API client.
    :param specs: the line item parameters, one dict per line item (``name`` required).
    :param if_exists: ``reuse`` or ``update``.
    :param use_batch: create through the batch endpoint (in chunks) instead of one POST per line item.
    :param chunk_size: operations per batch request (20 is valid on every API version).
    :param progress: receives progress lines.
    :return: one result per spec, in input order.
    """
    api_version = str(getattr(client, "api_version", vocab.DEFAULT_API_VERSION))
    specs = _validate_line_item_specs(specs, if_exists, api_version)
    check_chunk_size(chunk_size, vocab.MAX_LINE_ITEMS_PER_BATCH_CURRENT, operation="line_items.batch")
    _preflight_account_features(client, specs)
    keys = [(str(s["campaign_id"]), str(s["name"])) for s in specs]
    index = find_line_items_by_name(client, {k[0] for k in keys})

    results: dict[int, LineItemResult] = {}
    updates: list[tuple[int, str, dict[str, Any]]] = []
    mismatches: list[tuple[str, str, dict[str, tuple[Any, Any]]]] = []
    immutable = False
    for pos, (spec, key) in enumerate(zip(specs, keys, strict=True)):
        found = index.get(key)
        if not found:
            continue
        if len(found) > 1:
            log.warning(
                "%d line items are named %r in campaign %s (%s); using the oldest, %s",
                len(found),
                key[1],
                key[0],
                ", ".join(str(f["id"]) for f in found),
                found[0]["id"],
            )
        current = found[0]
        action, detail = _match_or_plan(spec, current, if_exists, api_version)
        if action == "mismatch":
            mismatches.append((key[1], str(current["id"]), detail))
            immutable = immutable or bool(set(detail) & set(vocab.LINE_ITEM_IMMUTABLE_FIELDS))
            continue
        if action == "updated":
            updates.append((pos, str(current["id"]), detail))
        results[pos] = LineItemResult(str(current["id"]), key[1], key[0], action)
    if mismatches:
        raise SettingsMismatchError(mismatches, immutable=immutable)

    for n, (pos, line_item_id, changes) in enumerate(updates, 1):
        progress(
            f"Updating line item {line_item_id} ({keys[pos][1]!r}), {n} of {len(updates)}: {sorted(changes)}"
        )
        client.update_line_item(line_item_id, **changes)

    missing = [pos for pos in range(len(specs)) if pos not in results]
    if results:
        progress(f"{len(results)} of {len(specs)} line items already exist; {len(missing)} to create")
    if missing:
        created = (
            _create_line_items_batch(client, specs, keys, missing, chunk_size, progress)
            if use_batch
            else _create_line_items_single(client, specs, keys, missing, progress)
        )
        results.update(created)
    return [results[pos] for pos in range(len(specs))]


class _ChunkTracker:
    """The ``on_chunk`` callback of :meth:`AdsApiClient.batch`: logs "batch k of n" and keeps the results."""

    def __init__(
        self,
        label: str,
        unit: str,
        total: int,
        progress: Progress,
        on_results: Callable[[int, Sequence[Mapping[str, Any]]], None] | None = None,
    ) -> None:
        self.label, self.unit, self.total, self.progress, self.on_results = (
            label,
            unit,
            total,
            progress,
            on_results,
        )
        self.done = 0

    def __call__(self, k: int, n: int, results: list[dict[str, Any]]) -> None:
        if self.on_results is not None:
            self.on_results(self.done, results)
        self.done += len(results)
        self.progress(f"{self.label} batch {k} of {n} applied: {self.done} of {self.total} {self.unit}")


def _record_targeting(
    ops: Sequence[Mapping[str, Any]],
    created: list[str],
    deleted: list[str],
    offset: int,
    results: Sequence[Mapping[str, Any]],
) -> None:
    for op, res in zip(ops[offset:], results, strict=False):
        (created if op["operation_type"] == "Create" else deleted).append(_field(res, "id", "criterion"))


def _recover_created(
    client: AdsApiClient, keys: Sequence[tuple[str, str]], positions: Iterable[int], progress: Progress
) -> dict[int, LineItemResult]:
    """After an ambiguous write: which of these line items exist now?"""
    positions = list(positions)
    index = find_line_items_by_name(client, {keys[p][0] for p in positions})
    found: dict[int, LineItemResult] = {}
    for pos in positions:
        items = index.get(keys[pos])
        if items:
            found[pos] = LineItemResult(str(items[0]["id"]), keys[pos][1], keys[pos][0], "created")
    progress(
        f"Looked up after an ambiguous write: {len(found)} of {len(positions)} line items were created; "
        f"{len(positions) - len(found)} still to create"
    )
    return found


def _create_line_items_single(
    client: AdsApiClient,
    specs: Sequence[Mapping[str, Any]],
    keys: Sequence[tuple[str, str]],
    missing: Sequence[int],
    progress: Progress,
) -> dict[int, LineItemResult]:
    done: dict[int, LineItemResult] = {}
    for n, pos in enumerate(missing, 1):
        for attempt in range(1, MAX_AMBIGUOUS_ATTEMPTS + 1):
            try:
                item = client.create_line_item(**specs[pos])
            except AmbiguousWriteError as err:
                progress(f"Creating line item {keys[pos][1]!r} ended ambiguously ({err}); looking it up")
                found = _recover_created(client, keys, [pos], progress)
                if pos in found:
                    done[pos] = found[pos]
                    break
                if attempt == MAX_AMBIGUOUS_ATTEMPTS:
                    raise _line_item_partial(err, keys, done, len(missing)) from err
                continue
            except AdsApiError as err:
                if done:
                    raise _line_item_partial(err, keys, done, len(missing)) from err
                raise
            done[pos] = LineItemResult(
                _field(item, "id", "created line item"), keys[pos][1], keys[pos][0], "created"
            )
            break
        progress(f"Line item {n} of {len(missing)} created: {done[pos].id} ({keys[pos][1]!r})")
    return done


def _create_line_items_batch(
    client: AdsApiClient,
    specs: Sequence[Mapping[str, Any]],
    keys: Sequence[tuple[str, str]],
    missing: Sequence[int],
    chunk_size: int,
    progress: Progress,
) -> dict[int, LineItemResult]:
    done: dict[int, LineItemResult] = {}
    todo = list(missing)

    def record(positions: Sequence[int], items: Sequence[Mapping[str, Any]]) -> None:
        for pos, item in zip(positions, items, strict=False):
            done[pos] = LineItemResult(
                _field(item, "id", "created line item"), keys[pos][1], keys[pos][0], "created"
            )

    for attempt in range(1, MAX_AMBIGUOUS_ATTEMPTS + 1):
        ops = [{"operation_type": "Create", "params": dict(specs[p])} for p in todo]
        tracker = _ChunkTracker("Line item", "line items created", len(ops), progress)
        try:
            items = client.batch("line_items", ops, chunk_size=chunk_size, on_chunk=tracker)
        except AmbiguousWriteError as err:
            applied = list(getattr(err, "applied_results", []))
            record(todo, applied)
            rest = todo[len(applied) :]
            progress("A line item batch ended ambiguously; looking up which of its line items exist")
            found = _recover_created(client, keys, rest, progress)
            done.update(found)
            todo = [p for p in rest if p not in found]
            if not todo:
                break
            if attempt == MAX_AMBIGUOUS_ATTEMPTS:
                raise _line_item_partial(err, keys, done, len(missing)) from err
            continue
        except AdsApiError as err:
            record(todo, list(getattr(err, "applied_results", [])))
            raise _line_item_partial(err, keys, done, len(missing)) from err
        record(todo, items)
        break
    progress(f"Line items created: {len(done)} of {len(missing)}")
    return done


def _line_item_partial(
    err: Exception,
    keys: Sequence[tuple[str, str]],
    done: Mapping[int, LineItemResult],
    total: int,
) -> PartialApplyError:
    where = "Creating line items failed"
    created = ", ".join(f"{r.name!r}={r.id}" for r in done.values()) or "none"
    message = (
        f"{where}: {err}\nApplied before the failure: {len(done)} of {total} line items created ({created}). "
        "Re-run the task: it reuses the line items that exist (by name within the campaign) "
        "and creates the rest."
    )
    return PartialApplyError(message, applied={"created": [r.id for r in done.values()]})


def update_line_item(
    client: AdsApiClient, line_item_id: str, changes: Mapping[str, Any], *, progress: Progress = _noop
) -> tuple[dict[str, Any], bool]:
    """Apply settings to a line item unless it already has them (a re-run sends no PUT).

    A draft line item's ``entity_status`` is changed only in the Ads UI; the API's error (a
    ``DraftEntityError`` with that hint) is raised unchanged.

    :param client: the API client.
    :param line_item_id: the line item.
    :param changes: the settings to apply (``None`` values are ignored).
    :param progress: receives progress lines.
    :return: ``(line item, whether a PUT was sent)``.
    """
    api_version = str(getattr(client, "api_version", vocab.DEFAULT_API_VERSION))
    wanted = _canonical_params(changes, "line_items.update", api_version)
    if not wanted:
        raise AdsApiValidationError(
            "changes",
            "nothing to update",
            allowed=LINE_ITEM_UPDATE_FIELDS,
            operation="line_items.update",
        )
    current = client.get_line_item(line_item_id)
    diff = diff_line_item(wanted, current, operation="line_items.update", api_version=api_version)
    for key in ("entity_status", "name"):  # compared here, unlike when reusing a line item by name
        if key in wanted and current.get(key) != wanted[key]:
            diff[key] = (current.get(key), wanted[key])
    if not diff:
        progress(f"Line item {line_item_id} already has the requested settings: nothing to update")
        return current, False
    send = {k: wanted[k] for k in diff}
    progress(
        f"Updating line item {line_item_id}: "
        + ", ".join(f"{k} {have!r} -> {want!r}" for k, (have, want) in sorted(diff.items()))
    )
    return client.update_line_item(line_item_id, **send), True


def delete_line_item(client: AdsApiClient, line_item_id: str, *, progress: Progress = _noop) -> str:
    """Delete a line item; deleting one that is already deleted (or absent) succeeds.

    :param client: the API client.
    :param line_item_id: the line item.
    :param progress: receives progress lines.
    :return: ``deleted``, ``already deleted`` or ``not found``.
    """
    for attempt in range(1, MAX_AMBIGUOUS_ATTEMPTS + 1):
        try:
            client.delete_line_item(line_item_id)
            progress(f"Line item {line_item_id} deleted")
            return "deleted"
        except NotFoundError:
            try:
                item = client.get_line_item(line_item_id, with_deleted=True)
            except NotFoundError:
                log.warning("Line item %s does not exist in this account: nothing to delete", line_item_id)
                return "not found"
            if item.get("deleted"):
                progress(f"Line item {line_item_id} was already deleted")
                return "already deleted"
            raise
        except AmbiguousWriteError:
            if attempt == MAX_AMBIGUOUS_ATTEMPTS:
                raise
            progress(f"Deleting line item {line_item_id} ended ambiguously; checking whether it is deleted")
    raise AssertionError("unreachable")  # pragma: no cover


# ------------------------------------------------------------------------------------------------------
# Targeting criteria
# ------------------------------------------------------------------------------------------------------
CriterionKey = tuple[str, str, str]


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


def normalize_criteria(criteria: Any, *, parameter: str = "criteria") -> list[dict[str, str]]:
    """Validate requested criteria and return them de-duplicated, in order, with ``operator_type`` set.

    :param criteria: a list of dicts with ``targeting_type``, ``targeting_value`` and ``operator_type``
        (default ``EQ``).
    :param parameter: the parameter name, for error messages.
    :return: ``[{"targeting_type", "targeting_value", "operator_type"}, ...]``.
    """
    operation = "targeting_criteria.batch"
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
        ttype, value, op = criterion_key(item)
        _check_choice(f"{where}.targeting_type", ttype, vocab.TARGETING_TYPES, operation=operation)
        _check_choice(f"{where}.operator_type", op, vocab.OPERATOR_TYPES, operation=operation)
        if not value.strip():
            raise AdsApiValidationError(f"{where}.targeting_value", "is required", operation=operation)
        out.setdefault(
            (ttype, value, op), {"targeting_type": ttype, "targeting_value": value, "operator_type": op}
        )
    return list(out.values())


def check_targeting_rules(line_item_id: str, final: Sequence[Mapping[str, Any]]) -> None:
    """Check the per-line-item rules on the set of criteria a line item would end with (existing + new).

    One AGE bucket per line item; APP_LIST only with ``NE``; TV_SHOW needs a LOCATION criterion. The rules
    are the client's (:func:`airflow_provider_twads.api.spec.check_targeting_set`); this adds which of the
    criteria exist already and what to do about it.

    :param line_item_id: the line item, for the message.
    :param final: the criteria it would have.
    :raises AdsApiValidationError: naming the rule and the criteria that break it.
    """
    try:
        api_spec.check_targeting_set([], [{**c, "line_item_id": line_item_id} for c in final])
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
    _check_choice("mode", mode, TARGETING_MODES, operation="targeting_criteria.batch")
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


def _precheck_targeting(desired: Sequence[Mapping[str, Any]], mode: str) -> None:
    """The rules the request alone can break, checked before any HTTP call.

    In ``replace`` mode the request is the final set; in ``add`` mode existing criteria only add to it,
    so a rule on "at most one" is already broken by the request itself.
    """
    if mode == "replace":
        check_targeting_rules("(each line item)", desired)
        return
    api_spec.check_targeting_set([], desired, check_prerequisites=False)


def _list_criteria(client: AdsApiClient, line_item_ids: Sequence[str]) -> dict[str, list[dict[str, Any]]]:
    found: dict[str, list[dict[str, Any]]] = {li: [] for li in line_item_ids}
    for chunk in _chunks(list(line_item_ids), vocab.MAX_IDS_PER_FILTER):
        for c in client.list_targeting_criteria(list(chunk), count=vocab.BULK_READ_COUNT):
            if not c.get("deleted"):
                _field(c, "id", "targeting criterion")
                found.setdefault(str(c.get("line_item_id")), []).append(c)
    return found


def apply_targeting(
    client: AdsApiClient,
    line_item_ids: Sequence[str],
    criteria: Sequence[Mapping[str, Any]],
    *,
    mode: str = "add",
    chunk_size: int = vocab.MAX_TARGETING_CRITERIA_PER_BATCH,
    progress: Progress = _noop,
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
    _check_choice("mode", mode, TARGETING_MODES, operation=operation)
    check_chunk_size(chunk_size, vocab.MAX_TARGETING_CRITERIA_PER_BATCH, operation=operation)
    ids = list(dict.fromkeys(str(i) for i in line_item_ids))
    if not ids:
        raise AdsApiValidationError(
            "line_item_ids", "at least one line item ID is required", operation=operation
        )
    desired = normalize_criteria(criteria)
    _precheck_targeting(desired, mode)

    created: list[str] = []
    deleted: list[str] = []
    initial_ids: set[str] | None = None
    unchanged: list[str] = []
    for attempt in range(1, MAX_AMBIGUOUS_ATTEMPTS + 1):
        existing = _list_criteria(client, ids)
        current_ids = {str(c["id"]) for cs in existing.values() for c in cs}
        plans = [plan_targeting(li, existing.get(li, []), desired, mode) for li in ids]
        if initial_ids is None:
            initial_ids = current_ids
            unchanged = [str(c["id"]) for p in plans for c in p.unchanged]
        else:  # after an ambiguous batch: account for what it did
            created += [str(c["id"]) for p in plans for c in p.unchanged if str(c["id"]) not in initial_ids]
            created = list(dict.fromkeys(created))
            deleted = list(dict.fromkeys([*deleted, *(i for i in initial_ids - current_ids)]))
        ops = _targeting_operations(plans)
        if not ops:
            break
        n_create = sum(1 for op in ops if op["operation_type"] == "Create")
        progress(
            f"Targeting: {n_create} to create, {len(ops) - n_create} to delete, {len(unchanged)} unchanged, "
            f"on {len(ids)} line item(s), in batches of up to {chunk_size}"
        )
        tracker = _ChunkTracker(
            "Targeting", "operations", len(ops), progress, partial(_record_targeting, ops, created, deleted)
        )
        try:
            client.batch("targeting_criteria", ops, chunk_size=chunk_size, on_chunk=tracker)
        except AmbiguousWriteError as err:
            if attempt == MAX_AMBIGUOUS_ATTEMPTS:
                raise PartialApplyError(
                    f"Targeting batches kept ending ambiguously: {err}\n"
                    f"Applied so far: created {len(created)}, deleted {len(deleted)}. "
                    "Re-run the task to complete the rest.",
                    applied={"created": created, "deleted": deleted, "unchanged": unchanged},
                ) from err
            progress("A targeting batch ended ambiguously; re-reading the criteria before going on")
            continue
        except MalformedResponseError as err:  # from reading an applied batch's results
            raise PartialApplyError(
                f"Targeting: the results of an applied batch could not be read: {err}\nApplied: "
                f"{tracker.done} of {len(ops)} operations before that batch, and that batch itself. Re-run "
                "the task: it reads the criteria that exist and completes the rest.",
                applied={"created": created, "deleted": deleted, "unchanged": unchanged},
            ) from err
        except AdsApiError as err:
            raise PartialApplyError(
                f"Targeting failed: {err}\nApplied before the failure: {tracker.done} of {len(ops)} "
                f"operations (created {len(created)}, deleted {len(deleted)}); the failed batch was not "
                "applied (a batch succeeds or fails as a whole). Re-run the task: it skips the criteria "
                "that exist and completes the rest.",
                applied={"created": created, "deleted": deleted, "unchanged": unchanged},
            ) from err
        break
    return {"created": created, "deleted": deleted, "unchanged": unchanged}


# ------------------------------------------------------------------------------------------------------
# Promoted Tweets
# ------------------------------------------------------------------------------------------------------
def validate_tweet_ids(tweet_ids: Any, *, parameter: str = "tweet_ids") -> list[str]:
    """Validate Tweet IDs and return them as strings, de-duplicated, in input order.

    :param tweet_ids: a list of numeric strings or ints, or one comma-separated string.
    :param parameter: the parameter name, for error messages.
    :return: the IDs as strings.
    """
    operation = "promoted_tweets.create"
    if isinstance(tweet_ids, int) and not isinstance(tweet_ids, bool):
        tweet_ids = [tweet_ids]
    if isinstance(tweet_ids, str):
        tweet_ids = split_ids(tweet_ids)
    if not isinstance(tweet_ids, Iterable) or isinstance(tweet_ids, Mapping):
        raise AdsApiValidationError(parameter, "must be a list of Tweet IDs", operation=operation)
    out: list[str] = []
    for pos, tid in enumerate(tweet_ids):
        if isinstance(tid, bool) or not isinstance(tid, int | str):
            raise AdsApiValidationError(
                f"{parameter}[{pos}]",
                f"must be a numeric string or an int, got {type(tid).__name__}",
                operation=operation,
            )
        text = str(tid).strip()
        if not text.isdigit() or int(text) <= 0:
            raise AdsApiValidationError(
                f"{parameter}[{pos}]", f"{tid!r} is not a Tweet ID (a positive number)", operation=operation
            )
        out.append(str(int(text)))
    if not out:
        raise AdsApiValidationError(parameter, "at least one Tweet ID is required", operation=operation)
    return list(dict.fromkeys(out))


def _promoted_by_tweet(client: AdsApiClient, line_item_id: str) -> dict[str, str]:
    found: dict[str, str] = {}
    for pt in client.list_promoted_tweets(line_item_ids=[line_item_id], count=vocab.BULK_READ_COUNT):
        if not pt.get("deleted") and str(pt.get("line_item_id")) == line_item_id:
            found.setdefault(_field(pt, "tweet_id", "promoted Tweet"), _field(pt, "id", "promoted Tweet"))
    return found


def ensure_promoted_tweets(
    client: AdsApiClient,
    line_item_id: str,
    tweet_ids: Sequence[str],
    *,
    chunk_size: int = vocab.MAX_TWEET_IDS_PER_REQUEST,
    progress: Progress = _noop,
) -> list[str]:
    """Promote Tweets on a line item, skipping those already promoted on it.

    :param client: the API client.
    :param line_item_id: the line item.
    :param tweet_ids: validated Tweet IDs (see :func:`validate_tweet_ids`).
    :param chunk_size: Tweet IDs per request (at most 50).
    :param progress: receives progress lines.
    :return: the promoted_tweet IDs (existing and new), in ``tweet_ids`` order.
    """
    check_chunk_size(chunk_size, vocab.MAX_TWEET_IDS_PER_REQUEST, operation="promoted_tweets.create")
    line_item_id = str(line_item_id)
    promoted = _promoted_by_tweet(client, line_item_id)
    missing = [t for t in tweet_ids if t not in promoted]
    progress(
        f"{len(tweet_ids) - len(missing)} of {len(tweet_ids)} Tweets already promoted on line item "
        f"{line_item_id}; {len(missing)} to promote"
    )
    chunks = _chunks(missing, chunk_size)
    done = 0
    for k, chunk in enumerate(chunks, 1):
        todo = list(chunk)
        for attempt in range(1, MAX_AMBIGUOUS_ATTEMPTS + 1):
            try:
                items = client.create_promoted_tweets(line_item_id, todo)
            except AmbiguousWriteError as err:
                progress(
                    f"Promoted Tweets batch {k} of {len(chunks)} ended ambiguously; looking up what exists"
                )
                promoted = _promoted_by_tweet(client, line_item_id)
                todo = [t for t in todo if t not in promoted]
                if not todo:
                    break
                if attempt == MAX_AMBIGUOUS_ATTEMPTS:
                    raise _promoted_partial(err, k, len(chunks), done, len(missing)) from err
                continue
            except AdsApiError as err:
                raise _promoted_partial(err, k, len(chunks), done, len(missing)) from err
            for item in items:
                promoted[_field(item, "tweet_id", "promoted Tweet")] = _field(item, "id", "promoted Tweet")
            break
        done += len(chunk)
        progress(f"Promoted Tweets batch {k} of {len(chunks)} done: {done} of {len(missing)} promoted")
    return [promoted[t] for t in tweet_ids]


def _promoted_partial(err: Exception, k: int, n: int, done: int, total: int) -> PartialApplyError:
    return PartialApplyError(
        f"Promoted Tweets batch {k} of {n} failed: {err}\n"
        f"Applied before the failure: {done} of {total} Tweets promoted (batches 1-{k - 1}). "
        "Re-run the task: it skips Tweets already promoted and promotes the rest.",
        applied={"promoted": done},
    )
