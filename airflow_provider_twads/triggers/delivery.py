"""The async trigger behind :class:`~airflow_provider_twads.sensors.delivery.AdsDeliverySensor` (deferrable).

It reads synchronous stats through the triggerer's shared client of the connection (:mod:`._shared`: one
client per connection and process, reads paced together with the other triggers') with
:func:`~airflow_provider_twads.api.analytics.astats` (the same planning and merging as the sync client),
judges them with the sensor's :func:`~airflow_provider_twads.delivery.judge`, and sleeps between polls. It
writes nothing. A 429 that still comes through is waited out until the announced reset (never past its
deadline).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Any

from airflow.triggers.base import BaseTrigger, TriggerEvent

from airflow_provider_twads.connection import DEFAULT_CONN_ID
from airflow_provider_twads.delivery import DeliveryCondition, delivery_event, judge

__all__ = ["AdsDeliveryTrigger"]


class AdsDeliveryTrigger(BaseTrigger):
    """Poll stats until a delivery condition holds, its deadline passes, or time runs out.

    Events: ``{"status": "success" | "failure" | "timeout" | "error", "values", "message"}``.

    :param condition: :meth:`DeliveryCondition.to_dict` of the condition.
    :param twitter_ads_conn_id: the connection.
    :param account_id: the ad account (``None``: the connection's default).
    :param poll_interval: seconds between polls.
    :param end_time: the sensor's timeout, epoch seconds (``None``: none).
    """

    def __init__(
        self,
        condition: dict[str, Any],
        twitter_ads_conn_id: str = DEFAULT_CONN_ID,
        account_id: str | None = None,
        poll_interval: float = 300.0,
        end_time: float | None = None,
    ) -> None:
        super().__init__()  # type: ignore[no-untyped-call]  # Airflow's BaseTrigger.__init__ is unannotated
        self.condition = condition
        self.twitter_ads_conn_id = twitter_ads_conn_id
        self.account_id = account_id
        self.poll_interval = poll_interval
        self.end_time = end_time

    def serialize(self) -> tuple[str, dict[str, Any]]:
        """Class path and JSON-only kwargs."""
        return (
            f"{type(self).__module__}.{type(self).__qualname__}",
            {
                "condition": self.condition,
                "twitter_ads_conn_id": self.twitter_ads_conn_id,
                "account_id": self.account_id,
                "poll_interval": self.poll_interval,
                "end_time": self.end_time,
            },
        )

    def _remaining(self) -> float:
        return float("inf") if self.end_time is None else self.end_time - time.time()

    async def run(self) -> AsyncIterator[TriggerEvent]:
        """Poll until done; yields exactly one event."""
        from airflow_provider_twads.api.analytics import astats, totals
        from airflow_provider_twads.api.errors import AdsApiError, RateLimitError
        from airflow_provider_twads.triggers._shared import registry

        shared = registry()
        try:
            condition = DeliveryCondition.from_dict(self.condition)
            entry = await shared.acquire(self.twitter_ads_conn_id, self.poll_interval)
        except Exception as err:
            yield TriggerEvent(delivery_event("error", message=f"Could not start the delivery check: {err}"))
            return
        client = entry.client
        try:
            while True:
                now = datetime.now(UTC)
                try:
                    response = await astats(
                        client, **condition.stats_request(now), account_id=self.account_id
                    )
                except RateLimitError as err:
                    wait = max(1.0, (err.reset_at or time.time() + self.poll_interval) - time.time())
                    wait = min(wait, max(0.0, self._remaining()))
                    if wait <= 0:
                        yield TriggerEvent(
                            delivery_event("timeout", message=f"Timed out (rate limited): {err}")
                        )
                        return
                    self.log.info("Rate limited reading stats; waiting %.0f s until the reset", wait)
                    await asyncio.sleep(wait)
                    continue
                except AdsApiError as err:
                    yield TriggerEvent(delivery_event("error", message=str(err)))
                    return
                result = judge(condition, totals(response), now)
                self.log.info("%s", result.message)
                if result.done or result.expired:
                    status = "success" if result.done else "failure"
                    yield TriggerEvent(delivery_event(status, result.values, result.message))
                    return
                remaining = self._remaining()
                if remaining <= 0:
                    yield TriggerEvent(
                        delivery_event("timeout", result.values, f"Timed out. {result.message}")
                    )
                    return
                # Wake up at the deadline too, to report it when it passes rather than a poll later.
                wait = min(self.poll_interval, remaining)
                if condition.deadline is not None:
                    due = datetime.fromisoformat(condition.deadline.replace("Z", "+00:00"))
                    wait = min(wait, max(1.0, (due - datetime.now(UTC)).total_seconds()))
                await asyncio.sleep(wait)
        finally:
            await shared.release(entry)
