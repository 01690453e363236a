"""The benchmark data set copied between engines: a consistent subset of its rooms into a new DuckDB
file, and a DuckDB file bulk-loaded into chDB (through Parquet) or PostgreSQL (CSV through a named pipe
into COPY, so nothing is staged on disk).

A subset keeps the rooms whose room_key (an integer from the room SID's hex digits, so uniformly
spread) falls in the first `scale` of 1,000 buckets, and every row of every table that belongs to
them; so the subsets at 1/8, 1/4, 1/2 are nested and each is a smaller account of the same shape.
"""

from __future__ import annotations

import os
import threading
import time
from pathlib import Path

import duckdb
import psycopg

from video_insights.store import open_store
from video_insights.store.clickhouse.store import ClickHouseStore
from video_insights.store.postgres_store import index_ddl
from video_insights.store.schema import TABLES, T, Table

BUCKETS = 1000
# Tables whose rows name their room by key; the rest are matched by room_sid.
_ROOM_KEYED = frozenset({"rooms", "participants", "events"})
_ACCOUNT_TABLES = frozenset({"accounts", "api_keys"})


def _rooms_kept(scale: float) -> str:
    return f"room_key % {BUCKETS} < {round(scale * BUCKETS)}"


def _select(table: Table, source: str, scale: float, columns: str = "*") -> str:
    """The rows of `table` in `source` (a DuckDB catalog) that belong to the subset, in stored order."""
    sql = f"SELECT {columns} FROM {source}.{table.name}"
    if scale >= 1 or table.name in _ACCOUNT_TABLES:
        return sql
    if table.name in _ROOM_KEYED:
        return f"{sql} WHERE {_rooms_kept(scale)}"
    return f"{sql} WHERE room_sid IN (SELECT room_sid FROM {source}.rooms WHERE {_rooms_kept(scale)})"


def subset_duckdb(source: Path, target: Path, scale: float) -> dict[str, int]:
    """A new DuckDB store at `target` holding the subset; row counts per table."""
    target.unlink(missing_ok=True)
    store = open_store(f"duckdb:///{target}")
    store.migrate()
    store.close()
    con = duckdb.connect(str(target))
    con.execute(f"ATTACH '{source}' AS src (READ_ONLY)")
    counts = {}
    for table in TABLES:
        # Insertion order is kept: samples stay in time order, which DuckDB's zone maps rely on.
        con.execute(f"INSERT INTO {table.name} BY NAME {_select(table, 'src', scale)}")
        counts[table.name] = int(con.execute(f"SELECT count(*) FROM {table.name}").fetchone()[0])  # type: ignore[index]
    con.execute("DETACH src")
    con.close()
    return counts


def load_chdb(source: Path, target_dir: Path, work: Path) -> dict[str, float]:
    """The DuckDB store at `source` copied into a new chDB store at `target_dir`: each table exported
    to Parquet, read by ClickHouse's own Parquet reader, then merged (OPTIMIZE … FINAL) as a store
    that has run for a while would be. Seconds per table."""
    store = open_store(f"chdb://{target_dir}")
    assert isinstance(store, ClickHouseStore)
    store.migrate()
    con = duckdb.connect(str(source), read_only=True)
    seconds = {}
    try:
        for table in TABLES:
            started = time.time()
            path = work / f"{table.name}.parquet"
            con.execute(f"COPY ({_select(table, 'main', 1)}) TO '{path}' (FORMAT parquet)")
            cols = ", ".join(table.column_names)
            store.engine.command(f"INSERT INTO {table.name} ({cols}) SELECT {cols} FROM file('{path}', Parquet)")
            store.engine.command(f"OPTIMIZE TABLE {table.name} FINAL")
            path.unlink()
            seconds[table.name] = round(time.time() - started, 1)
    finally:
        con.close()
        store.close()
    return seconds


def load_postgres(source: Path, url: str, work: Path) -> dict[str, float]:
    """The DuckDB store at `source` copied into PostgreSQL at `url` the way one bulk-loads PostgreSQL:
    indexes dropped, the table truncated and filled by a server-side COPY of CSV in one transaction,
    indexes rebuilt, then VACUUM ANALYZE (statistics for the planner, the visibility map for
    index-only scans). The CSV goes through a named pipe in `work` (which the server must be able to
    read): staging the full account's samples as a file would need as much disk again as PostgreSQL's
    own copy. Seconds per table."""
    store = open_store(url)
    store.migrate()
    store.close()
    con = duckdb.connect(str(source), read_only=True)
    seconds = {}
    try:
        with psycopg.connect(url, autocommit=True) as pg:
            for table in TABLES:
                started = time.time()
                indexes = [r[0] for r in pg.execute(
                    "SELECT indexname FROM pg_indexes WHERE schemaname = current_schema() AND tablename = %s",
                    (table.name,)).fetchall()]
                for name in indexes:
                    pg.execute(f"DROP INDEX {name}".encode())
                # CSV has no binary type: documents go as PostgreSQL's hex form of bytea.
                cols = ", ".join(f"'\\x' || hex({c.name}) AS {c.name}" if c.type is T.BYTES else c.name
                                 for c in table.columns)
                with pg.transaction():  # truncated in the COPY's transaction: with minimal WAL, none is written
                    pg.execute(f"TRUNCATE {table.name}".encode())
                    _pipe_copy(con, _select(table, 'main', 1, cols), pg,
                               f"COPY {table.name} ({', '.join(table.column_names)}) FROM '{{}}' (FORMAT csv)",
                               work / f"{table.name}.csv")
                for ddl in index_ddl(table):
                    pg.execute(ddl.encode())
                pg.execute(f"VACUUM ANALYZE {table.name}".encode())
                seconds[table.name] = round(time.time() - started, 1)
    finally:
        con.close()
    return seconds


def _pipe_copy(con: duckdb.DuckDBPyConnection, select: str, pg: psycopg.Connection, copy: str, pipe: Path) -> None:
    """DuckDB writes `select` as CSV into a named pipe while PostgreSQL's `copy` (with {} for the path)
    reads it. Either side failing ends the other: a reader that stops makes the writer's next write
    fail, and a writer the server never opened the pipe for is let in and then fails the same way."""
    os.mkfifo(pipe, 0o644)
    failed: list[BaseException] = []

    def write() -> None:
        try:
            con.cursor().execute(f"COPY ({select}) TO '{pipe}' (FORMAT csv, HEADER false)")
        except BaseException as e:  # reported on the caller's thread
            failed.append(e)

    writer = threading.Thread(target=write, name=f"csv {pipe.name}")
    writer.start()
    try:
        pg.execute(copy.format(pipe).encode())
    except BaseException:
        while writer.is_alive():  # a writer still waiting for a reader, or writing, is made to fail
            os.close(os.open(pipe, os.O_RDONLY | os.O_NONBLOCK))
            writer.join(0.1)
        raise
    finally:
        writer.join()
        pipe.unlink()
    if failed:
        raise RuntimeError(f"exporting {pipe.stem} from DuckDB failed: {failed[0]}") from failed[0]
