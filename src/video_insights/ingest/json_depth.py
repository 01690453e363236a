"""How deeply a JSON text nests, measured before it is parsed.

Every JSON input is checked against MAX_DEPTH first: msgspec recurses (a deep enough array is a
RecursionError, a 500), and a payload that parses may still fail later, where orjson writes it back
(it stops at 255 levels). No wire format of ours needs more than a handful of levels.
"""

from __future__ import annotations

import re

import numpy as np

from video_insights.errors import BadRequest

MAX_DEPTH = 64
# A JSON string, escapes included ("unrolled loop": no backtracking per character).
_STRING_BYTES = re.compile(rb'"[^"\\]*(?:\\.[^"\\]*)*"', re.S)
_STRING_TEXT = re.compile(r'"[^"\\]*(?:\\.[^"\\]*)*"', re.S)
_NOT_BRACKETS = bytes(b for b in range(256) if b not in b"[]{}")
_OPEN = np.frombuffer(b"[{", dtype=np.uint8)


def nesting_depth(raw: bytes | bytearray | memoryview | str) -> int:
    """The deepest nesting of arrays and objects, brackets inside strings not counted."""
    if isinstance(raw, str):
        outside = _STRING_TEXT.sub("", raw).encode("utf-8", "surrogatepass")
    else:
        outside = _STRING_BYTES.sub(b"", bytes(raw))
    brackets = np.frombuffer(outside.translate(None, _NOT_BRACKETS), dtype=np.uint8)
    if brackets.size == 0:
        return 0
    steps = np.where(np.isin(brackets, _OPEN), 1, -1)
    return int(np.cumsum(steps).max())


def too_deep(raw: bytes | bytearray | memoryview | str, limit: int = MAX_DEPTH) -> bool:
    """Whether the text nests deeper than `limit`.

    Depth can't exceed the number of opening brackets, and counting them (in strings too: an upper
    bound) costs under a microsecond, so an ordinary message (a stats report opens about a dozen)
    never pays for the exact measure, which was most of the gateway's CPU per report.
    """
    if isinstance(raw, str):
        opening = raw.count("[") + raw.count("{")
    else:
        data = bytes(raw) if isinstance(raw, memoryview) else raw
        opening = data.count(b"[") + data.count(b"{")
    if opening <= limit:
        return False
    return nesting_depth(raw) > limit


def check_depth(raw: bytes | bytearray | memoryview | str, where: str) -> None:
    """A 400 naming `where` when the text nests deeper than MAX_DEPTH."""
    if too_deep(raw):
        raise BadRequest(f"{where}: JSON nested deeper than {MAX_DEPTH} levels")
