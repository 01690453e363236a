"""The room and participant summary pages in a real browser over demo data: fields, issues, the
participants table, the Send/Receive graphs (panels, threshold lines, gaps, shared zoom), tabs, error
pages, another account's data, narrow screens and time to first render."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from conftest import make_account
from support import console_login, console_post
from video_insights.analytics.rooms import participant_tracks
from video_insights.demo.generator import generate
from video_insights.model.labels import value_label
from video_insights.query.fields import ROOM_FIELDS
from video_insights.query.sql import q
from video_insights.web.pages.participant import columns, graph_data

# ECharts instances behind the page's graph elements, read from the page.
CHART_OPTION = "el => echarts.getInstanceByDom(el).getOption()"


def api(console: Any, creds: Any) -> httpx.Client:
    return httpx.Client(base_url=console.url, auth=creds.basic, timeout=30)


def room_with_issues(console: Any, issue: str = "packet_loss") -> dict[str, Any]:
    with api(console, console.demo) as c:
        rooms = c.get("/v1/Video/Rooms", params={"_range": "30d", "issue_type__eq": issue,
                                                 "room_type__eq": "group", "PageSize": 1}).json()["rooms"]
    assert rooms, "the demo data has a group room with packet loss"
    room: dict[str, Any] = rooms[0]
    return room


def participants_of(console: Any, room_sid: str) -> list[dict[str, Any]]:
    with api(console, console.demo) as c:
        body = c.get(f"/v1/Video/Rooms/{room_sid}/Participants", params={"PageSize": 1000}).json()
    found: list[dict[str, Any]] = body["participants"]
    return found


def metrics_of(console: Any, room_sid: str, participant_sid: str) -> dict[str, Any]:
    with api(console, console.demo) as c:
        r = c.get(f"/v1/Video/Rooms/{room_sid}/Participants/{participant_sid}/Metrics")
    assert r.status_code == 200
    body: dict[str, Any] = r.json()
    return body


def chart_options(page: Any, selector: str) -> list[dict[str, Any]]:
    options: list[dict[str, Any]] = page.eval_on_selector_all(selector, f"els => els.map({CHART_OPTION})")
    return options


def test_room_page_shows_fields_issues_and_participants(signed_in: Any, console: Any, screenshot_dir: Any) -> None:
    room = room_with_issues(console)
    people = participants_of(console, room["room_sid"])
    page = signed_in()
    page.goto(f"{console.url}/rooms/{room['room_sid']}")
    assert page.inner_text("h1") == room["room_name"]
    for f in ROOM_FIELDS:  # every field of the rooms list, labelled
        assert page.locator(f"#room-fields [data-field={f.name}] dt").inner_text().lower() == f.label.lower()
    assert page.inner_text("[data-field=unique_participants] dd") == str(room["unique_participants"])
    # The API keeps the raw value; the page shows its label.
    assert room["room_type"] == "group" and page.inner_text("[data-field=room_type] dd") == "Group"
    # Timestamps are shown in the viewer's zone (the browser runs in Europe/Berlin), not UTC.
    created = page.locator("[data-field=create_time] time")
    assert "UTC" not in created.inner_text() and "Europe/Berlin" in (created.get_attribute("title") or "")

    details = room["detected_issues"]["details"]
    rows = page.locator("table.issues tbody tr")
    assert rows.count() == len(details) > 0
    loss = [d for d in details if d["issue_type"] == "packet_loss"]
    shown = page.locator("table.issues tr[data-issue-type=packet_loss]")
    assert shown.count() == len(loss)
    first = shown.first.inner_text()
    assert "High packet loss" in first and "5 %" in first and "sent" in first
    assert any(f"{d['properties']['value']:.2f}".rstrip("0").rstrip(".") in first for d in loss)

    table = page.locator("#participants-table tbody tr")
    assert table.count() == len(people)
    for p in people:
        row = page.locator(f"#participants-table tr[data-participant-sid={p['participant_sid']}]")
        text = row.inner_text()
        assert p["participant_sid"] in text and (p["participant_identity"] or "(no identity)") in text
        assert (value_label("end_reason", p["end_reason"]) or "Unknown") in text
    page.screenshot(path=str(screenshot_dir / "room-summary.png"), full_page=True)
    page.goto(f"{console.url}/rooms/{room['room_sid']}?_page=1")  # past the last page of participants
    assert "No participants on this page" in page.inner_text("#participants")
    page.go_back()

    # Follow a participant with issues to its page.
    target = next(p for p in people if "packet_loss" in p["issue_types"])
    page.click(f"#participants-table tr[data-participant-sid={target['participant_sid']}] a")
    page.wait_for_url(f"**/rooms/{room['room_sid']}/participants/{target['participant_sid']}")
    assert page.inner_text("h1") == target["participant_identity"]
    assert page.locator("table.issues tr[data-issue-type=packet_loss]").count() == 1


def test_room_without_issues_says_so(signed_in: Any, console: Any) -> None:
    with api(console, console.demo) as c:
        (room,) = c.get("/v1/Video/Rooms", params={"_range": "30d", "issue_count__eq": "0",
                                                   "PageSize": 1}).json()["rooms"]
    page = signed_in()
    page.goto(f"{console.url}/rooms/{room['room_sid']}")
    assert "Nothing crossed an issue threshold" in page.inner_text("#issues")
    assert page.locator("table.issues").count() == 0
    assert page.locator("#participants-table tbody tr").count() == room["unique_participants"]


def _wait_for_charts(page: Any, panel: str) -> None:
    page.wait_for_function(
        f"() => [...document.querySelectorAll('#{panel} .qchart')].every(el => echarts.getInstanceByDom(el))")


def wheel_zoom(page: Any, chart: Any) -> None:
    """Zoom in with the mouse wheel over a graph, as a person would."""
    chart.scroll_into_view_if_needed()
    box = chart.bounding_box()
    page.mouse.move(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
    for _ in range(3):
        page.mouse.wheel(0, -400)
        page.wait_for_timeout(100)
    page.wait_for_timeout(300)


def test_participant_graphs_send_and_receive(signed_in: Any, console: Any, screenshot_dir: Any) -> None:
    # A participant with packet loss who also received something (the newest such room may have had
    # one participant only, depending on the time of day the demo data ends).
    with api(console, console.demo) as c:
        rooms = c.get("/v1/Video/Rooms", params={"_range": "30d", "issue_type__eq": "packet_loss",
                                                 "room_type__eq": "group", "unique_participants__gte": "2",
                                                 "PageSize": 10}).json()["rooms"]
    room, target, metrics = next(
        (r, p, m) for r in rooms for p in participants_of(console, r["room_sid"]) if "packet_loss" in p["issue_types"]
        and (m := metrics_of(console, r["room_sid"], p["participant_sid"]))["receive_tracks"])
    psid = target["participant_sid"]
    tracks = participant_tracks(console.store, console.demo.account_sid, room["room_sid"], psid)
    page = signed_in()
    url = f"{console.url}/rooms/{room['room_sid']}/participants/{psid}"
    page.goto(url)

    # Characteristics as the API states them.
    assert target["os"]["name"] in page.inner_text("[data-field=os] dd")
    assert target["browser"]["name"] in page.inner_text("[data-field=browser] dd")
    assert target["sdk"]["name"] in page.inner_text("[data-field=sdk] dd")
    assert (target["user_agent"] or "Unknown") in page.inner_text("[data-field=user_agent] dd")
    published = target["tracks_published"]
    assert f"{published['audio']} audio · {published['video']} video" in page.inner_text(
        "[data-field=tracks_published] dd")

    # Send: one panel per published track, three graphs each, the thresholds drawn.
    _wait_for_charts(page, "panel-send")
    panels = page.locator("#panel-send .track-panel")
    assert panels.count() == len(tracks) == published["audio"] + published["video"]
    assert sorted(panels.evaluate_all("els => els.map(e => e.dataset.trackSid)")) == sorted(
        t["track_sid"] for t in tracks)
    assert page.locator("#panel-send .qchart canvas").count() == 3 * len(metrics["send"])
    loss = chart_options(page, "#panel-send .qchart[data-metric=loss]")
    rtt = chart_options(page, "#panel-send .qchart[data-metric=rtt]")
    settings = console.app.state.services.settings
    assert [o["series"][0]["markLine"]["data"][0]["yAxis"] for o in loss] == \
        [settings.packet_loss_threshold_pct] * len(metrics["send"])
    assert [o["series"][0]["markLine"]["data"][0]["yAxis"] for o in rtt] == \
        [settings.rtt_threshold_ms] * len(metrics["send"])
    # The graphs draw what /Metrics answers: the same number of measured points per track.
    bitrate = chart_options(page, "#panel-send .qchart[data-metric=bitrate]")
    by_sid = {s["track_sid"]: s for s in metrics["send"]}
    sids = page.locator("#panel-send .track-panel:has(.qchart)").evaluate_all("els => els.map(e => e.dataset.trackSid)")
    for sid, option in zip(sids, bitrate, strict=True):
        drawn = [d for d in option["series"][0]["data"] if (d["value"] if isinstance(d, dict) else d)[1] is not None]
        assert len(drawn) == sum(p["bitrate_bps"] is not None for p in by_sid[sid]["points"])
    page.screenshot(path=str(screenshot_dir / "participant-send.png"), full_page=True)

    # Each panel's graphs as a table, the same values as /Metrics (a gap reads "not measured").
    first = page.locator("#panel-send details.data-table").first
    first.locator("summary").click()
    sid = first.evaluate("d => d.closest('.track-panel').dataset.trackSid")
    header = first.locator("thead th").all_text_contents()
    assert header == ["Time", "Bitrate", "Packet loss (%)", "Round trip time (ms)"]
    cells = first.locator("tbody tr").evaluate_all("rows => rows.map(r => [...r.cells].map(c => c.textContent))")
    shown = [float(row[2].removesuffix(" %").replace(",", "")) for row in cells if row[2] != "not measured"]
    # Two decimals, as the page prints them: a value half-way (36.625) may round either way there.
    assert shown == pytest.approx([p["packet_loss_pct"] for p in by_sid[sid]["points"]
                                   if p["packet_loss_pct"] is not None], abs=0.005 + 1e-6)
    assert len(shown) > 0
    first.screenshot(path=str(screenshot_dir / "participant-send-table.png"))

    # Zooming one graph (the mouse wheel over it) zooms every other graph to the same range.
    wheel_zoom(page, page.locator("#panel-send .qchart[data-metric=rtt]").last)
    zooms = [(o["dataZoom"][0]["start"], o["dataZoom"][0]["end"]) for o in chart_options(page, "#panel-send .qchart")]
    assert zooms[0] != (0, 100) and len(set(zooms)) == 1, zooms
    assert page.locator("#reset-zoom").is_visible()
    page.screenshot(path=str(screenshot_dir / "participant-send-zoomed.png"), full_page=True)

    # Receive (tests/console/test_receive_tab.py has the rest): one panel per incoming track, the tab in
    # the URL, and the same zoom.
    page.click("#tab-receive")
    assert page.url.endswith("?tab=receive")
    assert page.locator("#panel-receive").is_visible() and not page.locator("#panel-send").is_visible()
    _wait_for_charts(page, "panel-receive")
    assert page.locator("#panel-receive .track-panel").count() == len(metrics["receive_tracks"]) > 0
    receive = chart_options(page, "#panel-receive .qchart")
    assert {(o["dataZoom"][0]["start"], o["dataZoom"][0]["end"]) for o in receive} == {zooms[0]}
    page.screenshot(path=str(screenshot_dir / "participant-receive.png"), full_page=True)

    # The tabs work from the keyboard, and a reload keeps the chosen tab.
    page.focus("#tab-receive")
    page.keyboard.press("ArrowLeft")
    assert page.evaluate("document.activeElement.id") == "tab-send"
    assert page.get_attribute("#tab-send", "aria-selected") == "true" and "tab=" not in page.url
    page.keyboard.press("End")
    assert page.get_attribute("#tab-receive", "aria-selected") == "true"
    page.reload()
    assert page.locator("#panel-receive").is_visible() and not page.locator("#panel-send").is_visible()


def test_graph_columns_break_where_nothing_was_measured() -> None:
    points = [{"time": "2026-01-01T10:00:00Z", "bitrate_bps": 1000},
              {"time": "2026-01-01T10:00:10Z", "bitrate_bps": None},
              {"time": "2026-01-01T10:01:00Z", "bitrate_bps": 3000}]
    out = columns(points, ("bitrate_bps",), 10_000)
    t0 = 1767261600000
    assert out["t"] == [t0, t0 + 10_000, t0 + 20_000, t0 + 60_000]
    assert out["bitrate_bps"] == [1000, None, None, 3000]


def test_late_track_is_drawn_over_its_own_span() -> None:
    metrics = {"interval_sec": 10, "receive": [], "receive_tracks": [], "send": [
        {"track_sid": "MTa", "kind": "audio", "name": "mic", "codec": "opus",
         "points": [{"time": "2026-01-01T10:00:00Z", "bitrate_bps": 1, "packet_loss_pct": 0, "rtt_ms": 9}]},
        {"track_sid": "MTb", "kind": "video", "name": "screen", "codec": "VP8",
         "points": [{"time": "2026-01-01T10:05:00Z", "bitrate_bps": 2, "packet_loss_pct": 0, "rtt_ms": 9}]}]}
    participant = {"join_ms": 1767261590000, "leave_ms": 1767262000000, "last_activity_ms": None}
    tracks = [{"track_sid": "MTc", "kind": "video", "name": "camera", "codec": "VP8"}]
    data = graph_data(metrics, tracks, participant, {"packet_loss_pct": 5.0, "rtt_ms": None})
    assert [p["id"] for p in data["send"]] == ["MTc", "MTa", "MTb"]  # unmeasured tracks keep a panel
    assert data["send"][0]["series"] is None
    assert data["send"][2]["series"]["t"] == [1767261900000]
    assert data["range"] == [1767261590000, 1767262000000]
    assert data["thresholds"]["rtt_ms"] is None


def test_participant_without_samples_says_so(signed_in: Any, console: Any, screenshot_dir: Any) -> None:
    _, rows = console.store.fetch(q(
        "SELECT p.room_sid, p.participant_sid FROM participants p WHERE p.account_sid = :a AND NOT EXISTS "
        "(SELECT 1 FROM stream_samples s WHERE s.account_sid = p.account_sid "
        "AND s.participant_sid = p.participant_sid) ORDER BY p.participant_sid LIMIT 1", a=console.demo.account_sid))
    if not rows:
        pytest.fail("the demo data has a participant that sent no statistics")
    room_sid, psid = rows[0]
    metrics = metrics_of(console, room_sid, psid)
    assert metrics["send"] == [] and metrics["receive"] == [] and metrics["receive_tracks"] == []
    page = signed_in()
    page.goto(f"{console.url}/rooms/{room_sid}/participants/{psid}")
    assert "No quality data received" in page.inner_text("#quality")
    assert page.locator(".qchart").count() == 0
    page.screenshot(path=str(screenshot_dir / "participant-no-data.png"), full_page=True)


def test_another_accounts_room_and_participant_are_404(signed_in: Any, console: Any, screenshot_dir: Any) -> None:
    with api(console, console.other) as c:
        (room,) = c.get("/v1/Video/Rooms", params={"_range": "30d", "PageSize": 1}).json()["rooms"]
        psid = c.get(f"/v1/Video/Rooms/{room['room_sid']}/Participants").json()["participants"][0]["participant_sid"]
    page = signed_in()  # the demo account
    for path in (f"/rooms/{room['room_sid']}", f"/rooms/{room['room_sid']}/participants/{psid}"):
        response = page.goto(console.url + path)
        assert response.status == 404
        assert room["room_name"] not in page.content()
        assert f"room {room['room_sid']} not found" in page.inner_text(".message")
    page.screenshot(path=str(screenshot_dir / "participant-other-account-404.png"), full_page=True)
    # A participant of one room asked for under another room of the same account is not found either.
    mine = room_with_issues(console)
    response = page.goto(f"{console.url}/rooms/{mine['room_sid']}/participants/{psid}")
    assert response.status == 404


@pytest.mark.parametrize(("path", "status", "message"), [
    ("/rooms/nonsense", 404, "room 'nonsense' not found (expected RM followed by 32 hex digits)"),
    ("/rooms/RM" + "0" * 32, 404, "room RM" + "0" * 32 + " not found"),
    ("/rooms/{room}/participants/PA123", 404, "participant 'PA123' not found"),
    ("/rooms/{room}/participants/PA" + "f" * 32, 404, "participant PA" + "f" * 32 + " not found"),
    ("/rooms/{room}/participants/{participant}?tab=sideways", 400, "tab: must be one of send, receive"),
    ("/rooms/{room}?_page=x", 400, "_page: must be a whole number"),
    ("/rooms/{room}?colour=red", 400, "colour: unknown parameter"),
])
def test_bad_urls_show_an_error_page(signed_in: Any, console: Any, screenshot_dir: Any, path: str, status: int,
                                     message: str) -> None:
    room = room_with_issues(console)
    participant = participants_of(console, room["room_sid"])[0]["participant_sid"]
    page = signed_in()
    response = page.goto(console.url + path.format(room=room["room_sid"], participant=participant))
    assert response.status == status
    assert message in page.inner_text(".message")
    if "nonsense" in path:
        page.screenshot(path=str(screenshot_dir / "room-bad-sid.png"), full_page=True)


def test_narrow_screen(signed_in: Any, console: Any, screenshot_dir: Any) -> None:
    room = room_with_issues(console)
    target = next(p for p in participants_of(console, room["room_sid"]) if "packet_loss" in p["issue_types"])
    page = signed_in(viewport={"width": 400, "height": 860})
    pages = {"room": f"/rooms/{room['room_sid']}",
             "participant": f"/rooms/{room['room_sid']}/participants/{target['participant_sid']}"}
    for name, path in pages.items():
        page.goto(console.url + path)
        # Nothing but the tables' own scrolling boxes is wider than the screen.
        assert page.evaluate("document.documentElement.scrollWidth") <= 400
        if name == "participant":
            _wait_for_charts(page, "panel-send")
            widths = page.eval_on_selector_all("#panel-send .qchart", "els => els.map(e => e.clientWidth)")
            assert widths and min(widths) > 300
        page.screenshot(path=str(screenshot_dir / f"{name}-narrow.png"), full_page=True)


def test_parent_sees_a_subaccounts_room_after_switching(live_server: Any, creds: Any) -> None:
    sub = make_account(live_server.store, parent=creds.account_sid)
    generate(live_server.store, live_server.settings, account_sid=sub.account_sid, days=1, rooms_per_day=3,
             seed=5, progress=False)
    with httpx.Client(base_url=live_server.url, auth=sub.basic) as c:
        room = c.get("/v1/Video/Rooms", params={"_range": "7d", "PageSize": 1}).json()["rooms"][0]
    html = {"accept": "text/html"}
    with httpx.Client(base_url=live_server.url, headers=html) as browser_like:
        console_login(browser_like, creds)
        # Viewing the parent: the room is another account's, and the page says which one.
        r = browser_like.get(f"/rooms/{room['room_sid']}")
        assert r.status_code == 404 and f"belongs to account {sub.account_sid}" in r.text
        console_post(browser_like, "/account", {"account_sid": sub.account_sid, "next": "/rooms"})
        r = browser_like.get(f"/rooms/{room['room_sid']}")
        assert r.status_code == 200 and room["room_name"] in r.text
