"""Every configuration the emulator takes refuses what it does not understand, naming it and the allowed ones:
admin calls (400, nothing changed), ``EmulatorServer(...)`` (ValueError) and the CLI flags (exit status 2)."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from collections.abc import Callable
from typing import Any

import pytest

from twads_emulator import SEED, EmulatorServer
from twads_emulator.cli import main as cli_main
from twads_emulator.server import AdminError

# (what is set, bad config, the key the error names, a value the error lists as allowed or None)
BAD: list[tuple[str, Any, str, str | None]] = [
    # approval: the typo that used to be accepted and behave as "immediate"
    ("approval", {"mode": "after", "secs": 3}, "approval.secs", "after_seconds"),
    ("approval", {"mode": "after"}, "approval.after_seconds", None),
    ("approval", {"mode": "later", "after_seconds": 3}, "approval.mode", "manual"),
    ("approval", {"status": "APPROVED"}, "approval.status", "ACCEPTED"),
    ("approval", {"mode": "manual", "status": "ACCEPTED"}, "approval.mode", "manual"),
    ("approval", {"mode": "immediate", "after_seconds": 5}, "approval.after_seconds", None),
    ("approval", {"after_seconds": -1}, "approval.after_seconds", None),
    ("approval", {"after_seconds": "3"}, "approval.after_seconds", None),
    ("approval", {"after_seconds": 3, "seconds": 3}, "approval.seconds", "after_seconds"),
    ("approval", {"tweets": {"123": {"state": "REJECTED"}}}, "approval.tweets.123.state", "status"),
    ("approval", {"tweets": {"123": "DENIED"}}, "approval.tweets.123.status", "REJECTED"),
    ("approval", {"tweets": ["123"]}, "approval.tweets", None),
    # faults
    ("faults", {"scripts": ["503"]}, "faults.scripts", "script"),
    ("faults", {"rules": [{"kind": "503", "prob": 0.5}]}, "faults.rules[0].prob", "probability"),
    ("faults", {"rules": [{"kind": "503", "probability": 1.5}]}, "faults.rules[0].probability", None),
    ("faults", {"rules": [{"kind": "503", "method": "FETCH"}]}, "faults.rules[0].method", "GET"),
    ("faults", {"rules": [{"kind": "503", "path": "(unclosed"}]}, "faults.rules[0].path", None),
    ("faults", {"rules": ["503"]}, "faults.rules[0]", None),
    ("faults", {"script": [{"kind": "latency", "secs": 1}]}, "faults.script[0].secs", "seconds"),
    ("faults", {"script": [{"kind": "500", "retry_after": 1}]}, "faults.script[0].retry_after", "html"),
    ("faults", {"script": [{"kind": "503", "probability": 0.5}]}, "faults.script[0].probability", "kind"),
    ("faults", {"script": ["explode"]}, "faults.script[0].kind", "commit_then_drop"),
    ("faults", {"script": "503"}, "faults.script", None),
    ("faults", {"match": {"method": "POST"}, "rules": []}, "faults.match", None),
    ("faults", {"script": ["503"], "match": {"methods": "POST"}}, "faults.match.methods", "method"),
    ("faults", {"seed": "seven"}, "faults.seed", None),
    ("faults", {"retry_after": -1}, "faults.retry_after", None),
    ("faults", ["503"], "faults", "script"),
    # rate limits
    ("rate_limits", {"write": 3}, "rate_limits.write", "writes"),
    ("rate_limits", {"writes": {"limit": 3, "windw": 60}}, "rate_limits.writes.windw", "window"),
    ("rate_limits", {"writes": {"window": 60}}, "rate_limits.writes.limit", "limit"),
    ("rate_limits", {"writes": 0}, "rate_limits.writes (limit)", None),
    ("rate_limits", {"writes": 2.5}, "rate_limits.writes (limit)", None),
    ("rate_limits", {"writes": True}, "rate_limits.writes (limit)", None),
    ("rate_limits", {"writes": [3]}, "rate_limits.writes", None),
]


def _admin_call(emu: Any, what: str) -> Callable[[Any], Any]:
    return {
        "approval": emu.admin.set_approval,
        "faults": emu.admin.set_faults,
        "rate_limits": emu.admin.set_rate_limits,
    }[what]


def _settings(emu: Any) -> dict[str, Any]:
    state = emu.admin.state("accounts")
    return {"faults": state["faults"], "rate_limits": state["rate_limits"], "features": state["features"]}


@pytest.mark.parametrize(("what", "config", "key", "allowed"), BAD, ids=[f"{b[0]}:{b[2]}" for b in BAD])
def test_admin_refuses_what_it_does_not_understand(
    emu: Any, what: str, config: Any, key: str, allowed: str | None
) -> None:
    emu.admin.set_faults({"rules": [{"kind": "503", "probability": 0.0}]})
    before = _settings(emu)
    with pytest.raises(AdminError) as refused:
        _admin_call(emu, what)(config)
    assert refused.value.status == 400
    assert refused.value.key == key
    assert key.split(".")[-1].split(" ")[0].split("[")[0] in refused.value.error  # named in the message
    if allowed is not None:
        assert allowed in (refused.value.allowed or []) and allowed in refused.value.error
    assert _settings(emu) == before  # nothing applied


def test_a_refused_approval_rule_leaves_the_previous_one(emu: Any) -> None:
    """The typo must not turn an "after 3 s" into "at once": the rule in force stays in force."""
    from .conftest import Api

    emu.admin.set_approval({"mode": "manual"})
    with pytest.raises(AdminError, match="secs"):
        emu.admin.set_approval({"mode": "after", "secs": 3})
    api = Api(emu.base_url)
    try:
        created = api.post("promoted_tweets", line_item_id="8v7jo", tweet_ids="1234567890").json()["data"]
        fetched = api.get(f"promoted_tweets/{created[0]['id']}").json()["data"]
    finally:
        api.close()
    assert fetched["approval_status"] == "PENDING"


@pytest.mark.parametrize(
    ("call", "key", "allowed"),
    [
        (lambda a: a.set_features(SEED["account_id"], ["QUALIFIED_VIEW"]), "features.features[0]",
         "QUALIFIED_VIEWS"),
        (lambda a: a.set_features(SEED["account_id"], "QUALIFIED_VIEWS"), "features.features", None),
        (lambda a: a.seed_line_items("8slvg", 0), "seed.count", None),
        (lambda a: a.seed_line_items("8slvg", 5, entity_stauts="ACTIVE"), "seed.overrides.entity_stauts",
         "entity_status"),
        (lambda a: a.seed_line_items("8slvg", 5, account_id="gq180y"), "seed.overrides.account_id",
         "objective"),
        (lambda a: a.seed_line_items("8slvg", 5, entity_status="RUNNING"), "seed.overrides.entity_status",
         "PAUSED"),
        (lambda a: a.activate("accounts", SEED["account_id"]), "activate.resource", "line_items"),
        (lambda a: a.activate("campaigns", SEED["draft_campaign_id"], "RUNNING"), "activate.status",
         "ACTIVE"),
    ],
)  # fmt: skip
def test_features_seeding_and_activation_refuse_bad_input(
    emu: Any, call: Callable[[Any], Any], key: str, allowed: str | None
) -> None:
    before = emu.admin.state()
    with pytest.raises(AdminError) as refused:
        call(emu.admin)
    assert (refused.value.status, refused.value.key) == (400, key)
    if allowed is not None:
        assert allowed in (refused.value.allowed or [])
    after = emu.admin.state()
    assert {k: after[k] for k in ("line_items", "campaigns", "features")} == {
        k: before[k] for k in ("line_items", "campaigns", "features")
    }


def test_unknown_entities_are_404(emu: Any) -> None:
    with pytest.raises(AdminError) as refused:
        emu.admin.seed_line_items("nosuchcampaign", 3)
    assert refused.value.status == 404 and "nosuchcampaign" in refused.value.error
    with pytest.raises(AdminError) as refused:
        emu.admin.set_features("nosuchaccount", ["QUALIFIED_VIEWS"])
    assert refused.value.status == 404


def _raw(emu: Any, method: str, path: str, body: bytes | None = None) -> tuple[int, Any]:
    request = urllib.request.Request(
        f"{emu.base_url}/_emulator/{path}",
        data=body,
        method=method,
        headers={"Content-Type": "application/json"},  # urllib would say a form; admin writes are JSON
    )
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read())


def test_admin_http_refusals_name_the_problem(emu: Any) -> None:
    status, body = _raw(emu, "GET", "requests?sinse=3")
    assert status == 400 and body["key"] == "query.sinse" and body["allowed"] == ["since"]
    status, body = _raw(emu, "GET", "requests?since=three")
    assert status == 400 and body["key"] == "since"
    status, body = _raw(emu, "GET", "state?kinds=line_item")
    assert status == 400 and "line_items" in body["allowed"]
    status, body = _raw(emu, "POST", "reset", b'{"keep_log": true}')
    assert status == 400 and body["key"] == "reset.keep_log"
    status, body = _raw(emu, "PUT", "faults", b"{not json")
    assert status == 400 and body["key"] == "body"
    status, body = _raw(emu, "PUT", "approvals", b"{}")
    assert status == 404 and "/_emulator/approval" in body["allowed"]
    assert emu.admin.health()["ok"] is True


@pytest.mark.parametrize(
    ("kwargs", "named"),
    [
        ({"approval": {"mode": "after", "secs": 3}}, "secs"),
        ({"faults": {"rules": [{"kind": "503", "prob": 0.1}]}}, "prob"),
        ({"rate_limits": {"writes": {"limit": 5, "windw": 60}}}, "windw"),
        ({"port": 70000}, "port"),
        ({"log_level": "loud"}, "log_level"),
        ({"host": ""}, "host"),
    ],
)
def test_server_constructor_refuses_bad_settings(kwargs: dict[str, Any], named: str) -> None:
    with pytest.raises(ValueError, match=named):
        EmulatorServer(**{"port": 0, **kwargs})


@pytest.mark.parametrize(
    ("flag", "value", "named"),
    [
        ("--approval", '{"mode": "after", "secs": 3}', "approval: unknown key 'secs'"),
        ("--faults", '{"script": [{"kind": "latency", "secs": 1}]}', "faults.script[0]: unknown key 'secs'"),
        ("--rate-limits", '{"write": 5}', "rate_limits: unknown key 'write'"),
    ],
)
def test_cli_refuses_bad_flags(capsys: pytest.CaptureFixture[str], flag: str, value: str, named: str) -> None:
    assert cli_main([flag, value, "--port", "0"]) == 2
    err = capsys.readouterr().err
    assert named in err and "allowed" in err


@pytest.mark.parametrize(
    "argv", [["--log-level", "loud"], ["--port", "70000"], ["--faults", "@/nonexistent.json"]]
)
def test_cli_argument_errors(capsys: pytest.CaptureFixture[str], argv: list[str]) -> None:
    with pytest.raises(SystemExit) as exited:
        cli_main(argv)
    assert exited.value.code == 2
    assert argv[0] in capsys.readouterr().err
