"""Times name their zone and switch between the viewer's zone and UTC; the choice is in the URL
(`tz=utc`) and lasts across links, forms and redirects (web/display_zone.py, static/app.js)."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any
from urllib.parse import parse_qsl, urlsplit
from zoneinfo import ZoneInfo

import httpx

from support import console_login

BERLIN = ZoneInfo("Europe/Berlin")  # the browser's zone (tests/console/conftest.py)


def _zone_of(url: str) -> str | None:
    return dict(parse_qsl(urlsplit(url).query)).get("tz")


def _first_time(page: Any) -> tuple[str, datetime]:
    el = page.locator("main time[datetime]").first
    at = datetime.fromisoformat(str(el.get_attribute("datetime")).replace("Z", "+00:00"))
    return el.inner_text(), at


def test_times_switch_between_local_and_utc_and_the_choice_follows_the_viewer(
        signed_in: Any, console: Any, screenshot_dir: Any) -> None:
    page = signed_in()  # the browser runs in Europe/Berlin
    page.goto(f"{console.url}/rooms?_range=7d")
    text, at = _first_time(page)
    local = at.astimezone(BERLIN)
    assert "UTC" not in text and ("GMT+" in text or "CE" in text), text
    assert f"{local.minute:02d}:{local.second:02d}" in text

    page.click(".zone-switch a[data-zone=utc]")
    page.wait_for_url("**tz=utc**")
    text, at = _first_time(page)
    assert text.endswith("UTC") and f"{at.hour % 12 or 12:02d}:{at.minute:02d}:{at.second:02d}" in text, text
    assert page.locator(".zone-switch a[data-zone=utc]").get_attribute("aria-current") == "true"

    # A sort link, a GET form whose answer is a redirect to the canonical URL, a room, a crumb: all keep it.
    page.click("#rooms-table thead th[data-field=duration_sec] a")
    page.wait_for_load_state()
    assert _zone_of(page.url) == "utc" and "duration_sec" in page.url
    page.select_option("#size", "25")
    page.click(".rooms-toolbar button[type=submit]")
    page.wait_for_url("**_size=25**")
    assert _zone_of(page.url) == "utc"
    page.click("#rooms-table tbody tr:first-child a[href^='/rooms/RM']")
    page.wait_for_url("**/rooms/RM*")
    assert _zone_of(page.url) == "utc"
    assert _first_time(page)[0].endswith("UTC")
    page.screenshot(path=str(screenshot_dir / "room-utc.png"), full_page=True)
    page.click("nav.crumbs a[href^='/rooms']")
    page.wait_for_load_state()
    assert _zone_of(page.url) == "utc" and urlsplit(page.url).path == "/rooms"

    page.click(".zone-switch a[data-zone=local]")
    page.wait_for_load_state()
    assert _zone_of(page.url) is None and "UTC" not in _first_time(page)[0]


def test_a_form_post_keeps_utc_through_its_redirect(console: Any) -> None:
    with httpx.Client(base_url=console.url, timeout=30) as c:
        r = console_login(c, console.demo, next="/rooms?_range=7d")
        assert r.status_code == 303
        page = c.get("/login?tz=utc")
        assert page.status_code in (200, 303)
        answer = c.get("/rooms", params={"_range": "7d", "_size": "25", "_period": "24h", "tz": "utc"})
        assert answer.status_code == 303 and _zone_of(answer.headers["location"]) == "utc"
        # The page itself never sees the parameter: it is checked as strictly as without it.
        assert c.get("/rooms/RM00000000000000000000000000000000", params={"tz": "utc"}).status_code == 404
        assert c.get("/rooms", params={"tz": "utc", "nonsense": "1"}).status_code == 400


def test_a_bad_zone_is_named(console: Any) -> None:
    with httpx.Client(base_url=console.url, timeout=30) as c:
        r = c.get("/rooms", params={"tz": "Mars/Olympus"})
        assert r.status_code == 400 and "tz: must be one of local, utc" in r.text


def test_dashboard_hours_follow_the_choice(signed_in: Any, console: Any) -> None:
    """Hourly buckets are labelled in the chosen zone: Berlin's hours by default, UTC's with tz=utc."""
    page = signed_in()
    shown = {}
    for zone in ("local", "utc"):
        page.goto(f"{console.url}/?tz={zone}")
        page.wait_for_function("() => echarts.getInstanceByDom(document.getElementById('chart-rooms'))")
        times = json.loads(page.inner_text("#dashboard-data"))["times"]
        axis = page.evaluate("() => echarts.getInstanceByDom(document.getElementById('chart-rooms'))"
                             ".getOption().xAxis[0].data")
        shown[zone] = [(t, label) for t, label in zip(times, axis, strict=True) if ":" in label]
        assert shown[zone]
    for zone, tz in (("local", BERLIN), ("utc", UTC)):
        for t, label in shown[zone]:
            at = datetime.fromisoformat(t.replace("Z", "+00:00")) if isinstance(t, str) else \
                datetime.fromtimestamp(t / 1000, tz=UTC)
            hour = at.astimezone(tz).hour
            assert label.startswith(f"{hour % 12 or 12:02d}:"), (zone, t, label)
