"""Declarative specs of the Ads API endpoints the provider uses, and validation before any HTTP call.

Each operation (``line_items.create``, ``targeting_criteria.list``, ...) is an :class:`Endpoint`: its method,
its path template, its parameters (kind, required, allowed values, limits) and its cross-parameter rules
(sometimes-required, exclusive, only-with). :func:`validate` checks a call's parameters against it and
returns them normalized; anything wrong raises :class:`AdsApiValidationError` naming the parameter and the
allowed values, before a single request is sent.

The older line items vocabulary (``TWEET_ENGAGEMENTS``, ``bid_type``, ``automatically_select_bid``,
``lookalike_expansion``, ...) is accepted and translated to today's names, with one warning per renamed
value. :func:`check_targeting_set` applies the per-line-item targeting rules to existing + new criteria.
"""

from __future__ import annotations

import dataclasses
import functools
import logging
from collections.abc import Iterable, Mapping, MutableSet, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any

from airflow_provider_twads.api import vocabulary as vocab
from airflow_provider_twads.api.errors import AdsApiValidationError

__all__ = [
    "ENDPOINTS",
    "Endpoint",
    "Param",
    "check_targeting_set",
    "endpoint",
    "validate",
    "validate_batch",
]

log = logging.getLogger(__name__)

# Process-wide record of legacy renames already warned about (a client passes its own set instead).
_WARNED: set[tuple[str, str]] = set()


@dataclass(frozen=True)
class Param:
    """One parameter.

    :param kind: ``str``, ``id``, ``int``, ``bool``, ``enum``, ``enum_list``, ``id_list``, ``time``.
    :param required: whether it must be given.
    :param choices: allowed values for ``enum`` / ``enum_list``.
    :param minimum: lowest allowed value for ``int``.
    :param maximum: highest allowed value for ``int``.
    :param max_items: most items for lists.
    :param max_length: longest allowed string.
    :param default: filled in when absent (only where the client has a reason to choose).
    :param numeric: whether the (list) values must be numeric IDs (tweet and user IDs): positive numbers.
    :param blank: whether a string of only whitespace is a value (``False``: it counts as missing).
    """

    kind: str = "str"
    required: bool = False
    choices: tuple[Any, ...] = ()
    minimum: int | None = None
    maximum: int | None = None
    max_items: int | None = None
    max_length: int | None = None
    default: Any = None
    numeric: bool = False
    blank: bool = True
    # Derived once from ``choices`` (validation runs per batch item: thousands of times per task).
    choice_set: frozenset[Any] = field(init=False, repr=False, compare=False)
    str_choices: bool = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "choice_set", frozenset(self.choices))
        object.__setattr__(self, "str_choices", all(isinstance(c, str) for c in self.choices))


@dataclass(frozen=True)
class Rule:
    """A cross-parameter rule.

    :param kind: ``exclusive`` (``params`` may not be combined), ``required_when`` (``params[0]`` is
        required when ``when`` has one of ``values``), ``one_of_when`` (one of ``params`` is required when
        ``when`` has one of ``values``), ``only_when`` (``params[0]`` is allowed only when ``when`` has one
        of ``values``), ``not_value_when`` (``params[0]`` may not be ``forbidden`` when ``when`` has one of
        ``values``), ``value_only_when`` (``params[0]`` may be ``forbidden`` only when ``when`` has one of
        ``values``), ``not_greater`` (``params[0]`` <= ``params[1]``).
    :param params: the parameters the rule is about.
    :param when: the parameter the condition looks at.
    :param values: the condition's values.
    :param forbidden: values of ``params[0]`` the rule restricts.
    :param why: the rule in the spec's words, for the error message.
    """

    kind: str
    params: tuple[str, ...]
    when: str | None = None
    values: tuple[Any, ...] = ()
    forbidden: tuple[Any, ...] = ()
    why: str = ""


