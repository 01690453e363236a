"""Turn one getStats() report into per-SSRC StreamSamples and twilio-video.js stats-report payloads.

Both outputs come from one extraction: every outbound-rtp / inbound-rtp stat becomes a gateway entry
(twilio-video.js `quality/stats-report` shape, roundTripTime and jitter in ms), and a StreamSample is
that entry read back by `gateway_entry_to_sample`, the same function the telemetry gateway uses. So a
report replayed over the gateway yields exactly the samples an imported dump yields.

Input is a standard (W3C) report keyed by stat id, as `ingest.dumps` produces (legacy goog stats are
rewritten there). Browser differences handled here: Firefox's old `isRemote` stats, the legacy
`trackId` -> `track` stat link (Chrome < 110), `mediaType` for `kind`, remote stats linked by
`localId`, by the local stat's `remoteId`, or else by SSRC and kind.
"""

from __future__ import annotations

import math
from typing import Any

from video_insights.ingest.gateway_wire import convert_entry, entry_to_sample
from video_insights.model.records import Direction, MediaKind, StreamSample

Stats = dict[str, dict[str, Any]]

_LISTS: dict[tuple[str, str], str] = {
    ("send", "audio"): "localAudioTrackStats",
    ("send", "video"): "localVideoTrackStats",
    ("recv", "audio"): "audioTrackStats",
    ("recv", "video"): "videoTrackStats",
}
_AUDIO_LEVEL_SCALE = 32767  # twilio-video.js reports audio levels as 0..32767


def snapshot_to_samples(
    stats: Stats, *, account_sid: str, room_sid: str, participant_sid: str, pc_id: str,
    ts_ms: int | None = None,
) -> list[StreamSample]:
    samples = []
    for direction, kind, entry in _Report(stats).entries():
        samples.append(_entry_to_sample(
            entry, direction=direction, kind=kind, account_sid=account_sid, room_sid=room_sid,
            participant_sid=participant_sid, pc_id=pc_id, ts_ms=ts_ms, path=_LISTS[direction, kind]))
    return samples


def snapshot_to_gateway_payload(stats: Stats, pc_id: str) -> dict[str, Any]:
    """The `quality/stats-report` payload; candidatePair.currentRoundTripTime stays in seconds (W3C)."""
    report = _Report(stats)
    payload: dict[str, Any] = {"peerConnectionId": pc_id, **{name: [] for name in _LISTS.values()}}
    for direction, kind, entry in report.entries():
        payload[_LISTS[direction, kind]].append(entry)
    payload["candidatePair"] = report.candidate_pair()
    return payload


def gateway_entry_to_sample(
    entry: dict[str, Any], *, direction: Direction, kind: MediaKind, account_sid: str, room_sid: str,
    participant_sid: str, pc_id: str, ts_ms: int, path: str | None = None,
) -> StreamSample:
    """Validate one stats-report entry; errors name the field ("localAudioTrackStats[0].bytesSent: ...").

    `path` is where the entry sits in the message (e.g. "videoTrackStats[2]"); `ts_ms` is used when the
    entry has no timestamp of its own.
    """
    if (direction, kind) not in _LISTS:
        raise ValueError(f"direction/kind: unsupported combination {direction!r}/{kind!r}")
    return _entry_to_sample(entry, direction=direction, kind=kind, account_sid=account_sid,
                            room_sid=room_sid, participant_sid=participant_sid, pc_id=pc_id,
                            ts_ms=ts_ms, path=path or _LISTS[direction, kind])


# --- reading a getStats report ---------------------------------------------------------------------

