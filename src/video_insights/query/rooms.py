"""Queries over rooms (store.schema.ROOMS)."""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from sqlglot import exp

from video_insights.model.ids import sid_key
from video_insights.model.vocabulary import RoomStatus
from video_insights.query.fields import ROOM_FIELDS_BY_NAME
from video_insights.query.filters import Filter, RoomQuery, condition, parse_range
from video_insights.query.sql import Bound, bound, q, value

DAY_MS = 86_400_000


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


def _time_window(rq: RoomQuery, default_completed_24h: bool, now: int) -> list[exp.Expr]:
    conds: list[exp.Expr] = []
    if rq.range:
        conds.append(exp.column("create_ms") >= value(now - parse_range(rq.range)))
    if rq.since_ms is not None:
        conds.append(exp.column("create_ms") >= value(rq.since_ms))
    if rq.until_ms is not None:
        conds.append(exp.column("create_ms") < value(rq.until_ms))
    if not conds and default_completed_24h:
        conds.append(exp.column("end_ms") >= value(now - DAY_MS))
        conds.append(exp.column("room_status").eq(value(RoomStatus.COMPLETED.value)))
    return conds


def _conditions(account_sid: str, rq: RoomQuery, extra: Sequence[exp.Expr], default_completed_24h: bool,
                now: int) -> list[exp.Expr]:
    conds = [exp.column("account_sid").eq(value(account_sid)), *_time_window(rq, default_completed_24h, now)]
    conds += [condition(f) for f in rq.filters] + list(extra)
    if rq.search:
        conds.append(exp.func("upper", exp.column("room_sid")).like(value(rq.search.upper() + "%")))
    return conds


def room_count(account_sid: str, rq: RoomQuery, *, now: int, cap: int | None = None) -> exp.Expr:
    """(count,) of the rooms `room_list` pages through for `rq`; with `cap`, counted up to cap + 1."""
    matching = exp.select("room_sid").from_("rooms").where(exp.and_(*_conditions(account_sid, rq, (), False, now)))
    if cap is not None:
        matching = matching.limit(cap + 1)
    return exp.select(exp.func("count", exp.Star())).from_(matching.subquery("matching"))


def room_list(columns: Sequence[str], account_sid: str, rq: RoomQuery, *, extra: Sequence[exp.Expr] = (),
              default_completed_24h: bool = False, now: int) -> exp.Expr:
    """A page of an account's rooms as a rooms-list query string asks (`extra`: more conditions), one
    more than the page size when more follow."""
    conds = _conditions(account_sid, rq, extra, default_completed_24h, now)
    sort_col = ROOM_FIELDS_BY_NAME[rq.sort].column
    return (exp.select(*columns).from_("rooms").where(exp.and_(*conds))
            .order_by(exp.Ordered(this=exp.column(sort_col), desc=rq.descending, nulls_first=False),
                      exp.Ordered(this=exp.column("room_sid"), desc=rq.descending))
            .limit(rq.size + 1).offset(rq.page * rq.size))


def room_in(accounts: Iterable[str], room_sid: str) -> exp.Expr:
    """The room (every column), if one of these accounts has it."""
    return q("SELECT * FROM rooms WHERE room_key = :key AND room_sid = :sid AND account_sid IN :accounts",
             key=sid_key(room_sid), sid=room_sid, accounts=sorted(accounts))


def of_sids(account_sid: str, room_sids: Sequence[str]) -> exp.Expr:
    """Rooms of an account (every column) by sid; on ClickHouse a room may have more than one version
    for a moment (the caller keeps the latest `updated_ms`)."""
    return q("SELECT * FROM rooms WHERE room_key IN :keys AND room_sid IN :sids AND account_sid = :a",
             keys=sorted({sid_key(r) for r in room_sids}), sids=sorted(room_sids), a=account_sid)


def in_progress(columns: Sequence[str], account_sid: str, limit: int) -> Bound:
    """An account's rooms in progress, those with the most issues first."""
    return bound(f"SELECT {', '.join(columns)} FROM rooms WHERE account_sid = :a AND room_status = :s "
                 "ORDER BY issue_count DESC NULLS LAST, create_ms, room_sid LIMIT :n",
                 a=account_sid, s=RoomStatus.IN_PROGRESS.value, n=limit)


def window_counts(account_sid: str, since_ms: int, filters: Sequence[Filter] = ()) -> exp.Expr:
    """(rooms, rooms with issues) of an account created since a time that pass the filters.

    Rooms are counted by sid: on ClickHouse a room whose create_ms moved has two versions for a moment
    (the new one is written before the old one is deleted; see store/clickhouse/store.py), and a
    window alert must not count it twice."""
    query = q("SELECT count(DISTINCT room_sid), count(DISTINCT CASE WHEN issue_count > 0 THEN room_sid END) "
              "FROM rooms WHERE account_sid = :a AND create_ms >= :since", a=account_sid, since=since_ms)
    assert isinstance(query, exp.Select)
    for f in filters:
        query = query.where(condition(f))
    return query


def twilio_conditions(*, types: Sequence[str] = (), codecs: Sequence[str] = (), room_name: str | None = None,
                      statuses: Sequence[str] = (), created_after: int | None = None,
                      created_before: int | None = None) -> list[exp.Expr]:
    """The conditions of Twilio's Rooms list parameters (checked by the caller): any of the types, any of
    the codecs, the name, any of the statuses, created at or after / before a time."""
    conds: list[exp.Expr] = []
    if types:
        conds.append(exp.column("room_type").isin(*[value(t) for t in types]))
    if codecs:
        conds.append(exp.or_(*[exp.column("codecs").like(value(f"%,{c},%")) for c in codecs]))
    if room_name:
        conds.append(exp.column("room_name").eq(value(room_name)))
    if statuses:
        conds.append(exp.column("room_status").isin(*[value(s) for s in statuses]))
    if created_after is not None:
        conds.append(exp.GTE(this=exp.column("create_ms"), expression=value(created_after)))
    if created_before is not None:
        conds.append(exp.LT(this=exp.column("create_ms"), expression=value(created_before)))
    return conds
