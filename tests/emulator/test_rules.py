"""Each documented rule of the endpoints, over signed HTTP; outcomes checked in the emulator's state."""

from __future__ import annotations

from typing import Any

import pytest

from twads_emulator import SEED

from .conftest import LINE_ITEM, error_codes


def _line_items(emu: Any, campaign_id: str) -> list[dict[str, Any]]:
    return [li for li in emu.admin.state("line_items")["line_items"] if li["campaign_id"] == campaign_id]


# ---- routing, versions, accounts -----------------------------------------------------------------------
@pytest.mark.parametrize("version", ["11", "12"])
def test_both_versions_serve_the_same_api(api: Any, version: str) -> None:
    response = api.request("GET", "line_items/8v7jo", version=version)
    assert response.status_code == 200
    assert response.json()["data"]["objective"] == "ENGAGEMENTS"


@pytest.mark.parametrize("path", ["/10/accounts", "/12/nothing_here", "/12/accounts/18ce54d4x5t/widgets"])
def test_unknown_version_or_path_is_404_envelope(api: Any, path: str) -> None:
    response = api.session.get(api.base_url + path, timeout=10)
    assert response.status_code == 404
    assert error_codes(response) == ["ROUTE_NOT_FOUND"]


def test_put_on_promoted_tweets_is_not_allowed(api: Any) -> None:
    response = api.put("promoted_tweets/1efwlo")
    assert response.status_code == 405
    assert error_codes(response) == ["METHOD_NOT_ALLOWED"]


def test_accounts_lists_only_the_tokens_accounts(api: Any) -> None:
    ids = [a["id"] for a in api.request("GET", "accounts", account=None).json()["data"]]
    assert ids == [SEED["account_id"], SEED["second_account_id"]]


def test_account_the_token_may_not_use_is_403(api: Any) -> None:
    response = api.request("GET", "line_items", account=SEED["other_account_id"])
    assert response.status_code == 403
    assert error_codes(response) == ["UNAUTHORIZED_CLIENT_APPLICATION"]
    # An unknown account is 403 ACCOUNT_NOT_FOUND on the API (not 404: never "already deleted").
    unknown = api.request("GET", "", account="nosuchacct")
    assert unknown.status_code == 403 and error_codes(unknown) == ["ACCOUNT_NOT_FOUND"]


def test_features_filter(api: Any, emu: Any) -> None:
    assert "QUALIFIED_VIEWS" not in api.get("features").json()["data"]
    body = api.get("features", feature_keys="REACH_FREQUENCY_CAP,NOPE").json()
    assert body["data"] == ["REACH_FREQUENCY_CAP"]
    assert body["request"]["params"]["feature_keys"] == ["REACH_FREQUENCY_CAP", "NOPE"]


# ---- campaigns and drafts --------------------------------------------------------------------------------
def test_campaign_listing_drafts(api: Any) -> None:
    def ids(**params: Any) -> set[str]:
        return {c["id"] for c in api.get("campaigns", **params).json()["data"]}

    assert SEED["draft_campaign_id"] not in ids()
    assert SEED["draft_campaign_id"] in ids(with_draft="true")
    assert ids(draft_only="true") == {SEED["draft_campaign_id"]}


@pytest.mark.parametrize("resource,entity_id", [("campaigns", "6aian"), ("line_items", "6ll9a")])
@pytest.mark.parametrize("status", ["ACTIVE", "PAUSED"])
def test_drafts_cannot_be_activated_or_paused_through_the_api(
    api: Any, emu: Any, resource: str, entity_id: str, status: str
) -> None:
    response = api.put(f"{resource}/{entity_id}", entity_status=status)
    assert response.status_code == 400
    assert response.json()["errors"] == [
        {
            "code": "INVALID_PARAMETER",
            "message": "Draft entities can only be activated or paused via the Twitter Ads UI",
            "parameter": "entity_status",
        }
    ]
    # The Ads UI (admin) can; afterwards the API may pause it.
    emu.admin.activate(resource, entity_id)
    assert api.get(f"{resource}/{entity_id}").json()["data"]["entity_status"] == "ACTIVE"
    assert api.put(f"{resource}/{entity_id}", entity_status="PAUSED").status_code == 200