class _Report:
    def __init__(self, stats: Stats) -> None:
        self.stats = stats
        self.types = {sid: _effective_type(obj) for sid, obj in stats.items() if isinstance(obj, dict)}
        self.remote_by_local: dict[str, dict[str, Any]] = {}
        self.remote_by_ssrc: dict[tuple[int, str], dict[str, Any]] = {}
        for sid, stat_type in self.types.items():
            if stat_type == "remote-inbound-rtp":
                remote = stats[sid]
                if isinstance(remote.get("localId"), str):
                    self.remote_by_local[remote["localId"]] = remote
                ssrc, kind = _ssrc(remote.get("ssrc")), _kind_of(remote)
                if ssrc is not None and kind:
                    self.remote_by_ssrc[ssrc, kind] = remote

    def get(self, sid: Any) -> dict[str, Any] | None:
        obj = self.stats.get(sid) if isinstance(sid, str) else None
        return obj if isinstance(obj, dict) else None

    def entries(self) -> list[tuple[Direction, MediaKind, dict[str, Any]]]:
        found: list[tuple[Direction, MediaKind, dict[str, Any]]] = []
        for sid, stat_type in self.types.items():
            stat = self.stats[sid]
            if stat_type not in ("outbound-rtp", "inbound-rtp") or _ssrc(stat.get("ssrc")) is None:
                continue
            kind = _kind_of(stat) or self._codec_kind(stat)
            if kind is None:
                continue  # neither kind nor codec: cannot tell audio from video
            if stat_type == "outbound-rtp":
                found.append(("send", kind, self._send_entry(sid, stat, kind)))
            else:
                found.append(("recv", kind, self._recv_entry(stat, kind)))
        return found

    def _common(self, stat: dict[str, Any], kind: MediaKind, track_id: str | None) -> dict[str, Any]:
        return {"trackId": track_id, "trackSid": None, "timestamp": _number(stat.get("timestamp")),
                "ssrc": str(_ssrc(stat.get("ssrc"))), "codec": self._codec(stat), "kind": kind}

    def _send_entry(self, sid: str, stat: dict[str, Any], kind: MediaKind) -> dict[str, Any]:
        source = self.get(stat.get("mediaSourceId")) or {}
        remote = self._remote_for(sid, stat, kind) or {}
        entry = self._common(stat, kind, _string(source.get("trackIdentifier")) or self._legacy_track(stat))
        entry |= {"packetsLost": _count(remote.get("packetsLost")),
                  "bytesSent": _count(stat.get("bytesSent")), "packetsSent": _count(stat.get("packetsSent")),
                  "roundTripTime": _scaled(_remote_rtt(remote), 1000.0),
                  "jitter": _scaled(remote.get("jitter"), 1000.0)}
        if kind == "audio":
            entry["audioLevel"] = _audio_level(source.get("audioLevel"))
        else:
            entry |= {"captureDimensions": _dimensions(source.get("width"), source.get("height")),
                      "dimensions": _dimensions(stat.get("frameWidth"), stat.get("frameHeight")),
                      "captureFrameRate": _number(source.get("framesPerSecond")),
                      "frameRate": _number(stat.get("framesPerSecond")),
                      "qualityLimitationReason": _string(stat.get("qualityLimitationReason"))}
        _extend(entry, {"totalRoundTripTime": _number(remote.get("totalRoundTripTime")),
                        "roundTripTimeMeasurements": _count(remote.get("roundTripTimeMeasurements")),
                        "retransmittedPacketsSent": _count(stat.get("retransmittedPacketsSent")),
                        "nackCount": _count(stat.get("nackCount")), "pliCount": _count(stat.get("pliCount")),
                        "qualityLimitationDurations": _durations(stat.get("qualityLimitationDurations")),
                        "rid": _string(stat.get("rid"))})
        return entry

    def _recv_entry(self, stat: dict[str, Any], kind: MediaKind) -> dict[str, Any]:
        entry = self._common(stat, kind, _string(stat.get("trackIdentifier")) or self._legacy_track(stat))
        entry |= {"packetsLost": _count(stat.get("packetsLost")),
                  "bytesReceived": _count(stat.get("bytesReceived")),
                  "packetsReceived": _count(stat.get("packetsReceived")),
                  "jitter": _scaled(stat.get("jitter"), 1000.0)}
        if kind == "audio":
            entry["audioLevel"] = _audio_level(stat.get("audioLevel"))
        else:
            entry |= {"dimensions": _dimensions(stat.get("frameWidth"), stat.get("frameHeight")),
                      "frameRate": _number(stat.get("framesPerSecond")),
                      "freezeCount": _count(stat.get("freezeCount"))}
        _extend(entry, {"nackCount": _count(stat.get("nackCount")), "pliCount": _count(stat.get("pliCount")),
                        "totalFreezesDuration": _number(stat.get("totalFreezesDuration")),
                        "concealedSamples": _count(stat.get("concealedSamples")),
                        "totalSamplesReceived": _count(stat.get("totalSamplesReceived"))})
        return entry

    def _remote_for(self, sid: str, stat: dict[str, Any], kind: str) -> dict[str, Any] | None:
        if sid in self.remote_by_local:
            return self.remote_by_local[sid]
        remote = self.get(stat.get("remoteId"))
        if remote is not None and _effective_type(remote) == "remote-inbound-rtp":
            return remote
        ssrc = _ssrc(stat.get("ssrc"))
        return self.remote_by_ssrc.get((ssrc, kind)) if ssrc is not None else None

    def _legacy_track(self, stat: dict[str, Any]) -> str | None:
        track = self.get(stat.get("trackId"))
        return _string(track.get("trackIdentifier")) if track else None

    def _codec(self, stat: dict[str, Any]) -> str | None:
        codec = self.get(stat.get("codecId"))
        mime = _string(codec.get("mimeType")) if codec else None
        return mime.split("/", 1)[-1] if mime else None

    def _codec_kind(self, stat: dict[str, Any]) -> MediaKind | None:
        codec = self.get(stat.get("codecId"))
        mime = _string(codec.get("mimeType")) if codec else None
        prefix = mime.split("/", 1)[0].lower() if mime else None
        return "audio" if prefix == "audio" else "video" if prefix == "video" else None

    def candidate_pair(self) -> dict[str, Any] | None:
        pair = self._selected_pair()
        if pair is None:
            return None
        local = self.get(pair.get("localCandidateId")) or {}
        remote = self.get(pair.get("remoteCandidateId")) or {}
        local_type, remote_type = _string(local.get("candidateType")), _string(remote.get("candidateType"))
        return {"availableOutgoingBitrate": _number(pair.get("availableOutgoingBitrate")),
                "currentRoundTripTime": _number(pair.get("currentRoundTripTime")),
                "relayed": "relay" in (local_type, remote_type),
                "localCandidateType": local_type, "remoteCandidateType": remote_type,
                "protocol": _string(local.get("protocol"))}

    def _selected_pair(self) -> dict[str, Any] | None:
        pairs = [self.stats[sid] for sid, t in self.types.items() if t == "candidate-pair"]
        for sid, stat_type in self.types.items():
            if stat_type == "transport":
                pair = self.get(self.stats[sid].get("selectedCandidatePairId"))
                if pair is not None:
                    return pair
        selected = [p for p in pairs if p.get("selected") is True]  # Firefox: no transport stat
        candidates = selected or [
            p for p in pairs if p.get("nominated") is True and p.get("state") == "succeeded"]
        return max(candidates, key=_pair_bytes, default=None)


