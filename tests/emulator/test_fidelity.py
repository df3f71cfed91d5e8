"""Where the emulator must answer as the API does (issue 14): today's batch limits, 403 for an unknown
account, the reference's error codes, ``data_type`` on every entity response, and everything it returns
accepted back unchanged (a load-then-save)."""

from __future__ import annotations

from typing import Any

import pytest

from twads_emulator import SEED

from .conftest import LINE_ITEM, error_codes

LINE_ITEM_WRITABLE = (
    "advertiser_domain", "advertiser_user_id", "android_app_store_identifier", "audience_expansion",
    "bid_amount_local_micro", "bid_strategy", "categories", "duration_in_days", "entity_status", "end_time",
    "frequency_cap", "goal", "ios_app_store_identifier", "name", "pay_by", "start_time",
    "total_budget_amount_local_micro", "daily_budget_amount_local_micro",
)  # fmt: skip
CAMPAIGN_WRITABLE = (
    "budget_optimization", "daily_budget_amount_local_micro", "entity_status", "name",
    "purchase_order_number",
    "standard_delivery", "total_budget_amount_local_micro",
)  # fmt: skip


def _as_query(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list):
        return ",".join(map(str, value))
    return str(value)


def _writable(entity: dict[str, Any], fields: tuple[str, ...]) -> dict[str, str]:
    return {k: _as_query(entity[k]) for k in fields if entity.get(k) is not None}


# ---- batch sizes ------------------------------------------------------------------------------------------
def test_todays_batch_limits(api: Any, emu: Any) -> None:
    def line_item(i: int) -> dict[str, Any]:
        return {"operation_type": "Create", "params": {**LINE_ITEM, "name": f"b{i}"}}

    assert api.batch("line_items", [line_item(i) for i in range(40)]).status_code == 200
    assert api.batch("line_items", [line_item(i) for i in range(41)]).status_code == 400
    campaign = {"funding_instrument_id": SEED["funding_instrument_id"], "entity_status": "PAUSED"}
    ops = [{"operation_type": "Create", "params": {**campaign, "name": f"c{i}"}} for i in range(41)]
    assert api.batch("campaigns", ops[:40]).status_code == 200
    assert api.batch("campaigns", ops).status_code == 400
    names = [li["name"] for li in emu.admin.state("line_items")["line_items"]]
    assert sum(n.startswith("b") for n in names if n) == 40


# ---- status codes and error codes -------------------------------------------------------------------------
@pytest.mark.parametrize("method", ["GET", "PUT", "DELETE"])
def test_an_unknown_account_is_403_account_not_found(api: Any, method: str) -> None:
    """Not 404: a client that treats a 404 on DELETE as "already gone" must not pass a wrong account."""
    response = api.request(method, f"line_items/{SEED['line_item_id']}", account="nosuchacct")
    assert response.status_code == 403 and error_codes(response) == ["ACCOUNT_NOT_FOUND"]
    assert response.json()["errors"][0]["parameter"] == "account_id"


@pytest.mark.parametrize(
    ("path", "code"),
    [
        ("campaigns/nosuch", "CAMPAIGN_NOT_FOUND"),
        ("line_items/nosuch", "LINE_ITEM_NOT_FOUND"),
        ("targeting_criteria/nosuch", "TARGETING_CRITERION_NOT_FOUND"),
        ("promoted_tweets/nosuch", "PROMOTED_TWEET_NOT_FOUND"),
        ("funding_instruments/nosuch", "FUNDING_INSTRUMENT_NOT_FOUND"),
    ],
)
def test_not_found_codes_name_the_kind(api: Any, path: str, code: str) -> None:
    response = api.get(path)
    assert response.status_code == 404 and error_codes(response) == [code]
    if not path.startswith("funding_instruments"):
        deleted = api.delete(path)
        assert deleted.status_code == 404 and error_codes(deleted) == [code]


