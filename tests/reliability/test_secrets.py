"""Secrets never leak: the consumer secret, the access token and its secret appear nowhere a person or
another process can read them.

One real ``airflow dags test twads_campaign_launch`` against the session emulator, then a search of
everything it left: the task logs under ``$AIRFLOW_HOME/logs``, the command's output, every table of the
metadata DB (XComs and rendered template fields included) and the emulator's request log. Then the
client's, hook's and errors' reprs and messages, including errors built from responses that echo them.
"""

from __future__ import annotations

import importlib.util
import json
import logging
import sqlite3
from pathlib import Path
from typing import Any

import pytest

from twads_emulator import DEFAULT_CREDENTIALS, SEED

REPO = Path(__file__).resolve().parents[2]
SECRETS = {k: v for k, v in DEFAULT_CREDENTIALS.items() if k != "consumer_key"}  # the key is public


def _leaks(text: str) -> list[str]:
    """Which secrets appear in ``text`` (plainly, hex-encoded as in SQLite blobs, or URL-encoded)."""
    from urllib.parse import quote

    found = []
    lowered = text.lower()
    for name, secret in SECRETS.items():
        forms = {secret, secret.encode().hex(), quote(secret, safe="")}
        if any(form.lower() in lowered for form in forms):
            found.append(name)
    return found


def _run_dag_helper() -> Any:
    """``run_dag`` of the launch DAG's end-to-end test: the same subprocess call, not a second copy."""
    path = REPO / "tests" / "dags" / "test_launch_dag.py"
    spec = importlib.util.spec_from_file_location("_twads_launch_dag_test_helpers", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.run_dag


def _db_text(db_path: Path) -> tuple[str, dict[str, int]]:
    """Every row of every table as text, and the row count per table."""
    out: list[str] = []
    counts: dict[str, int] = {}
    with sqlite3.connect(db_path) as db:
        tables = [r[0] for r in db.execute("SELECT name FROM sqlite_master WHERE type='table'")]
        for table in tables:
            rows = db.execute(f'SELECT * FROM "{table}"').fetchall()
            counts[table] = len(rows)
            out.extend(repr(row) for row in rows)
    return "\n".join(out), counts


@pytest.mark.airflow_db
@pytest.mark.timeout(300)
def test_a_real_launch_leaks_no_secret(emu: Any, airflow_db: Path) -> None:
    emu.admin.set_approval({"mode": "immediate"})
    # A few faults, so that retry and error paths log too.
    emu.admin.set_faults({"seed": 5, "retry_after": 0, "script": ["503", "none", "commit_then_drop"]})
    run = _run_dag_helper()(emu, "twads_campaign_launch", "2026-06-01")
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-3000:]

    # The command's output.
    assert _leaks(run.stdout) == [] and _leaks(run.stderr) == []
    # `airflow dags test` prints the task logs (the operators' own lines included) with the command's
    # output; log files, when a deployment writes them, are searched as well.
    assert "Ensuring 1 line item(s)" in run.stdout + run.stderr

    # Task logs.
    logs = [p for p in (airflow_db / "logs").rglob("*") if p.is_file()]
    for path in logs:
        assert _leaks(path.read_text(errors="replace")) == [], path

    # The metadata DB: XComs, rendered template fields, everything else.
    text, counts = _db_text(airflow_db / "airflow.db")
    assert counts.get("xcom", 0) > 0 and counts.get("rendered_task_instance_fields", 0) > 0, counts
    assert _leaks(text) == []
    created = [
        li
        for li in emu.admin.state("line_items")["line_items"]
        if str(li.get("name")).startswith("spring-running")
    ]
    assert created and created[0]["id"] in text  # the XCom of the line item is in what was searched

    # The emulator's request log, as printed to users.
    requests = emu.admin.requests()
    assert requests and _leaks(json.dumps(requests)) == []


def test_reprs_and_errors_leak_no_secret(emu: Any, client: Any) -> None:
    from airflow.sdk.definitions.connection import Connection

    from airflow_provider_twads.api.client import AdsApiClient, Credentials
    from airflow_provider_twads.api.errors import AdsApiError, UnauthorizedError
    from airflow_provider_twads.hooks.ads_api import AdsApiHook, settings_from_connection
    from twads_emulator.connection import connection_dict

    creds = Credentials(**DEFAULT_CREDENTIALS)
    texts = [repr(creds), str(creds), repr(client), repr(client.core), repr(client.stats)]

    hook = AdsApiHook()  # twitter_ads_default, pointed at the emulator by the test session
    texts += [repr(hook), repr(hook.settings), repr(hook.get_conn()), str(hook.settings.client_kwargs())]
    conn_doc = connection_dict(emu.base_url)
    conn = Connection(
        conn_id="c", conn_type="twitter_ads", login=conn_doc["login"], password=conn_doc["password"],
        extra=json.dumps(conn_doc["extra"]),
    )  # fmt: skip
    texts.append(repr(settings_from_connection(conn, mask=False)))

    # A wrong token secret: the emulator answers 401; the error must not carry any secret.
    bad = Credentials(**{**DEFAULT_CREDENTIALS, "access_token_secret": "wrong-" + "x" * 12})
    with (
        AdsApiClient(bad, host=emu.base_url, account_id=SEED["account_id"], timeout=5) as other,
        pytest.raises(UnauthorizedError) as info,
    ):
        other.get_account()
    texts += [str(info.value), repr(info.value), json.dumps(info.value.request_params)]

    # Errors raised on the way: a 404, an invalid parameter (echoing the request), a batch failure.
    for call in (
        lambda: client.get_line_item("does-not-exist"),
        lambda: client.request("GET", f"accounts/{SEED['account_id']}/line_items", {"count": "0"}),
        lambda: client.batch_targeting_criteria(
            [{"operation_type": "Create", "params": {"line_item_id": "nope", "targeting_type": "LANGUAGE",
                                                      "targeting_value": "en"}}]
        ),
    ):  # fmt: skip
        with pytest.raises(AdsApiError) as err:
            call()
        texts += [str(err.value), repr(err.value), json.dumps(err.value.request_params, default=str)]
        texts += [str(err.value.__cause__ or ""), str(err.value.hint or "")]

    # Hook errors on a connection missing a field must not print the others.
    partial = Connection(conn_id="p", conn_type="twitter_ads", login="k", password=SECRETS["consumer_secret"])
    with pytest.raises(AdsApiError) as missing:
        settings_from_connection(partial, mask=False)
    texts += [str(missing.value), repr(missing.value), str(missing.value.hint)]

    leaked = {t[:200]: _leaks(t) for t in texts if _leaks(t)}
    assert leaked == {}


