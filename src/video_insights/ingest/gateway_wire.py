"""The insights gateway's wire format as msgspec types: decoding and validation in one C pass.

A `quality/stats-report` is decoded straight into these structs (the hot ingest path); a malformed
field fails with its path, which `field_error` words as "localAudioTrackStats[0].bytesSent: expected a
number". Unknown fields are ignored, as the protocol has grown over SDK versions.
"""

from __future__ import annotations

import re
from typing import Annotated, Any

import msgspec

from video_insights.model.ids import sid_key
from video_insights.model.records import Direction, MediaKind, StreamSample, track_sid_of
from video_insights.processing.intervals import INTERVAL_MS
from video_insights.store.base import Row
from video_insights.store.schema import STREAM_SAMPLES

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


_MAX_ENTRIES = 200
Entries = Annotated[list[TrackEntry], msgspec.Meta(max_length=_MAX_ENTRIES)]


class StatsReport(msgspec.Struct):
    peerConnectionId: ShortStr | None = None
    localAudioTrackStats: Entries = []
    localVideoTrackStats: Entries = []
    audioTrackStats: Entries = []
    videoTrackStats: Entries = []


# Our collector's message number (docs/collector.md, "Acknowledgements"): an integer a JavaScript
# number holds exactly.
Seq = Annotated[int, msgspec.Meta(ge=0, le=_LIMIT - 1)]


class EventMessage(msgspec.Struct):
    type: ShortStr
    group: ShortStr | None = None
    name: ShortStr | None = None
    session: Annotated[str, msgspec.Meta(max_length=4096)] | None = None
    timestamp: Num | None = None
    version: Num | None = None
    payload: msgspec.Raw = msgspec.Raw(b"{}")
    seq: Seq | None = None  # twilio-video.js sends none, and gets no acknowledgements


class _SeqOnly(msgspec.Struct):
    seq: Seq | None = None


_SEQ_DECODER = msgspec.json.Decoder(_SeqOnly)


def message_seq(raw: bytes | str) -> int | None:
    """The `seq` of a message that could not be read as a whole, if it has a valid one: a message the
    gateway refuses is acknowledged all the same (sending it again would be refused again)."""
    try:
        return _SEQ_DECODER.decode(raw).seq
    except (msgspec.ValidationError, msgspec.DecodeError):
        return None


LISTS: dict[str, tuple[Direction, MediaKind]] = {
    "localAudioTrackStats": ("send", "audio"), "localVideoTrackStats": ("send", "video"),
    "audioTrackStats": ("recv", "audio"), "videoTrackStats": ("recv", "video"),
}
_EXPECTED = {"int | float": "a number", "int": "an integer", "str": "a string", "object": "an object",
             "array": "an array"}
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


def _float(v: Num | None) -> float | None:
    return None if v is None else float(v)


class _Invalid(ValueError):
    """A field of one entry is wrong; its message starts with the field's name, and the caller, which
    knows where the entry is, puts the path in front (building paths for valid entries cost more than
    checking them)."""


def _ssrc(value: Any) -> int:
    if isinstance(value, str) and value.isascii() and value.isdigit() and int(value) <= MAX_SSRC:
        return int(value)
    if isinstance(value, (int, float)) and not isinstance(value, bool) and 0 <= value <= MAX_SSRC \
            and float(value).is_integer():
        return int(value)
    raise _Invalid("ssrc: expected an SSRC (a non-negative integer or a string of digits)")


# A stream_samples row, in the table's column order: the gateway's hot path builds these tuples straight
# from the decoded structs (no StreamSample in between), and the writer stores them as they are.
ROW_COLUMNS = STREAM_SAMPLES.column_names
_SAMPLE_FIELDS = tuple(f for f in StreamSample.__dataclass_fields__ if f != "track_sid")
_FROM_ROW = tuple(ROW_COLUMNS.index(f) for f in _SAMPLE_FIELDS)
assert ROW_COLUMNS == (
    "account_sid", "room_sid", "participant_sid", "pc_id", "direction", "kind", "ssrc", "ts_ms", "bucket_ms",
    "period_ms", "track_sid", "participant_key", "track_id", "codec", "rid", "rtt_ms", "jitter_ms", "frame_rate",
    "frame_width", "frame_height", "quality_limitation_reason", "bytes", "packets", "packets_lost", "total_rtt_s",
    "rtt_measurements", "ql_cpu_s", "ql_bandwidth_s", "retransmitted_packets", "nack_count", "pli_count",
    "freeze_count", "freezes_duration_s", "concealed_samples", "total_samples_received"), \
    "stream_samples columns changed: update _row"


