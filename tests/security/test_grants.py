"""What a participant's access token allows: the room its video grant names and nothing else, and no say
over room-level fields (status callback, regions), which only webhooks and server settings set."""

from __future__ import annotations

import json
import time
from typing import Any

import httpx
import orjson
import pytest
from websockets.sync.client import connect as ws_connect

from security.hostile import Server, connect_message, send_call
from support import Creds
from video_insights.ingest.auth import mint_token
from video_insights.model.ids import new_sid


def token(creds: Creds, room: str | None) -> str:
    return mint_token(creds.account_sid, creds.key_sid, creds.key_secret, "mallory", room=room)


def ws_connect_answer(server: Server, message: dict[str, Any]) -> dict[str, Any]:
    with ws_connect(server.ws_url) as ws:
        ws.send(orjson.dumps(message).decode())
        answer: dict[str, Any] = json.loads(ws.recv(timeout=30))
        return answer


def http_connect(server: Server, message: dict[str, Any]) -> httpx.Response:
    return httpx.post(f"{server.url}/v1/VideoEvents", json=[message],
                      headers={"authorization": f"Bearer {message['token']}"}, timeout=30)


def test_a_room_grant_binds_the_session_to_that_room(server: Server) -> None:
    granted = token(server.creds, "granted-room")
    other = connect_message(granted, name="sdk", roomName="other-room")
    answer = ws_connect_answer(server, other)
    assert answer["type"] == "error" and "granted-room" in answer["message"] and "other-room" in answer["message"]
    r = http_connect(server, other)
    assert r.status_code == 403 and "granted-room" in r.json()["message"]
    # The granted room itself, named or not, is fine.
    for message in (connect_message(granted, name="sdk", roomName="granted-room"),
                    connect_message(granted, name="sdk")):
        assert ws_connect_answer(server, message)["type"] == "connected"


def test_a_room_sid_cannot_dodge_the_grant(server: Server) -> None:
    elsewhere = send_call(server, {"name": "sdk", "roomName": "someone-elses-room", "identity": "bob"})
    granted = token(server.creds, "granted-room")
    answer = ws_connect_answer(server, connect_message(granted, name="sdk", roomSid=elsewhere.room_sid))
    assert answer["type"] == "error" and "granted-room" in answer["message"]
    # A grant by room SID: only that SID.
    by_sid = token(server.creds, elsewhere.room_sid)
    answer = ws_connect_answer(server, connect_message(by_sid, name="sdk", roomSid=new_sid("RM")))
    assert answer["type"] == "error" and elsewhere.room_sid in answer["message"]
    answer = ws_connect_answer(server, connect_message(by_sid, name="sdk"))
    assert answer["type"] == "connected" and answer["roomSid"] == elsewhere.room_sid


def test_a_token_without_a_room_grant_may_name_any_room(server: Server) -> None:
    assert ws_connect_answer(server, connect_message(token(server.creds, None), name="sdk",
                                                     roomName="any-room"))["type"] == "connected"


@pytest.mark.parametrize("field", ["status_callback", "media_region", "edge_location", "status_callback_method"])
def test_client_events_cannot_set_room_fields(server: Server, field: str) -> None:
    hostile = {"status_callback": "javascript:alert('cb')", "status_callback_method": "GET",
               "media_region": "evil-region", "edge_location": "evil-edge"}
    event = {"type": "event", "group": "app", "name": "whatever", "timestamp": int(time.time() * 1000),
             "payload": hostile}
    session = send_call(server, {"name": "sdk", "roomName": f"room-fields-{field}", "identity": "mallory"},
                        events=[event])
    with server.client(server.creds) as c:
        room = c.get(f"/v1/Video/Rooms/{session.room_sid}").json()
        participant = c.get(f"/v1/Video/Rooms/{session.room_sid}/Participants/{session.participant_sid}").json()
    assert room.get(field) != hostile[field], room
    assert participant.get(field) != hostile[field], participant
    assert "evil" not in str(room) and "javascript:" not in str(room)
