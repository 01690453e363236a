"""Demo plans → the events real sources send: Twilio status callbacks and gateway telemetry events.

Callbacks are built as the form parameters Twilio posts and read by the real adapter
(`twilio_callbacks.to_event`), so their payloads are exactly what production stores. Gateway events
have the shapes `Gateway.connect` and `Gateway.records` give them.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import numpy as np

from video_insights.demo.scenarios import SECOND, Participant, Room, Track
from video_insights.ingest.twilio_callbacks import to_event
from video_insights.model.ids import derived_sid
from video_insights.model.records import Event, Source
from video_insights.processing import lifecycle as lc

TWILIO_ROOM_TYPES = {"group": "group", "group_small": "group-small", "peer_to_peer": "peer-to-peer", "go": "go"}
STATUS_CALLBACK = "https://app.example.com/twilio/room-events"
Callback = tuple[int, str, dict[str, str]]  # (timestamp, StatusCallbackEvent, event-specific parameters)


def room_events(account: str, room: Room, now_ms: int, rng: np.random.Generator) -> list[Event]:
    """Every event of the room that happened before `now_ms`."""
    events: list[Event] = []
    for p in room.participants:
        events += _gateway_events(account, room, p, rng)
    if room.twilio:
        events += _callbacks(account, room, now_ms, rng)
    return [e for e in events if e.ts_ms < now_ms]


# -- Twilio status callbacks ---------------------------------------------------------------------------

def _iso(ms: int) -> str:
    return datetime.fromtimestamp(ms / 1000, UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _callbacks(account: str, room: Room, now_ms: int, rng: np.random.Generator) -> list[Event]:
    calls: list[Callback] = [(room.create_ms, lc.ROOM_CREATED, {
        "StatusCallback": STATUS_CALLBACK, "StatusCallbackMethod": "POST"})]
    for p in room.participants:
        calls += _participant_callbacks(p)
        if room.recorded:
            calls += [c for t in p.tracks for c in _recording_callbacks(t, rng)]
    calls.append((room.end_ms, lc.ROOM_ENDED, {"RoomDuration": str(round((room.end_ms - room.create_ms) / 1000))}))
    calls = sorted((c for c in calls if c[0] < now_ms), key=lambda c: c[0])
    # MediaRegion on every callback: the summaries take a room's media region from its participants.
    common = {"AccountSid": account, "RoomSid": room.sid, "RoomName": room.name, "MediaRegion": room.media_region,
              "RoomType": TWILIO_ROOM_TYPES[room.type]}
    return [to_event({**common, "StatusCallbackEvent": name, "Timestamp": _iso(ts), "SequenceNumber": str(seq),
                      "RoomStatus": "completed" if name == lc.ROOM_ENDED else "in-progress", **extra})
            for seq, (ts, name, extra) in enumerate(calls)]


def _participant_callbacks(p: Participant) -> list[Callback]:
    who = {"ParticipantSid": p.sid, "ParticipantIdentity": p.identity}
    calls: list[Callback] = [(p.join_ms, lc.PARTICIPANT_CONNECTED, {**who, "ParticipantStatus": "connected"})]
    for t in p.tracks:
        track = {**who, "TrackSid": t.sid, "TrackKind": t.kind, "TrackName": t.name}
        calls.append((t.start_ms, lc.TRACK_ADDED, track))
        if t.end_ms < p.leave_ms:
            calls.append((t.end_ms, lc.TRACK_REMOVED, track))
    duration = str(round((p.leave_ms - p.join_ms) / 1000))
    calls.append((p.leave_ms, lc.PARTICIPANT_DISCONNECTED,
                  {**who, "ParticipantStatus": "disconnected", "ParticipantDuration": duration}))
    return calls


def _recording_callbacks(t: Track, rng: np.random.Generator) -> list[Callback]:
    sid = derived_sid("RT", t.sid)
    video = t.kind == "video"
    rec = {"RecordingSid": sid, "SourceSid": t.sid, "TrackName": t.name, "Type": t.kind,
           "Container": "mkv" if video else "mka", "Codec": t.codec.lower() if video else "opus"}
    seconds = round((t.end_ms - t.start_ms) / 1000)
    size = int(seconds * t.kbps * 125 * 0.9)
    done = t.end_ms + int(rng.uniform(2, 30) * SECOND)  # the composition is finalised after the track ends
    return [(t.start_ms + 300, lc.RECORDING_STARTED, rec),
            (done, lc.RECORDING_COMPLETED, {**rec, "Duration": str(seconds), "Size": str(size)})]


# -- gateway telemetry --------------------------------------------------------------------------------

def _publisher(room: Room, p: Participant) -> dict[str, Any]:
    pub = {**p.client.publisher, "region": p.region}
    if room.twilio:  # the SDKs know their SIDs once connected
        return {**pub, "participantSid": p.sid, "roomSid": room.sid}
    return {**pub, "roomName": room.name, "roomType": room.type, "identity": p.identity}


def _gateway_events(account: str, room: Room, p: Participant, rng: np.random.Generator) -> list[Event]:
    pub = _publisher(room, p)
    connect = {"publisher": pub, "identity": p.identity, "room_name": room.name, "room_type": pub.get("roomType"),
               "signaling_region": p.region}
    checking = p.join_ms + 500
    out: list[tuple[int, str, dict[str, Any]]] = [
        (p.join_ms + 200, lc.SESSION_CONNECT, connect),
        (checking, "ice-connection-state/checking", {}),
        (checking + p.faults.setup_ms, "ice-connection-state/connected", {})]
    if p.faults.gum_denied:
        out.append((p.join_ms + 400, "get-user-media/denied",
                    {"name": "NotAllowedError", "message": "Permission denied", "kind": "video"}))
    span = max(p.leave_ms - p.media_ms, 1)
    for at in np.sort(rng.uniform(0.05, 0.95, size=p.faults.reconnects)):
        t = p.media_ms + int(at * span)
        out += [(t, "room/reconnecting", {}), (t + int(rng.uniform(2, 8) * SECOND), "room/reconnected", {})]
    if p.faults.ice_failed:
        out.append((p.leave_ms - 500, "ice-connection-state/failed", {}))
    if p.faults.goodbye:
        out.append((p.leave_ms, lc.CLIENT_DISCONNECTED, {"identity": p.identity}))
    return [Event(account, room.sid, p.sid, ts, Source.GATEWAY, name, payload) for ts, name, payload in out]
