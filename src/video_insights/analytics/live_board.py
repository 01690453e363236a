"""The live board (`/live`): an account's rooms in progress as they are now, worst first.

One board is computed per account per tick and shared by every viewer of that account
(web/live_hub.py), so its cost does not grow with the viewers. It is three reads:

- the account's rooms in progress and their participants in progress, from the stored summaries
  (current within a second for presence and status: events are summarised at once; the running issue
  counts follow the stats reports within `summary_delay_s`, docs/durability.md "Live reads");
- the last interval of each participant's samples (send and receive bitrate, loss, RTT), from one
  scan of the last `RECENT_MS` of their samples with the query /Metrics uses (query/samples.py).

A participant "crosses" a threshold when its last interval's loss or RTT is over the account's issue
threshold (processing/room_summary.py `account_issue_configs`), whether or not the whole-call
average that tags an issue is over it yet.
"""

from __future__ import annotations

import time
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import orjson

from video_insights.model.issues import IssueType
from video_insights.processing.intervals import INTERVAL_MS
from video_insights.processing.room_summary import account_issue_configs
from video_insights.query import participants as participant_queries
from video_insights.query import rooms as room_queries
from video_insights.query import samples
from video_insights.query.sql import rows_as_dicts, untag
from video_insights.settings import Settings
from video_insights.store.base import Store

# The samples scanned for the last interval: three 10-second buckets and a report's lateness. The
# oldest bucket of a scan is unreliable for a series that began before it (its first sample has no
# previous one in the scan), so it is shown only for a participant that joined inside the scan.
RECENT_MS = 3 * INTERVAL_MS + 5_000
# A board holds at most this many rooms (the worst by stored issue count first): what a viewer pages
# through, and what bounds the board's memory whatever the account sends.
MAX_ROOMS = 5_000
# Participants shown per room (the worst first); the rest are counted.
MAX_PARTICIPANTS_SHOWN = 20
PAGE_SIZE = 25

_ROOM_COLUMNS = ("room_sid", "room_name", "room_type", "create_ms", "issue_count", "participants_with_issues",
                 "issue_types")
_PARTICIPANT_COLUMNS = ("room_sid", "participant_sid", "participant_identity", "join_ms", "browser_name",
                        "browser_version", "os_name", "os_version", "issue_types", "issue_count")


@dataclass
class LastInterval:
    bucket_ms: int
    send_bps: float | None = None
    recv_bps: float | None = None
    send_loss_pct: float | None = None
    recv_loss_pct: float | None = None
    rtt_ms: float | None = None


def _add(a: float | None, b: Any) -> float | None:
    if b is None:
        return a
    return float(b) + (a or 0.0)


def _worst(a: float | None, b: Any) -> float | None:
    if b is None:
        return a
    return float(b) if a is None else max(a, float(b))


def last_intervals(rows: Sequence[Sequence[Any]], joined: dict[str, int | None], since: int
                   ) -> dict[str, LastInterval]:
    """Rows of `samples.intervals_of` → each participant's latest reliable interval: bitrates summed
    over its tracks (send) and peer connections (receive), the worst loss and RTT among them."""
    intervals = [samples.IntervalRow._make(r) for r in rows]
    buckets: dict[str, list[int]] = defaultdict(list)
    for r in intervals:
        buckets[r.participant_sid].append(int(r.bucket_ms))
    chosen: dict[str, int] = {}
    for pid, seen in buckets.items():
        latest, oldest = max(seen), min(seen)
        join = joined.get(pid)
        if latest == oldest and (join is None or join < since):
            continue  # only the bucket whose first sample's delta reaches back before the scan
        chosen[pid] = latest
    out: dict[str, LastInterval] = {}
    for r in intervals:
        if chosen.get(r.participant_sid) != int(r.bucket_ms):
            continue
        last = out.setdefault(r.participant_sid, LastInterval(int(r.bucket_ms)))
        if r.side == "send":
            last.send_bps = _add(last.send_bps, r.bitrate)
            last.send_loss_pct = _worst(last.send_loss_pct, r.loss)
            last.rtt_ms = _worst(last.rtt_ms, r.rtt)
        else:
            last.recv_bps = _add(last.recv_bps, r.bitrate)
            last.recv_loss_pct = _worst(last.recv_loss_pct, r.loss)
    return out


