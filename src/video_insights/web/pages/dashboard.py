"""The dashboard (`/`): the three graphs of analytics.dashboard over a time window, drawn by ECharts.

The page's state is its query string (`_range` or `_since`/`_until`, `granularity`, `segment`,
`issues`); a request that is not in canonical form is redirected to it. The graphs' data is
embedded in the page as JSON, so the first render needs no further request, and every bucket
carries the link to the rooms list it stands for.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qsl, urlencode

from fastapi import APIRouter, Depends, Request
from fastapi.responses import RedirectResponse, Response

from video_insights.analytics import dashboard as dash
from video_insights.analytics.rooms import Scope
from video_insights.errors import BadRequest
from video_insights.query import facts as fact_queries
from video_insights.query.filters import RoomQuery, iso, parse_filter
from video_insights.store.base import Store
from video_insights.web.deps import services
from video_insights.web.pages import period_form
from video_insights.web.pages.render import render
from video_insights.web.pages.session import page_scope

router = APIRouter(include_in_schema=False)

PAGE_PARAMS = ("_range", "_since", "_until", "granularity", "segment", "issues")
PERIODS = ("24h", "7d", period_form.CUSTOM)
DEFAULT_RANGE = "24h"
SEGMENT_LABELS = {"device_manufacturer": "Device manufacturer", "os": "Operating system", "browser": "Browser",
                  "sdk": "SDK", "signaling_region": "Signaling region", "end_reason": "End reason"}
SEGMENT_PHRASES = {k: v if v.isupper() else v.lower() for k, v in SEGMENT_LABELS.items()}  # "by SDK", "by browser"
ISSUE_LABELS = {"all": "All participants", "with": "With issues", "without": "Without issues"}


@dataclass(frozen=True)
class DashboardState:
    """What the URL asks for, checked; `params()` is its canonical query string."""

    window_params: dict[str, str]
    granularity: str | None
    segment: str
    issues: str

    def params(self, **changes: str | None) -> list[tuple[str, str]]:
        values: dict[str, str | None] = {**self.window_params, "granularity": self.granularity,
                                         "segment": self.segment, "issues": self.issues, **changes}
        defaults = {"_range": DEFAULT_RANGE, "segment": "browser", "issues": "all"}
        return [(k, v) for k in PAGE_PARAMS if (v := values.get(k)) and defaults.get(k) != v]

    def period(self) -> str:
        return period_form.CUSTOM if "_since" in self.window_params or "_until" in self.window_params \
            else self.window_params.get("_range", DEFAULT_RANGE)


def read_state(items: list[tuple[str, str]], now: int) -> tuple[DashboardState, dash.Window]:
    items = [(k, v) for k, v in items if v.strip()]  # an empty form field means "not given"
    for key, _ in items:
        if key not in PAGE_PARAMS and key not in period_form.FORM_ONLY:
            raise BadRequest(f"{key}: unknown parameter (the dashboard takes {', '.join(PAGE_PARAMS)})")
    items = period_form.read_period(items, PERIODS)
    given: dict[str, str] = {}
    for key, raw in items:
        if key in given:
            raise BadRequest(f"{key}: give it once")
        given[key] = raw.strip()
    segment, issues = given.get("segment", "browser"), given.get("issues", "all")
    if segment not in dash.SEGMENTS:
        raise BadRequest(f"segment: expected one of {', '.join(dash.SEGMENTS)}, got {segment!r}")
    if issues not in dash.ISSUE_FILTERS:
        raise BadRequest(f"issues: expected one of {', '.join(dash.ISSUE_FILTERS)}, got {issues!r}")
    window_keys = ("_range", "_since", "_until", "granularity")
    window = dash.parse_window({k: v for k, v in given.items() if k in window_keys}, now=now)
    shown = {k: given[k] for k in ("_range",) if k in given}
    for key, ms in (("_since", window.since), ("_until", window.until)):
        if key in given:
            shown[key] = iso(ms)
    granularity = given.get("granularity")
    auto = "hour" if window.span <= 2 * dash.DAY_MS else "day"
    return DashboardState(shown, None if granularity == auto else granularity, segment, issues), window


def rooms_link(since: int, until: int, *filters: tuple[str, str]) -> str:
    """The rooms list of one bucket, as the rooms page's own canonical URL."""
    rq = RoomQuery(filters=[parse_filter(p, v) for p, v in filters], since_ms=since, until_ms=until)
    return f"/rooms?{rq.query_string()}"


def has_data(store: Store, account_sid: str) -> bool:
    _, rows = store.fetch(fact_queries.any_room(account_sid))
    return bool(rows)


