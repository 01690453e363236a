"""A participant's /Metrics document built from its interval rows: send (per published track),
receive (per peer connection) and receive_tracks (per incoming track). A value the source did not
measure is null, never 0. Pure, so that the summariser (which stores completed participants'
documents) and the read path build the same thing. Who sent an incoming track is not stored here: it
depends on the other participants, so it is resolved when read (analytics/senders.py)."""

from __future__ import annotations

import zlib
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import orjson

from video_insights.processing.lifecycle import normalise_codec
from video_insights.query.filters import iso
from video_insights.query.samples import IntervalRow, ReceiveTrackRow

Document = dict[str, list[dict[str, Any]]]


def ts(ms: Any) -> str | None:
    return None if ms is None else iso(int(ms))


def _num(v: Any, digits: int = 2) -> float | None:
    return None if v is None else round(float(v), digits)


def _int(v: Any) -> int | None:
    return None if v is None else round(float(v))


def _receive_point(bucket: Any, bitrate: Any, loss: Any, jitter: Any, freezes: Any, frozen: Any,
                   concealment: Any) -> dict[str, Any]:
    return {"time": ts(bucket), "bitrate_bps": _int(bitrate), "packet_loss_pct": _num(loss, 3),
            "jitter_ms": _num(jitter, 1), "freeze_count": _int(freezes), "freezes_duration_s": _num(frozen),
            "concealment_pct": None if concealment is None else _num(100 * concealment, 2)}


def documents(rows: Iterable[Sequence[Any]], track_names: Mapping[str, str | None],
              receive_track_rows: Iterable[Sequence[Any]] = ()) -> dict[str, Document]:
    """Rows of `samples.intervals`/`intervals_of` (and `receive_tracks`/`receive_tracks_of`) →
    {participant: {"send": [...], "receive": [...], "receive_tracks": [...]}}."""
    out: dict[str, tuple[dict[str, dict[str, Any]], dict[str, dict[str, Any]]]] = {}
    for r in map(IntervalRow._make, rows):
        send, receive = out.setdefault(r.participant_sid, ({}, {}))
        if r.side == "recv":
            entry = receive.setdefault(r.sid, {"peer_connection_id": r.sid, "points": []})
            entry["points"].append(_receive_point(r.bucket_ms, r.bitrate, r.loss, r.jitter, r.freezes, r.frozen_s,
                                                  r.concealment))
            continue
        entry = send.setdefault(r.sid, {"track_sid": r.sid, "kind": r.kind, "name": track_names.get(r.sid),
                                        "codec": normalise_codec(r.codec), "points": []})
        entry["points"].append({
            "time": ts(r.bucket_ms), "bitrate_bps": _int(r.bitrate), "packet_loss_pct": _num(r.loss, 3),
            "rtt_ms": _num(r.rtt, 1), "jitter_ms": _num(r.jitter, 1), "frame_rate": _num(r.frame_rate, 1),
            "frame_width": _int(r.frame_width), "frame_height": _int(r.frame_height),
            "quality_limitation_reason": r.quality_limitation_reason, "cpu_limited_s": _num(r.cpu_s),
            "bandwidth_limited_s": _num(r.bandwidth_s), "retransmitted_packets": _int(r.retransmitted),
            "nack_count": _int(r.nack), "pli_count": _int(r.pli)})
    incoming: dict[str, dict[str, dict[str, Any]]] = {}
    for t in map(ReceiveTrackRow._make, receive_track_rows):
        entry = incoming.setdefault(t.participant_sid, {}).setdefault(t.track_sid, {
            "track_sid": t.track_sid, "kind": t.kind, "codec": normalise_codec(t.codec), "track_id": t.track_id,
            "peer_connection_ids": [], "points": []})
        entry["kind"] = entry["kind"] or t.kind
        entry["codec"] = entry["codec"] or normalise_codec(t.codec)
        entry["track_id"] = entry["track_id"] or t.track_id
        if t.pc_id is not None and t.pc_id not in entry["peer_connection_ids"]:
            entry["peer_connection_ids"].append(t.pc_id)
        entry["points"].append(_receive_point(t.bucket_ms, t.bitrate, t.loss, t.jitter, t.freezes, t.frozen_s,
                                              t.concealment))
    return {pid: {"send": list(send.values()), "receive": list(receive.values()),
                  "receive_tracks": list(incoming.get(pid, {}).values())}
            for pid, (send, receive) in out.items()}


def empty() -> Document:
    return {"send": [], "receive": [], "receive_tracks": []}


def encode(document: Document) -> bytes:
    # Level 1: the documents are repetitive JSON (≈10× smaller already); higher levels cost the writer.
    return zlib.compress(orjson.dumps(document), 1)
