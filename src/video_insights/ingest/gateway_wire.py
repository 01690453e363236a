"""The insights gateway's wire format as msgspec types: decoding and validation in one C pass.

A `quality/stats-report` is decoded straight into these structs (the hot ingest path); a malformed
field fails with its path, which `field_error` words as "localAudioTrackStats[0].bytesSent: expected a
number". Unknown fields are ignored, as the protocol has grown over SDK versions.
"""

from __future__ import annotations

import re
from typing import Annotated, Any

import msgspec

from video_insights.model.records import Direction, MediaKind, StreamSample

# Counters and measurements: finite and within what a 64-bit column and a double hold exactly.
_LIMIT = 2**53
Num = Annotated[int, msgspec.Meta(ge=-_LIMIT, le=_LIMIT)] | Annotated[float, msgspec.Meta(ge=-_LIMIT, le=_LIMIT)]
ShortStr = Annotated[str, msgspec.Meta(max_length=256)]
MAX_SSRC = 2**32 - 1
# An entry's own timestamp is the browser's clock: accepted within this distance of the report's time.
MAX_ENTRY_SKEW_MS = 86_400_000


class Dimensions(msgspec.Struct):
    width: Num | None = None
    height: Num | None = None


class LimitationDurations(msgspec.Struct):
    cpu: Num | None = None
    bandwidth: Num | None = None
    other: Num | None = None
    none: Num | None = None


class TrackEntry(msgspec.Struct):
    """One SSRC's cumulative counters: twilio-video.js's fields plus our collector's extensions."""

    trackId: ShortStr | None = None
    trackSid: ShortStr | None = None
    timestamp: Num | None = None
    ssrc: Any = None  # checked by _ssrc: a number or a string of digits, whatever the SDK sent
    codec: ShortStr | None = None
    kind: ShortStr | None = None
    rid: ShortStr | None = None
    packetsLost: Num | None = None
    bytesSent: Num | None = None
    packetsSent: Num | None = None
    bytesReceived: Num | None = None
    packetsReceived: Num | None = None
    roundTripTime: Num | None = None  # ms
    totalRoundTripTime: Num | None = None  # s, cumulative
    roundTripTimeMeasurements: Num | None = None
    jitter: Num | None = None  # ms
    frameRate: Num | None = None
    dimensions: Dimensions | None = None
    qualityLimitationReason: ShortStr | None = None
    qualityLimitationDurations: LimitationDurations | None = None
    retransmittedPacketsSent: Num | None = None
    nackCount: Num | None = None
    pliCount: Num | None = None
    freezeCount: Num | None = None
    totalFreezesDuration: Num | None = None
    concealedSamples: Num | None = None
    totalSamplesReceived: Num | None = None


Entries = Annotated[list[TrackEntry], msgspec.Meta(max_length=200)]


class StatsReport(msgspec.Struct):
    peerConnectionId: ShortStr | None = None
    localAudioTrackStats: Entries = []
    localVideoTrackStats: Entries = []
    audioTrackStats: Entries = []
    videoTrackStats: Entries = []


class EventMessage(msgspec.Struct):
    type: ShortStr
    group: ShortStr | None = None
    name: ShortStr | None = None
    session: Annotated[str, msgspec.Meta(max_length=4096)] | None = None
    timestamp: Num | None = None
    version: Num | None = None
    payload: msgspec.Raw = msgspec.Raw(b"{}")


LISTS: dict[str, tuple[Direction, MediaKind]] = {
    "localAudioTrackStats": ("send", "audio"), "localVideoTrackStats": ("send", "video"),
    "audioTrackStats": ("recv", "audio"), "videoTrackStats": ("recv", "video"),
}
_EXPECTED = {"int | float": "a number", "str": "a string", "object": "an object", "array": "an array"}
_ERROR = re.compile(r"^(?P<what>.*?)(?: - at `\$(?P<where>[^`]*)`)?$", re.S)


def field_error(error: msgspec.ValidationError | msgspec.DecodeError, prefix: str) -> str:
    """msgspec's message, worded with the field's path under `prefix`."""
    m = _ERROR.match(str(error))
    what, where = (m.group("what"), m.group("where") or "") if m else (str(error), "")
    path = (prefix + where) if prefix else where.lstrip(".")
    expected = re.match(r"Expected `([^`]*)`, got `([^`]*)`", what)
    bound = re.match(r"Expected `(int|float)` (<=|>=) (\S+)", what)
    if bound:
        what = f"a number out of range (must be {bound.group(2)} {float(bound.group(3)):.0f})"
    elif expected:
        wanted = expected.group(1).replace(" | null", "")
        wanted = next((v for k, v in _EXPECTED.items() if wanted.startswith(k)), wanted)
        what = f"expected {wanted}"
    elif what.startswith("Expected `array` of length <= "):
        what = "too many entries (at most " + what.rsplit(" ", 1)[-1].rstrip("`") + ")"
    return f"{path or 'message'}: {what[:1].lower()}{what[1:]}"


