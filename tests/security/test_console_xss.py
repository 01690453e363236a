"""Stored XSS through telemetry: a participant's client sets every string it controls to markup, and a
signed-in user then opens every console page and hovers over every chart in Chromium.

Two layers are checked apart. With the Content-Security-Policy bypassed, nothing injected may run or
become an element: the escaping itself holds. With the policy on, no page may trip it either: a page
that needs an inline script or style the policy forbids would be broken for users, and a violation is
also what a missed escape would look like.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from security.hostile import Server, Session, now_ms, send_call, video_reports
from video_insights.analytics.dashboard import SEGMENTS

# Each payload says which field carried it when it runs.
FIELDS = ("name", "platformName", "hwDeviceManufacturer", "region", "brand", "qualityLimitationReason",
          "peerConnectionId", "identity", "roomName", "trackId")


def payload(field: str) -> str:
    return f"<img src=x onerror=__xss.push({FIELDS.index(field)})>"


WATCH = """
window.__xss = [];
window.__violations = [];
document.addEventListener("securitypolicyviolation",
  (e) => window.__violations.push(e.violatedDirective + " " + e.blockedURI + " " + (e.sample || "")));
"""


def hostile_publisher() -> dict[str, Any]:
    return {
        "name": payload("name"), "sdkVersion": "2.28.0", "platformName": payload("platformName"),
        "hwDeviceManufacturer": payload("hwDeviceManufacturer"), "region": payload("region"),
        "identity": payload("identity"), "roomName": payload("roomName"),
        "userAgent": "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0 "
                     "Safari/537.36",
        "userAgentData": {"fullVersionList": [{"brand": payload("brand"), "version": "131.0.1"}],
                          "brands": [{"brand": payload("brand"), "version": "131"}], "platform": "Linux"},
    }


@pytest.fixture(scope="module")
def hostile(server: Server) -> Session:
    start = now_ms() - 5 * 60_000
    publisher = hostile_publisher()
    reports = video_reports(start, 12, pc_id=payload("peerConnectionId"), reason=payload("qualityLimitationReason"),
                            track_id=payload("trackId"))
    # The call ends: an in-progress participant's page follows it live and reloads when it times out
    # (60 s after its last report), which on a slow machine fell in the middle of a test.
    left = {"type": "event", "group": "room", "name": "disconnected", "timestamp": start + 12 * 10_000, "payload": {}}
    return send_call(server, publisher, reports=reports, events=[left])


@pytest.fixture(params=["escaping", "policy"])
def viewer(request: pytest.FixtureRequest, browser: Any, server: Server) -> Iterator[Any]:
    """A signed-in page; `escaping` runs with the CSP bypassed, `policy` with it enforced."""
    context = browser.new_context(viewport={"width": 1440, "height": 900}, bypass_csp=request.param == "escaping")
    context.add_init_script(WATCH)
    page = context.new_page()
    page.goto(f"{server.url}/login")
    page.fill("#username", server.creds.account_sid)
    page.fill("#password", server.creds.auth_token)
    page.click("button[type=submit]")
    page.wait_for_url(f"{server.url}/")
    yield page
    context.close()


def hover_over(page: Any, selector: str) -> int:
    """Move the pointer across every chart matching `selector`; how many tooltips showed a payload."""
    shown = 0
    for chart in page.locator(selector).all():
        chart.scroll_into_view_if_needed()
        box = chart.bounding_box()
        assert box and box["width"] > 0, f"{selector} is not drawn"
        for step in range(1, 20):
            page.mouse.move(box["x"] + box["width"] * step / 20, box["y"] + box["height"] * 0.6)
            page.wait_for_timeout(15)
            tips = page.evaluate("""() => [...document.querySelectorAll("div")]
                .filter((d) => d.style.position === "absolute" && d.style.display !== "none"
                               && d.querySelector(".tt")).map((d) => d.textContent)""")
            shown += sum("<img src=x" in t for t in tips)
    return shown


def assert_inert(page: Any, where: str) -> None:
    ran = page.evaluate("window.__xss")
    assert ran == [], f"{where}: script from {[FIELDS[i] for i in ran]} ran"
    injected = page.evaluate("document.querySelectorAll('img[src=\"x\"], img[src$=\"/x\"]').length")
    assert injected == 0, f"{where}: telemetry became an <img> element"
    assert page.evaluate("window.__violations") == [], f"{where}: {page.evaluate('window.__violations')}"


def test_dashboard_participants_chart_in_every_segment(viewer: Any, server: Server, hostile: Session) -> None:
    hostile_segments = 0
    for segment in SEGMENTS:
        viewer.goto(f"{server.url}/?_range=24h&granularity=hour&segment={segment}")
        viewer.wait_for_selector("#chart-participants canvas")
        for chart in ("#chart-rooms", "#chart-minutes"):
            hover_over(viewer, chart)
        shown = hover_over(viewer, "#chart-participants")
        hostile_segments += shown > 0
        assert_inert(viewer, f"dashboard, segment {segment}")
    # Five of the six segments are client strings (end reasons are ours): each showed its payload as text.
    assert hostile_segments >= 5


def test_participant_graphs_and_pages(viewer: Any, server: Server, hostile: Session) -> None:
    url = f"/rooms/{hostile.room_sid}/participants/{hostile.participant_sid}"
    viewer.goto(server.url + url)
    viewer.wait_for_selector(".qchart canvas")
    shown = hover_over(viewer, "#panel-send .qchart[data-metric=bitrate]")
    assert shown > 0, "the bitrate tooltip shows the limitation reason"
    hover_over(viewer, "#panel-send .qchart[data-metric=loss], #panel-send .qchart[data-metric=rtt]")
    viewer.click("#tab-receive")
    viewer.wait_for_selector("#panel-receive .qchart canvas")
    hover_over(viewer, "#panel-receive .qchart[data-metric=bitrate]")
    # Nobody published the received track here: its heading names it by the client's track id, as text.
    assert "<img src=x" in viewer.inner_text("#panel-receive h3"), "the received track is named by its track id"
    assert_inert(viewer, "participant page")
    for page in (f"/rooms/{hostile.room_sid}", "/rooms?_range=24h", url):
        viewer.goto(server.url + page)
        assert_inert(viewer, page)


def test_live_view_and_live_graphs(viewer: Any, server: Server) -> None:
    """A call in progress, its last report seconds ago: on the live board and on its live participant page."""
    reports = video_reports(now_ms() - 60_000, 6, pc_id=payload("peerConnectionId"),
                            reason=payload("qualityLimitationReason"), track_id=payload("trackId"))
    live = send_call(server, hostile_publisher(), reports=reports)
    viewer.goto(f"{server.url}/live")
    room = viewer.locator(f"tbody[data-room-sid='{live.room_sid}']")
    room.wait_for(timeout=5_000)
    text = room.inner_text()
    for field in ("roomName", "identity", "brand"):
        assert payload(field) in text, f"{field} shows as text"
    assert_inert(viewer, "live view")
    viewer.goto(f"{server.url}/rooms/{live.room_sid}/participants/{live.participant_sid}")
    viewer.wait_for_selector(".qchart canvas")
    viewer.wait_for_timeout(1_500)  # the live stream's first update redraws the graphs
    assert hover_over(viewer, "#panel-send .qchart[data-metric=bitrate]") > 0
    assert_inert(viewer, "live participant page")
