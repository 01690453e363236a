"""Parse browser dumps (webrtc-internals exports, rtcstats dumps) into full getStats snapshots.

`parse_dump` accepts raw or gzip-compressed bytes and detects the format:
- "webrtc-internals": chrome://webrtc-internals export (one JSON document with "PeerConnections");
- "rtcstats-dump": Chrome's / rtcstats.com's RTCStatsDump file format 3 (first line "RTCStatsDump");
- "rtcstats": Jitsi's rtcstats JSON lines.
Every snapshot holds the complete report of one getStats() call with standard (W3C) stat objects:
deltas are undone, legacy "goog" stats are rewritten (see `legacy`), numbers are numbers.
Anything else raises `DumpFormatError` naming the line or key at fault.
"""

from __future__ import annotations

import zlib

from video_insights.ingest.dumps._common import loads
from video_insights.ingest.dumps.internals import looks_like_internals, parse_internals
from video_insights.ingest.dumps.model import DumpEvent, DumpFormatError, ParsedDump, StatsSnapshot
from video_insights.ingest.dumps.rtcstats import DUMP_MAGIC, parse_jitsi_lines, parse_rtcstats_dump
from video_insights.ingest.json_depth import MAX_DEPTH, too_deep

__all__ = ["DumpEvent", "DumpFormatError", "ParsedDump", "StatsSnapshot", "parse_dump"]

_UNKNOWN = "not a webrtc-internals export or rtcstats dump"
MAX_DUMP_BYTES = 1 << 30
# Real dumps compress 8-17 times (the recordings in tests/data); a hundred is far beyond any of them
# and far below a bomb's thousand. The grace lets a small file's first chunk through.
MAX_RATIO = 100
RATIO_GRACE = 1 << 20
CHUNK = 1 << 20


def parse_dump(data: bytes, *, max_bytes: int = MAX_DUMP_BYTES) -> ParsedDump:
    """Parse a dump; gzip input may expand to at most `max_bytes` (uploads can be decompression bombs)."""
    text = _text(_gunzip(data, max_bytes) if data[:2] == b"\x1f\x8b" else data)
    start = text.lstrip()
    if not start:
        raise DumpFormatError("empty file")
    if too_deep(start):
        raise DumpFormatError(f"JSON nested deeper than {MAX_DEPTH} levels")
    if start.startswith(DUMP_MAGIC):
        return parse_rtcstats_dump(start)
    if start.startswith("["):
        return parse_jitsi_lines(start)
    if start.startswith("{"):
        return _parse_json_document(start)
    raise DumpFormatError(_UNKNOWN)


def _gunzip(data: bytes, max_bytes: int) -> bytes:
    """Inflate in steps of CHUNK, refusing as soon as the output passes `max_bytes` or expands more than
    MAX_RATIO times the input read so far: a bomb is refused after a few megabytes, not after its
    gigabyte is in memory."""
    out = bytearray()
    start = 0
    while data[start:start + 2] == b"\x1f\x8b":  # a .gz file may hold several members back to back
        member = zlib.decompressobj(wbits=31)
        pending = memoryview(data)[start:]
        while pending and not member.eof:
            try:
                out += member.decompress(pending, CHUNK)
            except zlib.error as exc:
                raise DumpFormatError(f"gzip: corrupt compressed data ({exc})") from None
            pending = memoryview(member.unconsumed_tail) if member.unconsumed_tail else pending[len(pending):]
            read = len(data) - len(pending) - len(member.unused_data)
            if len(out) > max_bytes:
                raise DumpFormatError(f"gzip: expands to more than {max_bytes} bytes")
            if len(out) > MAX_RATIO * read + RATIO_GRACE:
                raise DumpFormatError(f"gzip: expands more than {MAX_RATIO} times (a decompression bomb?)")
        if not member.eof:
            raise DumpFormatError("gzip: truncated compressed data (end of stream missing)")
        start = len(data) - len(member.unused_data)
    return bytes(out)


def _text(data: bytes) -> str:
    try:
        return data.decode("utf-8").removeprefix("\ufeff")
    except UnicodeDecodeError as exc:
        raise DumpFormatError(f"not UTF-8 text (invalid byte at offset {exc.start})") from None


def _parse_json_document(text: str) -> ParsedDump:
    first_line = text.split("\n", 1)[0]
    if "\n" in text.strip() and _is_json_object(first_line):
        # One object per line: some other JSON-lines log, not an export (which is a single document).
        raise DumpFormatError(f"{_UNKNOWN}: line 1 is a JSON object, expected a JSON array "
                              "[method, pcId, value, timestamp]")
    doc = loads(text, "webrtc-internals export")
    if not looks_like_internals(doc):
        raise DumpFormatError(f"{_UNKNOWN}: no PeerConnections object")
    return parse_internals(doc)


def _is_json_object(line: str) -> bool:
    try:
        return isinstance(loads(line, "line 1"), dict)
    except DumpFormatError:
        return False
