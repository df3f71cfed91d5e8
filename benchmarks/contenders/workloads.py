"""The workloads: what each contender must do, the data it sends, and how the result is checked.

Everything here is deterministic and shared by all contenders, so they send the same entities. Jobs are
plain JSON (they cross a process boundary); the helpers below expand them into the entities to send.
"""

from __future__ import annotations

import math
from collections import Counter
from dataclasses import asdict, dataclass
from typing import Any

# Names of the workloads, in the order of the report.
TARGETING = "targeting"
PROMOTE = "promote"
CREATE_LINE_ITEMS = "create_line_items"
LIST_LINE_ITEMS = "list_line_items"
LAUNCH_LIMITED = "launch_rate_limited"
LAUNCH_FAULTS = "launch_faults"
WORKLOADS: tuple[str, ...] = (
    TARGETING,
    PROMOTE,
    CREATE_LINE_ITEMS,
    LIST_LINE_ITEMS,
    LAUNCH_LIMITED,
    LAUNCH_FAULTS,
)
# The launch without limits or faults: only the floor runs it, to measure the work the launch needs
# besides the waits (the theoretical minimum of the rate-limited launch is that plus the forced waits).
LAUNCH_FREE = "launch_free"
LAUNCHES: tuple[str, ...] = (LAUNCH_LIMITED, LAUNCH_FAULTS, LAUNCH_FREE)

TITLES: dict[str, str] = {
    TARGETING: "create {criteria:,} targeting criteria over {line_items} line items",
    PROMOTE: "promote {tweets:,} Tweets on one line item",
    CREATE_LINE_ITEMS: "create {line_items:,} line items",
    LIST_LINE_ITEMS: "list {line_items:,} line items",
    LAUNCH_LIMITED: "launch (1 line item, {criteria} criteria, {tweets} Tweets), low rate limits",
    LAUNCH_FAULTS: "launch (1 line item, {criteria} criteria, {tweets} Tweets), faults on",
    LAUNCH_FREE: "launch (1 line item, {criteria} criteria, {tweets} Tweets), no limits",
}

# The API's limits the floor and the SDK user chunk by: the largest the emulator accepts (the provider runs
# with its own defaults). Line items: the older page says 20 per batch, today's reference 40; the
# emulator enforces 20 (a 40-operation batch gets 400 "The maximum batch size is 20").
TARGETING_BATCH_MAX = 500
LINE_ITEM_BATCH_MAX = 20
TWEET_IDS_PER_POST = 50
PAGE_SIZE_MAX = 1000
IDS_PER_FILTER = 200

# Line item settings shared by every line item the benchmark creates (valid on API 11 and 12).
LINE_ITEM_SETTINGS: dict[str, Any] = {
    "objective": "ENGAGEMENTS",
    "product_type": "PROMOTED_TWEETS",
    "placements": "ALL_ON_TWITTER",
    "bid_strategy": "AUTO",
    "entity_status": "PAUSED",
    "start_time": "2030-01-01T00:00:00Z",
    "end_time": "2030-02-01T00:00:00Z",
}
FIRST_TWEET_ID = 1_700_000_000_000_000_000


@dataclass(frozen=True)
class Conn:
    """What a contender needs to reach the API: the emulator's URL and the OAuth 1.0a credentials."""

    base_url: str
    account_id: str
    consumer_key: str
    consumer_secret: str
    access_token: str
    access_token_secret: str
    api_version: str = "12"

    def to_json(self) -> dict[str, str]:
        return asdict(self)


def chunks(items: list[Any], size: int) -> list[list[Any]]:
    """Split ``items`` into consecutive lists of at most ``size``."""
    return [items[i : i + size] for i in range(0, len(items), size)]


def tweet_ids(n: int, offset: int = 0) -> list[str]:
    """``n`` distinct, deterministic, numeric Tweet IDs."""
    return [str(FIRST_TWEET_ID + offset + i) for i in range(n)]


def criteria_for(line_item_id: str, n: int) -> list[dict[str, str]]:
    """``n`` distinct keyword criteria for one line item (keywords have no per-line-item cap)."""
    return [
        {
            "line_item_id": line_item_id,
            "targeting_type": "BROAD_KEYWORD",
            "targeting_value": f"keyword{j:05d}",
            "operator_type": "EQ",
        }
        for j in range(n)
    ]


def targeting_criteria(job: dict[str, Any]) -> list[dict[str, str]]:
    """Every criterion of the targeting workload, line item by line item."""
    out: list[dict[str, str]] = []
    for line_item_id in job["line_item_ids"]:
        out.extend(criteria_for(line_item_id, job["per_line_item"]))
    return out


