"""What every X Ads operator shares, from :mod:`airflow_provider_twads.common` (sensors use it too)."""

from __future__ import annotations

from airflow_provider_twads.common import (
    CONN_TEMPLATE_FIELDS,
    DEFAULT_CONN_ID,
    AdsApiHookMixin,
    as_id_list,
    as_int,
)

__all__ = ["CONN_TEMPLATE_FIELDS", "DEFAULT_CONN_ID", "AdsApiHookMixin", "as_id_list", "as_int"]
