"""The dashboard in a real browser and over plain HTTP: graphs, segment and issue filters, bucket clicks."""

from __future__ import annotations

import html
import json
import re
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit
from zoneinfo import ZoneInfo

import httpx
import pytest

from support import console_login

HOUR_MS = 3_600_000


@pytest.fixture
def client(console: Any) -> Iterator[httpx.Client]:
    """A plain HTTP client holding the demo account's session cookie (from a login POST)."""
    with httpx.Client(base_url=console.url, follow_redirects=False, timeout=30) as c:
        r = console_login(c, console.demo)
        assert r.status_code == 303
        yield c


def iso(ms: int) -> str:
    return datetime.fromtimestamp(ms / 1000, tz=UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def last_whole_day() -> tuple[str, str]:
    """The 24 hours before the current whole hour: a fixed window both the page and the API can be asked for."""
    until = int(time.time() * 1000) // HOUR_MS * HOUR_MS
    return iso(until - 24 * HOUR_MS), iso(until)


def embedded(page_html: str) -> dict[str, Any]:
    found = re.search(r'<script type="application/json" id="dashboard-data">(.*?)</script>', page_html, re.S)
    assert found, "the graphs' data is in the page"
    data: dict[str, Any] = json.loads(found.group(1))
    return data


def series_sums(page: Any, chart_id: str) -> dict[str, float]:
    return dict(page.evaluate("""(id) => echarts.getInstanceByDom(document.getElementById(id)).getOption().series
        .map(s => [s.name, s.data.reduce((a, b) => a + Number(b !== null && typeof b === "object" ? b.value : b),
                                          0)])""", chart_id))


def params(url: str) -> list[tuple[str, str]]:
    return parse_qsl(urlsplit(url).query, keep_blank_values=True)


def test_three_graphs_draw_the_apis_numbers(signed_in: Any, console: Any, screenshot_dir: Any) -> None:
    page = signed_in()
    assert page.locator("#chart-rooms canvas").count() == 1
    assert page.locator("[data-loading]").count() == 0  # every "Loading chart…" was replaced by its chart
    page.screenshot(path=str(screenshot_dir / "dashboard-24h.png"), full_page=True)

    since, until = last_whole_day()
    window = urlencode({"_since": since, "_until": until})
    page.goto(f"{console.url}/?{window}")
    api = httpx.Client(base_url=console.url, auth=console.demo.basic, timeout=30)
    rooms = api.get(f"/v1/Video/Dashboard/Rooms?{window}").json()["totals"]
    people = api.get(f"/v1/Video/Dashboard/Participants?{window}").json()["totals"]
    minutes = api.get(f"/v1/Video/Dashboard/Minutes?{window}").json()["totals"]
    assert rooms["rooms"] > rooms["rooms_with_issues"] > 0

    drawn = series_sums(page, "chart-rooms")
    assert drawn == {"Without issues": rooms["rooms"] - rooms["rooms_with_issues"],
                     "With issues": rooms["rooms_with_issues"]}
    assert series_sums(page, "chart-participants") == people and sum(people.values()) > 0
    drawn = series_sums(page, "chart-minutes")
    assert drawn["Participant minutes"] == pytest.approx(minutes["participant_minutes"], abs=0.1)
    assert drawn["Recording minutes, previous period"] == pytest.approx(minutes["previous_recording_minutes"], abs=0.1)
    assert drawn["Participant minutes"] > 0
    assert page.inner_text("[data-total=rooms]") == f"{rooms['rooms']:,}"
    assert page.inner_text("[data-total=participants]") == f"{sum(people.values()):,}"


def test_segment_and_issue_filter(signed_in: Any, console: Any, screenshot_dir: Any) -> None:
    page = signed_in()
    everyone = int(page.inner_text("[data-total=participants]").replace(",", ""))
    page.select_option("#segment", "os")
    page.wait_for_url(f"{console.url}/?segment=os")
    names = list(series_sums(page, "chart-participants"))
    assert "Windows" in names and "Chrome" not in names
    assert "by operating system" in page.inner_text("#participants-title + p")

    page.click("a[data-issues=with]")
    page.wait_for_url(f"{console.url}/?segment=os&issues=with")
    with_issues = int(page.inner_text("[data-total=participants]").replace(",", ""))
    assert page.get_attribute("a[data-issues=with]", "aria-current") == "true"
    assert sum(series_sums(page, "chart-participants").values()) == with_issues
    page.screenshot(path=str(screenshot_dir / "dashboard-os-with-issues.png"), full_page=True)

    page.click("a[data-issues=without]")
    page.wait_for_url(f"{console.url}/?segment=os&issues=without")
    without = int(page.inner_text("[data-total=participants]").replace(",", ""))
    assert 0 < with_issues < everyone and with_issues + without == everyone
    page.select_option("#segment", "browser")  # the default: the URL drops it
    page.wait_for_url(f"{console.url}/?issues=without")


def click_in_chart(page: Any, chart_id: str, index: int, value: float) -> None:
    """Click the point of the chart's grid at category `index` and height `value`."""
    page.locator(f"#{chart_id}").scroll_into_view_if_needed()
    x, y = page.evaluate("""([id, i, v]) => echarts.getInstanceByDom(document.getElementById(id))
        .convertToPixel({gridIndex: 0}, [i, v])""", [chart_id, index, value])
    box = page.locator(f"#{chart_id}").bounding_box()
    page.mouse.click(box["x"] + x, box["y"] + y)


def test_clicking_a_bucket_lists_its_rooms(signed_in: Any, console: Any, screenshot_dir: Any) -> None:
    page = signed_in()
    data = json.loads(page.inner_text("#dashboard-data"))
    rooms = data["rooms"]
    i = max(range(len(data["times"])), key=lambda k: rooms["with"][k])
    with_issues, without = rooms["with"][i], rooms["without"][i]
    assert 0 < with_issues <= 50
    click_in_chart(page, "chart-rooms", i, without + with_issues / 2)  # the upper, red part of the bar
    page.wait_for_url(re.compile(r".*/rooms\?issue_count__gt=0&_since=.*"))
    bucket = datetime.fromisoformat(data["times"][i].replace("Z", "+00:00"))
    since = max(bucket, datetime.fromisoformat(data["since"].replace("Z", "+00:00")))
    until = min(bucket + timedelta(hours=1), datetime.fromisoformat(data["until"].replace("Z", "+00:00")))
    fmt = "%Y-%m-%dT%H:%M:%SZ"
    assert params(page.url) == [("issue_count__gt", "0"), ("_since", since.strftime(fmt)),
                                ("_until", until.strftime(fmt))]
    assert page.locator("#rooms-table tbody tr").count() == with_issues
    page.screenshot(path=str(screenshot_dir / "dashboard-bucket-to-rooms.png"), full_page=True)

    page.go_back()
    if without:
        click_in_chart(page, "chart-rooms", i, without / 2)
        page.wait_for_url(re.compile(r".*/rooms\?issue_count__eq=0&_since=.*"))
        assert page.locator("#rooms-table tbody tr").count() == without
        page.go_back()
    click_in_chart(page, "chart-minutes", i, max(data["minutes"]["participant_minutes"]) / 2)
    page.wait_for_url(re.compile(r".*/rooms\?_since=.*"))
    assert page.locator("#rooms-table tbody tr").count() == with_issues + without


def test_custom_period_in_the_viewers_zone(signed_in: Any, console: Any) -> None:
    page = signed_in()  # the browser runs in Europe/Berlin
    assert not page.is_visible("#since")
    page.select_option("#period", "custom")
    berlin = ZoneInfo("Europe/Berlin")
    start = (datetime.now(berlin) - timedelta(days=3)).replace(minute=0, second=0, microsecond=0)
    end = start + timedelta(hours=36)
    page.fill("#since", start.strftime("%Y-%m-%dT%H:%M"))
    page.fill("#until", end.strftime("%Y-%m-%dT%H:%M"))
    page.press("#until", "Enter")
    page.wait_for_url(re.compile(r".*/\?_since=.*"))
    fmt = "%Y-%m-%dT%H:%M:%SZ"
    assert params(page.url) == [("_since", start.astimezone(UTC).strftime(fmt)),
                                ("_until", end.astimezone(UTC).strftime(fmt))]
    assert page.input_value("#period") == "custom"
    assert page.input_value("#since") == start.strftime("%Y-%m-%dT%H:%M")
    assert len(json.loads(page.inner_text("#dashboard-data"))["times"]) >= 36  # hourly up to two days
    page.select_option("#period", "7d")
    page.click("form.toolbar button[type=submit]")
    page.wait_for_url(f"{console.url}/?_range=7d")
    assert json.loads(page.inner_text("#dashboard-data"))["granularity"] == "day"


def test_empty_account_shows_where_to_start(signed_in: Any, console: Any, screenshot_dir: Any) -> None:
    page = signed_in(console.empty)
    text = page.inner_text("main")
    assert "No calls recorded for this account yet" in text
    assert "docs/quickstart.md" in text and "docs/twilio.md" in text
    assert page.locator(".chart").count() == 0
    page.screenshot(path=str(screenshot_dir / "dashboard-empty-account.png"))


def test_narrow_screen(signed_in: Any, console: Any, screenshot_dir: Any) -> None:
    page = signed_in(viewport={"width": 400, "height": 800})
    assert page.evaluate("document.documentElement.scrollWidth") <= 400
    assert page.evaluate("echarts.getInstanceByDom(document.getElementById('chart-rooms')).getWidth()") < 400
    page.screenshot(path=str(screenshot_dir / "dashboard-narrow.png"), full_page=True)


def test_page_comes_with_its_data_and_canonical_urls(client: httpx.Client, console: Any) -> None:
    page = client.get("/?_range=7d&segment=end_reason&issues=with")
    assert page.status_code == 200
    data = embedded(page.text)
    assert data["granularity"] == "day" and data["participants"]["segment"] == "end_reason"
    assert 'data-loading' in page.text  # what shows until the script has drawn the charts
    api = httpx.get(f"{console.url}/v1/Video/Dashboard/Participants?_range=7d&segment=end_reason&issues=with",
                    auth=console.demo.basic).json()
    assert data["participants"]["values"] == api["values"]

    redirects = {
        "/?_range=24h&segment=browser&issues=all": "/",
        "/?issues=with&segment=sdk&_range=7d": "/?_range=7d&segment=sdk&issues=with",
        "/?_period=7d&_since=2024-01-01T00:00&_tz=Europe/Berlin&segment=": "/?_range=7d",
        "/?_range=24h&granularity=hour": "/",
    }
    for asked, canonical in redirects.items():
        r = client.get(asked)
        assert (r.status_code, r.headers.get("location")) == (303, canonical), asked
    since = (datetime.now(UTC) - timedelta(days=2)).replace(minute=0, second=0, microsecond=0)
    local = since.astimezone(ZoneInfo("America/New_York")).strftime("%Y-%m-%dT%H:%M")
    r = client.get(f"/?_period=custom&_since={local}&_tz=America/New_York")
    assert r.headers["location"] == "/?" + urlencode({"_since": since.strftime("%Y-%m-%dT%H:%M:%SZ")})

    for bad, message in (("/?segment=colour", "segment: expected one of device_manufacturer"),
                         ("/?issues=some", "issues: expected one of all, with, without"),
                         ("/?_range=30d", "the dashboard reaches 7 days back"),
                         ("/?_since=yesterday", "_since: 'yesterday' is not a date and time"),
                         ("/?colour=red", "colour: unknown parameter"),
                         ("/?segment=os&segment=sdk", "segment: give it once"),
                         ("/?_tz=Atlantis&_period=custom&_since=2024-01-01T00:00", "_tz: 'Atlantis'")):
        r = client.get(bad, headers={"accept": "text/html"})
        assert r.status_code == 400 and message in html.unescape(r.text), bad


def test_each_account_sees_its_own_numbers(console: Any) -> None:
    since, until = last_whole_day()
    window = urlencode({"_since": since, "_until": until})
    for creds in (console.demo, console.other):
        with httpx.Client(base_url=console.url, timeout=30) as c:
            console_login(c, creds)
            data = embedded(c.get(f"/?{window}").text)
        api = httpx.get(f"{console.url}/v1/Video/Dashboard/Rooms?{window}", auth=creds.basic).json()
        assert data["rooms"]["totals"] == api["totals"] and api["totals"]["rooms"] > 0


def test_dashboard_needs_a_session(console: Any) -> None:
    r = httpx.get(f"{console.url}/?_range=7d", follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"] == "/login?next=%2F%3F_range%3D7d"
