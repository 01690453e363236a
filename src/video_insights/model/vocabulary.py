"""The product's closed sets of values, one StrEnum each, used everywhere a value is written or compared.

A member is its value (`RoomStatus.COMPLETED == "completed"`), so the store, the API and the CSV keep the
plain strings; labels for people are the console's (docs/lifecycle.md has what each value means).
"""

from __future__ import annotations

from enum import StrEnum


class RoomType(StrEnum):
    GROUP = "group"
    GROUP_SMALL = "group_small"
    PEER_TO_PEER = "peer_to_peer"
    GO = "go"


class RoomStatus(StrEnum):
    IN_PROGRESS = "in_progress"
    COMPLETED = "completed"


class ParticipantStatus(StrEnum):
    IN_PROGRESS = "in_progress"
    COMPLETED = "completed"


class ProcessingState(StrEnum):
    """Whether a room's summary is final (Twilio's `processing_state`)."""

    COMPLETE = "complete"
    IN_PROGRESS = "in_progress"
    TIMEOUT = "timeout"
    NOT_STARTED = "not_started"


class ParticipantEndReason(StrEnum):
    PARTICIPANT_DISCONNECTED = "participant_disconnected"
    ROOM_ENDED = "room_ended"
    MEDIA_CONNECTION_ERROR = "media_connection_error"
    SIGNALING_CONNECTION_ERROR = "signaling_connection_error"
    DUPLICATE_IDENTITY = "duplicate_identity"  # only a server can tell (LiveKit)
    DISCONNECTED_VIA_API = "disconnected_via_api"


class RoomEndReason(StrEnum):
    ROOM_ENDED_VIA_API = "room_ended_via_api"
    TIMEOUT = "timeout"
