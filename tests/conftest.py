"""Shared fixtures: a real DuckDB file per test, and a real server on 127.0.0.1."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from support import Creds, serving
from video_insights import accounts
from video_insights.app import create_app
from video_insights.settings import Settings
from video_insights.store.duckdb_store import DuckDBStore

DATA = Path(__file__).parent / "data"


@dataclass
class LiveServer:
    url: str
    settings: Settings
    store: DuckDBStore
    app: object

    def client(self, creds: Creds | None = None) -> httpx.Client:
        return httpx.Client(base_url=self.url, auth=creds.basic if creds else None, timeout=30)

    def flush(self) -> None:
        """Wait until the writer has stored and summarized everything submitted so far."""
        self.app.state.services.pipeline.settle()  # type: ignore[attr-defined]


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return Settings.from_env({}, store=f"duckdb:///{tmp_path / 'vi.duckdb'}", writer_flush_ms=20)


@pytest.fixture
def store(tmp_path: Path) -> Iterator[DuckDBStore]:
    s = DuckDBStore(tmp_path / "vi.duckdb")
    s.migrate()
    yield s
    s.close()


def make_account(store: DuckDBStore, parent: str | None = None) -> Creds:
    a = accounts.create_account(store, friendly_name="test", parent=parent)
    k = accounts.create_key(store, a.sid)
    return Creds(a.sid, a.auth_token, k.sid, k.secret)


@pytest.fixture
def creds(store: DuckDBStore) -> Creds:
    return make_account(store)


@pytest.fixture
def live_server(store: DuckDBStore, settings: Settings) -> Iterator[LiveServer]:
    app = create_app(settings, store=store)
    with serving(app) as url:
        yield LiveServer(url, settings, store, app)
