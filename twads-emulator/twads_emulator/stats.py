"""Synchronous analytics (analytics.mdx): ``GET stats/accounts/:account_id`` and its ``active_entities``.

Metrics are computed, not stored: every (entity, placement, hour) that served has numbers derived from a
hash of the three, so a test can assert exact values (:func:`hourly`), and an hour in which the entity did
not serve has none. When a line item served is derived from its record, as the store keeps no history:

- ``ACTIVE``: from its last activation (a status change recorded by :func:`mark_status`; else its
  creation: created or seeded ``ACTIVE``) until now;
- ``PAUSED``: from its last activation until it was paused, so pausing keeps its history; created or
  seeded paused and never activated: never served;
- drafts and deleted line items never served;

each clipped to the line item's own ``start_time``/``end_time``, in whole hours (the activation's hour
counts in full). A promoted Tweet serves when its line item does (and after its own creation); campaigns,
funding instruments and the account sum their line items. Limitation: only the last activation is
remembered, so a line item paused and re-activated shows no gap.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Iterable
from typing import Any
from zoneinfo import ZoneInfo

from twads_emulator.entities import Context, EntityBase
from twads_emulator.params import ApiError, Params, format_time, invalid, now_iso

HOUR = dt.timedelta(hours=1)
MAX_ENTITY_IDS = 20
MAX_STATS_RANGE = dt.timedelta(days=7)
MAX_ACTIVE_ENTITIES_RANGE = dt.timedelta(days=90)
STATS_ENTITIES = (
    "ACCOUNT",
    "CAMPAIGN",
    "FUNDING_INSTRUMENT",
    "LINE_ITEM",
    "PROMOTED_ACCOUNT",
    "PROMOTED_TWEET",
)
ACTIVE_ENTITY_TYPES = ("CAMPAIGN", "FUNDING_INSTRUMENT", "LINE_ITEM", "PROMOTED_ACCOUNT", "PROMOTED_TWEET")
GRANULARITIES = ("DAY", "HOUR", "TOTAL")
# Today's analytics placements, and PUBLISHER_NETWORK, which active entities still report.
STATS_PLACEMENTS = ("ALL_ON_TWITTER", "PUBLISHER_NETWORK", "SPOTLIGHT", "TREND")
ERROR_INVALID_TIME_WINDOW = "INVALID_TIME_WINDOW"
ERROR_EXCLUSIVE_PARAMETERS = "EXCLUSIVE_PARAMETERS"

# Metric groups and their metrics (analytics.mdx, "Available Metrics by Metrics Group"); metrics not in
# COMPUTED are always null here (conversions need MACT or a conversion tag, which no seeded account has).
METRIC_GROUPS: dict[str, tuple[str, ...]] = {
    "ENGAGEMENT": (
        "impressions", "engagements", "retweets", "replies", "likes", "follows", "card_engagements",
        "clicks", "app_clicks", "url_clicks", "qualified_impressions", "carousel_swipes", "poll_card_vote",
        "tweets_send",
    ),
    "BILLING": ("billed_engagements", "billed_charge_local_micro"),
    "VIDEO": (
        "video_total_views", "video_views_25", "video_views_50", "video_views_75", "video_views_100",
        "video_cta_clicks", "video_content_starts", "video_3s100pct_views", "video_6s_views",
        "video_15s_views",
    ),
    "WEB_CONVERSION": (
        "conversion_purchases", "conversion_sign_ups", "conversion_site_visits", "conversion_downloads",
        "conversion_custom",
    ),
    "MOBILE_CONVERSION": ("mobile_conversion_installs", "mobile_conversion_purchases"),
    "LIFE_TIME_VALUE_MOBILE_CONVERSION": ("mobile_conversion_lifetime_value_purchases",),
}  # fmt: skip


def hourly(entity_id: str, placement: str, hour_start: dt.datetime) -> dict[str, int]:
    """The metrics of one entity in one hour it served: a pure function of its arguments.

    :param entity_id: the line item or promoted Tweet.
    :param placement: the analytics placement.
    :param hour_start: the hour's start (UTC).
    """
    key = f"{entity_id}|{placement}|{format_time(hour_start)}".encode()
    n = int.from_bytes(hashlib.sha256(key).digest()[:8], "big")
    impressions = 100 + n % 901
    engagements = impressions // 25 + (n >> 12) % 7
    clicks = engagements // 2
    video = impressions // 3
    return {
        "impressions": impressions,
        "engagements": engagements,
        "retweets": (n >> 16) % 4,
        "replies": (n >> 20) % 3,
        "likes": (n >> 24) % 9,
        "follows": (n >> 28) % 2,
        "card_engagements": clicks // 2,
        "clicks": clicks,
        "app_clicks": 0,
        "url_clicks": clicks // 2,
        "qualified_impressions": impressions * 3 // 4,
        "billed_engagements": engagements,
        # A CPM of 1 to 3 dollars: 1,000 to 3,000 micros per impression.
        "billed_charge_local_micro": impressions * (1000 + (n >> 32) % 2001),
        "video_total_views": video,
        "video_views_25": video * 3 // 4,
        "video_views_50": video // 2,
        "video_views_75": video // 3,
        "video_views_100": video // 5,
        "video_cta_clicks": video // 40,
        "video_content_starts": video + video // 10,
        "video_3s100pct_views": video * 9 // 10,
        "video_6s_views": video * 2 // 3,
        "video_15s_views": video // 4,
    }


def _parse(value: str | None) -> dt.datetime | None:
    if value is None:
        return None
    parsed = dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=dt.UTC)


def _floor_hour(t: dt.datetime) -> dt.datetime:
    return t.replace(minute=0, second=0, microsecond=0)


class Window:
    """A half-open time interval in UTC."""

    def __init__(self, start: dt.datetime, end: dt.datetime) -> None:
        self.start, self.end = start, end

    def overlaps(self, start: dt.datetime, end: dt.datetime) -> bool:
        return self.start < end and start < self.end


def _placements(line_item: dict[str, Any]) -> tuple[str, ...]:
    """The analytics placements a line item serves on: on X unless it runs only on the network."""
    placements = set(line_item.get("placements") or ["ALL_ON_TWITTER"])
    out = () if placements == {"PUBLISHER_NETWORK"} else ("ALL_ON_TWITTER",)
    return out + (("PUBLISHER_NETWORK",) if "PUBLISHER_NETWORK" in placements else ())


def mark_status(record: dict[str, Any], status: str | None) -> None:
    """Remember when an entity starts or stops serving (called on every status change; hidden fields).

    :param record: the entity, before the change.
    :param status: its new status (``None``: unchanged).
    """
    if status is None or status == record.get("entity_status"):
        return
    if status == "ACTIVE":
        record["_activated_at"] = now_iso()
    elif record.get("entity_status") == "ACTIVE":
        record["_activated_at"] = record.get("_activated_at") or record.get("created_at")
        record["_paused_at"] = now_iso()


def served(line_item: dict[str, Any], now: dt.datetime) -> Window | None:
    """When a line item served (see the module docstring), or None. Whole hours: the hour it was activated
    in and the hour it was paused in count in full, as the current hour does."""
    status = line_item.get("entity_status")
    if line_item.get("deleted") or status not in ("ACTIVE", "PAUSED"):
        return None
    activated = _parse(line_item.get("_activated_at"))
    if status == "ACTIVE":
        start, end = activated or _parse(line_item.get("created_at")) or now, now
    elif activated is None:  # created or seeded paused: never served
        return None
    else:
        start, end = activated, _floor_hour(_parse(line_item.get("_paused_at")) or now) + HOUR
    start = _floor_hour(start)
    own_start, own_end = _parse(line_item.get("start_time")), _parse(line_item.get("end_time"))
    start = max(start, own_start) if own_start else start
    end = min(end, own_end) if own_end else end
    return Window(start, end) if start < end else None


class Analytics(EntityBase):
    """The synchronous analytics endpoints, mixed into :class:`~twads_emulator.resources.Resources`."""

    # ---- parameters ---------------------------------------------------------------------------------
    def _timezone(self, account_id: str) -> ZoneInfo:
        account = self.store.get("accounts", account_id) or {}
        try:
            return ZoneInfo(str(account.get("timezone") or "UTC"))
        except (ValueError, KeyError):
            return ZoneInfo("UTC")

    def _time(self, p: Params, name: str, tz: ZoneInfo) -> dt.datetime:
        """A required time in whole hours; a bare date is midnight in the account's time zone."""
        raw = p.string(name, required=True, max_len=40)
        try:
            if len(raw) == 10:
                parsed = dt.datetime.combine(dt.date.fromisoformat(raw), dt.time(), tz)
            else:
                parsed = dt.datetime.fromisoformat(raw.replace("z", "Z").replace("Z", "+00:00"))
                parsed = parsed if parsed.tzinfo else parsed.replace(tzinfo=dt.UTC)
        except ValueError:
            raise invalid(name, f"Expected an ISO 8601 time for {name}, got {raw!r}") from None
        parsed = parsed.astimezone(dt.UTC)
        if parsed != _floor_hour(parsed):
            raise _window_error(name, f"{name} must be expressed in whole hours (0 minutes and 0 seconds)")
        p.echo[name] = format_time(parsed)
        return parsed

    def _window(self, p: Params, tz: ZoneInfo, longest: dt.timedelta) -> Window:
        start, end = self._time(p, "start_time", tz), self._time(p, "end_time", tz)
        if end <= start:
            raise _window_error("end_time", "end_time must be after start_time")
        if end - start > longest:
            raise _window_error("end_time", f"The time range may be at most {longest.days} days")
        return Window(start, end)

    # ---- who served when ----------------------------------------------------------------------------
    def _line_items(self, account_id: str, **where: Any) -> list[dict[str, Any]]:
        return self.store.find("line_items", account_id=account_id, **where)

    def _sources(
        self, ctx: Context, entity: str, entity_id: str
    ) -> list[tuple[str, Window, tuple[str, ...]]]:
        """(hash ID, served window, placements) of what makes up one entity's metrics."""
        acct = ctx.account_id or ""
        now = dt.datetime.now(dt.UTC)
        if entity == "PROMOTED_TWEET":
            pt = self.store.get("promoted_tweets", entity_id)
            li = self.store.get("line_items", pt["line_item_id"]) if pt and not pt.get("deleted") else None
            window = served(li, now) if li and li.get("account_id") == acct else None
            if pt is None or li is None or window is None:
                return []
            created = _parse(pt.get("created_at")) or now
            return [(entity_id, Window(max(window.start, created), window.end), _placements(li))]
        if entity == "LINE_ITEM":
            record = self.store.get("line_items", entity_id)
            items = [record] if record and record.get("account_id") == acct else []
        elif entity == "CAMPAIGN":
            items = self._line_items(acct, parent_id=entity_id)
        elif entity == "FUNDING_INSTRUMENT":
            items = self._line_items(acct, funding_instrument_id=entity_id)
        elif entity == "ACCOUNT" and entity_id == acct:
            items = self._line_items(acct)
        else:  # promoted accounts are not emulated: they never serve
            items = []
        out = []
        for li in items:
            window = served(li, now)
            if window is not None:
                out.append((str(li["id"]), window, _placements(li)))
        return out

    # ---- GET stats/accounts/:account_id -------------------------------------------------------------
    def get_stats(self, ctx: Context) -> dict[str, Any]:
        p = ctx.params
        tz = self._timezone(ctx.account_id or "")
        entity = p.enum("entity", STATS_ENTITIES, required=True)
        ids = p.id_list("entity_ids", required=True, max_items=MAX_ENTITY_IDS)
        window = self._window(p, tz, MAX_STATS_RANGE)
        granularity = p.enum("granularity", GRANULARITIES, required=True)
        groups = p.enum_list("metric_groups", METRIC_GROUPS, required=True)
        if "," in str(p.raw.get("placement", "")):
            raise invalid("placement", "Only a single placement value is accepted per request")
        placement = p.enum("placement", STATS_PLACEMENTS, required=True)
        for name in ("segmentation_type", "country", "platform"):
            if p.raw.get(name):  # segmentation is only available through the asynchronous jobs
                raise invalid(name, f"{name} is only supported by the asynchronous analytics endpoints")
            p.string(name)
        p.finish()
        buckets = self._buckets(window, granularity, tz)
        metrics = [m for g in groups for m in METRIC_GROUPS[g]]
        data = [
            {
                "id": eid,
                "id_data": [
                    {"segment": None, "metrics": self._metrics(ctx, entity, eid, placement, buckets, metrics)}
                ],
            }
            for eid in ids
        ]
        echo = {**p.echo, "segmentation_type": None, "country": None, "platform": None}
        return {
            "data_type": "stats",
            "time_series_length": len(buckets),
            "data": data,
            "request": {"params": echo},
        }

    @staticmethod
    def _buckets(window: Window, granularity: str, tz: ZoneInfo) -> list[Window]:
        if granularity == "TOTAL":
            return [window]
        if granularity == "HOUR":
            count = int((window.end - window.start) / HOUR)
            return [Window(window.start + i * HOUR, window.start + (i + 1) * HOUR) for i in range(count)]
        local = window.start.astimezone(tz)
        if local.time() != dt.time() or window.end.astimezone(tz).time() != dt.time():
            raise _window_error(
                "start_time",
                "With DAY granularity, start_time and end_time must be midnight in the account's time zone "
                f"({tz.key})",
            )
        days: list[Window] = []
        day = local.date()
        while True:
            start = dt.datetime.combine(day, dt.time(), tz).astimezone(dt.UTC)
            if start >= window.end:
                return days
            day += dt.timedelta(days=1)
            days.append(Window(start, dt.datetime.combine(day, dt.time(), tz).astimezone(dt.UTC)))

    def _metrics(
        self,
        ctx: Context,
        entity: str,
        entity_id: str,
        placement: str,
        buckets: list[Window],
        metrics: list[str],
        segment: str | None = None,
    ) -> dict[str, Any]:
        sums = [dict.fromkeys(metrics, 0) for _ in buckets]
        any_served = False
        for source_id, window, placements in self._sources(ctx, entity, entity_id):
            if placement not in placements:
                continue
            hour = _floor_hour(max(window.start, buckets[0].start))
            last = min(window.end, buckets[-1].end)
            index = 0
            while hour < last:
                while buckets[index].end <= hour:
                    index += 1
                # A segment's numbers (asynchronous jobs) hash its name into the source.
                values = hourly(source_id if segment is None else f"{source_id}|{segment}", placement, hour)
                any_served = True
                for name in metrics:
                    if name in values:
                        sums[index][name] += values[name]
                hour += HOUR
        computed = hourly("", placement, buckets[0].start).keys()
        return {
            name: [s[name] for s in sums] if any_served and name in computed else None for name in metrics
        }

    # ---- GET stats/accounts/:account_id/active_entities ---------------------------------------------
    def get_active_entities(self, ctx: Context) -> dict[str, Any]:
        p = ctx.params
        tz = self._timezone(ctx.account_id or "")
        entity = p.enum("entity", ACTIVE_ENTITY_TYPES, required=True)
        window = self._window(p, tz, MAX_ACTIVE_ENTITIES_RANGE)
        filters = {
            name: p.id_list(name) for name in ("campaign_ids", "funding_instrument_ids", "line_item_ids")
        }
        given = [name for name, ids in filters.items() if ids]
        if len(given) > 1:
            raise ApiError(
                400,
                ERROR_EXCLUSIVE_PARAMETERS,
                f"{given[0]} and {given[1]} are exclusive: give at most one",
                given[1],
            )
        p.finish()
        acct = ctx.account_id or ""
        now = dt.datetime.now(dt.UTC)
        pts = self.store.find("promoted_tweets", account_id=acct) if entity == "PROMOTED_TWEET" else []
        data: list[dict[str, Any]] = []
        for li in sorted(self._line_items(acct), key=lambda r: str(r["id"])):
            if not _kept(li, filters):
                continue
            served_window = served(li, now)
            if served_window is None or not served_window.overlaps(window.start, window.end):
                continue
            start, end = max(served_window.start, window.start), min(served_window.end, window.end)
            ids = _entity_ids(entity, li, pts)
            for eid in ids:
                data.append(
                    {
                        "entity_id": eid,
                        "activity_start_time": format_time(start),
                        "activity_end_time": format_time(end),
                        "placements": list(_placements(li)),
                    }
                )
        merged: dict[str, dict[str, Any]] = {}
        for row in data:  # a campaign or funding instrument: one row spanning its line items
            seen = merged.setdefault(row["entity_id"], row)
            seen["activity_start_time"] = min(seen["activity_start_time"], row["activity_start_time"])
            seen["activity_end_time"] = max(seen["activity_end_time"], row["activity_end_time"])
            seen["placements"] = sorted(set(seen["placements"]) | set(row["placements"]))
        return {"request": {"params": p.echo}, "data": list(merged.values())}


def _kept(li: dict[str, Any], filters: dict[str, list[str] | None]) -> bool:
    fields = {"campaign_ids": "campaign_id", "funding_instrument_ids": "funding_instrument_id",
              "line_item_ids": "id"}  # fmt: skip
    return all(ids is None or str(li.get(fields[name])) in ids for name, ids in filters.items())


def _entity_ids(entity: str, li: dict[str, Any], promoted: Iterable[dict[str, Any]]) -> list[str]:
    if entity == "LINE_ITEM":
        return [str(li["id"])]
    if entity == "CAMPAIGN":
        return [str(li["campaign_id"])]
    if entity == "FUNDING_INSTRUMENT":
        return [str(li["funding_instrument_id"])]
    if entity == "PROMOTED_TWEET":
        return [str(pt["id"]) for pt in promoted if pt["line_item_id"] == li["id"] and not pt.get("deleted")]
    return []


def _window_error(parameter: str, message: str) -> ApiError:
    return ApiError(400, ERROR_INVALID_TIME_WINDOW, message, parameter)


__all__ = ["Analytics", "hourly", "served"]