def _pair_bytes(pair: dict[str, Any]) -> int:
    return (_count(pair.get("bytesSent")) or 0) + (_count(pair.get("bytesReceived")) or 0)


def _effective_type(stat: dict[str, Any]) -> str | None:
    stat_type = stat.get("type")
    # Firefox before 66 reported the peer's RTCP view as inbound-rtp/outbound-rtp with isRemote: true.
    if stat.get("isRemote") is True and stat_type in ("inbound-rtp", "outbound-rtp"):
        return f"remote-{stat_type}"
    return stat_type if isinstance(stat_type, str) else None


def _kind_of(stat: dict[str, Any]) -> MediaKind | None:
    kind = stat.get("kind", stat.get("mediaType"))
    return "audio" if kind == "audio" else "video" if kind == "video" else None


def _remote_rtt(remote: dict[str, Any]) -> float | None:
    rtt = _number(remote.get("roundTripTime"))
    if rtt is None and _number(remote.get("mozRtt")) is not None:
        return float(remote["mozRtt"]) / 1000.0  # Firefox < 60 reported milliseconds as mozRtt
    return rtt


def _extend(entry: dict[str, Any], extensions: dict[str, Any]) -> None:
    """Extension keys go in only where getStats has them; twilio-video.js keys are always present."""
    entry.update({key: value for key, value in extensions.items() if value is not None})


def _number(value: Any) -> float | int | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return value if math.isfinite(value) else None


def _count(value: Any) -> int | None:
    number = _number(value)
    return int(number) if number is not None else None


def _scaled(value: Any, factor: float) -> float | None:
    number = _number(value)
    # Rounded to drop binary noise (0.19487 s -> 194.86999999999998 ms); 1e-6 is far below what is measured.
    return round(number * factor, 6) if number is not None else None


def _string(value: Any) -> str | None:
    return value if isinstance(value, str) and value else None


def _ssrc(value: Any) -> int | None:
    if isinstance(value, str) and value.isascii() and value.isdigit():
        return int(value)
    number = _number(value)
    return int(number) if number is not None and number >= 0 else None


def _audio_level(value: Any) -> int | None:
    level = _number(value)
    return round(level * _AUDIO_LEVEL_SCALE) if level is not None else None


def _dimensions(width: Any, height: Any) -> dict[str, int] | None:
    w, h = _count(width), _count(height)
    return {"width": w, "height": h} if w is not None and h is not None else None


def _durations(value: Any) -> dict[str, float] | None:
    if not isinstance(value, dict):
        return None
    return {k: float(v) for k, v in value.items() if _number(v) is not None} or None


def _entry_to_sample(
    entry: Any, *, direction: Direction, kind: MediaKind, account_sid: str, room_sid: str,
    participant_sid: str, pc_id: str, ts_ms: int | None, path: str,
) -> StreamSample:
    """Read an entry back exactly as the gateway does (one validator for both paths)."""
    return entry_to_sample(convert_entry(entry, path), direction=direction, kind=kind, account_sid=account_sid,
                           room_sid=room_sid, participant_sid=participant_sid, pc_id=pc_id, ts_ms=ts_ms,
                           path=path)
