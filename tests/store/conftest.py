"""The store tests run on PostgreSQL too: a throwaway server for the session (skipped with a reason
where PostgreSQL is not installed, a failure in CI), and the `store` fixture with it added to the
engines the root conftest gives."""

from __future__ import annotations

import itertools
import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from conftest import STORE_URLS
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


@pytest.fixture(params=[*sorted(STORE_URLS), "postgresql"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Store]:
    """The root conftest's engines (one chDB database per process: each test's is closed before the
    next opens) and PostgreSQL."""
    url = (request.getfixturevalue("postgres_url") if request.param == "postgresql"
           else STORE_URLS[request.param].format(dir=tmp_path))
    s = open_store(url)
    try:
        s.migrate()
        yield s
    finally:
        s.close()