@dataclass(frozen=True)
class Endpoint:
    """One operation of the API.

    :param operation: ``<resource>.<action>``.
    :param method: the HTTP method.
    :param path: the path template, e.g. ``accounts/{account_id}/line_items/{line_item_id}``.
    :param params: the query (or batch item) parameters.
    :param rules: cross-parameter rules.
    :param legacy: whether the older line items vocabulary is accepted and translated.
    :param paged: whether it is a cursor-paged list.
    """

    operation: str
    method: str
    path: str
    params: Mapping[str, Param] = field(default_factory=dict)
    rules: tuple[Rule, ...] = ()
    legacy: bool = False
    paged: bool = False
    names: frozenset[str] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "names", frozenset(self.params))

    @property
    def resource(self) -> str:
        """The resource part of the operation name."""
        return self.operation.split(".", 1)[0]

    @property
    def path_params(self) -> tuple[str, ...]:
        """The names of the path template's placeholders."""
        import string

        return tuple(name for _, name, _, _ in string.Formatter().parse(self.path) if name)


_ID_LIST = Param("id_list", max_items=vocab.MAX_IDS_PER_FILTER)
_BOOL = Param("bool")
_COUNT = Param("int", minimum=vocab.COUNT_MIN, maximum=vocab.COUNT_MAX)
_MONEY = Param("int", minimum=1)
_PAGING: dict[str, Param] = {
    "count": _COUNT,
    "cursor": Param("str"),
    "sort_by": Param("str"),
    "with_deleted": _BOOL,
    "with_total_count": _BOOL,
}
_PAGING_RULES = (
    Rule(
        "exclusive",
        ("cursor", "with_total_count"),
        why="with_total_count and cursor are exclusive (EXCLUSIVE_PARAMETERS); total_count is on page one",
    ),
)

_LINE_ITEM_PARAMS: dict[str, Param] = {
    "campaign_id": Param("id"),
    "objective": Param("enum", choices=vocab.ALL_OBJECTIVES),
    "placements": Param("enum_list", choices=vocab.PLACEMENTS),
    "product_type": Param("enum", choices=vocab.PRODUCT_TYPES),
    "start_time": Param("time"),
    "end_time": Param("time"),
    "advertiser_domain": Param("str"),
    "android_app_store_identifier": Param("str"),
    "ios_app_store_identifier": Param("str"),
    "bid_amount_local_micro": _MONEY,
    "categories": Param("id_list"),
    "primary_web_event_tag": Param("str"),
    "advertiser_user_id": Param("id"),
    "audience_expansion": Param("enum", choices=vocab.AUDIENCE_EXPANSIONS),
    "bid_strategy": Param("enum", choices=vocab.BID_STRATEGIES),
    "duration_in_days": Param("enum", choices=vocab.DURATION_IN_DAYS),
    "entity_status": Param("enum", choices=vocab.ENTITY_STATUSES),
    "frequency_cap": Param("int", minimum=1),
    "goal": Param("enum", choices=vocab.GOALS),
    "name": Param("str", max_length=vocab.LINE_ITEM_NAME_MAX_LENGTH),
    "pay_by": Param("enum", choices=vocab.PAY_BY),
    "standard_delivery": _BOOL,
    "total_budget_amount_local_micro": _MONEY,
    "daily_budget_amount_local_micro": _MONEY,
}
_LINE_ITEM_CREATE = {
    k: (dataclasses.replace(p, required=True) if k in vocab.LINE_ITEM_CREATE_REQUIRED else p)
    for k, p in _LINE_ITEM_PARAMS.items()
}
_LINE_ITEM_UPDATE = {k: p for k, p in _LINE_ITEM_PARAMS.items() if k in vocab.LINE_ITEM_UPDATE_FIELDS} | {
    "entity_status": Param("enum", choices=vocab.UPDATABLE_ENTITY_STATUSES)
}
_LINE_ITEM_VALUE_RULES = (
    Rule(
        "not_value_when",
        ("bid_strategy",),
        when="objective",
        values=vocab.OBJECTIVES_WITHOUT_MAX_BID,
        forbidden=("MAX",),
        why="bid_strategy MAX is not available when the objective is REACH or FOLLOWERS",
    ),
    Rule(
        "value_only_when",
        ("bid_strategy",),
        when="objective",
        values=vocab.OBJECTIVES_WITH_TARGET_BID,
        forbidden=("TARGET",),
        why="bid_strategy TARGET is available only with the objectives REACH, FOLLOWERS or WEBSITE_CLICKS",
    ),
    Rule(
        "required_when",
        ("bid_amount_local_micro",),
        when="bid_strategy",
        values=vocab.BID_STRATEGIES_REQUIRING_BID,
        why="bid_amount_local_micro is required when bid_strategy is MAX or TARGET",
    ),
    Rule(
        "only_when",
        ("frequency_cap",),
        when="objective",
        values=vocab.OBJECTIVES_WITH_FREQUENCY_CAP,
        why="frequency_cap is only supported for REACH, ENGAGEMENTS, VIDEO_VIEWS and PREROLL_VIEWS",
    ),
    Rule(
        "required_when",
        ("primary_web_event_tag",),
        when="goal",
        values=("WEBSITE_CONVERSIONS",),
        why="primary_web_event_tag is required when the goal is WEBSITE_CONVERSIONS",
    ),
    Rule(
        "not_greater",
        ("daily_budget_amount_local_micro", "total_budget_amount_local_micro"),
        why="the daily budget should be less than or equal to the total budget",
    ),
)
_LINE_ITEM_CREATE_RULES = (
    *_LINE_ITEM_VALUE_RULES,
    Rule(
        "required_when",
        ("advertiser_domain",),
        when="placements",
        values=("PUBLISHER_NETWORK",),
        why="advertiser_domain is required when placements include PUBLISHER_NETWORK",
    ),
    Rule(
        "required_when",
        ("categories",),
        when="placements",
        values=("PUBLISHER_NETWORK",),
        why="categories is required when placements include PUBLISHER_NETWORK",
    ),
    Rule(
        "one_of_when",
        vocab.APP_STORE_ID_PARAMS,
        when="objective",
        values=vocab.OBJECTIVES_REQUIRING_APP_ID,
        why="APP_INSTALLS and APP_ENGAGEMENTS require an app store identifier",
    ),
)

