"""The live view's streams as a server runs them (web/live_hub.py): viewers of one account share one
topic, the server refuses viewers beyond its cap with a 503, stops computing for an account nobody
watches, and a SIGTERM ends open streams instead of waiting for them forever."""

from __future__ import annotations

import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest

from conftest import STORE_URLS, account_in, make_account
from support import Creds, console_login, free_port, sdk_frames, sdk_session, serving, wait_until_up
from video_insights.app import create_app
from video_insights.errors import BadRequest
from video_insights.model.ids import new_sid
from video_insights.settings import Settings
from video_insights.store.duckdb_store import DuckDBStore


@contextmanager
def stream(url: str, creds: Creds) -> Iterator[Iterator[str]]:
    """The lines of a signed-in viewer's board stream (dropping the iterator would close it)."""
    with httpx.Client(base_url=url, timeout=30) as client:
        console_login(client, creds)
        with client.stream("GET", "/live/stream") as r:
            assert r.status_code == 200 and r.headers["content-type"].startswith("text/event-stream")
            yield r.iter_lines()


def next_event(lines: Iterator[str]) -> str:
    for line in lines:
        if line.startswith("event: "):
            return line[7:]
    raise AssertionError("the stream ended before its next event")


def until(probe: Any, what: str, timeout: float = 5.0) -> None:
    deadline = time.monotonic() + timeout
    while not probe():
        assert time.monotonic() < deadline, what
        time.sleep(0.05)


def test_viewers_share_a_topic_are_capped_and_topics_stop_without_viewers(tmp_path: Path) -> None:
    store = DuckDBStore(tmp_path / "vi.duckdb")
    store.migrate()
    creds, other = make_account(store), make_account(store)
    settings = Settings.from_env({}, store=f"duckdb:///{tmp_path / 'vi.duckdb'}", live_max_viewers=3,
                                 live_tick_s=0.2)
    app = create_app(settings, store=store)
    hub = app.state.services.live_hub
    with serving(app) as url:
        with ExitStack() as streams:
            open_streams = [streams.enter_context(stream(url, who)) for who in (creds, creds, other)]
            assert [next_event(lines) for lines in open_streams] == ["board"] * 3
            assert hub.viewers == 3 and hub.topics == 2  # two viewers of one account: one topic
            with httpx.Client(base_url=url, timeout=30) as client:
                console_login(client, creds)
                refused = client.get("/live/stream")
                assert refused.status_code == 503 and refused.headers.get("retry-after")
                assert "live_max_viewers" in refused.text
        until(lambda: hub.viewers == 0 and hub.topics == 0, "the hub forgets viewers that hung up")
    store.close()


def test_sigterm_ends_open_live_streams(tmp_path: Path) -> None:
    store_url = STORE_URLS["duckdb"].format(dir=tmp_path)
    creds = account_in(store_url)
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    proc = subprocess.Popen([sys.executable, "-m", "video_insights", "serve", "--store", store_url,
                             "--port", str(port)])
    ended: list[str] = []
    try:
        wait_until_up(f"{url}/healthz", proc, "serve")

        def watch() -> None:
            with stream(url, creds) as lines:
                ended.extend(line[7:] for line in lines if line.startswith("event: "))
            ended.append("closed")

        viewers = [threading.Thread(target=watch, daemon=True) for _ in range(2)]
        for v in viewers:
            v.start()
        until(lambda: ended.count("board") == 2, "both viewers got the board")
        started = time.monotonic()
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=20) in (0, -signal.SIGTERM)
        assert time.monotonic() - started < 10, "the drain did not wait for the streams"
        for v in viewers:
            v.join(timeout=10)
        assert ended.count("bye") == 2 and ended.count("closed") == 2, ended
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(timeout=30)


def test_settings_that_would_spin_or_refuse_everything_are_refused(tmp_path: Path) -> None:
    for bad, says in (({"live_tick_s": 0.0}, "live_tick_s"), ({"live_max_viewers": -1}, "live_max_viewers")):
        settings = Settings.from_env({}, store=f"duckdb:///{tmp_path / 'vi.duckdb'}", **bad)
        with pytest.raises(BadRequest, match=says):
            create_app(settings)


def test_watching_an_account_live_hurries_its_running_issue_counts(tmp_path: Path) -> None:
    """A room whose only new data is stats reports is re-summarised after `summary_delay_s`; while
    someone watches its account live, after `alerts_summary_delay_s`, so the board's issue counts
    follow within seconds. Another account's rooms keep the long delay."""
    store = DuckDBStore(tmp_path / "vi.duckdb")
    store.migrate()
    creds, other = make_account(store), make_account(store)
    settings = Settings.from_env({}, store=f"duckdb:///{tmp_path / 'vi.duckdb'}", summary_delay_s=600,
                                 alerts_summary_delay_s=0.5, live_tick_s=0.2, writer_flush_ms=20)
    app = create_app(settings, store=store)
    pipeline = app.state.services.pipeline
    connect_frame, *events = sdk_frames("loss10")  # twilio-video.js's frames of a call with 10 % loss
    reports = [e for e in events if e.get("name") == "stats-report"]
    rooms = {who.account_sid: new_sid("RM") for who in (creds, other)}
    with serving(app) as url, ExitStack() as sessions:
        send = {who.account_sid: sessions.enter_context(sdk_session(
            url, creds=who, connect_frame=connect_frame, room=rooms[who.account_sid], participant=new_sid("PA"),
            identity="watched")) for who in (creds, other)}
        # Connecting is an event, summarised at once: both rooms are listed, with no issue yet.
        until(lambda: all(issue_count(store, room) == 0 for room in rooms.values()), "both rooms are summarised",
              timeout=15)
        with stream(url, creds) as lines:
            assert next_event(lines) == "board"
            assert pipeline.live_accounts == {creds.account_sid}
            for room_send in send.values():
                room_send(reports)
            until(lambda: (issue_count(store, rooms[creds.account_sid]) or 0) > 0,
                  "the watched account's room is tagged within seconds", timeout=15)
            assert issue_count(store, rooms[other.account_sid]) == 0, "the other account waits its summary delay"
        until(lambda: not pipeline.live_accounts, "nobody watches: no account is hurried")
    store.close()


def issue_count(store: DuckDBStore, room: str) -> int | None:
    """The room's stored issue count; None before its first summary."""
    _, rows = store.fetch(f"SELECT issue_count FROM rooms WHERE room_sid = '{room}'")
    return rows[0][0] or 0 if rows else None
