"""Docstrings from the parameter table: an operator's ``:param`` lines cannot drift from what it checks."""

from __future__ import annotations

import textwrap
from collections.abc import Callable, Iterable, Mapping
from typing import TypeVar

from airflow_provider_twads.api.params.model import Kind, Param

__all__ = ["PARAMS_MARKER", "describe", "document_params", "param_docs"]

#: The line of a docstring that :func:`document_params` replaces with the generated ``:param`` lines.
PARAMS_MARKER = "{params from the table}"
# Enumerations this short are listed in full in the docs; longer ones are named by the reference.
_LISTED_CHOICES = 5
_WIDTH = 110

T = TypeVar("T", bound=type)


def _choices(p: Param) -> str:
    if p.kind not in (Kind.ENUM, Kind.ENUM_LIST) or len(p.choices) > _LISTED_CHOICES:
        return ""
    names = [f"``{c}``" for c in p.choices]
    return ", ".join(names[:-1]) + f" or {names[-1]}" if len(names) > 1 else names[0]


def describe(p: Param, extra: str = "") -> str:
    """One parameter in words: its doc, its values when there are few, and ``extra``.

    :param p: the parameter.
    :param extra: what the caller adds (e.g. an operator's default), after a semicolon.
    """
    text = p.doc
    choices = _choices(p)
    if choices:
        text = f"{text}: {choices}" if text else choices
    if extra:
        text = f"{text}; {extra}" if text else extra
    return f"{text}." if text else ""


def param_docs(
    table: Mapping[str, Param], names: Iterable[str], extra: Mapping[str, str] | None = None
) -> list[str]:
    """Sphinx ``:param name: ...`` lines for ``names``, described from ``table``.

    :param table: the parameters (e.g. :data:`~airflow_provider_twads.api.params.LINE_ITEM_FIELDS`).
    :param names: which of them, in this order.
    :param extra: per name, what the caller adds to the description.
    """
    extra = extra or {}
    return [f":param {name}: {describe(table[name], extra.get(name, ''))}" for name in names]


def document_params(
    table: Mapping[str, Param], names: Iterable[str], extra: Mapping[str, str] | None = None
) -> Callable[[T], T]:
    """A class decorator: replace the :data:`PARAMS_MARKER` line of the docstring by :func:`param_docs`.

    :param table: the parameters.
    :param names: which of them, in this order.
    :param extra: per name, what the class adds to the description.
    """
    lines = param_docs(table, names, extra)

    def decorate(cls: T) -> T:
        doc = cls.__doc__ or ""
        out: list[str] = []
        found = False
        for line in doc.splitlines():
            if line.strip() != PARAMS_MARKER:
                out.append(line)
                continue
            found = True
            indent = line[: len(line) - len(line.lstrip())]
            for text in lines:
                out.extend(
                    textwrap.wrap(
                        text,
                        _WIDTH,
                        initial_indent=indent,
                        subsequent_indent=indent + "    ",
                        break_on_hyphens=False,
                    )
                )
        if not found:
            raise ValueError(f"{cls!r}: the docstring has no {PARAMS_MARKER!r} line")
        cls.__doc__ = "\n".join(out) + ("\n" if doc.endswith("\n") else "")
        return cls

    return decorate
