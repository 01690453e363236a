"""Console sessions: login CSRF from another site, CSRF tokens on every state-changing form, logout as
a POST that ends the session server-side (a copied cookie dies with it), and the CSV export's cells."""

from __future__ import annotations

import csv
import io
from typing import Any

import httpx
import pytest
from sqlglot import exp

from conftest import make_account
from security.hostile import Server, send_call
from support import console_login, console_post, csrf_of
from video_insights.store.base import WriteBatch

HTML = {"accept": "text/html"}


def _attacker_page(target: str, fields: dict[str, str]) -> str:
    inputs = "".join(f'<input name="{k}" value="{v}">' for k, v in fields.items())
    # The page's own script is what a real attacker's page would run; this origin is not ours.
    return (f'<form id="f" method="post" action="{target}">{inputs}</form>'
            '<script>document.getElementById("f").submit()</script>')


def test_login_csrf_from_another_site_is_refused(browser: Any, server: Server) -> None:
    """Another site auto-submits the login form with the attacker's credentials: the victim's browser
    must not end up signed in to the attacker's account."""
    attacker = make_account(server.store)
    context = browser.new_context()
    page = context.new_page()
    page.goto(f"{server.url}/login")  # the victim once opened the console: the browser holds a CSRF cookie
    evil = "http://evil.test/"
    page.route(evil, lambda route: route.fulfill(content_type="text/html", body=_attacker_page(
        f"{server.url}/login", {"username": attacker.account_sid, "password": attacker.auth_token, "next": "/"})))
    page.goto(evil)
    page.wait_for_load_state()
    assert not any(c["name"] == "vi_session" for c in context.cookies())
    page.goto(f"{server.url}/rooms")
    assert "/login" in page.url
    context.close()


@pytest.mark.parametrize("path", ["/login", "/logout", "/account"])
def test_state_changing_forms_need_the_token(server: Server, path: str) -> None:
    creds = server.creds
    with server.client(headers=HTML, follow_redirects=False) as c:
        assert console_login(c, creds).status_code == 303
        fields = {"username": creds.account_sid, "password": creds.auth_token, "account_sid": creds.account_sid,
                  "next": "/"}
        for token in ("", "x" * 43):
            r = c.post(path, data={**fields, "csrf": token})
            assert r.status_code == 403 and "security token" in r.text, (path, token, r.status_code)
        # Even with the right token, a post the browser marks as cross-site is refused.
        token = csrf_of(c.get("/login").text)
        r = c.post(path, data={**fields, "csrf": token}, headers={"sec-fetch-site": "cross-site"})
        assert r.status_code == 403
        # The session survived all of that.
        assert c.get("/rooms").status_code == 200


def test_console_forms_carry_the_token(browser: Any, server: Server) -> None:
    sub = make_account(server.store, parent=server.creds.account_sid)
    context = browser.new_context()
    page = context.new_page()
    page.goto(f"{server.url}/login")
    page.fill("#username", server.creds.account_sid)
    page.fill("#password", server.creds.auth_token)
    page.click("button[type=submit]")
    page.wait_for_url(f"{server.url}/")
    for form in page.locator("form[method=post]").all():
        assert form.locator("input[name=csrf]").count() == 1
    page.select_option("#account-switch", sub.account_sid)  # a POST form that autosubmits
    page.wait_for_load_state()
    assert page.locator("#account-switch").input_value() == sub.account_sid
    context.close()


def test_logout_is_a_post_and_ends_the_session_everywhere(server: Server) -> None:
    creds = make_account(server.store)
    with server.client(headers=HTML, follow_redirects=False) as c:
        assert console_login(c, creds).status_code == 303
        stolen = c.cookies["vi_session"]
        # A GET (an image tag on any site) does not log out: it only asks.
        r = c.get("/logout")
        assert r.status_code == 200 and 'action="/logout"' in r.text
        assert c.get("/rooms").status_code == 200
        r = console_post(c, "/logout", {})
        assert r.status_code == 303 and r.headers["location"] == "/login"
    # The cookie copied before the logout is dead, on any client.
    with server.client(headers=HTML, follow_redirects=False) as replay:
        replay.cookies.set("vi_session", stolen)
        r = replay.get("/rooms")
        assert r.status_code == 303 and r.headers["location"].startswith("/login")
    # Signing in again works.
    with server.client(headers=HTML, follow_redirects=False) as c:
        assert console_login(c, creds).status_code == 303
        assert c.get("/rooms").status_code == 200


def test_deleting_a_key_ends_its_sessions(server: Server) -> None:
    creds = make_account(server.store)
    with server.client(headers=HTML, follow_redirects=False) as c:
        form = c.get("/login")
        r = c.post("/login", data={"username": creds.key_sid, "password": creds.key_secret, "csrf": csrf_of(form.text)})
        assert r.status_code == 303 and c.get("/rooms").status_code == 200
        server.store.write(WriteBatch(deletes=[("api_keys", exp.column("key_sid").eq(exp.Literal.string(
            creds.key_sid)))]))
        assert c.get("/rooms").headers["location"].startswith("/login")


def test_csv_export_neutralises_formulas(server: Server) -> None:
    name = '=HYPERLINK("http://evil.example","x")'
    session = send_call(server, {"name": "sdk", "identity": "+cmd|' /C calc'!A0", "roomName": name})
    with server.client(headers=HTML, follow_redirects=False) as c:
        console_login(c, server.creds)
        r = c.get("/rooms.csv", params={"_range": "24h", "_col": ["room_sid", "room_name"]})
    rows = {row[0]: row for row in csv.reader(io.StringIO(r.text))}
    assert rows[session.room_sid][1] == "'" + name
    for row in rows.values():
        assert not row[1].startswith(("=", "+", "-", "@", "\t", "\r")), row


def test_unknown_and_wrong_credentials_answer_alike(server: Server) -> None:
    """Nothing says whether an account, a key or a token's key exists."""
    unknown = "AC" + "0" * 32
    with httpx.Client(base_url=server.url) as c:
        a = c.get("/v1/Video/Rooms", auth=(unknown, "x" * 32)).json()["message"]
        b = c.get("/v1/Video/Rooms", auth=(server.creds.account_sid, "x" * 32)).json()["message"]
        assert a == b
        a = c.get("/v1/Video/Rooms", auth=("SK" + "0" * 32, "x")).json()["message"]
        b = c.get("/v1/Video/Rooms", auth=(server.creds.key_sid, "x")).json()["message"]
        assert a == b
        form = {"AccountSid": unknown, "RoomSid": "RM" + "1" * 32, "StatusCallbackEvent": "room-created"}
        a = c.post("/webhooks/twilio", data=form, headers={"x-twilio-signature": "c2ln"}).json()["message"]
        form["AccountSid"] = server.creds.account_sid
        b = c.post("/webhooks/twilio", data=form, headers={"x-twilio-signature": "c2ln"}).json()["message"]
        assert a == b
