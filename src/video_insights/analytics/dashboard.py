"""The dashboard's three graphs: rooms, participants by segment, minutes with the previous period."""

from __future__ import annotations

import time
from collections import defaultdict
from dataclasses import dataclass
from typing import Any

from video_insights.errors import BadRequest
from video_insights.query import facts as fact_queries
from video_insights.query.filters import iso, parse_range, parse_time
from video_insights.store.base import Store

HOUR_MS = 3_600_000
DAY_MS = 86_400_000
GRANULARITIES = {"hour": HOUR_MS, "day": DAY_MS}
SEGMENTS = {"device_manufacturer": "device_manufacturer", "os": "os_name", "browser": "browser_name",
            "sdk": "sdk_name", "signaling_region": "signaling_region", "end_reason": "end_reason"}
ISSUE_FILTERS = fact_queries.ISSUE_FILTERS
TOP_VALUES = 6
FILTER_REACH_DAYS = 7


@dataclass(frozen=True)
class Window:
    since: int
    until: int
    step: int

    @property
    def span(self) -> int:
        return self.until - self.since

    def buckets(self) -> list[int]:
        start = self.since - self.since % self.step
        return list(range(start, self.until, self.step))

    def partial(self, bucket: int) -> bool:
        """Whether the window cuts the bucket: its count covers less than a whole hour or day (the
        current hour, or the first hour of "the last 24 hours"), so a lower bar there is no drop."""
        return bucket < self.since or bucket + self.step > self.until


def parse_window(params: dict[str, str], now: int | None = None) -> Window:
    now = int(time.time() * 1000) if now is None else now
    if "_range" in params and ("_since" in params or "_until" in params):
        raise BadRequest("_range: give either _range or _since/_until, not both")
    until = parse_time("_until", params["_until"]) if "_until" in params else now
    if "_since" in params:
        since = parse_time("_since", params["_since"])
    else:
        since = until - parse_range(params.get("_range", "24h"))
    if since >= until:
        raise BadRequest("_since: must be before _until")
    if until > now + DAY_MS:
        raise BadRequest(f"_until: at most a day ahead (to {iso(now + DAY_MS)})")
    reach = now - FILTER_REACH_DAYS * DAY_MS - HOUR_MS
    if since < reach:
        raise BadRequest(f"_since: the dashboard reaches {FILTER_REACH_DAYS} days back (to {iso(reach)})")
    granularity = params.get("granularity") or ("hour" if until - since <= 2 * DAY_MS else "day")
    if granularity not in GRANULARITIES:
        raise BadRequest(f"granularity: expected hour or day, got {granularity!r}")
    return Window(since, until, GRANULARITIES[granularity])


def _bucketed(rows: list[tuple[Any, ...]]) -> dict[int, tuple[Any, ...]]:
    return {int(r[0]): tuple(r[1:]) for r in rows}


def rooms_graph(store: Store, account: str, w: Window) -> dict[str, Any]:
    _, rows = store.fetch(fact_queries.rooms_by_bucket(account, w.since, w.until, w.step))
    got = _bucketed(rows)
    buckets = [{"time": iso(b), "partial": w.partial(b), "rooms": int(got.get(b, (0, 0))[0]),
                "rooms_with_issues": int(got.get(b, (0, 0))[1] or 0)} for b in w.buckets()]
    return {"granularity": _name(w), "totals": {"rooms": sum(x["rooms"] for x in buckets),
            "rooms_with_issues": sum(x["rooms_with_issues"] for x in buckets)}, "buckets": buckets}


