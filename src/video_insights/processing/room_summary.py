"""A room's summaries, computed from what the store holds of it.

The summaries of a room (room, participants, tracks, recordings, dashboard facts, and the /Metrics
documents of completed participants) are recomputed whole from its stored events and samples, so the
result does not depend on which process received what, or in which order. The pipeline writes them
when a room is due (processing/pipeline.py); the API computes them at read time for a room in
progress, so what it shows is current to the last commit (analytics/live.py, docs/durability.md).
"""

from __future__ import annotations

import hashlib
import time
from collections import defaultdict
from collections.abc import Sequence

import orjson

from video_insights.alerts.decide import AlertDecider
from video_insights.model.ids import sid_key
from video_insights.model.issues import IssueConfig, IssueType, issue_configs
from video_insights.model.records import Event, Source
from video_insights.model.summaries import ParticipantSummary, TrackStats
from video_insights.model.vocabulary import ParticipantStatus
from video_insights.processing.metrics_documents import documents as metric_documents
from video_insights.processing.metrics_documents import empty as empty_metrics
from video_insights.processing.metrics_documents import encode as encode_metrics
from video_insights.processing.summaries import SummaryContext, summarize_room
from video_insights.processing.summary_rows import participant_rows, room_rows
from video_insights.query import accounts as account_queries
from video_insights.query import events as event_queries
from video_insights.query import metrics as metrics_queries
from video_insights.query import samples as sample_queries
from video_insights.settings import Settings
from video_insights.store.base import Store, WriteBatch, make_row

# A participant's samples never precede its room's first event by more than this (clock skew between
# sources); bounding the scan by time lets the store skip old data.
SAMPLES_BEFORE_EVENTS_MS = 15 * 60_000


def account_issue_configs(store: Store, settings: Settings, account: str) -> dict[IssueType, IssueConfig]:
    """The issue switches and thresholds detection uses for an account (the console draws them too)."""
    s = settings
    _, rows = store.fetch(account_queries.account_settings(account))
    account_settings = orjson.loads(rows[0][0]) if rows and rows[0][0] else None
    defaults: dict[IssueType, float | None] = {
        IssueType.PACKET_LOSS: s.packet_loss_threshold_pct, IssueType.ROUND_TRIP_TIME: s.rtt_threshold_ms,
        IssueType.HIGH_JITTER: s.jitter_threshold_ms, IssueType.CPU_LIMITED: s.limitation_share,
        IssueType.BANDWIDTH_LIMITED: s.limitation_share, IssueType.SLOW_CONNECTION_SETUP: s.slow_setup_s,
        IssueType.REPEATED_RECONNECTS: float(s.reconnects_threshold)}
    return issue_configs(account_settings, defaults)


def _document_basis(p: ParticipantSummary, stats: Sequence[TrackStats]) -> str:
    """What a participant's metrics row is built from: its samples (counted), track names, and the
    join time and room type that retention reads."""
    names = sorted((t.track_sid, t.name or "") for t in p.tracks)
    digest = hashlib.sha1(orjson.dumps([names, p.join_ms, p.room_type])).hexdigest()[:16]
    return f"{sum(t.samples for t in stats)}:{digest}"


