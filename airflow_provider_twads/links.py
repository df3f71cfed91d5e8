"""Operator extra links to the X Ads UI.

Airflow 3 resolves an extra link in the worker when the task finishes (``get_link`` is called then, and its
result is stored as an XCom the UI reads). :class:`LineItemLink` builds the URL from a small XCom the
operator pushed while running: ``{"account_id", "campaign_ids", "line_item_ids", "host"}``. The Ads UI
shows only what X's own API holds: for a connection to another host (the local emulator, a proxy of
one's own), the link stays empty rather than open a page that does not exist.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

from airflow.providers.common.compat.sdk import BaseOperatorLink

from airflow_provider_twads.api.vocabulary import ADS_UI_URL, LEGACY_HOSTS, PRODUCTION_HOST, SANDBOX_HOST

if TYPE_CHECKING:
    from airflow.providers.common.compat.sdk import BaseOperator, Context, TaskInstanceKey

__all__ = ["LINE_ITEM_XCOM_KEY", "LineItemLink", "line_item_url"]

#: The XCom key under which operators store what the link needs.
LINE_ITEM_XCOM_KEY = "twads_line_item"

#: The Ads UI page of a line item ("ad group" in the UI), within its campaign's form.
LINE_ITEM_URL_TEMPLATE = (
    "{ui}/campaign_form/{account_id}/campaign/{campaign_id}/adgroup/{line_item_id}/details"
)
#: The campaign's page, used when a task made several line items.
CAMPAIGN_URL_TEMPLATE = "{ui}/campaign_form/{account_id}/campaign/{campaign_id}/details"


def line_item_url(account_id: str, campaign_id: str, line_item_id: str | None = None) -> str:
    """The Ads UI URL of a line item (or of its campaign when ``line_item_id`` is ``None``).

    :param account_id: the ad account.
    :param campaign_id: the campaign.
    :param line_item_id: the line item.
    :return: the URL.
    """
    parts = {"ui": ADS_UI_URL, "account_id": quote(str(account_id)), "campaign_id": quote(str(campaign_id))}
    if line_item_id is None:
        return CAMPAIGN_URL_TEMPLATE.format(**parts)
    return LINE_ITEM_URL_TEMPLATE.format(line_item_id=quote(str(line_item_id)), **parts)


#: API hosts whose entities the Ads UI shows.
X_API_HOSTS = frozenset({PRODUCTION_HOST, SANDBOX_HOST, *LEGACY_HOSTS})


def _url_from_value(value: Any) -> str:
    if not isinstance(value, Mapping):
        return ""
    host = value.get("host")
    if host is not None and str(host).rstrip("/") not in X_API_HOSTS:
        return ""  # not X's API: the Ads UI has no such entity
    account, ids, campaigns = (
        value.get("account_id"),
        value.get("line_item_ids") or [],
        value.get("campaign_ids") or [],
    )
    if not account or not campaigns:
        return ""
    if len(ids) == 1:
        return line_item_url(account, campaigns[0], ids[0])
    return line_item_url(account, campaigns[0])


class LineItemLink(BaseOperatorLink):
    """The "X Ads line item" link: the line item the task created (its campaign when it made many)."""

    name = "X Ads line item"

    @staticmethod
    def persist(
        context: Context, *, account_id: str, campaign_ids: list[str], line_item_ids: list[str], host: str
    ) -> None:
        """Store what the link needs (a small XCom), from ``execute``.

        :param context: the task context.
        :param account_id: the ad account.
        :param campaign_ids: the campaigns of the line items (first one used for several).
        :param line_item_ids: the line item IDs.
        :param host: the API host the line items live on (the link is empty unless it is X's).
        """
        context["ti"].xcom_push(
            key=LINE_ITEM_XCOM_KEY,
            value={
                "account_id": account_id,
                "campaign_ids": campaign_ids,
                "line_item_ids": line_item_ids,
                "host": host,
            },
        )

    def get_link(self, operator: BaseOperator, *, ti_key: TaskInstanceKey) -> str:
        """Build the URL from the XCom the operator pushed; empty when the task pushed none.

        :param operator: the operator.
        :param ti_key: the task instance.
        """
        from airflow.providers.common.compat.sdk import XCom

        return _url_from_value(XCom.get_value(ti_key=ti_key, key=LINE_ITEM_XCOM_KEY))
