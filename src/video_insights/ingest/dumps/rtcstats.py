"""Line-based rtcstats dumps: Jitsi's rtcstats JSON lines and the RTCStatsDump file format 3.

Each record is `[method, pcId, value, ..., timestamp]`. Jitsi writes absolute epoch milliseconds;
RTCStatsDump writes an absolute time on the first record and the delta to the previous record on every
later one (checked on Chrome 156's download: the running sum lands on the stats' own timestamps).
A record without a timestamp (Jitsi's 3-element `e2eRtt`) takes its neighbour's time.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from video_insights.ingest.dumps._common import check_stat, decode_payload, is_number, line_error, loads
from video_insights.ingest.dumps.compression import decompress_v3, is_full_report, merge_jitsi, method_name
from video_insights.ingest.dumps.legacy import has_legacy_stats, standardize_legacy
from video_insights.ingest.dumps.model import DumpEvent, ParsedDump, Stats, StatsSnapshot, assemble

FORMAT_JITSI = "rtcstats"
FORMAT_DUMP = "rtcstats-dump"
DUMP_MAGIC = "RTCStatsDump"
_SHAPE = "expected a JSON array [method, pcId, value, timestamp]"
_IDENTITY_KEYS = ("userId", "displayName", "endpointId")


@dataclass(slots=True)
class _Record:
    line_no: int
    method: str
    pc_id: str | None
    value: Any
    ts: float | None


@dataclass(slots=True)
class _Collector:
    fmt: str
    user_agent: str | None = None
    user_agent_data: dict[str, Any] | None = None
    identity: str | None = None
    peer_connections: list[str] = field(default_factory=list)
    snapshots: list[StatsSnapshot] = field(default_factory=list)
    events: list[DumpEvent] = field(default_factory=list)
    bases: dict[str, Stats] = field(default_factory=dict)

    def result(self) -> ParsedDump:
        return assemble(self.fmt, user_agent=self.user_agent, user_agent_data=self.user_agent_data,
                        peer_connections=self.peer_connections, snapshots=self.snapshots,
                        events=self.events, identity=self.identity)


def parse_jitsi_lines(text: str) -> ParsedDump:
    records = _read_records(text.split("\n"), first_line_no=1)
    _fill_times(records, deltas=False)
    collector = _Collector(FORMAT_JITSI)
    for record in records:
        _consume(collector, record)
    return collector.result()


def parse_rtcstats_dump(text: str) -> ParsedDump:
    lines = text.split("\n")
    if len(lines) < 2 or not lines[1].strip():
        raise line_error(2, "expected the RTCStatsDump metadata object")
    meta = loads(lines[1], "line 2")
    if not isinstance(meta, dict):
        raise line_error(2, "expected the RTCStatsDump metadata object")
    if meta.get("fileFormat") != 3:
        raise line_error(2, f"unsupported RTCStatsDump fileFormat {meta.get('fileFormat')!r} (expected 3)")
    records = _read_records(lines[2:], first_line_no=3)
    _fill_times(records, deltas=True)
    collector = _Collector(FORMAT_DUMP)
    if isinstance(meta.get("userAgent"), str) and meta["userAgent"]:
        collector.user_agent = meta["userAgent"]
    for record in records:
        _consume(collector, record)
    return collector.result()


def _read_records(lines: list[str], first_line_no: int) -> list[_Record]:
    records = []
    for offset, raw in enumerate(lines):
        if raw.strip():
            records.append(_parse_record(raw, first_line_no + offset))
    return records


def _parse_record(raw: str, line_no: int) -> _Record:
    item = loads(raw, f"line {line_no}")
    if not isinstance(item, list):
        raise line_error(line_no, _SHAPE)
    if len(item) < 3:
        raise line_error(line_no, f"{_SHAPE}, got {len(item)} element(s)")
    method, pc_id = item[0], item[1]
    if isinstance(method, bool) or not isinstance(method, str | int):
        raise line_error(line_no, "method must be a string")
    if isinstance(pc_id, bool) or not (pc_id is None or isinstance(pc_id, str | int)):
        raise line_error(line_no, "pcId must be a string or null")
    ts = item[-1] if len(item) >= 4 else None
    if ts is not None and not is_number(ts):
        raise line_error(line_no, f"timestamp must be a number, got {ts!r}")
    name = method_name(method)
    pc = None if pc_id is None else str(pc_id)
    if name.startswith(("navigator.", "MediaStreamTrack.")):
        pc = None  # Chrome tags getUserMedia with "<renderer>-0", which is no peer connection
    return _Record(line_no, name, pc, item[2], None if ts is None else float(ts))


def _fill_times(records: list[_Record], *, deltas: bool) -> None:
    clock: float | None = None
    for record in records:
        if deltas:
            clock = record.ts if clock is None else clock + (record.ts or 0.0)
        elif record.ts is not None:
            clock = record.ts
        record.ts = clock
    following: float | None = None
    for record in reversed(records):  # records before the first timed one take its time
        if record.ts is None:
            record.ts = following
        following = record.ts
    if any(r.ts is None for r in records):
        raise line_error(records[0].line_no, "no record carries a timestamp")


def _consume(collector: _Collector, record: _Record) -> None:
    ts = record.ts if record.ts is not None else 0.0  # _fill_times has set every record's time
    if record.method.lower() == "getstats":
        _consume_stats(collector, record, ts)
        return
    payload = decode_payload(record.value)
    if record.pc_id is not None and record.pc_id not in collector.peer_connections and (
            record.method in ("create", "constraints")):
        collector.peer_connections.append(record.pc_id)
    _note_client_info(collector, record, payload)
    collector.events.append(DumpEvent(record.pc_id, ts, record.method, payload))


def _consume_stats(collector: _Collector, record: _Record, ts: float) -> None:
    where = f"line {record.line_no}"
    if record.pc_id is None:
        raise line_error(record.line_no, "getStats record without a peer connection id")
    if not isinstance(record.value, dict):
        raise line_error(record.line_no, "getStats value must be a JSON object")
    base = collector.bases.get(record.pc_id, {})
    if collector.fmt == FORMAT_JITSI:
        stats = merge_jitsi(base, record.value, ts, where)
    elif is_full_report(record.value):
        # Chrome adds webrtc-internals' computed "[bytesSent_in_bits/s]"-style keys: not getStats data.
        stats = {sid: {k: v for k, v in obj.items() if not k.startswith("[")}
                 for sid, obj in record.value.items()}
        for sid, obj in stats.items():
            check_stat(sid, obj, where)
    else:
        stats = decompress_v3(base, record.value, where)
    collector.bases[record.pc_id] = stats
    if record.pc_id not in collector.peer_connections:
        collector.peer_connections.append(record.pc_id)
    if has_legacy_stats(stats):
        stats = standardize_legacy(stats)
    collector.snapshots.append(StatsSnapshot(pc_id=record.pc_id, ts_ms=ts, stats=stats))


def _note_client_info(collector: _Collector, record: _Record, payload: Any) -> None:
    if record.method in ("connectionInfo", "userAgent"):
        agent = payload.get("userAgent") if isinstance(payload, dict) else payload
        if isinstance(agent, str) and agent and collector.user_agent is None:
            collector.user_agent = agent
    elif record.method == "create" and record.pc_id is None and isinstance(payload, dict):
        # RTCStatsDump: the page-level "create" carries navigator facts, not RTCConfiguration.
        ua_data = payload.get("userAgentData")
        if isinstance(ua_data, dict):
            collector.user_agent_data = ua_data
        if isinstance(payload.get("userAgent"), str) and collector.user_agent is None:
            collector.user_agent = payload["userAgent"]
    elif record.method == "identity" and isinstance(payload, dict) and collector.identity is None:
        collector.identity = next(
            (payload[k] for k in _IDENTITY_KEYS if isinstance(payload.get(k), str) and payload[k]), None)
