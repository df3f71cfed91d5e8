"""Promoted Tweets, keyed by ``tweet_id`` per line item: promote only the Tweets not yet promoted there."""

from __future__ import annotations

import time
from collections.abc import Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

from airflow_provider_twads.api import vocabulary as vocab
from airflow_provider_twads.api.batch import check_chunk_size
from airflow_provider_twads.api.errors import AdsApiError, AdsApiValidationError, AmbiguousWriteError
from airflow_provider_twads.api.values import tweet_id_problem
from airflow_provider_twads.reconcile._common import (
    Progress,
    chunks,
    entity_field,
    noop,
    split_ids,
    write_missing,
)
from airflow_provider_twads.reconcile._converge import converge, delete_each
from airflow_provider_twads.reconcile.errors import PartialApplyError, ReconcileError, rerun_advice

if TYPE_CHECKING:
    from airflow_provider_twads.api.client import AdsApiClient

__all__ = ["ensure_promoted_tweets", "validate_tweet_ids"]


def validate_tweet_ids(tweet_ids: Any, *, parameter: str = "tweet_ids") -> list[str]:
    """Validate Tweet IDs and return them as strings, de-duplicated, in input order.

    :param tweet_ids: a list of numeric strings or ints, or one comma-separated string.
    :param parameter: the parameter name, for error messages.
    :return: the IDs as strings.
    """
    operation = "promoted_tweets.create"
    if isinstance(tweet_ids, int) and not isinstance(tweet_ids, bool):
        tweet_ids = [tweet_ids]
    if isinstance(tweet_ids, str):
        tweet_ids = [] if not tweet_ids.strip() else split_ids(tweet_ids)
    if not isinstance(tweet_ids, Iterable) or isinstance(tweet_ids, Mapping):
        raise AdsApiValidationError(parameter, "must be a list of Tweet IDs", operation=operation)
    tweet_ids = list(tweet_ids)
    if not tweet_ids or (len(tweet_ids) == 1 and isinstance(tweet_ids[0], str) and not tweet_ids[0].strip()):
        raise AdsApiValidationError(
            parameter, "no Tweet IDs given: at least one Tweet ID is required", operation=operation
        )
    out: list[str] = []
    for pos, tid in enumerate(tweet_ids):
        if isinstance(tid, bool) or not isinstance(tid, int | str):
            raise AdsApiValidationError(
                f"{parameter}[{pos}]",
                f"must be a numeric string or an int, got {type(tid).__name__}",
                operation=operation,
            )
        text = str(tid).strip()
        problem = tweet_id_problem(text)
        if problem:
            raise AdsApiValidationError(
                f"{parameter}[{pos}]", f"{text[:40]!r} {problem}", operation=operation
            )
        out.append(str(int(text)))
    return list(dict.fromkeys(out))


def _promoted_groups(client: AdsApiClient, line_item_id: str) -> dict[str, list[dict[str, Any]]]:
    """The natural-key read: ``{tweet_id: [live promoted Tweets]}`` of the line item."""
    found: dict[str, list[dict[str, Any]]] = {}
    for pt in client.list_promoted_tweets(line_item_ids=[line_item_id], count=vocab.BULK_READ_COUNT):
        if not pt.get("deleted") and str(pt.get("line_item_id")) == line_item_id:
            entity_field(pt, "id", "promoted Tweet")
            found.setdefault(entity_field(pt, "tweet_id", "promoted Tweet"), []).append(pt)
    return found


def _promoted_by_tweet(client: AdsApiClient, line_item_id: str) -> dict[str, str]:
    """``{tweet_id: promoted_tweet id}`` (one of each key's live promoted Tweets)."""
    return {t: str(pts[0]["id"]) for t, pts in _promoted_groups(client, line_item_id).items()}


def ensure_promoted_tweets(
    client: AdsApiClient,
    line_item_id: str,
    tweet_ids: Sequence[str],
    *,
    chunk_size: int = vocab.MAX_TWEET_IDS_PER_REQUEST,
    progress: Progress = noop,
) -> list[str]:
    """Promote Tweets on a line item, skipping those already promoted on it, then converge.

    After writing, the Tweets are read back: when several writers promoted one Tweet at once, every writer
    keeps the same one (:mod:`._converge`), deletes the others and returns it.

    :param client: the API client.
    :param line_item_id: the line item.
    :param tweet_ids: validated Tweet IDs (see :func:`validate_tweet_ids`).
    :param chunk_size: Tweet IDs per request (at most 50).
    :param progress: receives progress lines.
    :return: the promoted_tweet IDs (existing and new), in ``tweet_ids`` order.
    """
    check_chunk_size(chunk_size, vocab.MAX_TWEET_IDS_PER_REQUEST, operation="promoted_tweets.create")
    line_item_id = str(line_item_id)
    started = time.monotonic()
    groups = _promoted_groups(client, line_item_id)
    promoted = {t: str(pts[0]["id"]) for t, pts in groups.items()}
    missing = [t for t in tweet_ids if t not in promoted]
    progress(
        f"{len(tweet_ids) - len(missing)} of {len(tweet_ids)} Tweets already promoted on line item "
        f"{line_item_id}; {len(missing)} to promote"
    )
    parts = chunks(missing, chunk_size)
    done = 0
    for k, chunk in enumerate(parts, 1):
        _promote_chunk(client, line_item_id, chunk, promoted, k, len(parts), done, len(missing), progress)
        done += len(chunk)
        progress(f"Promoted Tweets batch {k} of {len(parts)} done: {done} of {len(missing)} promoted")
    result = converge(
        list(tweet_ids),
        lambda: _promoted_groups(client, line_item_id),
        delete_each(client.delete_promoted_tweet),
        what="promoted Tweet",
        first=None if missing else (groups, started),
        progress=progress,
    )
    if result.missing:
        raise ReconcileError(
            f"Tweets {', '.join(result.missing[:10])} were promoted on line item {line_item_id}, then "
            "removed by someone else while this task ran (another writer on this line item?). "
            "Re-run the task."
        )
    return [str(result.survivors[t]["id"]) for t in tweet_ids]


def _promote_chunk(
    client: AdsApiClient,
    line_item_id: str,
    chunk: Sequence[str],
    promoted: dict[str, str],
    k: int,
    n: int,
    done: int,
    total: int,
    progress: Progress,
) -> None:
    """Promote one chunk (batch ``k`` of ``n``), recording ``{tweet_id: promoted id}`` in ``promoted``."""

    def look(todo: list[str], _: AmbiguousWriteError) -> list[str]:
        progress(f"Promoted Tweets batch {k} of {n} ended ambiguously; looking up what exists")
        promoted.update(_promoted_by_tweet(client, line_item_id))
        return [t for t in todo if t not in promoted]

    def fail(err: AdsApiError, _: list[str]) -> PartialApplyError:
        return PartialApplyError(
            f"Promoted Tweets batch {k} of {n} failed: {err}\n"
            f"Applied before the failure: {done} of {total} Tweets promoted (batches 1-{k - 1}). "
            + rerun_advice(err, "it skips Tweets already promoted and promotes the rest."),
            applied={"promoted": done},
        )

    items = write_missing(
        chunk, lambda todo: client.create_promoted_tweets(line_item_id, todo), look, fail=fail
    )
    for item in items or ():
        promoted[entity_field(item, "tweet_id", "promoted Tweet")] = entity_field(
            item, "id", "promoted Tweet"
        )
