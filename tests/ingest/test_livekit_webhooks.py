"""LiveKit webhooks against a real server: bodies are LiveKit's own protobuf messages printed as
protobuf-JSON, signed by `livekit-api`'s AccessToken exactly as LiveKit's server signs them, posted
over HTTP; results are read back through the REST API."""

from __future__ import annotations

import base64
import dataclasses
import hashlib
import itertools
import json
import random
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
import jwt
import pytest
from google.protobuf.json_format import MessageToJson
from livekit.api import AccessToken, TokenVerifier, WebhookReceiver
from livekit.protocol import egress, models, webhook
from websockets.sync.client import connect as ws_connect

from conftest import LiveServer
from support import Creds, serving
from video_insights import accounts
from video_insights.app import create_app
from video_insights.ingest import livekit
from video_insights.ingest.auth import mint_token
from video_insights.settings import Settings
from video_insights.store import Store
from video_insights.store.duckdb_store import DuckDBStore

DATA = Path(__file__).parent.parent / "data" / "livekit"
CONTENT_TYPE = "application/webhook+json"
NS = 1_000_000_000
# Fields that name the account or its SIDs: everything else must not depend on who sent what when.
IDENTIFYING = {"account_sid", "room_sid", "participant_sid", "url", "links"}


@dataclass
class LiveKitKey:
    creds: Creds
    api_key: str
    api_secret: str


def _livekit_account(store: Store, api_key: str) -> LiveKitKey:
    a = accounts.create_account(store, friendly_name="livekit")
    k = accounts.create_key(store, a.sid)
    secret = hashlib.sha256(api_key.encode()).hexdigest()
    accounts.create_key(store, a.sid, livekit_key=api_key, livekit_secret=secret)
    return LiveKitKey(Creds(a.sid, a.auth_token, k.sid, k.secret), api_key, secret)


def body_of(event: webhook.WebhookEvent) -> bytes:
    return MessageToJson(event, indent=None).encode()


def sign(body: bytes, api_key: str, api_secret: str, ttl: timedelta = timedelta(minutes=5)) -> str:
    """What LiveKit's server puts in `Authorization`: a JWT whose sha256 claim is the body's digest."""
    digest = base64.b64encode(hashlib.sha256(body).digest()).decode()
    return AccessToken(api_key, api_secret).with_sha256(digest).with_ttl(ttl).to_jwt()


def post(server: LiveServer, body: bytes, authorization: str | None,
         content_type: str = CONTENT_TYPE) -> httpx.Response:
    headers = {"Content-Type": content_type}
    if authorization is not None:
        headers["Authorization"] = authorization
    return httpx.post(server.url + "/webhooks/livekit", content=body, headers=headers, timeout=30)


def deliver(server: LiveServer, key: LiveKitKey, event: webhook.WebhookEvent) -> dict[str, Any]:
    body = body_of(event)
    token = sign(body, key.api_key, key.api_secret)
    # The token is one LiveKit's own SDK accepts: our signing is LiveKit's.
    assert WebhookReceiver(TokenVerifier(key.api_key, key.api_secret)).receive(body.decode(), token).event == \
        event.event
    r = post(server, body, token)
    assert r.status_code == 200, r.text
    return dict(r.json())


# -- one call, as LiveKit reports it ------------------------------------------------------------------

T0 = int(time.time()) - 3600  # an hour ago, in seconds like LiveKit's createdAt
ROOM = models.Room(sid="RM_Qz3kLm8TnWx2", name="standup", max_participants=20, creation_time=T0,
                   creation_time_ms=T0 * 1000 + 250, empty_timeout=300, num_participants=0)


def _participant(sid: str, identity: str, joined: int, region: str,
                 reason: models.DisconnectReason.ValueType = models.DisconnectReason.UNKNOWN_REASON
                 ) -> models.ParticipantInfo:
    return models.ParticipantInfo(sid=sid, identity=identity, joined_at=joined, joined_at_ms=joined * 1000 + 40,
                                  region=region, state=models.ParticipantInfo.State.ACTIVE, disconnect_reason=reason)


