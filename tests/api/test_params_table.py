"""The parameter table: kinds cannot be misspelt; the operators agree with it (arguments, templates, docs)."""

from __future__ import annotations

import inspect
import re
from typing import Any

import pytest

from airflow_provider_twads.api import spec
from airflow_provider_twads.api import vocabulary as vocab
from airflow_provider_twads.api.errors import AdsApiValidationError
from airflow_provider_twads.api.params.docs import PARAMS_MARKER, describe, document_params
from airflow_provider_twads.api.params.endpoints import ENDPOINTS
from airflow_provider_twads.api.params.fields import (
    LINE_ITEM_CREATE_ONLY_FIELDS,
    LINE_ITEM_FIELDS,
    LINE_ITEM_UPDATE,
    LINE_ITEM_UPDATE_FIELDS,
)
from airflow_provider_twads.api.params.model import Endpoint, Kind, Param, Rule, RuleKind
from airflow_provider_twads.api.values import check_value
from airflow_provider_twads.operators.line_items import (
    LINE_ITEM_PARAMS,
    UPDATE_PARAMS,
    CreateLineItemOperator,
    UpdateLineItemOperator,
)

# ---------------------------------------------------------------------------------------------------------
# Kinds that cannot be misspelt
# ---------------------------------------------------------------------------------------------------------


def test_a_misspelt_parameter_kind_fails_when_the_table_is_built() -> None:
    with pytest.raises(ValueError, match="emum"):
        Param("emum", choices=("A",))  # type: ignore[arg-type]  # what mypy strict also refuses


def test_a_misspelt_rule_kind_fails_when_the_table_is_built() -> None:
    with pytest.raises(ValueError, match="exclusve"):
        Rule("exclusve", ("a", "b"))  # type: ignore[arg-type]


def test_a_kind_named_by_its_string_is_the_enum_member() -> None:
    assert Param("enum", choices=("A",)).kind is Kind.ENUM  # type: ignore[arg-type]


def test_an_enumeration_without_choices_is_refused() -> None:
    with pytest.raises(ValueError, match="choices"):
        Param(Kind.ENUM)


def test_a_rule_about_a_parameter_the_endpoint_lacks_is_refused() -> None:
    with pytest.raises(ValueError, match="bid_stratgy"):
        Endpoint(
            "x.create", "POST", "x", {"bid_strategy": Param()}, (Rule(RuleKind.EXCLUSIVE, ("bid_stratgy",)),)
        )


def test_every_parameter_of_the_table_has_a_kind_member() -> None:
    for ep in ENDPOINTS.values():
        for name, p in ep.params.items():
            assert isinstance(p.kind, Kind), (ep.operation, name)
        for rule in ep.rules:
            assert isinstance(rule.kind, RuleKind), ep.operation


# One valid value per kind: every kind has a checker (the engine's match ends in assert_never).
SAMPLES: dict[Kind, tuple[Param, Any, Any]] = {
    Kind.STR: (Param(), "x", "x"),
    Kind.ID: (Param(Kind.ID), 12, "12"),
    Kind.INT: (Param(Kind.INT, minimum=1), "3", 3),
    Kind.BOOL: (Param(Kind.BOOL), "TRUE", True),
    Kind.ENUM: (Param(Kind.ENUM, choices=("AUTO",)), "auto", "AUTO"),
    Kind.ENUM_LIST: (Param(Kind.ENUM_LIST, choices=("A", "B")), "a, b,A", ["A", "B"]),
    Kind.ID_LIST: (Param(Kind.ID_LIST), ["1", 2], ["1", "2"]),
    Kind.TIME: (Param(Kind.TIME), "2030-01-01T02:00:00+02:00", "2030-01-01T00:00:00Z"),
}


@pytest.mark.parametrize("kind", list(Kind))
def test_every_kind_is_checked_and_normalised(kind: Kind) -> None:
    p, value, expected = SAMPLES[kind]
    assert check_value("p", p, value, "x.create") == expected


LINE_ITEM = {
    "campaign_id": "c1",
    "objective": "ENGAGEMENTS",
    "product_type": "PROMOTED_TWEETS",
    "placements": "ALL_ON_TWITTER",
}
# One broken rule per rule kind: (kind, operation, params, the parameter the error names).
BROKEN_RULES: list[tuple[RuleKind, str, dict[str, Any], str]] = [
    (RuleKind.EXCLUSIVE, "campaigns.list", {"cursor": "c", "with_total_count": True}, "with_total_count"),
    (RuleKind.REQUIRED_WHEN, "line_items.update", {"bid_strategy": "MAX"}, "bid_amount_local_micro"),
    (
        RuleKind.ONE_OF_WHEN,
        "line_items.create",
        {**LINE_ITEM, "objective": "APP_INSTALLS"},
        "android_app_store_identifier",
    ),
    (
        RuleKind.ONLY_WHEN,
        "line_items.create",
        {**LINE_ITEM, "objective": "WEBSITE_CLICKS", "frequency_cap": 3},
        "frequency_cap",
    ),
    (
        RuleKind.NOT_VALUE_WHEN,
        "line_items.create",
        {**LINE_ITEM, "objective": "REACH", "bid_strategy": "MAX", "bid_amount_local_micro": 1},
        "bid_strategy",
    ),
    (
        RuleKind.VALUE_ONLY_WHEN,
        "line_items.create",
        {**LINE_ITEM, "bid_strategy": "TARGET", "bid_amount_local_micro": 1},
        "bid_strategy",
    ),
    (
        RuleKind.NOT_GREATER,
        "line_items.update",
        {"daily_budget_amount_local_micro": 2, "total_budget_amount_local_micro": 1},
        "daily_budget_amount_local_micro",
    ),
]


