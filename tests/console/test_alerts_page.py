"""The console's /alerts page in Chromium: a rule made with the form (a bad one refused with the reason,
the form kept), its secret shown once, an alert fired by a live call in the history, the rule deleted.
Hostile names show as text; forms without the CSRF token are refused."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx
import pytest

from conftest import LiveServer
from support import ALERTS_FAST as FAST
from support import Creds, Receiver, alerts_settled, console_login, send_call
from video_insights.model.ids import new_sid
from video_insights.settings import Settings
from video_insights.store import Store

HOSTILE = '<img src=x onerror="document.title=1">"; --'


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return Settings.from_env({}, store=f"duckdb:///{tmp_path / 'vi.duckdb'}", **FAST)


@pytest.fixture
def store(duckdb_store: Store) -> Store:
    return duckdb_store


def test_rules_are_made_seen_firing_and_deleted_in_the_console(browser: Any, live_server: LiveServer, creds: Creds,
                                                               screenshot_dir: Path) -> None:
    receiver = Receiver()
    context = browser.new_context(viewport={"width": 1440, "height": 1000})
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    try:
        page.goto(f"{live_server.url}/login?next=/alerts")
        page.fill("#username", creds.account_sid)
        page.fill("#password", creds.auth_token)
        page.click("button[type=submit]")
        page.wait_for_url(f"{live_server.url}/alerts")
        assert page.locator(".mainnav a[aria-current=page]").inner_text() == "Alerts"
        assert page.locator("#no-rules").is_visible()

        page.fill("#friendly_name", HOSTILE)
        page.fill("#url", "http://example.org/x")
        page.fill("#filters", "colour__eq=red")
        page.click("button:has-text('Make rule')")
        assert "unknown field 'colour'" in page.inner_text("#rule-error")
        assert page.input_value("#friendly_name") == HOSTILE  # the form is kept
        page.fill("#filters", "room_type__ne=go")
        page.fill("#url", receiver.url)
        page.click("button:has-text('Make rule')")
        secret = page.inner_text("#rule-secret")
        assert len(secret) >= 32
        row = page.locator("#rules-table tbody tr")
        assert row.count() == 1 and HOSTILE in row.inner_text() and page.locator("#rules-table img").count() == 0
        assert "room_type__ne = go" in row.inner_text()

        send_call(live_server.url, creds, new_sid("RM"), new_sid("PA"))
        receiver.wait_for(1)
        with live_server.client(creds) as api:
            alerts_settled(api, "delivered")
        page.goto(f"{live_server.url}/alerts")
        assert page.locator("#rule-secret").count() == 0  # shown once
        history = page.locator("#alerts-table tbody tr")
        assert history.count() == 1 and "delivered" in history.inner_text()
        assert "High packet loss" in history.inner_text()  # the label, as on every page
        assert receiver.received[0][0]["x-video-insights-delivery"] in history.inner_text()
        page.screenshot(path=str(screenshot_dir / "alerts.png"), full_page=True)

        page.click("#rules-table button:has-text('Delete')")
        page.wait_for_url(f"{live_server.url}/alerts")
        assert page.locator("#no-rules").is_visible() and page.locator("#alerts-table tbody tr").count() == 1
        assert page.title() != "1" and errors == []
    finally:
        context.close()
        receiver.close()


def test_alert_forms_need_the_csrf_token(live_server: LiveServer, creds: Creds) -> None:
    with httpx.Client(base_url=live_server.url, follow_redirects=False) as c:
        console_login(c, creds)
        r = c.post("/alerts", data={"trigger_type": "participant_issue", "issue_type": "packet_loss",
                                    "url": "http://example.org/x", "csrf": "x" * 43})
        assert r.status_code == 403
        r = c.post(f"/alerts/AL{'0' * 32}/delete", data={})
        assert r.status_code == 403
        assert c.get("/alerts", params={"x": "1"}).status_code == 400
