"""AdsApiHook: connections (env JSON and URI), field errors, test_connection, secrets, registration."""

from __future__ import annotations

import asyncio
import json
import logging
import os
import subprocess
import sys
from collections.abc import Iterator
from typing import Any
from urllib.parse import quote

import pytest

from airflow_provider_twads.api.errors import AdsApiError, AdsApiValidationError
from airflow_provider_twads.hooks.ads_api import AdsApiHook
from twads_emulator import DEFAULT_CREDENTIALS, SEED

SECRETS = (
    DEFAULT_CREDENTIALS["consumer_secret"],
    DEFAULT_CREDENTIALS["access_token"],
    DEFAULT_CREDENTIALS["access_token_secret"],
)


def _conn_json(emu: Any, **changes: Any) -> str:
    extra = {
        "access_token": DEFAULT_CREDENTIALS["access_token"],
        "access_token_secret": DEFAULT_CREDENTIALS["access_token_secret"],
        "host": emu.base_url,
        "account_id": SEED["account_id"],
        "timeout": 10,
    }
    conn: dict[str, Any] = {
        "conn_type": "twitter_ads",
        "login": DEFAULT_CREDENTIALS["consumer_key"],
        "password": DEFAULT_CREDENTIALS["consumer_secret"],
        "extra": extra,
    }
    for key, value in changes.items():
        target = conn if key in ("login", "password") else extra
        if value is None:
            target.pop(key, None)
        else:
            target[key] = value
    return json.dumps(conn)


