"""Queries over the ledger of stale rooms (store.schema.ROOM_LEDGER; processing/ledger.py says why)."""

from __future__ import annotations

from collections.abc import Iterable

from sqlglot import exp

from video_insights.model.ids import sid_key
from video_insights.query.sql import q

TOUCHED = "touched"
SUMMARIZED = "summarized"


def touched_tokens(rooms: Iterable[tuple[str, str]]) -> exp.Expr:
    """The last `touched` token of each of these (account, room): (account_sid, room_sid, token)."""
    sids = sorted({r for _, r in rooms})
    return q("SELECT account_sid, room_sid, token FROM room_ledger WHERE room_key IN :keys AND room_sid IN :rooms "
             "AND entry = :touched", keys=sorted({sid_key(r) for r in sids}), rooms=sids, touched=TOUCHED)


def stale_rooms(touched_before_ms: int) -> exp.Expr:
    """Rooms whose last touch, before the given time, has not been summarised: (account_sid, room_sid)."""
    return q("SELECT t.account_sid, t.room_sid FROM room_ledger AS t LEFT JOIN room_ledger AS s "
             "ON s.account_sid = t.account_sid AND s.room_sid = t.room_sid AND s.entry = :summarized "
             "WHERE t.entry = :touched AND t.at_ms < :before AND (s.token IS NULL OR s.token <> t.token) "
             "ORDER BY t.at_ms", touched=TOUCHED, summarized=SUMMARIZED, before=touched_before_ms)
