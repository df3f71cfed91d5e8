"""Campaign operators against the emulator: idempotency by name, diffs, update, funding instrument choice,
drafts, ambiguity, validation before HTTP, delete; and the client's campaign methods."""

from __future__ import annotations

from typing import Any

import pytest

from airflow_provider_twads.api.errors import AdsApiValidationError, DraftEntityError
from airflow_provider_twads.operators.campaigns import (
    CreateCampaignOperator,
    DeleteCampaignOperator,
    UpdateCampaignOperator,
)
from airflow_provider_twads.reconcile import FundingInstrumentError, SettingsMismatchError
from twads_emulator import SEED

ACCOUNT = SEED["account_id"]
FI = SEED["funding_instrument_id"]


def create_op(**kwargs: Any) -> CreateCampaignOperator:
    return CreateCampaignOperator(
        task_id="campaign", **{"daily_budget_amount_local_micro": 5_000_000, **kwargs}
    )


def campaigns_named(emu: Any, name: str) -> list[dict[str, Any]]:
    return [c for c in emu.admin.state("campaigns")["campaigns"] if c["name"] == name and not c["deleted"]]


def writes(emu: Any) -> list[dict[str, Any]]:
    return [r for r in emu.admin.requests() if r["method"] != "GET"]


def test_create_is_paused_under_the_only_active_instrument_and_a_rerun_reuses_it(emu, execute):
    first = execute(create_op(name="spring", total_budget_amount_local_micro=50_000_000))
    (c,) = campaigns_named(emu, "spring")
    assert (c["id"], c["entity_status"], c["funding_instrument_id"]) == (first, "PAUSED", FI)
    assert (c["daily_budget_amount_local_micro"], c["total_budget_amount_local_micro"]) == (
        5_000_000,
        50_000_000,
    )
    before = len(emu.admin.requests())

    assert execute(create_op(name="spring", total_budget_amount_local_micro=50_000_000)) == first
    assert len(campaigns_named(emu, "spring")) == 1
    # Looks (a second one after the convergence wait for a campaign this fresh), no write.
    assert {r["method"] for r in emu.admin.requests()[before:]} == {"GET"}


def test_rerun_after_activation_neither_fails_nor_pauses(emu, execute):
    campaign = execute(create_op(name="launched"))
    execute(UpdateCampaignOperator(task_id="activate", campaign_id=campaign, entity_status="ACTIVE"))
    assert execute(create_op(name="launched")) == campaign
    assert campaigns_named(emu, "launched")[0]["entity_status"] == "ACTIVE"


def test_other_settings_fail_with_a_diff_and_update_on_request(emu, execute):
    campaign = execute(create_op(name="spring"))
    before = len(writes(emu))
    with pytest.raises(SettingsMismatchError) as err:
        execute(
            create_op(
                name="spring", daily_budget_amount_local_micro=9_000_000, budget_optimization="CAMPAIGN"
            )
        )
    text = str(err.value)
    assert "Campaign 'spring'" in text
    assert "daily_budget_amount_local_micro: existing 5000000, requested 9000000" in text
    assert "budget_optimization: existing 'LINE_ITEM', requested 'CAMPAIGN'" in text
    assert 'if_exists="update"' in text
    assert len(writes(emu)) == before

    op = create_op(
        name="spring",
        daily_budget_amount_local_micro=9_000_000,
        budget_optimization="CAMPAIGN",
        if_exists="update",
    )
    assert execute(op) == campaign
    (c,) = campaigns_named(emu, "spring")
    assert (c["daily_budget_amount_local_micro"], c["budget_optimization"]) == (9_000_000, "CAMPAIGN")
    assert [r["method"] for r in writes(emu)[before:]] == ["PUT"]


def test_another_funding_instrument_cannot_be_updated(emu, execute):
    execute(create_op(name="spring"))
    other = emu.admin.add_funding_instrument(ACCOUNT, name="Second card")["id"]
    with pytest.raises(SettingsMismatchError, match="cannot be changed after creation") as err:
        execute(create_op(name="spring", funding_instrument_id=other, if_exists="update"))
    assert f"funding_instrument_id: existing '{FI}', requested '{other}'" in str(err.value)


def test_several_active_instruments_fail_with_the_list_and_an_id_picks_one(emu, execute):
    second = emu.admin.add_funding_instrument(ACCOUNT, name="Second card", description="Amex ending in 1001")
    emu.admin.add_funding_instrument(ACCOUNT, name="Old card", entity_status="CANCELLED")
    with pytest.raises(FundingInstrumentError) as err:
        execute(create_op(name="two cards"))
    text = str(err.value)
    assert "2 active funding instruments" in text and "funding_instrument_id=" in text
    assert FI in text and second["id"] in text and "Old card" in text and "CANCELLED" in text
    assert writes(emu) == []

    campaign = execute(create_op(name="two cards", funding_instrument_id=second["id"]))
    assert campaigns_named(emu, "two cards")[0]["funding_instrument_id"] == second["id"] != FI
    assert execute(create_op(name="two cards")) == campaign  # reused: no instrument needed