_CAMPAIGN_PARAMS: dict[str, Param] = {
    "funding_instrument_id": Param("id", required=True),
    "name": Param("str", required=True, max_length=vocab.CAMPAIGN_NAME_MAX_LENGTH),
    "budget_optimization": Param("enum", choices=vocab.BUDGET_OPTIMIZATIONS),
    "daily_budget_amount_local_micro": _MONEY,
    "entity_status": Param("enum", choices=vocab.ENTITY_STATUSES),
    "purchase_order_number": Param("str", max_length=vocab.PURCHASE_ORDER_NUMBER_MAX_LENGTH),
    "standard_delivery": _BOOL,
    "total_budget_amount_local_micro": _MONEY,
}
_CAMPAIGN_UPDATE = {
    "budget_optimization": Param("enum", choices=vocab.BUDGET_OPTIMIZATIONS),
    "daily_budget_amount_local_micro": _MONEY,
    "entity_status": Param("enum", choices=vocab.UPDATABLE_ENTITY_STATUSES),
    "name": Param("str", max_length=vocab.CAMPAIGN_NAME_MAX_LENGTH),
    "purchase_order_number": Param("str", max_length=vocab.PURCHASE_ORDER_NUMBER_MAX_LENGTH),
    "standard_delivery": _BOOL,
    "total_budget_amount_local_micro": _MONEY,
}
_BUDGET_RULE = (
    Rule(
        "not_greater",
        ("daily_budget_amount_local_micro", "total_budget_amount_local_micro"),
        why="the daily budget should be less than or equal to the total budget",
    ),
)

_TARGETING_CREATE: dict[str, Param] = {
    "line_item_id": Param("id", required=True),
    # Required by the reference, omitted by its own batch example: the client fills in EQ.
    "operator_type": Param("enum", choices=vocab.OPERATOR_TYPES, default=vocab.DEFAULT_OPERATOR_TYPE),
    "targeting_type": Param("enum", required=True, choices=vocab.TARGETING_TYPES),
    "targeting_value": Param("str", required=True, blank=False),
}


def _e(
    operation: str,
    method: str,
    path: str,
    params: Mapping[str, Param] | None = None,
    rules: Sequence[Rule] = (),
    *,
    legacy: bool = False,
    paged: bool = False,
) -> Endpoint:
    return Endpoint(operation, method, path, dict(params or {}), tuple(rules), legacy, paged)