def test_campaign_create_update_delete(api: Any, emu: Any) -> None:
    created = api.post("campaigns", funding_instrument_id="lygyi", name="c1", entity_status="DRAFT")
    assert created.status_code == 200, created.text
    cid = created.json()["data"]["id"]
    assert api.put(f"campaigns/{cid}", name="renamed").json()["data"]["name"] == "renamed"
    assert api.delete(f"campaigns/{cid}").json()["data"]["deleted"] is True
    assert api.delete(f"campaigns/{cid}").status_code == 404
    assert api.get(f"campaigns/{cid}").status_code == 404
    assert api.get(f"campaigns/{cid}", with_deleted="true").json()["data"]["deleted"] is True
    bad = api.post("campaigns", funding_instrument_id="nope", name="x")
    assert bad.status_code == 404 and error_codes(bad) == ["FUNDING_INSTRUMENT_NOT_FOUND"]
    budget = api.post(
        "campaigns",
        funding_instrument_id="lygyi",
        name="b",
        daily_budget_amount_local_micro="20",
        total_budget_amount_local_micro="10",
    )
    assert (
        budget.status_code == 400
        and budget.json()["errors"][0]["parameter"] == "daily_budget_amount_local_micro"
    )


MISSING, EXCLUSIVE, BID = "MISSING_PARAMETER", "EXCLUSIVE_PARAMETERS", "bid_amount_local_micro"


# ---- line items ------------------------------------------------------------------------------------------
@pytest.mark.parametrize("missing", ["campaign_id", "objective", "product_type", "placements"])
def test_line_item_required_parameters(api: Any, missing: str) -> None:
    params = {k: val for k, val in LINE_ITEM.items() if k != missing}
    response = api.post("line_items", **params)
    assert response.status_code == 400
    assert response.json()["errors"][0] == {
        "code": MISSING,
        "message": f"{missing} is missing",
        "parameter": missing,
    }


def test_line_item_both_vocabularies_stored_in_current_names(api: Any, emu: Any) -> None:
    legacy = api.post(
        "line_items",
        campaign_id="8slvg",
        objective="TWEET_ENGAGEMENTS",
        product_type="PROMOTED_TWEETS",
        placements="ALL_ON_TWITTER",
        bid_type="MAX",
        bid_amount_local_micro="500",
        charge_by="ENGAGEMENT",
    )
    assert legacy.status_code == 200, legacy.text
    assert legacy.json()["request"]["params"]["objective"] == "TWEET_ENGAGEMENTS"  # echoed as sent
    stored = _line_items(emu, "8slvg")[0]
    assert (stored["objective"], stored["bid_strategy"], stored["pay_by"]) == (
        "ENGAGEMENTS",
        "MAX",
        "ENGAGEMENT",
    )
    auto = api.post("line_items", **{**LINE_ITEM, "automatically_select_bid": "true"})
    assert auto.json()["data"]["bid_strategy"] == "AUTO"
    assert auto.json()["data"]["bid_amount_local_micro"] is None  # "will be ignored"
    bad = api.post("line_items", **{**LINE_ITEM, "objective": "NOPE"})
    assert bad.status_code == 400
    message = bad.json()["errors"][0]["message"]
    assert "ENGAGEMENTS" in message and "TWEET_ENGAGEMENTS" in message


