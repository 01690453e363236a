"""`migrate --cluster NAME`: the cluster's DDL (ddl.Cluster) run through a ClickHouse server.

Every statement is idempotent and ON CLUSTER, so running it again completes a migration cut short and
reaches hosts added since; it is also how a change of the retention days reaches the local tables'
TTL (a `serve` on a cluster leaves TTL alone: it cannot alter a Distributed table's).
"""

from __future__ import annotations

from typing import TYPE_CHECKING
from urllib.parse import urlparse

from video_insights.errors import BadRequest
from video_insights.store.clickhouse import ddl
from video_insights.store.schema import TABLES

if TYPE_CHECKING:  # `migrate --print` shows the DDL without the clickhouse extra
    from video_insights.store.clickhouse.store import ClickHouseStore


def cluster_for(store_url: str, name: str) -> ddl.Cluster:
    """The cluster's tables go in the database the store URL names (`default` when it names none)."""
    parsed = urlparse(store_url)
    if parsed.scheme != "clickhouse":
        raise BadRequest(f"--cluster {name}: needs a ClickHouse server store (clickhouse://user:password@host:8123/"
                         f"database), not {parsed.scheme}://")
    return ddl.Cluster(name, parsed.path.strip("/") or "default")


def migrate_cluster(store: ClickHouseStore, cluster: ddl.Cluster) -> list[str]:
    for statement in ddl.cluster_preamble(cluster):
        store.engine.command(statement)
    applied = store.apply_migrations(cluster.table(ddl.MIGRATIONS_TABLE),
                                     lambda step: ddl.cluster_step_ddl(step, store.settings, cluster))
    _sync_ttl(store, cluster)
    return applied


def _sync_ttl(store: ClickHouseStore, cluster: ddl.Cluster) -> None:
    _, rows = store.fetch(f"SELECT name, engine_full FROM system.tables WHERE database = '{cluster.database}'")
    engines = {str(n): str(e) for n, e in rows}
    for table in TABLES:
        rule = ddl.ttl(table, store.settings)
        statement = ddl.cluster_modify_ttl(table, store.settings, cluster)
        local = engines.get(table.name + ddl.LOCAL)
        if statement and local is not None and f"TTL {rule}" not in local:
            store.engine.command(statement)
