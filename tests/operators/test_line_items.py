"""Line item operators against the emulator: idempotency, batching, ambiguity, validation, update, delete."""

from __future__ import annotations

from typing import Any

import pytest

from airflow_provider_twads.api.errors import AccountFeatureError, AdsApiValidationError, DraftEntityError
from airflow_provider_twads.operators.line_items import (
    CreateLineItemOperator,
    DeleteLineItemOperator,
    UpdateLineItemOperator,
)
from airflow_provider_twads.reconcile import SettingsMismatchError
from twads_emulator import SEED

CAMPAIGN = SEED["empty_campaign_id"]
BASE = {
    "campaign_id": CAMPAIGN,
    "objective": "ENGAGEMENTS",
    "product_type": "PROMOTED_TWEETS",
    "placements": ["ALL_ON_TWITTER"],
    "bid_strategy": "MAX",
    "bid_amount_local_micro": 1_500_000,
    "start_time": "2024-05-01T00:00:00Z",
}


def create_op(**kwargs: Any) -> CreateLineItemOperator:
    return CreateLineItemOperator(task_id="create", **{**BASE, **kwargs})


def line_items_named(emu: Any, name: str) -> list[dict[str, Any]]:
    return [li for li in emu.admin.state()["line_items"] if li["name"] == name and not li["deleted"]]


def writes(emu: Any) -> list[dict[str, Any]]:
    return [r for r in emu.admin.requests() if r["method"] != "GET"]


def test_create_is_paused_by_default_and_a_rerun_reuses_it(emu, execute):
    first = execute(create_op(name="spring"))
    assert execute.ti.xcoms["twads_line_item"] == {
        "account_id": SEED["account_id"],
        "campaign_ids": [CAMPAIGN],
        "line_item_ids": [first],
        "host": emu.base_url,
    }
    (li,) = line_items_named(emu, "spring")
    assert (li["id"], li["entity_status"], li["start_time"]) == (first, "PAUSED", "2024-05-01T00:00:00Z")
    before = len(emu.admin.requests())

    assert execute(create_op(name="spring")) == first
    assert len(line_items_named(emu, "spring")) == 1
    # No write: a look, and (the line item being seconds old) one more once its created_at second is past.
    assert {r["method"] for r in emu.admin.requests()[before:]} == {"GET"}


def test_rerun_after_activation_neither_fails_nor_pauses(emu, execute):
    line_item = execute(create_op(name="launched"))
    execute(UpdateLineItemOperator(task_id="activate", line_item_id=line_item, entity_status="ACTIVE"))
    assert execute(create_op(name="launched")) == line_item
    assert line_items_named(emu, "launched")[0]["entity_status"] == "ACTIVE"


def test_other_settings_fail_with_a_diff_and_update_on_request(emu, execute):
    line_item = execute(create_op(name="spring"))
    before = len(writes(emu))
    with pytest.raises(SettingsMismatchError) as err:
        execute(create_op(name="spring", bid_amount_local_micro=2_000_000))
    assert "bid_amount_local_micro: existing 1500000, requested 2000000" in str(err.value)
    assert 'if_exists="update"' in str(err.value)
    assert len(writes(emu)) == before

    assert (
        execute(create_op(name="spring", bid_amount_local_micro=2_000_000, if_exists="update")) == line_item
    )
    (li,) = line_items_named(emu, "spring")
    assert li["bid_amount_local_micro"] == 2_000_000
    assert [r["method"] for r in writes(emu)[before:]] == ["PUT"]


def test_immutable_setting_cannot_be_updated(emu, execute):
    execute(create_op(name="spring"))
    with pytest.raises(SettingsMismatchError, match="cannot be changed after creation"):
        execute(create_op(name="spring", placements=["TWITTER_TIMELINE"], if_exists="update"))


