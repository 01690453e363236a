"""What the dashboard's graphs show beyond their numbers, in a real Chromium: colours that stay with a
value, one time axis for the three graphs, the partial hour, the previous period, native SDK segments,
and dark mode."""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest

from console.test_dashboard import series_sums
from video_insights.model.client_segments import BROWSER_SDKS
from video_insights.query.filters import parse_time
from video_insights.query.sql import q

OPTION = "(id) => echarts.getInstanceByDom(document.getElementById(id)).getOption()"


def series_colours(page: Any, chart_id: str) -> dict[str, str]:
    """Each series' colour as the chart holds it (not as this test would compute it)."""
    return dict(page.evaluate(f"""(id) => ({OPTION})(id).series.map(s => [s.name, s.color])""", chart_id))


def grid_rect(page: Any, chart_id: str) -> list[float]:
    return list(page.evaluate("""(id) => {
        const r = echarts.getInstanceByDom(document.getElementById(id)).getModel().getComponent("grid")
            .coordinateSystem.getRect();
        return [r.x, r.y, r.width, r.height]; }""", chart_id))


def axis_x(page: Any, chart_id: str, index: int) -> float:
    x: float = page.evaluate("""([id, i]) => echarts.getInstanceByDom(document.getElementById(id))
        .convertToPixel({gridIndex: 0}, [i, 0])[0]""", [chart_id, index])
    return x


def test_a_value_keeps_its_colour_between_periods(signed_in: Any, console: Any) -> None:
    page = signed_in()
    day = series_colours(page, "chart-participants")
    page.goto(f"{console.url}/?_range=7d")
    week = series_colours(page, "chart-participants")
    shared = set(day) & set(week)
    assert {"Chrome", "Mobile Safari"} <= shared
    assert {v: day[v] for v in shared} == {v: week[v] for v in shared}
    # The values shown together are told apart; rank no longer decides the colour.
    assert len(set(week.values())) == len(week)
    swatches = dict(page.evaluate("""() => [...document.querySelectorAll("[data-swatch]")]
        .map(s => [s.dataset.swatch, getComputedStyle(s).backgroundColor])"""))
    chrome = page.evaluate("""(c) => { const s = document.createElement("span"); s.style.color = c;
        document.body.append(s); const rgb = getComputedStyle(s).color; s.remove(); return rgb; }""", week["Chrome"])
    assert swatches["Chrome"] == chrome  # the totals' legend says the same


@pytest.mark.parametrize("width", [1280, 1440, 1920])
def test_the_three_graphs_share_one_time_axis(signed_in: Any, console: Any, width: int) -> None:
    for period in ("", "?_range=7d"):
        page = signed_in(viewport={"width": width, "height": 900})
        page.goto(f"{console.url}/{period}")
        charts = ("chart-rooms", "chart-participants", "chart-minutes")
        rects = [grid_rect(page, c) for c in charts]
        assert rects[0][0] > 20 and rects[0][2] > 600
        assert all((r[0], r[2]) == (rects[0][0], rects[0][2]) for r in rects), rects
        boxes = [page.locator(f"#{c}").bounding_box() for c in charts]
        last = len(json.loads(page.inner_text("#dashboard-data"))["times"]) - 1
        for i in (0, last):
            xs = {round(b["x"] + axis_x(page, c, i), 1) for b, c in zip(boxes, charts, strict=True)}
            assert len(xs) == 1, (period, i, xs)  # a bucket at the same x on the page in all three


def test_the_hour_in_progress_is_marked_partial(signed_in: Any, console: Any) -> None:
    page = signed_in()
    data = json.loads(page.inner_text("#dashboard-data"))
    last = len(data["times"]) - 1
    # "The last 24 hours" cuts its first and its last hour.
    assert data["partial"][last] and data["partial"][0] and not any(data["partial"][1:last])
    rooms = page.evaluate(f"""(id) => ({OPTION})(id).series.map(s => s.data)""", "chart-rooms")
    assert all(isinstance(s[last], dict) and s[last]["itemStyle"]["decal"] for s in rooms)
    assert all(not isinstance(s[last - 1], dict) for s in rooms)
    for chart in ("chart-participants", "chart-minutes"):
        areas = page.evaluate(f"""(id) => ({OPTION})(id).series.flatMap(s => s.markArea ? s.markArea.data : [])""",
                              chart)
        assert [[a[0]["xAxis"], a[1]["xAxis"]] for a in areas] == [[0, 1], [last - 1, last]]
    page.locator("#chart-minutes").scroll_into_view_if_needed()
    page.evaluate("""(i) => echarts.getInstanceByDom(document.getElementById("chart-minutes"))
        .dispatchAction({type: "showTip", seriesIndex: 0, dataIndex: i})""", last)
    head = page.locator(".tt-head").last.inner_text()
    assert "partial" in head
    page.locator("#minutes-title").scroll_into_view_if_needed()
    assert page.locator("details.data-table").first.locator("[data-partial]").count() == 2