# ---------------------------------------------------------------------------------------------------------
# Every library logger at DEBUG, tokens with quotes, backslashes, % and non-ASCII characters (issue 14)
# ---------------------------------------------------------------------------------------------------------
ODD = {
    "consumer_key": "twadsOddConsumerKey0001",
    "consumer_secret": "cs-'quote\"dq\\bs%41pct-é€-secret",
    "access_token": "756201191646691328-tok'q\"\\%2F-ü✓",
    "access_token_secret": "ts-\\x41'\"%%-ñ日本-secret",
}
_DEBUG_LOGGERS = ("", "oauthlib", "requests_oauthlib", "urllib3", "requests", "httpx", "httpcore")


def _odd_leaks(text: str) -> list[str]:
    """Which odd secrets appear in ``text`` in any encoding a log line may carry."""
    from airflow_provider_twads.api.redaction import secret_forms

    return [
        name
        for name, secret in ODD.items()
        if name != "consumer_key" and any(form in text for form in secret_forms(secret))
    ]


class _Everything(logging.Handler):
    """Keeps every record, formatted with its exception, as a handler would write it."""

    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.lines: list[str] = []
        self.setFormatter(logging.Formatter("%(name)s %(levelname)s %(message)s"))

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(self.format(record))


@pytest.fixture
def debug_logs(monkeypatch: pytest.MonkeyPatch, emu: Any) -> Any:
    """Odd credentials the emulator accepts, and every logger at DEBUG into one handler."""
    from twads_emulator import seed

    monkeypatch.setitem(seed.CONSUMERS, ODD["consumer_key"], ODD["consumer_secret"])
    monkeypatch.setitem(
        seed.TOKENS,
        ODD["access_token"],
        (ODD["consumer_key"], ODD["access_token_secret"], (SEED["account_id"],)),
    )
    handler = _Everything()
    saved = [(logging.getLogger(n), logging.getLogger(n).level) for n in _DEBUG_LOGGERS]
    for logger, _level in saved:
        logger.setLevel(logging.DEBUG)
    logging.getLogger().addHandler(handler)
    yield handler
    logging.getLogger().removeHandler(handler)
    for logger, level in saved:
        logger.setLevel(level)


def test_debug_logs_of_signed_requests_carry_no_secret_in_any_encoding(emu: Any, debug_logs: Any) -> None:
    import asyncio

    from airflow_provider_twads.api.aclient import AsyncAdsApiClient
    from airflow_provider_twads.api.client import AdsApiClient, Credentials, RetryPolicy
    from airflow_provider_twads.api.errors import AdsApiError, UnauthorizedError

    creds = Credentials(**ODD)
    kwargs: dict[str, Any] = {"host": emu.base_url, "account_id": SEED["account_id"], "timeout": 5}
    with AdsApiClient(creds, **kwargs) as client:
        assert client.get_account()["id"] == SEED["account_id"]  # the odd tokens signed correctly
        with pytest.raises(AdsApiError):
            client.get_line_item("does-not-exist")  # a failing request logs too

    async def run_async() -> None:
        async with AsyncAdsApiClient(creds, **kwargs) as aclient:
            data = await aclient.acall("accounts.get")
            assert data["id"] == SEED["account_id"]

    asyncio.run(run_async())

    # A wrong token secret: 401, with the odd values in every other field.
    wrong = Credentials(**{**ODD, "access_token_secret": ODD["access_token_secret"] + "-wrong"})
    with (
        AdsApiClient(wrong, retry=RetryPolicy(max_attempts=1), **kwargs) as bad,
        pytest.raises(UnauthorizedError),
    ):
        bad.get_account()

    text = "\n".join(debug_logs.lines)
    assert "urllib3" in text and "httpx" in text  # the libraries did log at DEBUG
    assert _odd_leaks(text) == []
    lowered = text.lower()
    assert "signature base string" not in lowered and "authorization" not in lowered
    assert "oauth_signature" not in lowered and "oauth_nonce" not in lowered
