"""The typed parameter table of the Ads API endpoints the provider uses: the one source of truth.

- :mod:`~airflow_provider_twads.api.params.model`: kinds (enums), :class:`Param`, :class:`Rule`,
  :class:`Endpoint`.
- :mod:`~airflow_provider_twads.api.params.fields`: the writable fields of line items, campaigns and
  targeting criteria (:data:`LINE_ITEM_FIELDS` feeds the line item operators) and their rules.
- :mod:`~airflow_provider_twads.api.params.endpoints`: every operation, by name (:data:`ENDPOINTS`).
- :mod:`~airflow_provider_twads.api.params.docs`: operator docstrings generated from the table.

Pure data: checking values against it is :mod:`airflow_provider_twads.api.validation`'s job.
"""

from __future__ import annotations

from airflow_provider_twads.api.params.endpoints import ENDPOINTS, endpoint
from airflow_provider_twads.api.params.fields import (
    LINE_ITEM_CREATE_ONLY_FIELDS,
    LINE_ITEM_FIELDS,
    LINE_ITEM_UPDATE_FIELDS,
)
from airflow_provider_twads.api.params.model import Endpoint, Kind, Param, Rule, RuleKind

__all__ = [
    "ENDPOINTS",
    "LINE_ITEM_CREATE_ONLY_FIELDS",
    "LINE_ITEM_FIELDS",
    "LINE_ITEM_UPDATE_FIELDS",
    "Endpoint",
    "Kind",
    "Param",
    "Rule",
    "RuleKind",
    "endpoint",
]