def test_no_data_for_the_previous_period(signed_in: Any, console: Any, screenshot_dir: Any) -> None:
    page = signed_in()
    page.goto(f"{console.url}/?_range=7d")  # two days of demo data: the week before has none
    for key in ("participant_minutes", "recording_minutes"):
        assert page.inner_text(f"[data-delta={key}]") == "no data for the previous period"
    assert "%" not in page.inner_text("section[aria-labelledby=minutes-title] .totals")
    previous = page.evaluate(f"""(id) => ({OPTION})(id).series.filter(s => s.name.endsWith("previous period"))
        .map(s => s.data)""", "chart-minutes")
    assert previous and all(v is None for s in previous for v in s)  # a gap, not a line at zero
    api = httpx.get(f"{console.url}/v1/Video/Dashboard/Minutes?_range=7d", auth=console.demo.basic).json()
    assert api["previous_period"]["recorded"] == "none"

    # The day before: recorded in full (a change, as a percentage) or, when the two days of demo data
    # began within it (it depends on the time of day), in part, which the page says instead.
    page.goto(f"{console.url}/")
    delta = page.inner_text("[data-delta=participant_minutes]")
    day = httpx.get(f"{console.url}/v1/Video/Dashboard/Minutes", auth=console.demo.basic).json()["previous_period"]
    if day["recorded"] == "all":
        assert delta.endswith("%") and delta[0] in "+-", delta
    else:
        assert day["recorded"] == "part" and delta == "previous period only partly recorded", (day, delta)


def test_native_sdk_participants_are_their_sdk_platform(signed_in: Any, console: Any) -> None:
    page = signed_in()
    page.goto(f"{console.url}/?_range=7d")
    drawn = series_sums(page, "chart-participants")
    api = httpx.get(f"{console.url}/v1/Video/Dashboard/Participants?_range=7d", auth=console.demo.basic).json()
    data = json.loads(page.inner_text("#dashboard-data"))
    since, until = (parse_time(k, data[k]) for k in ("since", "until"))
    _, rows = console.store.fetch(q(
        "SELECT sdk_name, count(*) FROM participant_facts WHERE account_sid = :a AND join_ms >= :since "
        "AND join_ms < :until AND browser_name = 'Unknown' GROUP BY sdk_name",
        a=console.demo.account_sid, since=since, until=until))
    native = {sdk: int(n) for sdk, n in rows if sdk not in BROWSER_SDKS}
    assert native["twilio-video-ios"] > 0
    assert drawn["iOS SDK"] == api["totals"]["iOS SDK"] == native["twilio-video-ios"]
    assert api["totals"].get("Android SDK", api["totals"].get("Other")) is not None
    assert drawn.get("Unknown", 0) == sum(int(n) for sdk, n in rows if sdk in BROWSER_SDKS or sdk == "Unknown")


def rgb(page: Any, colour: str) -> tuple[int, int, int]:
    """Any CSS colour as the browser resolves it (the white page beneath, when it is transparent)."""
    text: str = page.evaluate("""(c) => { const s = document.createElement("span"); s.style.color = c;
        document.body.append(s); const rgb = getComputedStyle(s).color; s.remove(); return rgb; }""", colour)
    parts = [float(x) for x in text[text.index("(") + 1:text.index(")")].split(",")]
    if len(parts) == 4 and parts[3] == 0:
        return 255, 255, 255  # transparent: the browser's own canvas shows through, white
    r, g, b = (int(x) for x in parts[:3])
    return r, g, b


def luminance(c: tuple[int, int, int]) -> float:
    """WCAG relative luminance."""
    def channel(v: int) -> float:
        x = v / 255
        return x / 12.92 if x <= 0.03928 else ((x + 0.055) / 1.055) ** 2.4
    return 0.2126 * channel(c[0]) + 0.7152 * channel(c[1]) + 0.0722 * channel(c[2])


def contrast(a: tuple[int, int, int], b: tuple[int, int, int]) -> float:
    hi, lo = sorted((luminance(a), luminance(b)), reverse=True)
    return (hi + 0.05) / (lo + 0.05)


def card_background(page: Any) -> tuple[int, int, int]:
    return rgb(page, page.evaluate("getComputedStyle(document.querySelector('.card')).backgroundColor"))