class RoomSummarizer:
    def __init__(self, store: Store, settings: Settings, *, alerts: AlertDecider | None = None) -> None:
        self.store = store
        self.settings = settings
        # Decides participant alerts with the summaries it writes (not for read-time summaries).
        self.alerts = alerts
        self.alerts_decided = 0

    def summarize(self, account: str, rooms: list[str], batch: WriteBatch, *, now_ms: int | None = None,
                  documents: bool = True) -> int:
        """Put the summary rows of the account's rooms in `batch`, and (with `documents`) the /Metrics
        documents of their completed participants whose inputs changed; returns how many documents."""
        now = int(time.time() * 1000) if now_ms is None else now_ms
        ctx = self.context(account, now)
        events = self._room_events(account, rooms)
        pids = sorted({e.participant_sid for evs in events.values() for e in evs if e.participant_sid})
        first = min((e.ts_ms for evs in events.values() for e in evs), default=0)
        since = max(first - SAMPLES_BEFORE_EVENTS_MS, 0)
        stats = track_stats(self.store, account, pids, since)
        completed: list[ParticipantSummary] = []
        summarised: list[ParticipantSummary] = []
        for room in rooms:
            room_events = events.get(room, [])
            per_participant: dict[str, list[Event]] = defaultdict(list)
            for e in room_events:
                if e.participant_sid:
                    per_participant[e.participant_sid].append(e)
            room_stats = {pid: stats.get(pid, []) for pid in per_participant}
            summary, participants = summarize_room(account, room, room_events, per_participant, room_stats, ctx)
            room_rows(batch, summary, now)
            for p in participants:
                participant_rows(batch, p, room_stats.get(p.participant_sid, []), now)
            completed.extend(p for p in participants if p.status == ParticipantStatus.COMPLETED)
            summarised.extend(participants)
        if self.alerts is not None:
            self.alerts_decided += self.alerts.participants(account, summarised, batch, now)
        if not documents:
            return 0
        return self._metrics_documents(account, completed, stats, since, batch, now)

    def _metrics_documents(self, account: str, completed: list[ParticipantSummary],
                           stats: dict[str, list[TrackStats]], since: int, batch: WriteBatch, now: int) -> int:
        """Store the /Metrics document of each completed participant whose inputs changed since it was
        built: the count of its distinct samples and its track names, so that any process can tell."""
        if not completed:
            return 0
        basis = {p.participant_sid: _document_basis(p, stats.get(p.participant_sid, [])) for p in completed}
        _, rows = self.store.fetch(metrics_queries.bases(account, sorted(basis)))
        stored = {pid: b for pid, b, _ in sorted(rows, key=lambda r: r[2])}
        stale = [p for p in completed if stored.get(p.participant_sid) != basis[p.participant_sid]]
        if not stale:
            return 0
        names = {t.track_sid: t.name for p in stale for t in p.tracks}
        with_samples = sorted(p.participant_sid for p in stale if stats.get(p.participant_sid))
        docs = {}
        if with_samples:
            _, interval_rows = self.store.fetch(sample_queries.intervals_of(account, with_samples, since))
            _, incoming = self.store.fetch(sample_queries.receive_tracks_of(account, with_samples, since))
            docs = metric_documents(interval_rows, names, incoming)
        for p in stale:
            doc = docs.get(p.participant_sid) or empty_metrics()
            batch.replace("participant_metrics", make_row(
                "participant_metrics", account_sid=account, room_sid=p.room_sid, participant_sid=p.participant_sid,
                participant_key=sid_key(p.participant_sid), join_ms=p.join_ms, room_type=p.room_type,
                basis=basis[p.participant_sid], document=encode_metrics(doc), updated_ms=now))
        return len(stale)

    def context(self, account: str, now: int) -> SummaryContext:
        s = self.settings
        configs = account_issue_configs(self.store, s, account)
        return SummaryContext(now_ms=now, issue_configs=configs,
                              participant_timeout_ms=s.participant_timeout_s * 1000,
                              empty_room_timeout_ms=s.empty_room_timeout_s * 1000, region=s.region or None,
                              media_region=s.media_region or None, edge_location=s.edge_location or None)

    def _room_events(self, account: str, rooms: list[str]) -> dict[str, list[Event]]:
        _, rows = self.store.fetch(event_queries.of_rooms(account, rooms))
        out: dict[str, dict[str, Event]] = defaultdict(dict)
        for e in map(event_queries.EventRow._make, rows):
            out[e.room_sid][e.event_id] = Event(account, e.room_sid, e.participant_sid, int(e.ts_ms), Source(e.source),
                                                e.name, orjson.loads(e.payload) if e.payload else {}, e.event_id)
        return {room: list(evs.values()) for room, evs in out.items()}


def track_stats(store: Store, account: str, pids: list[str], since: int = 0) -> dict[str, list[TrackStats]]:
    """The whole-life statistics of the participants' tracks, by participant (what detectors judge)."""
    if not pids:
        return {}
    _, rows = store.fetch(sample_queries.track_stats(account, pids, since))
    out: dict[str, list[TrackStats]] = defaultdict(list)
    for r in map(sample_queries.TrackStatsRow._make, rows):
        out[r.participant_sid].append(TrackStats(
            track_sid=r.sid, kind=r.kind, direction=r.direction, first_ms=int(r.first_ms),
            last_ms=int(r.last_ms), codec=r.codec, bytes=int(r.bytes or 0), packets=int(r.packets or 0),
            packets_lost=int(r.packets_lost or 0), seconds=float(r.seconds or 0),
            rtt_avg_ms=None if r.rtt_avg_ms is None else float(r.rtt_avg_ms),
            rtt_intervals=int(r.rtt_intervals or 0),
            jitter_avg_ms=None if r.jitter_avg_ms is None else float(r.jitter_avg_ms),
            ql_cpu_s=float(r.ql_cpu_s or 0), ql_bandwidth_s=float(r.ql_bandwidth_s or 0),
            freeze_count=int(r.freeze_count or 0), freezes_duration_s=float(r.freezes_duration_s or 0),
            samples=int(r.samples or 0), loss_packets=None if r.loss_packets is None else int(r.loss_packets)))
    return out
