"""The X Ads API connection in Airflow's UI, driven through headless Chromium (Debian's, via Playwright).

Logs in, adds a connection with good and one with bad credentials, presses the list's Test action on each,
tests the same credentials through the REST API (what Test should run), opens the edit form, and checks
that no secret appears in any page's HTML or text, nor in any API response the UI received. Screenshots go
to ``<results>/screenshots``.
"""

from __future__ import annotations

import contextlib
import json
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from scripts.e2e.airflow_api import AirflowApi
from scripts.e2e.checks import Checks
from scripts.e2e.deployment import ADMIN, Deployment

CHROMIUM = "/usr/bin/chromium"
FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
# Airflow 3.3.2's list action posts port 0 and the masked password; the API then refuses the test because
# 0 differs from the stored (empty) port. Not something a provider can change: reported, not failed.
PORT_ZERO_BUG = "The host or port to test differs from the stored connection"


class Browser:
    """One page, with every screen and every API response body kept for the secrets check."""

    def __init__(self, page: Any, base_url: str, shots: Path) -> None:
        self.page = page
        self.base_url = base_url
        self.shots = shots
        self.seen: list[tuple[str, str]] = []  # (where, text)
        self.responses: list[tuple[str, str]] = []
        self.tests: list[tuple[int, str]] = []  # /connections/test answers
        page.on("response", self._on_response)

    def _on_response(self, response: Any) -> None:
        if not response.url.startswith(self.base_url) or "/static/" in response.url:
            return
        with contextlib.suppress(Exception):
            body = response.text()
            self.responses.append((f"{response.request.method} {response.url}", body))
            if response.url.endswith("/connections/test"):
                self.tests.append((response.status, body))

    def snap(self, name: str) -> None:
        """Screenshot and keep the page's HTML and visible text."""
        self.page.wait_for_timeout(800)
        self.page.screenshot(
            path=str(self.shots / f"{len(self.seen) // 2 + 1:02d}-{name}.png"), full_page=True
        )
        self.seen.append((f"{name} (HTML)", self.page.content()))
        self.seen.append((f"{name} (text)", self.page.inner_text("body")))

    def login(self, password: str) -> None:
        self.page.goto(f"{self.base_url}/")
        self.page.wait_for_selector("input[name=username]")
        self.snap("login")
        self.page.fill("input[name=username]", ADMIN)
        self.page.fill("input[name=password]", password)
        self.page.click("button[type=submit]")
        self.page.wait_for_url(lambda url: "/auth/login" not in url, timeout=30_000)

    def add_connection(self, conn_id: str, fields: dict[str, str], extras: dict[str, str]) -> str:
        """Fill the Add Connection form for an X Ads API connection and save; return the toast's text."""
        page = self.page
        page.goto(f"{self.base_url}/connections")
        page.get_by_role("button", name="Add Connection").click()
        page.fill("input[name=connection_id]", conn_id)
        page.locator("[role=dialog] input[type=text]").first.fill("X Ads API")
        page.wait_for_timeout(500)
        page.keyboard.press("Enter")
        page.wait_for_selector("input[name=login]")
        for name, value in fields.items():
            page.fill(f"input[name={name}]", value)
        page.get_by_role("button", name="Extra Fields", exact=True).click()
        for name, value in extras.items():
            page.fill(f"input[name=element_{name}]", value)
        self.snap(f"{conn_id}-filled")
        page.get_by_role("button", name="Save").click()
        page.wait_for_selector("text=successfully created", timeout=15_000)
        self.snap(f"{conn_id}-saved")
        return "created"

    def input_types(self, names: list[str]) -> dict[str, str | None]:
        """The ``type`` of the named inputs of the open form."""
        return {n: self.page.get_attribute(f"input[name={n}]", "type") for n in names}

    def press_test(self, conn_id: str) -> tuple[int, str, str]:
        """Press Test in ``conn_id``'s row; return the API's status and body, and what the UI showed."""
        page = self.page
        page.goto(f"{self.base_url}/connections")
        row = page.locator("tr", has_text=conn_id)
        before = len(self.tests)
        row.get_by_role("button", name="Test Connection").click()
        page.wait_for_timeout(3000)
        self.snap(f"{conn_id}-tested")
        shown = page.locator("[role=status], [role=alert]").all_inner_texts()
        toast = " / ".join(" ".join(t.split()) for t in shown)
        status, body = self.tests[before] if len(self.tests) > before else (0, "no request")
        return status, body, toast


