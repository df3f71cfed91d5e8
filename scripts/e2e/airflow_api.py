"""The few calls of Airflow 3's REST API (``/api/v2``) that the end-to-end runs make, with a JWT login."""

from __future__ import annotations

import time
from typing import Any

import requests

TERMINAL = {"success", "failed"}


class AirflowApi:
    """A logged-in REST API session.

    :param base_url: the api-server's URL.
    :param username: a simple auth manager user.
    :param password: its password.
    """

    def __init__(self, base_url: str, username: str, password: str) -> None:
        self.base_url = base_url.rstrip("/")
        self.session = requests.Session()
        token = self.session.post(
            f"{self.base_url}/auth/token", json={"username": username, "password": password}, timeout=30
        )
        token.raise_for_status()
        self.session.headers["Authorization"] = f"Bearer {token.json()['access_token']}"

    def call(self, method: str, path: str, **kwargs: Any) -> Any:
        """``method`` on ``/api/v2/<path>``; the decoded JSON, or an error naming the status and body."""
        response = self.session.request(method, f"{self.base_url}/api/v2/{path}", timeout=30, **kwargs)
        if not response.ok:
            raise RuntimeError(f"{method} /api/v2/{path}: {response.status_code} {response.text[:500]}")
        return response.json() if response.content else None

    def wait_for_dag(self, dag_id: str, timeout: float = 180) -> None:
        """Wait until the dag-processor has serialised ``dag_id`` (a fresh deployment parses it first)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                self.call("GET", f"dags/{dag_id}/details")
                return
            except RuntimeError:
                time.sleep(2)
        raise TimeoutError(f"DAG {dag_id} was not parsed within {timeout:.0f} s")

    def unpause(self, dag_id: str) -> None:
        self.call("PATCH", f"dags/{dag_id}", json={"is_paused": False})

    def runs(self, dag_id: str) -> list[dict[str, Any]]:
        """Every run of ``dag_id``, oldest first."""
        runs: list[dict[str, Any]] = self.call(
            "GET", f"dags/{dag_id}/dagRuns", params={"order_by": "run_after"}
        )["dag_runs"]
        return runs

    def trigger(
        self, dag_id: str, conf: dict[str, Any] | None = None, logical_date: str | None = None
    ) -> str:
        """Trigger a run (``logical_date: null``, Airflow 3's default, unless given); return its run id."""
        body = {"logical_date": logical_date, "conf": conf or {}}
        return str(self.call("POST", f"dags/{dag_id}/dagRuns", json=body)["dag_run_id"])

    def wait_for_run(self, dag_id: str, run_id: str, timeout: float) -> dict[str, Any]:
        """Poll the run until it succeeds or fails; return it (``TimeoutError`` after ``timeout`` s)."""
        deadline = time.monotonic() + timeout
        while True:
            run: dict[str, Any] = self.call("GET", f"dags/{dag_id}/dagRuns/{run_id}")
            if run["state"] in TERMINAL:
                return run
            if time.monotonic() > deadline:
                raise TimeoutError(f"run {run_id} still {run['state']} after {timeout:.0f} s")
            time.sleep(2)

    def task_instances(self, dag_id: str, run_id: str) -> dict[str, dict[str, Any]]:
        """The run's task instances by task id (mapped ones keyed ``task_id[map_index]``)."""
        tis = self.call("GET", f"dags/{dag_id}/dagRuns/{run_id}/taskInstances")["task_instances"]
        return {ti["task_id"] + (f"[{ti['map_index']}]" if ti["map_index"] >= 0 else ""): ti for ti in tis}

    def task_log(self, dag_id: str, run_id: str, task_id: str, try_number: int) -> str:
        """A task try's log as text (every structured line's event, level and extra fields)."""
        data = self.call(
            "GET",
            f"dags/{dag_id}/dagRuns/{run_id}/taskInstances/{task_id}/logs/{try_number}",
            params={"full_content": "true"},
            headers={"Accept": "application/json"},
        )
        content = data.get("content", "")
        if isinstance(content, str):
            return content
        return "\n".join(
            str(line.get("event", line)) if isinstance(line, dict) else str(line) for line in content
        )
