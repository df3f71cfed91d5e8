"""Every example DAG imports cleanly, and parsing them looks up no connection and opens no socket."""

from __future__ import annotations

import socket
from pathlib import Path
from typing import Any

import pytest

DAGS_FOLDER = Path(__file__).resolve().parents[2] / "dags_examples"
EXPECTED = {"twads_campaign_launch", "twads_launch_many", "twads_draft_watcher"}


@pytest.fixture
def parse_guard(monkeypatch: pytest.MonkeyPatch) -> dict[str, list[Any]]:
    """Record connection lookups and refuse every outgoing socket while the DAG files are parsed."""
    from airflow.sdk.bases.hook import BaseHook
    from airflow.sdk.definitions.connection import Connection

    seen: dict[str, list[Any]] = {"connections": [], "sockets": []}

    def _lookup(conn_id: str, *args: Any, **kwargs: Any) -> Any:
        seen["connections"].append(conn_id)
        raise AssertionError(f"connection {conn_id!r} looked up at parse time")

    def _connect(self: socket.socket, address: Any) -> None:
        seen["sockets"].append(address)
        raise AssertionError(f"network connection to {address!r} at parse time")

    monkeypatch.setattr(BaseHook, "get_connection", classmethod(lambda cls, conn_id: _lookup(conn_id)))
    monkeypatch.setattr(Connection, "get", classmethod(lambda cls, conn_id: _lookup(conn_id)))
    monkeypatch.setattr(socket.socket, "connect", _connect)
    return seen


def test_example_dags_parse_without_connections_or_http(emu: Any, parse_guard: dict[str, list[Any]]) -> None:
    from airflow.dag_processing.dagbag import DagBag

    calls_before = len(emu.admin.requests())
    bag = DagBag(dag_folder=str(DAGS_FOLDER), include_examples=False)

    assert bag.import_errors == {}
    assert set(bag.dag_ids) == EXPECTED
    assert parse_guard == {"connections": [], "sockets": []}
    assert len(emu.admin.requests()) == calls_before


@pytest.mark.parametrize("dag_id", sorted(EXPECTED))
def test_example_dags_are_documented_and_templated(dag_id: str) -> None:
    from airflow.dag_processing.dagbag import DagBag

    dag = DagBag(dag_folder=str(DAGS_FOLDER), include_examples=False).get_dag(dag_id)
    assert dag is not None
    assert dag.doc_md and "Connection:" in dag.doc_md, "each example says which connection it uses"
    for task in dag.tasks:
        if task.task_type.endswith("Operator") and task.__module__.startswith("airflow_provider_twads"):
            assert "twitter_ads_conn_id" in task.template_fields
