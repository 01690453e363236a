"""Participant alerts decided from the samples a commit stored, rather than from whole-room summaries.

A room's summary reads every event and sample of its participants. With thousands of rooms of an
account in progress, re-summarising them all as often as alerts need fell far behind under load
(docs/benchmarks.md, "Alert latency"). The screen does less, in two steps, on a thread of its own
(the pipeline's `pipeline-alert-screen`), so that a long chunk of summaries does not hold it up:

1. **Screen.** The writer hands over what each commit stored for accounts with participant_issue
   rules. Array arithmetic over those samples, with no memory of earlier ones, picks the participants
   with a sample past a threshold that a rule watches (the measures below). A participant's
   whole-life figure can only rise past a threshold through samples whose own figures are past it, so
   such a sample is what a fresh crossing shows.
2. **Confirm.** For those participants only, the whole-life statistics of their tracks are read from
   the store (the query summaries use) and judged by the detectors summaries use. The alerts they
   call for are decided exactly as a summary would decide them (alerts/decide.py): same sids, written
   only if absent.

Each participant is confirmed at most every `RECHECK_S`, and not again for an issue type once it is
tagged with it: the store is read for a few participants a second, however many are in progress.

What the screen cannot see, a room's summary still decides: issues from events (failures,
reconnects, stalls, CPU pressure), a crossing that no single sample shows, and what a process that
crashed after a commit never screened (its rooms stay stale in the ledger and are summarised).
The measures, per sample (counters are cumulative, so a sample's ratio is its series' life so far):

- packet_loss: a sent stream's packetsLost / (packetsLost + packetsSent), in %, ≥ the threshold;
- round_trip_time: a sent stream's mean RTT (totalRoundTripTime / measurements) or its current RTT
  above the threshold;
- high_jitter: a sent audio stream's jitter above the threshold;
- cpu_limited / bandwidth_limited: a sent video stream limited by that reason at that moment;
- video_freezes: a received video stream with any frozen time.
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict, defaultdict
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from video_insights.alerts.decide import AlertDecider, Tagged
from video_insights.alerts.rules import PARTICIPANT_ISSUE, list_rules
from video_insights.model.issues import IssueConfig, IssueType
from video_insights.processing.detectors import DetectorInput, detect_all
from video_insights.processing.room_summary import account_issue_configs, track_stats
from video_insights.query import rooms as room_queries
from video_insights.settings import Settings
from video_insights.store.base import Row, Store, WriteBatch
from video_insights.store.columns import columns_of
from video_insights.store.schema import ROOMS, STREAM_SAMPLES

SCREENED = (IssueType.PACKET_LOSS, IssueType.ROUND_TRIP_TIME, IssueType.HIGH_JITTER, IssueType.CPU_LIMITED,
            IssueType.BANDWIDTH_LIMITED, IssueType.VIDEO_FREEZES)
RECHECK_S = 2.0  # a participant confirmed (and not tagged) is read again no sooner than this
RULES_TTL_S = 1.0  # the rules and thresholds of an account are read again after this
MAX_PENDING_ROWS = 500_000  # samples handed over and not screened yet; beyond this, summaries decide
MAX_REMEMBERED = 200_000  # participants remembered as checked or tagged
_NEEDED = ("account_sid", "room_sid", "participant_sid", "direction", "kind", "packets", "packets_lost",
           "total_rtt_s", "rtt_measurements", "rtt_ms", "jitter_ms", "quality_limitation_reason",
           "freezes_duration_s")

Key = tuple[str, str]  # (account, participant)


@dataclass
class _Watch:
    """What an account's participant_issue rules watch, and the thresholds detection uses for it."""

    issue_types: frozenset[IssueType]
    configs: dict[IssueType, IssueConfig]
    read_at: float = field(default_factory=time.monotonic)


def _floats(cols: dict[str, Any], name: str, n: int) -> np.ndarray:
    """A numeric column as floats, NULL (or absent: NULL in every row) as NaN."""
    c = cols.get(name)
    if c is None:
        return np.full(n, np.nan)
    if isinstance(c, np.ma.MaskedArray):
        return np.asarray(np.ma.filled(c.astype(np.float64), np.nan))
    return np.asarray(c, dtype=np.float64)  # None becomes NaN


