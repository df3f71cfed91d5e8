"""Shared fixtures: one emulator per test session, real HTTP on loopback, Airflow pointed at it.

Airflow reads its configuration when first imported, so the environment is set here, before any test
module imports Airflow.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

_AIRFLOW_HOME = Path(tempfile.mkdtemp(prefix="twads-airflow-home-"))
os.environ.setdefault("AIRFLOW_HOME", str(_AIRFLOW_HOME))
os.environ.setdefault("AIRFLOW__CORE__LOAD_EXAMPLES", "False")
os.environ.setdefault("AIRFLOW__CORE__UNIT_TEST_MODE", "True")
os.environ.setdefault("AIRFLOW__DATABASE__SQL_ALCHEMY_CONN", f"sqlite:///{_AIRFLOW_HOME / 'airflow.db'}")
os.environ.setdefault("AIRFLOW__CORE__DAGS_FOLDER", str(_AIRFLOW_HOME / "dags"))


@pytest.fixture(scope="session")
def emulator() -> Iterator[Any]:
    """One emulator for the whole session, on a free loopback port."""
    from twads_emulator import EmulatorServer

    with EmulatorServer(port=0) as server:
        yield server


@pytest.fixture(scope="session", autouse=True)
def _twitter_ads_default_conn(request: pytest.FixtureRequest) -> Iterator[None]:
    """Point ``twitter_ads_default`` at the session's emulator, through the environment (no DB needed)."""
    emulator = request.getfixturevalue("emulator")
    from twads_emulator.connection import connection_env

    ((name, value),) = connection_env(emulator.base_url).items()
    old = os.environ.get(name)
    os.environ[name] = value
    yield
    if old is None:
        os.environ.pop(name, None)
    else:
        os.environ[name] = old


@pytest.fixture
def emu(emulator: Any) -> Any:
    """The session's emulator, reset to its seeded state (faults, request log and rate limits cleared)."""
    emulator.admin.reset()
    return emulator


@pytest.fixture
def client(emu: Any) -> Iterator[Any]:
    """An ``AdsApiClient`` on the freshly reset emulator."""
    from airflow_provider_twads.api.client import AdsApiClient, Credentials
    from twads_emulator import DEFAULT_CREDENTIALS, SEED

    c = AdsApiClient(
        Credentials(**DEFAULT_CREDENTIALS),
        host=emu.base_url,
        api_version="12",
        account_id=SEED["account_id"],
        timeout=10,
    )
    try:
        yield c
    finally:
        c.close()


@pytest.fixture(scope="session")
def airflow_db() -> Path:
    """Migrate Airflow's SQLite metadata DB once per session, for tests that run real tasks."""
    from airflow.utils import db

    db.resetdb()
    return _AIRFLOW_HOME
