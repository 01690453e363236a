"""Twilio Room Status Callbacks → lifecycle events.

Callbacks are authoritative for the room and participant lifecycle. They may arrive late, twice or out
of order; each becomes an event keyed by its content, and summaries read events as a set ordered by
`Timestamp` (SequenceNumber is not an order).
"""

from __future__ import annotations

import math
import time
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from video_insights.errors import BadRequest
from video_insights.model.ids import is_sid, normalise_sid
from video_insights.model.records import Event, Source
from video_insights.model.vocabulary import RoomType

EVENTS = ("room-created", "room-ended", "participant-connected", "participant-disconnected", "track-added",
          "track-removed", "track-enabled", "track-disabled", "recording-started", "recording-completed",
          "recording-failed")
# Twilio's callbacks spell the types with hyphens; ours have underscores. Both are taken.
ROOM_TYPES = {**{t.value: t for t in RoomType}, **{t.value.replace("_", "-"): t for t in RoomType}}
KNOWN_PARAMS = {
    "AccountSid", "RoomName", "RoomSid", "RoomStatus", "RoomType", "StatusCallbackEvent", "Timestamp",
    "SequenceNumber", "ParticipantSid", "ParticipantStatus", "ParticipantIdentity", "ParticipantDuration",
    "RoomDuration", "TrackSid", "TrackKind", "TrackName", "RecordingSid", "SourceSid", "RecordingUri",
    "MediaUri", "Duration", "Size", "Container", "Codec", "Type", "MediaRegion", "MaxParticipants",
    "StatusCallback", "StatusCallbackMethod", "EdgeLocation"}
EARLIEST_MS = 1_262_304_000_000  # 2010-01-01T00:00:00Z
MAX_SKEW_MS = 86_400_000
MAX_INT = 2**53  # durations, sizes and counters: far above any real value, exact as a float and in int64
_INTS = {"ParticipantDuration": "duration", "RoomDuration": "duration", "Duration": "duration",
         "Size": "size", "MaxParticipants": "max_participants", "SequenceNumber": "sequence_number"}
_STRS = {"RoomName": "room_name", "RoomStatus": "room_status", "ParticipantIdentity": "identity",
         "ParticipantStatus": "participant_status", "TrackKind": "track_kind", "TrackName": "track_name",
         "RecordingUri": "recording_uri", "MediaUri": "media_uri", "Container": "container", "Codec": "codec",
         "Type": "kind", "MediaRegion": "media_region", "StatusCallback": "status_callback",
         "StatusCallbackMethod": "status_callback_method", "EdgeLocation": "edge_location"}
_SIDS = {"ParticipantSid": ("PA", "participant_sid"), "TrackSid": ("MT", "track_sid"),
         "RecordingSid": ("RT", "recording_sid"), "SourceSid": ("MT", "source_sid")}


def parse_timestamp(raw: str, now_ms: int | None = None) -> int:
    try:
        dt = datetime.fromisoformat(raw.strip().replace("Z", "+00:00"))
    except ValueError:
        raise BadRequest(f"Timestamp: {raw!r} is not an ISO 8601 time") from None
    if dt.tzinfo is None:
        raise BadRequest(f"Timestamp: {raw!r} has no time zone")
    ms = int(dt.timestamp() * 1000)
    now_ms = int(time.time() * 1000) if now_ms is None else now_ms
    # Late deliveries are normal; a time before Twilio Video existed or beyond clock skew is not an event.
    if not EARLIEST_MS <= ms <= now_ms + MAX_SKEW_MS:
        raise BadRequest(f"Timestamp: {raw!r} is not a plausible event time (after 2010, at most a day ahead)")
    return ms


def _int(name: str, raw: str) -> int:
    try:
        value = float(raw)
    except ValueError:
        raise BadRequest(f"{name}: expected a number, got {raw!r}") from None
    if not (math.isfinite(value) and 0 <= value <= MAX_INT):
        raise BadRequest(f"{name}: expected a number from 0 to {MAX_INT}, got {raw!r}")
    return int(value)


def to_event(params: Mapping[str, str]) -> Event:
    """One callback's parameters (already signature-checked) → a lifecycle event."""
    for required in ("AccountSid", "RoomSid", "StatusCallbackEvent", "Timestamp"):
        if not params.get(required):
            raise BadRequest(f"{required}: required")
    name = params["StatusCallbackEvent"]
    if name not in EVENTS:
        raise BadRequest(f"StatusCallbackEvent: unknown event {name!r} (expected one of {', '.join(EVENTS)})")
    room_sid = params["RoomSid"]
    if not is_sid(room_sid, "RM"):
        raise BadRequest(f"RoomSid: expected RM followed by 32 hex digits, got {room_sid!r}")
    payload: dict[str, Any] = {}
    for param, key in _STRS.items():
        if params.get(param):
            payload[key] = params[param][:1024]
    for param, key in _INTS.items():
        if params.get(param):
            payload[key] = _int(param, params[param])
    for param, (prefix, key) in _SIDS.items():
        raw = params.get(param)
        if not raw:
            continue
        if is_sid(raw, prefix):
            payload[key] = normalise_sid(raw)
        elif param == "SourceSid":
            payload[key] = raw[:64]  # a recording's source is usually a track, but Twilio does not promise it
        else:
            raise BadRequest(f"{param}: expected {prefix} followed by 32 hex digits, got {raw!r}")
    if params.get("RoomType"):
        room_type = ROOM_TYPES.get(params["RoomType"])
        if room_type is None:
            raise BadRequest(f"RoomType: unknown room type {params['RoomType']!r}")
        payload["room_type"] = room_type
    participant = payload.get("participant_sid")
    if name.startswith(("participant-", "track-")) and not participant:
        raise BadRequest(f"ParticipantSid: required for {name}")
    return Event(normalise_sid(params["AccountSid"]), normalise_sid(room_sid), participant,
                 parse_timestamp(params["Timestamp"]), Source.TWILIO, name, payload)
