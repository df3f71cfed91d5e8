"""Apache Airflow provider for the X (formerly Twitter) Ads API.

Importing this package is cheap: it imports nothing from Airflow or requests, so that
Airflow's provider discovery and DAG parsing pay nothing for it. The client is in
:mod:`airflow_provider_twads.api`; the connection type in :mod:`airflow_provider_twads.connection`.
"""

from __future__ import annotations

from typing import Any

__version__ = "0.1.0"

__all__ = ["__version__", "get_provider_info"]

_PKG = "airflow_provider_twads"
_INTEGRATION = "X Ads"


def get_provider_info() -> dict[str, Any]:
    """Describe this provider to Airflow's ``ProvidersManager`` (entry point ``apache_airflow_provider``).

    :return: the provider metadata, including the ``twitter_ads`` connection type and its form fields.
    """
    from airflow_provider_twads.connection import provider_connection_type

    return {
        "package-name": "airflow-provider-twads",
        "name": "X Ads",
        "description": "Hooks, operators and deferrable sensors for the X (Twitter) Ads API.",
        "versions": [__version__],
        "integrations": [
            {"integration-name": _INTEGRATION, "external-doc-url": "https://docs.x.com/x-ads-api"}
        ],
        "operators": [
            {
                "integration-name": _INTEGRATION,
                "python-modules": [
                    f"{_PKG}.operators",
                    f"{_PKG}.operators.campaigns",
                    f"{_PKG}.operators.delivery",
                    f"{_PKG}.operators.analytics",
                ],
            }
        ],
        "sensors": [
            {
                "integration-name": _INTEGRATION,
                "python-modules": [f"{_PKG}.sensors.cursor", f"{_PKG}.sensors.delivery"],
            }
        ],
        "hooks": [{"integration-name": _INTEGRATION, "python-modules": [f"{_PKG}.hooks.ads_api"]}],
        "triggers": [
            {
                "integration-name": _INTEGRATION,
                "python-modules": [
                    f"{_PKG}.triggers.cursor",
                    f"{_PKG}.triggers.delivery",
                    f"{_PKG}.triggers.analytics",
                ],
            }
        ],
        "connection-types": [provider_connection_type()],
        "extra-links": ["airflow_provider_twads.links.LineItemLink"],
    }