_ACC = "accounts/{account_id}"
ENDPOINTS: dict[str, Endpoint] = {
    e.operation: e
    for e in (
        _e(
            "accounts.list",
            "GET",
            "accounts",
            {"account_ids": _ID_LIST, "q": Param("str"), **_PAGING},
            _PAGING_RULES,
            paged=True,
        ),
        _e("accounts.get", "GET", _ACC, {"with_deleted": _BOOL}),
        _e("accounts.features", "GET", f"{_ACC}/features", {"feature_keys": Param("id_list")}),
        _e(
            "campaigns.list",
            "GET",
            f"{_ACC}/campaigns",
            {
                "campaign_ids": _ID_LIST,
                "funding_instrument_ids": _ID_LIST,
                "q": Param("str"),
                "with_draft": _BOOL,
                "draft_only": _BOOL,
                **_PAGING,
            },
            _PAGING_RULES,
            paged=True,
        ),
        _e("campaigns.get", "GET", f"{_ACC}/campaigns/{{campaign_id}}", {"with_deleted": _BOOL}),
        _e("campaigns.create", "POST", f"{_ACC}/campaigns", _CAMPAIGN_PARAMS, _BUDGET_RULE),
        _e("campaigns.update", "PUT", f"{_ACC}/campaigns/{{campaign_id}}", _CAMPAIGN_UPDATE, _BUDGET_RULE),
        _e("campaigns.delete", "DELETE", f"{_ACC}/campaigns/{{campaign_id}}"),
        _e(
            "line_items.list",
            "GET",
            f"{_ACC}/line_items",
            {
                "campaign_ids": _ID_LIST,
                "funding_instrument_ids": _ID_LIST,
                "line_item_ids": _ID_LIST,
                "q": Param("str"),
                "with_draft": _BOOL,
                "draft_only": _BOOL,
                **_PAGING,
            },
            _PAGING_RULES,
            paged=True,
        ),
        _e("line_items.get", "GET", f"{_ACC}/line_items/{{line_item_id}}", {"with_deleted": _BOOL}),
        _e(
            "line_items.create",
            "POST",
            f"{_ACC}/line_items",
            _LINE_ITEM_CREATE,
            _LINE_ITEM_CREATE_RULES,
            legacy=True,
        ),
        _e(
            "line_items.update",
            "PUT",
            f"{_ACC}/line_items/{{line_item_id}}",
            _LINE_ITEM_UPDATE,
            _LINE_ITEM_VALUE_RULES,
            legacy=True,
        ),
        _e("line_items.delete", "DELETE", f"{_ACC}/line_items/{{line_item_id}}"),
        _e(
            "targeting_criteria.list",
            "GET",
            f"{_ACC}/targeting_criteria",
            {
                "line_item_ids": Param("id_list", required=True, max_items=vocab.MAX_IDS_PER_FILTER),
                "targeting_criterion_ids": _ID_LIST,
                "lang": Param("str"),
                **_PAGING,
            },
            _PAGING_RULES,
            paged=True,
        ),
        _e(
            "targeting_criteria.get",
            "GET",
            f"{_ACC}/targeting_criteria/{{targeting_criterion_id}}",
            {"lang": Param("str"), "with_deleted": _BOOL},
        ),
        _e("targeting_criteria.create", "POST", f"{_ACC}/targeting_criteria", _TARGETING_CREATE),
        _e("targeting_criteria.delete", "DELETE", f"{_ACC}/targeting_criteria/{{targeting_criterion_id}}"),
        _e(
            "promoted_tweets.list",
            "GET",
            f"{_ACC}/promoted_tweets",
            {"line_item_ids": _ID_LIST, "promoted_tweet_ids": _ID_LIST, **_PAGING},
            _PAGING_RULES,
            paged=True,
        ),
        _e(
            "promoted_tweets.get",
            "GET",
            f"{_ACC}/promoted_tweets/{{promoted_tweet_id}}",
            {"with_deleted": _BOOL},
        ),
        _e(
            "promoted_tweets.create",
            "POST",
            f"{_ACC}/promoted_tweets",
            {
                "line_item_id": Param("id", required=True),
                "tweet_ids": Param(
                    "id_list", required=True, max_items=vocab.MAX_TWEET_IDS_PER_REQUEST, numeric=True
                ),
            },
        ),
        _e("promoted_tweets.delete", "DELETE", f"{_ACC}/promoted_tweets/{{promoted_tweet_id}}"),
    )
}


