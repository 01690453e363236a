"""Typed domain records that every ingest adapter produces and the pipeline consumes."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from functools import lru_cache
from typing import Any, Literal

from video_insights.model.ids import derived_sid

Direction = Literal["send", "recv"]
MediaKind = Literal["audio", "video", "data"]


class Source(StrEnum):
    GATEWAY = "gateway"  # twilio-video.js insights publisher, or our collector script
    TWILIO = "twilio"  # room status callbacks
    LIVEKIT = "livekit"  # LiveKit webhooks
    IMPORT = "import"  # webrtc-internals / rtcstats dumps


@dataclass(frozen=True, slots=True)
class StreamSample:
    """One RTP stream's (one SSRC's) cumulative counters at one instant, whatever the source.

    Counters are cumulative since the stream started; the processing step turns consecutive samples of
    one series (participant, peer connection, direction, ssrc) into 10-second interval deltas.
    """

    account_sid: str
    room_sid: str
    participant_sid: str
    pc_id: str
    direction: Direction
    kind: MediaKind
    ssrc: int
    ts_ms: int
    track_sid: str | None = None
    track_id: str | None = None
    codec: str | None = None
    bytes: int | None = None  # bytesSent (send) / bytesReceived (recv)
    packets: int | None = None  # packetsSent / packetsReceived
    packets_lost: int | None = None  # from remote-inbound-rtp (send) / inbound-rtp (recv)
    rtt_ms: float | None = None  # latest roundTripTime
    total_rtt_s: float | None = None  # totalRoundTripTime, cumulative
    rtt_measurements: int | None = None  # roundTripTimeMeasurements, cumulative
    jitter_ms: float | None = None
    frame_rate: float | None = None
    frame_width: int | None = None
    frame_height: int | None = None
    quality_limitation_reason: str | None = None
    ql_cpu_s: float | None = None  # qualityLimitationDurations.cpu, cumulative
    ql_bandwidth_s: float | None = None
    retransmitted_packets: int | None = None
    nack_count: int | None = None
    pli_count: int | None = None
    freeze_count: int | None = None
    freezes_duration_s: float | None = None
    concealed_samples: int | None = None
    total_samples_received: int | None = None
    rid: str | None = None


#: A stream sample's cumulative counters (fields of StreamSample): deltas are computed from them when read
#: (query.samples); the store keeps them as columns (store.schema).
COUNTERS: tuple[str, ...] = (
    "bytes", "packets", "packets_lost", "total_rtt_s", "rtt_measurements", "ql_cpu_s", "ql_bandwidth_s",
    "retransmitted_packets", "nack_count", "pli_count", "freeze_count", "freezes_duration_s", "concealed_samples",
    "total_samples_received",
)
FLOAT_COUNTERS = frozenset({"total_rtt_s", "ql_cpu_s", "ql_bandwidth_s", "freezes_duration_s"})


@dataclass(frozen=True, slots=True)
class Event:
    """Anything that happened to a room or participant: lifecycle, state changes, telemetry events.

    `name` uses the Twilio status-callback vocabulary for lifecycle (room-created, participant-connected,
    track-added, recording-completed, ...) whatever the source, and the gateway's `group/name` for
    client telemetry events (room/disconnected, ice-connection-state/failed, ...).
    """

    account_sid: str
    room_sid: str
    participant_sid: str | None
    ts_ms: int
    source: Source
    name: str
    payload: dict[str, Any] = field(default_factory=dict)
    event_id: str = ""  # stable content hash, for de-duplication; filled by the pipeline if empty


@lru_cache(maxsize=65_536)
def track_sid_of(account_sid: str, participant_sid: str, track_id: str | None, pc_id: str, direction: str,
                 kind: str, ssrc: int) -> str:
    """A track's SID when the source gives none: its media track id (shared by simulcast layers), or
    failing that its SSRC, within its participant."""
    basis = track_id or f"{pc_id}:{direction}:{kind}:{ssrc}"
    return derived_sid("MT", account_sid, participant_sid, basis)
