"""Campaign and funding instrument operations of
:class:`~airflow_provider_twads.api.client.AdsApiClient`, mixed into
:class:`~airflow_provider_twads.api.resources.ResourceMethods` (which provides ``list``, ``batch`` and
``_entity``). Every parameter is checked against the table (``api/params``) before any HTTP call.
"""

from __future__ import annotations

import builtins
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from airflow_provider_twads.api import vocabulary as vocab

if TYPE_CHECKING:
    from airflow_provider_twads.api.paging import Cursor

__all__ = ["CampaignMethods"]


class CampaignMethods:
    """Campaigns (create, read, update, delete, batch) and the funding instruments they spend from."""

    if TYPE_CHECKING:  # provided by ResourceMethods

        def list(
            self,
            resource: str,
            *,
            account_id: str | None = None,
            count: int | None = None,
            cursor: str | None = None,
            **filters: Any,
        ) -> Cursor: ...

        def batch(
            self,
            resource: str,
            operations: Sequence[Mapping[str, Any]],
            chunk_size: int | None = None,
            on_chunk: Any = None,
            *,
            account_id: str | None = None,
        ) -> builtins.list[dict[str, Any]]: ...

        def _entity(
            self,
            operation: str,
            params: Mapping[str, Any] | None = None,
            *,
            account_id: str | None = None,
            **path_ids: str,
        ) -> dict[str, Any]: ...

    # ------------------------------------------------------------------------------------------------
    # Funding instruments
    # ------------------------------------------------------------------------------------------------
    def list_funding_instruments(self, **filters: Any) -> Cursor:
        """The account's funding instruments (``funding_instrument_ids``, ``with_deleted``...).

        :param filters: filters and paging options of :meth:`list`.
        """
        return self.list("funding_instruments", **filters)

    def get_funding_instrument(
        self, funding_instrument_id: str, *, with_deleted: bool = False, account_id: str | None = None
    ) -> dict[str, Any]:
        """One funding instrument.

        :param funding_instrument_id: the funding instrument.
        :param with_deleted: also find it when deleted.
        :param account_id: the account, else the client's default.
        """
        return self._entity(
            "funding_instruments.get",
            {"with_deleted": with_deleted or None},
            account_id=account_id,
            funding_instrument_id=funding_instrument_id,
        )

    # ------------------------------------------------------------------------------------------------
    # Campaigns
    # ------------------------------------------------------------------------------------------------
    def list_campaigns(self, **filters: Any) -> Cursor:
        """Campaigns (``with_draft=True`` to include drafts, ``draft_only=True`` for drafts only).

        :param filters: filters and paging options of :meth:`list`.
        """
        return self.list("campaigns", **filters)

    def get_campaign(
        self, campaign_id: str, *, with_deleted: bool = False, account_id: str | None = None
    ) -> dict[str, Any]:
        """One campaign.

        :param campaign_id: the campaign.
        :param with_deleted: also find it when deleted.
        :param account_id: the account, else the client's default.
        """
        return self._entity(
            "campaigns.get",
            {"with_deleted": with_deleted or None},
            account_id=account_id,
            campaign_id=campaign_id,
        )

    def create_campaign(self, *, account_id: str | None = None, **params: Any) -> dict[str, Any]:
        """Create a campaign (``funding_instrument_id`` and ``name`` required).

        A POST that times out raises :class:`~airflow_provider_twads.api.errors.AmbiguousWriteError`: look
        the campaign up by name before creating it again.

        :param account_id: the account, else the client's default.
        :param params: the campaign's fields.
        """
        return self._entity("campaigns.create", params, account_id=account_id)

    def update_campaign(
        self, campaign_id: str, *, account_id: str | None = None, **params: Any
    ) -> dict[str, Any]:
        """Update a campaign (a draft cannot be activated or paused: that is only possible in the Ads UI).

        :param campaign_id: the campaign.
        :param account_id: the account, else the client's default.
        :param params: the fields to change.
        """
        return self._entity("campaigns.update", params, account_id=account_id, campaign_id=campaign_id)

    def delete_campaign(self, campaign_id: str, *, account_id: str | None = None) -> dict[str, Any]:
        """Delete a campaign (a second delete is a 404: ``NotFoundError``).

        :param campaign_id: the campaign.
        :param account_id: the account, else the client's default.
        """
        return self._entity("campaigns.delete", account_id=account_id, campaign_id=campaign_id)

    def batch_campaigns(
        self,
        operations: Sequence[Mapping[str, Any]],
        chunk_size: int = vocab.MAX_CAMPAIGNS_PER_BATCH,
        **kwargs: Any,
    ) -> builtins.list[dict[str, Any]]:
        """Batch Create/Update/Delete of campaigns, in chunks of 40 (the reference's maximum).

        :param operations: batch operations.
        :param chunk_size: operations per request, up to 40.
        :param kwargs: ``on_chunk``, ``account_id`` (see :meth:`batch`).
        """
        return self.batch("campaigns", operations, chunk_size, **kwargs)
