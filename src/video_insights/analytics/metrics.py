"""One participant's 10-second quality metrics: send (per published track), receive (per peer
connection) and receive_tracks (per incoming track, with who sent it). A value the source did not
measure is null, never 0.

A completed participant's document is built once, when its summary is written (processing.pipeline),
and stored compressed in `participant_metrics`: reading it is one row, however long the call was. A
participant still in progress (or one whose document is not written yet, or was written by a version
without receive_tracks) is computed from its samples. The senders of incoming tracks depend on the
other participants, so they are added when read (analytics/senders.py).
"""

from __future__ import annotations

import zlib
from typing import Any

import orjson

from video_insights.analytics.live import RoomView
from video_insights.analytics.senders import add_senders
from video_insights.model.vocabulary import ParticipantStatus
from video_insights.processing.intervals import INTERVAL_MS
from video_insights.processing.metrics_documents import documents, empty
from video_insights.query import metrics as metrics_queries
from video_insights.query import samples
from video_insights.store.base import Store

# Samples can precede the recorded join (clock skew between sources) or follow the leave by a report.
MARGIN_MS = 60_000


def stored_document(store: Store, account: str, participant_sid: str) -> bytes | None:
    _, rows = store.fetch(metrics_queries.document(account, participant_sid))
    return zlib.decompress(rows[0][0]) if rows else None


def computed_json(store: Store, p: dict[str, Any], tracks: list[dict[str, Any]]) -> bytes:
    """The {"send", "receive", "receive_tracks"} document computed from the participant's samples now."""
    account, pid = p["account_sid"], p["participant_sid"]
    since = (p["join_ms"] or 0) - MARGIN_MS
    until = (p["leave_ms"] or p["last_activity_ms"] or 2**62 - MARGIN_MS) + MARGIN_MS
    names = {t["track_sid"]: t["name"] for t in tracks}
    _, rows = store.fetch(samples.intervals(account, pid, since, until))
    _, incoming = store.fetch(samples.receive_tracks(account, pid, since, until)) if rows else ([], [])
    return orjson.dumps(documents(rows, names, incoming).get(pid) or empty())


def participant_metrics(room: RoomView, participant_sid: str) -> dict[str, Any]:
    """The /Metrics response: the participant's document, its incoming tracks' senders resolved."""
    p = room.participant(participant_sid)
    completed = not room.live and p["status"] == ParticipantStatus.COMPLETED
    stored = stored_document(room.store, p["account_sid"], participant_sid) if completed else None
    document: dict[str, Any] = orjson.loads(stored) if stored else {}
    if "receive_tracks" not in document:
        document = orjson.loads(computed_json(room.store, p, room.tracks(participant_sid)))
    add_senders(room, participant_sid, document["receive_tracks"])
    return {"interval_sec": INTERVAL_MS // 1000, "account_sid": p["account_sid"], "room_sid": room.room_sid,
            "participant_sid": participant_sid, **document}


def metrics_json(room: RoomView, participant_sid: str) -> bytes:
    """The /Metrics response body."""
    return orjson.dumps(participant_metrics(room, participant_sid))
