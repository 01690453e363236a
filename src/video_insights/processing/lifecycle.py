"""Event vocabulary shared by the ingest adapters and the summaries.

Lifecycle events use Twilio's status-callback names whatever their source; payload keys are
normalised (snake_case) by each adapter to the ones listed here.
"""

from __future__ import annotations

from video_insights.model.vocabulary import ParticipantEndReason, RoomEndReason

ROOM_CREATED = "room-created"
ROOM_ENDED = "room-ended"
PARTICIPANT_CONNECTED = "participant-connected"
PARTICIPANT_DISCONNECTED = "participant-disconnected"
TRACK_ADDED = "track-added"
TRACK_REMOVED = "track-removed"
RECORDING_STARTED = "recording-started"
RECORDING_COMPLETED = "recording-completed"
RECORDING_FAILED = "recording-failed"
RECORDING_EVENTS = (RECORDING_STARTED, RECORDING_COMPLETED, RECORDING_FAILED)

# Client telemetry (the gateway protocol's group/name).
SESSION_CONNECT = "session/connect"  # the gateway's connect message: publisher info, identity
CLIENT_CLOCK = "session/clock"  # the offset the gateway applies to a session's timestamps from then on
CLIENT_DISCONNECTED = "room/disconnected"
IMPORTED_DUMP = "import/dump"  # a dump was imported: user agent and file name

# End reasons (docs/lifecycle.md, "Participant end reason").
END_DISCONNECTED = ParticipantEndReason.PARTICIPANT_DISCONNECTED
END_ROOM_ENDED = ParticipantEndReason.ROOM_ENDED
END_MEDIA_ERROR = ParticipantEndReason.MEDIA_CONNECTION_ERROR
END_SIGNALING_ERROR = ParticipantEndReason.SIGNALING_CONNECTION_ERROR
MEDIA_FAILURE_EVENTS = {"ice-connection-state/failed", "pc-connection-state/failed", "dtls-transport-state/failed"}

ROOM_ENDED_VIA_API = RoomEndReason.ROOM_ENDED_VIA_API
ROOM_TIMEOUT = RoomEndReason.TIMEOUT

KNOWN_CODECS = {"vp8": "VP8", "vp9": "VP9", "h264": "H264", "av1": "AV1", "opus": "opus"}


def normalise_codec(codec: str | None) -> str | None:
    if not codec:
        return None
    name = codec.split("/")[-1].split(" ")[0].strip().lower()
    return KNOWN_CODECS.get(name, codec)
