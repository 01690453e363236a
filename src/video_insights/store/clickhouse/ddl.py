"""The schema (store.schema) in ClickHouse terms: column types, table engines, sort keys and TTL.

- Summary tables keep versions of a row: ReplacingMergeTree(updated_ms) (or insertion order where a
  table has no updated_ms), read with FINAL (the store's `final` setting), which merges versions at
  read time, so a replaced row is current for the very next read, before any background merge.
- Raw tables (not `versioned` in store.schema) are plain MergeTree: their readers already collapse
  duplicates (samples GROUP BY series and time, events by id), and FINAL on the largest tables would
  cost a merge per read.
- Retention: each table with a retention policy gets a hidden `_written` column (MATERIALIZED: not
  in `SELECT *`, never inserted) and a TTL of the policy's days after it, go rooms' rows sooner where
  the table knows the room type. TTL runs from write time, not from the row's own time, because
  ClickHouse may apply TTL at any merge: an imported two-week-old dump must stay readable until the
  hourly purge (store.retention, which applies the exact policy on the row's own time) removes it.
  The TTL is the backstop that bounds storage when no server runs the purge.
- A cluster (`migrate --cluster NAME`) gets the same tables twice over, printed here from the same
  definitions: see `Cluster`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from video_insights.errors import BadRequest
from video_insights.settings import Settings
from video_insights.store.migrations import MIGRATIONS, AddColumn, CreateTable, Step
from video_insights.store.schema import Column, T, Table

TYPES = {T.STR: "String", T.INT: "Int64", T.FLOAT: "Float64", T.BOOL: "Bool", T.JSON: "String",
         T.TAGS: "String", T.BYTES: "String"}
WRITTEN = "_written"
VERSION = "updated_ms"
# Which migrations a store has applied (the store keeps it beside the schema's tables).
MIGRATIONS_TABLE = "schema_migrations"
MIGRATIONS_COLUMNS = "version Int64, name String, applied_ms Int64"


def column_type(c: Column) -> str:
    return f"Nullable({TYPES[c.type]})" if c.nullable else TYPES[c.type]


def column_ddl(c: Column) -> str:
    return f"{c.name} {column_type(c)}"


def moving_columns(table: Table) -> tuple[str, ...]:
    """Sort-key columns outside the row's key (a room's create_ms): a new version whose value differs
    lands beside the old one instead of replacing it, so the store deletes the old one (see store)."""
    return tuple(c for c in table.sort_key if c not in table.key) if table.versioned else ()


def ttl(table: Table, settings: Settings) -> str | None:
    if not table.retention:
        return None
    days, go_days = settings.days_kept(table.retention)
    rules = [f"{WRITTEN} + toIntervalDay({days})"]
    if "room_type" in table.column_names and go_days < days:
        rules.append(f"{WRITTEN} + toIntervalDay({go_days}) WHERE room_type = 'go'")
    return ", ".join(rules)


def engine(table: Table) -> str:
    if not table.versioned:
        return "MergeTree"
    return f"ReplacingMergeTree({VERSION})" if VERSION in table.column_names else "ReplacingMergeTree"


def _columns(table: Table) -> str:
    cols = [column_ddl(c) for c in table.columns]
    if table.retention:
        cols.append(f"{WRITTEN} DateTime MATERIALIZED now()")
    return ", ".join(cols)


def _storage(table: Table, settings: Settings) -> str:
    """What follows the engine: sort key, partitions, TTL, table settings."""
    by_name = {c.name: c for c in table.columns}
    key = table.sort_key
    parts = [f"ORDER BY ({', '.join(key)})"]
    table_settings = []
    if not table.versioned and table.retention:
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


def create_table(table: Table, settings: Settings) -> str:
    return (f"CREATE TABLE IF NOT EXISTS {table.name} ({_columns(table)}) ENGINE = {engine(table)} "
            f"{_storage(table, settings)}")


def step_ddl(step: Step, settings: Settings) -> list[str]:
    if isinstance(step, CreateTable):
        return [create_table(step.table, settings)]
    assert isinstance(step, AddColumn)
    return [f"ALTER TABLE {step.table} ADD COLUMN IF NOT EXISTS {column_ddl(step.column)}"]


def migrations_table() -> str:
    return (f"CREATE TABLE IF NOT EXISTS {MIGRATIONS_TABLE} ({MIGRATIONS_COLUMNS}) ENGINE = ReplacingMergeTree "
            "ORDER BY version")


def schema_ddl(settings: Settings) -> list[str]:
    """Every statement `migrate` runs on a new single-server (or chDB) store, in order."""
    return [migrations_table(), *(s for m in MIGRATIONS for step in m.steps for s in step_ddl(step, settings))]


# -- a cluster ------------------------------------------------------------------------------------

LOCAL = "_local"
SHARDING_KEY = "cityHash64(account_sid)"
KEEPER_ROOT = "/clickhouse/tables"
_NAME = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_-]*")
_PLAIN = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


def _ident(name: str) -> str:
    return name if _PLAIN.fullmatch(name) else f"`{name}`"


@dataclass(frozen=True)
class Cluster:
    """Where a cluster's tables go. Each table of the schema becomes two:

    - `<table>_local` on every host: Replicated…MergeTree with the single-server engine's arguments,
      its replicas sharing the Keeper path `/clickhouse/tables/{shard}/<database>/<table>_local`
      (`{shard}` and `{replica}` are each host's macros);
    - `<table>`: a Distributed table over them, sharded by account. Every row of an account (all
      versions of a summary, every sample of a series) lives on one shard, so FINAL and the readers'
      de-duplication, which work within a shard, see all of them; the service reads and inserts
      under the names it always uses.

    The migrations record (`schema_migrations`) is one replica set spanning every host (its Keeper
    path has no `{shard}`): whichever host a `serve` connects to knows the schema is current.
    """

    name: str
    database: str

    def __post_init__(self) -> None:
        for what, value in (("cluster", self.name), ("database", self.database)):
            if not _NAME.fullmatch(value):
                raise BadRequest(f"{what} name {value!r}: use letters, digits, '_' and '-'")

    @property
    def on(self) -> str:
        return f"ON CLUSTER {_ident(self.name)}"

    def table(self, name: str) -> str:
        return f"{_ident(self.database)}.{name}"


def replicated(engine_name: str, path: str) -> str:
    """`ReplacingMergeTree(updated_ms)` → `ReplicatedReplacingMergeTree('<path>', '{replica}', updated_ms)`."""
    name, _, args = engine_name.partition("(")
    rest = args.rstrip(")")
    return f"Replicated{name}('{path}', '{{replica}}'{', ' + rest if rest else ''})"


def cluster_create_table(table: Table, settings: Settings, cluster: Cluster) -> list[str]:
    local = table.name + LOCAL
    path = f"{KEEPER_ROOT}/{{shard}}/{cluster.database}/{local}"
    return [
        f"CREATE TABLE IF NOT EXISTS {cluster.table(local)} {cluster.on} ({_columns(table)}) "
        f"ENGINE = {replicated(engine(table), path)} {_storage(table, settings)}",
        f"CREATE TABLE IF NOT EXISTS {cluster.table(table.name)} {cluster.on} AS {cluster.table(local)} "
        f"ENGINE = Distributed('{cluster.name}', '{cluster.database}', '{local}', {SHARDING_KEY})",
    ]


def cluster_step_ddl(step: Step, settings: Settings, cluster: Cluster) -> list[str]:
    if isinstance(step, CreateTable):
        return cluster_create_table(step.table, settings, cluster)
    assert isinstance(step, AddColumn)
    # The local tables first: the Distributed table must not name a column its shards lack.
    return [f"ALTER TABLE {cluster.table(name)} {cluster.on} ADD COLUMN IF NOT EXISTS {column_ddl(step.column)}"
            for name in (step.table + LOCAL, step.table)]


def cluster_preamble(cluster: Cluster) -> list[str]:
    """The database on every host, and the migrations record."""
    path = f"{KEEPER_ROOT}/all/{cluster.database}/{MIGRATIONS_TABLE}"
    return [f"CREATE DATABASE IF NOT EXISTS {_ident(cluster.database)} {cluster.on}",
            f"CREATE TABLE IF NOT EXISTS {cluster.table(MIGRATIONS_TABLE)} {cluster.on} ({MIGRATIONS_COLUMNS}) "
            f"ENGINE = {replicated('ReplacingMergeTree', path)} ORDER BY version"]


def cluster_modify_ttl(table: Table, settings: Settings, cluster: Cluster) -> str | None:
    """The statement that brings a local table's TTL to the configured days (None: no retention)."""
    rule = ttl(table, settings)
    if rule is None:
        return None
    return (f"ALTER TABLE {cluster.table(table.name + LOCAL)} {cluster.on} MODIFY TTL {rule} "
            "SETTINGS materialize_ttl_after_modify = 0")


def cluster_schema_ddl(settings: Settings, cluster: Cluster) -> list[str]:
    """Every statement `migrate --cluster` runs on a new cluster, in order."""
    return [*cluster_preamble(cluster),
            *(s for m in MIGRATIONS for step in m.steps for s in cluster_step_ddl(step, settings, cluster))]


_DISTRIBUTED = re.compile(r"Distributed\('(?P<cluster>[^']+)', '[^']+', '(?P<local>[^']+)'")


def distributed_over(engine_full: str) -> tuple[str, str] | None:
    """A Distributed table's (cluster, local table), from its `system.tables.engine_full`; None for
    any other engine. The store deletes from the local tables: ClickHouse has no DELETE through a
    Distributed table."""
    m = _DISTRIBUTED.match(engine_full)
    return (m["cluster"], m["local"]) if m else None


def delete_from(table: str, over: tuple[str, str] | None) -> str:
    """The target of a DELETE of `table`'s rows: the table itself, or on a cluster its local tables
    on every host."""
    return table if over is None else f"{over[1]} ON CLUSTER {_ident(over[0])}"


def cluster_doc() -> str:
    """docs/deploy-clickhouse.md's DDL: what `migrate --cluster video_insights --print` prints for a
    store URL naming the database video_insights, with the default retention days."""
    statements = cluster_schema_ddl(Settings.from_env({}), Cluster("video_insights", "video_insights"))
    return "```sql\n" + "".join(f"{s};\n" for s in statements) + "```\n"
