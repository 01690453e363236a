"""Hostile bytes where credentials and JSON go: non-ASCII credentials get a 401/403 (never a 500), deep
JSON gets a 400 on every route that reads JSON, and tokens stay out of URLs."""

from __future__ import annotations

import base64
import gzip
import json
import time
from typing import Any

import httpx
import orjson
import pytest
from websockets.sync.client import connect as ws_connect

from security.hostile import Server, connect_message, stats_event
from video_insights.ingest.auth import mint_token
from video_insights.ingest.json_depth import MAX_DEPTH, nesting_depth, too_deep

NON_ASCII = "pässwörd-ünïcødé-密码"


def basic(username: str, password: str) -> dict[str, str]:
    raw = base64.b64encode(f"{username}:{password}".encode()).decode()
    return {"authorization": f"Basic {raw}"}


def deep(levels: int) -> bytes:
    return b"[" * levels + b"]" * levels


def deep_object(levels: int) -> bytes:
    return b'{"a":' * levels + b"1" + b"}" * levels


def token_of(server: Server) -> str:
    c = server.creds
    return mint_token(c.account_sid, c.key_sid, c.key_secret, "alice")


# -- credentials -----------------------------------------------------------------------------------------

def test_non_ascii_basic_credentials_are_401(server: Server) -> None:
    c = server.creds
    for username, password in ((c.account_sid, NON_ASCII), (c.key_sid, NON_ASCII), (NON_ASCII, "x")):
        r = httpx.get(f"{server.url}/v1/Video/Rooms", headers=basic(username, password))
        assert r.status_code == 401, r.text
    # Latin-1 bytes that are not UTF-8.
    raw = base64.b64encode(c.account_sid.encode() + b":\xe9\xff").decode()
    assert httpx.get(f"{server.url}/v1/Video/Rooms", headers={"authorization": f"Basic {raw}"}).status_code == 401


def test_non_ascii_console_password_is_401(server: Server) -> None:
    with server.client(headers={"accept": "text/html"}) as c:
        form = c.get("/login").text
        token = form.split('name="csrf" value="')[1].split('"')[0]
        r = c.post("/login", data={"username": server.creds.account_sid, "password": NON_ASCII, "csrf": token})
        assert r.status_code == 401 and "wrong auth token" in r.text


def test_non_ascii_signatures_and_tokens_are_refused(server: Server) -> None:
    form = {"AccountSid": server.creds.account_sid, "RoomSid": "RM" + "1" * 32, "StatusCallbackEvent": "room-created"}
    r = httpx.post(f"{server.url}/webhooks/twilio", data=form, headers={"x-twilio-signature": NON_ASCII.encode()})
    assert r.status_code == 403, r.text
    r = httpx.post(f"{server.url}/v1/VideoEvents", content=b"[]", headers={"authorization": b"Bearer " +
                                                                               NON_ASCII.encode()})
    assert r.status_code == 401, r.text
    r = httpx.post(f"{server.url}/webhooks/livekit", content=b"{}", headers={
        "content-type": "application/webhook+json", "authorization": NON_ASCII.encode()})
    assert r.status_code == 403, r.text
    # A session string whose signature part is not ASCII.
    event = {"type": "event", "group": "room", "name": "x", "session": "e30." + NON_ASCII}
    r = httpx.post(f"{server.url}/v1/VideoEvents", json=[event],
                   headers={"authorization": f"Bearer {token_of(server)}"})
    assert r.status_code == 401, r.text


def test_non_ascii_admin_token_is_403(server: Server) -> None:
    server.app.state.admin_token = "the-admin-token-of-this-test"
    try:
        r = httpx.post(f"{server.url}/_admin/ops/demo", content=b"{}",
                       headers={"authorization": b"Bearer " + NON_ASCII.encode()})
        assert r.status_code == 403, r.text
    finally:
        server.app.state.admin_token = None


# -- deep JSON ---------------------------------------------------------------------------------------------

def test_depth_is_measured_outside_strings() -> None:
    assert nesting_depth(b'{"a": "[[[[[[", "b": [1, {"c": "\\"]]]"}]}') == 3
    assert nesting_depth(deep(MAX_DEPTH)) == MAX_DEPTH
    assert nesting_depth("") == 0


def test_too_deep_counts_brackets_only_as_a_bound() -> None:
    shallow_but_many = '{"a": "' + "[" * 500 + '", "b": [' + ",".join(["{}"] * 100) + "]}"
    for text in (shallow_but_many, shallow_but_many.encode(), memoryview(shallow_but_many.encode())):
        assert not too_deep(text)  # more brackets than the limit, but 3 levels: the exact measure decides
    for text in (deep(MAX_DEPTH + 1), deep(MAX_DEPTH + 1).decode()):
        assert too_deep(text)
    assert not too_deep(deep(MAX_DEPTH))


