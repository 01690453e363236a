"""What people read for the product's stored values: one label per value, the same on every page.

The store, the API and the CSV keep the raw values (`peer_to_peer`, `packet_loss`); only the console's
pages show these labels, and a value this version does not know is shown as it is.
"""

from __future__ import annotations

from collections.abc import Mapping

from video_insights.model.issues import CATALOG
from video_insights.model.vocabulary import (
    ParticipantEndReason,
    ParticipantStatus,
    ProcessingState,
    RoomEndReason,
    RoomStatus,
    RoomType,
)

ROOM_TYPES: Mapping[str, str] = {RoomType.GROUP: "Group", RoomType.GROUP_SMALL: "Small group",
                                 RoomType.PEER_TO_PEER: "Peer-to-peer", RoomType.GO: "Go"}
STATUSES: Mapping[str, str] = {RoomStatus.IN_PROGRESS: "In progress", RoomStatus.COMPLETED: "Completed",
                               ParticipantStatus.IN_PROGRESS: "In progress",
                               ParticipantStatus.COMPLETED: "Completed"}
PROCESSING_STATES: Mapping[str, str] = {
    ProcessingState.COMPLETE: "Complete", ProcessingState.IN_PROGRESS: "In progress",
    ProcessingState.TIMEOUT: "Timed out", ProcessingState.NOT_STARTED: "Not started"}
END_REASONS: Mapping[str, str] = {
    ParticipantEndReason.PARTICIPANT_DISCONNECTED: "Participant disconnected",
    ParticipantEndReason.ROOM_ENDED: "Room ended",
    ParticipantEndReason.MEDIA_CONNECTION_ERROR: "Media connection error",
    ParticipantEndReason.SIGNALING_CONNECTION_ERROR: "Signaling connection error",
    ParticipantEndReason.DUPLICATE_IDENTITY: "Duplicate identity",
    ParticipantEndReason.DISCONNECTED_VIA_API: "Disconnected via API",
    RoomEndReason.ROOM_ENDED_VIA_API: "Ended via API",
    RoomEndReason.TIMEOUT: "Timed out (empty room)",
}
CREATED_METHODS: Mapping[str, str] = {"sdk": "SDK", "ad_hoc": "Ad hoc", "api": "API"}
ISSUE_TITLES: Mapping[str, str] = {t.value: info.title for t, info in CATALOG.items()}

# Field (the rooms list's names, query/fields.py, and the participant's) → its values' labels.
BY_FIELD: Mapping[str, Mapping[str, str]] = {
    "room_type": ROOM_TYPES, "room_status": STATUSES, "status": STATUSES, "processing_state": PROCESSING_STATES,
    "end_reason": END_REASONS, "created_method": CREATED_METHODS, "issue_type": ISSUE_TITLES,
}
# How a track without a name is called wherever it is shown (tables, graphs, tooltips).
UNNAMED_TRACK = "Unnamed {kind} track"


def issue_title(issue_type: str) -> str:
    return ISSUE_TITLES.get(issue_type, issue_type)


def value_label(field: str, value: object) -> str:
    """`value` of `field` as people read it; a value without a label (free text, a newer enum) as it is."""
    text = "" if value is None else str(value)
    return BY_FIELD.get(field, {}).get(text, text)


def track_name(name: str | None, kind: str | None) -> str:
    return name or UNNAMED_TRACK.format(kind=kind or "media").capitalize()
