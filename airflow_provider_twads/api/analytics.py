"""Synchronous analytics: ``GET stats/accounts/:account_id`` and its active entities (analytics.mdx).

A stats call is checked whole before anything is sent (whole hours, end after start, one placement, known
entity/granularity/metric groups), then planned as requests within the reference's limits: at most 20
entity IDs each, and at most 7 days each for ``HOUR`` and ``DAY`` series (``DAY`` windows end at midnight
in the account's time zone, read from the account only when a ``DAY`` series spans more than 7 days). A
``TOTAL`` over more than 7 days is refused: ask for ``DAY`` and sum, or use the asynchronous jobs. The
responses are merged back into one response of the reference's shape, series concatenated in time order.

The sync method is ``get_stats``: ``AdsApiClient.stats`` is the client's request statistics.
Planning and merging are pure (:class:`StatsQuery`, :class:`StatsPlan`); the sync client's mixin
(:class:`AnalyticsMethods`) and the async helpers (:func:`astats`, :func:`aactive_entities`) only send.
Every analytics request paces from one rate-limit bucket (:data:`ANALYTICS_BUCKET`): the API counts stats
and active entities together, 250 requests per 15 minutes per user.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Any

from airflow_provider_twads.api.errors import MalformedResponseError
from airflow_provider_twads.api.stats_query import (
    ANALYTICS_BUCKET,
    StatsPlan,
    StatsQuery,
    _fmt,
    analytics_request,
    parse_hour,
    stats_window,
    totals,
)

if TYPE_CHECKING:
    from airflow_provider_twads.api.aclient import AsyncAdsApiClient
    from airflow_provider_twads.api.core import ClientCore, PreparedRequest

__all__ = [
    "ANALYTICS_BUCKET",
    "AnalyticsMethods",
    "StatsPlan",
    "StatsQuery",
    "aactive_entities",
    "astats",
    "parse_hour",
    "totals",
]

log = logging.getLogger("airflow_provider_twads.api")


def _active_entities_request(
    core: ClientCore,
    entity: str,
    start_time: Any,
    end_time: Any,
    filters: Mapping[str, Any],
    account_id: str | None,
) -> PreparedRequest:
    start, end = stats_window(start_time, end_time)
    params = {"entity": entity, "start_time": _fmt(start), "end_time": _fmt(end)}
    params.update({k: v for k, v in filters.items() if v is not None})
    return analytics_request(core, "stats.active_entities", params, account_id)


def _active_data(env: Mapping[str, Any], req: PreparedRequest) -> list[dict[str, Any]]:
    data = env.get("data")
    if not isinstance(data, list):
        raise MalformedResponseError(
            f"active_entities: expected a list as data, got {type(data).__name__}",
            method=req.method,
            path=req.path,
        )
    return [dict(row) for row in data if isinstance(row, Mapping)]


def _timezone_of(account: Any) -> str:
    return str(account.get("timezone") or "UTC") if isinstance(account, Mapping) else "UTC"


class AnalyticsMethods:
    """Mixed into the sync client, which provides ``_core`` and ``send``."""

    _core: ClientCore

    if TYPE_CHECKING:  # provided by AdsApiClient

        def send(self, req: PreparedRequest) -> dict[str, Any]: ...

    def get_stats(
        self,
        entity: str,
        entity_ids: str | Iterable[str],
        start_time: Any,
        end_time: Any,
        *,
        metric_groups: str | Iterable[str],
        granularity: str = "TOTAL",
        placement: str = "ALL_ON_TWITTER",
        account_id: str | None = None,
    ) -> dict[str, Any]:
        """Synchronous analytics, chunked to the reference's limits; one merged response.

        Everything is validated before the first request. The result has the reference's shape
        (``data[i].id_data[0].metrics[name]`` is a series or ``null``); :func:`totals` sums it.

        :param entity: ``LINE_ITEM``, ``CAMPAIGN``, ``PROMOTED_TWEET``, ``FUNDING_INSTRUMENT``, ``ACCOUNT``...
        :param entity_ids: any number of IDs (20 per request).
        :param start_time: a whole hour (ISO 8601, ``datetime``; naive means UTC).
        :param end_time: a whole hour, exclusive.
        :param metric_groups: e.g. ``["ENGAGEMENT", "BILLING"]``.
        :param granularity: ``HOUR``, ``DAY`` (midnights in the account's time zone) or ``TOTAL``.
        :param placement: one of ``ALL_ON_TWITTER``, ``PUBLISHER_NETWORK``, ``SPOTLIGHT``, ``TREND``.
        :param account_id: the account, else the client's default.
        """
        query = StatsQuery.build(
            entity,
            entity_ids,
            start_time,
            end_time,
            metric_groups=metric_groups,
            granularity=granularity,
            placement=placement,
        )
        timezone = None
        if query.needs_timezone:
            account = self.send(self._core.prepare("accounts.get", account_id=account_id)).get("data")
            timezone = _timezone_of(account)
        plan = query.plan(self._core, account_id, timezone)
        return plan.merge([self.send(req) for req in plan.requests])

    def active_entities(
        self,
        entity: str,
        start_time: Any,
        end_time: Any,
        *,
        campaign_ids: str | Iterable[str] | None = None,
        funding_instrument_ids: str | Iterable[str] | None = None,
        line_item_ids: str | Iterable[str] | None = None,
        account_id: str | None = None,
    ) -> list[dict[str, Any]]:
        """Which entities' metrics changed between two whole hours: ``entity_id``, ``activity_start_time``,
        ``activity_end_time`` and ``placements`` each (ask stats only for these).

        :param entity: ``LINE_ITEM``, ``CAMPAIGN``, ``PROMOTED_TWEET``, ``FUNDING_INSTRUMENT``...
        :param start_time: a whole hour.
        :param end_time: a whole hour, exclusive.
        :param campaign_ids: only entities of these campaigns (exclusive with the other filters).
        :param funding_instrument_ids: only entities of these funding instruments.
        :param line_item_ids: only entities of these line items.
        :param account_id: the account, else the client's default.
        """
        filters = {
            "campaign_ids": campaign_ids,
            "funding_instrument_ids": funding_instrument_ids,
            "line_item_ids": line_item_ids,
        }
        req = _active_entities_request(self._core, entity, start_time, end_time, filters, account_id)
        return _active_data(self.send(req), req)


async def astats(
    client: AsyncAdsApiClient,
    entity: str,
    entity_ids: str | Iterable[str],
    start_time: Any,
    end_time: Any,
    *,
    metric_groups: str | Iterable[str],
    granularity: str = "TOTAL",
    placement: str = "ALL_ON_TWITTER",
    account_id: str | None = None,
) -> dict[str, Any]:
    """:meth:`AnalyticsMethods.get_stats` over the async client (the triggers' transport).

    :param client: the async client.
    :param entity: see :meth:`AnalyticsMethods.get_stats`.
    :param entity_ids: see there.
    :param start_time: see there.
    :param end_time: see there.
    :param metric_groups: see there.
    :param granularity: see there.
    :param placement: see there.
    :param account_id: see there.
    """
    query = StatsQuery.build(
        entity,
        entity_ids,
        start_time,
        end_time,
        metric_groups=metric_groups,
        granularity=granularity,
        placement=placement,
    )
    core = client.core
    timezone = None
    if query.needs_timezone:
        account = (await client.send(core.prepare("accounts.get", account_id=account_id))).get("data")
        timezone = _timezone_of(account)
    plan = query.plan(core, account_id, timezone)
    return plan.merge([await client.send(req) for req in plan.requests])


async def aactive_entities(
    client: AsyncAdsApiClient,
    entity: str,
    start_time: Any,
    end_time: Any,
    *,
    account_id: str | None = None,
    **filters: Any,
) -> list[dict[str, Any]]:
    """:meth:`AnalyticsMethods.active_entities` over the async client.

    :param client: the async client.
    :param entity: see :meth:`AnalyticsMethods.active_entities`.
    :param start_time: see there.
    :param end_time: see there.
    :param account_id: see there.
    :param filters: ``campaign_ids``, ``funding_instrument_ids`` or ``line_item_ids``.
    """
    req = _active_entities_request(client.core, entity, start_time, end_time, filters, account_id)
    return _active_data(await client.send(req), req)
