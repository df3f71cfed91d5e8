"""Reconciliation on bad input and on entities of the wrong shape: typed errors, never TypeError/KeyError.

Chunk sizes are checked on the emulator (zero requests must reach it). Entities missing their ``id`` or
``tweet_id`` are what the emulator never returns, so a client that returns them stands in for it there.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from airflow_provider_twads import reconcile
from airflow_provider_twads.api.errors import AdsApiValidationError, MalformedResponseError
from twads_emulator import SEED

LINE_ITEM = SEED["line_item_id"]
LINE_ITEM_SPEC = {
    "campaign_id": SEED["empty_campaign_id"],
    "objective": "ENGAGEMENTS",
    "product_type": "PROMOTED_TWEETS",
    "placements": ["ALL_ON_TWITTER"],
    "bid_strategy": "AUTO",
    "start_time": "2031-01-01T00:00:00Z",
    "name": "chunky",
}
CALLS = {
    "targeting": lambda c, size: reconcile.apply_targeting(
        c, [LINE_ITEM], [{"targeting_type": "LANGUAGE", "targeting_value": "en"}], chunk_size=size
    ),
    "promote": lambda c, size: reconcile.ensure_promoted_tweets(c, LINE_ITEM, ["1"], chunk_size=size),
    "line_items": lambda c, size: reconcile.ensure_line_items(
        c, [LINE_ITEM_SPEC], use_batch=True, chunk_size=size
    ),
}


@pytest.mark.parametrize("size", ["10", 2.5, 10.0, None, True, 0, -1, 10_000, [10]])
@pytest.mark.parametrize("call", sorted(CALLS))
def test_chunk_size_of_the_wrong_type_or_range_is_a_validation_error(
    client: Any, emu: Any, call: str, size: Any
) -> None:
    with pytest.raises(AdsApiValidationError) as info:
        CALLS[call](client, size)
    assert info.value.parameter == "chunk_size" and repr(size) in str(info.value)
    assert client.stats.calls == 0
    assert not [r for r in emu.admin.requests() if "/_emulator" not in r["path"]]


class _Listing:
    def __init__(self, items: list[Any]) -> None:
        self.items = items

    def __iter__(self) -> Iterator[Any]:
        return iter(self.items)


class _OddClient:
    """Answers like a client whose API returned entities without the fields reconciliation keys on."""

    api_version = "12"
    account_id = "acc1"

    def __init__(self, listed: list[Any], created: Any) -> None:
        self.listed, self.created = listed, created

    def list_line_items(self, **_: Any) -> _Listing:
        return _Listing(self.listed)

    def list_promoted_tweets(self, **_: Any) -> _Listing:
        return _Listing(self.listed)

    def list_targeting_criteria(self, *_: Any, **__: Any) -> _Listing:
        return _Listing(self.listed)

    def create_line_item(self, **_: Any) -> Any:
        return self.created

    def create_promoted_tweets(self, *_: Any, **__: Any) -> Any:
        return self.created

    def batch(self, resource: str, operations: Any, chunk_size: int = 1, on_chunk: Any = None) -> Any:
        if on_chunk is not None:
            on_chunk(1, 1, list(self.created))
        return self.created


ODD_CASES = {
    "listed line item without id": (
        lambda c: reconcile.ensure_line_items(c, [LINE_ITEM_SPEC]),
        [{**LINE_ITEM_SPEC, "campaign_id": SEED["empty_campaign_id"]}],
        {},
    ),
    "created line item without id": (
        lambda c: reconcile.ensure_line_items(c, [LINE_ITEM_SPEC]),
        [],
        {"n": 1},
    ),
    "batch-created line item without id": (
        lambda c: reconcile.ensure_line_items(c, [LINE_ITEM_SPEC], use_batch=True),
        [],
        [{"name": "chunky"}],
    ),
    "listed promoted Tweet without tweet_id": (
        lambda c: reconcile.ensure_promoted_tweets(c, "li1", ["1"]),
        [{"id": "p1", "line_item_id": "li1"}],
        [],
    ),
    "created promoted Tweet without tweet_id": (
        lambda c: reconcile.ensure_promoted_tweets(c, "li1", ["1"]),
        [],
        [{"id": "p1"}],
    ),
    "created promoted Tweet that is not an object": (
        lambda c: reconcile.ensure_promoted_tweets(c, "li1", ["1"]),
        [],
        ["p1"],
    ),
    "listed criterion without id": (
        lambda c: reconcile.apply_targeting(
            c, ["li1"], [{"targeting_type": "LANGUAGE", "targeting_value": "en"}]
        ),
        [{"line_item_id": "li1", "targeting_type": "LANGUAGE", "targeting_value": "fr"}],
        [],
    ),
    "created criterion without id": (
        lambda c: reconcile.apply_targeting(
            c, ["li1"], [{"targeting_type": "LANGUAGE", "targeting_value": "en"}]
        ),
        [],
        [{"targeting_type": "LANGUAGE"}],
    ),
}


@pytest.mark.parametrize("case", sorted(ODD_CASES))
def test_entities_missing_their_keys_are_malformed_responses(case: str) -> None:
    call, listed, created = ODD_CASES[case]
    client = _OddClient(listed, created)
    with pytest.raises((MalformedResponseError, reconcile.PartialApplyError)) as info:
        call(client)
    err = info.value
    if isinstance(err, reconcile.PartialApplyError):  # an applied batch: the error says what was applied
        assert isinstance(err.__cause__, MalformedResponseError) and "Applied" in str(err)
    assert "id" in str(err)
