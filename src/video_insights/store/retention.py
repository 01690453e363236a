"""The retention policy (docs/retention.md): rooms and their data 7 days (2 for go rooms), dashboard
facts 14 days (2 for go rooms), counted from the row's own time, or from its room's import when that is
later. Applied hourly by the server and by `purge`."""

from __future__ import annotations

import time

from sqlglot import exp

from video_insights.query.sql import q
from video_insights.settings import Settings
from video_insights.store.base import Store, WriteBatch
from video_insights.store.schema import ALERTS, IMPORTS, TABLES, Table

DAY_MS = 86_400_000


def _condition(table: Table, settings: Settings, now: int) -> exp.Expr:
    assert table.time_column is not None and table.retention is not None
    days, go_days = settings.days_kept(table.retention)
    cutoff, go_cutoff = now - days * DAY_MS, now - go_days * DAY_MS
    t = table.time_column
    # An import's record lasts as long as the longest-kept data it holds; an alert is history of its own.
    if table is IMPORTS or table is ALERTS:
        return q(f"{t} < :cutoff", cutoff=cutoff)
    # A room imported since the cutoff is kept, however long ago it was recorded.
    held = "room_sid NOT IN (SELECT room_sid FROM imports WHERE imported_ms >= {})"
    expired = f"({t} < :cutoff AND {held.format(':cutoff')})"
    go_expired = f"{t} < :go AND {held.format(':go')}"
    if "room_type" in table.column_names:
        return q(f"{expired} OR (room_type = 'go' AND {go_expired})", cutoff=cutoff, go=go_cutoff)
    # Tables without a room type reach it through their room; rooms go last, so it is still there.
    return q(f"{expired} OR ({go_expired} AND room_sid IN (SELECT room_sid FROM rooms WHERE room_type = 'go'))",
             cutoff=cutoff, go=go_cutoff)


def _plan(settings: Settings, now: int) -> list[tuple[Table, exp.Expr]]:
    tables = [t for t in TABLES if t.retention]
    # Rooms after the tables that look their type up there; imports last, as every table consults them.
    tables.sort(key=lambda t: (t is IMPORTS, t.name == "rooms"))
    return [(t, _condition(t, settings, now)) for t in tables]


def purge(store: Store, settings: Settings, *, dry_run: bool = False, now: int | None = None) -> dict[str, int]:
    now = int(time.time() * 1000) if now is None else now
    counts: dict[str, int] = {}
    plan = _plan(settings, now)
    for table, cond in plan:
        _, rows = store.fetch(exp.select(exp.func("count", exp.Star())).from_(table.name).where(cond))
        counts[table.name] = int(rows[0][0])
    if not dry_run and any(counts.values()):
        batch = WriteBatch()
        batch.deletes.extend((t.name, cond) for t, cond in plan if counts[t.name])
        store.write(batch)
    return counts