def _objects(cols: dict[str, Any], name: str, n: int) -> np.ndarray:
    c = cols.get(name)
    return np.full(n, None, dtype=object) if c is None else np.asarray(c, dtype=object)


def _past(cols: dict[str, Any], n: int, issue_type: IssueType, threshold: float) -> Any:
    """Which samples show `issue_type` past its threshold (the module's docstring lists the measures)."""
    direction, kind = _objects(cols, "direction", n), _objects(cols, "kind", n)
    send = direction == "send"
    with np.errstate(divide="ignore", invalid="ignore"):
        if issue_type == IssueType.PACKET_LOSS:
            lost, packets = _floats(cols, "packets_lost", n), _floats(cols, "packets", n)
            return send & (100.0 * lost / (lost + packets) >= threshold)
        if issue_type == IssueType.ROUND_TRIP_TIME:
            total, count = _floats(cols, "total_rtt_s", n), _floats(cols, "rtt_measurements", n)
            mean = np.where(count > 0, 1000.0 * total / count, np.nan)
            return send & ((mean > threshold) | (_floats(cols, "rtt_ms", n) > threshold))
        if issue_type == IssueType.HIGH_JITTER:
            return send & (kind == "audio") & (_floats(cols, "jitter_ms", n) > threshold)
        if issue_type in (IssueType.CPU_LIMITED, IssueType.BANDWIDTH_LIMITED):
            reason = "cpu" if issue_type == IssueType.CPU_LIMITED else "bandwidth"
            return send & (kind == "video") & (_objects(cols, "quality_limitation_reason", n) == reason)
        if issue_type == IssueType.VIDEO_FREEZES:
            return (direction == "recv") & (kind == "video") & (_floats(cols, "freezes_duration_s", n) > 0)
    raise ValueError(f"{issue_type} is not screened")