@contextlib.contextmanager
def chromium(results: Path) -> Iterator[Any]:
    """A fresh page in Debian's Chromium (no browser download); closed on the way out."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=FLAGS, headless=True)
        try:
            yield browser.new_page(viewport={"width": 1400, "height": 1000})
        finally:
            browser.close()


def _test_via_api(api: AirflowApi, conn: dict[str, Any]) -> dict[str, Any]:
    """POST /connections/test with the credentials in the body (a connection id that is not stored)."""
    body = {
        **conn,
        "connection_id": f"twads_probe_{uuid.uuid4().hex[:6]}",
        "extra": json.dumps(conn["extra"]),
    }
    result: dict[str, Any] = api.call("POST", "connections/test", json=body)
    return result


def check_connection_form(checks: Checks, deployment: Deployment, emu_url: str, results: Path) -> None:
    """Add X Ads API connections in the UI, press Test, and look for secrets on every screen."""
    from twads_emulator import DEFAULT_CREDENTIALS, SEED

    shots = results / "screenshots"
    shots.mkdir(parents=True, exist_ok=True)
    good = {"login": DEFAULT_CREDENTIALS["consumer_key"], "password": DEFAULT_CREDENTIALS["consumer_secret"]}
    extras = {
        "access_token": DEFAULT_CREDENTIALS["access_token"],
        "access_token_secret": DEFAULT_CREDENTIALS["access_token_secret"],
        "host": emu_url,
        "account_id": SEED["account_id"],
    }
    bad_secret = f"not-the-secret-{uuid.uuid4().hex[:8]}"
    secrets = {
        "consumer secret": good["password"],
        "access token secret": extras["access_token_secret"],
        "access token": extras["access_token"],
        "the bad consumer secret": bad_secret,
    }
    good_id, bad_id = "twads_e2e_good", "twads_e2e_bad"  # the deployment's DB is new on every run

    with chromium(results) as page:
        ui = Browser(page, deployment.base_url, shots)
        ui.login(deployment.password)
        checks.expect("browser: logged in as admin", "/auth/login" not in page.url, page.url)

        ui.add_connection(good_id, good, extras)
        checks.expect("browser: X Ads API connection with good credentials saved", True, good_id)
        page.locator("tr", has_text=good_id).get_by_role("button", name="Edit Connection").click()
        page.wait_for_selector("input[name=login]")
        page.get_by_role("button", name="Extra Fields", exact=True).click()
        types = ui.input_types(["password", "element_access_token_secret", "element_access_token"])
        ui.snap(f"{good_id}-edit")
        checks.expect(
            "browser: every secret field is a password input",
            all(t == "password" for t in types.values()),
            ", ".join(f"{n}: type={t}" for n, t in types.items()),
        )
        ui.add_connection(bad_id, {**good, "password": bad_secret}, extras)

        for conn_id, label in ((good_id, "good"), (bad_id, "bad")):
            status, body, toast = ui.press_test(conn_id)
            detail = f"API {status} {body[:200]}; UI: {toast[:200]}"
            if status == 400 and PORT_ZERO_BUG in body:
                name = f"browser: Test with {label} credentials: Airflow 3.3.2 refuses it (port 0 vs empty)"
                checks.expect(name, False, detail, known=True)
                continue
            answer = json.loads(body) if body.startswith("{") else {}
            wanted = label == "good"
            checks.expect(
                f"browser: Test with {label} credentials {'succeeds' if wanted else 'fails with a reason'}",
                status == 200 and answer.get("status") is wanted and bool(answer.get("message")),
                detail,
            )

    api = AirflowApi(deployment.base_url, ADMIN, deployment.password)
    conn = {"conn_type": "twitter_ads", **good, "extra": extras}
    ok = _test_via_api(api, conn)
    checks.expect(
        "REST connections/test, good credentials: succeeds",
        ok.get("status") is True,
        str(ok.get("message"))[:300],
    )
    bad = _test_via_api(api, {**conn, "password": bad_secret})
    message = str(bad.get("message"))
    checks.expect(
        "REST connections/test, bad credentials: fails with a readable reason, no secret in it",
        bad.get("status") is False and "401" in message and bad_secret not in message,
        message[:300],
    )

    # The way round the list action's bug: the CLI tests a connection by id (with test_connection enabled).
    cli = deployment.airflow("connections", "test", "twitter_ads_default", timeout=120)
    out = " ".join((cli.stdout + cli.stderr).split())
    checks.expect(
        "CLI `airflow connections test twitter_ads_default` succeeds",
        cli.returncode == 0 and "Connection success" in out,
        out[out.find("Connection") :][:300] if "Connection" in out else out[-300:],
    )

    # A form being filled in holds what was just typed in its inputs' values; every other screen must not.
    leaks = [
        f"{what} on {where}"
        for where, text in ui.seen
        if not where.endswith("-filled (HTML)")
        for what, value in secrets.items()
        if value in text
    ]
    checks.expect(
        f"browser: no secret in the HTML or text of {len(ui.seen) // 2} screens",
        not leaks,
        "; ".join(leaks[:5]) or f"screenshots in {shots}",
    )
    api_leaks = sorted(
        {
            f"{what} in {where}"
            for where, text in ui.responses
            for what, value in secrets.items()
            if value in text
        }
    )
    checks.expect(
        f"browser: no secret in the {len(ui.responses)} API responses the UI received",
        not api_leaks,
        "; ".join(api_leaks[:5]),
    )
