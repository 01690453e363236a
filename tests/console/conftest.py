"""A real server over two demo accounts for the console's browser tests, and signed-in pages."""

from __future__ import annotations

import fcntl
import json
import os
import shutil
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import pytest

from conftest import make_account
from support import Creds, serving
from video_insights.app import create_app
from video_insights.demo.generator import generate
from video_insights.settings import Settings
from video_insights.store.duckdb_store import DuckDBStore


@dataclass
class Console:
    url: str
    store: DuckDBStore
    app: Any
    demo: Creds    # an account with two days of demo data
    other: Creds   # another account with its own, different demo data
    empty: Creds   # an account with no data at all


def _generate_demo(path: Path) -> tuple[Creds, Creds, Creds]:
    """The console's store: two accounts with two days of different demo data, and an empty one."""
    store = DuckDBStore(path)
    try:
        store.migrate()
        settings = Settings.from_env({}, store=f"duckdb:///{path}", writer_flush_ms=20)
        demo, other, empty = make_account(store), make_account(store), make_account(store)
        generate(store, settings, account_sid=demo.account_sid, days=2, rooms_per_day=60, seed=3, progress=False)
        generate(store, settings, account_sid=other.account_sid, days=2, rooms_per_day=20, seed=9, progress=False)
    finally:
        store.close()
    return demo, other, empty


def _shared_demo(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, tuple[Creds, Creds, Creds]]:
    """The demo store generated once a run (about 25 s of CPU), not once in each xdist worker: the
    first worker to need it generates it under a lock in the directory the run's workers share, the
    others wait for it and read the same file. Returns the file (not to be written: copy it) and its
    three accounts."""
    base = tmp_path_factory.getbasetemp()
    # Under xdist each worker's basetemp is a folder of the run's; alone, basetemp is the run's own.
    shared = base.parent if os.environ.get("PYTEST_XDIST_WORKER") else base
    path, accounts = shared / "console-demo.duckdb", shared / "console-demo.json"
    with (shared / "console-demo.lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not accounts.exists():  # written last: its presence means the store is complete
            path.unlink(missing_ok=True)
            made = _generate_demo(path)
            accounts.write_text(json.dumps([asdict(c) for c in made]))
    demo, other, empty = (Creds(**c) for c in json.loads(accounts.read_text()))
    return path, (demo, other, empty)


@pytest.fixture(scope="session")
def console(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Console]:
    generated, (demo, other, empty) = _shared_demo(tmp_path_factory)
    # A copy of the worker's own: tests add accounts, rules and calls, and DuckDB lets one process open a file.
    path: Path = tmp_path_factory.mktemp("console") / "console.duckdb"
    shutil.copyfile(generated, path)
    store = DuckDBStore(path)
    store.migrate()
    settings = Settings.from_env({}, store=f"duckdb:///{path}", writer_flush_ms=20)
    app = create_app(settings, store=store)
    with serving(app) as url:
        yield Console(url, store, app, demo, other, empty)
    store.close()


@pytest.fixture
def signed_in(browser: Any, console: Console) -> Iterator[Callable[..., Any]]:
    """`signed_in(creds=console.demo)` → a Playwright page logged in as those credentials, to the
    console's server or the one at `url` (`color_scheme="dark"`: what prefers-color-scheme says)."""
    pages: list[Any] = []

    def open_page(creds: Creds | None = None, viewport: dict[str, int] | None = None, url: str | None = None,
                  color_scheme: str = "light") -> Any:
        creds, base = creds or console.demo, url or console.url
        context = browser.new_context(viewport=viewport or {"width": 1440, "height": 900},
                                      timezone_id="Europe/Berlin", color_scheme=color_scheme)
        page = context.new_page()
        page.goto(f"{base}/login")
        page.fill("#username", creds.account_sid)
        page.fill("#password", creds.auth_token)
        page.click("button[type=submit]")
        page.wait_for_url(f"{base}/")
        pages.append(context)
        return page

    yield open_page
    for context in pages:
        context.close()