def test_no_active_instrument_fails_before_any_write(emu, execute):
    emu.admin.activate("funding_instruments", FI, "PAUSED")
    with pytest.raises(FundingInstrumentError, match="no active funding instrument") as err:
        execute(create_op(name="no card"))
    assert FI in str(err.value) and "PAUSED" in str(err.value)
    assert writes(emu) == []


def test_an_unknown_instrument_is_the_apis_404(emu, execute):
    from airflow_provider_twads.api.errors import NotFoundError

    with pytest.raises(NotFoundError):
        execute(create_op(name="x", funding_instrument_id="nosuch"))
    assert writes(emu) == []


def test_commit_then_drop_on_create_is_looked_up_not_resent(emu, execute):
    emu.admin.set_faults({"script": ["commit_then_drop"], "match": {"method": "POST", "path": "campaigns"}})
    campaign = execute(create_op(name="lost response"))
    (c,) = campaigns_named(emu, "lost response")
    assert c["id"] == campaign
    posts = [r for r in emu.admin.requests() if r["method"] == "POST"]
    assert [r["fault"] for r in posts] == ["commit_then_drop"]  # committed once, never re-sent


def test_duplicates_by_name_resolve_to_the_oldest(emu, execute, client):
    a = client.create_campaign(funding_instrument_id=FI, name="twice", entity_status="PAUSED")["id"]
    client.create_campaign(funding_instrument_id=FI, name="twice", entity_status="PAUSED")
    assert execute(create_op(name="twice", daily_budget_amount_local_micro=None)) == a
    assert [c["id"] for c in campaigns_named(emu, "twice")] == [a]  # the extra converged away


def test_asked_active_is_created_paused_then_the_survivor_activated(emu, execute):
    campaign = execute(create_op(name="live", entity_status="ACTIVE"))
    (post,) = [r for r in writes(emu) if r["method"] == "POST"]
    assert post["query"]["entity_status"] == "PAUSED"  # nothing spends until it is known to be the one
    (c,) = campaigns_named(emu, "live")
    assert (c["id"], c["entity_status"]) == (campaign, "ACTIVE")


def test_a_racers_campaign_of_the_same_name_wins_and_ours_is_deleted(emu, execute, monkeypatch):
    from airflow_provider_twads.api.client import AdsApiClient

    real = AdsApiClient.create_campaign
    racer: list[str] = []

    def create_after_a_racer(self: Any, **params: Any) -> dict[str, Any]:
        if not racer:  # another writer's POST of the same name lands just before ours
            racer.append(real(self, **params)["id"])
        return real(self, **params)

    monkeypatch.setattr(AdsApiClient, "create_campaign", create_after_a_racer)
    assert execute(create_op(name="raced", entity_status="ACTIVE")) == racer[0]
    (c,) = campaigns_named(emu, "raced")
    assert (c["id"], c["entity_status"]) == (racer[0], "ACTIVE")  # only the survivor is activated


def test_an_active_or_built_on_duplicate_is_never_deleted(emu, execute, client):
    older = client.create_campaign(funding_instrument_id=FI, name="kept", entity_status="PAUSED")["id"]
    active = client.create_campaign(funding_instrument_id=FI, name="kept", entity_status="ACTIVE")["id"]
    built = client.create_campaign(funding_instrument_id=FI, name="kept", entity_status="PAUSED")["id"]
    spare = client.create_campaign(funding_instrument_id=FI, name="kept", entity_status="PAUSED")["id"]
    client.create_line_item(
        campaign_id=built,
        name="on it",
        objective="ENGAGEMENTS",
        product_type="PROMOTED_TWEETS",
        placements="ALL_ON_TWITTER",
        bid_strategy="AUTO",
        entity_status="PAUSED",
    )
    assert execute(create_op(name="kept", daily_budget_amount_local_micro=None)) == active  # ACTIVE first
    assert sorted(c["id"] for c in campaigns_named(emu, "kept")) == sorted([active, built])
    assert {r["path"].rsplit("/", 1)[1] for r in writes(emu) if r["method"] == "DELETE"} == {older, spare}


def test_derived_name_is_deterministic_per_run(emu, execute):
    op = CreateCampaignOperator(task_id="campaign")
    first = execute(op, run_id="scheduled__2024-05-01")
    assert execute(op, run_id="scheduled__2024-05-01") == first
    assert execute(op, run_id="scheduled__2024-05-02") != first
    assert campaigns_named(emu, "test_dag.campaign.scheduled__2024-05-01")[0]["id"] == first


