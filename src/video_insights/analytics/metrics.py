"""One participant's 10-second quality metrics: send (per published track) and receive (per peer
connection). A value the source did not measure is null, never 0.

A completed participant's document is built once, when its summary is written (processing.pipeline),
and stored compressed in `participant_metrics`: reading it is one row, however long the call was. A
participant still in progress (or one whose document is not written yet) is computed from its samples.
"""

from __future__ import annotations

import zlib
from typing import Any

import orjson

from video_insights.analytics.live import RoomView
from video_insights.model.vocabulary import ParticipantStatus
from video_insights.processing.intervals import INTERVAL_MS
from video_insights.processing.metrics_documents import documents
from video_insights.query import metrics as metrics_queries
from video_insights.query import samples
from video_insights.store.base import Store

# Samples can precede the recorded join (clock skew between sources) or follow the leave by a report.
MARGIN_MS = 60_000


def stored_document(store: Store, account: str, participant_sid: str) -> bytes | None:
    _, rows = store.fetch(metrics_queries.document(account, participant_sid))
    return zlib.decompress(rows[0][0]) if rows else None


def computed_json(store: Store, p: dict[str, Any], tracks: list[dict[str, Any]]) -> bytes:
    """The {"send", "receive"} document computed from the participant's samples now."""
    account, pid = p["account_sid"], p["participant_sid"]
    since = (p["join_ms"] or 0) - MARGIN_MS
    until = (p["leave_ms"] or p["last_activity_ms"] or 2**62 - MARGIN_MS) + MARGIN_MS
    names = {t["track_sid"]: t["name"] for t in tracks}
    _, rows = store.fetch(samples.intervals(account, pid, since, until))
    return orjson.dumps(documents(rows, names).get(pid, {"send": [], "receive": []}))


def metrics_json(room: RoomView, participant_sid: str) -> bytes:
    """The /Metrics response body, spliced from the stored document without re-encoding it."""
    p = room.participant(participant_sid)
    completed = not room.live and p["status"] == ParticipantStatus.COMPLETED
    body = (stored_document(room.store, p["account_sid"], participant_sid) if completed else None) \
        or computed_json(room.store, p, room.tracks(participant_sid))
    head = orjson.dumps({"interval_sec": INTERVAL_MS // 1000, "account_sid": p["account_sid"],
                         "room_sid": room.room_sid, "participant_sid": participant_sid})
    return head[:-1] + b"," + body[1:]


def participant_metrics(room: RoomView, participant_sid: str) -> dict[str, Any]:
    document: dict[str, Any] = orjson.loads(metrics_json(room, participant_sid))
    return document
