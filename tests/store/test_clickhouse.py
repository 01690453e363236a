"""The ClickHouse store (run on chDB): its tables in ClickHouse terms, versions that move in the sort
order, retention as TTL, what it refuses, and several pipelines writing to one store."""

from __future__ import annotations

import itertools
import math
import zlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import orjson
import pytest

from video_insights.errors import BadRequest, StoreUnavailable
from video_insights.ingest import dump_import
from video_insights.processing.pipeline import Pipeline
from video_insights.query.sql import q, render
from video_insights.settings import Settings
from video_insights.store import Store, open_store
from video_insights.store.base import WriteBatch, make_row
from video_insights.store.clickhouse.store import ClickHouseStore
from video_insights.store.schema import PARTICIPANT_METRICS, PARTICIPANTS, ROOMS, TRACKS, T

CHROME = Path(__file__).parent.parent / "data" / "webrtc-internals" / "chromium156"


@pytest.fixture
def ch(tmp_path: Path) -> Iterator[ClickHouseStore]:
    s = open_store(f"chdb:///{tmp_path}/ch")
    assert isinstance(s, ClickHouseStore)
    try:
        s.migrate()
        yield s
    finally:
        s.close()


def _engine(store: ClickHouseStore, table: str) -> str:
    _, rows = store.fetch(q("SELECT engine_full FROM system.tables WHERE database = currentDatabase() "
                            "AND name = :t", t=table))
    return str(rows[0][0])


def test_tables_in_clickhouse_terms(ch: ClickHouseStore) -> None:
    rooms = _engine(ch, "rooms")
    assert rooms.startswith("ReplacingMergeTree(updated_ms) ORDER BY (account_sid, create_ms, room_sid)")
    assert "TTL _written + toIntervalDay(7), _written + toIntervalDay(2) WHERE room_type = 'go'" in rooms
    assert "allow_nullable_key = 1" in rooms  # create_ms may be NULL
    facts = _engine(ch, "participant_facts")
    assert "ORDER BY (account_sid, join_ms, participant_sid)" in facts and "toIntervalDay(14)" in facts
    samples = _engine(ch, "stream_samples")
    assert samples.startswith("MergeTree PARTITION BY toYYYYMMDD(_written) ORDER BY (account_sid, participant_sid, "
                              "ts_ms) TTL _written + toIntervalDay(7)")
    assert "ttl_only_drop_parts = 1" in samples
    assert _engine(ch, "accounts").startswith("ReplacingMergeTree ORDER BY (account_sid)")
    described = ch.describe()
    assert ("document", "String") in described["participant_metrics"]
    assert ("create_ms", "Nullable(Int64)") in described["rooms"] and ("room_sid", "String") in described["rooms"]
    # The hidden column stays hidden from SELECT *.
    cols, _ = ch.fetch("SELECT * FROM rooms")
    assert cols == list(ROOMS.column_names)


def test_changed_retention_reaches_the_ttl(tmp_path: Path) -> None:
    first = open_store(f"chdb:///{tmp_path}/ch")
    assert first.migrate()
    first.close()
    longer = Settings.from_env({}, retention_days=30, dashboard_retention_days=60)
    store = open_store(f"chdb:///{tmp_path}/ch", settings=longer)
    assert isinstance(store, ClickHouseStore)
    try:
        assert store.migrate() == []
        assert "_written + toIntervalDay(30)" in _engine(store, "rooms")
        assert "_written + toIntervalDay(60)" in _engine(store, "room_facts")
        before = {t: _engine(store, t) for t in ("rooms", "room_facts", "events")}
        store.migrate()  # the same days: nothing altered
        assert before == {t: _engine(store, t) for t in before}
    finally:
        store.close()


def _fact(room: str, create_ms: int | None, updated_ms: int) -> tuple[Any, ...]:
    return make_row("room_facts", account_sid="AC1", room_sid=room, create_ms=create_ms, room_type="group",
                    updated_ms=updated_ms)


def _write(store: Store, *rows: tuple[Any, ...]) -> None:
    batch = WriteBatch()
    for r in rows:
        batch.replace("room_facts", r)
    store.write(batch)


