"""Every console page in Chromium at 1280, 1440 and 1920 px, in light and dark colour schemes: nothing
scrolls sideways, axe-core finds no serious or critical violation, and a screenshot of each is saved.

axe-core is its npm build, installed for the tests only (`npm ci --prefix tests/console`, as .ci/run does)
and injected into each page; the console never serves it.
"""

from __future__ import annotations

import os
import time
from pathlib import Path
from typing import Any

import httpx
import pytest

WIDTHS = (1280, 1440, 1920)
SCHEMES = ("light", "dark")
AXE = Path(__file__).parent / "node_modules" / "axe-core" / "axe.min.js"
# Serious or critical only (the bar); every rule axe runs by default (WCAG 2 A/AA and best practice).
AXE_RUN = """async () => {
  const result = await axe.run(document, { resultTypes: ["violations"] });
  return result.violations.filter((v) => v.impact === "serious" || v.impact === "critical").map((v) => ({
    id: v.id, impact: v.impact, help: v.help,
    nodes: v.nodes.slice(0, 3).map((n) => n.target.join(" ") + ": " + n.failureSummary.split("\\n")[1]),
  }));
}"""
OVERFLOW = "() => [document.documentElement.scrollWidth, document.documentElement.clientWidth]"
# Every data-table on the page scrolls inside its own box: its wrapper is not wider than its card.
TABLES_INSIDE = """() => [...document.querySelectorAll('.table-wrap')].filter((w) => {
  const card = w.closest('.card'); if (!card) return false;
  return w.getBoundingClientRect().right > card.getBoundingClientRect().right + 1;
}).map((w) => w.querySelector('table')?.id || w.className)"""


@pytest.fixture(scope="module")
def axe_source() -> str:
    if not AXE.exists():
        why = "tests/console/node_modules is missing: run `npm ci --prefix tests/console`"
        if os.environ.get("CI"):
            pytest.fail(f"{why} (.ci/run must install it)")
        pytest.skip(why)
    return AXE.read_text()


def _api(console: Any) -> httpx.Client:
    return httpx.Client(base_url=console.url, auth=console.demo.basic, timeout=30)


@pytest.fixture(scope="module")
def pages(console: Any) -> list[tuple[str, str]]:
    """(name, path) of every signed-in page: the dashboard in each period, the rooms list with every
    column added, the busiest room with issues, one of its participants on both tabs, live, alerts, API docs."""
    with _api(console) as c:
        rooms = c.get("/v1/Video/Rooms", params={"_range": "30d", "issue_type__eq": "packet_loss",
                                                 "_sort_desc": "unique_participants", "PageSize": 1}).json()["rooms"]
        room = rooms[0]["room_sid"]
        people = c.get(f"/v1/Video/Rooms/{room}/Participants", params={"PageSize": 100}).json()["participants"]
    person = max(people, key=lambda p: len(p["issue_types"]))["participant_sid"]
    from video_insights.query.fields import ROOM_FIELDS
    since = time.strftime("%Y-%m-%dT%H:00:00Z", time.gmtime(time.time() - 3 * 86400))
    every_column = "&".join(f"_col={f.name}" for f in ROOM_FIELDS)
    return [("dashboard-24h", "/"), ("dashboard-7d", "/?_range=7d"),
            ("dashboard-custom", f"/?_since={since}"),
            ("rooms", "/rooms"), ("rooms-all-columns", f"/rooms?_range=7d&{every_column}"),
            ("room", f"/rooms/{room}"),
            ("participant-send", f"/rooms/{room}/participants/{person}?tab=send"),
            ("participant-receive", f"/rooms/{room}/participants/{person}?tab=receive"),
            ("live", "/live"), ("alerts", "/alerts"), ("api-docs", "/docs/api")]


def _check(page: Any, name: str, axe_source: str, shots: Path, tag: str) -> list[str]:
    """What is wrong with the page now shown; its screenshot saved under `shots`."""
    page.wait_for_load_state("networkidle")
    page.evaluate("() => document.fonts.ready")
    problems = []
    scroll, client = page.evaluate(OVERFLOW)
    if scroll > client:
        problems.append(f"{name}: the page scrolls sideways ({scroll} > {client} px)")
    for table in page.evaluate(TABLES_INSIDE):
        problems.append(f"{name}: table {table} is wider than its card")
    # Evaluated through the DevTools protocol: the console's CSP rightly refuses an inline <script>.
    if not page.evaluate("() => 'axe' in window"):
        page.evaluate(axe_source + "\n;0")
    for v in page.evaluate(AXE_RUN):
        problems.append(f"{name}: axe {v['impact']} {v['id']} ({v['help']}): {v['nodes']}")
    page.screenshot(path=str(shots / f"{name}-{tag}.png"), full_page=True)
    return problems