def test_commit_then_drop_on_create_is_looked_up_not_resent(emu, execute):
    emu.admin.set_faults({"script": ["commit_then_drop"], "match": {"method": "POST", "path": "line_items"}})
    line_item = execute(create_op(name="lost response"))
    (li,) = line_items_named(emu, "lost response")
    assert li["id"] == line_item
    posts = [r for r in emu.admin.requests() if r["method"] == "POST"]
    assert [r["fault"] for r in posts] == ["commit_then_drop"]  # committed once, never re-sent


def test_derived_name_is_deterministic_per_run(emu, execute):
    op = CreateLineItemOperator(task_id="create", **BASE)
    first = execute(op, run_id="scheduled__2024-05-01")
    assert execute(op, run_id="scheduled__2024-05-01") == first
    other = execute(op, run_id="scheduled__2024-05-02")
    mapped = execute(op, run_id="scheduled__2024-05-01", map_index=2)
    assert len({first, other, mapped}) == 3
    names = {li["name"] for li in emu.admin.state()["line_items"] if li["campaign_id"] == CAMPAIGN}
    assert names == {
        "test_dag.create.scheduled__2024-05-01",
        "test_dag.create.scheduled__2024-05-02",
        "test_dag.create.scheduled__2024-05-01.m2",
    }


def many(n: int) -> list[dict[str, Any]]:
    return [{"name": f"city-{i:03d}"} for i in range(n)]


def batch_posts(emu: Any) -> list[dict[str, Any]]:
    return [r for r in emu.admin.requests() if r["method"] == "POST" and r["path"].startswith("/12/batch/")]


def test_many_line_items_go_in_batches_of_20_and_a_rerun_writes_nothing(emu, execute):
    op = create_op(line_items=many(45), bid_strategy="AUTO", bid_amount_local_micro=None)
    ids = execute(op)
    assert len(ids) == len(set(ids)) == 45
    assert len(batch_posts(emu)) == 3  # 20 + 20 + 5
    state = [li for li in emu.admin.state()["line_items"] if li["campaign_id"] == CAMPAIGN]
    assert sorted(li["name"] for li in state) == [f"city-{i:03d}" for i in range(45)]
    assert {li["id"]: li["name"] for li in state} == {i: f"city-{n:03d}" for n, i in enumerate(ids)}

    assert execute(op) == ids
    assert len(batch_posts(emu)) == 3


def test_ambiguous_batch_chunk_is_reconciled_without_duplicates(emu, execute):
    emu.admin.set_faults(
        {"script": ["none", "commit_then_drop"], "match": {"method": "POST", "path": "batch"}}
    )
    ids = execute(create_op(line_items=many(45), bid_strategy="AUTO", bid_amount_local_micro=None))
    state = [li for li in emu.admin.state()["line_items"] if li["campaign_id"] == CAMPAIGN]
    assert len(state) == 45 and sorted(li["id"] for li in state) == sorted(ids)
    # chunk 2 was committed but its response lost: looked up, then only chunk 3 was sent
    assert [r["fault"] for r in batch_posts(emu)] == [None, "commit_then_drop", None]


def test_feature_gated_objective_fails_before_any_write_with_the_accounts_features(emu, execute):
    with pytest.raises(AccountFeatureError) as err:
        execute(create_op(name="qi", objective="QUALIFIED_IMPRESSIONS"))
    text = str(err.value)
    assert "QUALIFIED_VIEWS" in text and "REACH_FREQUENCY_CAP" in text  # what the account has
    assert "one product" in text
    assert [r["path"] for r in emu.admin.requests()] == [f"/12/accounts/{SEED['account_id']}/features"]


