"""X Ads operators, re-exported lazily: importing this package costs nothing at DAG parse time."""

from __future__ import annotations

import importlib
from typing import Any

_EXPORTS = {
    "CreateLineItemOperator": "line_items",
    "UpdateLineItemOperator": "line_items",
    "DeleteLineItemOperator": "line_items",
    "BatchTargetingOperator": "targeting",
    "PromoteTweetsOperator": "promoted_tweets",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> Any:
    if name in _EXPORTS:
        return getattr(importlib.import_module(f"{__name__}.{_EXPORTS[name]}"), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