def test_a_version_that_moves_in_the_sort_order_replaces_the_old_one(ch: ClickHouseStore) -> None:
    _write(ch, _fact("RM1", 5_000, 1), _fact("RM2", 7_000, 1))
    _write(ch, _fact("RM1", 3_000, 2))  # a late event moved the room's start earlier
    _, rows = ch.fetch("SELECT room_sid, create_ms, updated_ms FROM room_facts ORDER BY room_sid")
    assert rows == [("RM1", 3_000, 2), ("RM2", 7_000, 1)]
    # Another writer's newer version stays, whatever order the writes land in.
    _write(ch, _fact("RM2", 9_000, 5))
    _write(ch, _fact("RM2", 6_000, 4))
    _, rows = ch.fetch("SELECT room_sid, create_ms, updated_ms FROM room_facts WHERE room_sid = 'RM2'")
    assert ("RM2", 9_000, 5) in rows
    _write(ch, _fact("RM2", 9_000, 6))  # the next summary of the room settles it
    _, rows = ch.fetch("SELECT room_sid, create_ms, updated_ms FROM room_facts WHERE room_sid = 'RM2'")
    assert rows == [("RM2", 9_000, 6)]
    # A replace with the same sort values needs no delete, and the newest version wins the read.
    _write(ch, _fact("RM2", 9_000, 7))
    assert ch.table_rows("room_facts") == 2


def test_bulk_columns_are_checked_before_anything_is_written(ch: ClickHouseStore) -> None:
    batch = WriteBatch()
    batch.insert("room_facts", _fact("RM1", 1, 1))
    batch.insert_columns("room_facts", {"account_sid": np.array(["AC1", "AC1"], dtype=object),
                                        "room_sid": np.array(["RM2", None], dtype=object),
                                        "create_ms": np.array([1, 2]), "updated_ms": np.array([1, 1])})
    with pytest.raises(ValueError, match=r"room_facts\.room_sid: NULL in a NOT NULL column"):
        ch.write(batch)
    missing = WriteBatch()
    missing.insert_columns("room_facts", {"account_sid": ["AC1"], "room_sid": ["RM3"]})
    with pytest.raises(ValueError, match="NOT NULL column not given"):
        ch.write(missing)
    assert ch.table_rows("room_facts") == 0
    ok = WriteBatch()
    ok.insert_columns("room_facts", {"account_sid": np.array(["AC1", "AC1"], dtype=object),
                                     "room_sid": np.array(["RM4", "RM5"], dtype=object),
                                     "create_ms": np.array([1, 2], dtype=np.int32),
                                     "has_issues": np.ma.masked_array([True, False], mask=[False, True]),
                                     "updated_ms": np.array([1, 1])})
    ch.write(ok)
    _, rows = ch.fetch("SELECT room_sid, create_ms, has_issues, room_type FROM room_facts ORDER BY room_sid")
    assert rows == [("RM4", 1, True, None), ("RM5", 2, None, None)]


def test_binary_documents_come_back_as_bytes_and_text_as_text(ch: ClickHouseStore) -> None:
    doc = zlib.compress(b'{"send":[],"receive":[]}')
    batch = WriteBatch()
    # Every column given a value of its type (the table's other columns are not this test's subject).
    filler = {T.STR: "x", T.INT: 1, T.FLOAT: 1.0, T.BOOL: True, T.JSON: "{}", T.TAGS: ",a,", T.BYTES: doc}
    values = {c.name: filler[c.type] for c in PARTICIPANT_METRICS.columns}
    batch.replace("participant_metrics", make_row("participant_metrics", **{**values, "room_type": "group"}))
    ch.write(batch)
    _, rows = ch.fetch("SELECT document, room_type FROM participant_metrics")
    assert rows == [(doc, "group")]


@pytest.mark.parametrize(("url", "message"), [
    ("chdb://relative/dir", "give an absolute directory"),
    ("chdb:///", "give an absolute directory"),
    ("clickhouse:///db", "give a host"),
    ("clickhouse://u:p@host:port/db", "the port is not a number"),
    ("clickhouse://u:p@host:8123/a/b", "names one database"),
    ("postgres://x", "unknown scheme 'postgres'"),
])
def test_bad_store_urls_say_what_is_wrong(url: str, message: str) -> None:
    with pytest.raises(BadRequest, match=message):
        open_store(url)


