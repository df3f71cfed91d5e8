"""A client-side refusal never blocks a request the API accepts: read-modify-write round trips.

Every entity the reference shows (``tests/emulator/spec_examples.json``, parsed from ``../shared/spec``) and
every entity the emulator returns is sent back, writable fields unchanged, through validation: no refusal,
no change of meaning. Clearing a field with ``""`` works where the reference says so
(fundamentals/making-authenticated-requests.mdx: ``end_time=``).

Emulator entities are also sent back over HTTP: the emulator, like the API, accepts back what it returns.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from airflow_provider_twads.api import spec
from airflow_provider_twads.api.errors import AdsApiError
from airflow_provider_twads.api.times import to_api_time
from airflow_provider_twads.reconcile.line_items import update_line_item
from airflow_provider_twads.reconcile.promoted_tweets import validate_tweet_ids
from airflow_provider_twads.reconcile.targeting import criterion_key, normalize_criteria
from twads_emulator import SEED

EXAMPLES = json.loads((Path(__file__).parents[1] / "emulator" / "spec_examples.json").read_text())


# Values the API returns and accepts back that the emulator still refuses in a write (issue 14 part 2).
def _entities(resource: str) -> list[tuple[str, dict[str, Any]]]:
    """``(where from, entity)`` for every example entity of ``resource`` (today's API versions only)."""
    out = []
    for ex in EXAMPLES:
        path = ex["url"].split("?")[0]
        if f"/{resource}" not in path or "/12/" not in path or not isinstance(ex.get("response"), dict):
            continue
        data = ex["response"].get("data")
        for i, entity in enumerate(data if isinstance(data, list) else [data]):
            if isinstance(entity, dict) and entity.get("id"):
                out.append((f"{ex['source']} {ex['method']} {path.split('/12/')[1]} [{i}]", entity))
    return out


def _writable(operation: str, entity: dict[str, Any]) -> dict[str, Any]:
    """The entity's fields that ``operation`` takes, as the API returned them."""
    names = spec.endpoint(operation).names
    return {k: v for k, v in entity.items() if k in names}


def _same_meaning(sent: dict[str, Any], normalized: dict[str, Any]) -> None:
    """What validation returns means what was read: nothing added, dropped (except nulls) or changed."""
    assert set(normalized) == {k for k, v in sent.items() if v is not None}
    for k, v in normalized.items():
        given = sent[k]
        if given in ("", []):  # unset, read back as [] or sent as "": sent empty
            assert v == "", k
        elif k.endswith("_time"):
            assert v == to_api_time(given, parameter=k), k
        elif isinstance(v, list):
            assert v == [str(x) for x in given], k
        else:
            assert str(v) == str(given), k


LINE_ITEMS = _entities("line_items")
CAMPAIGNS = _entities("campaigns")
CRITERIA = _entities("targeting_criteria")
PROMOTED = _entities("promoted_tweets")


def test_the_reference_examples_cover_every_resource() -> None:
    assert len(LINE_ITEMS) >= 5 and len(CAMPAIGNS) >= 5 and len(CRITERIA) >= 5 and len(PROMOTED) >= 3
    assert {li["pay_by"] for _, li in LINE_ITEMS} == {"ENGAGEMENT"}  # a value the parameter page omits


@pytest.mark.parametrize(("where", "entity"), LINE_ITEMS, ids=[w for w, _ in LINE_ITEMS])
def test_reference_line_items_round_trip(where: str, entity: dict[str, Any]) -> None:
    update = _writable("line_items.update", entity)
    assert "pay_by" in update
    _same_meaning(update, spec.validate("line_items.update", update))
    if not entity["deleted"]:  # the deleted example has no placements: the API would refuse it too
        create = _writable("line_items.create", entity)
        _same_meaning(create, spec.validate("line_items.create", create))


@pytest.mark.parametrize(("where", "entity"), CAMPAIGNS, ids=[w for w, _ in CAMPAIGNS])
def test_reference_campaigns_round_trip(where: str, entity: dict[str, Any]) -> None:
    for operation in ("campaigns.update", "campaigns.create"):
        fields = _writable(operation, entity)
        _same_meaning(fields, spec.validate(operation, fields))
    # Campaign budget optimization: returned by older campaigns, so accepted back.
    update = _writable("campaigns.update", entity) | {"budget_optimization": "CAMPAIGN"}
    assert spec.validate("campaigns.update", update)["budget_optimization"] == "CAMPAIGN"


@pytest.mark.parametrize(("where", "entity"), CRITERIA, ids=[w for w, _ in CRITERIA])
def test_reference_targeting_criteria_round_trip(where: str, entity: dict[str, Any]) -> None:
    create = _writable("targeting_criteria.create", entity)
    normalized = spec.validate("targeting_criteria.create", create)
    assert normalized["targeting_value"] == entity["targeting_value"]  # the emoji keyword too
    assert normalized["operator_type"] == entity.get("operator_type", "EQ")
    spec.validate_batch("targeting_criteria", [{"operation_type": "Create", "params": create}])
    (requested,) = normalize_criteria([{k: v for k, v in create.items() if k != "line_item_id"}])
    assert criterion_key(requested) == criterion_key(entity)


@pytest.mark.parametrize(("where", "entity"), PROMOTED, ids=[w for w, _ in PROMOTED])
def test_reference_promoted_tweets_round_trip(where: str, entity: dict[str, Any]) -> None:
    # No PUT: the writable round trip is promoting the same Tweet on the same line item.
    tweet_id = entity["tweet_id"]
    assert validate_tweet_ids([tweet_id]) == [str(tweet_id)]
    out = spec.validate(
        "promoted_tweets.create", {"line_item_id": entity["line_item_id"], "tweet_ids": [tweet_id]}
    )
    assert out["tweet_ids"] == [str(tweet_id)]


@pytest.mark.parametrize("pay_by", ["APP_CLICK", "IMPRESSION", "LINK_CLICK", "ENGAGEMENT", "FOLLOW", "VIEW"])
def test_every_pay_by_the_api_returns_is_accepted_back(pay_by: str) -> None:
    assert spec.validate("line_items.update", {"pay_by": pay_by}) == {"pay_by": pay_by}


# ---- clearing ----------------------------------------------------------------------------------------
CLEARABLE = [
    "end_time",
    "start_time",
    "total_budget_amount_local_micro",
    "daily_budget_amount_local_micro",
    "frequency_cap",
    "duration_in_days",
    "categories",
    "audience_expansion",
]


@pytest.mark.parametrize("field", CLEARABLE)
def test_an_empty_value_clears_the_field_on_update(field: str) -> None:
    assert spec.validate("line_items.update", {field: ""}) == {field: ""}


def test_clearing_takes_no_part_in_the_rules() -> None:
    # A cleared daily budget is not compared with the total; a cleared cap is allowed with any objective.
    out = spec.validate(
        "line_items.update", {"daily_budget_amount_local_micro": "", "total_budget_amount_local_micro": 5}
    )
    assert out["daily_budget_amount_local_micro"] == ""
    spec.validate("line_items.update", {"frequency_cap": "", "start_time": "", "end_time": "2030-01-01"})
    assert spec.validate("campaigns.update", {"total_budget_amount_local_micro": ""}) == {
        "total_budget_amount_local_micro": ""
    }


def test_none_means_not_given_not_cleared() -> None:
    # None is what an operator argument left out holds: it must never clear a budget by accident.
    assert (
        spec.validate("line_items.update", {"end_time": None, "total_budget_amount_local_micro": None}) == {}
    )


def test_a_clear_is_logged_as_a_warning(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level("WARNING"):
        spec.validate("line_items.update", {"total_budget_amount_local_micro": "  "})
    assert any("clears it" in r.getMessage() for r in caplog.records)


# ---- over HTTP, against the emulator -----------------------------------------------------------------
EMULATOR_LINE_ITEMS = [
    # (campaign, objective, product type): one objective per campaign, as the API requires.
    (SEED["campaign_id"], "ENGAGEMENTS", "PROMOTED_TWEETS"),
    (SEED["empty_campaign_id"], "WEBSITE_CLICKS", "PROMOTED_TWEETS"),
    (SEED["paused_campaign_id"], "REACH", "PROMOTED_TWEETS"),
]


def _create(client: Any, campaign: str, objective: str, product: str) -> dict[str, Any]:
    return client.create_line_item(
        campaign_id=campaign,
        objective=objective,
        product_type=product,
        placements=["ALL_ON_TWITTER"],
        name=f"round trip {objective}",
        start_time="2030-01-01T00:00:00Z",
        end_time="2030-02-01T00:00:00Z",
        total_budget_amount_local_micro=50_000_000,
        entity_status="PAUSED",
    )


@pytest.mark.parametrize(("campaign", "objective", "product"), EMULATOR_LINE_ITEMS)
def test_emulator_line_items_round_trip_over_http(
    client: Any, campaign: str, objective: str, product: str
) -> None:
    created = _create(client, campaign, objective, product)
    before = client.get_line_item(created["id"])
    update = _writable("line_items.update", before)
    _same_meaning(update, spec.validate("line_items.update", update))  # sans-IO first
    after = client.update_line_item(created["id"], **update)
    assert {k: after.get(k) for k in update} == {k: before.get(k) for k in update}


def test_every_seeded_entity_round_trips_sans_io(client: Any) -> None:
    for li in client.list_line_items(count=1000):
        _same_meaning(
            _writable("line_items.update", li),
            spec.validate("line_items.update", _writable("line_items.update", li)),
        )
    for c in client.list_campaigns(count=1000):
        fields = {
            k: v for k, v in _writable("campaigns.update", c).items() if k != "entity_status" or v != "DRAFT"
        }
        _same_meaning(fields, spec.validate("campaigns.update", fields))
    for tc in client.list_targeting_criteria(line_item_ids=[SEED["line_item_id"]], count=1000):
        spec.validate("targeting_criteria.create", _writable("targeting_criteria.create", tc))


def test_emulator_campaigns_round_trip_over_http(client: Any) -> None:
    before = client.get_campaign(SEED["paused_campaign_id"])
    update = _writable("campaigns.update", before)
    after = client.update_campaign(before["id"], **update)
    assert {k: after.get(k) for k in update} == {k: before.get(k) for k in update}


def test_emulator_accepts_back_the_pay_by_it_returns(client: Any) -> None:
    created = _create(client, *EMULATOR_LINE_ITEMS[0])
    assert created["pay_by"] == "ENGAGEMENT"
    client.update_line_item(created["id"], pay_by=created["pay_by"])


def test_emulator_accepts_campaign_budget_optimization(client: Any) -> None:
    client.update_campaign(SEED["paused_campaign_id"], budget_optimization="CAMPAIGN")


def test_clearing_over_http_unsets_the_fields(client: Any) -> None:
    created = _create(client, *EMULATOR_LINE_ITEMS[0])
    client.update_line_item(created["id"], frequency_cap=5, duration_in_days=7)
    cleared = client.update_line_item(
        created["id"], end_time="", total_budget_amount_local_micro="", frequency_cap="", duration_in_days=""
    )
    assert cleared["end_time"] is None and cleared["total_budget_amount_local_micro"] is None
    assert cleared["frequency_cap"] is None and cleared["duration_in_days"] is None
    assert cleared["start_time"] == "2030-01-01T00:00:00Z"  # untouched


def test_reconcile_update_clears_once_then_sends_nothing(client: Any) -> None:
    created = _create(client, *EMULATOR_LINE_ITEMS[0])
    li, put = update_line_item(client, created["id"], {"end_time": "", "start_time": None})
    assert put and li["end_time"] is None and li["start_time"] == "2030-01-01T00:00:00Z"
    _, put_again = update_line_item(client, created["id"], {"end_time": ""})
    assert not put_again  # already clear: a re-run converges without a PUT


def test_a_refusal_says_why_and_what_to_do() -> None:
    with pytest.raises(AdsApiError) as info:
        spec.validate(
            "line_items.create",
            {
                "campaign_id": "c1",
                "objective": "APP_INSTALLS",
                "placements": "ALL_ON_TWITTER",
                "product_type": "PROMOTED_TWEETS",
                "ios_app_store_identifier": "333903271",
                "charge_by": "APP_INSTALL",
            },
        )
    assert info.value.parameter == "charge_by"
    assert "billed" in str(info.value) and "pay_by=APP_CLICK" in str(info.value)
