"""Queries over participants (store.schema.PARTICIPANTS)."""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from sqlglot import exp

from video_insights.model.ids import sid_key
from video_insights.model.vocabulary import ParticipantStatus
from video_insights.query.sql import Bound, bound, q


def in_progress_by_identity(account_sid: str, room_sid: str, identity: str) -> exp.Expr:
    """(participant_sid,) of the latest participant in progress in a room with this identity."""
    return q("SELECT participant_sid FROM participants WHERE room_key = :k AND room_sid = :r AND account_sid = :a "
             "AND participant_identity = :i AND status = :live ORDER BY join_ms DESC LIMIT 1",
             k=sid_key(room_sid), r=room_sid, a=account_sid, i=identity, live=ParticipantStatus.IN_PROGRESS.value)


def of_room(columns: Sequence[str], account_sid: str, room_sid: str, limit: int, offset: int) -> exp.Expr:
    """A page of a room's participants by join time."""
    return q(f"SELECT {', '.join(columns)} FROM participants WHERE room_key = :key AND room_sid = :r "
             "AND account_sid = :a ORDER BY join_ms, participant_sid LIMIT :lim OFFSET :off",
             key=sid_key(room_sid), a=account_sid, r=room_sid, lim=limit, off=offset)


def participant_in(accounts: Iterable[str], room_sid: str, participant_sid: str) -> exp.Expr:
    """The participant (every column), if one of these accounts has it in this room."""
    return q("SELECT * FROM participants WHERE participant_key = :key AND participant_sid = :p AND room_sid = :r "
             "AND account_sid IN :accounts", key=sid_key(participant_sid), r=room_sid, p=participant_sid,
             accounts=sorted(accounts))


def in_progress_in(columns: Sequence[str], account_sid: str, rooms: list[str]) -> Bound:
    """The participants in progress in these rooms."""
    return bound(f"SELECT {', '.join(columns)} FROM participants WHERE account_sid = :a "
                 "AND status = :s AND room_sid IN :rooms", a=account_sid, s=ParticipantStatus.IN_PROGRESS.value,
                 rooms=rooms)


def issue_types_joined(account_sid: str, since_ms: int, until_ms: int) -> exp.Expr:
    """(issue_types,) of an account's participants who joined between the two times."""
    return q("SELECT issue_types FROM participants WHERE account_sid = :a AND join_ms >= :since "
             "AND join_ms < :until", a=account_sid, since=since_ms, until=until_ms)
