"""Stores: DuckDB by default; ClickHouse for scale-out (a later backend)."""

from __future__ import annotations

from urllib.parse import urlparse

from video_insights.errors import BadRequest
from video_insights.store.base import Store, WriteBatch, make_row

__all__ = ["Store", "WriteBatch", "make_row", "open_store"]


def open_store(url: str, *, memory_limit: str | None = None) -> Store:
    parsed = urlparse(url)
    if parsed.scheme == "duckdb":
        from video_insights.store.duckdb_store import DuckDBStore

        path = url[len("duckdb:///"):] if url.startswith("duckdb:///") else parsed.path
        if not path:
            raise BadRequest(f"store URL {url!r}: give a file path, e.g. duckdb:///data/vi.duckdb")
        return DuckDBStore(path, memory_limit=memory_limit)
    if parsed.scheme in ("clickhouse", "chdb"):
        raise BadRequest(f"store URL {url!r}: the {parsed.scheme} backend is not available in this version yet")
    raise BadRequest(f"store URL {url!r}: unknown scheme {parsed.scheme!r} (use duckdb:///path/file.duckdb)")
