"""Room and participant summaries as the API shows them: lists with filters, and single fetches."""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import orjson

from video_insights.errors import BadRequest, NotFound
from video_insights.query import participants as participant_queries
from video_insights.query import rooms as room_queries
from video_insights.query import tracks as track_queries
from video_insights.query.filters import RoomQuery, iso
from video_insights.query.sql import rows_as_dicts, untag
from video_insights.store.base import Store
from video_insights.store.schema import PARTICIPANTS, ROOMS

if TYPE_CHECKING:  # conditions pass through here; they are built in query/
    from sqlglot import exp

@dataclass(frozen=True)
class Scope:
    """The accounts a request may read, and the one its lists show."""

    account_sid: str
    reachable: frozenset[str]

    def check(self, account_sid: str) -> None:
        if account_sid not in self.reachable:
            raise NotFound("not found")


def ts(ms: Any) -> str | None:
    return None if ms is None else iso(int(ms))


def _issues(raw: str | None) -> dict[str, Any]:
    return {"details": orjson.loads(raw) if raw else []}


def room_json(row: dict[str, Any], base_url: str) -> dict[str, Any]:
    url = f"{base_url}/v1/Video/Rooms/{row['room_sid']}"
    return {
        "account_sid": row["account_sid"], "room_sid": row["room_sid"], "room_name": row["room_name"],
        "create_time": ts(row["create_ms"]), "end_time": ts(row["end_ms"]), "room_type": row["room_type"],
        "room_status": row["room_status"], "status_callback": row["status_callback"],
        "status_callback_method": row["status_callback_method"], "created_method": row["created_method"],
        "end_reason": row["end_reason"], "max_participants": row["max_participants"],
        "unique_participants": row["unique_participants"],
        "unique_participant_identities": row["unique_participant_identities"],
        "concurrent_participants": row["concurrent_participants"],
        "max_concurrent_participants": row["max_concurrent_participants"], "codecs": untag(row["codecs"]),
        "media_region": row["media_region"], "duration_sec": row["duration_sec"],
        "total_participant_duration_sec": row["total_participant_duration_sec"],
        "total_recording_duration_sec": row["total_recording_duration_sec"],
        "processing_state": row["processing_state"], "recording_enabled": bool(row["recording_enabled"]),
        "edge_location": row["edge_location"], "issue_count": row["issue_count"],
        "participants_with_issues": row["participants_with_issues"], "issue_types": untag(row["issue_types"]),
        "detected_issues": _issues(row["detected_issues"]), "url": url,
        "links": {"participants": f"{url}/Participants"},
    }


def participant_json(row: dict[str, Any], base_url: str) -> dict[str, Any]:
    return {
        "participant_sid": row["participant_sid"], "participant_identity": row["participant_identity"],
        "join_time": ts(row["join_ms"]), "leave_time": ts(row["leave_ms"]), "duration_sec": row["duration_sec"],
        "account_sid": row["account_sid"], "room_sid": row["room_sid"], "status": row["status"],
        "codecs": untag(row["codecs"]), "end_reason": row["end_reason"], "error_code": row["error_code"],
        "error_code_url": (f"https://www.twilio.com/docs/api/errors/{row['error_code']}"
                           if row["error_code"] else None),
        "media_region": row["media_region"],
        "properties": orjson.loads(row["properties"]) if row["properties"] else None,
        "edge_location": row["edge_location"],
        "publisher_info": orjson.loads(row["publisher_info"]) if row["publisher_info"] else None,
        "url": f"{base_url}/v1/Video/Rooms/{row['room_sid']}/Participants/{row['participant_sid']}",
        "os": {"name": row["os_name"], "version": row["os_version"]},
        "browser": {"name": row["browser_name"], "version": row["browser_version"]},
        "device": {"manufacturer": row["device_manufacturer"], "model": row["device_model"]},
        "sdk": {"name": row["sdk_name"], "version": row["sdk_version"]},
        "signaling_region": row["signaling_region"], "user_agent": row["user_agent"],
        "tracks_published": {"audio": row["tracks_audio"], "video": row["tracks_video"],
                             "data": row["tracks_data"]},
        "recording_duration_sec": row["recording_duration_sec"], "issue_types": untag(row["issue_types"]),
        "detected_issues": _issues(row["detected_issues"]),
    }


def list_rooms(store: Store, account_sid: str, rq: RoomQuery, *, extra: list[exp.Expr] | None = None,
               default_completed_24h: bool = False, now: int | None = None) -> list[dict[str, Any]]:
    now = int(time.time() * 1000) if now is None else now
    cols, rows = store.fetch(room_queries.room_list(ROOMS.column_names, account_sid, rq, extra=extra or (),
                                                    default_completed_24h=default_completed_24h, now=now))
    return rows_as_dicts(cols, rows)


@dataclass(frozen=True)
class RoomsTotal:
    """How many rooms a view holds: `count` exactly, or at least `count` when `exact` is false."""

    count: int
    exact: bool


# ClickHouse reads summaries with FINAL (store/clickhouse/store.py), which merges every matching row's
# versions to count them; past this many the rooms list says "more than" instead of counting on.
COUNT_CAP = 10_000


def count_rooms(store: Store, account_sid: str, rq: RoomQuery, *, now: int | None = None) -> RoomsTotal:
    """The number of rooms `list_rooms` pages through for `rq`. DuckDB and PostgreSQL count them all
    (an index-free scan of one account's rooms takes milliseconds); ClickHouse counts up to COUNT_CAP."""
    now = int(time.time() * 1000) if now is None else now
    capped = store.dialect == "clickhouse"
    _, rows = store.fetch(room_queries.room_count(account_sid, rq, now=now, cap=COUNT_CAP if capped else None))
    n = int(rows[0][0])
    return RoomsTotal(COUNT_CAP, False) if capped and n > COUNT_CAP else RoomsTotal(n, True)


def find_room(store: Store, scope: Scope, room_sid: str) -> dict[str, Any] | None:
    """The room's stored summary, if one of the scope's accounts has it."""
    cols, rows = store.fetch(room_queries.room_in(scope.reachable, room_sid))
    return rows_as_dicts(cols, rows)[0] if rows else None


def list_participants(store: Store, account_sid: str, room_sid: str, page: int, size: int
                      ) -> list[dict[str, Any]]:
    c, rows = store.fetch(participant_queries.of_room(PARTICIPANTS.column_names, account_sid, room_sid,
                                                      limit=size + 1, offset=page * size))
    return rows_as_dicts(c, rows)


def get_participant(store: Store, scope: Scope, room_sid: str, participant_sid: str) -> dict[str, Any]:
    cols, rows = store.fetch(participant_queries.participant_in(scope.reachable, room_sid, participant_sid))
    if not rows:
        raise NotFound(f"participant {participant_sid} not found in room {room_sid}")
    return rows_as_dicts(cols, rows)[0]


def participant_tracks(store: Store, account_sid: str, room_sid: str, participant_sid: str) -> list[dict[str, Any]]:
    cols, rows = store.fetch(track_queries.of_participant(account_sid, room_sid, participant_sid))
    return rows_as_dicts(cols, rows)


def check_page_size(raw: str | None, default: int = 50) -> int:
    if raw is None:
        return default
    if not (raw.isascii() and raw.isdigit()) or not 1 <= int(raw) <= 1000:
        raise BadRequest(f"PageSize: must be a whole number from 1 to 1000, got {raw!r}")
    return int(raw)