def endpoint(operation: str) -> Endpoint:
    """The spec of ``operation``.

    :param operation: e.g. ``line_items.create``.
    :raises AdsApiValidationError: unknown operation.
    """
    try:
        return ENDPOINTS[operation]
    except KeyError:
        raise AdsApiValidationError(
            "operation", f"unknown operation {operation!r}", allowed=sorted(ENDPOINTS)
        ) from None


# ---------------------------------------------------------------------------------------------------------
# Legacy vocabulary
# ---------------------------------------------------------------------------------------------------------


def _warn_once(warned: MutableSet[tuple[str, str]], key: tuple[str, str], message: str) -> None:
    if key not in warned:
        warned.add(key)
        log.warning("%s", message)


_LEGACY_PARAMETER_NAMES = frozenset(
    {vocab.LEGACY_AUTOMATICALLY_SELECT_BID, vocab.LEGACY_PAUSED_PARAMETER, *vocab.LEGACY_PARAMETERS}
)


def _translate_legacy(
    params: dict[str, Any], operation: str, api_version: str, warned: MutableSet[tuple[str, str]]
) -> dict[str, Any]:
    objective = params.get("objective")
    if _LEGACY_PARAMETER_NAMES.isdisjoint(params) and not (
        isinstance(objective, str) and objective.upper() in vocab.LEGACY_OBJECTIVES
    ):
        return params  # the common case: nothing to translate
    out = dict(params)
    target = f"API v{api_version}"

    if vocab.LEGACY_AUTOMATICALLY_SELECT_BID in out:
        raw = out.pop(vocab.LEGACY_AUTOMATICALLY_SELECT_BID)
        flag = _to_bool(vocab.LEGACY_AUTOMATICALLY_SELECT_BID, raw, operation)
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
        paused = _to_bool("paused", out.pop(vocab.LEGACY_PAUSED_PARAMETER), operation)
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


# ---------------------------------------------------------------------------------------------------------
# Values
# ---------------------------------------------------------------------------------------------------------


def _to_bool(name: str, value: Any, operation: str | None) -> bool:
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.lower() in ("true", "false"):
        return value.lower() == "true"
    raise AdsApiValidationError(
        name, f"must be a boolean, got {value!r}", allowed=[True, False], operation=operation
    )


def _to_list(name: str, value: Any, operation: str | None) -> list[str]:
    if isinstance(value, str):
        items = [v.strip() for v in value.split(",")]
    elif isinstance(value, Iterable) and not isinstance(value, bytes | Mapping):
        items = [str(v).strip() for v in value]
    else:
        raise AdsApiValidationError(
            name, f"must be a list or a comma-separated string, got {value!r}", operation=operation
        )
    if any(not v for v in items):
        raise AdsApiValidationError(name, f"contains an empty value: {value!r}", operation=operation)
    return items


@functools.lru_cache(maxsize=256)
def _iso_time_to_api(value: str) -> str | None:
    """An ISO 8601 string as the API's UTC form (``None``: not a time). Cached: a batch repeats its times."""
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    if parsed.tzinfo is None:
        return value  # date-only or local: the API interprets it, as its own examples do
    return parsed.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _to_time(name: str, value: Any, operation: str | None) -> str:
    if isinstance(value, datetime):
        if value.tzinfo is None:
            raise AdsApiValidationError(
                name, f"datetime {value!r} has no timezone; give an aware datetime", operation=operation
            )
        return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, str):
        text = _iso_time_to_api(value)
        if text is None:
            raise AdsApiValidationError(
                name,
                f"must be an ISO 8601 time such as 2024-07-05T00:00:00Z, got {value!r}",
                operation=operation,
            )
        return text
    raise AdsApiValidationError(
        name, f"must be an ISO 8601 time string or datetime, got {value!r}", operation=operation
    )


