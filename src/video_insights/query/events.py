"""Queries over stored events (store.schema.EVENTS)."""

from __future__ import annotations

from collections.abc import Iterable
from typing import NamedTuple

from sqlglot import exp

from video_insights.model.ids import sid_key
from video_insights.query.sql import q


def latest_payload(account_sid: str, room_sid: str, participant_sid: str, name: str) -> exp.Expr:
    """(payload,) of a participant's latest event of this name."""
    return q("SELECT payload FROM events WHERE account_sid = :a AND room_key = :k AND room_sid = :r "
             "AND participant_sid = :p AND name = :n ORDER BY ts_ms DESC, received_ms DESC LIMIT 1",
             a=account_sid, k=sid_key(room_sid), r=room_sid, p=participant_sid, n=name)


def room_bound_to_livekit(account_sid: str, livekit_room_sid: str, since_ms: int, until_ms: int) -> exp.Expr:
    """(room_sid,) of a room whose LiveKit events between the two times name this LiveKit room SID."""
    return q("SELECT room_sid FROM events WHERE account_sid = :a AND source = 'livekit' AND ts_ms >= :lo "
             "AND ts_ms <= :hi AND JSON_EXTRACT_SCALAR(payload, '$.livekit_room_sid') = :s LIMIT 1",
             a=account_sid, s=livekit_room_sid, lo=since_ms, hi=until_ms)


class EventRow(NamedTuple):
    """A row of `of_rooms`."""

    room_sid: str
    participant_sid: str | None
    ts_ms: int
    source: str
    name: str
    payload: str | None
    event_id: str


def of_rooms(account_sid: str, rooms: list[str]) -> exp.Expr:
    """Every event of these rooms: rows of EventRow."""
    return q(f"SELECT {', '.join(EventRow._fields)} FROM events "
             "WHERE account_sid = :a AND room_key IN :keys AND room_sid IN :rooms", a=account_sid, rooms=rooms,
             keys=sorted({sid_key(r) for r in rooms}))


def account_with_room(accounts: Iterable[str], room_sid: str) -> exp.Expr:
    """(account_sid,) of whichever of these accounts has events of the room."""
    return q("SELECT account_sid FROM events WHERE room_key = :key AND room_sid = :sid AND account_sid IN :accounts "
             "LIMIT 1", key=sid_key(room_sid), sid=room_sid, accounts=sorted(accounts))
