"""`serve --demo` as a user runs it: a real server process that answers while it fills the demo account,
shows how far it has got, survives being interrupted (Ctrl-C, kill -9) and ends with one complete demo."""

from __future__ import annotations

import re
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest

from support import callback_room, free_port, wait_until_up
from video_insights.query.sql import q
from video_insights.store.duckdb_store import DuckDBStore
from video_insights.store.schema import TABLES_BY_NAME

EXE = shutil.which("video-insights") or str(Path(sys.executable).parent / "video-insights")
DAY_MS = 86_400_000
# A small demo (a real week of ~40 rooms a day) keeps these tests short; the default is 300 a day.
ROOMS_PER_DAY = 40
FILL_TIMEOUT_S = 300


@dataclass
class DemoServer:
    proc: subprocess.Popen[bytes]
    url: str
    out: Path
    err: Path

    def demo(self) -> dict[str, Any]:
        r = httpx.get(f"{self.url}/healthz", timeout=10)
        assert r.status_code == 200
        state: dict[str, Any] = r.json()["demo"]
        return state

    def credentials(self) -> tuple[str, str]:
        text = self.out.read_text()
        sid, token = re.search(r"account SID: (AC[0-9a-f]{32})", text), re.search(r"auth token: +(\w+)", text)
        assert sid and token, text
        return sid.group(1), token.group(1)

    def wait_for(self, ok: Callable[[dict[str, Any]], bool], timeout_s: float = FILL_TIMEOUT_S) -> dict[str, Any]:
        deadline = time.monotonic() + timeout_s
        while True:
            state = self.demo()
            if ok(state):
                return state
            assert state["state"] == "generating", state
            assert time.monotonic() < deadline, f"gave up waiting; last state {state}"
            time.sleep(0.2)

    def stop(self, sig: int = signal.SIGTERM) -> str:
        """Send `sig`; the process must end within 30 s. Returns its stderr."""
        self.proc.send_signal(sig)
        self.proc.wait(timeout=30)
        return self.err.read_text()


@pytest.fixture
def start(tmp_path: Path) -> Iterator[Callable[[], DemoServer]]:
    """`start()` runs `serve --demo` on this test's store (again after a previous one ended)."""
    store = f"duckdb:///{tmp_path / 'vi.duckdb'}"
    procs: list[subprocess.Popen[bytes]] = []

    def run() -> DemoServer:
        n, port = len(procs), free_port()
        out, err = tmp_path / f"out{n}.txt", tmp_path / f"err{n}.txt"
        # Files, not pipes: the server logs every request, and a pipe nobody reads would block it.
        with out.open("wb") as o, err.open("wb") as e:
            proc = subprocess.Popen([EXE, "serve", "--demo", "--demo-rooms-per-day", str(ROOMS_PER_DAY),
                                     "--port", str(port), "--store", store], stdout=o, stderr=e)
        procs.append(proc)
        url = f"http://127.0.0.1:{port}"
        wait_until_up(f"{url}/healthz", proc, "serve --demo")
        return DemoServer(proc, url, out, err)

    yield run
    for p in procs:
        if p.poll() is None:
            p.kill()
            p.wait()


def _login(browser: Any, url: str, sid: str, token: str) -> Any:
    context = browser.new_context(viewport={"width": 1440, "height": 900})
    page = context.new_page()
    page.goto(f"{url}/login")
    page.fill("#username", sid)
    page.fill("#password", token)
    page.click("button[type=submit]")
    page.wait_for_url(f"{url}/")
    return page


