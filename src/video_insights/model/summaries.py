"""Summary records: what the pipeline computes from events and samples, and the API shows."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from video_insights.model.vocabulary import ParticipantStatus, ProcessingState, RoomStatus


@dataclass(frozen=True, slots=True)
class TrackStats:
    """A published track's (send) or an incoming track's (recv) quality over its whole life."""

    track_sid: str  # for recv: the incoming track (analytics/senders.py tells whose it is)
    kind: str  # audio | video | data | mixed (recv)
    direction: str  # send | recv
    first_ms: int
    last_ms: int
    codec: str | None = None
    bytes: int = 0
    packets: int = 0
    packets_lost: int = 0
    seconds: float = 0.0  # Σ Δt of the samples
    rtt_avg_ms: float | None = None  # mean of per-interval RTT
    rtt_intervals: int = 0
    jitter_avg_ms: float | None = None
    ql_cpu_s: float = 0.0
    ql_bandwidth_s: float = 0.0
    freeze_count: int = 0
    freezes_duration_s: float = 0.0
    samples: int = 0  # distinct samples it was computed from: tells a stored metrics document is current
    loss_packets: int | None = None  # packets of the layers that report loss (None: all of them)

    @property
    def loss_pct(self) -> float | None:
        total = self.packets_lost + (self.packets if self.loss_packets is None else self.loss_packets)
        return 100.0 * self.packets_lost / total if total > 0 else None


@dataclass(frozen=True, slots=True)
class DetectedIssue:
    issue_type: str
    participant_sid: str
    media: tuple[str, ...] = ()
    value: float | None = None
    threshold: float | None = None
    directions: tuple[str, ...] = ("outbound",)
    severity: str = "high"
    tracks: tuple[str, ...] = ()

    def to_json(self) -> dict[str, Any]:
        props: dict[str, Any] = {"participant_sid": self.participant_sid, "media": list(self.media),
                                 "value": None if self.value is None else round(self.value, 2),
                                 "threshold": self.threshold, "directions": list(self.directions)}
        if self.tracks:
            props["track_sids"] = list(self.tracks)
        return {"issue_type": self.issue_type, "severity": self.severity, "properties": props}


@dataclass(frozen=True, slots=True)
class TrackInfo:
    """A published track as its lifecycle events describe it."""

    track_sid: str
    kind: str
    name: str | None = None
    published_ms: int | None = None
    unpublished_ms: int | None = None


@dataclass
class ParticipantSummary:
    account_sid: str
    room_sid: str
    participant_sid: str
    participant_identity: str | None = None
    room_type: str | None = None
    join_ms: int | None = None
    leave_ms: int | None = None
    duration_sec: int | None = None
    status: str = ParticipantStatus.IN_PROGRESS
    end_reason: str | None = None
    error_code: int | None = None
    codecs: list[str] = field(default_factory=list)
    media_region: str | None = None
    signaling_region: str | None = None
    edge_location: str | None = None
    properties: dict[str, Any] = field(default_factory=dict)
    publisher_info: dict[str, Any] | None = None
    user_agent: str | None = None
    os_name: str = "Unknown"
    os_version: str | None = None
    browser_name: str = "Unknown"
    browser_version: str | None = None
    device_manufacturer: str = "Unknown"
    device_model: str | None = None
    sdk_name: str = "Unknown"
    sdk_version: str | None = None
    tracks: list[TrackInfo] = field(default_factory=list)
    recording_duration_sec: int = 0
    issues: list[DetectedIssue] = field(default_factory=list)
    last_activity_ms: int | None = None

    @property
    def issue_types(self) -> list[str]:
        return sorted({i.issue_type for i in self.issues})

    def track_count(self, kind: str) -> int:
        return sum(1 for t in self.tracks if t.kind == kind)


@dataclass
class RecordingInfo:
    recording_sid: str
    status: str
    participant_sid: str | None = None
    track_sid: str | None = None
    kind: str | None = None
    track_name: str | None = None
    start_ms: int | None = None
    duration_sec: int = 0
    size_bytes: int | None = None
    container: str | None = None
    codec: str | None = None


@dataclass
class RoomSummary:
    account_sid: str
    room_sid: str
    room_name: str | None = None
    create_ms: int | None = None
    end_ms: int | None = None
    room_type: str | None = None
    room_status: str = RoomStatus.IN_PROGRESS
    status_callback: str | None = None
    status_callback_method: str | None = None
    created_method: str | None = None
    end_reason: str | None = None
    max_participants: int | None = None
    unique_participants: int = 0
    unique_participant_identities: int = 0
    concurrent_participants: int = 0
    max_concurrent_participants: int | None = None
    codecs: list[str] = field(default_factory=list)
    media_region: str | None = None
    duration_sec: int | None = None
    total_participant_duration_sec: int = 0
    total_recording_duration_sec: int = 0
    processing_state: str = ProcessingState.IN_PROGRESS
    recording_enabled: bool = False
    edge_location: str | None = None
    issue_count: int = 0
    participants_with_issues: int = 0
    issue_types: list[str] = field(default_factory=list)
    detected_issues: list[DetectedIssue] = field(default_factory=list)
    last_activity_ms: int | None = None
    recordings: list[RecordingInfo] = field(default_factory=list)
