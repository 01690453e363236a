"""Room and participant summaries as pure functions of a room's events and its tracks' statistics.

Events may arrive in any order, late or twice: everything here reads them as a set (sorted, de-duplicated
by the caller), so the same set always gives the same summary. Only `now_ms` makes a summary move on
by itself (timeouts), and the pipeline re-summarises in-progress rooms as time passes.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from video_insights.model.issues import IssueConfig, IssueType
from video_insights.model.records import Event, Source
from video_insights.model.summaries import (
    ParticipantSummary,
    RecordingInfo,
    RoomSummary,
    TrackInfo,
    TrackStats,
)
from video_insights.model.vocabulary import ParticipantStatus, ProcessingState, RoomStatus
from video_insights.processing import lifecycle as lc
from video_insights.processing.detectors import DetectorInput, detect_all
from video_insights.processing.useragent import client_info

ROOM_END_GRACE_MS = 5_000
_ERROR_CODE = re.compile(r"[0-9]{1,9}")


@dataclass(frozen=True)
class SummaryContext:
    now_ms: int
    issue_configs: dict[IssueType, IssueConfig]
    participant_timeout_ms: int = 60_000
    empty_room_timeout_ms: int = 300_000
    region: str | None = None
    media_region: str | None = None
    edge_location: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)


def _first(events: Iterable[Event], *names: str) -> Event | None:
    return next((e for e in events if e.name in names), None)


def _last(events: Sequence[Event], *names: str) -> Event | None:
    return next((e for e in reversed(events) if e.name in names), None)


def _payload_value(events: Iterable[Event], key: str) -> Any:
    for e in events:
        v = e.payload.get(key)
        if v not in (None, ""):
            return v
    return None


def _trusted_value(events: Iterable[Event], key: str) -> Any:
    """A room-level setting (status callback, regions): only what webhooks and imports state counts.
    Anyone in a call holds a token and may send a client event with any payload (docs/security.md)."""
    return _payload_value((e for e in events if e.source != Source.GATEWAY), key)


def _tracks_of(events: Sequence[Event], stats: Sequence[TrackStats]) -> list[TrackInfo]:
    infos: dict[str, TrackInfo] = {}
    for e in events:
        sid = e.payload.get("track_sid")
        if not sid or e.name not in (lc.TRACK_ADDED, lc.TRACK_REMOVED):
            continue
        cur = infos.get(sid) or TrackInfo(sid, str(e.payload.get("track_kind") or "data"),
                                          e.payload.get("track_name"))
        if e.name == lc.TRACK_ADDED and cur.published_ms is None:
            cur = TrackInfo(cur.track_sid, cur.kind, cur.name, e.ts_ms, cur.unpublished_ms)
        elif e.name == lc.TRACK_REMOVED:
            cur = TrackInfo(cur.track_sid, cur.kind, cur.name, cur.published_ms, e.ts_ms)
        infos[sid] = cur
    for t in stats:
        if t.direction == "send" and t.track_sid not in infos:
            infos[t.track_sid] = TrackInfo(t.track_sid, t.kind, None, t.first_ms, t.last_ms)
    return sorted(infos.values(), key=lambda t: (t.published_ms or 0, t.track_sid))


def _client_fields(summary: ParticipantSummary, events: Sequence[Event]) -> None:
    connect = _first(events, lc.SESSION_CONNECT, lc.IMPORTED_DUMP)
    payload = connect.payload if connect else {}
    publisher = payload.get("publisher") if isinstance(payload.get("publisher"), dict) else None
    ua = payload.get("user_agent") or (publisher or {}).get("userAgent")
    info = client_info(ua, ua_data=payload.get("user_agent_data"), publisher=publisher)
    summary.user_agent = ua
    summary.publisher_info = publisher
    summary.os_name, summary.os_version = info.os_name, info.os_version
    summary.browser_name, summary.browser_version = info.browser_name, info.browser_version
    summary.device_manufacturer, summary.device_model = info.device_manufacturer, info.device_model
    summary.sdk_name, summary.sdk_version = info.sdk_name, info.sdk_version


_ACTIVE_PAIR = "quality/active-ice-candidate-pair"  # twilio-video.js, every 20 s
_SELECTED_PAIR = "ice-candidate/selected-ice-candidate-pair"  # on each change of the selected pair
_NETWORK_TYPE = "network/network-type-changed"


def _short(value: Any) -> str | None:
    return value if isinstance(value, str) and 0 < len(value) <= 32 else None


def _network(events: Sequence[Event]) -> dict[str, Any] | None:
    """How the participant's media went, from the last active (else selected) ICE candidate pair:
    relayed through TURN or direct, over which protocol, on which kind of network."""
    pair = _last(events, _ACTIVE_PAIR) or _last(events, _SELECTED_PAIR)
    if pair is None:
        return None
    local, remote = (pair.payload.get(k) for k in ("localCandidate", "remoteCandidate"))
    local, remote = (c if isinstance(c, dict) else {} for c in (local, remote))
    types = _short(local.get("candidateType")), _short(remote.get("candidateType"))
    changed = _last(events, _NETWORK_TYPE)
    return {"relayed": "relay" in types, "local_candidate_type": types[0], "remote_candidate_type": types[1],
            "protocol": _short(local.get("protocol")), "relay_protocol": _short(local.get("relayProtocol")),
            "network_type": _short(local.get("networkType"))
            or (_short(changed.payload.get("networkType")) if changed else None)}


def _leave(events: Sequence[Event], last_activity: int | None, room_end_ms: int | None,
           ctx: SummaryContext) -> tuple[int | None, str | None, int | None]:
    """(leave time, end reason, duration stated by the source) of one participant."""
    failed = any(e.name in lc.MEDIA_FAILURE_EVENTS for e in events)
    gone = _first(events, lc.PARTICIPANT_DISCONNECTED)
    said_bye = _first(events, lc.CLIENT_DISCONNECTED)
    if gone is not None:
        duration = gone.payload.get("duration")
        # The callback says the participant went, not why; telemetry may know the media failed first.
        fallback = lc.END_MEDIA_ERROR if failed and said_bye is None else lc.END_DISCONNECTED
        reason = gone.payload.get("end_reason") or fallback
        return gone.ts_ms, reason, int(duration) if isinstance(duration, (int, float)) else None
    if said_bye is not None:
        return said_bye.ts_ms, lc.END_MEDIA_ERROR if failed else lc.END_DISCONNECTED, None
    if room_end_ms is not None:
        return room_end_ms, lc.END_ROOM_ENDED, None
    # Webhooks are authoritative for the lifecycle (docs/lifecycle.md): a participant they announced stays
    # until they say it left or the room ended, however quiet its telemetry (or absent: webhook-only).
    announced = any(e.source in (Source.TWILIO, Source.LIVEKIT) for e in events)
    if not announced and last_activity is not None and ctx.now_ms - last_activity > ctx.participant_timeout_ms:
        imported = _first(events, lc.IMPORTED_DUMP) is not None
        if failed:
            return last_activity, lc.END_MEDIA_ERROR, None
        return last_activity, (None if imported else lc.END_SIGNALING_ERROR), None
    return None, None, None


def summarize_participant(account_sid: str, room_sid: str, participant_sid: str, events: Sequence[Event],
                          stats: Sequence[TrackStats], ctx: SummaryContext,
                          room_end_ms: int | None = None) -> ParticipantSummary:
    events = sorted(events, key=lambda e: (e.ts_ms, e.event_id))
    s = ParticipantSummary(account_sid, room_sid, participant_sid)
    times = [e.ts_ms for e in events] + [t.first_ms for t in stats] + [t.last_ms for t in stats]
    connected = _first(events, lc.PARTICIPANT_CONNECTED)
    s.join_ms = connected.ts_ms if connected else (min(times) if times else None)
    s.last_activity_ms = max(times) if times else None
    s.participant_identity = _payload_value(events, "identity")
    s.room_type = _payload_value(events, "room_type")
    s.leave_ms, s.end_reason, stated = _leave(events, s.last_activity_ms, room_end_ms, ctx)
    if s.leave_ms is not None and s.join_ms is not None:
        s.leave_ms = max(s.leave_ms, s.join_ms)
        s.duration_sec = stated if stated is not None else round((s.leave_ms - s.join_ms) / 1000)
    s.status = ParticipantStatus.COMPLETED if s.leave_ms is not None else ParticipantStatus.IN_PROGRESS
    _client_fields(s, events)
    s.signaling_region = _payload_value(events, "signaling_region") or ctx.region or "Unknown"
    s.media_region = _trusted_value(events, "media_region") or ctx.media_region or None
    s.edge_location = _trusted_value(events, "edge_location") or ctx.edge_location or None
    error = _payload_value(events, "error_code")
    s.error_code = int(error) if _ERROR_CODE.fullmatch(str(error)) else None
    s.codecs = sorted({c for t in stats if (c := lc.normalise_codec(t.codec))})
    s.tracks = _tracks_of(events, stats)
    network = _network(events)
    if network is not None:
        s.properties["network"] = network
    s.issues = detect_all(DetectorInput(participant_sid, stats, events), ctx.issue_configs)
    return s


def recordings_of(events: Sequence[Event]) -> list[RecordingInfo]:
    recs: dict[str, RecordingInfo] = {}
    for e in sorted(events, key=lambda e: (e.ts_ms, e.event_id)):
        sid = e.payload.get("recording_sid")
        if e.name not in lc.RECORDING_EVENTS or not sid:
            continue
        r = recs.setdefault(sid, RecordingInfo(sid, "started"))
        p = e.payload
        r.participant_sid = r.participant_sid or p.get("participant_sid")
        r.track_sid = r.track_sid or p.get("source_sid")
        r.kind = r.kind or p.get("kind")
        r.track_name = r.track_name or p.get("track_name")
        r.container = r.container or p.get("container")
        r.codec = r.codec or p.get("codec")
        if e.name == lc.RECORDING_STARTED:
            r.start_ms = e.ts_ms if r.start_ms is None else min(r.start_ms, e.ts_ms)
        else:
            r.status = "completed" if e.name == lc.RECORDING_COMPLETED else "failed"
            r.duration_sec = int(p.get("duration") or 0)
            r.size_bytes = p.get("size")
            if r.start_ms is None:
                r.start_ms = e.ts_ms - r.duration_sec * 1000
    return sorted(recs.values(), key=lambda r: (r.start_ms or 0, r.recording_sid))


def recorded_seconds(recordings: Sequence[RecordingInfo]) -> int:
    """The time a participant was recorded: its tracks' recordings run side by side (one per track),
    so they are merged as intervals, not added up. Added, a participant recorded with camera and
    microphone for 81 s in a room it was in for 82 s read 162 s."""
    spans = sorted((x.start_ms, x.start_ms + x.duration_sec * 1000) for x in recordings if x.start_ms is not None)
    total_ms, end = 0, None
    for start, stop in spans:
        if end is None or start > end:
            total_ms += stop - start
            end = stop
        elif stop > end:
            total_ms += stop - end
            end = stop
    # A recording without a start time cannot be placed; it counts as its duration alone.
    unplaced = [x.duration_sec for x in recordings if x.start_ms is None]
    return max(round(total_ms / 1000), max(unplaced, default=0))


def _max_concurrent(participants: Sequence[ParticipantSummary], now_ms: int) -> int:
    edges: list[tuple[int, int]] = []
    for p in participants:
        if p.join_ms is None:
            continue
        edges.append((p.join_ms, 1))
        edges.append((p.leave_ms if p.leave_ms is not None else now_ms, -1))
    best = cur = 0
    for _, step in sorted(edges):  # a leave sorts before a join at the same instant
        cur += step
        best = max(best, cur)
    return best


def _room_end(events: Sequence[Event], participants: Sequence[ParticipantSummary],
              ctx: SummaryContext) -> tuple[int | None, str | None]:
    ended = _first(events, lc.ROOM_ENDED)
    if ended is not None and "end_reason" in ended.payload:
        return ended.ts_ms, ended.payload["end_reason"]  # the source says why (or that nobody knows)
    if ended is not None:
        # Ended through the API, the room takes its participants with it: they were still in, or left at
        # that same moment; a room that times out ends well after the last one left.
        leaves = [p.leave_ms for p in participants if p.leave_ms is not None]
        still_in = any(p.end_reason == lc.END_ROOM_ENDED for p in participants)
        kicked = bool(leaves) and ended.ts_ms - max(leaves) <= ROOM_END_GRACE_MS
        return ended.ts_ms, lc.ROOM_ENDED_VIA_API if still_in or kicked else lc.ROOM_TIMEOUT
    if participants and all(p.leave_ms is not None for p in participants):
        last_leave = max(p.leave_ms or 0 for p in participants)
        if ctx.now_ms - last_leave > ctx.empty_room_timeout_ms:
            return last_leave, lc.ROOM_TIMEOUT
    return None, None


def summarize_room(account_sid: str, room_sid: str, room_events: Sequence[Event],
                   participant_events: dict[str, list[Event]], stats: dict[str, list[TrackStats]],
                   ctx: SummaryContext) -> tuple[RoomSummary, list[ParticipantSummary]]:
    """The room and its participants, from every event of the room and every participant's stats."""
    events = sorted(room_events, key=lambda e: (e.ts_ms, e.event_id))
    explicit_end = _first(events, lc.ROOM_ENDED)
    end_hint = explicit_end.ts_ms if explicit_end else None
    pids = sorted(set(participant_events) | set(stats))
    participants = [summarize_participant(account_sid, room_sid, pid, participant_events.get(pid, []),
                                          stats.get(pid, []), ctx, end_hint) for pid in pids]
    r = RoomSummary(account_sid, room_sid)
    r.room_name = _payload_value(events, "room_name")
    r.media_region = _trusted_value(events, "media_region")
    r.room_type = _payload_value(events, "room_type") or next(
        (p.room_type for p in participants if p.room_type), None)
    created = _first(events, lc.ROOM_CREATED)
    joins = [p.join_ms for p in participants if p.join_ms is not None]
    times = [e.ts_ms for e in events] + joins
    r.create_ms = created.ts_ms if created else (min(times) if times else None)
    r.created_method = _trusted_value(events, "created_method") or (None if created else "ad_hoc")
    r.status_callback = _trusted_value(events, "status_callback")
    r.status_callback_method = _trusted_value(events, "status_callback_method")
    r.max_participants = _trusted_value(events, "max_participants")
    r.end_ms, r.end_reason = _room_end(events, participants, ctx)
    if r.end_ms is not None and r.create_ms is not None:
        r.end_ms = max(r.end_ms, r.create_ms)
        stated = explicit_end.payload.get("duration") if explicit_end else None
        r.duration_sec = int(stated) if isinstance(stated, (int, float)) else round(
            (r.end_ms - r.create_ms) / 1000)
    r.room_status = RoomStatus.COMPLETED if r.end_ms is not None else RoomStatus.IN_PROGRESS
    r.processing_state = (ProcessingState.COMPLETE if r.room_status == RoomStatus.COMPLETED
                          else ProcessingState.IN_PROGRESS)
    r.recordings = recordings_of(events)
    _room_participant_fields(r, participants, ctx)
    activity = [p.last_activity_ms for p in participants if p.last_activity_ms] + [e.ts_ms for e in events]
    r.last_activity_ms = max(activity) if activity else None
    return r, participants