def _check_value(name: str, p: Param, value: Any, operation: str) -> Any:
    if p.kind == "bool":
        return _to_bool(name, value, operation)
    if p.kind == "int":
        if isinstance(value, bool) or not isinstance(value, int | str):
            raise AdsApiValidationError(name, f"must be an integer, got {value!r}", operation=operation)
        try:
            number = int(value)
        except ValueError:
            raise AdsApiValidationError(
                name, f"must be an integer, got {value!r}", operation=operation
            ) from None
        if (p.minimum is not None and number < p.minimum) or (p.maximum is not None and number > p.maximum):
            bounds = f"from {p.minimum}" + (f" to {p.maximum}" if p.maximum is not None else " up")
            raise AdsApiValidationError(name, f"must be {bounds}, got {number}", operation=operation)
        return number
    if p.kind == "enum":
        candidate = value
        if isinstance(value, str):
            if p.str_choices:
                candidate = value.upper()
            elif value.isascii() and value.isdigit():  # numeric choices (duration_in_days) from a template
                candidate = int(value)
        try:
            known = candidate in p.choice_set
        except TypeError:  # unhashable (a list, a dict): not a choice
            known = False
        if not known:
            raise AdsApiValidationError(
                name, f"invalid value {value!r}", allowed=p.choices, operation=operation
            )
        return candidate
    if p.kind in ("enum_list", "id_list"):
        items = _to_list(name, value, operation)
        if p.kind == "enum_list":
            items = [i.upper() for i in items]
            bad = [i for i in items if i not in p.choice_set]
            if bad:
                raise AdsApiValidationError(
                    name, f"invalid value(s) {bad}", allowed=p.choices, operation=operation
                )
        if p.numeric:
            bad = [i for i in items if not (i.isascii() and i.isdigit()) or not i.strip("0")]
            if bad:
                raise AdsApiValidationError(
                    name, f"must be numeric IDs (positive numbers), got {bad[:5]}", operation=operation
                )
        if p.max_items is not None and len(items) > p.max_items:
            raise AdsApiValidationError(
                name, f"at most {p.max_items} values per request, got {len(items)}", operation=operation
            )
        if len(set(items)) != len(items):
            items = list(dict.fromkeys(items))
        return items
    if p.kind == "time":
        return _to_time(name, value, operation)
    # str / id
    if isinstance(value, bool) or not isinstance(value, str | int):
        raise AdsApiValidationError(
            name, f"must be a string, got {type(value).__name__}", operation=operation
        )
    text = str(value)
    if not p.blank and not text.strip():
        raise AdsApiValidationError(name, "is required (not blank)", operation=operation)
    if p.kind == "id" and (not text.strip() or "/" in text or "," in text):
        raise AdsApiValidationError(name, f"is not a valid ID: {text!r}", operation=operation)
    if p.max_length is not None and len(text) > p.max_length:
        raise AdsApiValidationError(
            name, f"at most {p.max_length} characters, got {len(text)}", operation=operation
        )
    return text


def _matches(value: Any, values: tuple[Any, ...]) -> bool:
    if isinstance(value, list):
        return any(v in values for v in value)
    return value in values


def _apply_rule(rule: Rule, out: dict[str, Any], operation: str, partial: bool) -> None:
    first = rule.params[0]
    cond = out.get(rule.when) if rule.when else None
    # On updates (partial) an absent condition parameter is unknown here: the server checks it.
    if rule.kind == "exclusive":
        present = [p for p in rule.params if out.get(p) not in (None, False)]
        if len(present) > 1:
            raise AdsApiValidationError(
                present[1], f"cannot be combined with {present[0]}: {rule.why}", operation=operation
            )
    elif rule.kind == "required_when":
        if cond is not None and _matches(cond, rule.values) and out.get(first) in (None, "", []):
            raise AdsApiValidationError(first, f"is required here: {rule.why}", operation=operation)
    elif rule.kind == "one_of_when":
        if cond is not None and _matches(cond, rule.values) and not any(out.get(p) for p in rule.params):
            raise AdsApiValidationError(
                first, f"one of {', '.join(rule.params)} is required here: {rule.why}", operation=operation
            )
    elif rule.kind == "only_when":
        if out.get(first) is not None and cond is not None and not _matches(cond, rule.values):
            raise AdsApiValidationError(
                first, f"not allowed with {rule.when}={cond}: {rule.why}", operation=operation
            )
    elif rule.kind == "not_value_when":
        if out.get(first) in rule.forbidden and cond is not None and _matches(cond, rule.values):
            raise AdsApiValidationError(
                first, f"{out[first]} is not allowed with {rule.when}={cond}: {rule.why}", operation=operation
            )
    elif rule.kind == "value_only_when":
        if out.get(first) in rule.forbidden and cond is not None and not _matches(cond, rule.values):
            raise AdsApiValidationError(
                first, f"{out[first]} is not allowed with {rule.when}={cond}: {rule.why}", operation=operation
            )
    elif rule.kind == "not_greater":
        a, b = out.get(rule.params[0]), out.get(rule.params[1])
        if a is not None and b is not None and a > b:
            raise AdsApiValidationError(first, f"{a} > {rule.params[1]} {b}: {rule.why}", operation=operation)


