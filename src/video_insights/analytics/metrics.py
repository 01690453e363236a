"""One participant's 10-second quality metrics: send (per published track) and receive (per peer
connection). A value the source did not measure is null, never 0."""

from __future__ import annotations

from typing import Any

from video_insights.analytics.rooms import Scope, get_participant, participant_tracks, ts
from video_insights.processing.intervals import INTERVAL_MS
from video_insights.processing.lifecycle import normalise_codec
from video_insights.query import samples
from video_insights.store.base import Store

# Samples can precede the recorded join (clock skew between sources) or follow the leave by a report.
_MARGIN_MS = 60_000


def _num(v: Any, digits: int = 2) -> float | None:
    return None if v is None else round(float(v), digits)


def _int(v: Any) -> int | None:
    return None if v is None else round(float(v))


def participant_metrics(store: Store, scope: Scope, room_sid: str, participant_sid: str) -> dict[str, Any]:
    p = get_participant(store, scope, room_sid, participant_sid)
    account = p["account_sid"]
    since = (p["join_ms"] or 0) - _MARGIN_MS
    until = (p["leave_ms"] or p["last_activity_ms"] or 2**62 - _MARGIN_MS) + _MARGIN_MS
    tracks = {t["track_sid"]: t for t in participant_tracks(store, account, participant_sid)}
    _, rows = store.fetch(samples.intervals(account, participant_sid, since, until))
    send: dict[str, dict[str, Any]] = {}
    receive: dict[str, dict[str, Any]] = {}
    for (side, sid, kind, codec, bucket, bitrate, loss, rtt, jitter, fr, fw, fh, qlr, cpu, bw, rtx, nack, pli,
         freezes, frozen, concealment) in rows:
        if side == "recv":
            entry = receive.setdefault(sid, {"peer_connection_id": sid, "points": []})
            entry["points"].append({
                "time": ts(bucket), "bitrate_bps": _int(bitrate), "packet_loss_pct": _num(loss, 3),
                "jitter_ms": _num(jitter, 1), "freeze_count": _int(freezes), "freezes_duration_s": _num(frozen),
                "concealment_pct": None if concealment is None else _num(100 * concealment, 2)})
            continue
        info = tracks.get(sid, {})
        entry = send.setdefault(sid, {"track_sid": sid, "kind": kind, "name": info.get("name"),
                                      "codec": normalise_codec(codec), "points": []})
        entry["points"].append({
            "time": ts(bucket), "bitrate_bps": _int(bitrate), "packet_loss_pct": _num(loss, 3),
            "rtt_ms": _num(rtt, 1), "jitter_ms": _num(jitter, 1), "frame_rate": _num(fr, 1),
            "frame_width": _int(fw), "frame_height": _int(fh), "quality_limitation_reason": qlr,
            "cpu_limited_s": _num(cpu), "bandwidth_limited_s": _num(bw), "retransmitted_packets": _int(rtx),
            "nack_count": _int(nack), "pli_count": _int(pli)})
    return {"interval_sec": INTERVAL_MS // 1000, "account_sid": account, "room_sid": room_sid,
            "participant_sid": participant_sid, "send": list(send.values()), "receive": list(receive.values())}