@pytest.fixture
def conn_env(monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    """Set AIRFLOW_CONN_<ID> for a test connection."""

    def set_conn(conn_id: str, value: str) -> str:
        monkeypatch.setenv(f"AIRFLOW_CONN_{conn_id.upper()}", value)
        return conn_id

    yield set_conn


def test_default_connection_from_env_json(emu: Any) -> None:
    hook = AdsApiHook()
    client = hook.get_conn()
    assert client is hook.get_conn()  # cached: one HTTP session per hook
    assert hook.account_id == SEED["account_id"] and client.host == emu.base_url
    assert client.get_account()["id"] == SEED["account_id"]
    assert AdsApiHook(account_id=SEED["second_account_id"]).account_id == SEED["second_account_id"]


def test_connection_from_uri(emu: Any, conn_env: Any) -> None:
    c = DEFAULT_CREDENTIALS
    uri = (
        f"twitter-ads://{quote(c['consumer_key'], safe='')}:{quote(c['consumer_secret'], safe='')}@/"
        f"?access_token={quote(c['access_token'], safe='')}"
        f"&access_token_secret={quote(c['access_token_secret'], safe='')}"
        f"&host={quote(emu.base_url, safe='')}&api_version=11&account_id={SEED['account_id']}"
    )
    hook = AdsApiHook(conn_env("twads_uri", uri))
    assert hook.settings.api_version == "11"
    assert hook.get_conn().get_line_item(SEED["line_item_id"])["id"] == SEED["line_item_id"]
    assert any(r["path"].startswith("/11/") for r in emu.admin.requests())


@pytest.mark.parametrize(
    ("change", "field", "fragment"),
    [
        ({"login": None}, "login", "consumer key"),
        ({"password": None}, "password", "consumer secret"),
        ({"access_token": None}, "access_token", "access_token"),
        ({"access_token_secret": ""}, "access_token_secret", "access_token_secret"),
        ({"api_version": "10"}, "api_version", "11, 12"),
        ({"timeout": "soon"}, "timeout", "positive number"),
        ({"timeout": "inf"}, "timeout", "positive number"),  # no socket takes an infinite timeout
        ({"timeout": "1e400"}, "timeout", "positive number"),
        ({"timeout": "nan"}, "timeout", "positive number"),
        ({"host": "ads-api.x.com/"}, "host", "https://ads-api.x.com"),
    ],
)
def test_bad_connection_fields_are_named(
    emu: Any, conn_env: Any, change: dict, field: str, fragment: str
) -> None:
    hook = AdsApiHook(conn_env("twads_bad", _conn_json(emu, **change)))
    with pytest.raises(AdsApiValidationError) as info:
        hook.get_conn()
    assert info.value.parameter == field
    text = str(info.value)
    assert fragment in text and "AIRFLOW_CONN_TWADS_BAD" in text
    assert not any(s in text for s in SECRETS)
    assert emu.admin.requests() == []


def test_test_connection(emu: Any, conn_env: Any) -> None:
    ok, message = AdsApiHook().test_connection()
    assert ok and SEED["account_id"] in message

    no_account = AdsApiHook(conn_env("twads_noacct", _conn_json(emu, account_id=None)))
    ok, message = no_account.test_connection()
    assert ok and "accounts are visible" in message

    wrong = AdsApiHook(conn_env("twads_wrong", _conn_json(emu, access_token_secret="not-the-secret-xyz")))
    ok, message = wrong.test_connection()
    assert not ok and "401" in message and "not-the-secret-xyz" not in message

    down = AdsApiHook(conn_env("twads_down", _conn_json(emu, host="http://127.0.0.1:9")))
    ok, message = down.test_connection()
    assert not ok and "no response" in message


def test_async_client_fetches_the_connection_asynchronously(emu: Any) -> None:
    async def main() -> list[str]:
        client = await AdsApiHook().aget_async_client()
        try:
            return [li["id"] async for li in client.alist("line_items", campaign_ids=[SEED["campaign_id"]])]
        finally:
            await client.aclose()

    assert SEED["line_item_id"] in asyncio.run(main())


def test_secrets_never_appear_in_logs_errors_or_reprs(
    emu: Any, caplog: pytest.LogCaptureFixture, capsys: pytest.CaptureFixture[str]
) -> None:
    from airflow.providers.common.compat.sdk import redact

    caplog.set_level(logging.DEBUG)
    seen: list[str] = []
    hook = AdsApiHook()
    client = hook.get_conn()
    for secret in SECRETS:
        assert redact(secret) != secret  # registered with Airflow's secrets masker

    emu.admin.set_faults({"script": ["503", "commit_then_drop"], "match": {"method": "POST"}})
    for call in (
        lambda: client.create_line_item(
            campaign_id=SEED["campaign_id"],
            objective="ENGAGEMENTS",
            placements=["ALL_ON_TWITTER"],
            product_type="PROMOTED_TWEETS",
            bid_amount_local_micro=1,
            name="secret test",
        ),
        lambda: client.get_line_item("nosuch"),
        lambda: client.create_line_item(objective="NOPE"),
    ):
        with pytest.raises(AdsApiError) as info:
            call()
        seen += [str(info.value), repr(info.value), str(info.value.__dict__)]
    seen += [repr(hook), repr(client), repr(client.core), repr(hook.settings), str(client.stats.as_dict())]
    seen += [str(AdsApiHook(twitter_ads_conn_id="twads_unreachable").test_connection())]
    out = capsys.readouterr()
    seen += [out.out, out.err, caplog.text, *(r.getMessage() for r in caplog.records)]
    seen += [json.dumps(r) for r in emu.admin.requests()]
    blob = "\n".join(seen)
    assert "secret test" in blob  # what we grep really holds the calls' traces
    for secret in SECRETS:
        assert secret not in blob


def _providers_manager() -> Any:
    """The manager that lists hooks: the task SDK's from Airflow 3.2 (core's ``hooks`` is deprecated)."""
    try:
        from airflow.sdk.providers_manager_runtime import ProvidersManagerTaskRuntime
    except ImportError:  # Airflow 3.0, 3.1
        from airflow.providers_manager import ProvidersManager

        return ProvidersManager()
    return ProvidersManagerTaskRuntime()


def test_provider_is_registered() -> None:
    pm = _providers_manager()
    assert "airflow-provider-twads" in pm.providers
    hook_info = pm.hooks["twitter_ads"]
    assert (
        hook_info is not None
        and hook_info.hook_class_name == "airflow_provider_twads.hooks.ads_api.AdsApiHook"
    )
    assert hook_info.connection_id_attribute_name == "twitter_ads_conn_id"


def test_connection_form_as_the_ui_receives_it(tmp_path: Any) -> None:
    """What the UI's connection form gets from the API server: from the provider info (3.2+) or from the
    hook's classmethods (3.0/3.1), both derived from one table."""
    # A fresh interpreter, as in the API server: on Airflow 3.1 the form is built when the providers
    # manager first loads the hooks, which this test session has already done without the form's stand-ins.
    code = (
        "import importlib.util, json\n"
        "wtforms = importlib.util.find_spec('wtforms') is not None\n"  # before 3.1 puts a stand-in there
        "from airflow.api_fastapi.core_api.services.ui.connections import HookMetaService\n"
        "meta = {m.connection_type: m for m in HookMetaService.hook_meta_data()}['twitter_ads']\n"
        "print(json.dumps({'meta': meta.model_dump(mode='json'), 'wtforms': wtforms}))\n"
    )
    env = {**os.environ, "AIRFLOW_HOME": str(tmp_path)}
    done = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=240)
    assert done.returncode == 0, done.stderr[-2000:]
    report = json.loads(done.stdout.strip().splitlines()[-1])
    meta = report["meta"]
    if meta["extra_fields"] is None and not report["wtforms"]:
        pytest.skip("Airflow 3.0 builds connection forms only with the FAB provider (wtforms) installed")
    standard, extra = meta["standard_fields"], meta["extra_fields"]
    assert standard["port"]["hidden"] and standard["host"]["hidden"] and standard["url_schema"]["hidden"]
    assert standard["login"]["title"] == "Consumer key (API key)"
    assert standard["password"]["title"] == "Consumer secret"
    assert set(extra) == {
        "access_token",
        "access_token_secret",
        "host",
        "api_version",
        "account_id",
        "timeout",
    }
    for name, spec in extra.items():
        assert spec["description"] and spec["schema"]["title"], name  # every field has a label and help
        secret = spec["schema"].get("format") == "password"
        assert secret == (name in ("access_token", "access_token_secret")), name
    assert extra["host"]["value"] == "https://ads-api.x.com"
    assert extra["api_version"]["value"] == 12 and {11, 12} <= set(extra["api_version"]["schema"]["enum"])