def validate(
    operation: str,
    params: Mapping[str, Any] | None,
    api_version: str = vocab.DEFAULT_API_VERSION,
    *,
    warned: MutableSet[tuple[str, str]] | None = None,
) -> dict[str, Any]:
    """Check ``params`` for ``operation`` and return them normalized (today's names, typed values).

    Parameters whose value is ``None`` are treated as absent. Path parameters (``account_id``,
    ``line_item_id``, ...) are not part of ``params``.

    :param operation: e.g. ``line_items.create``.
    :param params: the call's parameters.
    :param api_version: the API version the request goes to (``11`` or ``12``).
    :param warned: where to remember legacy renames already warned about (default: process-wide).
    :raises AdsApiValidationError: naming the parameter and the allowed values.
    """
    if str(api_version) not in vocab.API_VERSIONS:
        raise AdsApiValidationError(
            "api_version", f"unsupported version {api_version!r}", allowed=vocab.API_VERSIONS
        )
    ep = endpoint(operation)
    given = {k: v for k, v in (params or {}).items() if v is not None}
    if ep.legacy:
        given = _translate_legacy(given, operation, str(api_version), _WARNED if warned is None else warned)
    unknown = [] if ep.names.issuperset(given) else sorted(set(given) - ep.names)
    if unknown:
        hint = None
        if unknown[0] in ("draft_only", "with_draft"):
            hint = "draft filters apply to campaigns and line items listings"
        raise AdsApiValidationError(
            unknown[0],
            f"is not a parameter of {operation}",
            allowed=sorted(ep.params),
            operation=operation,
            hint=hint,
        )
    out: dict[str, Any] = {}
    for name, p in ep.params.items():
        if name in given:
            out[name] = _check_value(name, p, given[name], operation)
        elif p.default is not None:
            out[name] = p.default
        elif p.required:
            allowed = p.choices or None
            raise AdsApiValidationError(name, "is required", allowed=allowed, operation=operation)
    partial = ep.method == "PUT"
    for rule in ep.rules:
        if rule.when is not None and out.get(rule.when) is None:
            continue  # a conditional rule never applies without its condition's value
        _apply_rule(rule, out, operation, partial)
    if operation == "targeting_criteria.create":
        # The rules of check_targeting_set that one criterion alone can break (a batch checks the set).
        _check_operator(out, 0)
    return out


def validate_batch(
    resource: str,
    operations: Sequence[Mapping[str, Any]],
    api_version: str = vocab.DEFAULT_API_VERSION,
    *,
    warned: MutableSet[tuple[str, str]] | None = None,
) -> list[dict[str, Any]]:
    """Validate every operation of a batch (all of them, before the first chunk is sent).

    :param resource: ``line_items``, ``targeting_criteria`` or ``campaigns``.
    :param operations: ``{"operation_type": "Create"|"Update"|"Delete", "params": {...}}`` items.
    :param api_version: the API version.
    :param warned: where to remember legacy renames already warned about.
    :return: the normalized operations.
    :raises AdsApiValidationError: naming the operation index and parameter.
    """
    allowed_types = vocab.BATCH_RESOURCE_OPERATION_TYPES.get(resource)
    if allowed_types is None:
        raise AdsApiValidationError(
            "resource",
            f"{resource!r} has no batch endpoint",
            allowed=sorted(vocab.BATCH_RESOURCE_OPERATION_TYPES),
        )
    id_param = vocab.RESOURCE_ID_PARAM[resource]
    normalized: list[dict[str, Any]] = []
    for i, op in enumerate(operations):
        where = f"operations[{i}]"
        if not isinstance(op, Mapping):
            raise AdsApiValidationError(
                where, f"must be a mapping with operation_type and params, got {op!r}"
            )
        op_type = op.get("operation_type")
        if op_type not in allowed_types:
            raise AdsApiValidationError(
                f"{where}.operation_type", f"invalid value {op_type!r}", allowed=allowed_types
            )
        raw = dict(op.get("params") or {})
        try:
            if op_type == "Create":
                params = validate(f"{resource}.create", raw, api_version, warned=warned)
            else:
                entity_id = raw.pop(id_param, None)
                if not entity_id:
                    raise AdsApiValidationError(id_param, f"is required for {op_type}")
                if op_type == "Update":
                    params = validate(f"{resource}.update", raw, api_version, warned=warned)
                elif raw:
                    raise AdsApiValidationError(
                        sorted(raw)[0], f"Delete takes only {id_param}", allowed=[id_param]
                    )
                else:
                    params = {}
                params = {
                    id_param: _check_value(id_param, Param("id"), entity_id, f"{resource}.{op_type.lower()}"),
                    **params,
                }
        except AdsApiValidationError as exc:
            exc.parameter = f"{where}.params.{exc.parameter}"
            raise
        normalized.append({"operation_type": op_type, "params": params})
    if resource == "targeting_criteria":
        # Prerequisites (TV_SHOW needs LOCATION) depend on what exists: the caller checks them with it.
        creates = [op["params"] for op in normalized if op["operation_type"] == "Create"]
        check_targeting_set([], creates, check_prerequisites=False)
    return normalized


