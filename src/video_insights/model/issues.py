"""The catalog of detected issue types: what each means, its rule and its default threshold.

`docs/issues.md` is generated from this catalog (a test checks it is current).
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Any


class IssueType(StrEnum):
    PACKET_LOSS = "packet_loss"
    ROUND_TRIP_TIME = "round_trip_time"
    HIGH_JITTER = "high_jitter"
    VIDEO_FREEZES = "video_freezes"
    CPU_LIMITED = "cpu_limited"
    BANDWIDTH_LIMITED = "bandwidth_limited"
    ICE_FAILURE = "ice_failure"
    REPEATED_RECONNECTS = "repeated_reconnects"
    SLOW_CONNECTION_SETUP = "slow_connection_setup"
    GET_USER_MEDIA_FAILURE = "get_user_media_failure"
    CPU_PRESSURE = "cpu_pressure"
    VIDEO_STALLED = "video_stalled"


@dataclass(frozen=True)
class IssueInfo:
    type: IssueType
    title: str
    explanation: str
    rule: str
    default_threshold: float | None
    unit: str
    twilio: bool = False  # one of Twilio's own two issues


CATALOG: dict[IssueType, IssueInfo] = {i.type: i for i in (
    IssueInfo(IssueType.PACKET_LOSS, "High packet loss",
              "Packets the participant sent never arrived. Loss makes video freeze, frame rates drop and "
              "audio choppy; it usually comes from a congested or wireless network on the sender's side.",
              "Cumulative packet loss of a published track over its whole life, 100 × Σ lost / "
              "(Σ lost + Σ sent), at or above the threshold (Σ sent over the simulcast layers that report "
              "loss).", 5.0, "%", twilio=True),
    IssueInfo(IssueType.ROUND_TRIP_TIME, "High round trip time",
              "Packets took long to travel to the server and back. High latency makes people talk over "
              "each other; it comes from slow or far-away networks or a server far from the participant.",
              "Mean of a published track's per-interval round-trip time over its whole life above the "
              "threshold.", 300.0, "ms", twilio=True),
    IssueInfo(IssueType.HIGH_JITTER, "High jitter",
              "Packets arrived at uneven intervals, which makes audio choppy or delayed.",
              "Mean outgoing audio jitter (reported by the receiver) above the threshold.", 30.0, "ms"),
    IssueInfo(IssueType.VIDEO_FREEZES, "Video freezes",
              "Video the participant received froze: frames stopped arriving for noticeable periods.",
              "Time a received video track was frozen as a share of the time it was received, at or above "
              "the threshold (the worst track).",
              0.02, "share"),
    IssueInfo(IssueType.CPU_LIMITED, "CPU-limited video",
              "The browser lowered the video resolution or frame rate because the device's CPU was busy.",
              "Share of a video track's time limited by CPU (qualityLimitationDurations) at or above "
              "the threshold; tracks shorter than 60 s are not judged.", 0.30, "share"),
    IssueInfo(IssueType.BANDWIDTH_LIMITED, "Bandwidth-limited video",
              "The browser lowered the video quality because the estimated upload bandwidth was short.",
              "Share of a video track's time limited by bandwidth at or above the threshold; tracks "
              "shorter than 60 s are not judged (the estimator ramps up).", 0.30, "share"),
    IssueInfo(IssueType.ICE_FAILURE, "Connection failure",
              "The media connection failed (ICE or DTLS), so the participant lost audio and video.",
              "An ICE, DTLS or peer-connection state of `failed`.", None, ""),
    IssueInfo(IssueType.REPEATED_RECONNECTS, "Repeated reconnects",
              "The participant's connection dropped and was re-established several times.",
              "Reconnect attempts (room/reconnecting) at or above the threshold.", 3.0, "reconnects"),
    IssueInfo(IssueType.SLOW_CONNECTION_SETUP, "Slow connection setup",
              "It took long before media flowed after the participant joined.",
              "Time from the first ICE check to the first connected state above the threshold.",
              5.0, "s"),
    IssueInfo(IssueType.GET_USER_MEDIA_FAILURE, "Camera or microphone failure",
              "The browser could not open the camera or microphone (denied, busy or missing).",
              "A getUserMedia failure or denial.", None, ""),
    IssueInfo(IssueType.CPU_PRESSURE, "CPU pressure",
              "The device's CPU was under serious or critical pressure, which makes the browser lower video "
              "quality and can make audio and video stutter.",
              "Time the browser's Compute Pressure state (system/cpu-pressure-changed) was `serious` or "
              "`critical`, at or above the threshold.", 5.0, "s"),
    IssueInfo(IssueType.VIDEO_STALLED, "Stalled video",
              "Video the participant received stopped: it played at under half a frame per second.",
              "Longest time a received track stayed stalled (track-warning-raised/track-stalled until its "
              "track-warning-cleared, or the participant's last activity), at or above the threshold.",
              5.0, "s"),
)}


@dataclass(frozen=True)
class IssueConfig:
    enabled: bool
    threshold: float | None


def issue_configs(account_settings: dict[str, Any] | None, defaults: dict[IssueType, float | None]
                  ) -> dict[IssueType, IssueConfig]:
    """Per-account switches and thresholds over the deployment's defaults.

    Account settings look like {"issues": {"high_jitter": {"enabled": false, "threshold": 40}}}.
    """
    per_account = (account_settings or {}).get("issues", {})
    out = {}
    for t in IssueType:
        own = per_account.get(t.value, {}) if isinstance(per_account, dict) else {}
        threshold = own.get("threshold", defaults.get(t, CATALOG[t].default_threshold))
        out[t] = IssueConfig(bool(own.get("enabled", True)), threshold)
    return out


def catalog_doc() -> str:
    lines = ["| issue_type | title | rule | default threshold |", "|---|---|---|---|"]
    for info in CATALOG.values():
        thr = "—" if info.default_threshold is None else f"{info.default_threshold:g} {info.unit}".strip()
        lines.append(f"| `{info.type}` | {info.title} | {info.rule} | {thr} |")
    return "\n".join(lines) + "\n"
