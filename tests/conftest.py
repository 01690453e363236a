"""Shared fixtures: a real store per test (a DuckDB file, and chDB: each test of the store runs on
both), and a real server on 127.0.0.1."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from support import Creds, serving
from video_insights import accounts
from video_insights.app import create_app
from video_insights.settings import Settings
from video_insights.store import Store, open_store

DATA = Path(__file__).parent / "data"


@dataclass
class LiveServer:
    url: str
    settings: Settings
    store: Store
    app: object

    def client(self, creds: Creds | None = None) -> httpx.Client:
        return httpx.Client(base_url=self.url, auth=creds.basic if creds else None, timeout=30)

    def flush(self) -> None:
        """Wait until the writer has stored and summarized everything submitted so far."""
        self.app.state.services.settle()  # type: ignore[attr-defined]


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return Settings.from_env({}, store=f"duckdb:///{tmp_path / 'vi.duckdb'}", writer_flush_ms=20)


STORE_URLS = {"duckdb": "duckdb:///{dir}/vi.duckdb", "chdb": "chdb:///{dir}/vi-chdb"}


@pytest.fixture(params=sorted(STORE_URLS))
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Store]:
    """The same tests on each engine. chDB hosts one database per process: each test's is closed
    before the next opens."""
    s = open_store(STORE_URLS[request.param].format(dir=tmp_path))
    try:
        s.migrate()
        yield s
    finally:
        s.close()


@pytest.fixture
def duckdb_store(tmp_path: Path) -> Iterator[Store]:
    """One engine only (DuckDB, at the `settings` fixture's path): for tests whose subject is not the engine."""
    s = open_store(STORE_URLS["duckdb"].format(dir=tmp_path))
    try:
        s.migrate()
        yield s
    finally:
        s.close()


def make_account(store: Store, parent: str | None = None) -> Creds:
    a = accounts.create_account(store, friendly_name="test", parent=parent)
    k = accounts.create_key(store, a.sid)
    return Creds(a.sid, a.auth_token, k.sid, k.secret)


def account_in(store_url: str) -> Creds:
    """An account in a new store at `store_url`, closed again for a `serve` process to open."""
    store = open_store(store_url)
    try:
        store.migrate()
        return make_account(store)
    finally:
        store.close()


@pytest.fixture
def creds(store: Store) -> Creds:
    return make_account(store)


@pytest.fixture
def live_server(store: Store, settings: Settings) -> Iterator[LiveServer]:
    app = create_app(settings, store=store)
    with serving(app) as url:
        yield LiveServer(url, settings, store, app)


CHROMIUM = "/usr/bin/chromium"


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    """Debian's Chromium driven by Playwright (no browser download). CI installs it; elsewhere a
    machine without it skips the browser tests with the command that would install it."""
    if not Path(CHROMIUM).exists():
        if os.environ.get("CI"):
            pytest.fail(f"{CHROMIUM} is missing: CI must install Debian's chromium package")
        pytest.skip(f"{CHROMIUM} is missing: apt-get install chromium")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=[
            "--no-sandbox", "--use-fake-device-for-media-stream", "--use-fake-ui-for-media-stream"])
        yield b
        b.close()


SCREENSHOTS = Path(os.environ.get("VI_SCREENSHOTS") or Path(tempfile.gettempdir()) / "video-insights-screenshots")


# Marks by what a test needs, so that they can't be forgotten on a new test (docs/development.md):
# `slow`: a browser, a real call, or more than one engine; `solo`: the machine to itself (real WebRTC
# calls whose quality is measured, deadlines of a second or two, or gaps of tens of milliseconds), run
# after the parallel part.
CROSS_ENGINE = {"test_engines_agree.py", "test_postgres.py", "test_clickhouse.py", "test_cluster_ddl.py",
                "test_many_processes.py"}
SOLO = {"test_live.py", "test_crash_durability.py", "test_ws_bursts.py"}


# The parallel part sends whole files to its three processes, in the order of the collection, longest
# first (`--no-loadscope-reorder` in pyproject.toml: xdist's own order is by number of tests, which put
# the few-test, long browser files last, where one of them ran on alone for minutes). Seconds of test
# time per file as measured in a parallel run on two cores (`--durations=0`, setup included); refresh
# when a file grows. A file not named here follows them, those with more tests first.
FILE_SECONDS = {
    "console/test_layout_a11y.py": 330, "cli/test_cli.py": 203, "security/test_console_xss.py": 146,
    "ingest/test_livekit_webhooks.py": 143, "store/test_engines_agree.py": 134, "demo/test_serve_demo.py": 118,
    "console/test_dashboard_look.py": 107, "console/test_room_pages.py": 101, "demo/test_generator.py": 89,
    "alerts/test_alert_delivery.py": 62, "store/test_many_processes.py": 62, "ingest/test_client_clocks.py": 61,
    "ingest/test_gateway_replay.py": 60, "store/test_store.py": 57, "ingest/test_dump_results.py": 56,
    "cli/test_cli_chdb.py": 54, "console/test_rooms.py": 43, "console/test_receive_tab.py": 40,
    "web/test_bad_input.py": 38,
}
TESTS = Path(__file__).parent


def _longest_first(items: list[pytest.Item]) -> None:
    files: dict[Path, int] = {}
    for item in items:
        files[item.path] = files.get(item.path, 0) + 1

    def key(item: pytest.Item) -> tuple[int, int, str]:
        name = item.path.relative_to(TESTS).as_posix() if item.path.is_relative_to(TESTS) else str(item.path)
        return -FILE_SECONDS.get(name, 0), -files[item.path], str(item.path)

    items.sort(key=key)  # stable: a file's tests keep their order


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    _longest_first(items)
    for item in items:
        path = item.path
        e2e = path.parent.name == "e2e"
        if e2e or "browser" in getattr(item, "fixturenames", ()) or path.name in CROSS_ENGINE:
            item.add_marker(pytest.mark.slow)
        # An e2e test without a call (plain HTTP and WebSocket to the service, the SDK's version) measures
        # nothing a busy CPU would change: it runs in the parallel part.
        if (e2e and "call_browser" in getattr(item, "fixturenames", ())) or path.name in SOLO:
            item.add_marker(pytest.mark.solo)


def pytest_configure(config: pytest.Config) -> None:
    # Once a run: in the controller (xdist workers have `workerinput`), not in each worker's session,
    # which would delete what the other workers saved.
    if not hasattr(config, "workerinput"):
        for old in SCREENSHOTS.glob("*.png"):
            old.unlink()


@pytest.fixture(scope="session")
def screenshot_dir() -> Path:
    """Where browser tests save screenshots; the run's summary prints it so a person can look."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    return SCREENSHOTS


def pytest_terminal_summary(terminalreporter: Any) -> None:
    if SCREENSHOTS.exists() and any(SCREENSHOTS.iterdir()):
        terminalreporter.write_line(f"screenshots: {SCREENSHOTS}")
