"""The floor: a plain ``requests`` + ``OAuth1Session`` loop making the fewest calls the API allows.

No validation, no reconciliation, no abstraction: one keep-alive session, the largest batch and page the
API serves, the next request sent as soon as the previous answered. Under rate limits it paces on the
``*-rate-limit-remaining``/``reset`` headers (per category, like the API counts them); under faults it does
what a plain loop does: re-send the same request after a failure (which is how duplicates are made).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any
from urllib.parse import urlsplit

import requests
from requests_oauthlib import OAuth1Session

from benchmarks.contenders import workloads as w
from benchmarks.contenders.workloads import Conn

MAX_ATTEMPTS = 6
RETRY_SLEEP = 0.05  # seconds between naive re-sends when the server gives no retry-after


def category(method: str, url: str) -> str:
    """The rate-limit bucket a request counts against (fundamentals/rate-limiting.mdx)."""
    if method != "GET":
        return "writes"
    parts = urlsplit(url)
    if "with_total_count=true" in parts.query:
        return "total_count"
    if "targeting_criteria" in parts.path:
        return "targeting_criteria"
    # Core entity reads are counted per endpoint (and per account).
    return "core_reads:" + parts.path.rstrip("/").rsplit("/", 1)[-1]


class Floor:
    """The least a client can do: sign, send, pace on the headers, re-send on failure."""

    def __init__(self, conn: Conn) -> None:
        self.session = OAuth1Session(
            conn.consumer_key,
            client_secret=conn.consumer_secret,
            resource_owner_key=conn.access_token,
            resource_owner_secret=conn.access_token_secret,
        )
        self.api = f"{conn.base_url}/{conn.api_version}/accounts/{conn.account_id}"
        self.batch_api = f"{conn.base_url}/{conn.api_version}/batch/accounts/{conn.account_id}"
        self.blocked_until: dict[str, float] = {}
        self.retries = 0
        self.rate_limited = 0

    def call(self, method: str, url: str, **kwargs: Any) -> dict[str, Any]:
        cat = category(method, url)
        for _attempt in range(MAX_ATTEMPTS):
            wait = self.blocked_until.pop(cat, 0.0) - time.time()
            if wait > 0:
                time.sleep(wait)
            try:
                resp = self.session.request(method, url, timeout=30, **kwargs)
            except requests.RequestException:
                self.retries += 1
                time.sleep(RETRY_SLEEP)
                continue
            remaining = resp.headers.get(
                "x-account-rate-limit-remaining", resp.headers.get("x-rate-limit-remaining")
            )
            reset = resp.headers.get("x-account-rate-limit-reset", resp.headers.get("x-rate-limit-reset"))
            if reset is not None and (remaining == "0" or resp.status_code == 429):
                self.blocked_until[cat] = float(reset)
            if resp.status_code < 400:
                return resp.json()
            if resp.status_code == 429:
                self.rate_limited += 1
                self.blocked_until.setdefault(cat, time.time() + 1.0)
                continue
            if resp.status_code >= 500:
                self.retries += 1
                time.sleep(float(resp.headers.get("retry-after") or RETRY_SLEEP))
                continue
            resp.raise_for_status()
        raise RuntimeError(f"{method} {url}: gave up after {MAX_ATTEMPTS} attempts")

    def batch(self, resource: str, creates: list[dict[str, Any]], size: int) -> list[dict[str, Any]]:
        out: list[dict[str, Any]] = []
        for chunk in w.chunks(creates, size):
            body = [{"operation_type": "Create", "params": params} for params in chunk]
            out.extend(self.call("POST", f"{self.batch_api}/{resource}", json=body)["data"])
        return out

    def promote(self, line_item_id: str, tweet_ids: list[str]) -> list[dict[str, Any]]:
        out: list[dict[str, Any]] = []
        for chunk in w.chunks(tweet_ids, w.TWEET_IDS_PER_POST):
            params = {"line_item_id": line_item_id, "tweet_ids": ",".join(chunk)}
            out.extend(self.call("POST", f"{self.api}/promoted_tweets", params=params)["data"])
        return out

    def summary(self, **extra: Any) -> dict[str, Any]:
        return {"retries": self.retries, "rate_limited": self.rate_limited, **extra}


def targeting(conn: Conn, job: dict[str, Any]) -> dict[str, Any]:
    f = Floor(conn)
    created = f.batch("targeting_criteria", w.targeting_criteria(job), w.TARGETING_BATCH_MAX)
    return f.summary(created=len(created))


def promote(conn: Conn, job: dict[str, Any]) -> dict[str, Any]:
    f = Floor(conn)
    return f.summary(created=len(f.promote(job["line_item_id"], job["tweet_ids"])))


def create_line_items(conn: Conn, job: dict[str, Any]) -> dict[str, Any]:
    f = Floor(conn)
    return f.summary(created=len(f.batch("line_items", w.line_item_specs(job), w.LINE_ITEM_BATCH_MAX)))


def list_line_items(conn: Conn, job: dict[str, Any]) -> dict[str, Any]:
    f = Floor(conn)
    listed = 0
    params: dict[str, Any] = {"count": w.PAGE_SIZE_MAX}
    while True:
        page = f.call("GET", f"{f.api}/line_items", params=params)
        listed += len(page["data"])
        if not page.get("next_cursor"):
            return f.summary(listed=listed)
        params = {"count": w.PAGE_SIZE_MAX, "cursor": page["next_cursor"]}


def launch(conn: Conn, job: dict[str, Any]) -> dict[str, Any]:
    f = Floor(conn)
    line_item = f.call("POST", f"{f.api}/line_items", params=w.launch_line_item(job))["data"]
    f.batch("targeting_criteria", w.launch_criteria(job, line_item["id"]), w.TARGETING_BATCH_MAX)
    f.promote(line_item["id"], job["tweet_ids"])
    return f.summary(line_item_id=line_item["id"])


WORKLOADS: dict[str, Callable[[Conn, dict[str, Any]], dict[str, Any]]] = {
    w.TARGETING: targeting,
    w.PROMOTE: promote,
    w.CREATE_LINE_ITEMS: create_line_items,
    w.LIST_LINE_ITEMS: list_line_items,
    w.LAUNCH_LIMITED: launch,
    w.LAUNCH_FAULTS: launch,
    w.LAUNCH_FREE: launch,
}
