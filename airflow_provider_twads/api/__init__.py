"""The X Ads API client, usable without Airflow: ``from airflow_provider_twads.api import AdsApiClient``.

The clients are imported on first use, so importing this package (which every provider module does, for
the vocabulary) costs nothing: requests, oauthlib and httpx load only when a client is used. The errors
(plain Python) are here at once.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from airflow_provider_twads.api import errors
from airflow_provider_twads.api.errors import *  # noqa: F403  (the error classes, re-exported)

if TYPE_CHECKING:  # the real types for type checkers and IDEs; at run time __getattr__ imports on use
    from airflow_provider_twads.api.aclient import AsyncAdsApiClient as AsyncAdsApiClient
    from airflow_provider_twads.api.client import AdsApiClient as AdsApiClient
    from airflow_provider_twads.api.config import ClientStats as ClientStats
    from airflow_provider_twads.api.config import Credentials as Credentials
    from airflow_provider_twads.api.config import RetryPolicy as RetryPolicy

_EXPORTS: dict[str, str] = {
    "AdsApiClient": "client",
    "AsyncAdsApiClient": "aclient",
    "ClientStats": "config",
    "Credentials": "config",
    "RetryPolicy": "config",
}

__all__ = [*sorted(_EXPORTS), *errors.__all__]


def __getattr__(name: str) -> Any:
    if name in _EXPORTS:
        return getattr(importlib.import_module(f"{__name__}.{_EXPORTS[name]}"), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
