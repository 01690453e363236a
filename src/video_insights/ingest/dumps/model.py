"""What a parsed dump looks like, whatever format it came in."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

Stats = dict[str, dict[str, Any]]

# Written when the client connected to the rtcstats server, which can be long before or after the call
# (Jitsi's sample dumps carry connectionInfo stamped years after their stats): not part of the time span.
_UNTIMED_EVENTS = frozenset({"connectionInfo"})


class DumpFormatError(ValueError):
    """The input is not a dump we understand; the message names the line, key or field at fault."""


@dataclass(frozen=True, slots=True)
class StatsSnapshot:
    """One getStats() result of one peer connection, rebuilt in full (never a delta)."""

    pc_id: str
    ts_ms: float  # wall-clock ms since epoch of the getStats() call
    stats: Stats  # stat id -> stat object with "id", "type", "timestamp" and W3C fields


@dataclass(frozen=True, slots=True)
class DumpEvent:
    """A peer-connection API call or event, or a page-level event such as getUserMedia."""

    pc_id: str | None
    ts_ms: float
    name: str
    payload: Any


@dataclass(frozen=True, slots=True)
class ParsedDump:
    format: str  # "webrtc-internals" | "rtcstats" | "rtcstats-dump"
    user_agent: str | None
    user_agent_data: dict[str, Any] | None
    peer_connections: list[str]
    snapshots: list[StatsSnapshot]  # sorted by (ts_ms, pc_id)
    events: list[DumpEvent]  # sorted by ts_ms
    start_ms: float
    end_ms: float
    identity: str | None = None


def assemble(
    fmt: str,
    *,
    user_agent: str | None,
    user_agent_data: dict[str, Any] | None,
    peer_connections: list[str],
    snapshots: list[StatsSnapshot],
    events: list[DumpEvent],
    identity: str | None = None,
) -> ParsedDump:
    """Sort what a format parser collected and derive the time span."""
    snapshots = sorted(snapshots, key=lambda s: (s.ts_ms, s.pc_id))
    events = sorted(events, key=lambda e: e.ts_ms)  # stable: same-ms events keep file order
    times = [s.ts_ms for s in snapshots] + [e.ts_ms for e in events if e.name not in _UNTIMED_EVENTS]
    times = times or [e.ts_ms for e in events]
    if not times:
        raise DumpFormatError("dump contains no events and no stats")
    return ParsedDump(
        format=fmt,
        user_agent=user_agent,
        user_agent_data=user_agent_data,
        peer_connections=peer_connections,
        snapshots=snapshots,
        events=events,
        start_ms=min(times),
        end_ms=max(times),
        identity=identity,
    )
