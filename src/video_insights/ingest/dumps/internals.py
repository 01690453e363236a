"""chrome://webrtc-internals exports ("Download the PeerConnection updates and stats data")."""

from __future__ import annotations

from typing import Any

from video_insights.ingest.dumps._common import decode_payload, is_number
from video_insights.ingest.dumps.internals_series import rebuild_snapshots
from video_insights.ingest.dumps.model import DumpEvent, DumpFormatError, ParsedDump, StatsSnapshot, assemble

FORMAT = "webrtc-internals"


def looks_like_internals(doc: Any) -> bool:
    return isinstance(doc, dict) and "PeerConnections" in doc


def parse_internals(doc: dict[str, Any]) -> ParsedDump:
    pcs = doc["PeerConnections"]
    if not isinstance(pcs, dict):
        raise DumpFormatError("PeerConnections: expected an object keyed by peer connection id")
    snapshots: list[StatsSnapshot] = []
    events = _gum_events(doc.get("getUserMedia"))
    for pc_id, pc in pcs.items():
        where = f"PeerConnections.{pc_id}"
        if not isinstance(pc, dict):
            raise DumpFormatError(f"{where}: expected an object")
        snapshots.extend(rebuild_snapshots(pc_id, pc.get("stats", {}), f"{where}.stats"))
        events.extend(_update_log_events(pc_id, pc.get("updateLog", []), f"{where}.updateLog"))
    user_agent = doc.get("UserAgent")
    ua_data = doc.get("UserAgentData")
    return assemble(
        FORMAT,
        user_agent=user_agent if isinstance(user_agent, str) and user_agent else None,
        user_agent_data=ua_data if isinstance(ua_data, dict) else None,
        peer_connections=list(pcs),
        snapshots=snapshots,
        events=events,
    )


def _update_log_events(pc_id: str, log: Any, where: str) -> list[DumpEvent]:
    if not isinstance(log, list):
        raise DumpFormatError(f"{where}: expected an array")
    events = []
    last_ts: float | None = None
    for i, entry in enumerate(log):
        if not isinstance(entry, dict) or not isinstance(entry.get("type"), str):
            raise DumpFormatError(f"{where}[{i}]: expected an object with a string 'type'")
        ts = entry.get("timestamp")
        if is_number(ts):
            last_ts = float(ts)
        if last_ts is None:
            continue  # old exports logged a localised time string only; nothing to place it with
        events.append(DumpEvent(pc_id, last_ts, entry["type"], decode_payload(entry.get("value"))))
    return events


def _gum_events(entries: Any) -> list[DumpEvent]:
    """getUserMedia requests and their outcomes, named like rtcstats' navigator.mediaDevices.* events."""
    if entries is None:
        return []
    if not isinstance(entries, list):
        raise DumpFormatError("getUserMedia: expected an array")
    events = []
    for i, entry in enumerate(entries):
        if not isinstance(entry, dict):
            raise DumpFormatError(f"getUserMedia[{i}]: expected an object")
        ts = entry.get("timestamp")
        if not is_number(ts):
            continue
        events.append(DumpEvent(None, float(ts), _gum_event_name(entry), entry))
    return events


def _gum_event_name(entry: dict[str, Any]) -> str:
    request = entry.get("request_type")
    base = "getDisplayMedia" if request == "getDisplayMedia" else "getUserMedia"
    if "error" in entry:
        suffix = "OnFailure"
    elif "stream_id" in entry or "audio_track_info" in entry or "video_track_info" in entry:
        suffix = "OnSuccess"
    else:
        suffix = ""
    return f"navigator.mediaDevices.{base}{suffix}"
