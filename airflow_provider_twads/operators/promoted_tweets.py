"""Promote Tweets on a line item, skipping those already promoted."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from airflow.sdk import BaseOperator

from airflow_provider_twads.common import (
    CONN_TEMPLATE_FIELDS,
    DEFAULT_CONN_ID,
    AdsApiHookMixin,
    as_id_list,
    fail_fast_on_deterministic_errors,
)

if TYPE_CHECKING:
    from airflow.sdk import Context

__all__ = ["PromoteTweetsOperator"]


class PromoteTweetsOperator(AdsApiHookMixin, BaseOperator):
    """Associate Tweets with a line item, safely re-runnable.

    Tweet IDs are validated (numeric) before any call. Tweets already promoted on the line item are skipped;
    the rest are sent in requests of ``chunk_size`` (at most 50).

    Returns (XCom) the promoted_tweet IDs, existing and new, in the order of ``tweet_ids``.

    :param line_item_id: the line item.
    :param tweet_ids: Tweet IDs: a list of numeric strings or ints, or one comma-separated string.
    :param chunk_size: Tweet IDs per request (1 to 50).
    :param twitter_ads_conn_id: the X Ads connection.
    :param account_id: the ad account; default: the connection's ``account_id`` extra.
    """

    template_fields: Sequence[str] = ("line_item_id", "tweet_ids", *CONN_TEMPLATE_FIELDS)
    ui_color = "#e8f5fd"

    def __init__(
        self,
        *,
        line_item_id: str,
        tweet_ids: Sequence[str | int] | str,
        chunk_size: int = 50,
        twitter_ads_conn_id: str = DEFAULT_CONN_ID,
        account_id: str | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.line_item_id = line_item_id
        self.tweet_ids = tweet_ids
        self.chunk_size = chunk_size
        self.twitter_ads_conn_id = twitter_ads_conn_id
        self.account_id = account_id

    @fail_fast_on_deterministic_errors
    def execute(self, context: Context) -> list[str]:
        """Promote the missing Tweets; return all promoted_tweet IDs in input order.

        :param context: the task context.
        """
        from airflow_provider_twads.api.errors import AdsApiValidationError
        from airflow_provider_twads.reconcile import ensure_promoted_tweets, validate_tweet_ids

        line_items = as_id_list(self.line_item_id, parameter="line_item_id")
        if len(line_items) != 1:
            raise AdsApiValidationError("line_item_id", f"expected one line item ID, got {len(line_items)}")
        tweet_ids = validate_tweet_ids(self.tweet_ids)
        ids = ensure_promoted_tweets(
            self.client, line_items[0], tweet_ids, chunk_size=self.chunk_size, progress=self.log.info
        )
        self.log.info("%d Tweet(s) promoted on line item %s", len(ids), line_items[0])
        return ids
