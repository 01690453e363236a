"""PostgreSQL as a store (`postgresql://user:password@host:5432/database`), through psycopg 3.

The baseline the benchmarks compare against: what a team would otherwise run for this data (and what
the open-source peer Peermetrics uses). It is built the way an experienced PostgreSQL user would build
it, so the comparison is fair: B-tree indexes for every lookup the API makes, BRIN indexes on the time
columns of the append-only tables (rows arrive in time order), bulk writes with binary COPY, replaces as
DELETE by key then COPY in one transaction. Queries come from the one query layer, printed in sqlglot's
"postgres" dialect.

Two differences from DuckDB are settled here rather than in every query:
- text columns use the "C" collation, so ORDER BY and comparisons go by code point as on DuckDB and
  ClickHouse, whatever the cluster's locale;
- NUMERIC results (PostgreSQL's type for sum() of BIGINT, avg(), and arithmetic with 1000.0) are read
  as int when integral in form and as float otherwise, which is what DuckDB returns for them.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterable, Sequence
from typing import Any
from urllib.parse import unquote, urlparse

import numpy as np
import psycopg
from psycopg.adapt import Buffer, Loader
from sqlglot import exp

from video_insights.errors import BadRequest, StoreUnavailable
from video_insights.query.sql import Bound, render
from video_insights.store.base import Row, WriteBatch, dedupe_by_key
from video_insights.store.migrations import MIGRATIONS, CreateTable, Step
from video_insights.store.schema import TABLES_BY_NAME, Column, T, Table
from video_insights.store.timing import timed

DIALECT = "postgres"

_TYPES = {T.STR: 'TEXT COLLATE "C"', T.INT: "BIGINT", T.FLOAT: "DOUBLE PRECISION", T.BOOL: "BOOLEAN",
          T.JSON: "TEXT", T.TAGS: 'TEXT COLLATE "C"', T.BYTES: "BYTEA"}
# The types binary COPY is told, by logical type (binary COPY does not convert on the server).
_COPY_TYPES = {T.STR: "text", T.INT: "int8", T.FLOAT: "float8", T.BOOL: "bool", T.JSON: "text",
               T.TAGS: "text", T.BYTES: "bytea"}

# Indexes per table, for the reads the API and the pipeline make (see analytics/, query/samples.py,
# processing/pipeline.py): name suffix -> (method, columns). Every table also gets one on its key,
# which the DELETE of a replace looks rows up by.
INDEXES: dict[str, dict[str, tuple[str, str]]] = {
    "accounts": {"parent": ("btree", "parent_account_sid")},
    "api_keys": {"account": ("btree", "account_sid"), "livekit": ("btree", "livekit_api_key")},
    "events": {"room": ("btree", "room_key, ts_ms"), "ts": ("brin", "ts_ms")},
    # No index on the samples' key: samples are only ever appended, and the key's B-tree would be
    # the largest object in the database.
    "stream_samples": {"participant": ("btree", "participant_key, ts_ms"), "ts": ("brin", "ts_ms")},
    "tracks": {"participant": ("btree", "participant_key"), "first": ("btree", "first_ms")},
    "participants": {"room": ("btree", "room_key"), "participant": ("btree", "participant_key"),
                     "join": ("btree", "join_ms")},
    "rooms": {"created": ("btree", "account_sid, create_ms"), "room": ("btree", "room_key"),
              "status": ("btree", "room_status")},
    "recordings": {"room": ("btree", "account_sid, room_sid"), "start": ("btree", "start_ms")},
    "room_facts": {"created": ("btree", "account_sid, create_ms")},
    "participant_facts": {"joined": ("btree", "account_sid, join_ms")},
    "participant_metrics": {"participant": ("btree", "participant_key"), "join": ("btree", "join_ms")},
    "room_ledger": {"room": ("btree", "room_key"), "at": ("btree", "at_ms")},
    # The delivery worker's scan of the outbox for what is due.
    "alerts": {"due": ("btree", "state, next_ms"), "fired": ("btree", "fired_ms")},
}
_NO_KEY_INDEX = frozenset({"stream_samples"})


class _NumericLoader(Loader):
    """NUMERIC as DuckDB would type it: integral (no decimal point) -> int, else float."""

    def load(self, data: Buffer) -> int | float:
        text = bytes(data)
        if b"." in text or b"N" in text or b"e" in text or b"I" in text:  # NaN, Infinity, exponents
            return float(text)
        return int(text)


def column_ddl(c: Column) -> str:
    return f"{c.name} {_TYPES[c.type]}" + ("" if c.nullable else " NOT NULL")


def index_ddl(table: Table) -> list[str]:
    out = [] if table.name in _NO_KEY_INDEX else [
        f"CREATE INDEX IF NOT EXISTS {table.name}_key ON {table.name} ({', '.join(table.key)})"]
    for suffix, (method, cols) in INDEXES.get(table.name, {}).items():
        out.append(f"CREATE INDEX IF NOT EXISTS {table.name}_{suffix} ON {table.name} USING {method} ({cols})")
    return out


def step_ddl(step: Step) -> list[str]:
    if isinstance(step, CreateTable):
        cols = ", ".join(column_ddl(c) for c in step.table.columns)
        return [f"CREATE TABLE IF NOT EXISTS {step.table.name} ({cols})", *index_ddl(step.table)]
    return [f"ALTER TABLE {step.table} ADD COLUMN IF NOT EXISTS {column_ddl(step.column)}"]


def _plain(values: Any) -> list[Any]:
    """A bulk column as Python values (masked entries -> None)."""
    if isinstance(values, np.ndarray):
        return list(values.tolist())  # MaskedArray.tolist() gives None for masked entries
    return list(values)


class PostgresStore:
    dialect = DIALECT
    transactional = True
    shared = True

    def __init__(self, url: str) -> None:
        parsed = urlparse(url)
        if not parsed.hostname or not parsed.path.strip("/"):
            raise BadRequest(f"store URL {url!r}: give a host and a database, "
                             "e.g. postgresql://user:password@host:5432/video_insights")
        try:
            port = parsed.port or 5432
        except ValueError:
            raise BadRequest(f"store URL {url!r}: the port is not a number") from None
        self._conninfo = url
        # Shown by `health` and in logs: without the password.
        self.url = f"postgresql://{unquote(parsed.username or '')}@{parsed.hostname}:{port}{parsed.path}"
        self._local = threading.local()
        self._write_lock = threading.Lock()
        self._opened: list[psycopg.Connection[Any]] = []  # every reader's connection, closed by close()
        self._opened_lock = threading.Lock()
        self._writer = self._connect(autocommit=False)

    def _connect(self, *, autocommit: bool) -> psycopg.Connection[Any]:
        try:
            conn = psycopg.connect(self._conninfo, autocommit=autocommit)
        except psycopg.Error as e:
            raise StoreUnavailable(f"cannot connect to the store {self.url}: {e}") from None
        conn.adapters.register_loader("numeric", _NumericLoader)
        return conn

    # -- reading ---------------------------------------------------------------------------------
    def _reader(self) -> psycopg.Connection[Any]:
        """One autocommit connection per reading thread (a psycopg connection runs one query at a time)."""
        conn: psycopg.Connection[Any] | None = getattr(self._local, "conn", None)
        if conn is None or conn.closed:
            conn = self._connect(autocommit=True)
            self._local.conn = conn
            with self._opened_lock:
                self._opened.append(conn)
        return conn

    @timed
    def fetch(self, query: exp.Expr | str | Bound) -> tuple[list[str], list[Row]]:
        sql = render(query, DIALECT)
        with self._reader().cursor() as cur:
            cur.execute(sql.encode())  # bytes: values are already printed into the SQL, no % placeholders
            cols = [d.name for d in cur.description or []]
            return cols, [tuple(r) for r in cur.fetchall()]

    def table_rows(self, table: str) -> int:
        _, rows = self.fetch(f"SELECT count(*) FROM {TABLES_BY_NAME[table].name}")
        return int(rows[0][0])

    def describe(self) -> dict[str, list[tuple[str, str]]]:
        out: dict[str, list[tuple[str, str]]] = {}
        for name in TABLES_BY_NAME:
            _, rows = self.fetch(f"SELECT column_name, data_type FROM information_schema.columns "
                                 f"WHERE table_schema = current_schema() AND table_name = '{name}' "
                                 "ORDER BY ordinal_position")
            out[name] = [(str(n), str(t)) for n, t in rows]
        return out

    # -- schema ----------------------------------------------------------------------------------
    def migrate(self) -> list[str]:
        with self._write_lock, self._writer.transaction():
            cur = self._writer.cursor()
            # Two processes starting at once must not both apply a migration.
            cur.execute("SELECT pg_advisory_xact_lock(7474001)")
            cur.execute("CREATE TABLE IF NOT EXISTS schema_migrations "
                        "(version BIGINT NOT NULL, name TEXT, applied_ms BIGINT)")
            cur.execute("SELECT version FROM schema_migrations")
            done = {r[0] for r in cur.fetchall()}
            applied = []
            for m in MIGRATIONS:
                if m.version in done:
                    continue
                for step in m.steps:
                    for ddl in step_ddl(step):
                        cur.execute(ddl.encode())
                cur.execute("INSERT INTO schema_migrations VALUES (%s, %s, %s)",
                            (m.version, m.name, int(time.time() * 1000)))
                applied.append(f"{m.version}: {m.name}")
            return applied

    # -- writing ---------------------------------------------------------------------------------
    def write(self, batch: WriteBatch) -> None:
        if not batch:
            return
        try:
            with self._write_lock, self._writer.transaction():
                self._write(self._writer.cursor(), batch)
        except psycopg.errors.NotNullViolation as e:  # said as the other engines say it
            raise ValueError(f"NOT NULL constraint failed: {e.diag.table_name}.{e.diag.column_name}") from None

    def _write(self, cur: psycopg.Cursor[Any], batch: WriteBatch) -> None:
        for table_name, where in batch.deletes:
            cur.execute(f"DELETE FROM {TABLES_BY_NAME[table_name].name} WHERE {render(where, DIALECT)}".encode())
        for table_name, replaced in batch.replaces.items():
            table = TABLES_BY_NAME[table_name]
            rows = dedupe_by_key(table, replaced)
            self._delete_keys(cur, table, rows)
            self._copy(cur, table, table.column_names, rows)
        for table_name, rows in batch.inserts.items():
            table = TABLES_BY_NAME[table_name]
            self._copy(cur, table, table.column_names, rows)
        for table_name, columns in batch.columns:
            table = TABLES_BY_NAME[table_name]
            names = tuple(columns)
            arrays = [_plain(columns[n]) for n in names]
            self._copy(cur, table, names, zip(*arrays, strict=True))

    @staticmethod
    def _copy(cur: psycopg.Cursor[Any], table: Table, names: Sequence[str], rows: Iterable[Row]) -> None:
        types = {c.name: c.type for c in table.columns}
        with cur.copy(f"COPY {table.name} ({', '.join(names)}) FROM STDIN (FORMAT BINARY)".encode()) as copy:
            copy.set_types([_COPY_TYPES[types[n]] for n in names])
            for row in rows:
                copy.write_row(row)

    @staticmethod
    def _delete_keys(cur: psycopg.Cursor[Any], table: Table, rows: list[Row]) -> None:
        """DELETE … USING the keys passed as one array per key column (one statement for any count)."""
        if not rows:
            return
        types = {c.name: c.type for c in table.columns}
        idx = [table.column_names.index(k) for k in table.key]
        arrays = [[r[i] for r in rows] for i in idx]
        cast = {T.INT: "bigint[]", T.STR: "text[]"}
        unnest = ", ".join(f"%s::{cast[types[k]]}" for k in table.key)
        match = " AND ".join(f"{table.name}.{k} = keys.{k}" for k in table.key)
        cur.execute(f"DELETE FROM {table.name} USING unnest({unnest}) AS keys ({', '.join(table.key)}) "
                    f"WHERE {match}", arrays)

    def close(self) -> None:
        with self._write_lock, self._opened_lock:
            for conn in [self._writer, *self._opened]:
                conn.close()
            self._opened.clear()
