"""The schema printed for a ClickHouse cluster (`migrate --cluster NAME`), and proof that it runs.

No ClickHouse server or Keeper can be installed on this machine, so two parts cannot run here: `ON
CLUSTER` (distributed DDL goes through Keeper) and Replicated engines (replicas meet in Keeper). The
rest runs on chDB configured as a one-shard cluster (`remote_servers` and macros in a config file):
the Distributed tables, their sharding key, the local tables' engines, sort keys and TTL, and the
service's own reads and writes through the Distributed tables. Every statement, unstripped, is parsed
by ClickHouse's parser (EXPLAIN AST).
"""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pyarrow as pa
import pytest

from video_insights import accounts
from video_insights.analytics.rooms import Scope, find_room, list_participants
from video_insights.errors import BadRequest
from video_insights.ingest import dump_import
from video_insights.processing.pipeline import Pipeline
from video_insights.settings import Settings
from video_insights.store import open_store
from video_insights.store.clickhouse import ddl
from video_insights.store.clickhouse.cluster import cluster_for, migrate_cluster
from video_insights.store.clickhouse.engines import ChdbEngine, Engine
from video_insights.store.clickhouse.store import ClickHouseStore
from video_insights.store.migrations import MIGRATIONS
from video_insights.store.schema import TABLES

EXE = shutil.which("video-insights") or str(Path(sys.executable).parent / "video-insights")
CHROME = Path(__file__).parent.parent / "data" / "webrtc-internals" / "chromium156"
CLUSTER = ddl.Cluster("vi", "video_insights")
SETTINGS = Settings.from_env({})


def _by_table(statements: list[str]) -> dict[str, str]:
    out = {}
    for s in statements:
        m = re.match(r"CREATE TABLE IF NOT EXISTS video_insights\.(\w+) ON CLUSTER vi ", s)
        if m:
            out[m[1]] = s
    return out


def test_every_table_is_a_replicated_local_table_behind_a_distributed_one() -> None:
    statements = ddl.cluster_schema_ddl(SETTINGS, CLUSTER)
    assert statements[0] == "CREATE DATABASE IF NOT EXISTS video_insights ON CLUSTER vi"
    assert all(" ON CLUSTER vi " in s or s.endswith(" ON CLUSTER vi") for s in statements)
    created = _by_table(statements)
    assert set(created) == {"schema_migrations"} | {t.name for t in TABLES} | {t.name + "_local" for t in TABLES}
    for table in TABLES:
        local, dist = created[table.name + "_local"], created[table.name]
        path = f"'/clickhouse/tables/{{shard}}/video_insights/{table.name}_local', '{{replica}}'"
        single = ddl.engine(table)
        if single == "MergeTree":
            assert f"ENGINE = ReplicatedMergeTree({path}) " in local
        elif single == "ReplacingMergeTree":
            assert f"ENGINE = ReplicatedReplacingMergeTree({path}) " in local
        else:
            assert f"ENGINE = ReplicatedReplacingMergeTree({path}, updated_ms) " in local
        assert f" ORDER BY ({', '.join(table.sort_key)})" in local
        rule = ddl.ttl(table, SETTINGS)
        assert (f" TTL {rule}" in local) if rule else " TTL " not in local
        assert dist == (f"CREATE TABLE IF NOT EXISTS video_insights.{table.name} ON CLUSTER vi AS "
                        f"video_insights.{table.name}_local ENGINE = Distributed('vi', 'video_insights', "
                        f"'{table.name}_local', cityHash64(account_sid))")
        assert "account_sid" in table.column_names  # the sharding key is in every table
    # The migrations record spans every host: one replica set, no {shard} in its path.
    assert "ReplicatedReplacingMergeTree('/clickhouse/tables/all/video_insights/schema_migrations', '{replica}')" \
        in created["schema_migrations"]
    # Engines picked up as the schema says (events and samples append-only, accounts unversioned).
    assert "ReplicatedMergeTree(" in created["stream_samples_local"]
    assert "TTL _written + toIntervalDay(7), _written + toIntervalDay(2) WHERE room_type = 'go'" \
        in created["rooms_local"]
    assert "toIntervalDay(14)" in created["room_facts_local"]


def _placed_here(statement: str) -> str:
    """A local table's statement as a single server runs it: no ON CLUSTER, no Keeper arguments."""
    statement = statement.replace(" ON CLUSTER vi", "")
    return re.sub(r"Replicated(\w*MergeTree)\('[^']*', '\{replica\}'(?:, )?", r"\1(", statement)


