"""This provider through its hook: ``AdsApiHook(...).get_conn()`` and the client's resource methods.

What a user's ``@task`` would write. The connection comes from ``AIRFLOW_CONN_TWITTER_ADS_DEFAULT`` (set by
the harness). Chunk sizes and page sizes are the client's defaults: the point is what a user gets without
tuning. The hook's heavy imports happen at module import, outside the timed section (an Airflow worker has
them loaded already); the connection lookup and the client's construction are timed.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from airflow_provider_twads.api.client import AdsApiClient
from airflow_provider_twads.hooks.ads_api import AdsApiHook
from benchmarks.contenders import workloads as w
from benchmarks.contenders.workloads import Conn


def client(conn: Conn) -> AdsApiClient:
    """The hook's client for the connection the harness exported."""
    return AdsApiHook(twitter_ads_conn_id="twitter_ads_default", account_id=conn.account_id).get_conn()


def warm_up(conn: Conn) -> None:
    """Load what the first connection lookup and the first session import lazily (requests,
    requests-oauthlib: an Airflow worker has them loaded already, and the floor imports them untimed)."""
    c = client(conn)
    c.session  # noqa: B018 - opening the session imports the HTTP stack
    c.close()


def _creates(items: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [{"operation_type": "Create", "params": params} for params in items]


def _stats(c: AdsApiClient, **extra: Any) -> dict[str, Any]:
    return {"client_stats": c.stats.as_dict(), **extra}


def targeting(conn: Conn, job: dict[str, Any]) -> dict[str, Any]:
    c = client(conn)
    created = c.batch_targeting_criteria(_creates(w.targeting_criteria(job)))
    return _stats(c, created=len(created))


def promote(conn: Conn, job: dict[str, Any]) -> dict[str, Any]:
    c = client(conn)
    created = c.create_promoted_tweets(job["line_item_id"], job["tweet_ids"])
    return _stats(c, created=len(created))


def create_line_items(conn: Conn, job: dict[str, Any]) -> dict[str, Any]:
    c = client(conn)
    created = c.batch_line_items(_creates(w.line_item_specs(job)))
    return _stats(c, created=len(created))


def list_line_items(conn: Conn, job: dict[str, Any]) -> dict[str, Any]:
    c = client(conn)
    listed = sum(1 for _ in c.list_line_items())
    return _stats(c, listed=listed)


def launch(conn: Conn, job: dict[str, Any]) -> dict[str, Any]:
    c = client(conn)
    line_item = c.create_line_item(**w.launch_line_item(job))
    c.batch_targeting_criteria(_creates(w.launch_criteria(job, line_item["id"])))
    c.create_promoted_tweets(line_item["id"], job["tweet_ids"])
    return _stats(c, line_item_id=line_item["id"])


WORKLOADS: dict[str, Callable[[Conn, dict[str, Any]], dict[str, Any]]] = {
    w.TARGETING: targeting,
    w.PROMOTE: promote,
    w.CREATE_LINE_ITEMS: create_line_items,
    w.LIST_LINE_ITEMS: list_line_items,
    w.LAUNCH_LIMITED: launch,
    w.LAUNCH_FAULTS: launch,
    w.LAUNCH_FREE: launch,
}
