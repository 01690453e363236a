"""Every page of one account shows nothing of another: signed in as one account, no page, CSV or
graph carries another account's room SIDs, participant SIDs or identities, and its pages are 404s."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from support import console_login
from video_insights.query.sql import q


def _login(console: Any, creds: Any) -> httpx.Client:
    c = httpx.Client(base_url=console.url, timeout=60, headers={"accept": "text/html"}, follow_redirects=True)
    r = console_login(c, creds)
    assert r.status_code == 200 and str(r.url) == f"{console.url}/"
    return c


def _secrets(console: Any, account: str) -> tuple[list[tuple[str, str]], set[str]]:
    """An account's (room, participant) pairs, and every string that must not leak from it."""
    _, rows = console.store.fetch(q("SELECT room_sid, participant_sid, participant_identity FROM participants "
                                    "WHERE account_sid = :a", a=account))
    pairs = [(str(r), str(p)) for r, p, _ in rows]
    leaks = {account} | {s for r, p, _ in rows for s in (r, p)}
    return pairs, leaks


@pytest.fixture
def other(console: Any) -> Iterator[httpx.Client]:
    c = _login(console, console.other)
    yield c
    c.close()


def test_no_page_of_one_account_shows_another(console: Any, other: httpx.Client) -> None:
    demo_pairs, demo_leaks = _secrets(console, console.demo.account_sid)
    own_pairs, _ = _secrets(console, console.other.account_sid)
    assert demo_pairs and own_pairs
    room, participant = own_pairs[0]
    pages = ["/", "/?_range=7d&segment=browser", "/?_range=7d&issues=with&segment=os", "/rooms?_range=7d&_size=1000",
             "/rooms.csv?_range=7d&_size=1000", f"/rooms/{room}", f"/rooms/{room}/participants/{participant}",
             f"/rooms/{room}/participants/{participant}?tab=receive", "/live"]
    for path in pages:
        r = other.get(path)
        assert r.status_code == 200, path
        shown = [s for s in demo_leaks if s in r.text]
        assert not shown, f"{path} shows another account's {shown[:3]}"
    for room_sid, participant_sid in demo_pairs[:5]:
        for path in (f"/rooms/{room_sid}", f"/rooms/{room_sid}/participants/{participant_sid}",
                     f"/rooms.csv?_search={room_sid}", f"/live/rooms/{room_sid}/participants/{participant_sid}/stream"):
            r = other.get(path)
            assert r.status_code in (200, 404), path
            assert room_sid not in r.text.replace(path, "") or r.status_code == 404, path
            if r.status_code == 200:  # the CSV of a search for it: a header and no rows
                assert r.text.count("\n") <= 1, path
