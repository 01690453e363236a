"""The rooms explorer in a real browser and over plain HTTP: filters, columns, sorting, paging, CSV."""

from __future__ import annotations

import csv
import html
import io
import re
from collections.abc import Iterator
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import httpx
import pytest

from support import console_login
from video_insights.query.fields import DEFAULT_COLUMNS, ROOM_FIELDS_BY_NAME


@pytest.fixture
def client(console: Any) -> Iterator[httpx.Client]:
    """A plain HTTP client holding the demo account's session cookie (from a login POST)."""
    with httpx.Client(base_url=console.url, follow_redirects=False, timeout=30) as c:
        r = console_login(c, console.demo)
        assert r.status_code == 303
        yield c


def params(url: str) -> list[tuple[str, str]]:
    return parse_qsl(urlsplit(url).query, keep_blank_values=True)


def table(page: Any) -> dict[str, Any]:
    """The rooms table as the page shows it: column fields, and each row's cell values."""
    return page.evaluate("""() => ({
        fields: [...document.querySelectorAll('#rooms-table thead th')].map(th => th.dataset.field),
        labels: [...document.querySelectorAll('#rooms-table thead th a')].map(a => a.firstChild.textContent.trim()),
        rows: [...document.querySelectorAll('#rooms-table tbody tr')].map(
            tr => [...tr.querySelectorAll('td')].map(td => td.dataset.value)),
    })""")


def html_table(text: str) -> list[list[str]]:
    rows = re.findall(r'<tr data-sid="[^"]+">(.*?)</tr>', text, re.S)
    return [[html.unescape(v) for v in re.findall(r'<td data-value="([^"]*)"', row)] for row in rows]


def test_custom_filter_and_column_change_the_url_and_the_table(signed_in: Any, console: Any,
                                                                screenshot_dir: Any) -> None:
    page = signed_in()
    page.goto(f"{console.url}/rooms")
    before = table(page)
    assert before["fields"] == list(DEFAULT_COLUMNS) and len(before["rows"]) == 50
    page.screenshot(path=str(screenshot_dir / "rooms-default.png"), full_page=True)

    page.select_option("#filter-field", "concurrent_participants")
    page.select_option("#filter-op", "eq")
    page.fill("#filter-value", "2")
    page.click("form.add-filter button[type=submit]")
    page.wait_for_url(re.compile(r".*concurrent_participants__eq=2.*"))
    assert params(page.url) == [("concurrent_participants__eq", "2")]
    assert page.locator(".chip").inner_text().startswith("Max concurrent participants = 2")

    page.check("input[type=checkbox][name=_col][value=concurrent_participants]")
    page.click("details[data-columns] button[type=submit]")
    page.wait_for_url(re.compile(r".*_col=concurrent_participants.*"))
    assert params(page.url) == [("concurrent_participants__eq", "2"),
                                *[("_col", c) for c in (*DEFAULT_COLUMNS, "concurrent_participants")]]
    after = table(page)
    assert after["fields"][-1] == "concurrent_participants"
    assert after["labels"][-1] == "Max concurrent participants"
    assert after["rows"] and all(r[-1] == "2" for r in after["rows"])
    assert [r[0] for r in after["rows"]] != [r[0] for r in before["rows"]]
    page.screenshot(path=str(screenshot_dir / "rooms-filter-and-column.png"), full_page=True)

    url = page.url
    page.reload()
    assert page.url == url and table(page) == after
    other = page.context.new_page()  # a bookmark opened afresh shows the same view
    other.goto(url)
    assert table(other) == after
    other.close()

    page.click(".chip-remove")
    page.wait_for_url(re.compile(r".*/rooms\?_col=.*"))
    assert all(k == "_col" for k, _ in params(page.url))


