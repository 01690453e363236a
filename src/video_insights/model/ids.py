"""Twilio-style SIDs: a two-letter prefix and 32 lowercase hex digits."""

from __future__ import annotations

import hashlib
import re
import secrets

_SID_RE = re.compile(r"^[A-Z]{2}[0-9a-f]{32}$")


def new_sid(prefix: str) -> str:
    return prefix + secrets.token_hex(16)


def derived_sid(prefix: str, *parts: str) -> str:
    """A SID that is the same whenever the same source identifiers are seen again."""
    digest = hashlib.sha256("\x1f".join(parts).encode()).hexdigest()[:32]
    return prefix + digest


def room_sid_for_name(account_sid: str, name: str) -> str:
    """The room SID a source that only knows a room's name (a collector given `roomName`, a LiveKit
    room) uses: the same for every participant and source of one account, so their data meet."""
    return derived_sid("RM", account_sid, "room-name", name)


def is_sid(value: object, prefix: str) -> bool:
    return isinstance(value, str) and value[:2] == prefix and bool(_SID_RE.match(normalise_sid(value)))


def sid_key(sid: str) -> int:
    """A 60-bit integer from a SID's hex digits. Tables keep it beside the SID so that a lookup compares
    integers, which the store scans (and skips, a vector at a time) far faster than strings."""
    return int(sid[2:17], 16)


def normalise_sid(value: str) -> str:
    """Twilio SIDs are case-insensitive in their hex part; store them lower-cased."""
    return value[:2].upper() + value[2:].lower()
