"""The building blocks of the parameter table: kinds, parameters, cross-parameter rules, endpoints.

Kinds are enums, not strings: ``Param("emum")`` fails when the table is built (and under mypy), instead of
silently turning validation off for that parameter.
"""

from __future__ import annotations

import enum
import string
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

__all__ = ["Endpoint", "Kind", "Param", "Rule", "RuleKind"]


class Kind(enum.StrEnum):
    """What a parameter's value is, and so how it is checked and normalised."""

    STR = "str"
    ID = "id"
    INT = "int"
    BOOL = "bool"
    ENUM = "enum"
    ENUM_LIST = "enum_list"
    ID_LIST = "id_list"
    TIME = "time"


class RuleKind(enum.StrEnum):
    """What a cross-parameter :class:`Rule` says."""

    #: ``params`` may not be combined.
    EXCLUSIVE = "exclusive"
    #: ``params[0]`` is required when ``when`` has one of ``values``.
    REQUIRED_WHEN = "required_when"
    #: one of ``params`` is required when ``when`` has one of ``values``.
    ONE_OF_WHEN = "one_of_when"
    #: ``params[0]`` is allowed only when ``when`` has one of ``values``.
    ONLY_WHEN = "only_when"
    #: ``params[0]`` may not be one of ``forbidden`` when ``when`` has one of ``values``.
    NOT_VALUE_WHEN = "not_value_when"
    #: ``params[0]`` may be one of ``forbidden`` only when ``when`` has one of ``values``.
    VALUE_ONLY_WHEN = "value_only_when"
    #: ``params[0]`` <= ``params[1]``.
    NOT_GREATER = "not_greater"


@dataclass(frozen=True)
class Param:
    """One parameter.

    :param kind: what the value is (:class:`Kind`; a string is accepted only if it names one).
    :param required: whether it must be given.
    :param choices: allowed values for ``ENUM`` / ``ENUM_LIST``.
    :param minimum: lowest allowed value for ``INT``.
    :param maximum: highest allowed value for ``INT``.
    :param max_items: most items for lists.
    :param max_length: longest allowed string.
    :param default: filled in when absent (only where the client has a reason to choose).
    :param numeric: whether the (list) values must be numeric IDs (tweet and user IDs): positive numbers.
    :param blank: whether a string of only whitespace is a value (``False``: it counts as missing).
    :param clearable: whether ``""`` is a value: sent as is, it un-sets the field on update
        (fundamentals/making-authenticated-requests.mdx: ``end_time=`` removes the end time).
    :param doc: what it means, for the operators' docstrings (one short phrase, no trailing period).
    """

    kind: Kind = Kind.STR
    required: bool = False
    choices: tuple[Any, ...] = ()
    minimum: int | None = None
    maximum: int | None = None
    max_items: int | None = None
    max_length: int | None = None
    default: Any = None
    numeric: bool = False
    blank: bool = True
    clearable: bool = False
    doc: str = field(default="", compare=False)
    # Derived once from ``choices`` (validation runs per batch item: thousands of times per task).
    choice_set: frozenset[Any] = field(init=False, repr=False, compare=False)
    str_choices: bool = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        # Kind(...) raises ValueError for a misspelt kind given as a string by an untyped caller.
        object.__setattr__(self, "kind", Kind(self.kind))
        object.__setattr__(self, "choice_set", frozenset(self.choices))
        object.__setattr__(self, "str_choices", all(isinstance(c, str) for c in self.choices))
        if self.kind in (Kind.ENUM, Kind.ENUM_LIST) and not self.choices:
            raise ValueError(f"a {self.kind} parameter needs choices")


@dataclass(frozen=True)
class Rule:
    """A cross-parameter rule.

    :param kind: what the rule says (:class:`RuleKind`).
    :param params: the parameters the rule is about.
    :param when: the parameter the condition looks at.
    :param values: the condition's values.
    :param forbidden: values of ``params[0]`` the rule restricts.
    :param why: the rule in the spec's words, for the error message.
    """

    kind: RuleKind
    params: tuple[str, ...]
    when: str | None = None
    values: tuple[Any, ...] = ()
    forbidden: tuple[Any, ...] = ()
    why: str = ""

    def __post_init__(self) -> None:
        object.__setattr__(self, "kind", RuleKind(self.kind))


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
        # A rule about a misspelt parameter would never fire. (``when`` may name a parameter the endpoint
        # lacks: the line item value rules are shared by update, which cannot change the objective.)
        unknown = {n for r in self.rules for n in r.params} - self.names
        if unknown:
            raise ValueError(f"{self.operation}: rules name unknown parameters {sorted(unknown)}")

    @property
    def resource(self) -> str:
        """The resource part of the operation name."""
        return self.operation.split(".", 1)[0]

    @property
    def path_params(self) -> tuple[str, ...]:
        """The names of the path template's placeholders."""
        return tuple(name for _, name, _, _ in string.Formatter().parse(self.path) if name)