def test_serves_at_once_shows_progress_and_completes(start: Callable[[], DemoServer], browser: Any,
                                                      screenshot_dir: Path) -> None:
    server = start()
    sid, token = server.credentials()  # printed before the server answered
    first = server.demo()
    assert first["state"] == "generating"
    api = httpx.Client(base_url=server.url, auth=(sid, token), timeout=30)
    assert api.get("/v1/Video/Rooms", params={"_range": "7d"}).status_code == 200
    ingested = callback_room(server.url, sid, token, "during-the-fill")  # ingest goes on beside the fill

    page = _login(browser, server.url, sid, token)
    banner = page.locator("[data-demo-progress]")
    assert re.fullmatch(r"Demo data is being generated.*", banner.inner_text())
    seen = [server.wait_for(lambda s: s["rooms_done"] > 0 and s["phase"] == "this week")]
    page.reload()
    assert re.fullmatch(r"Demo data is being generated \(this week\): day \d/7, [\d,]+ of [\d,]+ rooms",
                        banner.inner_text()), banner.inner_text()
    page.screenshot(path=str(screenshot_dir / "dashboard-demo-filling.png"), full_page=True)
    page.goto(f"{server.url}/?_range=7d")  # the days written so far, under the banner
    assert banner.inner_text().startswith("Demo data is being generated")
    page.screenshot(path=str(screenshot_dir / "dashboard-demo-filling-7d.png"), full_page=True)

    seen.append(server.wait_for(lambda s: s["phase"] == "previous week"))
    seen.append(server.wait_for(lambda s: s["state"] == "complete"))
    assert seen[0]["rooms_done"] < seen[0]["rooms_total"]
    assert seen[0]["rooms_total"] >= 6 * ROOMS_PER_DAY
    page.wait_for_selector(".demo-banner.done", timeout=10_000)  # the open page follows /healthz
    assert "Demo data is complete" in banner.inner_text()
    page.reload()
    assert banner.count() == 0

    rooms = api.get("/v1/Video/Rooms", params={"_range": "7d", "PageSize": "1000"}).json()["rooms"]
    assert len(rooms) >= 6 * ROOMS_PER_DAY
    assert ingested in {r["room_sid"] for r in rooms}
    answer = api.get("/v1/Video/Dashboard/Minutes", params={"_range": "7d"}).json()
    minutes, previous = answer["totals"], answer["previous_period"]
    # The previous week is another week of the same account: the same order of magnitude.
    assert 0.5 < minutes["previous_participant_minutes"] / minutes["participant_minutes"] < 2
    page.goto(f"{server.url}/?_range=7d")
    delta = page.locator("[data-total=participant_minutes] .delta").inner_text()
    if previous["recorded"] == "all":
        assert re.fullmatch(r"[+-]\d{1,2}%", delta), delta
    else:
        # Late in the (UTC) day, the previous week's first day bucket holds only night hours, when the
        # demo's rhythm has no calls: its first room comes the next morning, and the page says so
        # rather than compare. Its data still starts within a day of the period's.
        assert previous["recorded"] == "part" and delta == "previous period only partly recorded", (previous, delta)
        gap = datetime.fromisoformat(previous["recorded_from"]) - datetime.fromisoformat(previous["since"])
        assert gap < timedelta(days=1), previous
    page.screenshot(path=str(screenshot_dir / "dashboard-demo-complete-7d.png"), full_page=True)
    page.context.close()

    err = server.stop(signal.SIGTERM)
    assert "Traceback" not in err


def test_interrupted_fills_end_in_one_complete_demo(start: Callable[[], DemoServer], tmp_path: Path) -> None:
    # Ctrl-C mid-fill: the server stops at once and cleanly, the demo stays marked as being filled.
    first = start()
    credentials = first.credentials()
    first.wait_for(lambda s: s["rooms_done"] > 0)
    stopped_at = time.monotonic()
    err = first.stop(signal.SIGINT)
    assert time.monotonic() - stopped_at < 15
    assert "Traceback" not in err

    # kill -9 mid-fill, after the first run's partial data was deleted and more written.
    second = start()
    assert second.credentials() == credentials
    second.wait_for(lambda s: s["rooms_done"] > 0)
    second.proc.kill()
    second.proc.wait(timeout=30)

    third = start()
    assert third.credentials() == credentials
    done = third.wait_for(lambda s: s["state"] == "complete")
    assert done["phase"] == "previous week"
    third.stop()

    store = DuckDBStore(tmp_path / "vi.duckdb", read_only=True)
    try:
        accounts = store.fetch("SELECT account_sid, settings FROM accounts WHERE friendly_name = 'Demo'")[1]
        assert accounts == [(credentials[0], "{}")]  # one Demo account, no longer marked
        for table in ("rooms", "participants", "events", "stream_samples", "room_facts", "participant_facts"):
            key = ", ".join(TABLES_BY_NAME[table].key)
            total, distinct = store.fetch(f"SELECT count(*), (SELECT count(*) FROM (SELECT DISTINCT {key} "
                                          f"FROM {table})) FROM {table}")[1][0]
            assert total == distinct > 0, table
        # Everything belongs to the last fill: every sample's room is a room, every room has its fact.
        orphans = store.fetch("SELECT count(DISTINCT room_sid) FROM stream_samples WHERE room_sid NOT IN "
                              "(SELECT room_sid FROM rooms)")[1][0][0]
        assert orphans == 0
        rooms, facts = store.fetch("SELECT (SELECT count(*) FROM rooms), (SELECT count(*) FROM room_facts "
                                   "WHERE room_sid IN (SELECT room_sid FROM rooms))")[1][0]
        assert rooms == facts >= 6 * ROOMS_PER_DAY
        oldest_room = store.fetch("SELECT min(create_ms) FROM rooms")[1][0][0]
        earlier = store.fetch(q("SELECT count(*), min(create_ms) FROM room_facts WHERE create_ms < :t",
                                t=oldest_room))[1][0]
        assert earlier[0] >= 6 * ROOMS_PER_DAY  # the previous week, facts only
        assert earlier[1] >= oldest_room - 8 * DAY_MS
    finally:
        store.close()