def test_a_second_chdb_directory_in_one_process_says_so(ch: ClickHouseStore, tmp_path: Path) -> None:
    with pytest.raises(StoreUnavailable, match=r"cannot open the chDB store .*already initialized"):
        open_store(f"chdb:///{tmp_path}/other")


def test_lag_is_printed_as_a_frame_function_with_nulls() -> None:
    sql = render(q("SELECT lag(a) OVER w, lead(b, 2) OVER (ORDER BY t) FROM x "
                   "WINDOW w AS (PARTITION BY p ORDER BY t)"), "clickhouse")
    frame = "ROWS BETWEEN UNBOUNDED PRECEDING AND UNBOUNDED FOLLOWING"
    assert f"lagInFrame(toNullable(a)) OVER (PARTITION BY p ORDER BY t {frame})" in sql
    assert f"leadInFrame(toNullable(b), 2) OVER (ORDER BY t {frame})" in sql
    assert "WINDOW" not in sql
    assert render(q("SELECT lag(a) OVER w FROM x WINDOW w AS (ORDER BY t)"), "duckdb") == \
        "SELECT LAG(a) OVER w FROM x WINDOW w AS (ORDER BY t)"


# -- many processes, one store --------------------------------------------------------------------

def _summaries(store: Store) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for table in (ROOMS, PARTICIPANTS, TRACKS, PARTICIPANT_METRICS):
        cols = [c for c in table.column_names if c != "updated_ms"]
        _, rows = store.fetch(f"SELECT {', '.join(cols)} FROM {table.name} ORDER BY {', '.join(table.key)}")
        out[table.name] = [[_norm(v) for v in r] for r in rows]
    return out


def _norm(v: Any) -> Any:
    if isinstance(v, float) and math.isfinite(v):
        return float(f"{v:.9g}")
    if isinstance(v, bytes):
        return orjson.loads(zlib.decompress(v))
    return v


def test_two_pipelines_on_one_store_give_what_one_gives(tmp_path: Path) -> None:
    """Reports of one call alternate between two writers (as between two `serve` processes behind a
    load balancer), events land on one or both: the summaries are those of one writer that got all.

    chDB hosts one engine per process, so the two writers are two stores (two connections) on one
    directory in this process; no ClickHouse server can be installed here to run two processes."""
    settings = Settings.from_env({}, writer_flush_ms=5)
    account = "AC" + "7" * 32
    built = dump_import.build((CHROME / "loss8.json.gz").read_bytes(), account_sid=account, file_name="loss8")
    reference = open_store(f"duckdb:///{tmp_path}/one.duckdb")
    reference.migrate()
    Pipeline(reference, settings).write_now(built.samples, built.events, period_ms=built.period_ms)
    expected = _summaries(reference)
    reference.close()
    assert expected["tracks"] and expected["participant_metrics"]

    first = open_store(f"chdb:///{tmp_path}/many")
    first.migrate()
    second = open_store(f"chdb:///{tmp_path}/many")
    writers = [Pipeline(first, settings), Pipeline(second, settings)]
    try:
        for w in writers:
            w.start()
        reports = [list(g) for _, g in itertools.groupby(sorted(built.samples, key=lambda s: s.ts_ms),
                                                         key=lambda s: s.ts_ms)]
        assert len(reports) > 20
        for i, report in enumerate(reports):
            writers[i % 2].submit(report, period_ms=built.period_ms)
        for i, event in enumerate(built.events):
            targets = writers if i % 3 == 0 else [writers[i % 2]]  # some events reach both
            for w in targets:
                w.submit(events=[event], period_ms=built.period_ms)
        for w in writers:
            w.settle()
        writers[0].settle()  # the first writer's last summary may predate the second's last samples
        assert all(w.stats.samples > 0 and w.stats.rooms_summarized > 0 for w in writers)
        assert _summaries(first) == expected
    finally:
        for w in writers:
            w.stop()
        first.close()
        second.close()
