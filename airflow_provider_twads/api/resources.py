"""The operations of :class:`~airflow_provider_twads.api.client.AdsApiClient`, built on its ``send``:
spec calls, lazy listing, chunked batches, and one typed method per operation (accounts, campaigns, line
items, targeting criteria, promoted tweets). Nothing here knows the HTTP library.
"""

from __future__ import annotations

import builtins
import logging
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

from airflow_provider_twads.api import spec
from airflow_provider_twads.api import vocabulary as vocab
from airflow_provider_twads.api.batch import BatchRun, chunk_size_for, chunks
from airflow_provider_twads.api.errors import AdsApiError, AdsApiValidationError, MalformedResponseError
from airflow_provider_twads.api.paging import Cursor
from airflow_provider_twads.api.resources_campaigns import CampaignMethods

if TYPE_CHECKING:
    from airflow_provider_twads.api.core import ClientCore, PreparedRequest

__all__ = ["OnChunk", "ResourceMethods"]

log = logging.getLogger("airflow_provider_twads.api")

#: Called after each applied batch chunk with (chunk number, total chunks, its results).
OnChunk = Callable[[int, int, list[Any]], None]


class ResourceMethods(CampaignMethods):
    """Mixed into the sync client, which provides ``_core`` (the shared core) and ``send`` (the transport).

    Campaigns and funding instruments: :class:`~.resources_campaigns.CampaignMethods`.
    """

    _core: ClientCore

    if TYPE_CHECKING:  # provided by AdsApiClient

        def send(self, req: PreparedRequest) -> dict[str, Any]: ...

    # ------------------------------------------------------------------------------------------------
    # Generic calls
    # ------------------------------------------------------------------------------------------------
    def call(
        self,
        operation: str,
        params: Mapping[str, Any] | None = None,
        *,
        account_id: str | None = None,
        **path_ids: str,
    ) -> Any:
        """Validate and send one operation of the spec; return the response's ``data``.

        :param operation: e.g. ``line_items.update``.
        :param params: the operation's parameters.
        :param account_id: the account, else the client's default.
        :param path_ids: IDs in the path, e.g. ``line_item_id=...``.
        """
        return self.send(self._core.prepare(operation, params, account_id=account_id, **path_ids)).get("data")

    def list(
        self,
        resource: str,
        *,
        account_id: str | None = None,
        count: int | None = None,
        cursor: str | None = None,
        **filters: Any,
    ) -> Cursor:
        """A lazy iterator over the entities of ``resource``, one page (``count``, default 1000) in memory.

        :param resource: ``campaigns``, ``line_items``, ``targeting_criteria`` or ``promoted_tweets``.
        :param account_id: the account, else the client's default.
        :param count: page size, 1..1000 (default 1000 for bulk reads).
        :param cursor: resume a walk from an earlier ``next_cursor``.
        :param filters: the endpoint's filters (``campaign_ids``, ``with_deleted``, ``with_total_count``...).
        """
        state, template = self._core.cursor_state(
            resource, filters, account_id=account_id, count=count, cursor=cursor
        )

        def fetch(params: dict[str, Any]) -> dict[str, Any]:
            envelope = self.send(self._core.page_request(template, params))
            if state.pages and state.pages % 10 == 0:
                log.info("Listing %s: %d pages, %d entities so far", resource, state.pages, state.items)
            return envelope

        return Cursor(state, fetch)

    def batch(
        self,
        resource: str,
        operations: Sequence[Mapping[str, Any]],
        chunk_size: int | None = None,
        on_chunk: OnChunk | None = None,
        *,
        account_id: str | None = None,
    ) -> builtins.list[dict[str, Any]]:
        """Apply any number of batch operations in chunks; return the results in input order.

        Every operation is validated before the first chunk is sent. Each chunk is atomic; when a later
        chunk fails, the :class:`~airflow_provider_twads.api.errors.BatchError` says which chunks were
        applied and carries their results; ``operation_errors`` are mapped to input indices.

        :param resource: ``line_items`` (chunks of 20), ``targeting_criteria`` (500) or ``campaigns``.
        :param operations: ``{"operation_type": "Create"|"Update"|"Delete", "params": {...}}`` items.
        :param chunk_size: override the chunk size (up to the endpoint's maximum).
        :param on_chunk: called after each applied chunk with (chunk number, total chunks, its results).
        :param account_id: the account, else the client's default.
        """
        size = chunk_size_for(resource, chunk_size)
        normalized = spec.validate_batch(
            resource, operations, self._core.api_version, warned=self._core.warned
        )
        acct = self._core.resolve_account(account_id)
        total = (len(normalized) + size - 1) // size
        run = BatchRun(resource, total, len(normalized))
        for chunk in chunks(normalized, size):
            req = self._core.batch_request(resource, chunk.operations, acct)
            try:
                data = self.send(req).get("data")
            except AdsApiError as exc:
                raise run.failure(chunk, exc) from exc
            run.applied(chunk, data)
            log.info(
                "Batch %s: chunk %d of %d applied (%d of %d operations done)",
                resource,
                chunk.number,
                total,
                len(run.results),
                len(normalized),
            )
            if on_chunk is not None:
                on_chunk(chunk.number, total, list(data) if isinstance(data, list) else [data])
        return run.results

    def _entity(
        self,
        operation: str,
        params: Mapping[str, Any] | None = None,
        *,
        account_id: str | None = None,
        **path_ids: str,
    ) -> dict[str, Any]:
        """:meth:`call` for operations whose ``data`` is one entity: anything but an object is malformed
        (``null`` or a list handed on would fail later, far from the response, with an AttributeError)."""
        req = self._core.prepare(operation, params, account_id=account_id, **path_ids)
        data = self.send(req).get("data")
        if not isinstance(data, dict):
            raise MalformedResponseError(
                f"{operation}: expected one entity (an object) as data, got {type(data).__name__} "
                f"{data!r:.60}",
                method=req.method,
                path=req.path,
            )
        return data

    # ------------------------------------------------------------------------------------------------
    # Accounts
    # ------------------------------------------------------------------------------------------------
    def get_account(self, account_id: str | None = None) -> dict[str, Any]:
        """The ad account.

        :param account_id: the account, else the client's default.
        """
        return self._entity("accounts.get", account_id=account_id)

    def get_account_features(
        self, account_id: str | None = None, feature_keys: Iterable[str] | None = None
    ) -> builtins.list[str]:
        """The account's (beta / limited-release) features.

        :param account_id: the account, else the client's default.
        :param feature_keys: only these keys.
        """
        params = {"feature_keys": list(feature_keys)} if feature_keys else None
        data = self.call("accounts.features", params, account_id=account_id)
        return [str(f) for f in data or []]

    # ------------------------------------------------------------------------------------------------
    # Line items
    # ------------------------------------------------------------------------------------------------
    def list_line_items(self, **filters: Any) -> Cursor:
        """Line items.

        :param filters: filters and paging options of :meth:`list` (``campaign_ids``, ``with_draft``...).
        """
        return self.list("line_items", **filters)

    def get_line_item(
        self, line_item_id: str, with_deleted: bool = False, *, account_id: str | None = None
    ) -> dict[str, Any]:
        """One line item.

        :param line_item_id: the line item.
        :param with_deleted: also find it when deleted.
        :param account_id: the account, else the client's default.
        """
        return self._entity(
            "line_items.get",
            {"with_deleted": with_deleted or None},
            account_id=account_id,
            line_item_id=line_item_id,
        )

    def create_line_item(self, *, account_id: str | None = None, **params: Any) -> dict[str, Any]:
        """Create a line item. Legacy names (``TWEET_ENGAGEMENTS``, ``bid_type``...) are translated.

        A POST that times out raises :class:`~airflow_provider_twads.api.errors.AmbiguousWriteError`: look
        the line item up by name before creating it again.

        :param account_id: the account, else the client's default.
        :param params: the line item's fields.
        """
        return self._entity("line_items.create", params, account_id=account_id)

    def batch_line_items(
        self, operations: Sequence[Mapping[str, Any]], **kwargs: Any
    ) -> builtins.list[dict[str, Any]]:
        """Batch Create/Update/Delete of line items, in chunks of 20.

        :param operations: batch operations.
        :param kwargs: ``chunk_size``, ``on_chunk``, ``account_id`` (see :meth:`batch`).
        """
        return self.batch("line_items", operations, **kwargs)

    def update_line_item(
        self, line_item_id: str, *, account_id: str | None = None, **params: Any
    ) -> dict[str, Any]:
        """Update a line item.

        :param line_item_id: the line item.
        :param account_id: the account, else the client's default.
        :param params: the fields to change.
        """
        return self._entity("line_items.update", params, account_id=account_id, line_item_id=line_item_id)

    def delete_line_item(self, line_item_id: str, *, account_id: str | None = None) -> dict[str, Any]:
        """Delete a line item (a second delete is a 404: ``NotFoundError``).

        :param line_item_id: the line item.
        :param account_id: the account, else the client's default.
        """
        return self._entity("line_items.delete", account_id=account_id, line_item_id=line_item_id)

    # ------------------------------------------------------------------------------------------------
    # Targeting criteria
    # ------------------------------------------------------------------------------------------------
    def list_targeting_criteria(self, line_item_ids: str | Iterable[str], **filters: Any) -> Cursor:
        """Targeting criteria of some line items (up to 200 per call).

        :param line_item_ids: the line items.
        :param filters: filters and paging options of :meth:`list`.
        """
        return self.list("targeting_criteria", line_item_ids=line_item_ids, **filters)

    def get_targeting_criterion(
        self, targeting_criterion_id: str, *, with_deleted: bool = False, account_id: str | None = None
    ) -> dict[str, Any]:
        """One targeting criterion.

        :param targeting_criterion_id: the criterion.
        :param with_deleted: also find it when deleted.
        :param account_id: the account, else the client's default.
        """
        return self._entity(
            "targeting_criteria.get",
            {"with_deleted": with_deleted or None},
            account_id=account_id,
            targeting_criterion_id=targeting_criterion_id,
        )

    def create_targeting_criterion(self, *, account_id: str | None = None, **params: Any) -> dict[str, Any]:
        """Create one targeting criterion (``operator_type`` defaults to ``EQ``).

        :param account_id: the account, else the client's default.
        :param params: ``line_item_id``, ``targeting_type``, ``targeting_value``, ``operator_type``.
        """
        return self._entity("targeting_criteria.create", params, account_id=account_id)

    def batch_targeting_criteria(
        self, operations: Sequence[Mapping[str, Any]], **kwargs: Any
    ) -> builtins.list[dict[str, Any]]:
        """Batch Create/Delete of targeting criteria, in chunks of 500.

        :param operations: batch operations.
        :param kwargs: ``chunk_size``, ``on_chunk``, ``account_id`` (see :meth:`batch`).
        """
        return self.batch("targeting_criteria", operations, **kwargs)

    def delete_targeting_criterion(
        self, targeting_criterion_id: str, *, account_id: str | None = None
    ) -> dict[str, Any]:
        """Delete a targeting criterion.

        :param targeting_criterion_id: the criterion.
        :param account_id: the account, else the client's default.
        """
        return self._entity(
            "targeting_criteria.delete", account_id=account_id, targeting_criterion_id=targeting_criterion_id
        )

    # ------------------------------------------------------------------------------------------------
    # Promoted tweets
    # ------------------------------------------------------------------------------------------------
    def list_promoted_tweets(self, **filters: Any) -> Cursor:
        """Promoted tweets (``with_deleted=True`` to see those of deleted line items).

        :param filters: filters and paging options of :meth:`list`.
        """
        return self.list("promoted_tweets", **filters)

    def get_promoted_tweet(
        self, promoted_tweet_id: str, *, with_deleted: bool = False, account_id: str | None = None
    ) -> dict[str, Any]:
        """One promoted tweet.

        :param promoted_tweet_id: the promoted tweet (not the tweet ID).
        :param with_deleted: also find it when deleted (or when its line item was).
        :param account_id: the account, else the client's default.
        """
        return self._entity(
            "promoted_tweets.get",
            {"with_deleted": with_deleted or None},
            account_id=account_id,
            promoted_tweet_id=promoted_tweet_id,
        )

    def create_promoted_tweets(
        self, line_item_id: str, tweet_ids: str | Iterable[str], *, account_id: str | None = None
    ) -> builtins.list[dict[str, Any]]:
        """Promote tweets on a line item, 50 tweet IDs per request.

        More than 50 IDs are sent in several requests; if a later one fails, the ``BatchError`` says
        which were applied.

        :param line_item_id: the line item.
        :param tweet_ids: the tweets.
        :param account_id: the account, else the client's default.
        """
        items = (
            [t.strip() for t in tweet_ids.split(",")]
            if isinstance(tweet_ids, str)
            else [str(t) for t in tweet_ids]
        )
        if not items:
            raise AdsApiValidationError("tweet_ids", "at least one tweet ID is required")
        size = vocab.MAX_TWEET_IDS_PER_REQUEST
        groups = [items[i : i + size] for i in range(0, len(items), size)]
        requests_ = [
            self._core.prepare(
                "promoted_tweets.create",
                {"line_item_id": line_item_id, "tweet_ids": g},
                account_id=account_id,
            )
            for g in groups
        ]  # all validated before the first is sent
        run = BatchRun("promoted_tweets", len(groups), len(items))
        for chunk, req in zip(chunks([{"tweet_id": t} for t in items], size), requests_, strict=True):
            try:
                data = self.send(req).get("data")
            except AdsApiError as exc:
                if run.total_chunks == 1:
                    raise
                raise run.failure(chunk, exc) from exc
            run.applied(chunk, data or [])
        return run.results

    def delete_promoted_tweet(
        self, promoted_tweet_id: str, *, account_id: str | None = None
    ) -> dict[str, Any]:
        """Delete (disassociate) a promoted tweet.

        :param promoted_tweet_id: the promoted tweet (not the tweet ID).
        :param account_id: the account, else the client's default.
        """
        return self._entity(
            "promoted_tweets.delete", account_id=account_id, promoted_tweet_id=promoted_tweet_id
        )
