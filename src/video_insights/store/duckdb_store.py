"""The embedded default store: one DuckDB file, one writing connection, a cursor per reading thread."""

from __future__ import annotations

import threading
import time
from pathlib import Path
from typing import Any

import duckdb
import numpy as np
from sqlglot import exp

from video_insights.errors import StoreUnavailable
from video_insights.query.sql import Bound, render
from video_insights.store.base import Row, WriteBatch, dedupe_by_key
from video_insights.store.columns import columns_of, typed_array
from video_insights.store.migrations import MIGRATIONS, CreateTable, Step
from video_insights.store.schema import TABLES_BY_NAME, Column, T, Table
from video_insights.store.timing import timed

_TYPES = {T.STR: "VARCHAR", T.INT: "BIGINT", T.FLOAT: "DOUBLE", T.BOOL: "BOOLEAN", T.JSON: "VARCHAR",
          T.TAGS: "VARCHAR", T.BYTES: "BLOB"}


class StoreLocked(StoreUnavailable):
    """Another process holds the DuckDB file (usually a running `serve`)."""


def column_ddl(c: Column) -> str:
    return f"{c.name} {_TYPES[c.type]}" + ("" if c.nullable else " NOT NULL")


def step_ddl(step: Step) -> list[str]:
    if isinstance(step, CreateTable):
        cols = ", ".join(column_ddl(c) for c in step.table.columns)
        return [f"CREATE TABLE IF NOT EXISTS {step.table.name} ({cols})"]
    return [f"ALTER TABLE {step.table} ADD COLUMN IF NOT EXISTS {column_ddl(step.column)}"]


class DuckDBStore:
    dialect = "duckdb"
    transactional = True
    shared = False  # one process opens the file

    def __init__(self, path: str | Path, *, read_only: bool = False, memory_limit: str | None = None,
                 checkpoint_threshold: str | None = None) -> None:
        self.path = Path(path)
        self.url = f"duckdb:///{self.path}"
        self.path.parent.mkdir(parents=True, exist_ok=True)
        try:
            config: dict[str, str | bool | int | float | list[str]] = {}
            if memory_limit:
                config["memory_limit"] = memory_limit
            if checkpoint_threshold and not read_only:
                config["checkpoint_threshold"] = checkpoint_threshold
            self._con = duckdb.connect(str(self.path), read_only=read_only, config=config)
        except duckdb.IOException as e:
            if "lock" in str(e).lower():
                raise StoreLocked(f"the store {self.path} is in use by another process ({e})") from None
            raise StoreUnavailable(f"cannot open the store {self.path}: {e}") from None
        self._write_lock = threading.Lock()
        self._local = threading.local()

    # -- reading ---------------------------------------------------------------------------------
    def _cursor(self) -> duckdb.DuckDBPyConnection:
        cur = getattr(self._local, "cursor", None)
        if cur is None:
            cur = self._con.cursor()
            self._local.cursor = cur
        return cur

    @timed
    def fetch(self, query: exp.Expr | str | Bound) -> tuple[list[str], list[Row]]:
        sql = render(query, self.dialect)
        cur = self._cursor()
        cur.execute(sql)
        cols = [d[0] for d in cur.description or []]
        return cols, cur.fetchall()

    def table_rows(self, table: str) -> int:
        _, rows = self.fetch(f"SELECT count(*) FROM {TABLES_BY_NAME[table].name}")
        return int(rows[0][0])

    # -- schema ----------------------------------------------------------------------------------
    def migrate(self) -> list[str]:
        with self._write_lock:
            con = self._con
            con.execute("CREATE TABLE IF NOT EXISTS schema_migrations "
                        "(version BIGINT NOT NULL, name VARCHAR, applied_ms BIGINT)")
            done = {r[0] for r in con.execute("SELECT version FROM schema_migrations").fetchall()}
            applied = []
            for m in MIGRATIONS:
                if m.version in done:
                    continue
                con.execute("BEGIN")
                for step in m.steps:
                    for ddl in step_ddl(step):
                        con.execute(ddl)
                con.execute("INSERT INTO schema_migrations VALUES (?, ?, ?)",
                            [m.version, m.name, int(time.time() * 1000)])
                con.execute("COMMIT")
                applied.append(f"{m.version}: {m.name}")
            return applied

    def describe(self) -> dict[str, list[tuple[str, str]]]:
        out: dict[str, list[tuple[str, str]]] = {}
        for name in TABLES_BY_NAME:
            rows = self._con.execute(f"DESCRIBE {name}").fetchall()
            out[name] = [(r[0], r[1]) for r in rows]
        return out

    # -- writing ---------------------------------------------------------------------------------
    def write(self, batch: WriteBatch) -> None:
        if not batch:
            return
        with self._write_lock:
            con = self._con
            con.execute("BEGIN")
            try:
                for table_name, where in batch.deletes:
                    con.execute(f"DELETE FROM {table_name} WHERE {render(where, self.dialect)}")
                for table_name, replaced in batch.replaces.items():
                    table = TABLES_BY_NAME[table_name]
                    rows = dedupe_by_key(table, replaced)
                    self._delete_keys(con, table, rows)
                    self._insert(con, table, rows)
                for table_name, rows in batch.inserts.items():
                    self._insert(con, TABLES_BY_NAME[table_name], rows)
                for table_name, columns in batch.columns:
                    self._insert_columns(con, TABLES_BY_NAME[table_name], columns)
                con.execute("COMMIT")
            except BaseException:
                con.execute("ROLLBACK")
                raise

    def _insert(self, con: duckdb.DuckDBPyConnection, table: Table, rows: list[Row]) -> None:
        if not rows:
            return
        batch_rows = columns_of(table, rows, table.column_names, skip_null=True)
        cols = ", ".join(batch_rows)
        con.execute(f"INSERT INTO {table.name} ({cols}) SELECT {cols} FROM batch_rows")

    @staticmethod
    def _insert_columns(con: duckdb.DuckDBPyConnection, table: Table, columns: dict[str, Any]) -> None:
        types = {c.name: c.type for c in table.columns}
        bulk_rows = {n: v if isinstance(v, np.ndarray) else typed_array(list(v), types[n])  # noqa: F841
                     for n, v in columns.items()}
        names = ", ".join(columns)
        con.execute(f"INSERT INTO {table.name} ({names}) SELECT {names} FROM bulk_rows")

    def _delete_keys(self, con: duckdb.DuckDBPyConnection, table: Table, rows: list[Row]) -> None:
        if not rows:
            return
        batch_keys = columns_of(table, rows, table.key)  # noqa: F841  (scanned by name below)
        match = " AND ".join(f"{table.name}.{k} = batch_keys.{k}" for k in table.key)
        con.execute(f"DELETE FROM {table.name} USING batch_keys WHERE {match}")

    def close(self) -> None:
        self._con.close()
