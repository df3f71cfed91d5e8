"""The Airflow connection that points ``twitter_ads_default`` (or any conn id) at a running emulator."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from twads_emulator.seed import ACCOUNT_ID, DEFAULT_CREDENTIALS


def connection_dict(
    base_url: str,
    *,
    account_id: str = ACCOUNT_ID,
    api_version: str = "12",
    credentials: Mapping[str, str] = DEFAULT_CREDENTIALS,
    timeout: float = 10,
) -> dict[str, Any]:
    """The connection in Airflow's JSON form (``AIRFLOW_CONN_<ID>`` accepts it as is).

    :param base_url: the emulator's base URL, e.g. ``http://127.0.0.1:8765``.
    :param account_id: the default ad account of the connection.
    :param api_version: ``"11"`` or ``"12"``.
    :param credentials: consumer key/secret and access token/secret the emulator accepts.
    :param timeout: request timeout in seconds.
    """
    return {
        "conn_type": "twitter_ads",
        "login": credentials["consumer_key"],
        "password": credentials["consumer_secret"],
        "extra": {
            "access_token": credentials["access_token"],
            "access_token_secret": credentials["access_token_secret"],
            "host": base_url,
            "api_version": int(api_version),  # a number: Airflow warns about short strings in Extra
            "account_id": account_id,
            "timeout": timeout,
        },
    }


def connection_env(base_url: str, conn_id: str = "twitter_ads_default", **kwargs: Any) -> dict[str, str]:
    """Environment variables that define the connection ``conn_id`` for Airflow.

    :param base_url: the emulator's base URL.
    :param conn_id: the Airflow connection id to define.
    :param kwargs: passed to :func:`connection_dict`.
    """
    return {f"AIRFLOW_CONN_{conn_id.upper()}": json.dumps(connection_dict(base_url, **kwargs))}
