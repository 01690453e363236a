"""SQL whose meaning differs between engines unless the query layer prints it with care: the same
answers on every store (the `store` fixture runs each test on DuckDB and on chDB)."""

from __future__ import annotations

from typing import Any

import pytest

from video_insights.analytics.rooms import list_rooms
from video_insights.query.filters import parse_room_query
from video_insights.query.sql import bound, q, render
from video_insights.store import Store
from video_insights.store.base import WriteBatch, make_row
from video_insights.store.schema import PREWHERE

NAMES = ["a\\b", "a%b", "a_b", "ab", "AXB", "a\\\\b"]


@pytest.fixture
def rooms(store: Store) -> Store:
    batch = WriteBatch()
    for i, name in enumerate(NAMES):
        batch.replace("rooms", make_row(
            "rooms", account_sid="AC1", room_sid=f"RM{i}", room_name=name, create_ms=1_000 + i,
            duration_sec=None if i % 2 else 10 * i, room_type="go" if i == 0 else "group", updated_ms=1,
            room_key=i, codecs=",VP8,opus," if i < 3 else None))
    store.write(batch)
    return store


def _names(store: Store, *params: tuple[str, str]) -> list[str]:
    rq = parse_room_query([("_since", "1970-01-01T00:00:00Z"), *params, ("_sort", "room_name")])
    return [r["room_name"] for r in list_rooms(store, "AC1", rq)]


@pytest.mark.parametrize(("text", "expected"), [
    ("a\\b", ["a\\b"]),  # a backslash is a character, not an escape
    ("a%b", ["a%b"]),  # so are the LIKE wildcards
    ("a_b", ["a_b"]),
    ("ab", ["ab"]),
    ("x", ["AXB"]),  # contains is case-insensitive
    ("\\\\", ["a\\\\b"]),
])
def test_contains_takes_the_text_literally(rooms: Store, text: str, expected: list[str]) -> None:
    assert _names(rooms, ("room_name__contains", text)) == expected


def test_sets_nulls_and_sorting(rooms: Store) -> None:
    assert _names(rooms, ("codecs__eq", "VP8")) == ["a%b", "a\\b", "a_b"]
    assert _names(rooms, ("codecs__ne", "VP8")) == ["AXB", "a\\\\b", "ab"]  # NULL sets count as not containing
    assert _names(rooms, ("duration_sec__ne", "20")) == ["AXB", "a%b", "a\\\\b", "a\\b", "ab"]  # NULL is "not 20"
    assert _names(rooms, ("room_type__in", "go,peer_to_peer")) == ["a\\b"]
    rq = parse_room_query([("_since", "1970-01-01T00:00:00Z"), ("_sort", "duration_sec")])
    order = [r["duration_sec"] for r in list_rooms(rooms, "AC1", rq)]
    assert order == [0, 20, 40, None, None, None]  # NULLs last, ascending
    rq = parse_room_query([("_since", "1970-01-01T00:00:00Z"), ("_sort_desc", "duration_sec")])
    assert [r["duration_sec"] for r in list_rooms(rooms, "AC1", rq)] == [40, 20, 0, None, None, None]


def _one(store: Store, sql: str, **params: Any) -> tuple[Any, ...]:
    _, rows = store.fetch(q(sql, **params))
    assert len(rows) == 1
    return tuple(rows[0])


def test_arithmetic_aggregates_and_in(rooms: Store) -> None:
    # Integer division gives a fraction; modulo and greatest stay integers; greatest skips NULLs.
    assert _one(rooms, "SELECT 7 / 2, 7 % 3, greatest(2, 5), greatest(NULL, 3)") == (3.5, 1, 5, 3)
    # Aggregates over no rows are NULL (count 0); over only NULLs NULL.
    assert _one(rooms, "SELECT count(*), sum(duration_sec), max(room_name) FROM rooms WHERE room_sid = 'none'") == \
        (0, None, None)
    assert _one(rooms, "SELECT sum(duration_sec), avg(duration_sec) FROM rooms WHERE room_sid IN :s",
                s=["RM1", "RM3"]) == (None, None)
    assert _one(rooms, "SELECT sum(duration_sec), count(duration_sec) FROM rooms") == (60, 3)
    # IN an empty list matches nothing, NOT IN an empty list matches everything that is not NULL.
    assert _one(rooms, "SELECT count(*) FROM rooms WHERE room_sid IN :s", s=[]) == (0,)
    assert _one(rooms, "SELECT count(*) FROM rooms WHERE (room_sid, room_key) IN :t",
                t=[("RM1", 1), ("RM2", 9)]) == (1,)
    assert _one(rooms, "SELECT count(*) FROM rooms WHERE CASE WHEN duration_sec > 15 THEN TRUE END") == (2,)
    # A pattern without ESCAPE: its backslash is a plain character, as in DuckDB.
    _, rows = rooms.fetch(q("SELECT room_name FROM rooms WHERE room_name LIKE :p ORDER BY 1", p="a\\%b"))
    assert rows == [("a\\\\b",), ("a\\b",)]  # not "a%b": the backslash does not escape the %


