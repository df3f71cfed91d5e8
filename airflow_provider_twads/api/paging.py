"""Cursor paging: the state of a walk over a list endpoint (sans-IO) and its thin sync/async iterators.

:class:`CursorState` holds everything that decides what to ask for next: the filters, the last
``next_cursor``, the ``with_total_count`` rule (it is exclusive with ``cursor``, so it goes on the first
page only) and the guard against a server that repeats a cursor. The iterators only fetch and yield; they
hold one page at a time, so memory stays flat however many entities there are.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable, Iterator, Mapping
from typing import Any

from airflow_provider_twads.api.errors import EndlessCursorError, MalformedResponseError

__all__ = ["AsyncCursor", "Cursor", "CursorState"]


class CursorState:
    """What the next page request is, and what the pages so far said.

    :param params: the list filters (already validated and encoded), without ``cursor``.
    :param cursor: a ``next_cursor`` from an earlier walk, to resume from there.
    :param method: the request method, for error messages.
    :param path: the request path, for error messages.
    """

    def __init__(
        self, params: Mapping[str, Any], cursor: str | None = None, *, method: str = "GET", path: str = ""
    ) -> None:
        self._params = {k: v for k, v in params.items() if k != "cursor"}
        self.want_total = str(self._params.pop("with_total_count", "")).lower() == "true"
        self.method = method
        self.path = path
        self.next_cursor: str | None = cursor or (str(params["cursor"]) if params.get("cursor") else None)
        self.total_count: int | None = None
        self.pages = 0
        self.items = 0
        self.done = False
        self._seen: set[str] = set()
        if self.next_cursor:
            self._seen.add(self.next_cursor)

    def request_params(self) -> dict[str, Any]:
        """The parameters of the next page request."""
        params = dict(self._params)
        if self.next_cursor:
            params["cursor"] = self.next_cursor
        elif self.want_total and self.pages == 0:
            params["with_total_count"] = "true"
        return params

    def advance(self, envelope: Mapping[str, Any]) -> list[Any]:
        """Take in a page: remember its cursor and total, return its entities.

        :param envelope: the parsed response.
        :raises MalformedResponseError: the page has no list ``data``.
        :raises EndlessCursorError: the page returned a cursor already seen.
        """
        data = envelope.get("data")
        if data is None:
            data = []
        if isinstance(data, dict):  # "in some rare cases ... a hashmap instead" (error-codes page)
            data = [data]
        if not isinstance(data, list):
            raise MalformedResponseError(
                f"list response has {type(data).__name__} data", method=self.method, path=self.path
            )
        bad = next((i for i, e in enumerate(data) if not isinstance(e, Mapping)), None)
        if bad is not None:
            raise MalformedResponseError(
                f"list response entity {bad} is not an object: {type(data[bad]).__name__} {data[bad]!r:.60}",
                method=self.method,
                path=self.path,
            )
        total = self._total_count(envelope.get("total_count")) if self.pages == 0 else None
        self.pages += 1
        self.items += len(data)
        if total is not None:
            self.total_count = total
        nxt = envelope.get("next_cursor")
        nxt = str(nxt) if nxt not in (None, "") else None
        if nxt is not None and nxt in self._seen:
            raise EndlessCursorError(
                f"the API returned next_cursor {nxt!r} a second time after {self.pages} pages; stopping",
                method=self.method,
                path=self.path,
            )
        if nxt is not None:
            self._seen.add(nxt)
        self.next_cursor = nxt
        self.done = nxt is None
        return data

    def _total_count(self, value: Any) -> int | None:
        """``total_count`` as a non-negative int (an int-like string or float is accepted), else an error."""
        if value is None:
            return None
        number: int | None = None
        if isinstance(value, int) and not isinstance(value, bool):
            number = value
        elif isinstance(value, float) and value.is_integer():
            number = int(value)
        elif isinstance(value, str) and value.strip().isdigit():
            number = int(value.strip())
        if number is None or number < 0:
            raise MalformedResponseError(
                f"list response has total_count {value!r:.60}, not a count",
                method=self.method,
                path=self.path,
            )
        return number


class _CursorBase:
    def __init__(self, state: CursorState) -> None:
        self._state = state

    @property
    def next_cursor(self) -> str | None:
        """The cursor of the next page (``None`` before the first page and after the last); pass it as
        ``cursor=`` to resume a walk later."""
        return self._state.next_cursor

    @property
    def total_count(self) -> int | None:
        """``total_count`` of the first page, when ``with_total_count=True`` was asked for."""
        return self._state.total_count

    @property
    def pages(self) -> int:
        """Pages fetched so far."""
        return self._state.pages

    @property
    def fetched(self) -> int:
        """Entities fetched so far."""
        return self._state.items

    @property
    def exhausted(self) -> bool:
        """Whether the last page has been fetched."""
        return self._state.done


class Cursor(_CursorBase):
    """A lazy iterator over the entities of a list endpoint, one page in memory at a time.

    :param state: the walk's state.
    :param fetch: fetches one page: params -> parsed envelope.
    """

    def __init__(self, state: CursorState, fetch: Callable[[dict[str, Any]], Mapping[str, Any]]) -> None:
        super().__init__(state)
        self._fetch = fetch

    def iter_pages(self) -> Iterator[list[Any]]:
        """Yield the pages (lists of entities) one at a time."""
        while not self._state.done:
            yield self._state.advance(self._fetch(self._state.request_params()))

    def __iter__(self) -> Iterator[Any]:
        for page in self.iter_pages():
            yield from page

    def first_page(self) -> list[Any]:
        """Fetch just the next page."""
        return next(self.iter_pages(), [])


class AsyncCursor(_CursorBase):
    """The async twin of :class:`Cursor` (same state, same rules); iterate with ``async for``.

    :param state: the walk's state.
    :param fetch: fetches one page: params -> parsed envelope.
    """

    def __init__(
        self, state: CursorState, fetch: Callable[[dict[str, Any]], Awaitable[Mapping[str, Any]]]
    ) -> None:
        super().__init__(state)
        self._fetch = fetch

    async def iter_pages(self) -> AsyncIterator[list[Any]]:
        """Yield the pages (lists of entities) one at a time."""
        while not self._state.done:
            yield self._state.advance(await self._fetch(self._state.request_params()))

    async def __aiter__(self) -> AsyncIterator[Any]:
        async for page in self.iter_pages():
            for item in page:
                yield item