def test_no_short_secret_warning_for_the_connection_as_stored(emu: Any, tmp_path: Any) -> None:
    """The form stores api_version and timeout as numbers: Airflow's masker sees no short string to warn
    about ("Skipping masking for a secret as it's too short")."""
    from twads_emulator.connection import connection_env

    env = {
        **os.environ,
        **connection_env(emu.base_url, conn_id="twads_stored"),
        "AIRFLOW_HOME": str(tmp_path),
    }
    code = (
        "from airflow_provider_twads.hooks.ads_api import AdsApiHook\n"
        "print('ACCOUNT', AdsApiHook('twads_stored').get_conn().get_account()['id'])\n"
    )
    done = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=240)
    assert done.returncode == 0, done.stderr[-2000:]
    assert f"ACCOUNT {SEED['account_id']}" in done.stdout
    assert "too short" not in done.stdout + done.stderr


def test_airflow_cli_lists_the_provider_and_hook(tmp_path: Any) -> None:
    env = {**os.environ, "AIRFLOW_HOME": str(tmp_path), "AIRFLOW__CORE__LOAD_EXAMPLES": "False"}
    env.pop("AIRFLOW__DATABASE__SQL_ALCHEMY_CONN", None)
    airflow = os.path.join(os.path.dirname(sys.executable), "airflow")
    providers = subprocess.run(
        [airflow, "providers", "list", "-o", "json"], env=env, capture_output=True, text=True, timeout=240
    )
    assert providers.returncode == 0, providers.stderr[-2000:]
    assert "airflow-provider-twads" in providers.stdout
    hooks = subprocess.run(
        [airflow, "providers", "hooks", "-o", "json"], env=env, capture_output=True, text=True, timeout=240
    )
    assert hooks.returncode == 0, hooks.stderr[-2000:]
    assert "twitter_ads" in hooks.stdout and "AdsApiHook" in hooks.stdout


def test_connection_from_a_secrets_backend(emu: Any, tmp_path: Any) -> None:
    """A connection stored in a secrets backend (the local-filesystem one stands in for Vault & co)."""
    connections = tmp_path / "connections.json"
    connections.write_text(json.dumps({"twads_vault": json.loads(_conn_json(emu))}))
    env = {
        **os.environ,
        "AIRFLOW_HOME": str(tmp_path),
        "AIRFLOW__SECRETS__BACKEND": "airflow.secrets.local_filesystem.LocalFilesystemBackend",
        "AIRFLOW__SECRETS__BACKEND_KWARGS": json.dumps({"connections_file_path": str(connections)}),
    }
    env.pop("AIRFLOW__DATABASE__SQL_ALCHEMY_CONN", None)
    code = (
        "from airflow_provider_twads.hooks.ads_api import AdsApiHook\n"
        "hook = AdsApiHook('twads_vault')\n"
        "print('ACCOUNT', hook.get_conn().get_account()['id'])\n"
        "print('TEST', hook.test_connection()[0])\n"
    )
    done = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=240)
    assert done.returncode == 0, done.stderr[-2000:]
    assert f"ACCOUNT {SEED['account_id']}" in done.stdout and "TEST True" in done.stdout
    assert not any(s in done.stdout + done.stderr for s in SECRETS)


def test_ui_field_behaviour_and_widgets() -> None:
    behaviour = AdsApiHook.get_ui_field_behaviour()
    assert "host" in behaviour["hidden_fields"] and behaviour["relabeling"]["password"] == "Consumer secret"
    widgets = AdsApiHook.get_connection_form_widgets()
    assert widgets == {} or {"access_token", "access_token_secret", "api_version"} <= set(widgets)


def test_provider_info_and_hook_describe_the_same_form() -> None:
    from airflow_provider_twads import get_provider_info

    (conn_type,) = get_provider_info()["connection-types"]
    assert conn_type["connection-type"] == AdsApiHook.conn_type
    assert conn_type["hook-name"] == AdsApiHook.hook_name
    behaviour = AdsApiHook.get_ui_field_behaviour()
    declared = conn_type["ui-field-behaviour"]
    assert declared["hidden-fields"] == behaviour["hidden_fields"]
    assert declared["relabeling"] == behaviour["relabeling"]
    assert declared["placeholders"] == behaviour["placeholders"]
    sensitive = {name for name, f in conn_type["conn-fields"].items() if f.get("sensitive")}
    assert sensitive == {"access_token", "access_token_secret"}
    triggers = [m for t in get_provider_info()["triggers"] for m in t["python-modules"]]
    assert "airflow_provider_twads.triggers.cursor" in triggers