def test_lag_over_a_series_starts_with_null(store: Store) -> None:
    batch = WriteBatch()
    for ts, b in ((1_000, 10), (2_000, 30), (3_000, 25)):
        batch.insert("events", make_row("events", account_sid="AC1", room_sid="RM1", ts_ms=ts, source="x",
                                        name=str(b), event_id=str(ts), received_ms=ts, room_key=b))
    store.write(batch)
    _, rows = store.fetch(q(
        "SELECT ts_ms, room_key - lag(room_key) OVER w, lag(ts_ms, 2) OVER w, lead(room_key) OVER w FROM events "
        "WINDOW w AS (PARTITION BY room_sid ORDER BY ts_ms) ORDER BY ts_ms"))
    assert [tuple(r) for r in rows] == [(1_000, None, None, 30), (2_000, 20, None, 25), (3_000, -5, 1_000, None)]


def test_key_conditions_go_to_prewhere_on_clickhouse() -> None:
    lookup = q("SELECT * FROM rooms WHERE room_key = :k AND room_sid = :s AND account_sid IN :a AND room_status = 'x'",
               k=7, s="RM1", a=["AC1"])
    assert render(lookup, "clickhouse", PREWHERE) == (
        "SELECT * FROM rooms PREWHERE room_sid = 'RM1' AND account_sid IN ('AC1') "
        "WHERE room_key = 7 AND room_status = 'x'")  # room_key and room_status are not in rooms' sort key
    assert render(lookup, "duckdb") == render(lookup, "duckdb").replace("PREWHERE", "")
    templated = bound("SELECT document FROM participant_metrics WHERE participant_sid = :p AND account_sid = :a",
                      p="PA1", a="AC1")
    assert render(templated, "clickhouse", PREWHERE) == ("SELECT document FROM participant_metrics "
                                               "PREWHERE participant_sid = 'PA1' AND account_sid = 'AC1'")
    untouched = [  # a disjunction, a subquery, a join, a table that is not ours
        "SELECT * FROM rooms WHERE room_sid = 'RM1' OR room_status = 'x'",
        "SELECT * FROM rooms WHERE room_sid IN (SELECT room_sid FROM participants)",
        "SELECT * FROM rooms AS r JOIN participants AS p ON r.room_sid = p.room_sid WHERE r.room_sid = 'RM1'",
        "SELECT name FROM system.tables WHERE name = 'rooms'",
        "WITH rooms AS (SELECT 'RM1' AS room_sid) SELECT * FROM rooms WHERE room_sid = 'RM1'",
    ]
    for sql in untouched:
        assert "PREWHERE" not in render(q(sql), "clickhouse", PREWHERE), sql


def test_an_older_version_never_shows_through_a_filter(store: Store) -> None:
    """On ClickHouse a replaced row's versions sit side by side until a merge, and FINAL collapses them
    at read time: a filter on a column outside the sorting key must be applied after that (WHERE), or
    the older version that matches it would be returned as if it were current."""
    for version, status in ((1, "in_progress"), (2, "completed")):
        batch = WriteBatch()
        batch.replace("rooms", make_row("rooms", account_sid="AC1", room_sid="RM9", room_name="r", create_ms=5_000,
                                        room_status=status, updated_ms=version, room_key=9))
        store.write(batch)  # two writes: two parts on ClickHouse, not merged yet
    assert _one(store, "SELECT count(*) FROM rooms WHERE room_sid = 'RM9' AND room_status = 'in_progress'") == (0,)
    assert _one(store, "SELECT room_status FROM rooms WHERE room_sid = 'RM9' AND account_sid = 'AC1'") == \
        ("completed",)
    rq = parse_room_query([("_since", "1970-01-01T00:00:00Z"), ("room_status__eq", "in_progress")])
    assert list_rooms(store, "AC1", rq) == []