def _int(v: Num | None) -> int | None:
    return v if v is None or type(v) is int else int(v)


def _row(e: TrackEntry, direction: Direction, kind: MediaKind, account_sid: str, room_sid: str,
         participant_sid: str, participant_key: int, pc_id: str, ts_ms: int | None, period_ms: int,
         offset_ms: int = 0) -> Row:
    """One wire entry as a stream_samples row (checked: kind, timestamp, SSRC). This runs for every SSRC
    of every report, so it takes positional arguments and converts a number only when the JSON held a
    float where a count belongs (msgspec gives ints for JSON integers). `offset_ms` puts the entry's
    client-clock timestamp on the server's clock, as the report's `ts_ms` already is."""
    if e.kind is not None and e.kind != kind:
        raise _Invalid(f"kind: {e.kind!r} does not match the {kind} list it is in")
    stamp = e.timestamp
    if stamp is None:
        if ts_ms is None:
            raise _Invalid("timestamp: missing, and no report time to fall back on")
        at = int(ts_ms)
    else:
        at = (stamp if type(stamp) is int else round(stamp)) + offset_ms
        if ts_ms is not None and abs(at - ts_ms) > MAX_ENTRY_SKEW_MS:
            raise _Invalid(f"timestamp: {stamp:.0f} is more than a day from the report's time {ts_ms - offset_ms}")
    ssrc = e.ssrc
    if type(ssrc) is not int or not 0 <= ssrc <= MAX_SSRC:
        ssrc = _ssrc(ssrc)
    track_id = e.trackId or None
    track_sid = e.trackSid or track_sid_of(account_sid, participant_sid, track_id, pc_id, direction, kind, ssrc)
    dims, dur = e.dimensions, e.qualityLimitationDurations
    if direction == "send":
        count, packets = e.bytesSent, e.packetsSent
    else:
        count, packets = e.bytesReceived, e.packetsReceived
    rtt, jitter, fps, lost = e.roundTripTime, e.jitter, e.frameRate, e.packetsLost
    total_rtt, measured = e.totalRoundTripTime, e.roundTripTimeMeasurements
    return (
        account_sid, room_sid, participant_sid, pc_id, direction, kind, ssrc, at, at - at % INTERVAL_MS,
        period_ms, track_sid, participant_key, track_id, e.codec or None, e.rid or None,
        None if rtt is None else float(rtt), None if jitter is None else float(jitter),
        None if fps is None else float(fps),
        _int(dims.width) if dims else None, _int(dims.height) if dims else None,
        e.qualityLimitationReason or None,
        count if count is None or type(count) is int else int(count),
        packets if packets is None or type(packets) is int else int(packets),
        lost if lost is None or type(lost) is int else int(lost),
        None if total_rtt is None else float(total_rtt),
        measured if measured is None or type(measured) is int else int(measured),
        _float(dur.cpu) if dur else None, _float(dur.bandwidth) if dur else None,
        _int(e.retransmittedPacketsSent), _int(e.nackCount), _int(e.pliCount), _int(e.freezeCount),
        _float(e.totalFreezesDuration), _int(e.concealedSamples), _int(e.totalSamplesReceived),
    )


def entry_row(e: TrackEntry, *, direction: Direction, kind: MediaKind, account_sid: str, room_sid: str,
              participant_sid: str, participant_key: int, pc_id: str, ts_ms: int | None, period_ms: int,
              path: str) -> Row:
    """One wire entry as a stream_samples row, its errors worded with the entry's path."""
    try:
        return _row(e, direction, kind, account_sid, room_sid, participant_sid, participant_key, pc_id, ts_ms,
                    period_ms)
    except _Invalid as error:
        raise ValueError(f"{path}.{error}") from None


def entry_to_sample(e: TrackEntry, *, direction: Direction, kind: MediaKind, account_sid: str, room_sid: str,
                    participant_sid: str, pc_id: str, ts_ms: int | None, path: str) -> StreamSample:
    """The same entry as a StreamSample (imports and the getStats helper), keeping the source's trackSid."""
    row = entry_row(e, direction=direction, kind=kind, account_sid=account_sid, room_sid=room_sid,
                    participant_sid=participant_sid, participant_key=0, pc_id=pc_id, ts_ms=ts_ms, period_ms=0,
                    path=path)
    fields: dict[str, Any] = {f: row[i] for f, i in zip(_SAMPLE_FIELDS, _FROM_ROW, strict=True)}
    return StreamSample(**fields, track_sid=e.trackSid or None)


