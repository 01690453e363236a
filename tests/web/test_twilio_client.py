"""twilio-python, unchanged, against a running server: `client.insights.base_url` is all that changes.

The data comes in through the public doors only: signed Room Status Callbacks (rooms of known shape,
timed relative to now) and dump imports (rooms with codecs and a real participant).
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from twilio.base.exceptions import TwilioException, TwilioRestException
from twilio.rest import Client

from support import serving, twilio_sign
from video_insights import accounts
from video_insights.app import create_app
from video_insights.settings import Settings
from video_insights.store.duckdb_store import DuckDBStore

DUMPS = Path(__file__).parent.parent / "data" / "webrtc-internals" / "chromium156"
LONG_AGO = datetime(2020, 1, 1, tzinfo=UTC)  # a date filter that reaches every room of the account


@dataclass
class Room:
    sid: str
    name: str
    room_type: str  # the API's spelling
    create: datetime
    duration: int | None  # None: still in progress
    participants: dict[str, str] = field(default_factory=dict)  # sid -> identity


@dataclass
class World:
    url: str
    app: Any
    account_sid: str
    auth_token: str
    key_sid: str
    key_secret: str
    rooms: dict[str, Room]  # label -> room
    imported: list[dict[str, Any]]  # the import responses

    def client(self) -> Client:
        client = Client(self.account_sid, self.auth_token)
        client.insights.base_url = self.url
        return client

    def sids(self, *labels: str) -> set[str]:
        return {self.rooms[label].sid for label in labels}

    @property
    def all_sids(self) -> set[str]:
        return {r.sid for r in self.rooms.values()} | {i["room_sid"] for i in self.imported}


def _iso(dt: datetime) -> str:
    return dt.strftime("%Y-%m-%dT%H:%M:%S.") + f"{dt.microsecond // 1000:03d}Z"


class _Callbacks:
    def __init__(self, url: str, account_sid: str, auth_token: str) -> None:
        self.url, self.account_sid, self.auth_token = f"{url}/webhooks/twilio", account_sid, auth_token

    def send(self, room: Room, event: str, at: datetime, **extra: str) -> None:
        hyphenated = room.room_type.replace("_", "-")
        params = {"AccountSid": self.account_sid, "RoomSid": room.sid, "RoomName": room.name,
                  "RoomType": hyphenated, "StatusCallbackEvent": event, "Timestamp": _iso(at),
                  "RoomStatus": "completed" if event == "room-ended" else "in-progress", "SequenceNumber": "0",
                  **extra}
        r = httpx.post(self.url, data=params, timeout=30,
                       headers={"X-Twilio-Signature": twilio_sign(self.auth_token, self.url, params)})
        assert r.status_code == 200, r.text

    def room(self, room: Room, identities: list[str]) -> None:
        self.send(room, "room-created", room.create)
        for i, identity in enumerate(identities):
            sid = "PA" + uuid.uuid4().hex
            room.participants[sid] = identity
            joined = room.create + timedelta(seconds=2 + i)
            self.send(room, "participant-connected", joined, ParticipantSid=sid, ParticipantIdentity=identity,
                      ParticipantStatus="connected")
            if room.duration is not None:
                left = room.create + timedelta(seconds=room.duration - 1)
                self.send(room, "participant-disconnected", left, ParticipantSid=sid, ParticipantIdentity=identity,
                          ParticipantStatus="disconnected",
                          ParticipantDuration=str(round((left - joined).total_seconds())))
        if room.duration is not None:
            self.send(room, "room-ended", room.create + timedelta(seconds=room.duration),
                      RoomDuration=str(room.duration))


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    path = tmp_path_factory.mktemp("twilio-client") / "vi.duckdb"
    settings = Settings.from_env({}, store=f"duckdb:///{path}", writer_flush_ms=20)
    store = DuckDBStore(path)
    store.migrate()
    account = accounts.create_account(store, friendly_name="twilio-python")
    key = accounts.create_key(store, account.sid)
    app = create_app(settings, store=store)
    stack = ExitStack()
    url = stack.enter_context(serving(app))
    now = datetime.now(UTC).replace(microsecond=0)

    def room(name: str, room_type: str, ago: timedelta, duration: int | None) -> Room:
        return Room("RM" + uuid.uuid4().hex, name, room_type, now - ago, duration)

    rooms = {
        "standup": room("standup", "group", timedelta(hours=3), 600),
        "one-on-one": room("one-on-one", "peer_to_peer", timedelta(hours=2), 300),
        "small": room("small-team", "group_small", timedelta(hours=1), 120),
        "go": room("quick", "go", timedelta(minutes=50), 60),
        "retro": room("retro", "group", timedelta(minutes=40), 900),
        "old": room("last-week", "group", timedelta(days=2), 1200),  # completed more than 24 h ago
        "live": room("live", "group", timedelta(seconds=30), None),  # still in progress
    }
    callbacks = _Callbacks(url, account.sid, account.auth_token)
    with ThreadPoolExecutor(max_workers=len(rooms)) as pool:  # rooms side by side, as Twilio sends them
        list(pool.map(lambda item: callbacks.room(item[1], ["alice", "bob", "alice"] if item[0] == "standup"
                                                  else ["alice", "bob"]), rooms.items()))
    imported = []
    with httpx.Client(base_url=url, auth=(account.sid, account.auth_token), timeout=60) as c:
        for name in ("loss8.rtcstats-dump.gz", "rtt350.json.gz"):
            r = c.post("/v1/Video/Imports", params={"FileName": name}, content=(DUMPS / name).read_bytes())
            assert r.status_code == 200, r.text
            imported.append(r.json())
    app.state.services.settle()
    yield World(url, app, account.sid, account.auth_token, key.sid, key.secret, rooms, imported)
    stack.close()
    store.close()


def _sids(rooms: list[Any]) -> list[str]:
    return [r.room_sid for r in rooms]


# -- listing -----------------------------------------------------------------------------------------

def test_list_without_a_date_filter_is_rooms_completed_in_the_last_24_hours(world: World) -> None:
    listed = _sids(world.client().insights.v1.rooms.list())
    assert len(listed) == len(set(listed))
    assert world.sids("standup", "one-on-one", "small", "go", "retro") <= set(listed)
    assert world.rooms["old"].sid not in listed
    assert world.rooms["live"].sid not in listed
    assert set(listed) <= world.all_sids


def _listed(world: World, params: list[tuple[str, str]]) -> set[str]:
    r = httpx.get(world.url + "/v1/Video/Rooms", params=[*params, ("PageSize", "1000")],
                  auth=(world.account_sid, world.auth_token), timeout=30)
    assert r.status_code == 200, r.text
    return {room["room_sid"] for room in r.json()["rooms"]}


def test_an_explicit_room_status_replaces_the_default_window(world: World) -> None:
    """Asking for a status lists every room of that status, not those completed in the last 24 hours
    (where in-progress rooms could never be); a date filter still narrows it."""
    live = world.sids("live")
    assert _listed(world, [("room_status__eq", "in_progress")]) == live
    assert _listed(world, [("RoomStatus", "in-progress")]) == live
    assert _listed(world, [("room_status__ne", "completed")]) == live
    assert _listed(world, [("room_status__eq", "completed")]) == world.all_sids - live  # "old" too
    assert _listed(world, [("RoomStatus", "completed"), ("RoomType", "group")]) == world.sids(
        "standup", "retro", "old") | {i["room_sid"] for i in world.imported}
    assert _listed(world, [("room_status__in", "in_progress,completed")]) == world.all_sids
    recent = _listed(world, [("room_status__eq", "completed"), ("_range", "24h")])
    assert world.sids("standup", "retro") <= recent and world.rooms["old"].sid not in recent
    r = httpx.get(world.url + "/v1/Video/Rooms", params={"RoomStatus": "failed"},
                  auth=(world.account_sid, world.auth_token), timeout=30)
    assert r.status_code == 400 and "RoomStatus" in r.json()["message"], r.text


def test_list_created_after_reaches_every_room(world: World) -> None:
    listed = _sids(world.client().insights.v1.rooms.list(created_after=LONG_AGO))
    assert sorted(listed) == sorted(world.all_sids)
    since = datetime.now(UTC) - timedelta(hours=1, minutes=30)
    recent = _sids(world.client().insights.v1.rooms.list(created_after=since))
    assert set(recent) == world.sids("small", "go", "retro", "live")


def test_list_created_before(world: World) -> None:
    day_ago = datetime.now(UTC) - timedelta(days=1)
    listed = set(_sids(world.client().insights.v1.rooms.list(created_after=LONG_AGO, created_before=day_ago)))
    assert world.rooms["old"].sid in listed
    assert not listed & world.sids("standup", "one-on-one", "small", "go", "retro", "live")


def test_list_filters_by_room_type_codec_and_name(world: World) -> None:
    rooms = world.client().insights.v1.rooms
    assert set(_sids(rooms.list(created_after=LONG_AGO, room_type=["peer_to_peer"]))) == world.sids("one-on-one")
    both = set(_sids(rooms.list(created_after=LONG_AGO, room_type=["go", "group_small"])))
    assert both == world.sids("go", "small")
    assert set(_sids(rooms.list(created_after=LONG_AGO, codec=["VP8"]))) == {i["room_sid"] for i in world.imported}
    assert _sids(rooms.list(created_after=LONG_AGO, room_name="retro")) == [world.rooms["retro"].sid]


def test_paging_reads_every_room_once(world: World) -> None:
    rooms = world.client().insights.v1.rooms
    whole = _sids(rooms.list(created_after=LONG_AGO))
    paged = _sids(rooms.list(created_after=LONG_AGO, page_size=2))
    assert paged == whole
    assert _sids(rooms.list(created_after=LONG_AGO, page_size=2, limit=3)) == whole[:3]
    assert _sids(list(rooms.stream(created_after=LONG_AGO, page_size=3))) == whole


def test_pages_link_back_to_this_server(world: World) -> None:
    page = world.client().insights.v1.rooms.page(created_after=LONG_AGO, page_size=2)
    seen = []
    pages = 0
    while page is not None:
        seen += _sids(list(page))
        meta = page._payload["meta"]
        assert meta["key"] == "rooms" and meta["page_size"] == 2 and meta["page"] == pages
        for key in ("first_page_url", "url"):
            assert meta[key].startswith(world.url + "/v1/Video/Rooms?")
        assert (meta["previous_page_url"] is None) == (pages == 0)
        pages += 1
        page = page.next_page()
    assert pages == (len(world.all_sids) + 1) // 2
    assert sorted(seen) == sorted(world.all_sids)


# -- fetching ----------------------------------------------------------------------------------------

def test_fetch_room_fields(world: World) -> None:
    expected = world.rooms["standup"]
    room = world.client().insights.v1.rooms(expected.sid).fetch()
    assert room.room_sid == expected.sid
    assert room.account_sid == world.account_sid
    assert room.room_name == "standup"
    assert room.room_type == "group"
    assert room.room_status == "completed"
    assert room.duration_sec == 600
    assert room.unique_participants == 3  # alice joined twice: two participant SIDs
    assert room.unique_participant_identities == 2
    assert room.codecs == []
    assert isinstance(room.create_time, datetime) and room.create_time == expected.create
    assert room.end_time == expected.create + timedelta(seconds=600)
    assert room.url == f"{world.url}/v1/Video/Rooms/{expected.sid}"
    assert room.links == {"participants": f"{world.url}/v1/Video/Rooms/{expected.sid}/Participants"}
    for name in ("max_participants", "max_concurrent_participants", "media_region", "edge_location",
                 "status_callback", "status_callback_method"):
        assert hasattr(room, name)


def test_fetch_imported_room_has_codecs(world: World) -> None:
    imported = world.imported[0]
    room = world.client().insights.v1.rooms(imported["room_sid"]).fetch()
    assert set(room.codecs) == {"VP8", "opus"}
    assert room.unique_participants == 1
    assert isinstance(room.create_time, datetime) and room.create_time.tzinfo is not None
    assert room.duration_sec and room.duration_sec > 0
    assert room.room_status == "completed"


def test_room_participants_list_and_fetch(world: World) -> None:
    expected = world.rooms["one-on-one"]
    room = world.client().insights.v1.rooms(expected.sid)
    participants = room.participants.list()
    assert {p.participant_sid: p.participant_identity for p in participants} == expected.participants
    for p in participants:
        assert p.room_sid == expected.sid and p.account_sid == world.account_sid
        assert isinstance(p.join_time, datetime) and isinstance(p.leave_time, datetime)
        assert p.duration_sec == round((p.leave_time - p.join_time).total_seconds())
        assert p.status in ("completed", "disconnected")
        fetched = room.participants(p.participant_sid).fetch()
        assert (fetched.participant_sid, fetched.participant_identity, fetched.join_time) == \
            (p.participant_sid, p.participant_identity, p.join_time)
        assert fetched.url == f"{world.url}/v1/Video/Rooms/{expected.sid}/Participants/{p.participant_sid}"


def test_imported_participant_fetch(world: World) -> None:
    imported = world.imported[1]
    room = world.client().insights.v1.rooms(imported["room_sid"])
    (only,) = room.participants.list()
    assert only.participant_sid == imported["participant_sid"]
    fetched = room.participants(imported["participant_sid"]).fetch()
    assert set(fetched.codecs) == {"VP8", "opus"}
    assert fetched.duration_sec and fetched.duration_sec > 0


def test_participants_paging(world: World) -> None:
    expected = world.rooms["standup"]
    room = world.client().insights.v1.rooms(expected.sid)
    paged = [p.participant_sid for p in room.participants.list(page_size=1)]
    assert sorted(paged) == sorted(expected.participants)
    assert len(room.participants.list(page_size=2, limit=2)) == 2


# -- errors and credentials ----------------------------------------------------------------------------

def test_not_found_raises_with_our_message(world: World) -> None:
    missing = "RM" + "0" * 32
    with pytest.raises(TwilioRestException) as e:
        world.client().insights.v1.rooms(missing).fetch()
    assert e.value.status == 404
    assert e.value.code == 20404
    assert f"room {missing} not found" in e.value.msg
    room = world.rooms["retro"].sid
    with pytest.raises(TwilioRestException) as e:
        world.client().insights.v1.rooms(room).participants("PA" + "1" * 32).fetch()
    assert e.value.status == 404 and "not found" in e.value.msg


def _page_error(e: pytest.ExceptionInfo[TwilioException]) -> tuple[int, dict[str, Any]]:
    """twilio-python raises a bare TwilioException("Unable to fetch page", response) for any failed list
    page, Twilio's own API included; the response it carries is our error body."""
    message, response = e.value.args
    assert message == "Unable to fetch page"
    return response.status_code, json.loads(response.text)


def test_bad_filter_raises_with_our_message(world: World) -> None:
    with pytest.raises(TwilioException) as e:
        world.client().insights.v1.rooms.list(room_type=["huge"])
    status, body = _page_error(e)
    assert status == 400 and body["status"] == 400
    assert "RoomType" in body["message"] and "huge" in body["message"]


def test_api_key_credentials_work(world: World) -> None:
    client = Client(world.key_sid, world.key_secret, world.account_sid)
    client.insights.base_url = world.url
    assert sorted(_sids(client.insights.v1.rooms.list(created_after=LONG_AGO))) == sorted(world.all_sids)
    assert client.insights.v1.rooms(world.rooms["go"].sid).fetch().room_type == "go"


def test_wrong_credentials_raise_401(world: World) -> None:
    client = Client(world.account_sid, "not-the-token")
    client.insights.base_url = world.url
    with pytest.raises(TwilioException) as e:
        client.insights.v1.rooms.list()
    status, body = _page_error(e)
    assert status == 401 and "authentication failed" in body["message"]
    with pytest.raises(TwilioRestException) as fetch:
        client.insights.v1.rooms(world.rooms["go"].sid).fetch()
    assert fetch.value.status == 401 and "authentication failed" in fetch.value.msg