ALICE = _participant("PA_aL1cEaL1cE", "alice", T0 + 5, "us-east")
BOB = _participant("PA_b0bb0bb0b0", "bob", T0 + 10, "eu-west")
ALICE_MIC = models.TrackInfo(sid="TR_AmicAmicAmic", type=models.TrackType.AUDIO, name="mic",
                             source=models.TrackSource.MICROPHONE, mime_type="audio/red")
ALICE_CAM = models.TrackInfo(sid="TR_AcamAcamAcam", type=models.TrackType.VIDEO, name="camera",
                             source=models.TrackSource.CAMERA, mime_type="video/VP8", width=1280, height=720)
BOB_MIC = models.TrackInfo(sid="TR_BmicBmicBmic", type=models.TrackType.AUDIO,
                           source=models.TrackSource.MICROPHONE, mime_type="audio/opus")
BOB_SCREEN = models.TrackInfo(sid="TR_BscrBscrBscr", type=models.TrackType.VIDEO,
                              source=models.TrackSource.SCREEN_SHARE, mime_type="video/VP8")


def _hook(n: int, event: str, created: int, **fields: Any) -> webhook.WebhookEvent:
    return webhook.WebhookEvent(event=event, id=f"EV_{n:04d}", created_at=created, **fields)


def _left(p: models.ParticipantInfo, reason: models.DisconnectReason.ValueType) -> models.ParticipantInfo:
    gone = models.ParticipantInfo()
    gone.CopyFrom(p)
    gone.disconnect_reason = reason
    gone.state = models.ParticipantInfo.State.DISCONNECTED
    return gone


def call_sequence(room: models.Room = ROOM) -> list[webhook.WebhookEvent]:
    """room_started, two participants join and publish, a room recording and a track recording, one
    participant leaves, the other's connection is aborted, the room closes after its empty timeout."""
    composite = egress.EgressInfo(egress_id="EG_room0000001", room_id=room.sid, room_name=room.name,
                                  room_composite=egress.RoomCompositeEgressRequest(room_name=room.name))
    composite_done = egress.EgressInfo()
    composite_done.CopyFrom(composite)
    composite_done.status = egress.EgressStatus.EGRESS_COMPLETE
    composite_done.started_at = (T0 + 20) * NS
    composite_done.ended_at = (T0 + 141) * NS
    composite_done.file_results.append(egress.FileInfo(filename="standup.mp4", duration=120 * NS, size=9_000_000))
    track_rec = egress.EgressInfo(egress_id="EG_track000001", room_id=room.sid, room_name=room.name,
                                  track=egress.TrackEgressRequest(room_name=room.name, track_id=ALICE_MIC.sid))
    track_done = egress.EgressInfo()
    track_done.CopyFrom(track_rec)
    track_done.status = egress.EgressStatus.EGRESS_COMPLETE
    track_done.started_at = (T0 + 21) * NS
    track_done.ended_at = (T0 + 82) * NS
    track_done.file_results.append(egress.FileInfo(filename="alice-mic.ogg", duration=60 * NS, size=480_000))
    return [
        _hook(1, "room_started", T0, room=room),
        _hook(2, "participant_joined", T0 + 5, room=room, participant=ALICE),
        _hook(3, "track_published", T0 + 6, room=room, participant=ALICE, track=ALICE_MIC),
        _hook(4, "track_published", T0 + 7, room=room, participant=ALICE, track=ALICE_CAM),
        _hook(5, "participant_joined", T0 + 10, room=room, participant=BOB),
        _hook(6, "track_published", T0 + 11, room=room, participant=BOB, track=BOB_MIC),
        _hook(7, "track_published", T0 + 12, room=room, participant=BOB, track=BOB_SCREEN),
        _hook(8, "egress_started", T0 + 20, egress_info=composite),
        _hook(9, "egress_started", T0 + 21, egress_info=track_rec),
        _hook(10, "egress_ended", T0 + 82, egress_info=track_done),
        _hook(11, "track_unpublished", T0 + 100, room=room, participant=BOB, track=BOB_SCREEN),
        _hook(12, "egress_ended", T0 + 141, egress_info=composite_done),
        _hook(13, "track_unpublished", T0 + 200, room=room, participant=BOB, track=BOB_MIC),
        _hook(14, "participant_left", T0 + 200, room=room,
              participant=_left(BOB, models.DisconnectReason.CLIENT_INITIATED)),
        _hook(15, "participant_connection_aborted", T0 + 250, room=room,
              participant=_left(ALICE, models.DisconnectReason.UNKNOWN_REASON)),
        _hook(16, "room_finished", T0 + 550, room=room),
    ]