@pytest.mark.parametrize(
    "params,code,parameter",
    [
        ({"bid_type": "MAX", "automatically_select_bid": "true"}, EXCLUSIVE, "automatically_select_bid"),
        ({"bid_type": "MAX", "bid_strategy": "MAX"}, EXCLUSIVE, "bid_type"),
        ({"bid_amount_local_micro": "0"}, "INVALID_PARAMETER", BID),
        ({"bid_amount_local_micro": "-5"}, "INVALID_PARAMETER", BID),
        ({"bid_amount_local_micro": None, "bid_strategy": "MAX"}, MISSING, BID),
        ({"bid_amount_local_micro": None, "bid_type": "TARGET"}, MISSING, BID),
        ({"bid_amount_local_micro": None, "automatically_select_bid": "false"}, MISSING,
         BID),
        ({"bid_strategy": "TARGET"}, "INVALID_PARAMETER", "bid_strategy"),
        ({"objective": "REACH", "bid_strategy": "MAX"}, "INVALID_PARAMETER", "bid_strategy"),
        ({"placements": "PUBLISHER_NETWORK"}, MISSING, "advertiser_domain"),
        ({"placements": "PUBLISHER_NETWORK", "advertiser_domain": "x.com"}, MISSING, "categories"),
        ({"product_type": "MEDIA", "include_sentiment": "ALL"}, "INVALID_PARAMETER", "include_sentiment"),
        ({"objective": "APP_INSTALLS"}, MISSING, "ios_app_store_identifier"),
        ({"objective": "FOLLOWERS", "bid_strategy": "TARGET", "frequency_cap": "3"}, "INVALID_PARAMETER",
         "frequency_cap"),
        ({"placements": "NOWHERE"}, "INVALID_PARAMETER", "placements"),
        ({"start_time": "yesterday"}, "INVALID_PARAMETER", "start_time"),
        ({"start_time": "2030-01-02", "end_time": "2030-01-01"}, "INVALID_PARAMETER", "end_time"),
        ({"bid_amount_local_micro": "9" * 40}, "INVALID_PARAMETER", BID),
        ({"surprise": "1"}, "INVALID_PARAMETER", "surprise"),
        ({"campaign_id": "nosuch"}, "CAMPAIGN_NOT_FOUND", "campaign_id"),
    ],
)  # fmt: skip
def test_line_item_rules(api: Any, emu: Any, params: dict[str, Any], code: str, parameter: str) -> None:
    merged = {k: val for k, val in {**LINE_ITEM, **params}.items() if val is not None}
    response = api.post("line_items", **merged)
    assert response.status_code in (400, 404), response.text
    error = response.json()["errors"][0]
    assert (error["code"], error["parameter"]) == (code, parameter), error
    assert _line_items(emu, "8slvg") == []  # nothing written


def test_publisher_network_with_domain_and_categories_is_accepted(api: Any) -> None:
    response = api.post(
        "line_items", **{**LINE_ITEM, "placements": "PUBLISHER_NETWORK", "advertiser_domain": "x.com",
                         "categories": "IAB3-1"}
    )  # fmt: skip
    assert response.status_code == 200, response.text
    assert response.json()["data"]["categories"] == ["IAB3-1"]


def test_qualified_impressions_needs_the_account_feature(api: Any, emu: Any) -> None:
    params = {**LINE_ITEM, "objective": "QUALIFIED_IMPRESSIONS", "bid_strategy": "AUTO"}
    params.pop("bid_amount_local_micro")
    refused = api.post("line_items", **params)
    assert refused.status_code == 400
    assert refused.json()["errors"] == [
        {
            "code": "INVALID",
            "message": "Saving value QUALIFIED_VIEWS to field OBJECTIVE requires one of these account "
            "features: QUALIFIED_VIEWS",
            "attribute": "objective",
        }
    ]
    emu.admin.set_features(SEED["account_id"], ["QUALIFIED_VIEWS"])
    assert "QUALIFIED_VIEWS" in api.get("features").json()["data"]
    assert api.post("line_items", **params).status_code == 200


def test_line_items_of_a_campaign_share_product_type_and_objective(api: Any) -> None:
    assert api.post("line_items", **LINE_ITEM).status_code == 200
    other = api.post("line_items", **{**LINE_ITEM, "objective": "WEBSITE_CLICKS"})
    assert other.status_code == 400 and other.json()["errors"][0]["parameter"] == "objective"
    media = api.post("line_items", **{**LINE_ITEM, "product_type": "MEDIA"})
    assert media.status_code == 400 and media.json()["errors"][0]["parameter"] == "product_type"


