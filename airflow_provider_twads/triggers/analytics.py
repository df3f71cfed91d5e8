"""The async trigger behind :class:`~airflow_provider_twads.operators.analytics.AnalyticsReportOperator`:
polls ``GET stats/jobs`` (up to 200 jobs per request) until every job has finished. It writes nothing, except
that a task killed while deferred cancels its unfinished jobs.

It runs on the triggerer's shared client of the connection (:mod:`._shared`: one client per connection and
process, reads paced by the rate-limit headers), as the cursor and delivery triggers do.

Telling a kill from a triggerer restart: a trigger is cancelled both when the user acts on its task (mark
failed or succeeded, clear) and when its triggerer stops or hands it to another triggerer; only the first may
cancel the jobs. Airflow 3.3 calls :meth:`BaseTrigger.on_kill` for the first only. Before 3.3 (3.0 to 3.2),
the trigger reads its task instance's state through the triggerer's supervisor
(``RuntimeTaskInstance.get_task_states``, as the Google provider's ``safe_to_cancel`` does) and cancels only
when the task is no longer DEFERRED; when the state cannot be read it does not cancel.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import TYPE_CHECKING, Any

from airflow.triggers.base import BaseTrigger, TriggerEvent

from airflow_provider_twads.connection import DEFAULT_CONN_ID

if TYPE_CHECKING:
    from airflow_provider_twads.api.aclient import AsyncAdsApiClient

__all__ = ["AnalyticsJobsTrigger", "airflow_calls_trigger_on_kill", "killed"]

#: The state lookup failed or found no task instance: never a reason to cancel.
UNKNOWN = object()


def airflow_calls_trigger_on_kill() -> bool:
    """Whether this Airflow calls ``BaseTrigger.on_kill`` when a user kills a deferred task (3.3 on)."""
    return "on_kill" in vars(BaseTrigger)


def killed(state: Any) -> bool:
    """Whether a deferred task whose trigger was cancelled was killed (the jobs may be cancelled) rather than
    moved (a triggerer restart or redistribution: the task is still DEFERRED).

    :param state: the task instance's state read after the cancellation, or :data:`UNKNOWN`.
    """
    return state is not UNKNOWN and str(getattr(state, "value", state)).lower() != "deferred"


class AnalyticsJobsTrigger(BaseTrigger):
    """Wait for analytics jobs to finish; cancel the unfinished ones when the deferred task is killed.

    Events: ``{"status": "success", "jobs": [...]}`` (every job SUCCESS, as listed), ``{"status":
    "failed", "jobs", "message"}`` (some job FAILED or disappeared), ``{"status": "error", "message"}``;
    with ``until_slot``, ``{"status": "slot"}`` as soon as the account can take another job.

    :param job_ids: the jobs.
    :param twitter_ads_conn_id: the connection.
    :param account_id: the ad account (``None``: the connection's default).
    :param poll_interval: seconds between polls.
    :param until_slot: wait only until the account's concurrent-job limit has room (one of ``job_ids``
        finished, or ``X-Concurrent-Job-Limit-Remaining`` above 0), for a report that has more jobs to create.
    """

    def __init__(
        self,
        job_ids: list[str],
        twitter_ads_conn_id: str = DEFAULT_CONN_ID,
        account_id: str | None = None,
        poll_interval: float = 30.0,
        until_slot: bool = False,
    ) -> None:
        super().__init__()  # type: ignore[no-untyped-call]  # Airflow's BaseTrigger.__init__ is unannotated
        self.job_ids = job_ids
        self.twitter_ads_conn_id = twitter_ads_conn_id
        self.account_id = account_id
        self.poll_interval = poll_interval
        self.until_slot = until_slot
        # What a kill cancels: the jobs not seen finished yet; none once an event has gone out.
        self._unfinished = [str(i) for i in job_ids]

    def serialize(self) -> tuple[str, dict[str, Any]]:
        """Class path and JSON-only kwargs."""
        return (
            f"{type(self).__module__}.{type(self).__qualname__}",
            {
                "job_ids": self.job_ids,
                "twitter_ads_conn_id": self.twitter_ads_conn_id,
                "account_id": self.account_id,
                "poll_interval": self.poll_interval,
                "until_slot": self.until_slot,
            },
        )

    async def run(self) -> AsyncIterator[TriggerEvent]:
        """Poll until every job is done; yields exactly one event."""
        from airflow_provider_twads.triggers._shared import registry

        shared = registry()
        try:
            entry = await shared.acquire(self.twitter_ads_conn_id, self.poll_interval)
        except Exception as err:
            yield TriggerEvent({"status": "error", "message": f"Could not start polling the jobs: {err}"})
            return
        try:
            event = await self._poll(entry.client)
        except asyncio.CancelledError:
            if not airflow_calls_trigger_on_kill():
                try:
                    if killed(await self._task_state()):
                        await self._cancel(entry.client)
                except Exception as err:  # the cancellation itself must still go through
                    self.log.warning("Could not cancel the analytics jobs of the killed task: %s", err)
            raise
        finally:
            await shared.release(entry)
        self._unfinished = []  # the task resumes: its jobs are the worker's again
        yield event

    async def _poll(self, client: AsyncAdsApiClient) -> TriggerEvent:
        from airflow_provider_twads.api.analytics_jobs import TERMINAL, alist_stats_jobs, job_states
        from airflow_provider_twads.api.errors import AdsApiError

        while True:
            try:
                # With no job of its own to watch, one short listing of the account reads the budget.
                ids = self.job_ids if self.job_ids or not self.until_slot else None
                jobs = await alist_stats_jobs(client, ids, self.account_id, count=1)
            except AdsApiError as err:  # retries and 429 waits are the client's
                return TriggerEvent({"status": "error", "message": str(err)})
            if ids is None:
                jobs = []
            listed = {str(j.get("id_str") or j.get("id")): j.get("status") for j in jobs}
            self._unfinished = [i for i in self._unfinished if listed.get(i) not in TERMINAL and i in listed]
            if self.until_slot:
                slots = client.core.job_slots.get(client.core.resolve_account(self.account_id))
                if any(status in TERMINAL for status in listed.values()) or (slots and slots.remaining > 0):
                    return TriggerEvent({"status": "slot"})
                self.log.info(
                    "The account's concurrent-job limit is full; next check in %.0f s", self.poll_interval
                )
                await asyncio.sleep(self.poll_interval)
                continue
            done, problem = job_states(self.job_ids, jobs)
            if problem:
                return TriggerEvent({"status": "failed", "jobs": jobs, "message": problem})
            if done == len(self.job_ids):
                return TriggerEvent({"status": "success", "jobs": jobs})
            self.log.info("Analytics jobs: %d of %d finished", done, len(self.job_ids))
            await asyncio.sleep(self.poll_interval)

    async def on_kill(self) -> None:
        """Airflow 3.3+: the user killed the deferred task (never called on a triggerer restart)."""
        from airflow_provider_twads.triggers._shared import registry

        if not self._unfinished:
            return
        shared = registry()
        entry = await shared.acquire(self.twitter_ads_conn_id, self.poll_interval)
        try:
            await self._cancel(entry.client)
        finally:
            await shared.release(entry)

    async def _cancel(self, client: AsyncAdsApiClient) -> None:
        from airflow_provider_twads.api.analytics_jobs import acancel_stats_jobs

        if not self._unfinished:
            return
        cancelled = await acancel_stats_jobs(client, self._unfinished, self.account_id)
        self.log.info("The task was killed: cancelled analytics jobs %s", ", ".join(cancelled) or "(none)")
        self._unfinished = []

    async def _task_state(self) -> Any:
        """The task instance's state as the API server has it now (Airflow 3.0 to 3.2), or :data:`UNKNOWN`."""
        ti = self.task_instance
        if ti is None:
            return UNKNOWN
        try:
            from airflow.sdk.execution_time.task_runner import RuntimeTaskInstance
            from asgiref.sync import sync_to_async

            # The supervisor channel is synchronous over the loop's streams: called from a thread.
            states = await sync_to_async(RuntimeTaskInstance.get_task_states)(
                dag_id=ti.dag_id, task_ids=[ti.task_id], run_ids=[ti.run_id], map_index=ti.map_index
            )
        except Exception as err:  # the API or the channel is missing (or going away): do not cancel
            self.log.warning("Could not read the task's state (%s): its analytics jobs are left running", err)
            return UNKNOWN
        key = ti.task_id if ti.map_index is None or ti.map_index < 0 else f"{ti.task_id}_{ti.map_index}"
        by_task = states.get(ti.run_id) or {}
        return by_task.get(key, UNKNOWN)