# ---- data_type ------------------------------------------------------------------------------------------
def test_every_entity_response_names_its_data_type(api: Any) -> None:
    created = api.post("line_items", **LINE_ITEM).json()
    line_item = created["data"]["id"]
    criterion = api.post(
        "targeting_criteria", line_item_id=line_item, targeting_type="LANGUAGE", targeting_value="en"
    ).json()
    answers = {
        "line_item": [created, api.get(f"line_items/{line_item}").json(),
                      api.put(f"line_items/{line_item}", name="x").json()],
        "targeting_criterion": [criterion, api.get(f"targeting_criteria/{criterion['data']['id']}").json(),
                                api.delete(f"targeting_criteria/{criterion['data']['id']}").json()],
        "campaign": [api.get(f"campaigns/{SEED['campaign_id']}").json()],
        "promoted_tweet": [api.get("promoted_tweets/1efwlo").json()],
        "funding_instrument": [api.get(f"funding_instruments/{SEED['funding_instrument_id']}").json(),
                               api.get("funding_instruments").json()],
        "account": [api.get("").json()],
    }  # fmt: skip
    for data_type, bodies in answers.items():
        for body in bodies:
            assert body.get("data_type") == data_type, body
    assert api.delete(f"line_items/{line_item}").json()["data_type"] == "line_item"


# ---- load, then save unchanged ------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("kind", "fields"), [("line_items", LINE_ITEM_WRITABLE), ("campaigns", CAMPAIGN_WRITABLE)]
)
def test_every_entity_takes_back_what_it_returns(api: Any, kind: str, fields: tuple[str, ...]) -> None:
    """Every seeded line item and campaign (drafts included; ENGAGEMENT as pay_by among them): its writable
    fields sent back unchanged are accepted and change nothing."""
    seeded = api.get(kind, count="1000", with_draft="true").json()["data"]
    assert any(e["entity_status"] == "DRAFT" for e in seeded)
    assert kind != "line_items" or any(e["pay_by"] == "ENGAGEMENT" for e in seeded)
    for entity in seeded:
        sent = _writable(entity, fields)
        response = api.put(f"{kind}/{entity['id']}", **sent)
        assert response.status_code == 200, (entity["id"], sent, response.text)
        after = response.json()["data"]
        assert {k: v for k, v in after.items() if k != "updated_at"} == {
            k: v for k, v in entity.items() if k != "updated_at"
        }, entity["id"]


def test_status_changes_a_draft_or_into_a_draft_stay_refused(api: Any) -> None:
    draft = api.put(f"campaigns/{SEED['draft_campaign_id']}", entity_status="ACTIVE")
    assert draft.status_code == 400 and "Ads UI" in draft.json()["errors"][0]["message"]
    into = api.put(f"line_items/{SEED['line_item_id']}", entity_status="DRAFT")
    assert into.status_code == 400 and error_codes(into) == ["INVALID_PARAMETER"]


def test_pay_by_values_seen_in_responses_are_accepted(api: Any) -> None:
    for pay_by in ("ENGAGEMENT", "IMPRESSION"):
        response = api.put(f"line_items/{SEED['line_item_id']}", pay_by=pay_by)
        assert response.status_code == 200 and response.json()["data"]["pay_by"] == pay_by


def test_campaign_budget_optimization(api: Any) -> None:
    response = api.put(f"campaigns/{SEED['campaign_id']}", budget_optimization="CAMPAIGN")
    assert response.status_code == 200 and response.json()["data"]["budget_optimization"] == "CAMPAIGN"


def test_clearing_optional_fields_with_an_empty_value(api: Any) -> None:
    set_ = api.put(f"line_items/{SEED['line_item_id']}", end_time="2031-01-01T00:00:00Z",
                   total_budget_amount_local_micro="50000000", frequency_cap="5")  # fmt: skip
    assert set_.status_code == 200, set_.text
    cleared = api.put(f"line_items/{SEED['line_item_id']}", end_time="", total_budget_amount_local_micro="",
                      frequency_cap="")  # fmt: skip
    assert cleared.status_code == 200, cleared.text
    data = cleared.json()["data"]
    assert (data["end_time"], data["total_budget_amount_local_micro"], data["frequency_cap"]) == (None,) * 3
    # The echo types what it parsed as the reference does; a cleared value is echoed as sent.
    assert set_.json()["request"]["params"]["total_budget_amount_local_micro"] == 50000000
    assert cleared.json()["request"]["params"]["end_time"] == ""
