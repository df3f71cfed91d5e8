"""Apache Airflow provider for the X (formerly Twitter) Ads API.

Importing this package is cheap: it imports nothing from Airflow or requests, so that
Airflow's provider discovery and DAG parsing pay nothing for it.
"""

from __future__ import annotations

from typing import Any

__version__ = "0.1.0"

__all__ = ["__version__", "get_provider_info"]


def get_provider_info() -> dict[str, Any]:
    """Describe this provider to Airflow's ``ProvidersManager`` (entry point ``apache_airflow_provider``).

    :return: the provider metadata, including the ``twitter_ads`` connection type and its form fields.
    """
    return {
        "package-name": "airflow-provider-twads",
        "name": "X Ads",
        "description": "Hooks, operators and a deferrable sensor for the X (Twitter) Ads API.",
        "versions": [__version__],
        "connection-types": [
            {
                "connection-type": "twitter_ads",
                "hook-class-name": "airflow_provider_twads.hooks.ads_api.AdsApiHook",
                "hook-name": "X Ads API",
                "ui-field-behaviour": {
                    "hidden-fields": ["schema", "port", "host"],
                    "relabeling": {"login": "Consumer key (API key)", "password": "Consumer secret"},
                    "placeholders": {"login": "your app's consumer key"},
                },
                "conn-fields": {
                    "access_token": {
                        "label": "Access token",
                        "schema": {"type": ["string", "null"]},
                    },
                    "access_token_secret": {
                        "label": "Access token secret",
                        "schema": {"type": ["string", "null"], "format": "password"},
                        "sensitive": True,
                    },
                    "host": {
                        "label": "API host",
                        "description": "https://ads-api.x.com (production), https://ads-api-sandbox.x.com "
                        "(sandbox) or the URL of a local emulator.",
                        "schema": {"type": ["string", "null"], "default": "https://ads-api.x.com"},
                    },
                    "api_version": {
                        "label": "API version",
                        "schema": {"type": ["string", "null"], "enum": ["11", "12", None], "default": "12"},
                    },
                    "account_id": {
                        "label": "Default ad account ID",
                        "schema": {"type": ["string", "null"]},
                    },
                    "timeout": {
                        "label": "Request timeout (seconds)",
                        "schema": {"type": ["number", "null"], "default": 30},
                    },
                },
            }
        ],
        "extra-links": ["airflow_provider_twads.links.LineItemLink"],
    }
