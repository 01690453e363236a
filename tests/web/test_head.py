"""HEAD answers as GET does, without a body, on every kind of route; it never stores anything."""

from __future__ import annotations

from pathlib import Path

import httpx

from conftest import make_account
from support import serving
from video_insights.app import create_app
from video_insights.settings import Settings
from video_insights.store import open_store


def test_head_matches_get_without_a_body(tmp_path: Path) -> None:
    store = open_store(f"duckdb:///{tmp_path / 'vi.duckdb'}")
    store.migrate()
    creds = make_account(store)
    app = create_app(Settings.from_env({}, store=f"duckdb:///{tmp_path / 'vi.duckdb'}"), store=store)
    try:
        with serving(app) as url, httpx.Client(base_url=url, auth=creds.basic, timeout=30) as c:
            for path in ("/healthz", "/login", "/rooms", "/v1/Video/Rooms", "/v1/Video/Rooms/RMnope",
                         "/static/app.css", "/static/collector.js", "/docs/api", "/no/such/page"):
                got, head = c.get(path), c.head(path)
                assert head.status_code == got.status_code, path
                assert head.content == b"", path
                assert head.headers.get("content-type") == got.headers.get("content-type"), path
                if path.startswith("/static/") or path == "/no/such/page":  # the same bytes every time
                    assert head.headers["content-length"] == got.headers["content-length"], path
            # A webhook is not a page: HEAD is refused, not run as the GET that would store a callback.
            assert c.head("/webhooks/twilio").status_code == 405
    finally:
        store.close()
