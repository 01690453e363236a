"""Reads that tell who sent the tracks a participant received (analytics/senders.py): the room's
published tracks and identities, and the media track ids its participants sent."""

from __future__ import annotations

from video_insights.model.ids import sid_key
from video_insights.query.sql import Bound, bound


def room_tracks(account: str, room: str, participants: list[str]) -> Bound:
    """(participant_sid, track_sid, kind, name) of every track the room's participants published (found
    by their keys: the tracks table has no room key)."""
    return bound("SELECT participant_sid, track_sid, kind, name FROM tracks WHERE participant_key IN :keys "
                 "AND participant_sid IN :pids AND room_sid = :r AND account_sid = :a "
                 "ORDER BY participant_sid, track_sid", keys=sorted({sid_key(p) for p in participants}),
                 pids=sorted(participants), r=room, a=account)


def room_identities(account: str, room: str) -> Bound:
    """(participant_sid, participant_identity) of everyone in the room."""
    return bound("SELECT participant_sid, participant_identity FROM participants WHERE room_key = :key "
                 "AND room_sid = :r AND account_sid = :a ORDER BY participant_sid", key=sid_key(room), r=room,
                 a=account)


def sent_track_ids(account: str, participants: list[str], track_ids: list[str]) -> Bound:
    """(participant_sid, track_id, track_sid) of the send streams of these participants whose media
    track id is one of `track_ids`."""
    return bound("SELECT participant_sid, track_id, max(track_sid) FROM stream_samples "
                 "WHERE participant_key IN :keys AND participant_sid IN :pids AND account_sid = :a "
                 "AND direction = 'send' AND track_id IN :ids GROUP BY participant_sid, track_id "
                 "ORDER BY participant_sid, track_id", keys=sorted({sid_key(p) for p in participants}),
                 pids=sorted(participants), a=account, ids=sorted(track_ids))
