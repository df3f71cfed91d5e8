"""The async trigger behind :class:`~airflow_provider_twads.operators.analytics.AnalyticsReportOperator`:
polls ``GET stats/jobs`` (up to 200 jobs per request) until every job has finished. It writes nothing."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

from airflow.triggers.base import BaseTrigger, TriggerEvent

from airflow_provider_twads.connection import DEFAULT_CONN_ID

__all__ = ["AnalyticsJobsTrigger"]


class AnalyticsJobsTrigger(BaseTrigger):
    """Wait for analytics jobs to finish.

    Events: ``{"status": "success", "jobs": [...]}`` (every job SUCCESS, as listed), ``{"status":
    "failed", "jobs", "message"}`` (some job FAILED or disappeared), ``{"status": "error", "message"}``.

    :param job_ids: the jobs.
    :param twitter_ads_conn_id: the connection.
    :param account_id: the ad account (``None``: the connection's default).
    :param poll_interval: seconds between polls.
    """

    def __init__(
        self,
        job_ids: list[str],
        twitter_ads_conn_id: str = DEFAULT_CONN_ID,
        account_id: str | None = None,
        poll_interval: float = 30.0,
    ) -> None:
        super().__init__()  # type: ignore[no-untyped-call]  # Airflow's BaseTrigger.__init__ is unannotated
        self.job_ids = job_ids
        self.twitter_ads_conn_id = twitter_ads_conn_id
        self.account_id = account_id
        self.poll_interval = poll_interval

    def serialize(self) -> tuple[str, dict[str, Any]]:
        """Class path and JSON-only kwargs."""
        return (
            f"{type(self).__module__}.{type(self).__qualname__}",
            {
                "job_ids": self.job_ids,
                "twitter_ads_conn_id": self.twitter_ads_conn_id,
                "account_id": self.account_id,
                "poll_interval": self.poll_interval,
            },
        )

    async def run(self) -> AsyncIterator[TriggerEvent]:
        """Poll until every job is done; yields exactly one event."""
        from airflow_provider_twads.api.analytics_jobs import alist_stats_jobs, job_states
        from airflow_provider_twads.api.errors import AdsApiError
        from airflow_provider_twads.hooks.ads_api import AdsApiHook

        try:
            hook = AdsApiHook(twitter_ads_conn_id=self.twitter_ads_conn_id, account_id=self.account_id)
            client = await hook.aget_async_client()
        except Exception as err:
            yield TriggerEvent({"status": "error", "message": f"Could not start polling the jobs: {err}"})
            return
        try:
            while True:
                try:
                    jobs = await alist_stats_jobs(client, self.job_ids, self.account_id)
                except AdsApiError as err:  # retries and 429 waits are the client's
                    yield TriggerEvent({"status": "error", "message": str(err)})
                    return
                done, problem = job_states(self.job_ids, jobs)
                if problem:
                    yield TriggerEvent({"status": "failed", "jobs": jobs, "message": problem})
                    return
                if done == len(self.job_ids):
                    yield TriggerEvent({"status": "success", "jobs": jobs})
                    return
                self.log.info("Analytics jobs: %d of %d finished", done, len(self.job_ids))
                await asyncio.sleep(self.poll_interval)
        finally:
            await client.aclose()
