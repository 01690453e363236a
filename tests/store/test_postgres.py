"""The PostgreSQL store (the benchmarks' baseline): its URLs, its indexes, values that come back as
the other engines return them, bulk columns, and a real server reading it from many threads. (The
store tests in this directory also run on it, and test_engines_agree compares it with DuckDB.)"""

from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import httpx
import numpy as np
import pytest

from support import free_port, serving
from video_insights.accounts import create_account
from video_insights.app import create_app
from video_insights.demo.generator import generate
from video_insights.errors import BadRequest, StoreUnavailable
from video_insights.settings import Settings
from video_insights.store import open_store
from video_insights.store.base import WriteBatch, make_row
from video_insights.store.postgres_store import PostgresStore
from video_insights.store.schema import TABLES


@pytest.fixture
def pg(postgres_url: str) -> Any:
    store = open_store(postgres_url)
    store.migrate()
    yield store
    store.close()


@pytest.mark.parametrize(("url", "message"), [
    ("postgresql://user@host", "give a host and a database"),
    ("postgresql:///db", "give a host and a database"),
    ("postgresql://user@host:port/db", "the port is not a number"),
])
def test_bad_store_urls_say_what_is_wrong(url: str, message: str) -> None:
    with pytest.raises(BadRequest, match=message):
        open_store(url)


def test_an_unreachable_server_says_so() -> None:
    with pytest.raises(StoreUnavailable, match=r"cannot connect to the store postgresql://vi@127\.0\.0\.1"):
        open_store(f"postgresql://vi:secret@127.0.0.1:{free_port()}/video_insights?connect_timeout=2")


def test_the_url_shown_has_no_password(postgres_url: str) -> None:
    with_password = postgres_url.replace("postgres@", "postgres:hunter2@")
    store = open_store(with_password)
    try:
        assert "hunter2" not in store.url and store.url.startswith("postgresql://postgres@127.0.0.1:")
    finally:
        store.close()


def test_indexes_for_the_reads_the_api_makes(pg: PostgresStore) -> None:
    _, rows = pg.fetch("SELECT tablename, indexname, indexdef FROM pg_indexes WHERE schemaname = current_schema()")
    defs = {name: d for _, name, d in rows}
    assert "(account_sid, create_ms)" in defs["rooms_created"]
    assert "USING brin (ts_ms)" in defs["stream_samples_ts"]
    assert "(participant_key, ts_ms)" in defs["stream_samples_participant"]
    assert "stream_samples_key" not in defs  # append-only: no B-tree on its whole key
    for table in TABLES:
        if table.name != "stream_samples":
            assert f"{table.name}_key" in defs, table.name
    assert pg.migrate() == []  # idempotent


def test_numeric_results_come_back_as_duckdb_types(pg: PostgresStore) -> None:
    # sum() of BIGINT and avg() are NUMERIC in PostgreSQL: integral sums as int, the rest as float.
    _, rows = pg.fetch("SELECT sum(x), avg(x), sum(x) / 1000.0, 7 // 2, 7 / 2 "
                       "FROM (SELECT unnest(ARRAY[1, 2, 4]::bigint[]) AS x) AS t")
    assert rows == [(7, 7 / 3, 0.007, 3, 3.5)]
    assert [type(v) for v in rows[0]] == [int, float, float, int, float]


def test_bulk_columns_with_nulls_documents_and_booleans(pg: PostgresStore) -> None:
    batch = WriteBatch()
    batch.insert_columns("participant_metrics", {
        "account_sid": ["AC1", "AC1"], "room_sid": ["RM1", "RM1"], "participant_sid": ["PA1", "PA2"],
        "participant_key": np.array([1, 2], dtype=np.int64),
        "join_ms": np.ma.masked_array(np.array([5, 0], dtype=np.int64), mask=[False, True]),
        "basis": ["completed", "completed"], "document": [b"\x00\x01binary", b""],
        "updated_ms": np.array([9, 9], dtype=np.int64)})
    batch.insert("room_facts", make_row("room_facts", account_sid="AC1", room_sid="RM1", create_ms=1,
                                        has_issues=True, updated_ms=1))
    pg.write(batch)
    _, rows = pg.fetch("SELECT participant_sid, join_ms, document FROM participant_metrics ORDER BY 1")
    assert rows == [("PA1", 5, b"\x00\x01binary"), ("PA2", None, b"")]
    assert pg.fetch("SELECT has_issues FROM room_facts")[1] == [(True,)]


def test_a_failed_batch_writes_nothing_and_the_store_goes_on(pg: PostgresStore) -> None:
    bad = WriteBatch()
    bad.replace("rooms", make_row("rooms", account_sid="AC1", room_sid="RM1", updated_ms=1, room_key=1))
    bad.insert("rooms", make_row("rooms", account_sid="AC1", room_sid=None, updated_ms=1, room_key=2))
    with pytest.raises(ValueError, match=r"NOT NULL constraint failed: rooms\.room_sid"):
        pg.write(bad)
    assert pg.table_rows("rooms") == 0
    good = WriteBatch()
    good.replace("rooms", make_row("rooms", account_sid="AC1", room_sid="RM1", updated_ms=1, room_key=1))
    pg.write(good)
    assert pg.table_rows("rooms") == 1


def test_a_real_server_reads_it_from_many_threads(pg: PostgresStore) -> None:
    account = create_account(pg, friendly_name="pg")
    now = (int(time.time() * 1000) // 3_600_000 - 2) * 3_600_000
    generate(pg, Settings.from_env({}), account_sid=account.sid, days=1, rooms_per_day=6, seed=3, now_ms=now,
             progress=False)
    settings = Settings.from_env({}, store=pg.url)
    with serving(create_app(settings, store=pg)) as url, \
            httpx.Client(base_url=url, auth=(account.sid, account.auth_token), timeout=30) as client:
        rooms = client.get("/v1/Video/Rooms", params={"_range": "7d"}).json()["rooms"]
        assert len(rooms) == pg.table_rows("rooms") > 0
        paths = []
        for room in rooms:
            base = f"/v1/Video/Rooms/{room['room_sid']}"
            for p in client.get(f"{base}/Participants").json()["participants"]:
                paths += [f"{base}/Participants/{p['participant_sid']}",
                          f"{base}/Participants/{p['participant_sid']}/Metrics"]
        paths += ["/v1/Video/Dashboard/Rooms?_range=24h", "/v1/Video/Dashboard/Minutes?_range=7d"]
        with ThreadPoolExecutor(8) as pool:
            statuses = list(pool.map(lambda path: client.get(path).status_code, paths * 2))
        assert len(paths) > 10 and statuses == [200] * len(statuses)