@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_dashboard_in_light_and_dark(signed_in: Any, console: Any, screenshot_dir: Any, scheme: str) -> None:
    page = signed_in(color_scheme=scheme)
    body = rgb(page, page.evaluate("getComputedStyle(document.body).backgroundColor"))
    card = card_background(page)
    assert (luminance(body) < 0.05) == (scheme == "dark") and (luminance(card) < 0.05) == (scheme == "dark")
    for chart in ("chart-rooms", "chart-participants", "chart-minutes"):
        option = page.evaluate(OPTION, chart)
        for text in (option["xAxis"][0]["axisLabel"]["color"], option["yAxis"][0]["axisLabel"]["color"],
                     option["legend"][0]["textStyle"]["color"]):
            assert contrast(rgb(page, text), card) >= 4.5, (chart, text)  # light text on dark, dark on light
        assert (luminance(rgb(page, option["legend"][0]["textStyle"]["color"])) > 0.5) == (scheme == "dark")
        tooltip = option["tooltip"][0]
        assert contrast(rgb(page, tooltip["textStyle"]["color"]), rgb(page, tooltip["backgroundColor"])) >= 4.5
        for series in option["series"]:
            colour = series.get("color") or series["itemStyle"]["color"]
            assert contrast(rgb(page, colour), card) >= 1.4, series["name"]
    page.screenshot(path=str(screenshot_dir / f"dashboard-{scheme}-1440.png"), full_page=True)
    # A change of scheme while the page is open redraws the charts in the new colours.
    other = "light" if scheme == "dark" else "dark"
    page.emulate_media(color_scheme=other)
    page.wait_for_function("""(dark) => { const c = echarts.getInstanceByDom(document.getElementById("chart-rooms"));
        return c && getComputedStyle(document.body).backgroundColor !== "" &&
               c.getOption().legend[0].textStyle.color === getComputedStyle(document.documentElement)
                 .getPropertyValue("--chart-ink").trim(); }""", arg=other == "dark")
    legend = page.evaluate(OPTION, "chart-rooms")["legend"][0]["textStyle"]["color"]
    assert (luminance(rgb(page, legend)) > 0.5) == (other == "dark")
    page.emulate_media(color_scheme=scheme)
    page.goto(f"{console.url}/?_range=7d")
    page.screenshot(path=str(screenshot_dir / f"dashboard-7d-{scheme}-1440.png"), full_page=True)


@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_threshold_lines_readable_in_both_schemes(signed_in: Any, console: Any, screenshot_dir: Any,
                                                  scheme: str) -> None:
    with httpx.Client(base_url=console.url, auth=console.demo.basic, timeout=30) as c:
        room = c.get("/v1/Video/Rooms", params={"_range": "30d", "issue_type__eq": "packet_loss",
                                                "room_type__eq": "group", "PageSize": 1}).json()["rooms"][0]
        people = c.get(f"/v1/Video/Rooms/{room['room_sid']}/Participants", params={"PageSize": 1000}).json()
    target = next(p for p in people["participants"] if "packet_loss" in p["issue_types"])
    page = signed_in(color_scheme=scheme)
    page.goto(f"{console.url}/rooms/{room['room_sid']}/participants/{target['participant_sid']}")
    page.wait_for_selector("#panel-send .qchart[data-metric=loss] canvas")
    card = card_background(page)
    options = page.eval_on_selector_all("#panel-send .qchart[data-metric=loss]",
                                        "els => els.map(el => echarts.getInstanceByDom(el).getOption())")
    assert options
    for option in options:
        line = option["series"][0]["markLine"]["lineStyle"]["color"]
        assert contrast(rgb(page, line), card) >= 3, line  # WCAG's minimum for graphics
        title = option["title"][0]["textStyle"]["color"]
        assert contrast(rgb(page, title), card) >= 4.5
        assert contrast(rgb(page, option["yAxis"][0]["splitLine"]["lineStyle"]["color"]), card) < 2  # quiet grid
    page.screenshot(path=str(screenshot_dir / f"participant-{scheme}-1440.png"), full_page=True)
    # A change of scheme while the page is open redraws its graphs, threshold lines included.
    other = "light" if scheme == "dark" else "dark"
    page.emulate_media(color_scheme=other)
    page.wait_for_function("""() => [...document.querySelectorAll("#panel-send .qchart[data-metric=loss]")].every(el =>
        echarts.getInstanceByDom(el).getOption().series[0].markLine.lineStyle.color ===
        getComputedStyle(document.documentElement).getPropertyValue("--chart-threshold").trim())""")
    redrawn = page.eval_on_selector("#panel-send .qchart[data-metric=loss]",
                                    "el => echarts.getInstanceByDom(el).getOption()")
    assert redrawn["series"][0]["markLine"]["lineStyle"]["color"] != line
    assert (luminance(rgb(page, redrawn["title"][0]["textStyle"]["color"])) > 0.5) == (other == "dark")
    page.emulate_media(color_scheme=scheme)
    for path, name in (("/rooms", "rooms"), (f"/rooms/{room['room_sid']}", "room"), ("/live", "live"),
                       ("/alerts", "alerts")):
        page.goto(f"{console.url}{path}")
        body = rgb(page, page.evaluate("getComputedStyle(document.body).backgroundColor"))
        assert (luminance(body) < 0.05) == (scheme == "dark"), path
        page.screenshot(path=str(screenshot_dir / f"{name}-{scheme}-1440.png"), full_page=True)
    page.goto(f"{console.url}/docs/api")  # Swagger UI, in its own dark mode
    page.wait_for_selector(".swagger-ui .opblock")
    box = rgb(page, page.evaluate("getComputedStyle(document.querySelector('.swagger-ui')).backgroundColor"))
    page_bg = rgb(page, page.evaluate("getComputedStyle(document.documentElement).backgroundColor"))
    assert all((luminance(c) < 0.05) == (scheme == "dark") for c in (box, page_bg))
    page.screenshot(path=str(screenshot_dir / f"api-docs-{scheme}-1440.png"))
