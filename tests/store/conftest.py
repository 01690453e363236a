"""The store tests run on PostgreSQL and on a ClickHouse server too: throwaway servers for the session
(PostgreSQL skipped with a reason where it is not installed, a failure in CI; ClickHouse's HTTP
interface in front of chDB, `clickhouse_http.py`), and the `store` fixture with them added to the
engines the root conftest gives."""

from __future__ import annotations

import itertools
import os
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from clickhouse_http import clickhouse_http
from conftest import STORE_URLS
from support import free_port
from video_insights.store import Store, open_store
from video_insights.store.pg_cluster import LocalCluster, binaries

_databases = itertools.count()


@pytest.fixture(scope="session")
def postgres_cluster() -> Iterator[LocalCluster]:
    if binaries() is None:
        reason = "PostgreSQL server binaries (initdb) not found: apt-get install postgresql"
        if os.environ.get("CI"):
            pytest.fail(reason)
        pytest.skip(reason)
    with LocalCluster() as cluster:
        yield cluster


@pytest.fixture
def postgres_url(postgres_cluster: LocalCluster) -> str:
    """A new empty database for one test."""
    return postgres_cluster.database(f"t{next(_databases)}")


@pytest.fixture(scope="session")
def clickhouse_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A ClickHouse HTTP endpoint (chDB in its own process); yields its store URL without a database."""
    with clickhouse_http(tmp_path_factory.mktemp("clickhouse") / "data", free_port()) as url:
        yield url.rsplit("/", 1)[0]


@pytest.fixture
def clickhouse_url(clickhouse_server: str) -> str:
    """A new empty database for one test, reached as a ClickHouse server's (clickhouse-connect)."""
    name = f"t{next(_databases)}"
    http = clickhouse_server.replace("clickhouse://default:@", "http://")
    httpx.post(http, content=f"CREATE DATABASE {name}", timeout=30).raise_for_status()
    return f"{clickhouse_server}/{name}"


SERVERS = {"postgresql": "postgres_url", "clickhouse": "clickhouse_url"}  # engine -> fixture giving its URL


@pytest.fixture(params=[*sorted(STORE_URLS), *SERVERS])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Store]:
    """The root conftest's engines (one chDB database per process: each test's is closed before the
    next opens), PostgreSQL, and a ClickHouse server reached through clickhouse-connect."""
    if request.param in SERVERS:
        url = request.getfixturevalue(SERVERS[request.param])
    else:
        url = STORE_URLS[request.param].format(dir=tmp_path)
    s = open_store(url)
    try:
        s.migrate()
        yield s
    finally:
        s.close()
