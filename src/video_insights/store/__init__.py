"""Stores: DuckDB by default; ClickHouse (in-process through chDB, or a server) for scale-out;
PostgreSQL as the benchmarks' baseline."""

from __future__ import annotations

from urllib.parse import urlparse

from video_insights.errors import BadRequest
from video_insights.settings import Settings
from video_insights.store.base import Store, WriteBatch, make_row

__all__ = ["Store", "WriteBatch", "make_row", "open_store"]


def open_store(url: str, *, memory_limit: str | None = None, settings: Settings | None = None) -> Store:
    """The store a URL names. `settings` gives ClickHouse its retention days (its tables' TTL)."""
    parsed = urlparse(url)
    if parsed.scheme == "duckdb":
        from video_insights.store.duckdb_store import DuckDBStore

        path = url[len("duckdb:///"):] if url.startswith("duckdb:///") else parsed.path
        if not path:
            raise BadRequest(f"store URL {url!r}: give a file path, e.g. duckdb:///data/vi.duckdb")
        return DuckDBStore(path, memory_limit=memory_limit)
    if parsed.scheme == "chdb":
        from video_insights.store.clickhouse import open_chdb

        return open_chdb(url, settings)
    if parsed.scheme == "clickhouse":
        from video_insights.store.clickhouse import open_clickhouse

        return open_clickhouse(url, settings)
    if parsed.scheme == "postgresql":
        from video_insights.store.postgres_store import PostgresStore

        return PostgresStore(url)
    raise BadRequest(f"store URL {url!r}: unknown scheme {parsed.scheme!r} (use duckdb:///path/file.duckdb, "
                     "chdb:///path/dir, clickhouse://user:password@host:8123/database "
                     "or postgresql://user:password@host:5432/database)")
