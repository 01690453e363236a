"""Helpers shared by the dump format parsers."""

from __future__ import annotations

from typing import Any, TypeGuard

import orjson

from video_insights.ingest.dumps.model import DumpFormatError

# Old Chrome stat ids name their type ("RTCOutboundRTPVideoStream_123"); the first matching prefix wins,
# so longer prefixes come before their own prefixes.
_LONG_ID_TYPES: tuple[tuple[str, str], ...] = (
    ("RTCOutboundRTP", "outbound-rtp"),
    ("RTCInboundRTP", "inbound-rtp"),
    ("RTCRemoteInboundRtp", "remote-inbound-rtp"),
    ("RTCRemoteInboundRTP", "remote-inbound-rtp"),
    ("RTCRemoteOutboundRTP", "remote-outbound-rtp"),
    ("RTCMediaStreamTrack", "track"),
    ("RTCMediaStream", "stream"),
    ("RTCCodec", "codec"),
    ("RTCIceCandidatePair", "candidate-pair"),
    ("RTCTransport", "transport"),
    ("RTCPeerConnection", "peer-connection"),
    ("RTCAudioSource", "media-source"),
    ("RTCVideoSource", "media-source"),
    ("RTCAudioPlayout", "media-playout"),
    ("RTCCertificate", "certificate"),
    ("RTCDataChannel", "data-channel"),
)

# W3C DOMString members whose values can look numeric; webrtc-internals exports them as numbers
# ("mid": 0), which would break equality with the same stat read from getStats() or a dump.
_STRING_FIELDS = frozenset(
    {
        "mid",
        "rid",
        "foundation",
        "usernameFragment",
        "iceLocalUsernameFragment",
        "label",
        "tlsVersion",
        "scalabilityMode",
        "playoutId",
    }
)


def loads(text: str | bytes, where: str) -> Any:
    try:
        return orjson.loads(text)
    except orjson.JSONDecodeError as exc:
        raise DumpFormatError(f"{where}: invalid JSON ({exc})") from None


def is_number(value: Any) -> TypeGuard[int | float]:
    return isinstance(value, int | float) and not isinstance(value, bool)


def decode_payload(value: Any) -> Any:
    """Event values are often JSON inside a JSON string ('"checking"', '{"mid": ...}'); unwrap them."""
    if isinstance(value, str) and value[:1] in ('"', "{", "["):
        try:
            return orjson.loads(value)
        except orjson.JSONDecodeError:
            return value
    return value


def restore_string_fields(stat: dict[str, Any]) -> None:
    for key in _STRING_FIELDS.intersection(stat):
        value = stat[key]
        if is_number(value):
            stat[key] = str(value)
    for key, value in stat.items():
        if is_number(value) and (key.endswith("Id") or key == "trackIdentifier"):
            stat[key] = str(value)


def infer_type(stat_id: str, stat: dict[str, Any]) -> str | None:
    """The stats type of an old export's stat, from its properties or its id."""
    declared = stat.get("type")
    if isinstance(declared, str) and declared:
        return declared
    for prefix, stats_type in _LONG_ID_TYPES:
        if stat_id.startswith(prefix):
            return stats_type
    if stat_id.startswith("RTCIceCandidate_"):
        return "remote-candidate" if stat.get("isRemote") is True else "local-candidate"
    return None


def check_stat(sid: str, stat: dict[str, Any], where: str) -> None:
    """Fields the rest of the system relies on must have the right type."""
    if "timestamp" in stat and not is_number(stat["timestamp"]):
        raise DumpFormatError(f"{where}: stat {sid!r} timestamp must be a number")
    if "type" in stat and not isinstance(stat["type"], str):
        raise DumpFormatError(f"{where}: stat {sid!r} type must be a string")


def line_error(line_no: int, message: str) -> DumpFormatError:
    return DumpFormatError(f"line {line_no}: {message}")
