"""The allow-list of room fields a user can filter, sort or show: API name, column, type and label.

`docs/api.md` lists them from here (a test checks it is current).
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from video_insights.model.issues import IssueType
from video_insights.model.vocabulary import ProcessingState, RoomEndReason, RoomStatus, RoomType


class FieldType(StrEnum):
    STRING = "string"
    ENUM = "enum"
    INT = "int"
    SECONDS = "seconds"
    TIME = "time"
    BOOL = "bool"
    TAGS = "set"


OPERATORS: dict[FieldType, tuple[str, ...]] = {
    FieldType.STRING: ("eq", "ne", "contains", "in"),
    FieldType.ENUM: ("eq", "ne", "in"),
    FieldType.INT: ("eq", "ne", "gt", "gte", "lt", "lte", "in"),
    FieldType.SECONDS: ("eq", "ne", "gt", "gte", "lt", "lte", "in"),
    FieldType.TIME: ("gt", "gte", "lt", "lte"),
    FieldType.BOOL: ("eq", "ne"),
    FieldType.TAGS: ("eq", "ne", "contains", "in"),
}
ALL_OPERATORS = ("eq", "ne", "gt", "gte", "lt", "lte", "contains", "in")


@dataclass(frozen=True)
class Field:
    name: str
    column: str
    type: FieldType
    label: str
    choices: tuple[str, ...] = ()
    default_column: bool = False  # shown in the rooms list unless the URL chooses columns

    @property
    def operators(self) -> tuple[str, ...]:
        return OPERATORS[self.type]


ROOM_TYPES = tuple(RoomType)
END_REASONS = tuple(RoomEndReason)
ROOM_FIELDS: tuple[Field, ...] = (
    Field("room_sid", "room_sid", FieldType.STRING, "Room SID", default_column=True),
    Field("room_name", "room_name", FieldType.STRING, "Room Name", default_column=True),
    Field("create_time", "create_ms", FieldType.TIME, "Created", default_column=True),
    Field("end_time", "end_ms", FieldType.TIME, "Ended"),
    Field("room_type", "room_type", FieldType.ENUM, "Room type", ROOM_TYPES, default_column=True),
    Field("room_status", "room_status", FieldType.ENUM, "Status", tuple(RoomStatus)),
    Field("media_region", "media_region", FieldType.STRING, "Media region"),
    Field("end_reason", "end_reason", FieldType.ENUM, "Room end reason", END_REASONS),
    Field("duration_sec", "duration_sec", FieldType.SECONDS, "Room duration", default_column=True),
    Field("unique_participants", "unique_participants", FieldType.INT, "# Participants", default_column=True),
    Field("unique_participant_identities", "unique_participant_identities", FieldType.INT, "Unique identities"),
    Field("concurrent_participants", "concurrent_participants", FieldType.INT, "Max concurrent participants"),
    Field("total_participant_duration_sec", "total_participant_duration_sec", FieldType.SECONDS,
          "Total participant duration"),
    Field("total_recording_duration_sec", "total_recording_duration_sec", FieldType.SECONDS,
          "Total recording duration"),
    Field("issue_count", "issue_count", FieldType.INT, "# of issues", default_column=True),
    Field("participants_with_issues", "participants_with_issues", FieldType.INT,
          "# of participants with issues"),
    Field("issue_type", "issue_types", FieldType.TAGS, "Issue type", tuple(t.value for t in IssueType)),
    Field("codecs", "codecs", FieldType.TAGS, "Codecs", ("VP8", "VP9", "H264", "AV1", "opus")),
    Field("created_method", "created_method", FieldType.ENUM, "Created method", ("sdk", "ad_hoc", "api")),
    Field("recording_enabled", "recording_enabled", FieldType.BOOL, "Recording enabled"),
    Field("edge_location", "edge_location", FieldType.STRING, "Edge location"),
    Field("processing_state", "processing_state", FieldType.ENUM, "Processing state",
          tuple(ProcessingState)),
    Field("max_participants", "max_participants", FieldType.INT, "Max participants (configured)"),
)
ROOM_FIELDS_BY_NAME = {f.name: f for f in ROOM_FIELDS}
DEFAULT_COLUMNS = tuple(f.name for f in ROOM_FIELDS if f.default_column)


def fields_doc() -> str:
    lines = ["| field | label | type | operators | values |", "|---|---|---|---|---|"]
    for f in ROOM_FIELDS:
        values = ", ".join(f"`{c}`" for c in f.choices)
        lines.append(f"| `{f.name}` | {f.label} | {f.type} | {' '.join(f.operators)} | {values} |")
    return "\n".join(lines) + "\n"
