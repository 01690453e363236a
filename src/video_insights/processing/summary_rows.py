"""Summaries → rows of the summary tables (rooms, participants, tracks, recordings, dashboard facts)."""

from __future__ import annotations

from collections.abc import Sequence

import orjson

from video_insights.model.ids import sid_key
from video_insights.model.summaries import ParticipantSummary, RoomSummary, TrackStats
from video_insights.query.sql import tags
from video_insights.store.base import WriteBatch, make_row


def _json(value: object) -> str | None:
    return None if value is None else orjson.dumps(value).decode()


def room_rows(batch: WriteBatch, r: RoomSummary, now_ms: int) -> None:
    batch.replace("rooms", make_row(
        "rooms", account_sid=r.account_sid, room_sid=r.room_sid, room_name=r.room_name, create_ms=r.create_ms,
        end_ms=r.end_ms, room_type=r.room_type, room_status=r.room_status, status_callback=r.status_callback,
        status_callback_method=r.status_callback_method, created_method=r.created_method,
        end_reason=r.end_reason, max_participants=r.max_participants,
        unique_participants=r.unique_participants,
        unique_participant_identities=r.unique_participant_identities,
        concurrent_participants=r.concurrent_participants,
        max_concurrent_participants=r.max_concurrent_participants, codecs=tags(r.codecs),
        media_region=r.media_region, duration_sec=r.duration_sec,
        total_participant_duration_sec=r.total_participant_duration_sec,
        total_recording_duration_sec=r.total_recording_duration_sec, processing_state=r.processing_state,
        recording_enabled=r.recording_enabled, edge_location=r.edge_location, issue_count=r.issue_count,
        participants_with_issues=r.participants_with_issues, issue_types=tags(r.issue_types),
        detected_issues=_json([i.to_json() for i in r.detected_issues]),
        last_activity_ms=r.last_activity_ms, updated_ms=now_ms, room_key=sid_key(r.room_sid)))
    if r.create_ms is not None:
        batch.replace("room_facts", make_row(
            "room_facts", account_sid=r.account_sid, room_sid=r.room_sid, create_ms=r.create_ms,
            room_type=r.room_type, has_issues=r.issue_count > 0, recording_sec=r.total_recording_duration_sec,
            updated_ms=now_ms))
    for rec in r.recordings:
        batch.replace("recordings", make_row(
            "recordings", account_sid=r.account_sid, room_sid=r.room_sid, recording_sid=rec.recording_sid,
            participant_sid=rec.participant_sid, track_sid=rec.track_sid, kind=rec.kind,
            track_name=rec.track_name, status=rec.status, start_ms=rec.start_ms,
            duration_sec=rec.duration_sec, size_bytes=rec.size_bytes, container=rec.container,
            codec=rec.codec, updated_ms=now_ms))


def participant_rows(batch: WriteBatch, p: ParticipantSummary, stats: Sequence[TrackStats],
                     now_ms: int) -> None:
    batch.replace("participants", make_row(
        "participants", account_sid=p.account_sid, room_sid=p.room_sid, participant_sid=p.participant_sid,
        participant_identity=p.participant_identity, room_type=p.room_type, join_ms=p.join_ms,
        leave_ms=p.leave_ms, duration_sec=p.duration_sec, status=p.status, end_reason=p.end_reason,
        error_code=p.error_code, codecs=tags(p.codecs), media_region=p.media_region,
        signaling_region=p.signaling_region, edge_location=p.edge_location, properties=_json(p.properties),
        publisher_info=_json(p.publisher_info), user_agent=p.user_agent, os_name=p.os_name,
        os_version=p.os_version, browser_name=p.browser_name, browser_version=p.browser_version,
        device_manufacturer=p.device_manufacturer, device_model=p.device_model, sdk_name=p.sdk_name,
        sdk_version=p.sdk_version, tracks_audio=p.track_count("audio"), tracks_video=p.track_count("video"),
        tracks_data=p.track_count("data"), recording_duration_sec=p.recording_duration_sec,
        issue_types=tags(p.issue_types), issue_count=len(p.issue_types),
        detected_issues=_json([i.to_json() for i in p.issues]), last_activity_ms=p.last_activity_ms,
        updated_ms=now_ms, participant_key=sid_key(p.participant_sid), room_key=sid_key(p.room_sid)))
    if p.join_ms is not None:
        batch.replace("participant_facts", make_row(
            "participant_facts", account_sid=p.account_sid, room_sid=p.room_sid,
            participant_sid=p.participant_sid, join_ms=p.join_ms, room_type=p.room_type,
            duration_sec=p.duration_sec, has_issues=bool(p.issues), os_name=p.os_name,
            browser_name=p.browser_name, device_manufacturer=p.device_manufacturer, sdk_name=p.sdk_name,
            signaling_region=p.signaling_region, end_reason=p.end_reason or "Unknown", updated_ms=now_ms))
    names = {t.track_sid: t for t in p.tracks}
    for t in stats:
        if t.direction != "send":
            continue
        info = names.get(t.track_sid)
        batch.replace("tracks", make_row(
            "tracks", account_sid=p.account_sid, room_sid=p.room_sid, participant_sid=p.participant_sid,
            track_sid=t.track_sid, kind=t.kind, name=info.name if info else None, codec=t.codec,
            first_ms=t.first_ms, last_ms=t.last_ms, published_ms=info.published_ms if info else None,
            unpublished_ms=info.unpublished_ms if info else None, bytes_sent=t.bytes, packets_sent=t.packets,
            packets_lost=t.packets_lost, loss_pct=t.loss_pct, rtt_avg_ms=t.rtt_avg_ms,
            rtt_intervals=t.rtt_intervals, jitter_avg_ms=t.jitter_avg_ms,
            ql_cpu_share=t.ql_cpu_s / t.seconds if t.seconds else None,
            ql_bandwidth_share=t.ql_bandwidth_s / t.seconds if t.seconds else None, updated_ms=now_ms,
            participant_key=sid_key(p.participant_sid)))
    # Tracks only a webhook told of (a LiveKit or Twilio room without telemetry) are tracks too: their
    # names and spans show, with no quality measured.
    measured = {t.track_sid for t in stats if t.direction == "send"}
    for info in p.tracks:
        if info.track_sid in measured:
            continue
        batch.replace("tracks", make_row(
            "tracks", account_sid=p.account_sid, room_sid=p.room_sid, participant_sid=p.participant_sid,
            track_sid=info.track_sid, kind=info.kind, name=info.name, first_ms=info.published_ms,
            last_ms=info.unpublished_ms, published_ms=info.published_ms, unpublished_ms=info.unpublished_ms,
            updated_ms=now_ms, participant_key=sid_key(p.participant_sid)))
