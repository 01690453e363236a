"""Console sign-in in a real browser: login, wrong credentials, subaccount switch, logout, error pages."""

from __future__ import annotations

from typing import Any

import httpx

from conftest import make_account
from support import console_login


def test_login_wrong_then_right_then_logout(browser: Any, live_server: Any, creds: Any, screenshot_dir: Any) -> None:
    page = browser.new_page()
    page.goto(f"{live_server.url}/rooms?_range=24h")
    assert page.url.startswith(f"{live_server.url}/login?next=")
    page.fill("#username", creds.account_sid)
    page.fill("#password", "wrong-token")
    page.click("button[type=submit]")
    assert "wrong auth token" in page.inner_text("[role=alert]")
    page.screenshot(path=str(screenshot_dir / "login-error.png"))
    page.fill("#password", creds.auth_token)
    page.click("button[type=submit]")
    assert page.url == f"{live_server.url}/rooms?_range=24h"
    cookie = next(c for c in page.context.cookies() if c["name"] == "vi_session")
    assert cookie["httpOnly"]
    page.click("button.logout")
    page.wait_for_url(f"{live_server.url}/login")
    page.goto(f"{live_server.url}/rooms")
    assert "/login" in page.url
    page.close()


def test_api_key_login_and_subaccount_switch(browser: Any, live_server: Any, creds: Any) -> None:
    sub = make_account(live_server.store, parent=creds.account_sid)
    page = browser.new_page()
    page.goto(f"{live_server.url}/login")
    page.fill("#username", creds.key_sid)
    page.fill("#password", creds.key_secret)
    page.click("button[type=submit]")
    options = page.locator("#account-switch option").all_inner_texts()
    assert len(options) == 2
    page.select_option("#account-switch", sub.account_sid)
    page.wait_for_load_state()
    assert page.locator("#account-switch").input_value() == sub.account_sid
    page.close()


def test_forged_cookie_and_open_redirect_refused(live_server: Any, creds: Any) -> None:
    with httpx.Client(base_url=live_server.url, follow_redirects=False) as c:
        c.cookies.set("vi_session", "eyJ1IjoiQUMwMCJ9.forged.sig")
        assert c.get("/rooms").headers["location"].startswith("/login?next=")
        r = console_login(c, creds, next="https://evil.example/")
        assert r.status_code == 303 and r.headers["location"] == "/"


def test_error_pages_are_html_for_browsers_and_json_for_tools(live_server: Any) -> None:
    with httpx.Client(base_url=live_server.url) as c:
        page = c.get("/no-such-page", headers={"accept": "text/html"})
        assert page.status_code == 404 and "text/html" in page.headers["content-type"]
        assert "/no-such-page: no such resource" in page.text
        api = c.get("/v1/Video/Nope", headers={"accept": "text/html"})
        assert api.status_code == 404 and api.json()["status"] == 404
