"""What every X Ads operator and sensor shares: the connection fields, the hook, and reading templated inputs.

Neutral ground between ``operators/`` and ``sensors/``; nothing here imports Airflow or an HTTP library.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable, Sequence
from collections.abc import Set as AbstractSet
from functools import cached_property
from typing import TYPE_CHECKING, Any, TypeVar

from airflow_provider_twads.connection import DEFAULT_CONN_ID

if TYPE_CHECKING:
    from airflow_provider_twads.api.client import AdsApiClient
    from airflow_provider_twads.hooks.ads_api import AdsApiHook

__all__ = [
    "CONN_TEMPLATE_FIELDS",
    "DEFAULT_CONN_ID",
    "AdsApiHookMixin",
    "as_id_list",
    "as_int",
    "fail_fast_on_deterministic_errors",
    "ids_result",
]

_Execute = TypeVar("_Execute", bound=Callable[..., Any])
#: One task class per error class, so that ``isinstance`` keeps working for both.
_FAIL_FAST_CLASSES: dict[type[Exception], type[Exception]] = {}

#: Template fields every operator and sensor has.
CONN_TEMPLATE_FIELDS: tuple[str, ...] = ("twitter_ads_conn_id", "account_id")


class AdsApiHookMixin:
    """Gives an operator ``hook`` (created on first use, in ``execute``) and ``client``.

    The class using it sets ``twitter_ads_conn_id`` and ``account_id`` in its constructor.
    """

    twitter_ads_conn_id: str
    account_id: str | None

    @cached_property
    def hook(self) -> AdsApiHook:
        """The hook for this task's connection and account (created lazily: nothing at DAG parse time)."""
        from airflow_provider_twads.hooks.ads_api import AdsApiHook

        return AdsApiHook(twitter_ads_conn_id=self.twitter_ads_conn_id, account_id=self.account_id or None)

    @property
    def client(self) -> AdsApiClient:
        """The hook's client (one HTTP session per task)."""
        return self.hook.get_conn()


def fail_fast_on_deterministic_errors(execute: _Execute) -> _Execute:
    """Decorate ``execute``: an error that a retry of the same request cannot fix fails the task at once.

    Bad input, a 4xx other than 408/423/429 (missing account feature, draft, unknown entity, bad
    credentials), a settings mismatch: each would fail identically on every retry, burning the task's
    ``retries`` and delaying the rollback. The error is re-raised as itself and as Airflow's
    ``AirflowFailException`` (a class deriving from both), which every Airflow 3 fails without retrying;
    ``except SettingsMismatchError`` and the like still match. Transient errors propagate unchanged.
    """

    @functools.wraps(execute)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return execute(*args, **kwargs)
        except Exception as err:
            from airflow_provider_twads.api.errors import is_deterministic

            if not is_deterministic(err) or _is_fail_exception(err):
                raise
            err.__class__ = _fail_fast_class(type(err))
            raise

    return wrapper  # type: ignore[return-value]


def _is_fail_exception(err: BaseException) -> bool:
    from airflow.providers.common.compat.sdk import AirflowFailException

    return isinstance(err, AirflowFailException)


def _fail_fast_class(cls: type[Exception]) -> type[Exception]:
    """``cls`` that is also an ``AirflowFailException`` (same name and module, so logs read the same).

    It pickles as ``cls`` itself (the made-up class exists only in this process): the Ads API errors
    rebuild from ``(_rebuild, (class, state))``, see ``AdsApiError.__reduce__``.
    """
    if cls not in _FAIL_FAST_CLASSES:
        from airflow.providers.common.compat.sdk import AirflowFailException

        def __reduce__(self: Exception) -> tuple[Any, ...]:
            reduced: tuple[Any, ...] = cls.__reduce__(self)  # type: ignore[assignment]
            rebuild, (_, *rest) = reduced[:2]
            return (rebuild, (cls, *rest))

        fast: type[Exception] = type(
            cls.__name__,
            (cls, AirflowFailException),
            {
                "__module__": cls.__module__,
                "__qualname__": cls.__qualname__,
                "__doc__": cls.__doc__,
                "__reduce__": __reduce__,
            },
        )
        _FAIL_FAST_CLASSES[cls] = fast
    return _FAIL_FAST_CLASSES[cls]


def ids_result(original: Any, ids: Sequence[str]) -> str | list[str]:
    """What an operator taking IDs returns: one ID in, one ID out; a list (or comma-separated) in, a list out.

    :param original: the argument as the task got it.
    :param ids: the IDs it acted on, in order.
    """
    return ids[0] if isinstance(original, str) and "," not in original and len(ids) == 1 else list(ids)


def as_id_list(value: Any, *, parameter: str) -> list[str]:
    """IDs given as one ID, a comma-separated string, a rendered list, or a list (XComs and templates).

    :param value: the IDs.
    :param parameter: the parameter name, for the error message.
    :return: non-empty, de-duplicated string IDs in order.
    """
    from airflow_provider_twads.api.errors import AdsApiValidationError
    from airflow_provider_twads.reconcile import split_ids

    if isinstance(value, str):
        items: list[Any] = split_ids(value)
    elif isinstance(value, int) and not isinstance(value, bool):
        items = [value]
    elif isinstance(value, Sequence | AbstractSet):
        # Any sequence: lists, tuples, and the lazy sequence Airflow passes for a mapped task's output.
        items = list(value)
    else:
        raise AdsApiValidationError(parameter, f"expected an ID or a list of IDs, got {type(value).__name__}")
    ids = [str(v).strip() for v in items if v is not None and str(v).strip()]
    if not ids:
        raise AdsApiValidationError(parameter, "at least one ID is required")
    return list(dict.fromkeys(ids))


def as_int(
    value: Any, *, parameter: str, minimum: int | None = None, maximum: int | None = None, operation: str
) -> int:
    """An integer given as an int or as what a template renders (``"3"``), read exactly.

    Rejected, naming the parameter: booleans, fractions (``2.5`` is not truncated to 2), strings that are
    not whole numbers (``"abc"``, ``"1.5"``, ``"1e3"``), and values outside ``minimum``..``maximum``.

    :param value: the value.
    :param parameter: the parameter name, for the error message.
    :param minimum: the smallest allowed value.
    :param maximum: the largest allowed value.
    :param operation: what is being validated, for the error message.
    """
    from airflow_provider_twads.api.errors import AdsApiValidationError

    number: int | None = None
    if isinstance(value, int) and not isinstance(value, bool):
        number = value
    elif isinstance(value, float) and value.is_integer():
        number = int(value)
    elif isinstance(value, str):
        text = value.strip()
        if re.fullmatch(r"[+-]?[0-9]+", text):
            number = int(text)
    bounds = f"from {minimum}" if minimum is not None else ""
    bounds += f" to {maximum}" if maximum is not None else (" up" if bounds else "")
    if number is None:
        raise AdsApiValidationError(
            parameter, f"must be a whole number {bounds}, got {value!r}".rstrip(), operation=operation
        )
    if (minimum is not None and number < minimum) or (maximum is not None and number > maximum):
        raise AdsApiValidationError(parameter, f"must be {bounds}, got {number}", operation=operation)
    return number