def _round(v: float | None, digits: int) -> float | None:
    return None if v is None else round(v, digits)


@dataclass
class Board:
    """One account's board at `now_ms`: JSON-ready rooms, worst first, and their pages encoded once."""

    now_ms: int
    thresholds: dict[str, float | None]
    rooms: list[dict[str, Any]]
    totals: dict[str, int]
    _pages: dict[int, bytes] = field(default_factory=dict, repr=False)

    @property
    def page_count(self) -> int:
        return max(1, -(-len(self.rooms) // PAGE_SIZE))

    def page(self, number: int) -> bytes:
        """One page (clamped to the last) as JSON, encoded once for every viewer of the page; without
        the time, so that an unchanged page encodes the same."""
        number = min(max(number, 0), self.page_count - 1)
        encoded = self._pages.get(number)
        if encoded is None:
            encoded = orjson.dumps({
                "thresholds": self.thresholds, "totals": self.totals,
                "page": number, "page_count": self.page_count, "page_size": PAGE_SIZE,
                "rooms": self.rooms[number * PAGE_SIZE:(number + 1) * PAGE_SIZE]})
            self._pages[number] = encoded
        return encoded


def thresholds_of(store: Store, settings: Settings, account: str) -> dict[str, float | None]:
    """The loss and RTT thresholds the live view compares with, and those the participant graphs draw
    (also jitter, and video freezes as a percentage of the time): the account's current ones, none for a
    switched-off issue."""
    configs = account_issue_configs(store, settings, account)

    def line(t: IssueType) -> float | None:
        return configs[t].threshold if configs[t].enabled else None

    frozen = line(IssueType.VIDEO_FREEZES)
    return {"packet_loss_pct": line(IssueType.PACKET_LOSS), "rtt_ms": line(IssueType.ROUND_TRIP_TIME),
            "jitter_ms": line(IssueType.HIGH_JITTER), "frozen_pct": None if frozen is None else 100 * frozen}


def crossed(last: LastInterval | None, thresholds: dict[str, float | None]) -> list[str]:
    """The thresholds the last interval is over (loss at or over, RTT over, as detection compares)."""
    if last is None:
        return []
    out = []
    loss = thresholds["packet_loss_pct"]
    worst_loss = _worst(last.send_loss_pct, last.recv_loss_pct)
    if loss is not None and worst_loss is not None and worst_loss >= loss:
        out.append(IssueType.PACKET_LOSS.value)
    rtt = thresholds["rtt_ms"]
    if rtt is not None and last.rtt_ms is not None and last.rtt_ms > rtt:
        out.append(IssueType.ROUND_TRIP_TIME.value)
    return out


def _participant(p: dict[str, Any], last: LastInterval | None, thresholds: dict[str, float | None]
                 ) -> dict[str, Any]:
    return {
        "participant_sid": p["participant_sid"], "identity": p["participant_identity"], "join_ms": p["join_ms"],
        "browser": " ".join(x for x in (p["browser_name"], p["browser_version"]) if x) or None,
        "os": " ".join(x for x in (p["os_name"], p["os_version"]) if x) or None,
        "issue_types": untag(p["issue_types"]), "issue_count": p["issue_count"] or 0,
        "interval_ms": last.bucket_ms if last else None,
        "send_bps": _round(last.send_bps, 0) if last else None,
        "recv_bps": _round(last.recv_bps, 0) if last else None,
        "send_loss_pct": _round(last.send_loss_pct, 2) if last else None,
        "recv_loss_pct": _round(last.recv_loss_pct, 2) if last else None,
        "rtt_ms": _round(last.rtt_ms, 1) if last else None,
        "crossed": crossed(last, thresholds)}


def _participant_rank(p: dict[str, Any]) -> tuple[int, int, int]:
    return (-len(p["crossed"]), -p["issue_count"], p["join_ms"] or 0)


def _presence(store: Store, account: str) -> tuple[list[dict[str, Any]], dict[str, list[dict[str, Any]]]]:
    """The account's rooms in progress (at most MAX_ROOMS) and their participants in progress, by room."""
    cols, rows = store.fetch(room_queries.in_progress(_ROOM_COLUMNS, account, MAX_ROOMS))
    rooms = rows_as_dicts(cols, rows)
    by_room: dict[str, list[dict[str, Any]]] = defaultdict(list)
    if rooms:
        cols, rows = store.fetch(participant_queries.in_progress_in(_PARTICIPANT_COLUMNS, account,
                                                                    [r["room_sid"] for r in rooms]))
        for p in rows_as_dicts(cols, rows):
            by_room[p["room_sid"]].append(p)
    return rooms, by_room


def _recent(store: Store, account: str, joined: dict[str, int | None], now: int) -> dict[str, LastInterval]:
    """The last interval of each of these participants (participant → join time)."""
    if not joined:
        return {}
    since = now - RECENT_MS
    _, rows = store.fetch(samples.intervals_of(account, sorted(joined), since))
    return last_intervals(rows, joined, since)


def _assemble(now: int, thresholds: dict[str, float | None], rooms: list[dict[str, Any]],
              by_room: dict[str, list[dict[str, Any]]], last: dict[str, LastInterval]) -> Board:
    board_rooms = []
    for r in rooms:
        people = sorted((_participant(p, last.get(p["participant_sid"]), thresholds)
                         for p in by_room.get(r["room_sid"], [])), key=_participant_rank)
        board_rooms.append({
            "room_sid": r["room_sid"], "room_name": r["room_name"], "room_type": r["room_type"],
            "create_ms": r["create_ms"], "issue_count": r["issue_count"] or 0,
            "participants_with_issues": r["participants_with_issues"] or 0,
            "issue_types": untag(r["issue_types"]), "participant_count": len(people),
            "crossing": sum(1 for p in people if p["crossed"]),
            "participants": people[:MAX_PARTICIPANTS_SHOWN]})
    board_rooms.sort(key=lambda r: (-r["crossing"], -r["issue_count"], -r["participants_with_issues"],
                                    r["create_ms"] or 0, r["room_sid"]))
    totals = {"rooms": len(board_rooms), "participants": sum(r["participant_count"] for r in board_rooms),
              "issues": sum(r["issue_count"] for r in board_rooms),
              "crossing": sum(r["crossing"] for r in board_rooms)}
    return Board(now, thresholds, board_rooms, totals)


class BoardSource:
    """An account's boards, one a call (a live-hub topic's `compute`). Presence is read every call; the
    scan of all their samples, the board's costliest read, every `intervals_every_ms` (an interval is
    10 s: a scan a second would mostly find the same last intervals), and between two such scans the
    samples of participants it has not seen yet alone."""

    def __init__(self, store: Store, settings: Settings, account: str, intervals_every_ms: int = 5_000) -> None:
        self.store, self.settings, self.account = store, settings, account
        self.intervals_every_ms = intervals_every_ms
        self._last: dict[str, LastInterval] = {}
        self._scanned: set[str] = set()
        self._scanned_ms = 0

    def __call__(self, now_ms: int | None = None) -> Board:
        now = int(time.time() * 1000) if now_ms is None else now_ms
        thresholds = thresholds_of(self.store, self.settings, self.account)
        rooms, by_room = _presence(self.store, self.account)
        joined = {p["participant_sid"]: p["join_ms"] for ps in by_room.values() for p in ps}
        if now - self._scanned_ms >= self.intervals_every_ms:
            self._last = _recent(self.store, self.account, joined, now)
            self._scanned, self._scanned_ms = set(joined), now
        elif not set(joined) <= self._scanned:  # newcomers: their samples alone, a few keys of the index
            new = {pid: join for pid, join in joined.items() if pid not in self._scanned}
            self._last.update(_recent(self.store, self.account, new, now))
            self._scanned.update(new)
        return _assemble(now, thresholds, rooms, by_room, self._last)


def compute_board(store: Store, settings: Settings, account: str, now_ms: int | None = None) -> Board:
    """The account's board now, every read made afresh."""
    return BoardSource(store, settings, account)(now_ms)