def test_every_rule_kind_is_enforced() -> None:
    assert {case[0] for case in BROKEN_RULES} == set(RuleKind), "a rule kind without a case here"
    for kind, operation, params, parameter in BROKEN_RULES:
        with pytest.raises(AdsApiValidationError) as info:
            spec.validate(operation, params)
        assert info.value.parameter == parameter, kind


# ---------------------------------------------------------------------------------------------------------
# One list of line item fields
# ---------------------------------------------------------------------------------------------------------


def test_the_line_item_endpoints_take_exactly_the_tables_fields() -> None:
    assert tuple(spec.endpoint("line_items.create").params) == tuple(LINE_ITEM_FIELDS)
    assert tuple(spec.endpoint("line_items.update").params) == LINE_ITEM_UPDATE_FIELDS
    assert set(LINE_ITEM_UPDATE_FIELDS) | set(LINE_ITEM_CREATE_ONLY_FIELDS) == set(LINE_ITEM_FIELDS)
    assert set(vocab.LINE_ITEM_CREATE_REQUIRED) <= set(LINE_ITEM_FIELDS)
    required = {n for n, p in spec.endpoint("line_items.create").params.items() if p.required}
    assert required == set(vocab.LINE_ITEM_CREATE_REQUIRED)
    assert len(LINE_ITEM_FIELDS) == 24


def test_the_emulator_speaks_the_same_line_item_fields() -> None:
    """The emulator keeps its own vocabulary (it must catch the client being wrong): same contract, though."""
    from twads_emulator.entities import LINE_ITEM_KEYS

    # Every settable field comes back in the emulator's line items, as in the reference's example responses,
    # except audience_expansion, which those responses do not show either.
    assert set(LINE_ITEM_FIELDS) - set(LINE_ITEM_KEYS) == {"audience_expansion"}


def _keyword_arguments(cls: type) -> set[str]:
    params = inspect.signature(cls.__init__).parameters.values()
    return {p.name for p in params if p.kind is inspect.Parameter.KEYWORD_ONLY}


def _documented(cls: type) -> list[str]:
    return re.findall(r":param (\w+):", cls.__doc__ or "")


CREATE_OWN = {"extra_params", "line_items", "if_exists", "chunk_size", "twitter_ads_conn_id", "account_id"}
UPDATE_OWN = {"line_item_id", "extra_params", "twitter_ads_conn_id", "account_id"}


def test_the_create_operator_takes_templates_and_documents_every_field_of_the_table() -> None:
    assert tuple(LINE_ITEM_FIELDS) == LINE_ITEM_PARAMS
    assert _keyword_arguments(CreateLineItemOperator) == set(LINE_ITEM_FIELDS) | CREATE_OWN
    assert set(LINE_ITEM_FIELDS) <= set(CreateLineItemOperator.template_fields)
    documented = _documented(CreateLineItemOperator)
    assert sorted(documented) == sorted(set(documented)), "a parameter documented twice"
    assert set(documented) == _keyword_arguments(CreateLineItemOperator)
    doc = " ".join((CreateLineItemOperator.__doc__ or "").split())
    for name, p in LINE_ITEM_FIELDS.items():
        assert f":param {name}: {describe(p)[:-1]}" in doc, name  # the table's words (operator may add)
    assert PARAMS_MARKER not in doc


def test_the_update_operator_takes_templates_and_documents_updatable_fields_only() -> None:
    assert set(UPDATE_PARAMS) <= set(LINE_ITEM_UPDATE_FIELDS)
    assert _keyword_arguments(UpdateLineItemOperator) == set(UPDATE_PARAMS) | UPDATE_OWN
    assert set(UPDATE_PARAMS) <= set(UpdateLineItemOperator.template_fields)
    documented = _documented(UpdateLineItemOperator)
    assert sorted(documented) == sorted(set(documented))
    assert set(documented) == _keyword_arguments(UpdateLineItemOperator)
    doc = " ".join((UpdateLineItemOperator.__doc__ or "").split())
    # What PUT accepts, not what POST does: a draft cannot be made through an update.
    assert ":param entity_status: the line item status: ``ACTIVE`` or ``PAUSED``." in doc
    for name in UPDATE_PARAMS:
        assert f":param {name}: {describe(LINE_ITEM_UPDATE[name])[:-1]}" in doc, name


def test_documented_choices_are_the_values_validation_accepts() -> None:
    doc = " ".join((CreateLineItemOperator.__doc__ or "").split())
    listed = re.search(r":param bid_strategy: [^:]*: (.*?)\.", doc)
    assert listed is not None
    assert re.findall(r"``(\w+)``", listed.group(1)) == list(vocab.BID_STRATEGIES)
    for value in vocab.BID_STRATEGIES:
        spec.validate("line_items.update", {"bid_strategy": value, "bid_amount_local_micro": 1})
    with pytest.raises(AdsApiValidationError) as info:
        spec.validate("line_items.update", {"bid_strategy": "CHEAPEST"})
    assert info.value.parameter == "bid_strategy"


def test_a_docstring_without_the_marker_is_refused() -> None:
    class NoMarker:
        """No parameters here."""

    with pytest.raises(ValueError, match="no"):
        document_params(LINE_ITEM_FIELDS, ["name"])(NoMarker)
