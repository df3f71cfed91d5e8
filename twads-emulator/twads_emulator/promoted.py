"""Promoted Tweets and the approval rule that decides when they leave PENDING."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any

from twads_emulator import vocabulary as v
from twads_emulator.config import ConfigError, check_object, choice, number
from twads_emulator.entities import PROMOTED_TWEET_KEYS, Context, EntityBase, not_found, shape
from twads_emulator.params import now_iso
from twads_emulator.store import Store

APPROVAL_MODES = ("immediate", "after", "manual")
_AFTER_KEYS = ("after_seconds", "seconds")
_APPROVAL_KEYS = ("mode", "status", *_AFTER_KEYS, "tweets")


def _after_seconds(where: str, spec: dict[str, Any]) -> float:
    """``after_seconds`` (or its alias ``seconds``; not both) as a number of seconds >= 0 (default 0)."""
    given = [k for k in _AFTER_KEYS if k in spec]
    if len(given) > 1:
        raise ConfigError(
            f"{where}: give 'after_seconds' or 'seconds', not both", f"{where}.seconds", _AFTER_KEYS
        )
    if not given:
        return 0.0
    return float(number(f"{where}.{given[0]}", spec[given[0]], minimum=0))


@dataclass
class Approval:
    """When and how promoted Tweets leave PENDING (set through the admin API)."""

    status: str = "ACCEPTED"  # or REJECTED, or PENDING (never decided)
    after_seconds: float = 0.0
    tweets: dict[str, tuple[str, float]] = field(default_factory=dict)

    @classmethod
    def parse(cls, spec: dict[str, Any] | None) -> Approval:
        """``{"status": "ACCEPTED", "after_seconds": 5, "tweets": {"123": "REJECTED"}}``.

        ``mode`` may be ``immediate`` (decided at once), ``after`` (needs ``after_seconds`` > 0) or
        ``manual`` (stays PENDING; no ``status``). A rule for one tweet ID (a status, or an object with
        ``status`` and ``after_seconds``) applies at once unless it says when. ``seconds`` is accepted for
        ``after_seconds``.

        :raises ConfigError: naming the key or value it does not understand, and the allowed ones.
        """
        spec = check_object("approval", {} if spec is None else spec, _APPROVAL_KEYS)
        mode = choice("approval.mode", spec["mode"], APPROVAL_MODES) if "mode" in spec else None
        status = "ACCEPTED"
        if "status" in spec:
            status = choice("approval.status", spec["status"], v.PROMOTED_TWEET_APPROVAL_STATUSES, upper=True)
        after = _after_seconds("approval", spec)
        if mode == "manual":
            if ("status" in spec and status != "PENDING") or after:
                raise ConfigError(
                    "approval: mode 'manual' leaves promoted Tweets PENDING; it takes no 'status' other "
                    "than PENDING and no 'after_seconds'",
                    "approval.mode",
                    APPROVAL_MODES,
                )
            status = "PENDING"
        elif mode == "immediate" and after:
            raise ConfigError(
                "approval: mode 'immediate' decides at once; remove 'after_seconds' or use mode 'after'",
                "approval.after_seconds",
            )
        elif mode == "after" and not after:
            raise ConfigError(
                "approval: mode 'after' needs 'after_seconds' > 0 (seconds after creation)",
                "approval.after_seconds",
            )
        tweets: dict[str, tuple[str, float]] = {}
        rules = spec.get("tweets", {})
        if not isinstance(rules, dict):
            raise ConfigError(
                "approval.tweets must be an object: tweet ID -> status, or -> {status, after_seconds}; "
                f"got {rules!r}",
                "approval.tweets",
            )
        for tweet_id, rule in rules.items():
            where = f"approval.tweets.{tweet_id}"
            if isinstance(rule, str):
                rule = {"status": rule}
            rule = check_object(where, rule, ("status", *_AFTER_KEYS), required=("status",))
            tweet_status = choice(
                f"{where}.status", rule["status"], v.PROMOTED_TWEET_APPROVAL_STATUSES, upper=True
            )
            tweets[str(tweet_id)] = (tweet_status, _after_seconds(where, rule))
        return cls(status, after, tweets)

    def decide(self, tweet_id: str, created_epoch: float, now: float) -> str:
        status, after = self.tweets.get(tweet_id, (self.status, self.after_seconds))
        return status if now >= created_epoch + after else "PENDING"


class PromotedTweets(EntityBase):
    """The promoted Tweet endpoints, and the approval rule (reset to the start-up one by :meth:`reset`)."""

    def __init__(self, store: Store, approval: dict[str, Any] | None = None) -> None:
        super().__init__(store)
        self._start_approval = Approval.parse(approval)
        self.approval = self._start_approval

    def reset(self) -> None:
        self.approval = self._start_approval

    # ---- promoted tweets ----------------------------------------------------------------------------
    def _promoted_view(self, record: dict[str, Any]) -> dict[str, Any]:
        if record["approval_status"] == "PENDING":
            decided = self.approval.decide(record["tweet_id"], record.get("_created_epoch", 0.0), time.time())
            if decided != "PENDING":
                record["approval_status"] = decided
                record["updated_at"] = now_iso()
                self.store.update("promoted_tweets", record)
        return shape(record, PROMOTED_TWEET_KEYS)

    def list_promoted_tweets(self, ctx: Context) -> dict[str, Any]:
        return self._list(
            ctx,
            "promoted_tweets",
            PROMOTED_TWEET_KEYS,
            {"promoted_tweet_ids": "id", "line_item_ids": "parent_id"},
            render=self._promoted_view,
            exclude_deleted_parents=True,
        )

    def get_promoted_tweet(self, ctx: Context) -> dict[str, Any]:
        with_deleted = bool(ctx.params.boolean("with_deleted", default=False))
        ctx.params.finish()
        record = self._entity("promoted_tweets", ctx, ctx.path_id or "", with_deleted=with_deleted)
        parent = self.store.get("line_items", record["line_item_id"])
        if parent is not None and parent["deleted"] and not with_deleted:
            raise not_found("promoted_tweets", record["id"])
        return self._single("promoted_tweets", self._promoted_view(record), ctx.params.echo)

    def create_promoted_tweets(self, ctx: Context) -> dict[str, Any]:
        p = ctx.params
        line_item_id = p.string("line_item_id", required=True, max_len=64)
        tweet_ids = p.long_list("tweet_ids", required=True, max_items=v.MAX_TWEET_IDS_PER_REQUEST)
        p.finish()
        self._parent("line_items", ctx, line_item_id, "line_item_id")
        now, epoch = now_iso(), time.time()
        created = []
        for tweet_id in tweet_ids:
            record = {
                "account_id": ctx.account_id,
                "line_item_id": line_item_id,
                "entity_status": "ACTIVE",
                "created_at": now,
                "updated_at": now,
                "approval_status": "PENDING",
                "tweet_id": str(tweet_id),
                "deleted": False,
                "_created_epoch": epoch,
            }
            created.append(self.store.create("promoted_tweets", lambda new_id, r=record: {**r, "id": new_id}))
        data = [self._promoted_view(r) for r in created]
        return {"data": data, "request": {"params": p.echo}, "total_count": len(data)}

    def delete_promoted_tweet(self, ctx: Context) -> dict[str, Any]:
        ctx.params.finish()
        record = self._delete("promoted_tweets", ctx, ctx.path_id or "")
        return self._single("promoted_tweets", self._promoted_view(record), ctx.params.echo)
