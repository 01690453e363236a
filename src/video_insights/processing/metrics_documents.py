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
    for (pid, side, sid, kind, codec, bucket, bitrate, loss, rtt, jitter, fr, fw, fh, qlr, cpu, bw, rtx, nack,
         pli, freezes, frozen, concealment) in rows:
        send, receive = out.setdefault(pid, ({}, {}))
        if side == "recv":
            entry = receive.setdefault(sid, {"peer_connection_id": sid, "points": []})
            entry["points"].append(_receive_point(bucket, bitrate, loss, jitter, freezes, frozen, concealment))
            continue
        entry = send.setdefault(sid, {"track_sid": sid, "kind": kind, "name": track_names.get(sid),
                                      "codec": normalise_codec(codec), "points": []})
        entry["points"].append({
            "time": ts(bucket), "bitrate_bps": _int(bitrate), "packet_loss_pct": _num(loss, 3),
            "rtt_ms": _num(rtt, 1), "jitter_ms": _num(jitter, 1), "frame_rate": _num(fr, 1),
            "frame_width": _int(fw), "frame_height": _int(fh), "quality_limitation_reason": qlr,
            "cpu_limited_s": _num(cpu), "bandwidth_limited_s": _num(bw), "retransmitted_packets": _int(rtx),
            "nack_count": _int(nack), "pli_count": _int(pli)})
    incoming: dict[str, dict[str, dict[str, Any]]] = {}
    for (pid, sid, kind, codec, bucket, bitrate, loss, jitter, freezes, frozen, concealment, pc,
         track_id) in receive_track_rows:
        entry = incoming.setdefault(pid, {}).setdefault(sid, {
            "track_sid": sid, "kind": kind, "codec": normalise_codec(codec), "track_id": track_id,
            "peer_connection_ids": [], "points": []})
        entry["kind"] = entry["kind"] or kind
        entry["codec"] = entry["codec"] or normalise_codec(codec)
        entry["track_id"] = entry["track_id"] or track_id
        if pc is not None and pc not in entry["peer_connection_ids"]:
            entry["peer_connection_ids"].append(pc)
        entry["points"].append(_receive_point(bucket, bitrate, loss, jitter, freezes, frozen, concealment))
    return {pid: {"send": list(send.values()), "receive": list(receive.values()),
                  "receive_tracks": list(incoming.get(pid, {}).values())}
            for pid, (send, receive) in out.items()}


def empty() -> Document:
    return {"send": [], "receive": [], "receive_tracks": []}


def encode(document: Document) -> bytes:
    # Level 1: the documents are repetitive JSON (≈10× smaller already); higher levels cost the writer.
    return zlib.compress(orjson.dumps(document), 1)