def test_a_draft_is_created_found_again_and_cannot_be_activated(emu, execute):
    draft = execute(create_op(name="draft", entity_status="DRAFT"))
    assert campaigns_named(emu, "draft")[0]["entity_status"] == "DRAFT"
    assert execute(create_op(name="draft", entity_status="DRAFT")) == draft  # found with with_draft
    before = len(writes(emu))
    with pytest.raises(DraftEntityError, match="Ads UI") as err:
        execute(UpdateCampaignOperator(task_id="activate", campaign_id=draft, entity_status="ACTIVE"))
    assert "nothing was sent" in str(err.value)
    assert len(writes(emu)) == before  # refused before the PUT

    emu.admin.activate("campaigns", draft)  # as the Ads UI does
    execute(UpdateCampaignOperator(task_id="pause", campaign_id=draft, entity_status="PAUSED"))
    assert campaigns_named(emu, "draft")[0]["entity_status"] == "PAUSED"


def test_making_a_draft_is_refused_before_any_request_with_the_hint(emu, execute):
    op = UpdateCampaignOperator(task_id="a", campaign_id=SEED["paused_campaign_id"], entity_status="DRAFT")
    with pytest.raises(AdsApiValidationError, match="Ads UI") as err:
        execute(op)
    assert err.value.parameter == "entity_status"
    assert emu.admin.requests() == []


@pytest.mark.parametrize(
    ("kwargs", "parameter"),
    [
        ({"budget_optimization": "ACCOUNT"}, "budget_optimization"),
        ({"entity_status": "RUNNING"}, "entity_status"),
        ({"daily_budget_amount_local_micro": 0}, "daily_budget_amount_local_micro"),
        ({"daily_budget_amount_local_micro": "lots"}, "daily_budget_amount_local_micro"),
        ({"total_budget_amount_local_micro": 1_000_000}, "daily_budget_amount_local_micro"),
        ({"name": "x" * 256}, "name"),
        ({"name": "  "}, "name"),
        ({"purchase_order_number": "p" * 51}, "purchase_order_number"),
        ({"if_exists": "overwrite"}, "if_exists"),
        ({"extra_params": {"nonsense": 1}}, "nonsense"),
    ],
)
def test_bad_input_fails_with_zero_http_calls(emu, execute, kwargs, parameter):
    with pytest.raises(AdsApiValidationError) as err:
        execute(create_op(**{"name": "x", **kwargs}))
    assert err.value.parameter == parameter
    assert emu.admin.requests() == []


def test_update_of_several_sends_one_put_each_then_none(emu, execute):
    ids = [execute(create_op(name=f"c{i}")) for i in range(2)]
    op = UpdateCampaignOperator(
        task_id="tune", campaign_id=",".join(ids), daily_budget_amount_local_micro=7_000_000, name=None
    )
    before = len(writes(emu))
    assert execute(op) == ids
    assert execute(op) == ids
    assert [r["method"] for r in writes(emu)[before:]] == ["PUT", "PUT"]
    assert {
        c["daily_budget_amount_local_micro"]
        for c in emu.admin.state("campaigns")["campaigns"]
        if c["id"] in ids
    } == {7_000_000}


def test_update_with_nothing_to_change_fails_before_any_call(emu, execute):
    with pytest.raises(AdsApiValidationError, match="nothing to update"):
        execute(UpdateCampaignOperator(task_id="a", campaign_id="abc"))
    assert emu.admin.requests() == []


def test_delete_is_idempotent(emu, execute):
    campaign = execute(create_op(name="doomed"))
    op = DeleteCampaignOperator(task_id="rollback", campaign_id=campaign)
    assert execute(op) == campaign
    assert execute(op) == campaign  # already deleted: succeeds
    assert campaigns_named(emu, "doomed") == []
    assert [r["status"] for r in emu.admin.requests() if r["method"] == "DELETE"] == [200, 404]


def test_client_batches_campaigns_in_forties_and_reads_funding_instruments(emu, client):
    ops = [
        {
            "operation_type": "Create",
            "params": {"funding_instrument_id": FI, "name": f"b{i}", "entity_status": "PAUSED"},
        }
        for i in range(41)
    ]
    created = client.batch_campaigns(ops)
    assert [c["name"] for c in created] == [f"b{i}" for i in range(41)]
    batches = [r for r in emu.admin.requests() if r["path"].startswith("/12/batch/")]
    assert len(batches) == 2  # 40 + 1
    assert [f["id"] for f in client.list_funding_instruments()] == [FI]
    assert client.get_funding_instrument(FI)["able_to_fund"] is True
    with pytest.raises(AdsApiValidationError):
        client.batch_campaigns(ops[:1], chunk_size=41)
    with pytest.raises(AdsApiValidationError) as err:
        client.create_campaign(name="no instrument")
    assert err.value.parameter == "funding_instrument_id"
    assert len([r for r in emu.admin.requests() if r["path"].startswith("/12/batch/")]) == 2
