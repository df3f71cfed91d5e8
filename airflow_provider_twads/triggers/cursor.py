"""The async trigger behind :class:`~airflow_provider_twads.sensors.cursor.AdsCursorSensor` (deferrable mode).

It lists every page of a resource through the hook's async client, evaluates the same condition as the
sensor (:func:`airflow_provider_twads.condition.evaluate`), and sleeps between polls. It writes
nothing. Rate limits: the async client paces on the rate-limit headers; when a 429 still comes through, the
trigger waits until the announced reset (never past its deadline) instead of failing.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from typing import Any

from airflow.triggers.base import BaseTrigger, TriggerEvent

from airflow_provider_twads.condition import Condition, evaluate, trigger_event
from airflow_provider_twads.connection import DEFAULT_CONN_ID

__all__ = ["AdsCursorTrigger"]


class AdsCursorTrigger(BaseTrigger):
    """Poll a list endpoint until a condition holds over all its entities, fails terminally, or time runs out.

    Events: ``{"status": "success" | "failure" | "timeout" | "error", "matched_ids", "failed_ids",
    "message"}``.

    :param resource: ``campaigns``, ``line_items``, ``promoted_tweets`` or ``targeting_criteria``.
    :param filters: list filters (JSON-serialisable).
    :param condition: :meth:`Condition.to_dict` of the condition.
    :param twitter_ads_conn_id: the connection.
    :param account_id: the ad account (``None``: the connection's default).
    :param poll_interval: seconds between polls.
    :param end_time: the deadline, epoch seconds (``None``: no deadline of its own).
    :param page_size: entities per page (``count``).
    """

    def __init__(
        self,
        resource: str,
        filters: dict[str, Any],
        condition: dict[str, Any],
        twitter_ads_conn_id: str = DEFAULT_CONN_ID,
        account_id: str | None = None,
        poll_interval: float = 60.0,
        end_time: float | None = None,
        page_size: int = 1000,
    ) -> None:
        super().__init__()  # type: ignore[no-untyped-call]  # Airflow's BaseTrigger.__init__ is unannotated
        self.resource = resource
        self.filters = filters
        self.condition = condition
        self.twitter_ads_conn_id = twitter_ads_conn_id
        self.account_id = account_id
        self.poll_interval = poll_interval
        self.end_time = end_time
        self.page_size = page_size

    def serialize(self) -> tuple[str, dict[str, Any]]:
        """Class path and JSON-only kwargs."""
        return (
            f"{type(self).__module__}.{type(self).__qualname__}",
            {
                "resource": self.resource,
                "filters": self.filters,
                "condition": self.condition,
                "twitter_ads_conn_id": self.twitter_ads_conn_id,
                "account_id": self.account_id,
                "poll_interval": self.poll_interval,
                "end_time": self.end_time,
                "page_size": self.page_size,
            },
        )

    def _remaining(self) -> float:
        return float("inf") if self.end_time is None else self.end_time - time.time()

    async def run(self) -> AsyncIterator[TriggerEvent]:
        """Poll until done; yields exactly one event."""
        from airflow_provider_twads.api.errors import AdsApiError, RateLimitError
        from airflow_provider_twads.hooks.ads_api import AdsApiHook

        condition = Condition.from_dict(self.condition)
        hook = AdsApiHook(twitter_ads_conn_id=self.twitter_ads_conn_id, account_id=self.account_id)
        try:
            client = await hook.aget_async_client()
        except Exception as err:
            yield TriggerEvent(trigger_event("error", message=f"Could not create the X Ads client: {err}"))
            return
        try:
            polls = 0
            while True:
                polls += 1
                try:
                    entities = [
                        e async for e in client.alist(self.resource, count=self.page_size, **self.filters)
                    ]
                except RateLimitError as err:
                    wait = max(1.0, (err.reset_at or time.time() + self.poll_interval) - time.time())
                    wait = min(wait, max(0.0, self._remaining()))
                    self.log.info(
                        "Rate limited listing %s; waiting %.0f s until the reset", self.resource, wait
                    )
                    if wait <= 0:
                        yield TriggerEvent(
                            trigger_event("timeout", message=f"Timed out (rate limited): {err}")
                        )
                        return
                    await asyncio.sleep(wait)
                    continue
                except AdsApiError as err:
                    yield TriggerEvent(trigger_event("error", message=str(err)))
                    return
                result = evaluate(entities, condition)
                self.log.info("Poll %d of %s: %s", polls, self.resource, result.message)
                if result.failed:
                    yield TriggerEvent(
                        trigger_event("failure", result.matched_ids, result.failed_ids, result.message)
                    )
                    return
                if result.done:
                    yield TriggerEvent(trigger_event("success", result.matched_ids, [], result.message))
                    return
                remaining = self._remaining()
                if remaining <= 0:
                    yield TriggerEvent(
                        trigger_event("timeout", result.matched_ids, [], f"Timed out. {result.message}")
                    )
                    return
                await asyncio.sleep(min(self.poll_interval, remaining))
        finally:
            await client.aclose()