def is_placeholder(e: TrackEntry) -> bool:
    """twilio-video.js lists a track for every transceiver, media or not: a receiver that never got a
    packet shows as an entry with no SSRC and every counter null (its timestamp 0). Such an entry says
    nothing and is skipped; an entry without an SSRC that does count something is malformed."""
    return e.ssrc is None and not (e.bytesSent or e.packetsSent or e.bytesReceived or e.packetsReceived
                                   or e.packetsLost)


def report_rows(report: StatsReport, *, account_sid: str, room_sid: str, participant_sid: str, ts_ms: int,
                period_ms: int, path: str, dropped: list[str] | None = None, offset_ms: int = 0) -> list[Row]:
    """The report's rows. A malformed entry raises ValueError naming it, unless `dropped` is given:
    then its message goes there and the report's other entries are kept. `ts_ms` is the report's time
    on the server's clock, `offset_ms` what to add to the entries' client-clock timestamps for that."""
    pc_id = report.peerConnectionId or "pc"
    key = sid_key(participant_sid)
    out: list[Row] = []
    for name, (direction, kind) in LISTS.items():
        for i, entry in enumerate(getattr(report, name)):
            if entry.ssrc is None and is_placeholder(entry):
                continue
            try:
                out.append(_row(entry, direction, kind, account_sid, room_sid, participant_sid, key, pc_id, ts_ms,
                                period_ms, offset_ms))
            except _Invalid as error:
                message = f"{path}.{name}[{i}].{error}"
                if dropped is None:
                    raise ValueError(message) from None
                dropped.append(message)
    return out


_REPORT_HEAD = msgspec.json.Decoder(dict[str, msgspec.Raw])


class _ReportHead(msgspec.Struct):
    peerConnectionId: ShortStr | None = None


def salvage_report(payload: bytes, path: str, dropped: list[str]) -> StatsReport:
    """A report that failed to decode as a whole, entry by entry: what is malformed (an entry, or a
    list that is not one) goes to `dropped`, the rest is kept. Raises ValueError when the payload
    itself is unusable (not an object, or a peerConnectionId that is not a short string). Only runs
    for reports with something wrong, so the common path keeps its single decode."""
    try:
        head = _REPORT_HEAD.decode(payload)
        pc = msgspec.convert({"peerConnectionId": msgspec.json.decode(head["peerConnectionId"])}
                             if "peerConnectionId" in head else {}, _ReportHead)
    except (msgspec.ValidationError, msgspec.DecodeError) as e:
        raise ValueError(field_error(e, path) if isinstance(e, msgspec.ValidationError)
                         else f"{path}: expected a JSON object") from None
    lists: dict[str, list[TrackEntry]] = {}
    for name in LISTS:
        if name not in head:
            continue
        items = msgspec.json.decode(head[name])
        if not isinstance(items, list):
            dropped.append(f"{path}.{name}: expected an array")
            continue
        if len(items) > _MAX_ENTRIES:
            dropped.append(f"{path}.{name}: too many entries (at most {_MAX_ENTRIES})")
            continue
        kept = []
        for i, item in enumerate(items):
            try:
                kept.append(convert_entry(item, f"{path}.{name}[{i}]"))
            except ValueError as e:
                dropped.append(str(e))
        lists[name] = kept
    return StatsReport(peerConnectionId=pc.peerConnectionId, **lists)


_STATS_DECODER = msgspec.json.Decoder(StatsReport)


def stats_payload_rows(payload: bytes | msgspec.Raw, *, account_sid: str, room_sid: str, participant_sid: str,
                       ts_ms: int, period_ms: int, path: str, dropped: list[str] | None = None,
                       offset_ms: int = 0) -> list[Row]:
    """A `quality/stats-report` payload as stream_samples rows (report_rows, after decoding it). With
    `dropped`, a report that fails to decode as a whole is salvaged entry by entry; without it, or
    when nothing is usable, ValueError names what is wrong. The gateway's own path, and its report
    workers' (ingest/report_workers.py): the same function, so both store the same rows."""
    try:
        report = _STATS_DECODER.decode(payload)
    except msgspec.ValidationError as e:
        if dropped is None:
            raise ValueError(field_error(e, path)) from None
        report = salvage_report(payload, path, dropped)
    return report_rows(report, account_sid=account_sid, room_sid=room_sid, participant_sid=participant_sid,
                       ts_ms=ts_ms, period_ms=period_ms, path=path, dropped=dropped, offset_ms=offset_ms)


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
    if not isinstance(entry, dict):
        raise ValueError(f"{path}: expected an object")
    try:
        return msgspec.convert(entry, TrackEntry)
    except msgspec.ValidationError as e:
        raise ValueError(field_error(e, path)) from None