def test_csv_export_is_the_table(signed_in: Any, console: Any, tmp_path: Any) -> None:
    page = signed_in()
    page.goto(f"{console.url}/rooms?issue_count__gte=1&_col=room_sid&_col=issue_type&_col=create_time"
              "&_col=duration_sec&_col=recording_enabled&_sort_desc=issue_count&_size=25")
    shown = table(page)
    assert len(shown["rows"]) == 25
    with page.expect_download() as download:
        page.click("a[data-csv]")
    path = tmp_path / "rooms.csv"
    download.value.save_as(path)
    rows = list(csv.reader(io.StringIO(path.read_text(encoding="utf-8"))))
    assert rows[0] == shown["labels"] == ["Room SID", "Issue type", "Created", "Room duration", "Recording enabled"]
    assert rows[1:] == shown["rows"]
    assert all(re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", r[2]) for r in rows[1:])
    assert all(r[1] for r in rows[1:])  # every listed room has issues


def test_sort_by_clicking_headers_and_page_through(signed_in: Any, console: Any, screenshot_dir: Any) -> None:
    page = signed_in()
    page.goto(f"{console.url}/rooms?_size=10")
    page.click("th[data-field=duration_sec] a")
    page.wait_for_url(re.compile(r".*_sort_desc=duration_sec.*"))
    column = table(page)["fields"].index("duration_sec")
    durations = [int(r[column]) for r in table(page)["rows"]]
    assert durations == sorted(durations, reverse=True) and len(durations) == 10
    assert page.get_attribute("th[data-field=duration_sec]", "aria-sort") == "descending"

    page.click("th[data-field=duration_sec] a")
    page.wait_for_url(re.compile(r".*_sort=duration_sec.*"))
    first_page = [int(r[column]) for r in table(page)["rows"]]
    assert first_page == sorted(first_page)

    page.click("a[rel=next]")
    page.wait_for_url(re.compile(r".*_page=1.*"))
    second_page = [int(r[column]) for r in table(page)["rows"]]
    assert second_page == sorted(second_page) and min(second_page) >= max(first_page)
    assert page.inner_text("#rows-note").startswith("11–20 of ")
    page.screenshot(path=str(screenshot_dir / "rooms-sorted-page-2.png"), full_page=True)
    page.click("a[rel=prev]")
    page.wait_for_url(re.compile(r"^(?!.*_page=).*_sort=duration_sec.*"))
    assert [int(r[column]) for r in table(page)["rows"]] == first_page


def test_columns_move_and_go(signed_in: Any, console: Any) -> None:
    page = signed_in()
    page.goto(f"{console.url}/rooms")
    page.click("a[aria-label='Move Room Name up']")
    page.wait_for_url(re.compile(r".*_col=room_name.*"))
    assert table(page)["fields"][:2] == ["room_name", "room_sid"]
    page.uncheck("input[type=checkbox][name=_col][value=room_type]")
    page.click("details[data-columns] button[type=submit]")
    page.wait_for_url(re.compile(r".*_col=.*"))
    assert "room_type" not in table(page)["fields"]
    page.click("a.reset")
    page.wait_for_url(f"{console.url}/rooms")
    assert table(page)["fields"] == list(DEFAULT_COLUMNS)


def test_search_by_sid_prefix_with_the_keyboard(signed_in: Any, console: Any) -> None:
    page = signed_in()
    page.goto(f"{console.url}/rooms")
    sid = table(page)["rows"][3][0]
    page.focus("#search")
    page.keyboard.type(sid[:8])
    page.keyboard.press("Enter")
    page.wait_for_url(re.compile(r".*_search=.*"))
    assert params(page.url) == [("_search", sid[:8])]
    sids = [r[0] for r in table(page)["rows"]]
    assert sid in sids and all(s.startswith(sid[:8]) for s in sids)
    page.click(f"a[href='/rooms/{sid}']")
    page.wait_for_url(f"{console.url}/rooms/{sid}")


def test_period_form_reads_times_in_the_viewers_zone(signed_in: Any, console: Any) -> None:
    page = signed_in()  # the browser runs in Europe/Berlin
    page.goto(f"{console.url}/rooms")
    assert not page.is_visible("#since")
    page.select_option("#period", "custom")
    page.fill("#since", "2024-01-15T10:00")
    page.fill("#until", "2024-07-15T10:00")
    page.click("form.rooms-toolbar button[type=submit]")
    page.wait_for_url(re.compile(r".*_since=.*"))
    assert params(page.url) == [("_since", "2024-01-15T09:00:00Z"), ("_until", "2024-07-15T08:00:00Z")]
    assert page.input_value("#since") == "2024-01-15T10:00"  # shown back in local time
    assert "No rooms match" in page.inner_text(".table-card")
    page.select_option("#period", "24h")
    page.click("form.rooms-toolbar button[type=submit]")
    page.wait_for_url(re.compile(r".*_range=24h$"))


def test_bad_filter_url_shows_the_error_page(signed_in: Any, console: Any, screenshot_dir: Any) -> None:
    page = signed_in()
    for query, message in (("colour__eq=red", "unknown field 'colour'"),
                           ("duration_sec__contains=5", "does not take operator 'contains'"),
                           ("duration_sec__gt=ten", "takes a whole number, got 'ten'"),
                           ("issue_type__eq=lag", "'lag' is not a issue_type"),
                           ("_sort=nothing", "_sort: unknown field 'nothing'")):
        response = page.goto(f"{console.url}/rooms?{query}")
        assert response.status == 400
        assert message in page.inner_text(".error-page .message")
    page.screenshot(path=str(screenshot_dir / "rooms-bad-filter-url.png"))


def test_a_bad_value_in_the_filter_form_is_shown_beside_it(signed_in: Any, console: Any,
                                                          screenshot_dir: Any) -> None:
    page = signed_in()
    page.goto(f"{console.url}/rooms?_range=48h")
    page.select_option("#filter-field", "duration_sec")
    page.select_option("#filter-op", "gt")
    page.fill("#filter-value", "ten minutes")
    page.click("form.add-filter button[type=submit]")
    page.wait_for_load_state()
    assert "duration_sec__gt: duration_sec takes a whole number, got 'ten minutes'" in page.inner_text("#filter-error")
    assert page.input_value("#filter-value") == "ten minutes"
    assert page.input_value("#period") == "48h" and table(page)["rows"]  # the view is kept
    page.screenshot(path=str(screenshot_dir / "rooms-filter-form-error.png"), full_page=True)


def test_narrow_screen_keeps_the_page_within_the_viewport(signed_in: Any, console: Any,
                                                          screenshot_dir: Any) -> None:
    page = signed_in(viewport={"width": 400, "height": 800})
    page.goto(f"{console.url}/rooms?_col=room_sid&_col=create_time&_col=issue_type&_col=issue_count")
    assert page.evaluate("document.documentElement.scrollWidth") <= 400
    assert not page.locator("details[data-columns]").evaluate("d => d.open")  # folded away
    page.screenshot(path=str(screenshot_dir / "rooms-narrow.png"), full_page=True)


def test_the_empty_account_sees_no_rooms_and_where_to_start(signed_in: Any, console: Any,
                                                            screenshot_dir: Any) -> None:
    page = signed_in(console.empty)
    page.goto(f"{console.url}/rooms")
    assert "No rooms recorded for this account yet" in page.inner_text(".table-card")
    assert "docs/twilio.md" in page.inner_text(".table-card")
    page.screenshot(path=str(screenshot_dir / "rooms-empty-account.png"))


def test_csv_over_http_has_the_pages_rows_and_columns(client: httpx.Client) -> None:
    query = "room_type__in=group,group_small&_col=room_sid&_col=room_type&_col=codecs&_sort=create_time&_page=1&_size=7"
    page = client.get(f"/rooms?{query}")
    assert page.status_code == 200
    shown = html_table(page.text)
    got = client.get(f"/rooms.csv?{query}")
    assert got.status_code == 200 and got.headers["content-type"].startswith("text/csv")
    assert got.headers["content-disposition"].startswith('attachment; filename="rooms-')
    rows = list(csv.reader(io.StringIO(got.text)))
    assert rows[0] == [ROOM_FIELDS_BY_NAME[f].label for f in ("room_sid", "room_type", "codecs")]
    assert rows[1:] == shown and len(shown) == 7
    assert {r[1] for r in rows[1:]} <= {"group", "group_small"}
    bad = client.get("/rooms.csv?colour__eq=red")
    assert bad.status_code == 400 and "unknown field 'colour'" in bad.json()["message"]


def test_forms_redirect_to_canonical_urls(client: httpx.Client) -> None:
    cases = {
        "/rooms?_period=all&_search=&_tz=Europe/Berlin&_size=50": "/rooms",
        "/rooms?_period=7d&_since=2024-01-01T00:00&_tz=UTC": "/rooms?_range=7d",
        "/rooms?_period=custom&_since=2024-07-01T12:00&_until=&_tz=Europe/Berlin":
            "/rooms?_since=2024-07-01T10%3A00%3A00Z",
        "/rooms?_sort_desc=create_time&_col=room_sid&_col=room_name&_col=create_time&_col=room_type"
        "&_col=duration_sec&_col=unique_participants&_col=issue_count": "/rooms",
        "/rooms?_range=24h&_filter_field=issue_type&_filter_op=eq&_filter_value=packet_loss&_page=3":
            "/rooms?issue_type__eq=packet_loss&_range=24h",
        "/rooms?_filter_field=create_time&_filter_op=gte&_filter_value=2024-07-01T12:00&_tz=Europe/Berlin":
            "/rooms?create_time__gte=2024-07-01T10%3A00%3A00Z",
        "/rooms?_size=25&duration_sec__gt=60": "/rooms?duration_sec__gt=60&_size=25",
    }
    for asked, canonical in cases.items():
        r = client.get(asked)
        assert (r.status_code, r.headers.get("location")) == (303, canonical), asked
        assert client.get(canonical).status_code == 200
    for bad, message in (("/rooms?_tz=Nowhere/Else&_period=24h", "_tz: 'Nowhere/Else' is not a known time zone"),
                         ("/rooms?_period=fortnight", "_period: expected one of"),
                         ("/rooms?_range=24h&_since=2024-01-01T00:00:00Z", "give either _range or _since"),
                         ("/rooms?_page=-1", "_page: expected a whole number"),
                         ("/rooms?_since=0001-01-01T00:00:00%2B05:00", "'0001-01-01T00:00:00+05:00' is out of range"),
                         ("/rooms?_tz=Europe&_period=custom&_since=2024-01-01T00:00", "_tz: 'Europe' is not a known"),
                         ("/rooms?_filter_field=end_time&_filter_op=gt&_filter_value=soon",
                          "end_time__gt: 'soon' is not a date and time")):
        r = client.get(bad, headers={"accept": "text/html"})
        assert r.status_code == 400 and message in html.unescape(r.text), bad


def test_csv_needs_a_session(console: Any) -> None:
    r = httpx.get(f"{console.url}/rooms.csv", follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"].startswith("/login?next=")


def test_another_accounts_rooms_never_show(client: httpx.Client, console: Any) -> None:
    theirs = httpx.get(f"{console.url}/v1/Video/Rooms?_range=7d&PageSize=1000", auth=console.other.basic).json()
    their_sids = {r["room_sid"] for r in theirs["rooms"]}
    assert their_sids
    ours = client.get("/rooms.csv?_size=1000&_col=room_sid").text
    assert not their_sids & set(ours.split())
    sid = next(iter(their_sids))
    assert "No rooms match" in client.get(f"/rooms?_search={sid}").text