def test_at_most_100_line_items_per_campaign(api: Any, emu: Any) -> None:
    emu.admin.seed_line_items("8slvg", 99)
    assert api.post("line_items", **LINE_ITEM).status_code == 200
    refused = api.post("line_items", **LINE_ITEM)
    assert refused.status_code == 400 and error_codes(refused) == ["TOO_MANY_LINE_ITEMS"]
    assert len(_line_items(emu, "8slvg")) == 100
    # A deleted line item frees its place.
    first = _line_items(emu, "8slvg")[0]["id"]
    assert api.delete(f"line_items/{first}").status_code == 200
    assert api.post("line_items", **LINE_ITEM).status_code == 200


def test_line_item_update_and_delete(api: Any, emu: Any) -> None:
    updated = api.put("line_items/8v7jo", bid_amount_local_micro="140000", name="renamed", end_time="")
    assert updated.status_code == 200
    assert (updated.json()["data"]["bid_amount_local_micro"], updated.json()["data"]["name"]) == (
        140000,
        "renamed",
    )
    assert api.put("line_items/8v7jo", objective="REACH").status_code == 400  # not updatable
    assert api.put("line_items/8v7jo", entity_status="DRAFT").status_code == 400
    assert api.delete("line_items/8v7jo").status_code == 200
    second = api.delete("line_items/8v7jo")
    assert second.status_code == 404 and error_codes(second) == ["LINE_ITEM_NOT_FOUND"]


def test_line_item_list_filters(api: Any, emu: Any) -> None:
    def ids(**params: Any) -> list[str]:
        response = api.get("line_items", **params)
        assert response.status_code == 200, response.text
        return [li["id"] for li in response.json()["data"]]

    assert ids(campaign_ids="8gdx6") == ["8v7jo"]
    assert ids(line_item_ids="8v7jo,itttx") == ["8v7jo", "itttx"]
    assert "6ll9a" not in ids() and "6ll9a" in ids(with_draft="true")
    assert ids(draft_only="true") == ["6ll9a"]
    assert set(ids(funding_instrument_ids="lygyi")) == set(ids())
    assert ids(q="li-") == ["itttx"]
    api.delete("line_items/8v7jo")
    assert ids(campaign_ids="8gdx6") == [] and ids(campaign_ids="8gdx6", with_deleted="true") == ["8v7jo"]
    bids = [
        li["bid_amount_local_micro"]
        for li in api.get("line_items", sort_by="bid_amount_local_micro-desc").json()["data"]
    ]
    assert bids == sorted(bids, reverse=True)
    echo = api.get("line_items", sort_by="bid_amount_local_micro-desc").json()["request"]["params"]
    assert echo["sort_by"] == ["bid_amount_local_micro-desc"]  # as in fundamentals/sorting.mdx
    assert api.get("line_items", sort_by="objective-up").status_code == 400
    too_many = ",".join(f"id{i}" for i in range(201))
    assert api.get("line_items", line_item_ids=too_many).status_code == 400


# ---- batch -----------------------------------------------------------------------------------------------
def _create(**params: Any) -> dict[str, Any]:
    return {"operation_type": "Create", "params": {**LINE_ITEM, "bid_amount_local_micro": 1000, **params}}


def test_batch_is_all_or_nothing_with_errors_in_input_order(api: Any, emu: Any) -> None:
    ops = [
        _create(name="a"),
        _create(name="b", objective="NOPE"),
        _create(name="c"),
        _create(bid_amount_local_micro=0),
    ]
    response = api.batch("line_items", ops)
    assert response.status_code == 400
    errors = response.json()["operation_errors"]
    assert [bool(e) for e in errors] == [False, True, False, True]
    assert errors[1][0]["parameter"] == "objective" and errors[3][0]["parameter"] == "bid_amount_local_micro"
    assert _line_items(emu, "8slvg") == []  # nothing applied
    ok = api.batch("line_items", [_create(name="a"), _create(name="b")])
    assert ok.status_code == 200
    assert [li["name"] for li in ok.json()["data"]] == ["a", "b"]
    update_delete = api.batch(
        "line_items",
        [
            {
                "operation_type": "Update",
                "params": {"line_item_id": ok.json()["data"][0]["id"], "name": "a2"},
            },
            {"operation_type": "Delete", "params": {"line_item_id": ok.json()["data"][1]["id"]}},
        ],
    )
    assert update_delete.status_code == 200
    assert [(li["name"], li["deleted"]) for li in _line_items(emu, "8slvg")] == [("a2", False), ("b", True)]


