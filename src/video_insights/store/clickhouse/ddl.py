"""The schema (store.schema) in ClickHouse terms: column types, table engines, sort keys and TTL.

- Summary tables keep versions of a row: ReplacingMergeTree(updated_ms) (or insertion order where a
  table has no updated_ms), read with FINAL (the store's `final` setting), which merges versions at
  read time, so a replaced row is current for the very next read, before any background merge.
- Raw tables (APPEND_ONLY) are plain MergeTree: their readers already collapse duplicates (samples
  GROUP BY series and time, events by id), and FINAL on the largest tables would cost a merge per read.
- Retention: each table with a retention policy gets a hidden `_written` column (MATERIALIZED: not
  in `SELECT *`, never inserted) and a TTL of the policy's days after it, go rooms' rows sooner where
  the table knows the room type. TTL runs from write time, not from the row's own time, because
  ClickHouse may apply TTL at any merge: an imported two-week-old dump must stay readable until the
  hourly purge (store.retention, which applies the exact policy on the row's own time) removes it.
  The TTL is the backstop that bounds storage when no server runs the purge.
"""

from __future__ import annotations

from video_insights.settings import Settings
from video_insights.store.migrations import AddColumn, CreateTable, Step
from video_insights.store.retention import days_kept
from video_insights.store.schema import Column, T, Table

TYPES = {T.STR: "String", T.INT: "Int64", T.FLOAT: "Float64", T.BOOL: "Bool", T.JSON: "String",
         T.TAGS: "String", T.BYTES: "String"}
APPEND_ONLY = frozenset({"events", "stream_samples"})
WRITTEN = "_written"
VERSION = "updated_ms"


def column_type(c: Column) -> str:
    return f"Nullable({TYPES[c.type]})" if c.nullable else TYPES[c.type]


def column_ddl(c: Column) -> str:
    return f"{c.name} {column_type(c)}"


def versioned(table: Table) -> bool:
    return table.name not in APPEND_ONLY


def sort_key(table: Table) -> tuple[str, ...]:
    """The table's read order, then the rest of its key: ReplacingMergeTree collapses rows that share
    the whole sorting key, so the key must be inside it."""
    if not versioned(table):
        return table.order_by
    return table.order_by + tuple(k for k in table.key if k not in table.order_by)


def moving_columns(table: Table) -> tuple[str, ...]:
    """Sort-key columns outside the row's key (a room's create_ms): a new version whose value differs
    lands beside the old one instead of replacing it, so the store deletes the old one (see store)."""
    return tuple(c for c in sort_key(table) if c not in table.key) if versioned(table) else ()


def ttl(table: Table, settings: Settings) -> str | None:
    if not table.retention:
        return None
    days, go_days = days_kept(table, settings)
    rules = [f"{WRITTEN} + toIntervalDay({days})"]
    if "room_type" in table.column_names and go_days < days:
        rules.append(f"{WRITTEN} + toIntervalDay({go_days}) WHERE room_type = 'go'")
    return ", ".join(rules)


def create_table(table: Table, settings: Settings) -> str:
    by_name = {c.name: c for c in table.columns}
    cols = [column_ddl(c) for c in table.columns]
    if table.retention:
        cols.append(f"{WRITTEN} DateTime MATERIALIZED now()")
    if not versioned(table):
        engine = "MergeTree"
    elif VERSION in by_name:
        engine = f"ReplacingMergeTree({VERSION})"
    else:
        engine = "ReplacingMergeTree"
    key = sort_key(table)
    parts = [f"CREATE TABLE IF NOT EXISTS {table.name} ({', '.join(cols)}) ENGINE = {engine}",
             f"ORDER BY ({', '.join(key)})"]
    table_settings = []
    if not versioned(table) and table.retention:
        # Raw rows expire by day of writing: whole parts drop, no row-by-row rewriting.
        parts.append(f"PARTITION BY toYYYYMMDD({WRITTEN})")
        table_settings.append("ttl_only_drop_parts = 1")
    rule = ttl(table, settings)
    if rule:
        parts.append(f"TTL {rule}")
    if any(by_name[c].nullable for c in key):
        table_settings.append("allow_nullable_key = 1")
    if table_settings:
        parts.append("SETTINGS " + ", ".join(table_settings))
    return " ".join(parts)


def step_ddl(step: Step, settings: Settings) -> list[str]:
    if isinstance(step, CreateTable):
        return [create_table(step.table, settings)]
    assert isinstance(step, AddColumn)
    return [f"ALTER TABLE {step.table} ADD COLUMN IF NOT EXISTS {column_ddl(step.column)}"]