@pytest.mark.parametrize(
    ("kwargs", "parameter"),
    [
        ({"objective": "CLICKS"}, "objective"),
        ({"campaign_id": None}, "campaign_id"),
        ({"start_time": "next tuesday"}, "start_time"),
        ({"placements": ["EVERYWHERE"]}, "placements"),
        ({"if_exists": "overwrite"}, "if_exists"),
        ({"line_items": [{"name": "a"}, {"name": "a"}]}, "line_items[1].name"),
        (
            {"line_items": [{"name": "a"}, {"name": "b", "bid_strategy": "CHEAP"}]},
            "line_items[1].bid_strategy",
        ),
        ({"line_items": "a,b"}, "line_items"),
        ({"extra_params": {"nonsense": 1}}, "nonsense"),
    ],
)
def test_bad_input_fails_with_zero_http_calls(emu, execute, kwargs, parameter):
    with pytest.raises(AdsApiValidationError) as err:
        execute(create_op(name="x", **kwargs))
    assert err.value.parameter == parameter
    assert emu.admin.requests() == []


def test_update_activates_once_and_a_rerun_sends_no_put(emu, execute):
    line_item = execute(create_op(name="spring"))
    activate = UpdateLineItemOperator(task_id="activate", line_item_id=line_item, entity_status="ACTIVE")
    assert execute(activate) == line_item
    assert line_items_named(emu, "spring")[0]["entity_status"] == "ACTIVE"
    puts = len([r for r in writes(emu) if r["method"] == "PUT"])
    execute(activate)
    assert len([r for r in writes(emu) if r["method"] == "PUT"]) == puts == 1


def test_update_bid_budget_and_times_of_several(emu, execute):
    ids = execute(create_op(line_items=many(2)))
    op = UpdateLineItemOperator(
        task_id="tune",
        line_item_id=ids,
        bid_amount_local_micro=2_500_000,
        total_budget_amount_local_micro=50_000_000,
        end_time="2024-06-01 02:00:00+02:00",
    )
    assert execute(op) == ids
    for li in emu.admin.state()["line_items"]:
        if li["id"] in ids:
            assert (li["bid_amount_local_micro"], li["total_budget_amount_local_micro"], li["end_time"]) == (
                2_500_000,
                50_000_000,
                "2024-06-01T00:00:00Z",
            )


def test_activating_a_draft_says_to_use_the_ads_ui(emu, execute):
    op = UpdateLineItemOperator(task_id="a", line_item_id=SEED["draft_line_item_id"], entity_status="ACTIVE")
    with pytest.raises(DraftEntityError, match="Ads UI"):
        execute(op)


def test_update_rejects_draft_status_before_any_call(emu, execute):
    op = UpdateLineItemOperator(task_id="a", line_item_id="abc", entity_status="DRAFT")
    with pytest.raises(AdsApiValidationError) as err:
        execute(op)
    assert err.value.parameter == "entity_status"
    assert emu.admin.requests() == []


def test_delete_is_idempotent(emu, execute):
    line_item = execute(create_op(name="doomed"))
    op = DeleteLineItemOperator(task_id="rollback", line_item_id=line_item)
    assert execute(op) == line_item
    assert execute(op) == line_item  # already deleted: succeeds
    assert line_items_named(emu, "doomed") == []
    deletes = [r["status"] for r in emu.admin.requests() if r["method"] == "DELETE"]
    assert deletes == [200, 404]


@pytest.mark.parametrize(
    ("host", "expected"),
    [
        ("https://ads-api.x.com", "https://ads.x.com/campaign_form/acc/campaign/camp/adgroup/li1/details"),
        (
            "https://ads-api-sandbox.x.com/",
            "https://ads.x.com/campaign_form/acc/campaign/camp/adgroup/li1/details",
        ),
        ("http://127.0.0.1:8765", ""),  # the emulator: no such line item in the Ads UI
    ],
)
def test_the_line_item_link_points_at_the_ads_ui_only_for_x_hosts(host, expected):
    from airflow_provider_twads.links import _url_from_value

    value = {"account_id": "acc", "campaign_ids": ["camp"], "line_item_ids": ["li1"], "host": host}
    assert _url_from_value(value) == expected
