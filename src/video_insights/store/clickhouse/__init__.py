"""ClickHouse as the store: chDB (the engine in this process, `chdb:///path/dir`) or a ClickHouse
server (`clickhouse://user:password@host:8123/database`)."""

from __future__ import annotations

from typing import TYPE_CHECKING
from urllib.parse import parse_qs, unquote, urlparse

from video_insights.errors import BadRequest
from video_insights.settings import Settings

if TYPE_CHECKING:
    from video_insights.store.clickhouse.store import ClickHouseStore

# The engines and the store need the `clickhouse` extra (chdb, clickhouse-connect, pyarrow); they are
# imported when a ClickHouse store is opened, so that the DDL (`ddl`, `cluster_doc`) reads without it.
__all__ = ["open_chdb", "open_clickhouse"]


def open_chdb(url: str, settings: Settings | None = None) -> ClickHouseStore:
    path = url[len("chdb://"):]
    if not path.startswith("/") or path == "/":
        raise BadRequest(f"store URL {url!r}: give an absolute directory, e.g. chdb:///data/vi-chdb")
    from video_insights.store.clickhouse.engines import ChdbEngine
    from video_insights.store.clickhouse.store import ClickHouseStore

    return ClickHouseStore(ChdbEngine(path), f"chdb://{path}", settings)


def open_clickhouse(url: str, settings: Settings | None = None) -> ClickHouseStore:
    parsed = urlparse(url)
    if not parsed.hostname:
        raise BadRequest(f"store URL {url!r}: give a host, e.g. clickhouse://user:password@host:8123/database")
    try:
        port = parsed.port or 8123
    except ValueError:
        raise BadRequest(f"store URL {url!r}: the port is not a number") from None
    database = parsed.path.strip("/") or "default"
    if "/" in database:
        raise BadRequest(f"store URL {url!r}: the path names one database, e.g. /video_insights")
    from video_insights.store.clickhouse.engines import ServerEngine
    from video_insights.store.clickhouse.store import ClickHouseStore

    secure = parse_qs(parsed.query).get("secure", ["false"])[0].lower() in ("1", "true", "yes")
    engine = ServerEngine(host=parsed.hostname, port=port, username=unquote(parsed.username or "default"),
                          password=unquote(parsed.password or ""), database=database, secure=secure)
    # The URL without its password: it is shown by `health` and in logs.
    shown = f"clickhouse://{unquote(parsed.username or 'default')}@{parsed.hostname}:{port}/{database}"
    return ClickHouseStore(engine, shown, settings)