def test_batch_request_level_errors(api: Any) -> None:
    too_big = api.batch("line_items", [_create(name=str(i)) for i in range(41)])
    assert too_big.status_code == 400 and "errors" in too_big.json()
    assert "40" in too_big.json()["errors"][0]["message"]
    assert api.batch("line_items", []).status_code == 400
    assert api.batch("targeting_criteria", [{"operation_type": "Update", "params": {}}]).status_code == 400
    raw = api.session.post(
        f"{api.base_url}/12/batch/accounts/{SEED['account_id']}/line_items",
        data="[{not json", headers={"Content-Type": "application/json"}, timeout=10,
    )  # fmt: skip
    assert raw.status_code == 400 and error_codes(raw) == ["INVALID_PARAMETER"]


def test_batch_targeting_counts_rules_across_the_batch(api: Any, emu: Any) -> None:
    ages = [
        {
            "operation_type": "Create",
            "params": {"line_item_id": "8v7jo", "targeting_type": "AGE", "targeting_value": v},
        }
        for v in ("AGE_18_TO_24", "AGE_25_TO_34")
    ]
    response = api.batch("targeting_criteria", ages)
    assert response.status_code == 400
    assert [bool(e) for e in response.json()["operation_errors"]] == [False, True]
    assert not [
        c for c in emu.admin.state("targeting_criteria")["targeting_criteria"] if c["line_item_id"] == "8v7jo"
    ]
    big = [
        {"operation_type": "Create", "params": {"line_item_id": "8v7jo", "targeting_type": "BROAD_KEYWORD",
                                                "targeting_value": f"kw{i}"}}
        for i in range(500)
    ]  # fmt: skip
    assert api.batch("targeting_criteria", big).status_code == 200
    assert api.batch("targeting_criteria", [*big, big[0]]).status_code == 400


# ---- targeting criteria ----------------------------------------------------------------------------------
def _criterion(api: Any, ttype: str, value: str, **extra: Any) -> Any:
    return api.post(
        "targeting_criteria", line_item_id="8v7jo", targeting_type=ttype, targeting_value=value, **extra
    )


def test_one_age_bucket_per_line_item(api: Any) -> None:
    assert _criterion(api, "AGE", "AGE_18_TO_24").status_code == 200
    second = _criterion(api, "AGE", "AGE_25_TO_34")
    assert second.status_code == 400 and second.json()["errors"][0]["parameter"] == "targeting_type"


def test_app_list_only_with_ne(api: Any) -> None:
    assert _criterion(api, "APP_LIST", "abc").status_code == 400
    assert _criterion(api, "APP_LIST", "abc", operator_type="NE").json()["data"]["operator_type"] == "NE"


def test_tv_show_needs_a_location_first(api: Any) -> None:
    refused = _criterion(api, "TV_SHOW", "10000")
    assert refused.status_code == 400 and error_codes(refused) == ["INVALID_TV_SHOW_LOCATIONS"]
    assert _criterion(api, "LOCATION", "96683cc9126741d1").status_code == 200
    assert _criterion(api, "TV_SHOW", "10000").status_code == 200


def test_targeting_list_needs_line_item_ids_and_lang_adds_localized_name(api: Any) -> None:
    missing = api.get("targeting_criteria")
    assert missing.status_code == 400 and error_codes(missing) == [MISSING]
    data = api.get("targeting_criteria", line_item_ids="6ll9a", lang="fr").json()["data"]
    assert data[0]["localized_name"] == "\u00c9tats-Unis"
    assert "localized_name" not in api.get("targeting_criteria", line_item_ids="6ll9a").json()["data"][0]
    assert (
        api.get("targeting_criteria", line_item_ids=",".join(f"x{i}" for i in range(201))).status_code == 400
    )


def test_targeting_delete_twice(api: Any) -> None:
    assert api.delete("targeting_criteria/dpl3a6").json()["data"]["deleted"] is True
    assert api.delete("targeting_criteria/dpl3a6").status_code == 404