def _int(v: Num | None) -> int | None:
    return None if v is None else int(v)


def _float(v: Num | None) -> float | None:
    return None if v is None else float(v)


def _ssrc(e: TrackEntry, path: str) -> int:
    value = e.ssrc
    if isinstance(value, str) and value.isascii() and value.isdigit() and int(value) <= MAX_SSRC:
        return int(value)
    if isinstance(value, (int, float)) and not isinstance(value, bool) and 0 <= value <= MAX_SSRC \
            and float(value).is_integer():
        return int(value)
    raise ValueError(f"{path}.ssrc: expected an SSRC (a non-negative integer or a string of digits)")


def entry_to_sample(e: TrackEntry, *, direction: Direction, kind: MediaKind, account_sid: str, room_sid: str,
                    participant_sid: str, pc_id: str, ts_ms: int | None, path: str) -> StreamSample:
    if e.kind not in (None, kind):
        raise ValueError(f"{path}.kind: {e.kind!r} does not match the {kind} list it is in")
    if e.timestamp is None and ts_ms is None:
        raise ValueError(f"{path}.timestamp: missing, and no report time to fall back on")
    if e.timestamp is not None and ts_ms is not None and abs(e.timestamp - ts_ms) > MAX_ENTRY_SKEW_MS:
        raise ValueError(f"{path}.timestamp: {e.timestamp:.0f} is more than a day from the report's time {ts_ms}")
    sending = direction == "send"
    dims, dur = e.dimensions, e.qualityLimitationDurations
    return StreamSample(
        account_sid=account_sid, room_sid=room_sid, participant_sid=participant_sid, pc_id=pc_id,
        direction=direction, kind=kind, ssrc=_ssrc(e, path),
        ts_ms=round(e.timestamp) if e.timestamp is not None else int(ts_ms or 0),
        track_sid=e.trackSid or None, track_id=e.trackId or None, codec=e.codec or None,
        bytes=_int(e.bytesSent if sending else e.bytesReceived),
        packets=_int(e.packetsSent if sending else e.packetsReceived),
        packets_lost=_int(e.packetsLost), rtt_ms=_float(e.roundTripTime),
        total_rtt_s=_float(e.totalRoundTripTime), rtt_measurements=_int(e.roundTripTimeMeasurements),
        jitter_ms=_float(e.jitter), frame_rate=_float(e.frameRate),
        frame_width=_int(dims.width) if dims else None, frame_height=_int(dims.height) if dims else None,
        quality_limitation_reason=e.qualityLimitationReason or None,
        ql_cpu_s=_float(dur.cpu) if dur else None, ql_bandwidth_s=_float(dur.bandwidth) if dur else None,
        retransmitted_packets=_int(e.retransmittedPacketsSent), nack_count=_int(e.nackCount),
        pli_count=_int(e.pliCount), freeze_count=_int(e.freezeCount),
        freezes_duration_s=_float(e.totalFreezesDuration), concealed_samples=_int(e.concealedSamples),
        total_samples_received=_int(e.totalSamplesReceived), rid=e.rid or None,
    )


def report_samples(report: StatsReport, *, account_sid: str, room_sid: str, participant_sid: str, ts_ms: int,
                   path: str) -> list[StreamSample]:
    pc_id = report.peerConnectionId or "pc"
    out = []
    for key, (direction, kind) in LISTS.items():
        for i, entry in enumerate(getattr(report, key)):
            out.append(entry_to_sample(entry, direction=direction, kind=kind, account_sid=account_sid,
                                       room_sid=room_sid, participant_sid=participant_sid, pc_id=pc_id,
                                       ts_ms=ts_ms, path=f"{path}.{key}[{i}]"))
    return out


def convert_entry(entry: Any, path: str) -> TrackEntry:
    try:
        return msgspec.convert(entry, TrackEntry)
    except msgspec.ValidationError as e:
        raise ValueError(field_error(e, path)) from None
