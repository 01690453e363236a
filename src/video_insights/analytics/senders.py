"""Who sent each track a participant received, read from what the room's participants published.

An incoming track is named by its sender when one of these holds (docs/receive.md says which source
gives which):
- `track_sid`: the incoming track's SID is a track published in the room. twilio-video.js reports the
  remote track's SID with each received stream, and the collector does for tracks given `setTrackSid`.
- `track_id`: the receiver's trackIdentifier is the media track id a participant of the room sent.
  Browsers keep the sender's track id across a peer-to-peer call (the SDP's msid), so the two sides
  of a call recorded by the collector or imported as dumps match up this way.
Otherwise the sender is null, and the console says so rather than guess.
"""

from __future__ import annotations

from typing import Any

from video_insights.analytics.live import RoomView
from video_insights.query import senders as sender_queries


def _sender(participant: str, track: dict[str, Any], identities: dict[str, str | None], how: str
            ) -> dict[str, Any]:
    return {"participant_sid": participant, "participant_identity": identities.get(participant),
            "track_sid": track["track_sid"], "track_name": track.get("name"), "matched_by": how}


def add_senders(room: RoomView, receiver: str, incoming: list[dict[str, Any]]) -> None:
    """Set `sender` on each of `incoming` (the receive_tracks of a /Metrics document)."""
    if not incoming:
        return
    published = {t["track_sid"]: t for t in room.published()}
    identities = room.identities()
    for entry in incoming:
        track = published.get(entry["track_sid"])
        kind_fits = track is not None and (entry["kind"] is None or track["kind"] == entry["kind"])
        entry["sender"] = _sender(track["participant_sid"], track, identities, "track_sid") \
            if track is not None and kind_fits else None
    wanted = sorted({e["track_id"] for e in incoming if e["sender"] is None and e["track_id"]})
    if not wanted or not identities:
        return
    _, rows = room.store.fetch(sender_queries.sent_track_ids(room.account_sid, sorted(identities), wanted))
    by_id: dict[str, list[tuple[str, str]]] = {}
    for participant, track_id, track_sid in rows:
        by_id.setdefault(str(track_id), []).append((str(participant), str(track_sid)))
    for entry in incoming:
        if entry["sender"] is not None or not entry["track_id"]:
            continue
        # Another participant's track first: a dump of a loopback call sends to itself.
        found = sorted(by_id.get(entry["track_id"], []), key=lambda pt: pt[0] == receiver)
        if found:
            participant, track_sid = found[0]
            track = published.get(track_sid, {"track_sid": track_sid, "name": None})
            entry["sender"] = _sender(participant, track, identities, "track_id")
