"""The security suite's server: uvicorn on 127.0.0.1 over a DuckDB file, one account."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from conftest import make_account
from security.hostile import Server
from support import serving
from video_insights.app import create_app
from video_insights.settings import Settings
from video_insights.store.duckdb_store import DuckDBStore


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    path: Path = tmp_path_factory.mktemp("security") / "vi.duckdb"
    store = DuckDBStore(path)
    store.migrate()
    settings = Settings.from_env({}, store=f"duckdb:///{path}", writer_flush_ms=20, summary_delay_s=0.0)
    creds = make_account(store)
    app = create_app(settings, store=store)
    with serving(app) as url:
        yield Server(url, app, store, creds)
    store.close()
