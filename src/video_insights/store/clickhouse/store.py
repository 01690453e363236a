"""The ClickHouse store: one implementation over chDB (in-process) and a ClickHouse server.

Writing differs from DuckDB in two ways, both by ClickHouse's design:
- A replace is an insert of the new version (ReplacingMergeTree, read with FINAL; see ddl). Where a
  new version moves in the sort order (a room's create_ms moved earlier by a late event), the old
  version is deleted, because FINAL only merges rows with the same sorting key.
- There is no transaction across tables. A batch is checked and converted whole before its first
  statement runs, so a bad batch writes nothing; after that each table's insert is atomic by itself.
  The pipeline needs no more: its writes are idempotent (samples and events are keyed and read back
  deduplicated, summaries are recomputed from them), so a batch that failed half-way is repaired by
  writing it again.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Sequence
from typing import Any

import pyarrow as pa
from sqlglot import exp

from video_insights.query.sql import Bound, render, value
from video_insights.settings import Settings
from video_insights.store.base import Row, WriteBatch, dedupe_by_key
from video_insights.store.clickhouse import ddl
from video_insights.store.clickhouse.arrow import from_columns, from_rows, to_rows
from video_insights.store.clickhouse.engines import Engine
from video_insights.store.migrations import MIGRATIONS, Step
from video_insights.store.schema import PREWHERE, TABLES, TABLES_BY_NAME, Table
from video_insights.store.timing import timed

DIALECT = "clickhouse"


class ClickHouseStore:
    dialect = DIALECT
    transactional = False  # see the module's note

    def __init__(self, engine: Engine, url: str, settings: Settings | None = None) -> None:
        self.engine = engine
        self.url = url
        self.shared = engine.shared
        self.settings = settings or Settings.from_env({})
        self._write_lock = threading.Lock()
        self._clustered: dict[str, tuple[str, str]] = {}  # table -> (cluster, local table), see _sync_ttl

    # -- reading ---------------------------------------------------------------------------------
    @timed
    def fetch(self, query: exp.Expr | str | Bound) -> tuple[list[str], list[Row]]:
        return to_rows(self.engine.query_arrow(render(query, DIALECT, PREWHERE)))

    def table_rows(self, table: str) -> int:
        _, rows = self.fetch(f"SELECT count(*) FROM {TABLES_BY_NAME[table].name}")
        return int(rows[0][0])

    def describe(self) -> dict[str, list[tuple[str, str]]]:
        """Each table's columns as the engine has them (the hidden _written column left out)."""
        out: dict[str, list[tuple[str, str]]] = {}
        for name in TABLES_BY_NAME:
            _, rows = self.fetch(exp.select("name", "type").from_("system.columns").where(
                exp.and_(exp.column("database").eq(exp.func("currentDatabase")),
                         exp.column("table").eq(value(name)), exp.column("name").neq(value(ddl.WRITTEN))))
                .order_by("position"))
            out[name] = [(str(n), str(t)) for n, t in rows]
        return out

    # -- schema ----------------------------------------------------------------------------------
    def migrate(self) -> list[str]:
        """Apply what is missing; every statement is idempotent (IF NOT EXISTS), so a migration cut
        short by a crash is completed by the next run."""
        with self._write_lock:
            self.engine.command(ddl.migrations_table())
            applied = self.apply_migrations("schema_migrations", lambda step: ddl.step_ddl(step, self.settings))
            self._sync_ttl()
            return applied

    def apply_migrations(self, migrations_table: str, statements: Callable[[Step], list[str]]) -> list[str]:
        """Run the migrations `migrations_table` does not list yet, each step as `statements` prints it
        (for one server, or for a cluster), and record each one."""
        _, rows = self.fetch(f"SELECT version FROM {migrations_table}")
        done = {int(r[0]) for r in rows}
        applied = []
        for m in MIGRATIONS:
            if m.version in done:
                continue
            for step in m.steps:
                for statement in statements(step):
                    self.engine.command(statement)
            self.engine.insert_arrow(migrations_table, pa.table({
                "version": pa.array([m.version], pa.int64()), "name": [m.name],
                "applied_ms": pa.array([int(time.time() * 1000)], pa.int64())}))
            applied.append(f"{m.version}: {m.name}")
        return applied

    def _sync_ttl(self) -> None:
        """Bring each table's TTL to the configured retention days (they may have changed since the
        table was made). Only the rule changes: parts already written keep theirs until their next
        merge, which avoids rewriting every part at a server's start."""
        _, rows = self.fetch("SELECT name, engine_full FROM system.tables WHERE database = currentDatabase()")
        engines = {str(n): str(e) for n, e in rows}
        for table in TABLES:
            over = ddl.distributed_over(engines.get(table.name, ""))
            if over is not None:  # a cluster's table: its local tables carry the TTL (migrate --cluster)
                self._clustered[table.name] = over
                continue
            rule = ddl.ttl(table, self.settings)
            if rule and table.name in engines and f"TTL {rule}" not in engines[table.name]:
                self.engine.command(f"ALTER TABLE {table.name} MODIFY TTL {rule} "
                                    "SETTINGS materialize_ttl_after_modify = 0")

    # -- writing ---------------------------------------------------------------------------------
    def write(self, batch: WriteBatch) -> None:
        if not batch:
            return
        # Everything is checked and converted before the first statement (see the module's note).
        deletes = [f"DELETE FROM {self._delete_from(t)} WHERE {render(where, DIALECT, PREWHERE)}"
                   for t, where in batch.deletes]
        replaces = []
        for name, rows in batch.replaces.items():
            table = TABLES_BY_NAME[name]
            latest = dedupe_by_key(table, rows)
            replaces.append((table, latest, from_rows(table, latest)))
        inserts = [(TABLES_BY_NAME[t], from_rows(TABLES_BY_NAME[t], rows)) for t, rows in batch.inserts.items()
                   if rows]
        bulk = [(TABLES_BY_NAME[t], from_columns(TABLES_BY_NAME[t], cols)) for t, cols in batch.columns]
        with self._write_lock:
            for statement in deletes:
                self.engine.command(statement)
            for table, latest, data in replaces:
                self._replace(table, latest, data)
            for table, data in inserts + bulk:
                if data.num_rows:
                    self.engine.insert_arrow(table.name, data)

    def _replace(self, table: Table, rows: list[Row], data: pa.Table) -> None:
        if not rows:
            return
        if not table.versioned:  # append-only tables have no versions: out with the old rows first
            where = render(_key_match(table, rows), DIALECT, PREWHERE)
            self.engine.command(f"DELETE FROM {self._delete_from(table.name)} WHERE {where}")
            self.engine.insert_arrow(table.name, data)
            return
        self.engine.insert_arrow(table.name, data)
        moving = ddl.moving_columns(table)
        if moving:
            self._delete_moved(table, rows, moving)

    def _delete_moved(self, table: Table, rows: list[Row], moving: tuple[str, ...]) -> None:
        """Delete the older versions of these rows that sit elsewhere in the sort order.

        Only versions no newer than the one just written go: if another process wrote a newer one
        meanwhile, it stays (it is the truth), and ours is removed by the next replace of that row."""
        names = table.column_names
        key_idx = [names.index(k) for k in table.key]
        moving_idx = [names.index(c) for c in moving]
        has_version = ddl.VERSION in names
        version_idx = names.index(ddl.VERSION) if has_version else -1
        written = {tuple(r[i] for i in key_idx): r for r in rows}
        select = [*table.key, *moving, *((ddl.VERSION,) if has_version else ())]
        _, stored = self.fetch(exp.select(*select).from_(table.name).where(_key_match(table, rows)))
        stale: list[exp.Expr] = []
        for found in stored:
            key = tuple(found[:len(key_idx)])
            new = written.get(key)
            if new is None:
                continue
            old_sort = found[len(key_idx):len(key_idx) + len(moving)]
            if tuple(old_sort) == tuple(new[i] for i in moving_idx):
                continue
            if has_version and found[-1] > new[version_idx]:
                continue
            stale.append(exp.and_(*(_equals(c, v) for c, v in zip((*table.key, *moving), (*key, *old_sort),
                                                                     strict=True))))
        if stale:
            where = render(exp.or_(*stale), DIALECT, PREWHERE)
            self.engine.command(f"DELETE FROM {self._delete_from(table.name)} WHERE {where}")

    def _delete_from(self, table: str) -> str:
        return ddl.delete_from(TABLES_BY_NAME[table].name, self._clustered.get(table))

    def close(self) -> None:
        self.engine.close()


def _equals(column: str, v: Any) -> exp.Expr:
    col = exp.column(column)
    return col.is_(exp.null()) if v is None else col.eq(value(v))


def _key_match(table: Table, rows: Sequence[Row]) -> exp.Expr:
    """`(k1, k2) IN ((…), …)` for the rows' keys (key columns are never NULL)."""
    idx = [table.column_names.index(k) for k in table.key]
    keys = sorted({tuple(r[i] for i in idx) for r in rows})
    if len(idx) == 1:
        return exp.column(table.key[0]).isin(*(value(k[0]) for k in keys))
    return exp.Tuple(expressions=[exp.column(k) for k in table.key]).isin(
        *(exp.Tuple(expressions=[value(v) for v in k]) for k in keys))
