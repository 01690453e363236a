"""Queries over participants (store.schema.PARTICIPANTS)."""

from __future__ import annotations

from sqlglot import exp

from video_insights.model.ids import sid_key
from video_insights.model.vocabulary import ParticipantStatus
from video_insights.query.sql import q


def in_progress_by_identity(account_sid: str, room_sid: str, identity: str) -> exp.Expr:
    """(participant_sid,) of the latest participant in progress in a room with this identity."""
    return q("SELECT participant_sid FROM participants WHERE room_key = :k AND room_sid = :r AND account_sid = :a "
             "AND participant_identity = :i AND status = :live ORDER BY join_ms DESC LIMIT 1",
             k=sid_key(room_sid), r=room_sid, a=account_sid, i=identity, live=ParticipantStatus.IN_PROGRESS.value)
