"""The older line items vocabulary (``line-items.txt``), accepted and translated to today's names.

``TWEET_ENGAGEMENTS``, ``bid_type``, ``automatically_select_bid``, ``lookalike_expansion``, ``paused``, ...
become today's parameters and values, with one warning per renamed value (the maps are in
:mod:`~airflow_provider_twads.api.vocabulary`).
"""

from __future__ import annotations

import logging
from collections.abc import MutableSet
from typing import Any

from airflow_provider_twads.api import vocabulary as vocab
from airflow_provider_twads.api.errors import AdsApiValidationError
from airflow_provider_twads.api.values import to_bool

__all__ = ["WARNED", "translate_legacy"]

log = logging.getLogger(__name__)

#: Process-wide record of legacy renames already warned about (a client passes its own set instead).
WARNED: set[tuple[str, str]] = set()


def _warn_once(warned: MutableSet[tuple[str, str]], key: tuple[str, str], message: str) -> None:
    if key not in warned:
        warned.add(key)
        log.warning("%s", message)


_LEGACY_PARAMETER_NAMES = frozenset(
    {vocab.LEGACY_AUTOMATICALLY_SELECT_BID, vocab.LEGACY_PAUSED_PARAMETER, *vocab.LEGACY_PARAMETERS}
)


def translate_legacy(
    params: dict[str, Any],
    operation: str,
    api_version: str,
    warned: MutableSet[tuple[str, str]] | None = None,
) -> dict[str, Any]:
    """``params`` in today's vocabulary, with one warning per legacy rename (per ``warned`` set).

    :param params: the given parameters (``None`` values already dropped).
    :param operation: the operation, for errors.
    :param api_version: the API version the request goes to, for the warnings.
    :param warned: where to remember renames already warned about (default: process-wide).
    :raises AdsApiValidationError: a legacy value without a translation, or old and new names together.
    """
    warned = WARNED if warned is None else warned
    objective = params.get("objective")
    if _LEGACY_PARAMETER_NAMES.isdisjoint(params) and not (
        isinstance(objective, str) and objective.upper() in vocab.LEGACY_OBJECTIVES
    ):
        return params  # the common case: nothing to translate
    out = dict(params)
    target = f"API v{api_version}"

    if vocab.LEGACY_AUTOMATICALLY_SELECT_BID in out:
        raw = out.pop(vocab.LEGACY_AUTOMATICALLY_SELECT_BID)
        flag = to_bool(vocab.LEGACY_AUTOMATICALLY_SELECT_BID, raw, operation)
        if "bid_type" in out or "bid_strategy" in out:
            raise AdsApiValidationError(
                vocab.LEGACY_AUTOMATICALLY_SELECT_BID,
                "cannot be set in the same request as bid_type/bid_strategy",
                operation=operation,
            )
        if flag:
            new_param, new_value = vocab.LEGACY_AUTOMATICALLY_SELECT_BID_TRUE
            out[new_param] = new_value
            _warn_once(
                warned,
                ("automatically_select_bid", "true"),
                f"Legacy automatically_select_bid=true translated to {new_param}={new_value} for {target}.",
            )
        else:
            _warn_once(
                warned,
                ("automatically_select_bid", "false"),
                f"Legacy parameter automatically_select_bid=false dropped for {target} "
                "(set bid_strategy and bid_amount_local_micro instead).",
            )

    for old, new in vocab.LEGACY_PARAMETERS.items():
        if old not in out:
            continue
        value = out.pop(old)
        if new in out:
            raise AdsApiValidationError(
                old, f"is the legacy name of {new}; give only one of {old} and {new}", operation=operation
            )
        mapping = vocab.LEGACY_PARAMETER_VALUES.get(old, {})
        key = str(value).upper() if isinstance(value, str) else value
        refused = vocab.LEGACY_REFUSED.get((old, str(key)))
        if refused:
            raise AdsApiValidationError(
                old,
                f"{key} is not translated: it would change what the line item is billed for",
                operation=operation,
                hint=refused,
            )
        if key not in mapping:
            raise AdsApiValidationError(
                old, f"invalid value {value!r}", allowed=list(mapping), operation=operation
            )
        translated = mapping[key]
        if translated is None:
            _warn_once(
                warned,
                (old, str(key)),
                f"Legacy {old}={key} has no equivalent in {target}; dropped (the API chooses the default).",
            )
            continue
        out[new] = translated
        _warn_once(
            warned, (old, str(key)), f"Legacy {old}={key} translated to {new}={translated} for {target}."
        )

    if vocab.LEGACY_PAUSED_PARAMETER in out:
        paused = to_bool("paused", out.pop(vocab.LEGACY_PAUSED_PARAMETER), operation)
        if "entity_status" in out:
            raise AdsApiValidationError(
                "paused", "give only one of paused and entity_status", operation=operation
            )
        out["entity_status"] = "PAUSED" if paused else "ACTIVE"
        _warn_once(
            warned,
            ("paused", str(paused)),
            f"Legacy paused={str(paused).lower()} translated to "
            f"entity_status={out['entity_status']} for {target}.",
        )

    objective = out.get("objective")
    if isinstance(objective, str) and objective.upper() in vocab.LEGACY_OBJECTIVES:
        new_objective = vocab.LEGACY_OBJECTIVES[objective.upper()]
        out["objective"] = new_objective
        _warn_once(
            warned,
            ("objective", objective.upper()),
            f"Legacy objective {objective.upper()} translated to {new_objective} for {target}.",
        )
    return out
