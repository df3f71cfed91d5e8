"""Running an operator's ``execute`` as a worker would, without the metadata DB."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

RUN_ID = "manual__2024-05-01T00:00:00+00:00"


class TaskInstanceStub:
    """What the operators read from ``context["ti"]``; pushed XComs are kept in ``xcoms``."""

    def __init__(self, task_id: str, run_id: str = RUN_ID, map_index: int = -1) -> None:
        self.dag_id = "test_dag"
        self.task_id = task_id
        self.run_id = run_id
        self.map_index = map_index
        self.xcoms: dict[str, Any] = {}

    def xcom_push(self, key: str, value: Any) -> None:
        self.xcoms[key] = value


@pytest.fixture
def execute() -> Callable[..., Any]:
    """``execute(op, run_id=..., map_index=...)`` -> the operator's return value (``.ti`` on the fixture)."""

    def run(op: Any, *, run_id: str = RUN_ID, map_index: int = -1) -> Any:
        ti = TaskInstanceStub(op.task_id, run_id, map_index)
        run.ti = ti  # type: ignore[attr-defined]
        return op.execute({"ti": ti, "task_instance": ti, "run_id": run_id, "task": op})

    return run