def _check_operator(c: Mapping[str, Any], i: int) -> str:
    """The rule of one criterion alone: some targeting types need one operator (APP_LIST only with NE).

    :return: the criterion's targeting type, upper-cased.
    """
    ttype = str(c.get("targeting_type", "")).upper()
    required_op = vocab.TARGETING_TYPE_REQUIRED_OPERATOR.get(ttype)
    if required_op:
        op = str(c.get("operator_type") or vocab.DEFAULT_OPERATOR_TYPE).upper()
        if op != required_op:
            raise AdsApiValidationError(
                "operator_type",
                f"{ttype} may only be used with operator_type={required_op} (criterion {i}: value "
                f"{c.get('targeting_value')!r}, operator_type={op})",
                allowed=[required_op],
            )
    return ttype


def check_targeting_set(
    existing: Iterable[Mapping[str, Any]],
    new: Iterable[Mapping[str, Any]],
    *,
    check_prerequisites: bool = True,
) -> None:
    """Apply the per-line-item targeting rules to a line item's existing criteria plus the new ones.

    Rules (current-targeting-criteria.mdx): one AGE bucket per line item; APP_LIST only with
    ``operator_type=NE``; TV_SHOW needs at least one LOCATION criterion on the line item.

    :param existing: the line items' current (not deleted) criteria.
    :param new: the criteria about to be created.
    :param check_prerequisites: whether to check TV_SHOW-needs-LOCATION (only meaningful with ``existing``).
    :raises AdsApiValidationError: naming the rule and the offending criterion.
    """
    by_line_item: dict[str, dict[str, list[Mapping[str, Any]]]] = {}
    for c in existing:
        if c.get("deleted"):
            continue
        by_line_item.setdefault(str(c.get("line_item_id")), {}).setdefault(
            str(c.get("targeting_type")), []
        ).append(c)
    new_list = list(new)
    for i, c in enumerate(new_list):
        ttype = _check_operator(c, i)
        by_line_item.setdefault(str(c.get("line_item_id")), {}).setdefault(ttype, []).append(c)
    for line_item, types in by_line_item.items():
        for single in vocab.SINGLE_PER_LINE_ITEM_TARGETING_TYPES:
            values = {str(c.get("targeting_value")) for c in types.get(single, [])}
            if len(values) > 1:
                raise AdsApiValidationError(
                    "targeting_value",
                    f"line item {line_item} would have {len(values)} {single} buckets "
                    f"({', '.join(sorted(values))}); "
                    f"only one {single} bucket per line item is possible",
                )
        for ttype, needed in vocab.TARGETING_TYPE_PREREQUISITES.items():
            if check_prerequisites and types.get(ttype) and not types.get(needed):
                raise AdsApiValidationError(
                    "targeting_type",
                    f"line item {line_item}: {ttype} targeting needs at least one {needed} criterion "
                    f"on the line item (add the {needed} first or in the same batch)",
                )
