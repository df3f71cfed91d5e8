"""What the reconciliation package shares: its public names, its errors, and the look-before-writing loop."""

from __future__ import annotations

import pickle
from typing import Any

import pytest

from airflow_provider_twads import reconcile
from airflow_provider_twads.api.errors import AdsApiError, AmbiguousWriteError, NotFoundError
from airflow_provider_twads.reconcile._common import MAX_AMBIGUOUS_ATTEMPTS, write_missing
from tests.operators.test_reconcile_inputs import LINE_ITEM_SPEC


def test_public_names_stay_importable_from_the_package() -> None:
    from airflow_provider_twads.reconcile import errors, line_items, promoted_tweets, targeting

    # What the single module exported before it became a package (campaigns came later).
    before = {
        "IF_EXISTS_MODES", "TARGETING_MODES", "LineItemResult", "PartialApplyError", "ReconcileError",
        "SettingsMismatchError", "TargetingPlan", "apply_targeting", "check_targeting_rules", "criterion_key",
        "delete_line_item", "derive_line_item_name", "diff_line_item", "ensure_line_items",
        "ensure_promoted_tweets", "find_line_items_by_name", "format_diff", "normalize_criteria",
        "plan_targeting", "split_ids", "to_api_time", "update_line_item", "validate_tweet_ids",
    }  # fmt: skip
    assert before <= set(reconcile.__all__)
    for name in reconcile.__all__:
        assert getattr(reconcile, name) is not None
    for module in (errors, line_items, promoted_tweets, targeting):
        assert set(module.__all__) <= {*reconcile.__all__, "CriterionKey"}, module.__name__


def _errors() -> list[reconcile.ReconcileError]:
    diff = {"bid_amount_local_micro": (1_500_000, 2_000_000)}
    return [
        reconcile.SettingsMismatchError([("spring", "li1", diff)]),
        reconcile.SettingsMismatchError(
            [("spring", "li1", {"objective": ("REACH", "ENGAGEMENTS")})], immutable=True
        ),
        reconcile.PartialApplyError(
            "Targeting failed: boom\nApplied before the failure: 5", applied={"created": ["a"]}
        ),
    ]


@pytest.mark.parametrize("index", range(3))
def test_reconcile_errors_are_api_errors_that_keep_their_lines_and_pickle(index: int) -> None:
    err = _errors()[index]
    assert isinstance(err, AdsApiError) and isinstance(err, reconcile.ReconcileError)
    assert "\n" in str(err) and str(err) == err.message  # several lines, as written, no headline added
    copy = pickle.loads(pickle.dumps(err))  # Airflow ships exceptions between processes
    assert type(copy) is type(err) and str(copy) == str(err)
    assert copy.__dict__ == err.__dict__


def test_one_except_clause_catches_what_reconciliation_raises(client: Any) -> None:
    reconcile.ensure_line_items(client, [{**LINE_ITEM_SPEC, "name": "twice"}])
    with pytest.raises(AdsApiError) as info:  # the base class users catch
        reconcile.ensure_line_items(
            client, [{**LINE_ITEM_SPEC, "name": "twice", "start_time": "2031-02-01T00:00:00Z"}]
        )
    assert isinstance(info.value, reconcile.SettingsMismatchError)
    assert "start_time: existing" in str(info.value) and "requested '2031-02-01T00:00:00Z'" in str(info.value)


def test_a_delete_whose_response_was_lost_is_checked_not_failed(emu: Any, client: Any) -> None:
    (made,) = reconcile.ensure_line_items(client, [{**LINE_ITEM_SPEC, "name": "doomed"}])
    emu.admin.set_faults(
        {"script": ["commit_then_drop"], "match": {"method": "DELETE", "path": "line_items"}}
    )
    assert reconcile.delete_line_item(client, made.id) == "already deleted"  # the second DELETE is a 404
    assert [r["status"] for r in emu.admin.requests() if r["method"] == "DELETE"][1:] == [404]
    (item,) = [li for li in emu.admin.state()["line_items"] if li["id"] == made.id]
    assert item["deleted"]


def test_creates_that_keep_ending_ambiguously_are_bounded_and_say_what_was_applied(
    emu: Any, client: Any
) -> None:
    # "drop": nothing is written, but the client cannot know it; each attempt is looked up first.
    emu.admin.set_faults({"script": ["drop"] * 5, "match": {"method": "POST", "path": "line_items"}})
    lines: list[str] = []
    with pytest.raises(reconcile.PartialApplyError) as info:
        reconcile.ensure_line_items(client, [{**LINE_ITEM_SPEC, "name": "unlucky"}], progress=lines.append)
    assert isinstance(info.value.__cause__, AmbiguousWriteError)
    assert "0 of 1 line items created" in str(info.value) and "Re-run the task" in str(info.value)
    posts = [r for r in emu.admin.requests() if r["method"] == "POST"]
    assert len(posts) == MAX_AMBIGUOUS_ATTEMPTS
    assert sum("Looked up after an ambiguous write" in line for line in lines) == MAX_AMBIGUOUS_ATTEMPTS
    assert not [li for li in emu.admin.state()["line_items"] if li["name"] == "unlucky"]


def test_write_missing_writes_only_what_a_look_finds_missing() -> None:
    sent: list[list[str]] = []

    def write(todo: list[str]) -> str:
        sent.append(todo)
        if len(sent) == 1:
            raise AmbiguousWriteError("timed out")
        return "ok"

    assert write_missing(["a", "b", "c"], write, lambda todo, _: [t for t in todo if t != "b"]) == "ok"
    assert sent == [["a", "b", "c"], ["a", "c"]]
    # Everything was applied after all: nothing is written again.
    sent.clear()
    assert write_missing(["a"], write, lambda todo, _: []) is None
    assert sent == [["a"]]


def test_write_missing_maps_failures_and_re_raises_unmapped_ones() -> None:
    def refuse(_: list[str]) -> None:
        raise NotFoundError("gone", status=404)

    with pytest.raises(NotFoundError) as info:  # the default: the API's own error, unchanged
        write_missing(["a"], refuse, lambda todo, _: todo)
    assert info.value.__cause__ is None

    def fail(err: AdsApiError, todo: list[str]) -> Exception:
        return RuntimeError(f"{len(todo)} left after {type(err).__name__}")

    def ambiguous(_: list[str]) -> None:
        raise AmbiguousWriteError("timed out")

    with pytest.raises(RuntimeError, match="1 left after AmbiguousWriteError") as failed:
        write_missing(["a"], ambiguous, lambda todo, _: todo, fail=fail, attempts=2)
    assert isinstance(failed.value.__cause__, AmbiguousWriteError)