@pytest.mark.parametrize("scheme", SCHEMES)
@pytest.mark.parametrize("width", WIDTHS)
def test_every_page_fits_and_passes_axe(signed_in: Any, browser: Any, console: Any, pages: list[tuple[str, str]],
                                        axe_source: str, screenshot_dir: Path, width: int, scheme: str) -> None:
    tag = f"{width}-{scheme}"
    page = signed_in(viewport={"width": width, "height": 900}, color_scheme=scheme)
    problems: list[str] = []
    for name, path in pages:
        response = page.goto(console.url + path)
        status = response.status if response else None
        assert status == 200, f"{name}: {path} answered {status}"
        problems += _check(page, name, axe_source, screenshot_dir, tag)
    # The login page, signed out.
    context = browser.new_context(viewport={"width": width, "height": 900}, color_scheme=scheme)
    try:
        login = context.new_page()
        login.goto(console.url + "/login")
        problems += _check(login, "login", axe_source, screenshot_dir, tag)
    finally:
        context.close()
    assert not problems, "\n".join(problems)


FOCUS_RING = """() => {
  const el = document.activeElement;
  // A date field's calendar button is inside the field's own shadow tree: the browser draws its ring.
  if (!el || el === document.body || !el.matches(":focus")) return null;
  const s = getComputedStyle(el);
  return { tag: el.tagName + (el.className ? "." + String(el.className).split(" ")[0] : ""),
           outline: s.outlineStyle !== "none" && parseFloat(s.outlineWidth) >= 2, shadow: s.boxShadow !== "none" };
}"""


@pytest.mark.parametrize("scheme", SCHEMES)
def test_keyboard_focus_is_visible(signed_in: Any, console: Any, pages: list[tuple[str, str]], scheme: str) -> None:
    """Tabbing through a page, every control that takes focus shows a ring of at least 2 px."""
    page = signed_in(color_scheme=scheme)
    unseen = []
    for name, path in pages:
        if name == "api-docs":  # Swagger UI's own controls; its focus styles are api_docs.css's
            continue
        page.goto(console.url + path)
        for _ in range(25):
            page.keyboard.press("Tab")
            ring = page.evaluate(FOCUS_RING)
            if ring and not (ring["outline"] or ring["shadow"]):
                unseen.append(f"{name}: {ring['tag']}")
    assert not unseen, sorted(set(unseen))


def test_charts_keep_a_table_alternative(signed_in: Any, console: Any) -> None:
    page = signed_in()
    page.goto(console.url + "/?_range=7d")
    charts = page.locator(".chart[role=img]")
    assert charts.count() >= 3
    for i in range(charts.count()):
        card = charts.nth(i).locator("xpath=ancestor::section[contains(@class, 'card')]")
        assert card.locator("details.data-table table tbody tr").count() > 0, f"chart {i} has no data table"


def test_wide_tables_scroll_in_their_card_chips_fold_and_sids_stay_whole(
        signed_in: Any, console: Any, pages: list[tuple[str, str]]) -> None:
    page = signed_in(viewport={"width": 1280, "height": 900})
    page.context.grant_permissions(["clipboard-read", "clipboard-write"])
    paths = dict(pages)
    page.goto(console.url + paths["rooms-all-columns"])
    box = page.evaluate("""() => { const w = document.querySelector('.table-card .table-wrap');
      return { scroll: w.scrollWidth, client: w.clientWidth, bottom: w.getBoundingClientRect().bottom,
               top: w.getBoundingClientRect().top }; }""")
    assert box["scroll"] > box["client"], "every column added: the table is wider than its card"
    page.locator(".table-card .table-wrap").evaluate("w => w.scrollIntoView()")
    bottom = page.evaluate("() => document.querySelector('.table-card .table-wrap').getBoundingClientRect().bottom")
    assert bottom <= 900, "the table's own horizontal scrollbar is on screen"
    # Scrolled down inside its box, the header row stays at the top of the box.
    wrap = page.locator(".table-card .table-wrap")
    wrap.evaluate("w => { w.scrollTop = 400; w.scrollLeft = 300; }")
    head, top = wrap.evaluate("w => [w.querySelector('thead th').getBoundingClientRect().top, "
                              "w.getBoundingClientRect().top]")
    assert abs(head - top) <= 1

    # Issue chips: two, then "+N" whose title names the rest; opening it shows them.
    more = page.locator("td .more-chips").first
    assert more.count() == 1, "the demo has rooms with more than two issue types"
    hidden_titles = more.locator(":scope > span.badge").all_text_contents()
    summary = more.locator("summary")
    assert summary.inner_text().startswith(f"+{len(hidden_titles)}")
    assert summary.get_attribute("title") == ", ".join(hidden_titles)
    cell = more.locator("xpath=ancestor::td")
    assert cell.evaluate("td => td.getBoundingClientRect().height") < 40, "one line of chips"
    summary.click()
    assert all(b.is_visible() for b in more.locator(":scope > span.badge").all())

    # SIDs and the callback URL: one line, whole, and the button copies them.
    page.goto(console.url + paths["room"])
    for el in page.locator("main .copyable > .mono").all():
        lines, cut = el.evaluate("e => [e.getClientRects().length, e.scrollWidth > e.clientWidth]")
        assert lines == 1 and not cut, el.inner_text()
    sid = page.locator("[data-field=room_sid] .copyable > .mono").inner_text()
    page.click("[data-field=room_sid] button.copy")
    page.wait_for_selector("[data-field=room_sid] button.copy.copied")
    assert page.evaluate("() => navigator.clipboard.readText()") == sid
