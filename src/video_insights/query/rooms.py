"""Queries over rooms (store.schema.ROOMS)."""

from __future__ import annotations

from sqlglot import exp

from video_insights.model.ids import sid_key
from video_insights.model.vocabulary import RoomStatus
from video_insights.query.sql import q


def room_name(account_sid: str, room_sid: str) -> exp.Expr:
    """(room_name,) of one room."""
    return q("SELECT room_name FROM rooms WHERE room_key = :k AND room_sid = :r AND account_sid = :a",
             k=sid_key(room_sid), r=room_sid, a=account_sid)


def latest_named(account_sid: str, name: str) -> exp.Expr:
    """(room_sid, room_status) of the room of this name in progress, else of the newest one."""
    return q("SELECT room_sid, room_status FROM rooms WHERE account_sid = :a AND room_name = :n "
             "ORDER BY CASE WHEN room_status = :live THEN 0 ELSE 1 END, create_ms DESC, room_sid LIMIT 1",
             a=account_sid, n=name, live=RoomStatus.IN_PROGRESS.value)


def idle_in_progress(before_ms: int) -> exp.Expr:
    """(account_sid, room_sid) of every room in progress with no activity since `before_ms` (or none)."""
    return q("SELECT account_sid, room_sid FROM rooms WHERE room_status = :live "
             "AND (last_activity_ms IS NULL OR last_activity_ms < :before)",
             live=RoomStatus.IN_PROGRESS.value, before=before_ms)