def graphs(store: Store, account_sid: str, state: DashboardState, w: dash.Window) -> dict[str, Any]:
    """The three graphs as the page's script draws them: one entry per bucket, each with its link."""
    rooms = dash.rooms_graph(store, account_sid, w)
    people = dash.participants_graph(store, account_sid, w, state.segment, state.issues)
    previous = dash.previous_period(store, account_sid, w)
    minutes = dash.minutes_graph(store, account_sid, w, previous)
    spans = [(max(b, w.since), min(b + w.step, w.until)) for b in w.buckets()]
    # A previous bucket from before the account's first room has no data: drawn as a gap, not as zero.
    unrecorded = [previous.unrecorded(b) for b in w.buckets()]
    people_filter = [("participants_with_issues__gt", "0")] if state.issues == "with" else []
    return {
        "granularity": rooms["granularity"], "since": iso(w.since), "until": iso(w.until),
        "times": [iso(b) for b in w.buckets()],
        "partial": [w.partial(b) for b in w.buckets()],
        "spans": [[iso(s), iso(u)] for s, u in spans],
        "window_links": {"all": rooms_link(w.since, w.until),
                         "with": rooms_link(w.since, w.until, ("issue_count__gt", "0")),
                         "without": rooms_link(w.since, w.until, ("issue_count__eq", "0"))},
        "rooms": {
            "with": [b["rooms_with_issues"] for b in rooms["buckets"]],
            "without": [b["rooms"] - b["rooms_with_issues"] for b in rooms["buckets"]],
            "totals": rooms["totals"],
            "links": {"with": [rooms_link(s, u, ("issue_count__gt", "0")) for s, u in spans],
                      "without": [rooms_link(s, u, ("issue_count__eq", "0")) for s, u in spans],
                      "all": [rooms_link(s, u) for s, u in spans]},
        },
        "participants": {
            "segment": state.segment, "issues": state.issues, "values": people["values"],
            "series": {v: [b["counts"][v] for b in people["buckets"]] for v in people["values"]},
            "totals": people["totals"],
            "links": [rooms_link(s, u, *people_filter) for s, u in spans],
        },
        "minutes": {
            **{k: [b[k] for b in minutes["buckets"]] for k in ("participant_minutes", "recording_minutes")},
            **{k: [None if gap else b[k] for b, gap in zip(minutes["buckets"], unrecorded, strict=True)]
               for k in ("previous_participant_minutes", "previous_recording_minutes")},
            "totals": minutes["totals"], "links": [rooms_link(s, u) for s, u in spans],
            "previous_period": minutes["previous_period"],
        },
    }


NO_PREVIOUS = "no data for the previous period"


def change(now: float, before: float, recorded: str) -> str | None:
    """The change against the previous period, as a signed percentage, or why there is none."""
    if recorded == "none":
        return NO_PREVIOUS
    if recorded == "part":
        return "previous period only partly recorded"
    if not before:
        return None
    pct = (now - before) / before * 100
    return f"{pct:+.0f}%" if pct <= 999 else "> +999%"


@router.get("/", response_class=Response)
def dashboard_page(request: Request, scope: Scope = Depends(page_scope)) -> Response:
    now = int(time.time()) * 1000  # whole seconds: bucket links then name exactly the bucket's rooms
    asked = request.query_params.multi_items()
    state, window = read_state(asked, now)
    canonical = state.params()
    if parse_qsl(request.url.query, keep_blank_values=True) != canonical:
        return RedirectResponse("/" + (f"?{urlencode(canonical)}" if canonical else ""), status_code=303)
    store = services(request).store
    periods = {"24h": "Last 24 hours", "7d": "Last 7 days", period_form.CUSTOM: "Custom"}
    periods.setdefault(state.period(), f"Last {state.period()}")  # a range typed into the URL, such as 48h
    context: dict[str, Any] = {
        "title": "Dashboard", "state": state, "segments": SEGMENT_LABELS, "segment_phrases": SEGMENT_PHRASES,
        "issue_labels": ISSUE_LABELS, "periods": periods,
        "since_input": period_form.local_input(window.since), "until_input": period_form.local_input(window.until),
        "reach_days": dash.FILTER_REACH_DAYS, "empty": not has_data(store, scope.account_sid),
        "change": change,
    }
    if not context["empty"]:
        data = graphs(store, scope.account_sid, state, window)
        context.update(data=data, window=window,
                       segment_links={s: "/?" + urlencode(state.params(segment=s)) for s in SEGMENT_LABELS},
                       issue_links={i: "/?" + urlencode(state.params(issues=i)) for i in ISSUE_LABELS})
    return render(request, "dashboard.html", context)
