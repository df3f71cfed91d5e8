"""PromoteTweetsOperator on the emulator: chunks of 50, skipping promoted Tweets, ambiguity, validation."""

from __future__ import annotations

import collections
from typing import Any

import pytest

from airflow_provider_twads.api.errors import AdsApiValidationError
from airflow_provider_twads.operators.promoted_tweets import PromoteTweetsOperator
from twads_emulator import SEED

LINE_ITEM = SEED["line_item_id"]
TWEETS = [str(1_577_749_323_371_274_000 + i) for i in range(120)]


def promoted(emu: Any) -> collections.Counter:
    return collections.Counter(
        pt["tweet_id"]
        for pt in emu.admin.state()["promoted_tweets"]
        if pt["line_item_id"] == LINE_ITEM and not pt["deleted"]
    )


def posts(emu: Any) -> list[dict[str, Any]]:
    return [
        r for r in emu.admin.requests() if r["method"] == "POST" and r["path"].endswith("/promoted_tweets")
    ]


def test_chunks_of_50_in_input_order_and_a_rerun_writes_nothing(emu, execute):
    op = PromoteTweetsOperator(task_id="p", line_item_id=LINE_ITEM, tweet_ids=TWEETS)
    ids = execute(op)
    assert len(posts(emu)) == 3  # 50 + 50 + 20
    counts = promoted(emu)
    assert set(TWEETS) <= set(counts) and max(counts[t] for t in TWEETS) == 1
    by_id = {pt["id"]: pt["tweet_id"] for pt in emu.admin.state()["promoted_tweets"]}
    assert [by_id[i] for i in ids] == TWEETS

    assert execute(op) == ids
    assert len(posts(emu)) == 3


def test_only_missing_tweets_are_sent(emu, execute):
    first = execute(PromoteTweetsOperator(task_id="p", line_item_id=LINE_ITEM, tweet_ids=TWEETS[:5]))
    more = [int(t) for t in TWEETS[3:10]]  # ints are fine; 3 of them are promoted already
    ids = execute(PromoteTweetsOperator(task_id="p", line_item_id=LINE_ITEM, tweet_ids=more))
    assert ids[:2] == first[3:5]
    assert len(posts(emu)) == 2
    assert max(promoted(emu)[t] for t in TWEETS[:10]) == 1


def test_commit_then_drop_is_looked_up_not_resent(emu, execute):
    emu.admin.set_faults(
        {"script": ["none", "commit_then_drop"], "match": {"method": "POST", "path": "promoted_tweets"}}
    )
    ids = execute(PromoteTweetsOperator(task_id="p", line_item_id=LINE_ITEM, tweet_ids=TWEETS))
    assert len(ids) == 120
    assert max(promoted(emu)[t] for t in TWEETS) == 1
    assert [r["fault"] for r in posts(emu)] == [None, "commit_then_drop", None]


@pytest.mark.parametrize(
    ("tweet_ids", "parameter"),
    [(["123", "12x"], "tweet_ids[1]"), ([], "tweet_ids"), ([1.0], "tweet_ids[0]"), ("1,,2", "tweet_ids[1]")],
)
def test_bad_tweet_ids_make_no_http_call(emu, execute, tweet_ids, parameter):
    with pytest.raises(AdsApiValidationError) as err:
        execute(PromoteTweetsOperator(task_id="p", line_item_id=LINE_ITEM, tweet_ids=tweet_ids))
    assert err.value.parameter == parameter
    assert emu.admin.requests() == []
