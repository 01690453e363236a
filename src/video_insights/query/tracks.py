"""Queries over a participant's tracks (store.schema.TRACKS)."""

from __future__ import annotations

from sqlglot import exp

from video_insights.model.ids import sid_key
from video_insights.query.sql import q


def of_participant(account_sid: str, room_sid: str, participant_sid: str) -> exp.Expr:
    """A participant's tracks (every column), first published first."""
    # The room is redundant for the answer, but ClickHouse orders tracks by (account, room, participant):
    # without it a lookup reads every track of the account.
    return q("SELECT * FROM tracks WHERE participant_key = :key AND participant_sid = :p AND room_sid = :r "
             "AND account_sid = :a ORDER BY first_ms, track_sid", key=sid_key(participant_sid), a=account_sid,
             r=room_sid, p=participant_sid)