def test_the_local_tables_are_the_single_server_tables() -> None:
    """One schema module: a cluster's local table differs from the single-server table only in its
    name, placement and replication."""
    for table in TABLES:
        (local, _) = ddl.cluster_create_table(table, SETTINGS, CLUSTER)
        placed = _placed_here(local).replace(f"video_insights.{table.name}_local", table.name)
        assert placed.replace("MergeTree()", "MergeTree") == ddl.create_table(table, SETTINGS)


def test_the_single_server_ddl_is_unchanged() -> None:
    by_name = {t.name: t for t in TABLES}
    assert ddl.create_table(by_name["accounts"], SETTINGS) == (
        "CREATE TABLE IF NOT EXISTS accounts (account_sid String, parent_account_sid Nullable(String), "
        "friendly_name Nullable(String), auth_token String, created_ms Int64, settings Nullable(String)) "
        "ENGINE = ReplacingMergeTree ORDER BY (account_sid)")
    assert ddl.create_table(by_name["room_facts"], SETTINGS) == (
        "CREATE TABLE IF NOT EXISTS room_facts (account_sid String, room_sid String, create_ms Int64, "
        "room_type Nullable(String), has_issues Nullable(Bool), recording_sec Nullable(Int64), updated_ms Int64, "
        "_written DateTime MATERIALIZED now()) ENGINE = ReplacingMergeTree(updated_ms) "
        "ORDER BY (account_sid, create_ms, room_sid) "
        "TTL _written + toIntervalDay(14), _written + toIntervalDay(2) WHERE room_type = 'go'")
    samples = ddl.create_table(by_name["stream_samples"], SETTINGS)
    assert samples.endswith(") ENGINE = MergeTree ORDER BY (account_sid, participant_sid, ts_ms) "
                            "PARTITION BY toYYYYMMDD(_written) TTL _written + toIntervalDay(7) "
                            "SETTINGS ttl_only_drop_parts = 1")
    assert ddl.schema_ddl(SETTINGS)[0] == ddl.migrations_table()


def test_names_that_would_need_quoting_are_refused() -> None:
    for bad in ("v i", "vi;DROP", "", "vi'"):
        with pytest.raises(BadRequest):
            ddl.Cluster(bad, "video_insights")
    with pytest.raises(BadRequest):
        ddl.Cluster("vi", "db`")
    assert cluster_for("clickhouse://u:p@h:8123/analytics", "c-1").table("rooms") == "analytics.rooms"
    assert ddl.Cluster("c-1", "x").on == "ON CLUSTER `c-1`"
    with pytest.raises(BadRequest):
        cluster_for("chdb:///tmp/x", "vi")


# -- run on chDB as a one-shard cluster ----------------------------------------------------------------

CONFIG = """<clickhouse>
  <tcp_port>9000</tcp_port>
  <remote_servers><vi><shard><internal_replication>true</internal_replication>
    <replica><host>localhost</host><port>9000</port></replica>
  </shard></vi></remote_servers>
  <macros><shard>01</shard><replica>r1</replica></macros>
</clickhouse>
"""
# localhost at the configured tcp_port is this host: with prefer_localhost_replica (the default) the
# Distributed tables read and write the local tables in process; nothing listens on the port.


