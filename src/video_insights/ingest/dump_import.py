"""Imported dumps (webrtc-internals, rtcstats) → one room, one participant, its tracks and samples.

The room and participant SIDs derive from the file's content, so importing the same file twice
yields the same room (and the duplicate samples and events collapse). An imported room is kept for the
retention period counted from its import (docs/retention.md), however long ago it was recorded.
"""

from __future__ import annotations

import dataclasses
import hashlib
import itertools
import statistics
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import orjson

from video_insights.errors import DumpRejected
from video_insights.ingest.dumps import DumpEvent, DumpFormatError, ParsedDump, parse_dump
from video_insights.ingest.getstats import snapshot_to_samples
from video_insights.model.ids import derived_sid
from video_insights.model.records import Event, Source, StreamSample
from video_insights.model.vocabulary import RoomType
from video_insights.processing import lifecycle as lc
from video_insights.processing.pipeline import Pipeline
from video_insights.store.base import WriteBatch, make_row
from video_insights.store.retention import DAY_MS

ROOM_TYPES = tuple(RoomType)


@dataclass(frozen=True)
class ImportResult:
    room_sid: str
    participant_sid: str
    format: str
    samples: int
    events: int
    room_type: str
    kept_until_ms: int | None = None  # set once stored

    def to_json(self) -> dict[str, Any]:
        kept = (datetime.fromtimestamp(self.kept_until_ms / 1000, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
                if self.kept_until_ms is not None else None)
        return {"room_sid": self.room_sid, "participant_sid": self.participant_sid, "format": self.format,
                "samples": self.samples, "events": self.events, "kept_until": kept}


@dataclass(frozen=True)
class ImportedDump:
    result: ImportResult
    samples: list[StreamSample]
    events: list[Event]
    period_ms: int
    file_name: str


def store(pipeline: Pipeline, dump: ImportedDump, *, now_ms: int | None = None) -> ImportResult:
    """Write the dump and summarise its room; the result says until when the room is kept."""
    result = hold(pipeline, dump, now_ms=now_ms)
    pipeline.write_now(dump.samples, dump.events, period_ms=dump.period_ms)
    return result


def hold(pipeline: Pipeline, dump: ImportedDump, *, now_ms: int | None = None) -> ImportResult:
    """Record the import, which keeps its room from retention for the period counted from now. It goes
    before the data: should the data's commit fail, the record holds nothing back."""
    now = int(time.time() * 1000) if now_ms is None else now_ms
    r = dump.result
    batch = WriteBatch()
    batch.replace("imports", make_row("imports", account_sid=dump.events[0].account_sid, room_sid=r.room_sid,
                                      imported_ms=now, file_name=dump.file_name or None))
    pipeline.store.write(batch)
    s = pipeline.settings
    days = s.retention_days_go if r.room_type == RoomType.GO else s.retention_days
    return dataclasses.replace(r, kept_until_ms=now + days * DAY_MS)


def _state(value: Any) -> str:
    text = value if isinstance(value, str) else orjson.dumps(value).decode()
    return text.strip().strip('"').lower()


def map_event(e: DumpEvent) -> tuple[str, dict[str, Any]] | None:
    """A dump's API-call log entry → our event vocabulary (None: not worth keeping)."""
    name = e.name.lower()
    if "iceconnectionstatechange" in name:
        return f"ice-connection-state/{_state(e.payload)}", {"pc_id": e.pc_id}
    if "connectionstatechange" in name:
        return f"pc-connection-state/{_state(e.payload)}", {"pc_id": e.pc_id}
    if "getusermedia" in name and ("failure" in name or "error" in name):
        return "get-user-media/failed", {"error": str(e.payload)[:500]}
    if "getusermedia" in name and "success" in name:
        return "get-user-media/succeeded", {}
    return None


def build(data: bytes, *, account_sid: str, file_name: str = "", room_name: str | None = None,
          room_type: str = RoomType.GROUP, identity: str | None = None, max_bytes: int = 1 << 30) -> ImportedDump:
    """`max_bytes` bounds the dump once decompressed (a gzip upload may be a decompression bomb)."""
    try:
        dump = parse_dump(data, max_bytes=max_bytes)
    except DumpFormatError as e:
        raise DumpRejected(f"{file_name or 'dump'}: {e}") from None
    if not dump.snapshots:
        raise DumpRejected(f"{file_name or 'dump'}: the dump holds no getStats samples")
    if room_type not in ROOM_TYPES:
        raise DumpRejected(f"room type {room_type!r}: expected one of {', '.join(ROOM_TYPES)}")
    digest = hashlib.sha256(data).hexdigest()
    room_sid = derived_sid("RM", account_sid, "import", digest)
    participant_sid = derived_sid("PA", account_sid, "import", "participant", digest)
    samples = [s for snap in dump.snapshots for s in snapshot_to_samples(
        snap.stats, account_sid=account_sid, room_sid=room_sid, participant_sid=participant_sid,
        pc_id=snap.pc_id, ts_ms=int(snap.ts_ms))]
    events = _events(dump, account_sid, room_sid, participant_sid, file_name, room_name, room_type, identity)
    result = ImportResult(room_sid, participant_sid, dump.format, len(samples), len(events), room_type)
    return ImportedDump(result, samples, events, _period(dump), file_name)


def _period(dump: ParsedDump) -> int:
    """The dump's sampling period: what the first sample of each stream counts over."""
    by_pc: dict[str, list[float]] = {}
    for s in dump.snapshots:
        by_pc.setdefault(s.pc_id, []).append(s.ts_ms)
    gaps = [b - a for ts in by_pc.values() for a, b in itertools.pairwise(ts) if b > a]
    return max(int(statistics.median(gaps)), 1) if gaps else 1000


def _events(dump: ParsedDump, account: str, room: str, participant: str, file_name: str,
            room_name: str | None, room_type: str, identity: str | None) -> list[Event]:
    start, end = int(dump.start_ms), int(dump.end_ms)
    info = {"user_agent": dump.user_agent, "user_agent_data": dump.user_agent_data, "file_name": file_name,
            "format": dump.format, "identity": identity or dump.identity or "imported",
            "room_name": room_name or file_name or f"{dump.format} import", "room_type": room_type,
            "peer_connections": dump.peer_connections}
    events = [Event(account, room, participant, start, Source.IMPORT, lc.IMPORTED_DUMP, info)]
    for e in dump.events:
        mapped = map_event(e)
        if mapped is not None:
            events.append(Event(account, room, participant, int(e.ts_ms), Source.IMPORT, mapped[0], mapped[1]))
    # A dump is a finished recording: the participant left at its end, and so did the room.
    events.append(Event(account, room, participant, end, Source.IMPORT, lc.CLIENT_DISCONNECTED, {}))
    events.append(Event(account, room, None, end, Source.IMPORT, lc.ROOM_ENDED, {"end_reason": None}))
    return events