def participants_graph(store: Store, account: str, w: Window, segment: str, issues: str) -> dict[str, Any]:
    if segment not in SEGMENTS:
        raise BadRequest(f"segment: expected one of {', '.join(SEGMENTS)}, got {segment!r}")
    if issues not in ISSUE_FILTERS:
        raise BadRequest(f"issues: expected one of {', '.join(ISSUE_FILTERS)}, got {issues!r}")
    value = fact_queries.browser_segment() if segment == "browser" else fact_queries.segment_value(SEGMENTS[segment])
    _, rows = store.fetch(fact_queries.participants_by_bucket(account, w.since, w.until, w.step, value, issues))
    totals: dict[str, int] = defaultdict(int)
    for _, v, n in rows:
        totals[v] += int(n)
    ranked = sorted(totals, key=lambda v: (-totals[v], v))
    keep = set(ranked[:TOP_VALUES]) if len(ranked) > TOP_VALUES + 1 else set(ranked)
    counts: dict[int, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    for b, v, n in rows:
        counts[int(b)][v if v in keep else "Other"] += int(n)
    order = [v for v in ranked if v in keep] + (["Other"] if len(keep) < len(ranked) else [])
    per_bucket = [(b, {v: counts[b].get(v, 0) for v in order}) for b in w.buckets()]
    return {"segment": segment, "issues": issues, "granularity": _name(w), "values": order,
            "totals": {v: sum(c[v] for _, c in per_bucket) for v in order},
            "buckets": [{"time": iso(b), "partial": w.partial(b), "counts": c} for b, c in per_bucket]}


def _minutes(store: Store, account: str, since: int, until: int, step: int) -> tuple[dict[int, float],
                                                                                      dict[int, float]]:
    _, prow = store.fetch(fact_queries.participant_minutes(account, since, until, step))
    _, rrow = store.fetch(fact_queries.recording_minutes(account, since, until, step))
    return ({int(b): float(m or 0) for b, m in prow}, {int(b): float(m or 0) for b, m in rrow})


@dataclass(frozen=True)
class PreviousPeriod:
    """The same span just before the window (aligned bucket by bucket: week over week for 7d), and how
    much of it was recorded: only against a wholly recorded period is a change a change."""

    shift: int
    since: int
    until: int
    recorded_from: int | None  # the account's first kept room
    step: int

    @property
    def recorded(self) -> str:
        """"none", "part" (the account's first room came after its first bucket) or "all"."""
        first = self.recorded_from
        if first is None or first >= self.until:
            return "none"
        # The first bucket is cut by the window anyway; data that starts within it covers the period.
        return "part" if first > self.since - self.since % self.step + self.step else "all"

    def unrecorded(self, bucket: int) -> bool:
        """Whether the previous period's bucket matching `bucket` ended before anything was recorded."""
        return self.recorded_from is None or bucket - self.shift + self.step <= self.recorded_from

    def as_json(self) -> dict[str, Any]:
        return {"since": iso(self.since), "until": iso(self.until), "recorded": self.recorded,
                "recorded_from": None if self.recorded_from is None else iso(self.recorded_from)}


def previous_period(store: Store, account: str, w: Window) -> PreviousPeriod:
    shift = w.span - w.span % w.step if w.span % w.step else w.span
    _, rows = store.fetch(fact_queries.first_room(account))
    first = int(rows[0][0]) if rows and rows[0][1] else None
    return PreviousPeriod(shift, w.since - shift, w.until - shift, first, w.step)


def minutes_graph(store: Store, account: str, w: Window, prev: PreviousPeriod | None = None) -> dict[str, Any]:
    cur_p, cur_r = _minutes(store, account, w.since, w.until, w.step)
    prev = prev or previous_period(store, account, w)
    shift = prev.shift
    prev_p, prev_r = _minutes(store, account, prev.since, prev.until, w.step)
    buckets: list[dict[str, Any]] = [{"time": iso(b), "partial": w.partial(b),
                "participant_minutes": round(cur_p.get(b, 0.0), 2),
                "recording_minutes": round(cur_r.get(b, 0.0), 2),
                "previous_participant_minutes": round(prev_p.get(b - shift, 0.0), 2),
                "previous_recording_minutes": round(prev_r.get(b - shift, 0.0), 2)} for b in w.buckets()]
    keys = ("participant_minutes", "recording_minutes", "previous_participant_minutes",
            "previous_recording_minutes")
    return {"granularity": _name(w), "totals": {k: round(sum(x[k] for x in buckets), 2) for k in keys},
            "previous_period": prev.as_json(), "buckets": buckets}


def _name(w: Window) -> str:
    return "hour" if w.step == HOUR_MS else "day"