class WithoutKeeper:
    """The real chDB engine, given the cluster's statements with only what needs Keeper taken out."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.shared = engine.shared
        self.commands: list[str] = []

    def query_arrow(self, sql: str) -> pa.Table:
        return self.engine.query_arrow(sql)

    def command(self, sql: str) -> None:
        self.commands.append(sql)
        self.engine.command(_placed_here(sql))

    def insert_arrow(self, table: str, data: pa.Table) -> None:
        self.engine.insert_arrow(table, data)

    def close(self) -> None:
        self.engine.close()


@pytest.fixture
def one_shard(tmp_path: Path) -> Iterator[tuple[ClickHouseStore, WithoutKeeper]]:
    import chdb

    config = tmp_path / "cluster.xml"
    config.write_text(CONFIG)
    # chDB keeps the first connection's configuration for the directory's engine in this process.
    first = chdb.connect(f"{tmp_path}/ch?config-file={config}")
    engine = WithoutKeeper(ChdbEngine(f"{tmp_path}/ch"))
    store = ClickHouseStore(engine, f"chdb://{tmp_path}/ch", SETTINGS)
    try:
        yield store, engine
    finally:
        store.close()
        first.close()


def _engine_full(store: ClickHouseStore, name: str) -> str:
    _, rows = store.fetch(f"SELECT engine_full FROM system.tables WHERE database = 'default' AND name = '{name}'")
    return str(rows[0][0])


def test_every_statement_parses_as_clickhouse(one_shard: tuple[ClickHouseStore, WithoutKeeper]) -> None:
    store, _ = one_shard
    statements = ddl.cluster_schema_ddl(SETTINGS, CLUSTER)
    statements += [ddl.cluster_modify_ttl(t, SETTINGS, CLUSTER) or "" for t in TABLES if t.retention]
    statements += [f"DELETE FROM {ddl.delete_from('rooms', ('vi', 'rooms_local'))} WHERE room_sid = 'x'"]
    for s in statements:
        _, rows = store.fetch(f"EXPLAIN AST {s}")
        assert rows, s


def test_the_service_runs_unchanged_on_the_distributed_tables(
        one_shard: tuple[ClickHouseStore, WithoutKeeper], tmp_path: Path) -> None:
    store, engine = one_shard
    cluster = ddl.Cluster("vi", "default")  # the database the store's connection uses
    assert migrate_cluster(store, cluster) == [f"{m.version}: {m.name}" for m in MIGRATIONS]
    assert all(" ON CLUSTER vi" in c for c in engine.commands)  # as a real cluster would be sent them
    assert migrate_cluster(store, cluster) == []
    assert store.migrate() == []  # a serve's start on the cluster: nothing to do, no TTL change tried
    assert _engine_full(store, "rooms").startswith(
        "Distributed('vi', 'default', 'rooms_local', cityHash64(account_sid))")
    assert ddl.distributed_over(_engine_full(store, "rooms")) == ("vi", "rooms_local")
    assert "TTL _written + toIntervalDay(7)" in _engine_full(store, "rooms_local")

    # The same import into a single DuckDB store and into the cluster reads back the same.
    account = accounts.create_account(store, friendly_name="on a cluster")
    assert accounts.get_account(store, account.sid).auth_token == account.auth_token
    built = dump_import.build((CHROME / "loss8.json.gz").read_bytes(), account_sid=account.sid, file_name="loss8")
    Pipeline(store, SETTINGS).write_now(built.samples, built.events, period_ms=built.period_ms)
    reference = open_store(f"duckdb:///{tmp_path}/one.duckdb")
    try:
        reference.migrate()
        Pipeline(reference, SETTINGS).write_now(built.samples, built.events, period_ms=built.period_ms)
        scope = Scope(account.sid, frozenset({account.sid}))
        room = built.result.room_sid
        assert _without_times(find_room(store, scope, room)) == _without_times(find_room(reference, scope, room))
        here, there = (list_participants(s, account.sid, room, 0, 50) for s in (store, reference))
        assert here and [_without_times(p) for p in here] == [_without_times(p) for p in there]
    finally:
        reference.close()
    _, rows = store.fetch("SELECT count() FROM stream_samples_local")
    assert rows[0][0] > 0  # the rows are in the shard's local table

    # New retention days reach the local tables when migrate --cluster runs again.
    longer = ClickHouseStore(engine, store.url, Settings.from_env({}, retention_days=9))
    assert migrate_cluster(longer, cluster) == []
    assert "TTL _written + toIntervalDay(9)" in _engine_full(store, "rooms_local")


def _without_times(row: dict[str, Any]) -> dict[str, Any]:
    """A summary without the moment it was written."""
    return {k: v for k, v in row.items() if k != "updated_ms"}


def test_migrate_cluster_print_from_the_command() -> None:
    r = subprocess.run([EXE, "migrate", "--cluster", "vi", "--print"], capture_output=True, text=True, timeout=60,
                       env={"VIDEO_INSIGHTS_STORE": "clickhouse://u:pw-9f2e@nowhere.invalid:8123/video_insights",
                            "PATH": "/usr/bin:/bin"}, check=False)
    assert r.returncode == 0, r.stderr  # printed without connecting: the host does not exist
    assert r.stdout == "".join(f"{s};\n" for s in ddl.cluster_schema_ddl(SETTINGS, CLUSTER))
    assert "pw-9f2e" not in r.stdout