def fetch(server: LiveServer, creds: Creds, path: str) -> dict[str, Any]:
    with server.client(creds) as c:
        r = c.get(path)
    assert r.status_code == 200, r.text
    return dict(r.json())


def summaries(server: LiveServer, creds: Creds, room_sid: str) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    server.flush()
    room = fetch(server, creds, f"/v1/Video/Rooms/{room_sid}")
    participants = fetch(server, creds, f"/v1/Video/Rooms/{room_sid}/Participants")["participants"]
    return room, sorted(participants, key=lambda p: p["participant_identity"])


def anonymous(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: anonymous(v) for k, v in value.items() if k not in IDENTIFYING}
    if isinstance(value, (list, tuple)):
        return [anonymous(v) for v in value]
    return value


def _iso(seconds: float) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(seconds))


# -- the tests ----------------------------------------------------------------------------------------

def test_call_sequence_gives_room_and_participant_summaries(live_server: LiveServer) -> None:
    key = _livekit_account(live_server.store, "APIseqA1")
    answers = [deliver(live_server, key, e) for e in call_sequence()]
    room_sids = {a["room_sid"] for a in answers}
    assert len(room_sids) == 1, "every event of one LiveKit room maps to one room SID"
    room, (alice, bob) = summaries(live_server, key.creds, room_sids.pop())

    assert room["room_name"] == "standup"
    assert room["room_type"] == "group"
    assert room["room_status"] == "completed"
    assert room["create_time"] == _iso(T0)
    assert room["end_time"] == _iso(T0 + 550)
    assert room["duration_sec"] == 550
    assert room["end_reason"] == "timeout"  # emptied at +250, closed 300 s later
    assert room["max_participants"] == 20
    assert room["unique_participants"] == 2
    assert room["unique_participant_identities"] == 2
    assert room["concurrent_participants"] == 2
    assert room["total_participant_duration_sec"] == 245 + 190
    assert room["total_recording_duration_sec"] == 120 + 60
    assert room["recording_enabled"] is True
    assert room["processing_state"] == "complete"

    assert alice["participant_identity"] == "alice"
    assert (alice["join_time"], alice["leave_time"]) == (_iso(T0 + 5), _iso(T0 + 250))
    assert alice["duration_sec"] == 245
    assert alice["status"] == "completed"
    assert alice["end_reason"] == "media_connection_error"
    assert alice["tracks_published"] == {"audio": 1, "video": 1, "data": 0}
    assert alice["recording_duration_sec"] == 60  # the track egress of her microphone
    assert alice["signaling_region"] == "us-east"
    assert alice["media_region"] == "us-east"

    assert (bob["join_time"], bob["leave_time"]) == (_iso(T0 + 10), _iso(T0 + 200))
    assert bob["duration_sec"] == 190
    assert bob["end_reason"] == "participant_disconnected"
    assert bob["tracks_published"] == {"audio": 1, "video": 1, "data": 0}
    assert bob["recording_duration_sec"] == 0
    assert bob["media_region"] == "eu-west"

    # Tracks with their names and time spans, as the summaries read them.
    tracks = live_server.store.fetch(
        "SELECT name, ts_ms, payload FROM events WHERE name LIKE 'track-%' AND account_sid = "
        f"'{key.creds.account_sid}' ORDER BY ts_ms, name")[1]
    spans = [(name, ts // 1000 - T0, json.loads(p)["track_kind"], json.loads(p)["track_name"])
             for name, ts, p in tracks]
    assert spans == [("track-added", 6, "audio", "mic"), ("track-added", 7, "video", "camera"),
                     ("track-added", 11, "audio", "microphone"), ("track-added", 12, "video", "screen_share"),
                     ("track-removed", 100, "video", "screen_share"), ("track-removed", 200, "audio", "microphone")]
    # …and in the tracks table the console reads, though no telemetry measured them.
    rows = live_server.store.fetch(
        "SELECT name, kind, published_ms, unpublished_ms, bytes_sent FROM tracks WHERE account_sid = "
        f"'{key.creds.account_sid}' ORDER BY published_ms")[1]
    assert [(n, k, pub // 1000 - T0, None if unpub is None else unpub // 1000 - T0, b)
            for n, k, pub, unpub, b in rows] == [
        ("mic", "audio", 6, None, None), ("camera", "video", 7, None, None), ("microphone", "audio", 11, 200, None),
        ("screen_share", "video", 12, 100, None)]


def test_shuffled_and_duplicated_delivery_gives_the_same_summaries(live_server: LiveServer) -> None:
    in_order = _livekit_account(live_server.store, "APIinOrder")
    shuffled = _livekit_account(live_server.store, "APIshuffle")
    sequence = call_sequence()
    for e in sequence:
        deliver(live_server, in_order, e)
    rng = random.Random(4)
    # LiveKit retries: some events come twice or three times, late, and in any order.
    retried = list(itertools.chain.from_iterable([e] * rng.choice((1, 2, 3)) for e in sequence))
    rng.shuffle(retried)
    answers = [deliver(live_server, shuffled, e) for e in retried]

    first = summaries(live_server, in_order.creds, deliver(live_server, in_order, sequence[0])["room_sid"])
    second = summaries(live_server, shuffled.creds, answers[0]["room_sid"])
    assert first[0]["room_status"] == "completed"
    assert anonymous(second) == anonymous(first)
    assert first[0]["room_sid"] != second[0]["room_sid"], "a LiveKit room's SID is per account"
    stored = live_server.store.fetch(f"SELECT count(*) FROM events WHERE account_sid = "
                                     f"'{shuffled.creds.account_sid}'")[1][0][0]
    expected = live_server.store.fetch(f"SELECT count(*) FROM events WHERE account_sid = "
                                       f"'{in_order.creds.account_sid}'")[1][0][0]
    assert stored == expected, "duplicates collapse into the events of a single delivery"


def test_dropped_join_and_room_start_are_restated_by_later_events(live_server: LiveServer) -> None:
    complete = _livekit_account(live_server.store, "APIcomplete")
    lossy = _livekit_account(live_server.store, "APIlossy")
    sequence = call_sequence()
    for e in sequence:
        deliver(live_server, complete, e)
    for e in sequence:
        if e.event not in ("room_started", "participant_joined"):
            deliver(live_server, lossy, e)
    first = summaries(live_server, complete.creds, deliver(live_server, complete, sequence[0])["room_sid"])
    second = summaries(live_server, lossy.creds, deliver(live_server, lossy, sequence[1])["room_sid"])
    assert anonymous(second) == anonymous(first)


def test_room_deleted_through_the_api(live_server: LiveServer) -> None:
    key = _livekit_account(live_server.store, "APIdelete")
    room = models.Room(sid="RM_dEl3t3dR00m", name="interview", creation_time=T0)
    deliver(live_server, key, _hook(1, "room_started", T0, room=room))
    deliver(live_server, key, _hook(2, "participant_joined", T0 + 3, room=room, participant=ALICE))
    deliver(live_server, key, _hook(3, "participant_left", T0 + 60, room=room,
                                    participant=_left(ALICE, models.DisconnectReason.ROOM_DELETED)))
    sid = deliver(live_server, key, _hook(4, "room_finished", T0 + 60, room=room))["room_sid"]
    room_json, (alice,) = summaries(live_server, key.creds, sid)
    assert room_json["end_reason"] == "room_ended_via_api"
    assert room_json["duration_sec"] == 60
    assert alice["end_reason"] == "room_ended"


@pytest.mark.parametrize(("reason", "expected"), [
    (models.DisconnectReason.DUPLICATE_IDENTITY, "duplicate_identity"),
    (models.DisconnectReason.PARTICIPANT_REMOVED, "disconnected_via_api"),
    (models.DisconnectReason.SIGNAL_CLOSE, "signaling_connection_error"),
    (models.DisconnectReason.MEDIA_FAILURE, "media_connection_error"),
])
def test_disconnect_reasons_map_to_end_reasons(live_server: LiveServer, reason: int, expected: str) -> None:
    key = _livekit_account(live_server.store, f"APIreason{reason}")
    room = models.Room(sid=f"RM_reason{reason:05d}", name="r", creation_time=T0)
    deliver(live_server, key, _hook(1, "participant_joined", T0 + 1, room=room, participant=BOB))
    sid = deliver(live_server, key, _hook(2, "participant_left", T0 + 30, room=room,
                                          participant=_left(BOB, reason)))["room_sid"]
    _, (bob,) = summaries(live_server, key.creds, sid)
    assert bob["end_reason"] == expected
    assert bob["status"] == "completed"


def test_failed_egress_is_a_failed_recording(live_server: LiveServer) -> None:
    key = _livekit_account(live_server.store, "APIfailed")
    info = egress.EgressInfo(egress_id="EG_fail0000001", room_id=ROOM.sid, room_name=ROOM.name,
                             status=egress.EgressStatus.EGRESS_FAILED, error="no space left",
                             started_at=(T0 + 10) * NS, ended_at=(T0 + 40) * NS)
    deliver(live_server, key, _hook(1, "room_started", T0, room=ROOM))
    sid = deliver(live_server, key, _hook(2, "egress_ended", T0 + 40, egress_info=info))["room_sid"]
    live_server.flush()
    rows = live_server.store.fetch(f"SELECT name, payload FROM events WHERE room_sid = '{sid}' "
                                   "AND name LIKE 'recording-%'")[1]
    assert [(n, json.loads(p)["duration"]) for n, p in rows] == [("recording-failed", 30)]


def test_the_livekit_sdk_example_body_is_accepted(store: Store, settings: Settings) -> None:
    # The example's room is from 2021: kept here only by a retention long enough, or the server's first
    # purge (at start-up, concurrent with the test) may remove it before it is read.
    kept = dataclasses.replace(settings, retention_days=36_500, dashboard_retention_days=36_500)
    app = create_app(kept, store=store)
    with serving(app) as url:
        server = LiveServer(url, kept, store, app)
        key = _livekit_account(store, "APIexample")
        body = (DATA / "room_started_node_sdks.json").read_bytes()
        r = post(server, body, sign(body, key.api_key, key.api_secret))
        assert r.status_code == 200, r.text
        room, participants = summaries(server, key.creds, r.json()["room_sid"])
    assert (room["room_name"], room["room_status"], participants) == ("mytestroom", "in_progress", [])
    assert room["create_time"] == "2021-08-09T21:51:43Z"


def test_events_without_a_summary_are_acknowledged_and_ignored(live_server: LiveServer) -> None:
    key = _livekit_account(live_server.store, "APIignored")
    for event in (webhook.WebhookEvent(event="egress_updated", id="EV_1", created_at=T0),
                  webhook.WebhookEvent(event="ingress_started", id="EV_2", created_at=T0),
                  _hook(3, "participant_joined", T0, room=ROOM,
                        participant=models.ParticipantInfo(sid="PA_rec0rder000", identity="EG_x", joined_at=T0,
                                                           kind=models.ParticipantInfo.Kind.EGRESS))):
        assert deliver(live_server, key, event)["accepted"] is False
    live_server.flush()
    assert _stored(live_server, key) == 0


def _collector_session(server: LiveServer, creds: Creds, room_name: str, identity: str) -> tuple[str, str]:
    """Connect as the collector does (gateway protocol, room given by name): the room and participant
    SIDs it got."""
    token = mint_token(creds.account_sid, creds.key_sid, creds.key_secret, identity)
    with ws_connect(server.url.replace("http://", "ws://") + "/v1/VideoEvents") as ws:
        ws.send(json.dumps({"type": "connect", "token": token,
                            "publisher": {"roomName": room_name, "name": "video-insights-collector"}}))
        answer = json.loads(ws.recv(timeout=10))
    assert answer["type"] == "connected", answer
    session = json.loads(base64.urlsafe_b64decode(answer["session"].rsplit(".", 1)[0]))
    return str(session[2]), str(session[3])


def _collector_room(server: LiveServer, creds: Creds, room_name: str, identity: str) -> str:
    return _collector_session(server, creds, room_name, identity)[0]


def _live_room(sid: str, name: str) -> tuple[models.Room, int]:
    now = int(time.time())
    return models.Room(sid=sid, name=name, creation_time=now - 2), now


def test_the_collector_naming_the_room_meets_the_webhooks_after_them(live_server: LiveServer) -> None:
    key = _livekit_account(live_server.store, "APIcollect")
    room, now = _live_room("RM_c0ll3ct0rAft", "design-review")
    room_sid = deliver(live_server, key, _hook(1, "room_started", now - 2, room=room))["room_sid"]
    deliver(live_server, key, _hook(2, "participant_joined", now - 1, room=room,
                                    participant=_participant("PA_c0ll3ct0r01", "alice", now - 1, "")))
    live_server.flush()
    # The same person's telemetry describes the participant the webhook announced, not a second one.
    announced = livekit.participant_sid(key.creds.account_sid, "PA_c0ll3ct0r01")
    assert _collector_session(live_server, key.creds, room.name, "alice") == (room_sid, announced)
    assert _collector_session(live_server, key.creds, room.name, "bob")[1] != announced


def test_the_collector_naming_livekits_participant_is_that_participant_before_the_webhooks(
        live_server: LiveServer) -> None:
    """The collector connected before `participant_joined` (the usual order: it starts with the page)
    and told LiveKit's participant SID: one participant, with the collector's data and LiveKit's end."""
    key = _livekit_account(live_server.store, "APIcollect3")
    room, now = _live_room("RM_c0ll3ct0rF1r", "retro")
    token = mint_token(key.creds.account_sid, key.creds.key_sid, key.creds.key_secret, "alice")
    with ws_connect(live_server.url.replace("http://", "ws://") + "/v1/VideoEvents") as ws:
        ws.send(json.dumps({"type": "connect", "token": token, "publisher": {
            "roomName": room.name, "name": "video-insights-collector", "sdkVersion": "9.9",
            "livekitParticipantSid": "PA_c0ll3ct0r02"}}))
        answer = json.loads(ws.recv(timeout=10))
    announced = livekit.participant_sid(key.creds.account_sid, "PA_c0ll3ct0r02")
    assert answer["participantSid"] == announced
    joined = _participant("PA_c0ll3ct0r02", "alice", now - 1, "")
    for n, (name, extra) in enumerate([("room_started", {}), ("participant_joined", {"participant": joined}),
                                       ("participant_left", {"participant": joined})]):
        assert deliver(live_server, key, _hook(10 + n, name, now, room=room, **extra))["room_sid"] == \
            answer["roomSid"]
    live_server.flush()
    room_summary, participants = summaries(live_server, key.creds, answer["roomSid"])
    assert [p["participant_sid"] for p in participants] == [announced]
    assert participants[0]["sdk"]["name"] == "video-insights-collector"
    assert participants[0]["end_reason"] == "participant_disconnected"
    assert room_summary["unique_participants"] == 1


def test_the_collector_naming_the_room_meets_the_webhooks_before_them(live_server: LiveServer) -> None:
    key = _livekit_account(live_server.store, "APIcollect2")
    room, now = _live_room("RM_c0ll3ct0rB4r", "design-review")
    collector_room = _collector_room(live_server, key.creds, room.name, "alice")
    assert deliver(live_server, key, _hook(1, "room_started", now - 2, room=room))["room_sid"] == collector_room
    assert deliver(live_server, key, _hook(2, "room_finished", now, room=room))["room_sid"] == collector_room


def test_a_room_name_used_again_is_a_new_room(live_server: LiveServer) -> None:
    key = _livekit_account(live_server.store, "APIreuse")
    monday = call_sequence()
    first = [deliver(live_server, key, e)["room_sid"] for e in monday]
    tuesday_room, now = _live_room("RM_tu3sdayR00m", ROOM.name)
    second = deliver(live_server, key, _hook(100, "room_started", now - 2, room=tuesday_room))["room_sid"]
    late = deliver(live_server, key, monday[13])["room_sid"]  # Monday's participant_left, delivered again
    assert len(set(first)) == 1
    assert second != first[0]
    assert late == first[0]
    live_server.flush()
    room, _ = summaries(live_server, key.creds, second)
    assert (room["room_name"], room["room_status"], room["unique_participants"]) == ("standup", "in_progress", 0)


# -- rejected webhooks: one server for the whole table --------------------------------------------------

@pytest.fixture(scope="module")
def shared(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    path = tmp_path_factory.mktemp("livekit") / "vi.duckdb"
    settings = Settings.from_env({}, store=f"duckdb:///{path}", writer_flush_ms=20)
    store = DuckDBStore(path)
    store.migrate()
    app = create_app(settings, store=store)
    with serving(app) as url:
        yield LiveServer(url, settings, store, app)
    store.close()


@pytest.fixture(scope="module")
def rejecting(shared: LiveServer) -> LiveKitKey:
    return _livekit_account(shared.store, "APIrejecting")


def _stored(server: LiveServer, key: LiveKitKey) -> int:
    return int(server.store.fetch(f"SELECT count(*) FROM events WHERE account_sid = "
                                  f"'{key.creds.account_sid}'")[1][0][0])


def _unsigned(body: bytes, api_key: str) -> str:
    digest = base64.b64encode(hashlib.sha256(body).digest()).decode()
    return jwt.encode({"iss": api_key, "sha256": digest, "exp": int(time.time()) + 300}, None, algorithm="none")


UNKNOWN_SIGNER = livekit.UNKNOWN_SIGNER

FORGERIES: dict[str, Any] = {
    "no Authorization": (lambda body, key: None, "Authorization header missing"),
    "not a JWT": (lambda body, key: "hello", "not a JWT"),
    "unsigned": (lambda body, key: _unsigned(body, key.api_key), "unsigned"),
    # One answer for a forged signature and an unknown key: nothing says which keys exist.
    "forged": (lambda body, key: sign(body, key.api_key, "a-secret-that-is-not-the-registered-one"), UNKNOWN_SIGNER),
    "unknown key": (lambda body, key: sign(body, "APIunknown", key.api_secret), UNKNOWN_SIGNER),
    "expired": (lambda body, key: sign(body, key.api_key, key.api_secret, ttl=timedelta(minutes=-10)), "expired"),
    "other body": (lambda body, key: sign(body.replace(b"standup", b"stand-up"), key.api_key, key.api_secret),
                   "does not match"),
    "no sha256": (lambda body, key: AccessToken(key.api_key, key.api_secret).to_jwt(), "no sha256 claim"),
    "bad sha256": (lambda body, key: AccessToken(key.api_key, key.api_secret).with_sha256("nope").to_jwt(),
                   "not a base64 SHA-256"),
}


@pytest.mark.parametrize("case", FORGERIES)
def test_unverified_webhooks_are_403_and_store_nothing(shared: LiveServer, rejecting: LiveKitKey,
                                                       case: str) -> None:
    make_token, message = FORGERIES[case]
    body = body_of(call_sequence()[1])
    r = post(shared, body, make_token(body, rejecting))
    assert r.status_code == 403, r.text
    assert message in r.json()["message"]
    assert set(r.json()) == {"code", "message", "more_info", "status"}
    shared.flush()
    assert _stored(shared, rejecting) == 0


MALFORMED: dict[str, tuple[bytes, str]] = {
    "not JSON": (b'{"event": "room_started", ', "malformed JSON"),
    "not an object": (b"[1, 2]", "body: expected"),
    "no event": (b"{}", "body.event: required"),
    "event not a string": (b'{"event": 5}', "body.event"),
    "room sid not a string": (b'{"event": "room_started", "createdAt": "1700000000", "room": {"sid": 5}}',
                              "body.room.sid"),
    "int64 not a number": (b'{"event": "room_finished", "createdAt": "soon", "room": {"sid": "RM_x"}}',
                           "body.createdAt"),
    "no room": (b'{"event": "room_finished", "createdAt": "1700000000"}', "body.room.sid: required"),
    "no participant": (b'{"event": "participant_left", "createdAt": "1700000000", "room": {"sid": "RM_x"}}',
                       "body.participant.sid: required"),
    "no track": (b'{"event": "track_published", "createdAt": "1700000000", "room": {"sid": "RM_x"}, '
                 b'"participant": {"sid": "PA_x"}}', "body.track.sid: required"),
    "unknown track type": (b'{"event": "track_published", "createdAt": "1700000000", "room": {"sid": "RM_x"}, '
                           b'"participant": {"sid": "PA_x"}, "track": {"sid": "TR_x", "type": "HOLOGRAM"}}',
                           "body.track.type"),
    "no time": (b'{"event": "room_finished", "room": {"sid": "RM_x"}}', "body.createdAt: required"),
    "time in milliseconds": (b'{"event": "room_finished", "createdAt": "1700000000000", "room": {"sid": "RM_x"}}',
                             "not a plausible event time"),
    "no egress": (b'{"event": "egress_ended", "createdAt": "1700000000"}', "body.egressInfo.egressId: required"),
    "negative size": (b'{"event": "egress_ended", "createdAt": "1700000000", "egressInfo": {"egressId": "EG_x", '
                      b'"roomId": "RM_x", "fileResults": [{"size": "-5"}]}}', "body.egressInfo.fileResults[0].size"),
}


@pytest.mark.parametrize("case", MALFORMED)
def test_malformed_webhooks_are_400_and_store_nothing(shared: LiveServer, rejecting: LiveKitKey,
                                                      case: str) -> None:
    body, message = MALFORMED[case]
    r = post(shared, body, sign(body, rejecting.api_key, rejecting.api_secret))
    assert r.status_code == 400, r.text
    assert message in r.json()["message"], r.json()["message"]
    shared.flush()
    assert _stored(shared, rejecting) == 0


def test_wrong_content_type_is_415(shared: LiveServer, rejecting: LiveKitKey) -> None:
    body = body_of(call_sequence()[0])
    r = post(shared, body, sign(body, rejecting.api_key, rejecting.api_secret), content_type="text/plain")
    assert r.status_code == 415, r.text
    assert "application/webhook+json" in r.json()["message"]
