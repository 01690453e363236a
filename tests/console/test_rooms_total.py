"""The rooms list says how many rooms its view holds ("1–25 of 2,103"), on DuckDB and on chDB, where
past a cap the count is labelled as a lower bound."""

from __future__ import annotations

import html
import re
from typing import Any

import httpx
import pytest

from conftest import make_account
from support import console_login, serving
from video_insights.analytics import rooms as rooms_module
from video_insights.app import create_app
from video_insights.demo.generator import generate
from video_insights.settings import Settings
from video_insights.store import Store


def _api_count(api: httpx.Client, **params: str) -> int:
    """Rooms the API lists for `params`, paged through (the API carries no total)."""
    n, page = 0, 0
    while True:
        body = api.get("/v1/Video/Rooms", params={**params, "PageSize": "1000", "Page": str(page)}).json()
        n += len(body["rooms"])
        if not body["meta"].get("next_page_url"):
            return n
        page += 1


def _rooms_note(c: httpx.Client, **params: str) -> str:
    return _note(c.get("/rooms", params=params, follow_redirects=True).text)


def _note(text: str) -> str:
    found = re.search(r'id="rows-note">(.*?)</p>', text, re.S)
    assert found, "the rooms page has its rows note"
    return " ".join(html.unescape(re.sub(r"<[^>]+>", "", found.group(1))).split())


def test_rooms_total_counts_the_view(store: Store, settings: Settings, monkeypatch: pytest.MonkeyPatch) -> None:
    creds = make_account(store)
    generate(store, settings, account_sid=creds.account_sid, days=1, rooms_per_day=40, seed=5, progress=False)
    app = create_app(settings, store=store)
    with serving(app) as url, httpx.Client(base_url=url, timeout=30) as c, \
            httpx.Client(base_url=url, auth=creds.basic, timeout=30) as api:
        assert console_login(c, creds).status_code == 303
        everything = _api_count(api, _range="30d")
        with_issues = _api_count(api, _range="30d", issue_count__gt="0")
        assert everything > 25 and 0 < with_issues < everything

        first = _rooms_note(c, _range="30d", _size="25")
        assert first.startswith(f"1–25 of {everything:,},"), first
        second = _rooms_note(c, _range="30d", _size="25", _page="1")
        assert second.startswith(f"26–{min(50, everything)} of {everything:,},"), second
        filtered = _rooms_note(c, _range="30d", issue_count__gt="0")
        assert filtered.startswith(f"1–{min(50, with_issues)} of {with_issues:,},"), filtered
        assert "estimate" not in first + filtered

        # Past the cap ClickHouse stops counting and says so; DuckDB always counts exactly.
        monkeypatch.setattr(rooms_module, "COUNT_CAP", 10)
        capped = _rooms_note(c, _range="30d", _size="25")
        if store.dialect == "clickhouse":
            assert capped.startswith("1–25 of more than 10 (estimate),"), capped
        else:
            assert capped.startswith(f"1–25 of {everything:,},"), capped


def test_rooms_total_in_the_browser(signed_in: Any, console: Any) -> None:
    page = signed_in()
    page.goto(f"{console.url}/rooms?_range=7d")
    note = page.inner_text("#rows-note")
    assert re.match(r"1–50 of [\d,]+, sorted by", note), note
    assert page.inner_text("#rows-range").startswith(note.split(",")[0].rsplit(" of ", 1)[0])