@pytest.mark.parametrize("levels", [MAX_DEPTH + 1, 100_000])
def test_deep_json_is_400_on_every_json_route(server: Server, levels: int) -> None:
    bearer = {"authorization": f"Bearer {token_of(server)}"}
    body = deep(levels)
    cases: list[tuple[str, dict[str, Any], bytes]] = [
        ("/v1/VideoEvents", {}, body),  # no token: the depth is checked before anything is parsed
        ("/v1/VideoEvents", bearer, body),
        ("/v1/VideoEvents", {}, b'{"token": "%s", "messages": [%s]}' % (token_of(server).encode(), body)),
        ("/webhooks/livekit", {"content-type": "application/webhook+json"}, deep_object(levels)),
        ("/v1/Video/Imports", basic(server.creds.account_sid, server.creds.auth_token), deep_object(levels)),
        ("/v1/Video/Imports", basic(server.creds.account_sid, server.creds.auth_token),
         gzip.compress(deep_object(levels))),
    ]
    server.app.state.admin_token = "the-admin-token-of-this-test"
    cases.append(("/_admin/ops/demo", {"authorization": "Bearer the-admin-token-of-this-test"}, deep_object(levels)))
    try:
        for path, headers, content in cases:
            r = httpx.post(server.url + path, content=content, headers=headers, timeout=60)
            assert r.status_code == 400, f"{path}: {r.status_code} {r.text[:300]}"
            assert f"deeper than {MAX_DEPTH} levels" in r.json()["message"], r.text
    finally:
        server.app.state.admin_token = None


def test_json_within_the_limit_is_accepted(server: Server) -> None:
    payload: Any = 1
    for _ in range(MAX_DEPTH - 4):
        payload = {"a": payload}
    c = server.creds
    connect = connect_message(token_of(server), name="sdk", roomName="deep-but-fine", identity="alice")
    event = {"type": "event", "group": "app", "name": "nested", "timestamp": int(time.time() * 1000),
             "payload": payload}
    r = httpx.post(f"{server.url}/v1/VideoEvents", json=[connect, event],
                   headers={"authorization": f"Bearer {token_of(server)}"})
    assert r.status_code == 200, r.text
    assert c.account_sid


def test_any_post_route_survives_deep_json(server: Server) -> None:
    """Every POST route the app has, schema or not, with 100,000 levels and no credentials: never a 500."""
    posts = sorted({route.path for route in _routes(server.app.routes) if "POST" in (route.methods or ())})
    assert len(posts) >= 7
    for path in posts:
        url = server.url + path.replace("{name}", "demo")
        r = httpx.post(url, content=deep(100_000), headers={"content-type": "application/json"}, timeout=60)
        assert r.status_code < 500, f"{path}: {r.status_code} {r.text[:300]}"


def _routes(routes: list[Any]) -> list[Any]:
    """The app's routes, those of included routers too (FastAPI keeps each router behind a wrapper)."""
    out = []
    for route in routes:
        inner = getattr(route, "original_router", None)
        out.extend(_routes(inner.routes) if inner is not None else [route] if hasattr(route, "methods") else [])
    return out


def test_deep_json_over_the_websocket(server: Server) -> None:
    with ws_connect(server.ws_url) as ws:
        ws.send(deep(100_000).decode())
        answer = json.loads(ws.recv(timeout=30))
        assert answer["type"] == "error" and f"deeper than {MAX_DEPTH}" in answer["message"]
    rejected = httpx.get(f"{server.url}/healthz").json()
    before = _rejected(rejected)
    with ws_connect(server.ws_url) as ws:
        ws.send(orjson.dumps(connect_message(token_of(server), name="sdk", roomName="ws-deep")).decode())
        assert json.loads(ws.recv(timeout=30))["type"] == "connected"
        ws.send(deep(100_000).decode())  # dropped and counted; the session goes on
        ws.send(orjson.dumps(stats_event(int(time.time() * 1000), {"localAudioTrackStats": []})).decode())
        ws.send(orjson.dumps(stats_event(int(time.time() * 1000), {"localAudioTrackStats": []})).decode())
    deadline = time.time() + 10
    while _rejected(httpx.get(f"{server.url}/healthz").json()) < before + 1 and time.time() < deadline:
        time.sleep(0.05)
    assert _rejected(httpx.get(f"{server.url}/healthz").json()) == before + 1


def _rejected(health: dict[str, Any]) -> int:
    found: int = next(v["rejected_gateway_events"] for v in health.values()
                      if isinstance(v, dict) and "rejected_gateway_events" in v)
    return found


# -- tokens in URLs ----------------------------------------------------------------------------------------

def test_token_in_the_query_string_is_refused(server: Server) -> None:
    connect = connect_message(token_of(server), name="sdk", roomName="query-token")
    r = httpx.post(f"{server.url}/v1/VideoEvents", params={"token": token_of(server)}, json=[connect])
    assert r.status_code == 400 and "not accepted in the URL" in r.json()["message"]