class AlertScreen:
    def __init__(self, store: Store, settings: Settings, decider: AlertDecider) -> None:
        self.store = store
        self.settings = settings
        self.decider = decider
        self.decided = 0  # alerts written
        self.confirmed = 0  # participants whose statistics were read
        self.refused = 0  # samples handed over while MAX_PENDING_ROWS waited: left to the summaries
        self._pending: list[list[Row] | dict[str, Any]] = []  # rows or column sets handed over by the writer
        self._pending_rows = 0
        self._pending_lock = threading.Lock()  # the writer hands over, the screen's thread takes
        self._watch: dict[str, _Watch] = {}
        self._candidates: dict[Key, str] = {}  # -> the participant's room
        self._checked: OrderedDict[Key, float] = OrderedDict()  # last confirmed, not tagged
        self._tagged: OrderedDict[tuple[str, str, IssueType], None] = OrderedDict()

    # -- the writer's side -------------------------------------------------------------------------
    def hand_over(self, accounts: frozenset[str], rows: list[Row], columns: list[dict[str, Any]]) -> None:
        """Samples just committed (rows in stream_samples' column order, or typed column sets), of which
        those of `accounts` are to be screened. The writer calls this: it only keeps references, and
        `round` does the work."""
        sets: list[list[Row] | dict[str, Any]] = [cols for cols in columns if len(cols["account_sid"])]
        if rows:
            sets.append(rows)
        count = sum(len(x) if isinstance(x, list) else len(x["account_sid"]) for x in sets)
        with self._pending_lock:
            if self._pending_rows >= MAX_PENDING_ROWS:
                # The screen is behind: the summaries decide these (it is an early decider, not the only one).
                self.refused += count
                return
            self._pending.extend(sets)
            self._pending_rows += count

    # -- the screen's thread ------------------------------------------------------------------------
    def round(self, accounts: frozenset[str], now_ms: int | None = None) -> int:
        """Screen what was handed over, then confirm the participants due; returns the alerts written."""
        with self._pending_lock:
            pending, self._pending, self._pending_rows = self._pending, [], 0
        for item in pending:
            if isinstance(item, dict):
                self._screen(item, accounts)
            elif mine := [r for r in item if r[0] in accounts]:
                self._screen(columns_of(STREAM_SAMPLES, mine, _NEEDED), accounts)
        due = self._due()
        if not due:
            return 0
        now = int(time.time() * 1000) if now_ms is None else now_ms
        by_account: dict[str, dict[str, str]] = defaultdict(dict)
        for (account, participant), room in due.items():
            by_account[account][participant] = room
        written = 0
        for account, participants in by_account.items():
            written += self._confirm(account, participants, now)
        self.decided += written
        return written

    def _watched(self, account: str) -> _Watch:
        watch = self._watch.get(account)
        if watch is None or time.monotonic() - watch.read_at > RULES_TTL_S:
            types = frozenset(IssueType(r.trigger["issue_type"]) for r in list_rules(self.store, account)
                              if r.type == PARTICIPANT_ISSUE) & frozenset(SCREENED)
            watch = self._watch[account] = _Watch(types, account_issue_configs(self.store, self.settings, account))
        return watch

    def _screen(self, cols: dict[str, Any], accounts: frozenset[str]) -> None:
        account_col = _objects(cols, "account_sid", len(cols["account_sid"]))
        n = len(account_col)
        for account in set(account_col.tolist()) & accounts:
            watch = self._watched(account)
            past = np.zeros(n, dtype=bool)
            per_type: list[tuple[IssueType, np.ndarray]] = []
            for issue_type in watch.issue_types:
                config = watch.configs[issue_type]
                if not config.enabled:
                    continue
                hit = _past(cols, n, issue_type, float(config.threshold or 0))
                per_type.append((issue_type, hit))
                past |= hit
            past &= account_col == account
            if not past.any():
                continue
            participants = _objects(cols, "participant_sid", n)
            rooms = _objects(cols, "room_sid", n)
            for i in np.flatnonzero(past).tolist():
                pid = participants[i]
                if any(hit[i] and (account, pid, t) not in self._tagged for t, hit in per_type):
                    self._candidates.setdefault((account, pid), rooms[i])

    def _due(self) -> dict[Key, str]:
        """The candidates not confirmed within RECHECK_S (taken); the others wait for a later round."""
        horizon = time.monotonic() - RECHECK_S
        due = {key: room for key, room in self._candidates.items() if self._checked.get(key, 0.0) <= horizon}
        for key in due:
            del self._candidates[key]
        return due

    def _confirm(self, account: str, participants: dict[str, str], now: int) -> int:
        watch = self._watched(account)
        rules = [r for r in list_rules(self.store, account) if r.type == PARTICIPANT_ISSUE]
        configs = {t: (c if t in watch.issue_types else IssueConfig(False, c.threshold))
                   for t, c in watch.configs.items()}
        stats = track_stats(self.store, account, sorted(participants))
        self.confirmed += len(participants)
        tagged = []
        for pid, room in participants.items():
            tracks = stats.get(pid, [])
            issues = detect_all(DetectorInput(pid, tracks, ()), configs)
            last = max((t.last_ms for t in tracks), default=None)
            tagged.append(Tagged(room, pid, last, issues))
            self._remember(self._checked, (account, pid), time.monotonic())
            for issue in issues:
                self._remember(self._tagged, (account, pid, IssueType(issue.issue_type)), None)
        rooms = self._rooms(account, {t.room_sid for t in tagged if t.issues}) if any(r.filters for r in rules) else {}
        batch = WriteBatch()
        written = self.decider.tagged(account, tagged, rooms, batch, now, rules)
        if written:
            self.store.write(batch)
        return written

    def _rooms(self, account: str, sids: set[str]) -> dict[str, dict[str, Any]]:
        """The stored rooms (a rule's filters judge them); a room not summarised yet is left to its summary."""
        if not sids:
            return {}
        columns, rows = self.store.fetch(room_queries.of_sids(account, sorted(sids)))
        names = list(columns) if columns else list(ROOMS.column_names)
        out: dict[str, dict[str, Any]] = {}
        for row in rows:
            room = dict(zip(names, row, strict=True))
            kept = out.get(room["room_sid"])
            if kept is None or (room.get("updated_ms") or 0) >= (kept.get("updated_ms") or 0):
                out[room["room_sid"]] = room
        return out

    @staticmethod
    def _remember(memory: OrderedDict[Any, Any], key: Any, value: Any) -> None:
        memory[key] = value
        memory.move_to_end(key)
        if len(memory) > MAX_REMEMBERED:
            memory.popitem(last=False)

