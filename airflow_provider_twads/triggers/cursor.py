"""The async trigger behind :class:`~airflow_provider_twads.sensors.cursor.AdsCursorSensor` (deferrable mode).

Every trigger of a triggerer process that waits on the same account and resource is answered by one
shared poll (:mod:`._polls`): list requests of up to 200 IDs, every page, once per interval, through one
client per connection and one paced read budget per account and endpoint (:mod:`._shared`). Each trigger
evaluates its own condition on its part (:func:`airflow_provider_twads.condition.evaluate`) and fires as
soon as it holds. It writes nothing. Rate limits: requests are spread over the window from the rate-limit
headers; when a 429 still comes through, the poll waits for the announced reset while each trigger keeps
its own deadline.
"""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from typing import TYPE_CHECKING, Any

from airflow.triggers.base import BaseTrigger, TriggerEvent

from airflow_provider_twads.condition import Condition, ConditionResult, evaluate, trigger_event
from airflow_provider_twads.connection import DEFAULT_CONN_ID

if TYPE_CHECKING:
    from airflow_provider_twads.triggers._polls import Subscription

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
        """Wait for answers of the process's shared poll until done; yields exactly one event."""
        from airflow_provider_twads.api.errors import AdsApiError
        from airflow_provider_twads.triggers._polls import subscribe
        from airflow_provider_twads.triggers._shared import registry

        condition = Condition.from_dict(self.condition)
        shared = registry()
        try:
            entry = await shared.acquire(self.twitter_ads_conn_id, self.poll_interval)
        except Exception as err:
            yield TriggerEvent(trigger_event("error", message=f"Could not create the X Ads client: {err}"))
            return
        try:
            try:
                account_id = entry.client.core.resolve_account(self.account_id)
            except AdsApiError as err:
                yield TriggerEvent(trigger_event("error", message=str(err)))
                return
            subscription = subscribe(
                shared,
                entry,
                account_id=account_id,
                resource=self.resource,
                filters=self.filters,
                page_size=self.page_size,
                interval=self.poll_interval,
            )
            try:
                async for event in self._wait(subscription, condition):
                    yield event
                    return
            finally:
                await subscription.close()
        finally:
            await shared.release(entry)

    async def _wait(self, subscription: Subscription, condition: Condition) -> AsyncIterator[TriggerEvent]:
        """Evaluate each answer of the shared poll; yield the one event."""
        from airflow_provider_twads.api.errors import AdsApiError

        last: ConditionResult | None = None
        while True:
            remaining = self._remaining()
            if remaining <= 0:
                if last is not None:
                    message = f"Timed out. {last.message}"
                elif subscription.group.rate_limited:
                    message = f"Timed out (rate limited): {subscription.group.rate_limited}"
                else:
                    message = "Timed out before the first poll completed"
                yield TriggerEvent(trigger_event("timeout", last.matched_ids if last else [], [], message))
                return
            answer = await subscription.next(remaining)
            if answer is None:
                continue
            if isinstance(answer, AdsApiError):
                yield TriggerEvent(trigger_event("error", message=str(answer)))
                return
            result = evaluate(answer, condition)
            if last is None or result.message != last.message:  # one line per change, not per poll
                self.log.info("Poll %d of %s: %s", subscription.member.answers, self.resource, result.message)
            last = result
            if result.failed:
                yield TriggerEvent(
                    trigger_event("failure", result.matched_ids, result.failed_ids, result.message)
                )
                return
            if result.done:
                yield TriggerEvent(trigger_event("success", result.matched_ids, [], result.message))
                return
