"""The live view (`/live`) in Chromium, fed by what twilio-video.js really sends over the gateway: a room
shows within 2 s of its first message without a reload, its participants' last interval and threshold
markers follow their reports, and it leaves when Twilio says the room ended. Its stream carries only
the signed-in account's rooms, and an in-progress participant's graphs grow on its page."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import httpx
import orjson
import pytest

from conftest import make_account
from support import Creds, console_login, sdk_frames, sdk_session, twilio_sign
from video_insights.model.ids import new_sid

Send = Callable[[list[dict[str, Any]]], None]
Call = tuple[Send, str, list[dict[str, Any]]]


@contextmanager
def gateway_call(url: str, creds: Creds, room: str, identity: str, room_name: str) -> Iterator[Call]:
    """A participant as twilio-video.js connects it (its recorded frames, moved to now); yields a function
    that sends frames in its session, its participant SID, and the frames after the connect."""
    connect_frame, *events = sdk_frames("loss10")
    participant = new_sid("PA")
    with sdk_session(url, creds, connect_frame, room, participant, identity=identity, room_name=room_name) as send:
        yield send, participant, events


def room_ended(url: str, creds: Creds, room: str, room_name: str) -> None:
    """Twilio's signed `room-ended` status callback for the room."""
    target = f"{url}/webhooks/twilio"
    params = {"AccountSid": creds.account_sid, "RoomSid": room, "RoomName": room_name, "RoomType": "group",
              "StatusCallbackEvent": "room-ended", "RoomDuration": "30",
              "Timestamp": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())}
    r = httpx.post(target, data=params, timeout=30, headers={"X-Twilio-Signature": twilio_sign(creds.auth_token,
                                                                                                target, params)})
    assert r.status_code == 200, r.text


@pytest.fixture(scope="module")
def live(console: Any) -> Creds:
    """An account of its own: the calls these tests make would otherwise be the demo account's
    newest rooms, which other console tests pick."""
    return make_account(console.store)


def open_live(page: Any, url: str) -> None:
    page.goto(f"{url}/live")
    page.wait_for_selector("#live-loading", state="hidden")
    page.evaluate("window.__sameDocument = true")  # gone if the page reloads


def test_a_new_room_shows_within_2s_without_a_reload_and_leaves_when_it_ends(
        signed_in: Any, console: Any, live: Creds, screenshot_dir: Any) -> None:
    page = signed_in(live)
    open_live(page, console.url)
    assert page.locator(".mainnav a[href='/live']").get_attribute("aria-current") == "page"
    room, name = new_sid("RM"), "live-standup"
    with gateway_call(console.url, live, room, "alice.live", name) as (send, participant, events):
        started = time.monotonic()
        row = page.locator(f"tbody[data-room-sid='{room}']")
        row.wait_for(timeout=2_000)
        assert time.monotonic() - started < 2.0
        assert row.locator("a.room-name").inner_text() == name
        person = row.locator(f"tr[data-participant-sid='{participant}']")
        assert "alice.live" in person.inner_text()
        assert "HeadlessChrome" in person.inner_text() or "Chrome" in person.inner_text()

        # Its reports (10 % loss upstream): the last interval's figures and a loss marker appear.
        send(events[:-1])
        row.locator(f"tr[data-participant-sid='{participant}'][data-crossed]").wait_for(timeout=10_000)
        assert "packet_loss" in (person.get_attribute("data-crossed") or "")
        cells = person.locator("td").all_inner_texts()
        assert "kbps" in cells[4] or "Mbps" in cells[4], cells
        assert page.evaluate("window.__sameDocument") is True

        # A quieter room beside it, for the screenshots: it sorts below the one over a threshold.
        quiet = new_sid("RM")
        with gateway_call(console.url, live, quiet, "dana", "design-review"), \
                gateway_call(console.url, live, quiet, "eli", "design-review"):
            page.locator(f"tbody[data-room-sid='{quiet}'] tr[data-participant-sid]").nth(1).wait_for(timeout=3_000)
            assert page.locator("tbody[data-room-sid]").first.get_attribute("data-room-sid") == room
            page.screenshot(path=str(screenshot_dir / "live-1440.png"), full_page=True)
            page.set_viewport_size({"width": 1280, "height": 800})
            page.screenshot(path=str(screenshot_dir / "live-1280.png"), full_page=True)
        room_ended(console.url, live, quiet, "design-review")

        # The participant leaves and Twilio ends the room: it leaves the board, still without a reload.
        send(events[-1:])
        room_ended(console.url, live, room, name)
        row.wait_for(state="detached", timeout=3_000)
        assert page.evaluate("window.__sameDocument") is True