def _room_participant_fields(r: RoomSummary, participants: Sequence[ParticipantSummary],
                             ctx: SummaryContext) -> None:
    by_track = {t.track_sid: p for p in participants for t in p.tracks}
    for rec in r.recordings:
        owner = by_track.get(rec.track_sid or "") if rec.participant_sid is None else None
        if owner is not None:
            rec.participant_sid = owner.participant_sid
    for p in participants:
        p.room_type = p.room_type or r.room_type
        p.recording_duration_sec = recorded_seconds([x for x in r.recordings
                                                     if x.participant_sid == p.participant_sid])
    r.unique_participants = len(participants)
    r.unique_participant_identities = len({p.participant_identity for p in participants
                                            if p.participant_identity})
    r.concurrent_participants = _max_concurrent(participants, ctx.now_ms)
    r.total_participant_duration_sec = sum(p.duration_sec or 0 for p in participants)
    # Recorded time of the participants, plus recordings of no participant (a room composite).
    known = {p.participant_sid for p in participants}
    r.total_recording_duration_sec = (sum(p.recording_duration_sec for p in participants)
                                      + sum(x.duration_sec for x in r.recordings if x.participant_sid not in known))
    r.recording_enabled = bool(r.recordings)
    r.codecs = sorted({c for p in participants for c in p.codecs})
    r.media_region = r.media_region or next((p.media_region for p in participants if p.media_region), None) \
        or ctx.media_region
    r.edge_location = next((p.edge_location for p in participants if p.edge_location), None)
    with_issues = [p for p in participants if p.issues]
    r.participants_with_issues = len(with_issues)
    r.issue_count = sum(len(p.issue_types) for p in participants)
    r.issue_types = sorted({t for p in participants for t in p.issue_types})
    r.detected_issues = [i for p in participants for i in p.issues]