def line_item_specs(job: dict[str, Any]) -> list[dict[str, Any]]:
    """The line items of the create workload, spread evenly over the job's campaigns (100 per campaign)."""
    campaigns = job["campaign_ids"]
    per_campaign = math.ceil(job["count"] / len(campaigns))
    return [
        {
            **LINE_ITEM_SETTINGS,
            "campaign_id": campaigns[i // per_campaign],
            "name": f"{job['name_prefix']}{i:04d}",
        }
        for i in range(job["count"])
    ]


def launch_line_item(job: dict[str, Any]) -> dict[str, Any]:
    """The launch's line item."""
    return {**LINE_ITEM_SETTINGS, "campaign_id": job["campaign_id"], "name": job["name"]}


def launch_criteria(job: dict[str, Any], line_item_id: str) -> list[dict[str, str]]:
    """The launch's criteria, once its line item exists."""
    return criteria_for(line_item_id, job["criteria"])


# --------------------------------------------------------------------------------------------------------
# Checking a run against the emulator's state
# --------------------------------------------------------------------------------------------------------
def _live(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [r for r in rows if not r.get("deleted")]


def _duplicates(keys: list[Any]) -> int:
    return sum(n - 1 for n in Counter(keys).values() if n > 1)


def check(
    workload: str, job: dict[str, Any], state: dict[str, Any], summary: dict[str, Any]
) -> dict[str, Any]:
    """Compare the emulator's state after a run with what the workload asked for.

    :param workload: one of :data:`WORKLOADS`
    :param job: the job the contender was given
    :param state: ``emu.admin.state()`` after the run
    :param summary: what the contender returned
    :return: ``{"ok": bool, "duplicates": int, "detail": str}``
    """
    if workload == TARGETING:
        wanted = {
            (c["line_item_id"], c["targeting_type"], c["targeting_value"]) for c in targeting_criteria(job)
        }
        return _check_criteria(state, set(job["line_item_ids"]), wanted)
    if workload == PROMOTE:
        return _check_tweets(state, job["line_item_id"], set(job["tweet_ids"]))
    if workload == CREATE_LINE_ITEMS:
        names = [
            li["name"]
            for li in _live(state["line_items"])
            if str(li.get("name", "")).startswith(job["name_prefix"])
        ]
        dup = _duplicates(names)
        ok = len(set(names)) == job["count"] and dup == 0
        return {"ok": ok, "duplicates": dup, "detail": f"{len(set(names))}/{job['count']} line items"}
    if workload == LIST_LINE_ITEMS:
        listed = summary.get("listed")
        ok = listed == job["expected"]
        return {"ok": ok, "duplicates": 0, "detail": f"listed {listed}/{job['expected']}"}
    if workload in LAUNCHES:
        return _check_launch(job, state)
    raise ValueError(f"workload={workload!r}: allowed values are {', '.join(WORKLOADS)}")


def _check_criteria(
    state: dict[str, Any], line_item_ids: set[str], wanted: set[tuple[str, str, str]]
) -> dict:
    keys = [
        (c["line_item_id"], c["targeting_type"], c["targeting_value"])
        for c in _live(state["targeting_criteria"])
        if c["line_item_id"] in line_item_ids
    ]
    dup = _duplicates(keys)
    ok = set(keys) == wanted and dup == 0
    return {"ok": ok, "duplicates": dup, "detail": f"{len(set(keys) & wanted)}/{len(wanted)} criteria"}


def _check_tweets(state: dict[str, Any], line_item_id: str, wanted: set[str]) -> dict[str, Any]:
    keys = [str(p["tweet_id"]) for p in _live(state["promoted_tweets"]) if p["line_item_id"] == line_item_id]
    dup = _duplicates(keys)
    ok = set(keys) == wanted and dup == 0
    return {"ok": ok, "duplicates": dup, "detail": f"{len(set(keys) & wanted)}/{len(wanted)} Tweets"}


def _check_launch(job: dict[str, Any], state: dict[str, Any]) -> dict[str, Any]:
    line_items = [
        li
        for li in _live(state["line_items"])
        if li["campaign_id"] == job["campaign_id"] and li.get("name") == job["name"]
    ]
    if not line_items:
        return {"ok": False, "duplicates": 0, "detail": "no line item"}
    # Judge criteria and Tweets on the line item holding the most of them; count every duplicate.
    results = []
    for li in line_items:
        wanted = {
            (li["id"], c["targeting_type"], c["targeting_value"]) for c in launch_criteria(job, li["id"])
        }
        c = _check_criteria(state, {li["id"]}, wanted)
        t = _check_tweets(state, li["id"], set(job["tweet_ids"]))
        results.append((c["ok"] + t["ok"], c, t))
    _score, c, t = max(results, key=lambda r: r[0])
    dup = len(line_items) - 1 + sum(r[1]["duplicates"] + r[2]["duplicates"] for r in results)
    ok = len(line_items) == 1 and c["ok"] and t["ok"]
    return {
        "ok": ok,
        "duplicates": dup,
        "detail": f"{len(line_items)} line item(s), {c['detail']}, {t['detail']}",
    }