# ---- promoted tweets ---------------------------------------------------------------------------------------
def test_promoted_tweets_of_a_deleted_line_item_only_with_deleted(api: Any) -> None:
    assert api.delete("line_items/96uzp").status_code == 200
    assert api.get("promoted_tweets", line_item_ids="96uzp").json()["data"] == []
    assert api.get("promoted_tweets/1efwlo").status_code == 404
    listed = api.get("promoted_tweets", line_item_ids="96uzp", with_deleted="true").json()["data"]
    assert [(p["id"], p["deleted"]) for p in listed] == [("1efwlo", False)]
    assert api.get("promoted_tweets/1efwlo", with_deleted="true").json()["data"]["deleted"] is False


def test_promoted_tweets_create_limits(api: Any) -> None:
    fifty = ",".join(str(10**17 + i) for i in range(50))
    created = api.post("promoted_tweets", line_item_id="8v7jo", tweet_ids=fifty)
    assert created.status_code == 200 and created.json()["total_count"] == 50
    assert api.post("promoted_tweets", line_item_id="8v7jo", tweet_ids=fifty + ",1").status_code == 400
    assert api.post("promoted_tweets", line_item_id="8v7jo", tweet_ids="abc").status_code == 400
    assert api.post("promoted_tweets", line_item_id="nosuch", tweet_ids="1").status_code == 404


def test_approval_rules(api: Any, emu: Any) -> None:
    emu.admin.set_approval({"status": "ACCEPTED", "after_seconds": 3600, "tweets": {"2": "REJECTED"}})
    data = api.post("promoted_tweets", line_item_id="8v7jo", tweet_ids="1,2").json()["data"]
    assert [p["approval_status"] for p in data] == ["PENDING", "REJECTED"]
    assert api.get(f"promoted_tweets/{data[0]['id']}").json()["data"]["approval_status"] == "PENDING"
    emu.admin.set_approval({"mode": "immediate", "status": "ACCEPTED"})
    assert api.get(f"promoted_tweets/{data[0]['id']}").json()["data"]["approval_status"] == "ACCEPTED"
    emu.admin.set_approval({"mode": "manual"})
    assert api.post("promoted_tweets", line_item_id="8v7jo", tweet_ids="3").json()["data"][0][
        "approval_status"
    ] == ("PENDING")


# ---- bad input never crashes -------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "params",
    [
        {"count": "0"}, {"count": "1001"}, {"count": "abc"}, {"count": "1" * 400}, {"with_deleted": "maybe"},
        {"cursor": "garbage"}, {"sort_by": "x" * 5000}, {"line_item_ids": "\u0000"}, {"q": "\ud7ff" * 300},
    ],
)  # fmt: skip
def test_bad_input_gets_a_400_envelope(api: Any, emu: Any, params: dict[str, str]) -> None:
    response = api.get("line_items", **params)
    assert response.status_code == 400, response.text
    assert response.json()["errors"][0]["code"] in ("INVALID_PARAMETER", MISSING)
    assert all(r["status"] != 500 for r in emu.admin.requests())


def test_malformed_json_body_on_a_single_endpoint(api: Any) -> None:
    response = api.session.post(
        api.url("line_items"), data="{oops", headers={"Content-Type": "application/json"}, timeout=10
    )
    assert response.status_code == 400 and error_codes(response) == ["INVALID_PARAMETER"]
    wrong_type = api.request("POST", "line_items", json={**LINE_ITEM, "bid_amount_local_micro": {"a": 1}})
    assert wrong_type.status_code == 400


def test_refusals_carry_the_envelope_and_rate_limit_headers(api: Any) -> None:
    forbidden = api.request("GET", "line_items/8v7jo", account=SEED["other_account_id"])
    assert forbidden.json()["request"]["params"] == {
        "account_id": SEED["other_account_id"],
        "line_item_id": "8v7jo",
    }
    assert "x-rate-limit-remaining" in forbidden.headers
    unauthenticated = api.session.get(api.base_url + "/12/accounts", auth=lambda r: r, timeout=10)
    assert unauthenticated.status_code == 401 and "x-rate-limit-limit" in unauthenticated.headers
