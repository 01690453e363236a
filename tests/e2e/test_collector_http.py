"""What the service gives the collector, over plain HTTP and WebSocket: the script under its two
names, the beacon body sendBeacon posts, the answer that lets it reconnect, bad input."""

from __future__ import annotations

import gzip
import re
from typing import Any

import orjson
from websockets.sync.client import connect

from support import Creds
from video_insights import __version__
from video_insights.ingest.auth import mint_token
from video_insights.model.ids import room_sid_for_name
from video_insights.web.pages.render import STATIC

UA_DATA = {"platform": "Android", "platformVersion": "14.0.0", "model": "SM-S918B", "mobile": True,
           "fullVersionList": [{"brand": "Google Chrome", "version": "131.0.6778.200"}]}


def _token(creds: Creds, identity: str = "alice") -> str:
    return mint_token(creds.account_sid, creds.key_sid, creds.key_secret, identity)


def _connect(server: Any, creds: Creds, publisher: dict[str, Any]) -> dict[str, Any]:
    with connect(server.url.replace("http://", "ws://") + "/v1/VideoEvents") as ws:
        ws.send(orjson.dumps({"type": "connect", "token": _token(creds), "version": 1,
                              "publisher": publisher}).decode())
        return dict(orjson.loads(ws.recv(timeout=10)))


def test_script_served_under_both_names(service: Any) -> None:
    client = service.client()
    plain = client.get("/static/collector.js")
    versioned = client.get(f"/static/collector-{__version__}.js")
    module = client.get(f"/static/collector-{__version__}.mjs", headers={"Origin": "https://app.example"})
    assert plain.status_code == versioned.status_code == module.status_code == 200
    assert plain.text == versioned.text
    assert re.search(r'var VERSION = "([^"]+)"', plain.text).group(1) == __version__  # type: ignore[union-attr]
    assert "immutable" in versioned.headers["cache-control"]
    assert module.headers["content-type"].startswith("text/javascript")
    assert module.headers["access-control-allow-origin"] == "*"  # an app's page imports it cross-origin
    assert f'import "./collector-{__version__}.js";' in module.text
    assert client.get("/static/collector-0.0.0.js").status_code == 404
    source = (STATIC / "collector.js").read_bytes()
    print(f"\ncollector.js: {len(source)} bytes, {len(gzip.compress(source, 9))} gzipped")
    assert len(gzip.compress(source, 9)) < 8_500


def test_beacon_body_carries_the_token(service: Any, account: Creds) -> None:
    client = service.client()
    messages = [{"type": "connect", "token": _token(account), "version": 1,
                 "publisher": {"roomName": "beacon-room", "identity": "alice"}},
                {"type": "event", "version": 1, "group": "room", "name": "disconnected", "payload": {}}]
    # sendBeacon sends text/plain and no Authorization header.
    r = client.post("/v1/VideoEvents", content=orjson.dumps({"token": _token(account), "messages": messages}),
                    headers={"Content-Type": "text/plain;charset=UTF-8"})
    assert r.status_code == 200, r.text
    assert r.json()["accepted"] == 2


def test_beacon_bad_input(service: Any, account: Creds) -> None:
    client = service.client()
    cases = [
        ({"messages": []}, 400, "token"),
        ({"token": "", "messages": []}, 400, "body.token"),
        ({"token": "x.y.z", "messages": []}, 401, "access token"),
        ({"token": _token(account), "messages": {}}, 400, "body.messages"),
        ({"token": _token(account), "messages": [], "extra": 1}, 400, "extra"),
        ({"token": _token(account), "messages": [{"type": "event", "group": "room", "name": "x"}]}, 400,
         "session"),
    ]
    for body, status, named in cases:
        r = client.post("/v1/VideoEvents", content=orjson.dumps(body), headers={"Content-Type": "text/plain"})
        assert r.status_code == status, (body, r.text)
        assert named in r.json()["message"], (body, r.json())
    assert client.post("/v1/VideoEvents", content=b"[]").status_code == 401  # no token anywhere


def test_connected_answer_names_the_sids_and_a_room_name_is_stable(service: Any, account: Creds) -> None:
    first = _connect(service, account, {"roomName": "standup", "identity": "alice"})
    again = _connect(service, account, {"roomName": "standup", "identity": "bob"})
    assert first["type"] == again["type"] == "connected"
    assert first["roomSid"] == again["roomSid"] == room_sid_for_name(account.account_sid, "standup")
    assert first["participantSid"] != again["participantSid"]
    back = _connect(service, account, {"roomSid": first["roomSid"], "participantSid": first["participantSid"]})
    assert (back["roomSid"], back["participantSid"]) == (first["roomSid"], first["participantSid"])


def test_user_agent_data_reaches_the_participant(service: Any, account: Creds) -> None:
    answer = _connect(service, account, {"roomName": "ua-data", "identity": "alice", "userAgentData": UA_DATA,
                                         "name": "video-insights-collector", "sdkVersion": __version__,
                                         "userAgent": "Mozilla/5.0 (Linux; Android 10; K) AppleWebKit/537.36 "
                                                      "(KHTML, like Gecko) Chrome/131.0.0.0 Mobile Safari/537.36"})
    service.flush()
    p = service.client(account).get(f"/v1/Video/Rooms/{answer['roomSid']}/Participants/"
                                    f"{answer['participantSid']}").json()
    assert p["os"] == {"name": "Android", "version": "14.0.0"}
    assert p["device"]["model"] == "SM-S918B"
    assert p["sdk"] == {"name": "video-insights-collector", "version": __version__}


def test_user_agent_data_bad_input(service: Any, account: Creds) -> None:
    for value, named in (("Android", "expected a JSON object"), ({"model": "x" * 5000}, "over 4096 bytes")):
        answer = _connect(service, account, {"roomName": "r", "userAgentData": value})
        assert answer["type"] == "error"
        assert "message.publisher.userAgentData" in answer["message"] and named in answer["message"]
