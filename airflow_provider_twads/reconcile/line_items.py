"""Line items, keyed by ``name`` within their campaign: ensure, update, delete.

Pure parts (time normalisation, derived names, the settings diff) take and return plain data; the rest
reads and writes through an :class:`~airflow_provider_twads.api.client.AdsApiClient`. Creating what is
missing, and the natural-key read, live in :mod:`._line_item_create`.
"""

from __future__ import annotations

import hashlib
import logging
import time
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from airflow_provider_twads.api import spec as api_spec
from airflow_provider_twads.api import vocabulary as vocab
from airflow_provider_twads.api.batch import check_chunk_size
from airflow_provider_twads.api.errors import (
    AccountFeatureError,
    AdsApiValidationError,
)
from airflow_provider_twads.api.params.fields import LINE_ITEM_UPDATE_FIELDS
from airflow_provider_twads.api.times import to_api_time
from airflow_provider_twads.reconcile._common import (
    Progress,
    check_choice,
    delete_entity,
    noop,
)
from airflow_provider_twads.reconcile._converge import ACTIVE, converge, delete_each, rank
from airflow_provider_twads.reconcile._line_item_create import (
    LineItemResult,
    create_line_items,
    find_line_items_by_name,
)
from airflow_provider_twads.reconcile.errors import ReconcileError, SettingsMismatchError

if TYPE_CHECKING:
    from airflow_provider_twads.api.client import AdsApiClient

__all__ = [
    "IF_EXISTS_MODES",
    "LineItemResult",
    "delete_line_item",
    "derive_line_item_name",
    "diff_line_item",
    "ensure_line_items",
    "find_line_items_by_name",
    "to_api_time",
    "update_line_item",
]

log = logging.getLogger(__name__)

IF_EXISTS_MODES: tuple[str, ...] = ("reuse", "update")
LINE_ITEM_TIME_FIELDS: tuple[str, ...] = ("start_time", "end_time")
LIST_FIELDS: tuple[str, ...] = ("placements", "categories")
# Keys that identify a line item or that a later step owns: never part of the settings diff. A re-run of
# the create task after a later task activated the line item must neither fail nor pause it.
DIFF_EXCLUDED: frozenset[str] = frozenset({"name", "campaign_id", "entity_status"})


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


def _as_list(value: Any) -> list[str]:
    if value is None:
        return []
    if isinstance(value, str):
        return [p.strip() for p in value.split(",") if p.strip()]
    return [str(p) for p in value]


def _canonical_params(
    params: Mapping[str, Any], operation: str, api_version: str = vocab.DEFAULT_API_VERSION
) -> dict[str, Any]:
    """Parameters validated and in today's vocabulary (the client's spec), times first made UTC.

    ``None`` is "not given"; ``""`` is kept (it clears the field on update, and validation says where not).
    """
    prepared = {
        k: (to_api_time(v, parameter=k) if k in LINE_ITEM_TIME_FIELDS and v != "" else v)
        for k, v in params.items()
        if v is not None
    }
    return api_spec.validate(operation, prepared, api_version)


def _same(key: str, want: Any, have: Any) -> bool:
    if want == "":  # a clear: already done when the field is unset
        return have is None or have == "" or have == []
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


