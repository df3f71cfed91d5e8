"""Every example DAG imports cleanly, and parsing them looks up no connection and opens no socket."""

from __future__ import annotations

import contextlib
import socket
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

DAGS_FOLDER = Path(__file__).resolve().parents[2] / "dags_examples"
EXPECTED = {
    "twads_campaign_launch",
    "twads_launch_many",
    "twads_draft_watcher",
    "twads_quickstart",
    "twads_full_launch",
    "twads_daily_report",
}


@contextlib.contextmanager
def parse_guard() -> Iterator[dict[str, list[Any]]]:
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

    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(BaseHook, "get_connection", classmethod(lambda cls, conn_id: _lookup(conn_id)))
        mp.setattr(Connection, "get", classmethod(lambda cls, conn_id: _lookup(conn_id)))
        mp.setattr(socket.socket, "connect", _connect)
        yield seen


def test_example_dags_parse_without_connections_or_http(emu: Any) -> None:
    from airflow.dag_processing.dagbag import DagBag

    calls_before = len(emu.admin.requests())
    with parse_guard() as seen:
        bag = DagBag(dag_folder=str(DAGS_FOLDER))

    assert bag.import_errors == {}
    assert set(bag.dag_ids) == EXPECTED
    assert seen == {"connections": [], "sockets": []}
    assert len(emu.admin.requests()) == calls_before


@pytest.fixture(scope="module")
def bag() -> Any:
    from airflow.dag_processing.dagbag import DagBag

    return DagBag(dag_folder=str(DAGS_FOLDER))


@pytest.mark.parametrize("dag_id", sorted(EXPECTED))
def test_example_dags_are_documented_and_templated(bag: Any, dag_id: str) -> None:
    dag = bag.dags[dag_id]
    assert dag.doc_md and "Connection:" in dag.doc_md, "each example says which connection it uses"
    for task in dag.tasks:
        if task.task_type.endswith("Operator") and task.__module__.startswith("airflow_provider_twads"):
            assert "twitter_ads_conn_id" in task.template_fields
