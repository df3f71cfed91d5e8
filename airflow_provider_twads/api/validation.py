"""Validation before any HTTP call: a call's parameters checked against the table, returned normalised.

:func:`validate` checks one operation's parameters (names, values, cross-parameter rules) and returns them
in today's vocabulary with typed values; :func:`validate_batch` does it for every item of a batch before
the first chunk goes out; :func:`check_targeting_set` applies the per-line-item targeting rules to existing
plus new criteria. Anything wrong raises :class:`AdsApiValidationError` naming the parameter and the
allowed values.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, MutableSet, Sequence
from typing import Any

from airflow_provider_twads.api import vocabulary as vocab
from airflow_provider_twads.api.errors import AdsApiValidationError
from airflow_provider_twads.api.legacy import translate_legacy
from airflow_provider_twads.api.params.endpoints import endpoint
from airflow_provider_twads.api.params.model import Kind, Param, Rule, RuleKind
from airflow_provider_twads.api.values import check_value

__all__ = ["check_targeting_set", "validate", "validate_batch"]

_ID = Param(Kind.ID)


def _absent(value: Any) -> bool:
    """Not given, or given empty (``""``: un-set on update): neither takes part in a rule."""
    return value is None or value == "" or value == []


def _matches(value: Any, values: tuple[Any, ...]) -> bool:
    if isinstance(value, list):
        return any(v in values for v in value)
    return value in values


# Each rule kind's check: ``(parameter, what is wrong)`` when ``out`` breaks the rule, else ``None``. A
# conditional rule is only checked when its condition parameter has a value (``cond``): on an update an
# absent one is unknown here, and the server checks it.
_Violation = tuple[str, str] | None


def _exclusive(rule: Rule, out: Mapping[str, Any], cond: Any) -> _Violation:
    present = [p for p in rule.params if not _absent(out.get(p)) and out.get(p) is not False]
    return (present[1], f"cannot be combined with {present[0]}") if len(present) > 1 else None


def _required_when(rule: Rule, out: Mapping[str, Any], cond: Any) -> _Violation:
    first = rule.params[0]
    missing = _absent(out.get(first))
    return (first, "is required here") if missing and _matches(cond, rule.values) else None


def _one_of_when(rule: Rule, out: Mapping[str, Any], cond: Any) -> _Violation:
    if _matches(cond, rule.values) and not any(out.get(p) for p in rule.params):
        return rule.params[0], f"one of {', '.join(rule.params)} is required here"
    return None


def _only_when(rule: Rule, out: Mapping[str, Any], cond: Any) -> _Violation:
    first = rule.params[0]
    if not _absent(out.get(first)) and not _matches(cond, rule.values):
        return first, f"not allowed with {rule.when}={cond}"
    return None


def _not_value_when(rule: Rule, out: Mapping[str, Any], cond: Any) -> _Violation:
    first = rule.params[0]
    if out.get(first) in rule.forbidden and _matches(cond, rule.values):
        return first, f"{out[first]} is not allowed with {rule.when}={cond}"
    return None


def _value_only_when(rule: Rule, out: Mapping[str, Any], cond: Any) -> _Violation:
    first = rule.params[0]
    if out.get(first) in rule.forbidden and not _matches(cond, rule.values):
        return first, f"{out[first]} is not allowed with {rule.when}={cond}"
    return None


def _not_greater(rule: Rule, out: Mapping[str, Any], cond: Any) -> _Violation:
    a: Any = out.get(rule.params[0])
    b: Any = out.get(rule.params[1])
    if not _absent(a) and not _absent(b) and a > b:
        return rule.params[0], f"{a} > {rule.params[1]} {b}"
    return None


# Looked up once per rule (a dict lookup is cheaper than comparing against each enum member in turn).
_RULE_CHECKS: dict[RuleKind, Callable[[Rule, Mapping[str, Any], Any], _Violation]] = {
    RuleKind.EXCLUSIVE: _exclusive,
    RuleKind.REQUIRED_WHEN: _required_when,
    RuleKind.ONE_OF_WHEN: _one_of_when,
    RuleKind.ONLY_WHEN: _only_when,
    RuleKind.NOT_VALUE_WHEN: _not_value_when,
    RuleKind.VALUE_ONLY_WHEN: _value_only_when,
    RuleKind.NOT_GREATER: _not_greater,
}


def validate(
    operation: str,
    params: Mapping[str, Any] | None,
    api_version: str = vocab.DEFAULT_API_VERSION,
    *,
    warned: MutableSet[tuple[str, str]] | None = None,
) -> dict[str, Any]:
    """Check ``params`` for ``operation`` and return them normalized (today's names, typed values).

    Parameters whose value is ``None`` are treated as absent (not sent). ``""`` for a clearable parameter
    (times, budgets, ``frequency_cap``, ``categories``, ...) is kept and sent empty: on update the API
    un-sets the field. Path parameters (``account_id``, ``line_item_id``, ...) are not part of ``params``.

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
        given = translate_legacy(given, operation, str(api_version), warned)
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
            out[name] = check_value(name, p, given[name], operation)
        elif p.default is not None:
            out[name] = p.default
        elif p.required:
            allowed = p.choices or None
            raise AdsApiValidationError(name, "is required", allowed=allowed, operation=operation)
    for rule in ep.rules:
        cond = None
        if rule.when is not None:
            cond = out.get(rule.when)
            if _absent(cond):
                continue  # a conditional rule never applies without its condition's value
        broken = _RULE_CHECKS[rule.kind](rule, out, cond)
        if broken:
            raise AdsApiValidationError(broken[0], f"{broken[1]}: {rule.why}", operation=operation)
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
                    id_param: check_value(id_param, _ID, entity_id, f"{resource}.{op_type.lower()}"),
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