def _validate_line_item_specs(
    specs: Sequence[Mapping[str, Any]], if_exists: str, api_version: str
) -> list[dict[str, Any]]:
    """Validate every spec with the client's spec (before any HTTP) and return them normalized."""
    operation = "line_items.create"
    check_choice("if_exists", if_exists, IF_EXISTS_MODES, operation=operation)
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
    progress: Progress = noop,
) -> list[LineItemResult]:
    """Make sure a line item exists for each spec, creating only those that are missing.

    Each spec holds POST parameters and a ``name``. A non-deleted line item with that name in that
    campaign is reused when its settings match, updated when ``if_exists="update"`` (mutable settings
    only), and otherwise reported in one :class:`SettingsMismatchError` before anything is written. A
    create that ends ambiguously is followed by a look-up, and re-sent only for what is still missing.

    Then the names are read back until settled (:mod:`._converge`): when several writers created one name
    at once, all of them return the same line item (ACTIVE first, then the earliest created), the others
    are deleted, and a spec asking ``ACTIVE`` is created ``PAUSED`` and only that survivor is activated.

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
    campaigns = {k[0] for k in keys}
    started = time.monotonic()
    index = find_line_items_by_name(client, campaigns)

    results: dict[int, LineItemResult] = {}
    updates: list[tuple[int, str, dict[str, Any]]] = []
    _plan_existing(specs, keys, index, if_exists, api_version, results, updates)
    _apply_updates(client, keys, updates, progress)

    missing = [pos for pos in range(len(specs)) if pos not in results]
    if results:
        progress(f"{len(results)} of {len(specs)} line items already exist; {len(missing)} to create")
    if missing:
        # Created PAUSED: only the survivor of several writers is activated (below), never a duplicate.
        paused = [_paused(s) for s in specs]
        results.update(
            create_line_items(
                client, paused, keys, missing, use_batch=use_batch, chunk_size=chunk_size, progress=progress
            )
        )
    survivors = converge(
        keys,
        lambda: find_line_items_by_name(client, campaigns),
        delete_each(client.delete_line_item),
        what="line item",
        active_first=True,
        first=None if missing else (index, started),
        progress=progress,
    )
    if survivors.missing:
        raise ReconcileError(
            "Line items were deleted by someone else while this task ran: "
            + ", ".join(f"{name!r} in campaign {c}" for c, name in survivors.missing)
            + ". Re-run the task to create them again."
        )
    # Another writer's line item won a race: it is the one to return (checked against this spec).
    lost = {
        pos: survivors.survivors[keys[pos]]
        for pos in results
        if str(survivors.survivors[keys[pos]]["id"]) != results[pos].id
    }
    updates = []
    _plan_existing(
        specs, keys, {keys[p]: [e] for p, e in lost.items()}, if_exists, api_version, results, updates
    )
    _apply_updates(client, keys, updates, progress)
    for pos in missing:
        survivor = survivors.survivors[keys[pos]]
        if specs[pos].get("entity_status") == ACTIVE and survivor.get("entity_status") != ACTIVE:
            progress(f"Activating line item {survivor['id']} ({keys[pos][1]!r}), the one kept for this name")
            client.update_line_item(str(survivor["id"]), entity_status=ACTIVE)
    return [results[pos] for pos in range(len(specs))]


def _paused(spec: Mapping[str, Any]) -> dict[str, Any]:
    return {**spec, "entity_status": "PAUSED"} if spec.get("entity_status") == ACTIVE else dict(spec)


def _plan_existing(
    specs: Sequence[Mapping[str, Any]],
    keys: Sequence[tuple[str, str]],
    index: Mapping[tuple[str, str], Sequence[dict[str, Any]]],
    if_exists: str,
    api_version: str,
    results: dict[int, LineItemResult],
    updates: list[tuple[int, str, dict[str, Any]]],
) -> None:
    """Decide what to do with the existing line item (the survivor) of each key; raise on mismatches."""
    mismatches: list[tuple[str, str, dict[str, tuple[Any, Any]]]] = []
    immutable = False
    for pos, (spec, key) in enumerate(zip(specs, keys, strict=True)):
        found = index.get(key)
        if not found:
            continue
        current = min(found, key=lambda e: rank(e, active_first=True))
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


def _apply_updates(
    client: AdsApiClient,
    keys: Sequence[tuple[str, str]],
    updates: Sequence[tuple[int, str, dict[str, Any]]],
    progress: Progress,
) -> None:
    for n, (pos, line_item_id, changes) in enumerate(updates, 1):
        progress(
            f"Updating line item {line_item_id} ({keys[pos][1]!r}), {n} of {len(updates)}: {sorted(changes)}"
        )
        client.update_line_item(line_item_id, **changes)


def update_line_item(
    client: AdsApiClient, line_item_id: str, changes: Mapping[str, Any], *, progress: Progress = noop
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


def delete_line_item(client: AdsApiClient, line_item_id: str, *, progress: Progress = noop) -> str:
    """Delete a line item; deleting one that is already deleted (or absent) succeeds.

    :param client: the API client.
    :param line_item_id: the line item.
    :param progress: receives progress lines.
    :return: ``deleted``, ``already deleted`` or ``not found``.
    """
    return delete_entity(
        "Line item",
        line_item_id,
        lambda: client.delete_line_item(line_item_id),
        lambda: client.get_line_item(line_item_id, with_deleted=True),
        progress=progress,
    )
