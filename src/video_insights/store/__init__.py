"""Stores: DuckDB by default; ClickHouse (in-process through chDB, or a server) for scale-out;
PostgreSQL as the benchmarks' baseline."""

from __future__ import annotations

from collections.abc import Callable
from urllib.parse import urlparse

from video_insights.errors import BadRequest, VideoInsightsError
from video_insights.settings import Settings
from video_insights.store.base import Store, WriteBatch, make_row

__all__ = ["MissingExtra", "Store", "WriteBatch", "make_row", "open_store"]

# The modules each optional store needs, and the extra that installs them.
EXTRAS = {"chdb": "clickhouse", "clickhouse": "clickhouse", "postgresql": "postgres"}
EXTRA_MODULES = {"clickhouse": ("chdb", "clickhouse_connect", "pyarrow"), "postgres": ("psycopg",)}


class MissingExtra(VideoInsightsError):
    """A store URL whose engine is not installed: a setup error, not bad input or a bug."""

    status = 500


def _with_extra(scheme: str, url: str, open_: Callable[[], Store]) -> Store:
    extra = EXTRAS[scheme]
    try:
        return open_()
    except ModuleNotFoundError as e:
        if (e.name or "").split(".")[0] not in EXTRA_MODULES[extra]:
            raise
        raise MissingExtra(f"store URL {url!r} needs the {extra!r} extra, which is not installed: "
                           f"pip install 'video-insights[{extra}]'") from None


def open_store(url: str, *, memory_limit: str | None = None, settings: Settings | None = None) -> Store:
    """The store a URL names. `settings` gives ClickHouse its retention days (its tables' TTL)."""
    parsed = urlparse(url)
    if parsed.scheme == "duckdb":
        from video_insights.store.duckdb_store import DuckDBStore

        path = url[len("duckdb:///"):] if url.startswith("duckdb:///") else parsed.path
        if not path:
            raise BadRequest(f"store URL {url!r}: give a file path, e.g. duckdb:///data/vi.duckdb")
        return DuckDBStore(path, memory_limit=memory_limit,
                           checkpoint_threshold=settings.duckdb_checkpoint_threshold if settings else None)
    if parsed.scheme == "chdb":
        from video_insights.store.clickhouse import open_chdb

        return _with_extra("chdb", url, lambda: open_chdb(url, settings))
    if parsed.scheme == "clickhouse":
        from video_insights.store.clickhouse import open_clickhouse

        return _with_extra("clickhouse", url, lambda: open_clickhouse(url, settings))
    if parsed.scheme == "postgresql":
        def open_postgres() -> Store:
            from video_insights.store.postgres_store import PostgresStore

            return PostgresStore(url)

        return _with_extra("postgresql", url, open_postgres)
    raise BadRequest(f"store URL {url!r}: unknown scheme {parsed.scheme!r} (use duckdb:///path/file.duckdb, "
                     "chdb:///path/dir, clickhouse://user:password@host:8123/database "
                     "or postgresql://user:password@host:5432/database)")