def sse_events(client: httpx.Client, path: str, seconds: float) -> list[tuple[str, dict[str, Any]]]:
    """The events a stream sends within about `seconds` (then the client hangs up). A board is sent
    only when it changes, so a quiet stream ends by the read timeout."""
    out: list[tuple[str, dict[str, Any]]] = []
    deadline = time.monotonic() + seconds
    with client.stream("GET", path, timeout=httpx.Timeout(30, read=seconds)) as r:
        assert r.status_code == 200 and r.headers["content-type"].startswith("text/event-stream")
        name = ""
        try:
            for line in r.iter_lines():
                if line.startswith("event: "):
                    name = line[7:]
                elif line.startswith("data: "):
                    out.append((name, orjson.loads(line[6:])))
                if time.monotonic() > deadline:
                    break
        except httpx.ReadTimeout:
            pass
    return out


def test_the_stream_carries_only_the_signed_in_accounts_rooms(console: Any, live: Creds) -> None:
    room, name = new_sid("RM"), "demo-only"
    with gateway_call(console.url, live, room, "bob", name), \
            httpx.Client(base_url=console.url, timeout=30) as mine, \
            httpx.Client(base_url=console.url, timeout=30) as theirs:
        console_login(mine, live)
        console_login(theirs, console.other)
        seen = sse_events(mine, "/live/stream", 2.5)
        assert any(room in orjson.dumps(data).decode() for _, data in seen), "the account's own room is there"
        other = sse_events(theirs, "/live/stream", 2.5)
        assert other and all(e == "board" for e, _ in other)
        text = b"".join(orjson.dumps(d) for _, d in other).decode()
        assert room not in text and name not in text
        # Every room another account's board shows is that account's.
        shown = {r["room_sid"] for _, d in other for r in d["rooms"]}
        with httpx.Client(base_url=console.url, auth=console.other.basic, timeout=30) as api:
            for sid in shown:
                assert api.get(f"/v1/Video/Rooms/{sid}").status_code == 200
        room_ended(console.url, live, room, name)


def test_streams_refuse_bad_input_and_strangers(console: Any, live: Creds) -> None:
    with httpx.Client(base_url=console.url, timeout=30) as c:
        r = c.get("/live/stream", headers={"accept": "text/event-stream"})
        assert r.status_code in (303, 401)  # not signed in
        console_login(c, live)
        for bad in ("?page=-1", "?page=x", "?page=999999999", "?pages=1"):
            r = c.get("/live/stream" + bad)
            assert r.status_code == 400, (bad, r.text)
            assert r.status_code == 400 and "page" in r.text
        r = c.get(f"/live/rooms/{new_sid('RM')}/participants/{new_sid('PA')}/stream")
        assert r.status_code == 404
        r = c.get("/live/rooms/nonsense/participants/PA1/stream")
        assert r.status_code in (400, 404)


def test_an_in_progress_participants_graphs_grow_on_its_page(signed_in: Any, console: Any, live: Creds) -> None:
    room, name = new_sid("RM"), "live-graphs"
    with gateway_call(console.url, live, room, "carol", name) as (send, participant, events):
        reports = [i for i, f in enumerate(events) if f.get("name") == "stats-report"]
        send(events[:reports[1] + 1])  # the first two reports
        page = signed_in(live)
        api = httpx.Client(base_url=console.url, auth=live.basic, timeout=30)

        def audio_points() -> int:
            m = api.get(f"/v1/Video/Rooms/{room}/Participants/{participant}/Metrics").json()
            return max((len(t["points"]) for t in m["send"] if t["kind"] == "audio"), default=0)

        deadline = time.monotonic() + 10
        while audio_points() < 2:
            assert time.monotonic() < deadline
            time.sleep(0.1)
        page.goto(f"{console.url}/rooms/{room}/participants/{participant}")
        page.wait_for_selector(".qchart canvas")
        page.evaluate("window.__sameDocument = true")
        count = ("() => echarts.getInstanceByDom(document.querySelector('.qchart[data-metric=bitrate]'))"
                 ".getOption().series[0].data.filter((p) => (p.value || p)[1] != null).length")
        before = page.evaluate(count)
        send([events[reports[2]]])  # the third report: the graphs grow by an interval
        deadline = time.monotonic() + 10
        while page.evaluate(count) <= before:
            assert time.monotonic() < deadline, "the graphs did not grow"
            page.wait_for_timeout(100)
        assert page.evaluate("window.__sameDocument") is True
        api.close()
        send(events[reports[2] + 1:])
        room_ended(console.url, live, room, name)


@pytest.mark.parametrize("width", [1440, 1280])
def test_the_board_fits_the_width(signed_in: Any, console: Any, width: int) -> None:
    """No horizontal scrolling of the page at the console's supported widths (the demo account's rooms)."""
    page = signed_in(viewport={"width": width, "height": 900})
    open_live(page, console.url)
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
