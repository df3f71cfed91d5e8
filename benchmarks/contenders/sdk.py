"""The official ``twitter-ads`` SDK (v11), used the way a careful user would use it.

- The SDK has no host option (only ``sandbox``): the request's domain comes from
  ``twitter_ads.http.Request._DEFAULT_DOMAIN``, so that is what points it at the emulator. It speaks API
  version 11 (``twitter_ads.API_VERSION``), which the emulator serves.
- Every script starts with ``account = client.accounts(ACCOUNT_ID)`` (one GET): that is how the SDK hands
  out the account that every resource call needs.
- ``Batch.batch_save`` sends whatever it is given in one request, so the user chunks (500 criteria, 40 line
  items); ``PromotedTweet.attach`` takes up to 50 Tweet IDs, so the user chunks by 50.
- The careful user turns on what the SDK offers against failures: ``handle_rate_limit`` (sleep until the
  reset plus 5 s after a 429, once per request), ``retry_max``/``retry_on_status``/``retry_on_timeouts``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from benchmarks.contenders import workloads as w
from benchmarks.contenders.workloads import Conn

SDK_OPTIONS: dict[str, Any] = {
    "handle_rate_limit": True,
    "retry_max": 3,
    "retry_delay": 500,  # milliseconds
    "retry_on_status": [500, 502, 503, 504],
    "retry_on_timeouts": True,
    "timeout": 30,
}


def warm_up(conn: Conn) -> None:
    """Import the SDK's modules (the floor's ``requests`` is imported at module load as well)."""
    import twitter_ads.campaign
    import twitter_ads.client
    import twitter_ads.creative  # noqa: F401


def account(conn: Conn) -> Any:
    """The SDK's account object, on a client pointed at ``conn.base_url``."""
    import twitter_ads.http
    from twitter_ads.client import Client

    twitter_ads.http.Request._DEFAULT_DOMAIN = conn.base_url
    client = Client(
        conn.consumer_key,
        conn.consumer_secret,
        conn.access_token,
        conn.access_token_secret,
        options=dict(SDK_OPTIONS),
    )
    return client.accounts(conn.account_id)


def _save_criteria(acct: Any, criteria: list[dict[str, str]]) -> int:
    from twitter_ads.campaign import TargetingCriteria

    saved = 0
    for chunk in w.chunks(criteria, w.TARGETING_BATCH_MAX):
        objs = []
        for spec in chunk:
            tc = TargetingCriteria(acct)
            tc.line_item_id = spec["line_item_id"]
            tc.targeting_type = spec["targeting_type"]
            tc.targeting_value = spec["targeting_value"]
            tc.operator_type = spec["operator_type"]
            objs.append(tc)
        TargetingCriteria.batch_save(acct, objs)
        saved += sum(1 for o in objs if o.id)
    return saved


def _line_item(acct: Any, spec: dict[str, Any]) -> Any:
    from twitter_ads.campaign import LineItem

    li = LineItem(acct)
    for key, value in spec.items():
        setattr(li, key, [value] if key == "placements" else value)
    return li


def _promote(acct: Any, line_item_id: str, tweet_ids: list[str]) -> int:
    from twitter_ads.creative import PromotedTweet

    promoted = 0
    for chunk in w.chunks(tweet_ids, w.TWEET_IDS_PER_POST):
        promoted += sum(1 for _ in PromotedTweet.attach(acct, line_item_id=line_item_id, tweet_ids=chunk))
    return promoted


def targeting(conn: Conn, job: dict[str, Any]) -> dict[str, Any]:
    return {"created": _save_criteria(account(conn), w.targeting_criteria(job))}


def promote(conn: Conn, job: dict[str, Any]) -> dict[str, Any]:
    return {"created": _promote(account(conn), job["line_item_id"], job["tweet_ids"])}


def create_line_items(conn: Conn, job: dict[str, Any]) -> dict[str, Any]:
    from twitter_ads.campaign import LineItem

    acct = account(conn)
    created = 0
    for chunk in w.chunks(w.line_item_specs(job), w.LINE_ITEM_BATCH_MAX):
        objs = [_line_item(acct, spec) for spec in chunk]
        LineItem.batch_save(acct, objs)
        created += sum(1 for o in objs if o.id)
    return {"created": created}


def list_line_items(conn: Conn, job: dict[str, Any]) -> dict[str, Any]:
    # The SDK's Cursor appends every page to one list: memory grows with the listing.
    listed = sum(1 for _ in account(conn).line_items(count=w.PAGE_SIZE_MAX))
    return {"listed": listed}


def launch(conn: Conn, job: dict[str, Any]) -> dict[str, Any]:
    acct = account(conn)
    li = _line_item(acct, w.launch_line_item(job))
    li.save()
    _save_criteria(acct, w.launch_criteria(job, li.id))
    _promote(acct, li.id, job["tweet_ids"])
    return {"line_item_id": li.id}


WORKLOADS: dict[str, Callable[[Conn, dict[str, Any]], dict[str, Any]]] = {
    w.TARGETING: targeting,
    w.PROMOTE: promote,
    w.CREATE_LINE_ITEMS: create_line_items,
    w.LIST_LINE_ITEMS: list_line_items,
    w.LAUNCH_LIMITED: launch,
    w.LAUNCH_FAULTS: launch,
    w.LAUNCH_FREE: launch,
}
