"""The entry points of the parameter spec, as the client, the core and reconciliation call them.

The pieces live in their own modules: the typed table in :mod:`airflow_provider_twads.api.params`, the
engine in :mod:`~airflow_provider_twads.api.validation` (one value:
:mod:`~airflow_provider_twads.api.values`), the older vocabulary in :mod:`~airflow_provider_twads.api.legacy`,
times in :mod:`~airflow_provider_twads.api.times`.
"""

from __future__ import annotations

from airflow_provider_twads.api.params.endpoints import ENDPOINTS, endpoint
from airflow_provider_twads.api.params.model import Endpoint, Param
from airflow_provider_twads.api.validation import check_targeting_set, validate, validate_batch

__all__ = [
    "ENDPOINTS",
    "Endpoint",
    "Param",
    "check_targeting_set",
    "endpoint",
    "validate",
    "validate_batch",
]
