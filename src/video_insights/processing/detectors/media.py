"""Detectors over media statistics: Twilio's two (packet loss, RTT) and the quality extensions."""

from __future__ import annotations

from collections.abc import Callable, Sequence

from video_insights.model.issues import IssueConfig, IssueType
from video_insights.model.summaries import DetectedIssue, TrackStats
from video_insights.processing.detectors import DetectorInput, detector


def _crossing(issue_type: IssueType, pid: str, tracks: Sequence[TrackStats],
              measure: Callable[[TrackStats], float | None], crosses: Callable[[float], bool],
              threshold: float, directions: tuple[str, ...] = ("outbound",)) -> DetectedIssue | None:
    hits = [(t, v) for t in tracks if (v := measure(t)) is not None and crosses(v)]
    if not hits:
        return None
    worst = max(v for _, v in hits)
    media = tuple(sorted({t.kind for t, _ in hits}))
    return DetectedIssue(issue_type.value, pid, media=media, value=worst, threshold=threshold,
                         directions=directions, tracks=tuple(sorted(t.track_sid for t, _ in hits)))


@detector(IssueType.PACKET_LOSS)
def packet_loss(d: DetectorInput, cfg: IssueConfig) -> DetectedIssue | None:
    thr = float(cfg.threshold or 0)
    return _crossing(IssueType.PACKET_LOSS, d.participant_sid, d.send_tracks(), lambda t: t.loss_pct,
                     lambda v: v >= thr, thr)


@detector(IssueType.ROUND_TRIP_TIME)
def round_trip_time(d: DetectorInput, cfg: IssueConfig) -> DetectedIssue | None:
    thr = float(cfg.threshold or 0)
    return _crossing(IssueType.ROUND_TRIP_TIME, d.participant_sid, d.send_tracks(), lambda t: t.rtt_avg_ms,
                     lambda v: v > thr, thr)


@detector(IssueType.HIGH_JITTER)
def high_jitter(d: DetectorInput, cfg: IssueConfig) -> DetectedIssue | None:
    thr = float(cfg.threshold or 0)
    return _crossing(IssueType.HIGH_JITTER, d.participant_sid, d.send_tracks("audio"),
                     lambda t: t.jitter_avg_ms, lambda v: v > thr, thr)


# Encoders start bandwidth-limited while the estimator ramps up: a short track is not judged.
MIN_LIMITATION_SECONDS = 60.0


def _share(seconds: Callable[[TrackStats], float], min_seconds: float = 0.0
           ) -> Callable[[TrackStats], float | None]:
    return lambda t: min(seconds(t) / t.seconds, 1.0) if t.seconds > max(min_seconds, 0.0) else None


@detector(IssueType.CPU_LIMITED)
def cpu_limited(d: DetectorInput, cfg: IssueConfig) -> DetectedIssue | None:
    thr = float(cfg.threshold or 0)
    return _crossing(IssueType.CPU_LIMITED, d.participant_sid, d.send_tracks("video"),
                     _share(lambda t: t.ql_cpu_s, MIN_LIMITATION_SECONDS), lambda v: v >= thr, thr)


@detector(IssueType.BANDWIDTH_LIMITED)
def bandwidth_limited(d: DetectorInput, cfg: IssueConfig) -> DetectedIssue | None:
    thr = float(cfg.threshold or 0)
    return _crossing(IssueType.BANDWIDTH_LIMITED, d.participant_sid, d.send_tracks("video"),
                     _share(lambda t: t.ql_bandwidth_s, MIN_LIMITATION_SECONDS), lambda v: v >= thr, thr)


@detector(IssueType.VIDEO_FREEZES)
def video_freezes(d: DetectorInput, cfg: IssueConfig) -> DetectedIssue | None:
    thr = float(cfg.threshold or 0)
    recv = [t for t in d.recv() if t.freeze_count > 0]
    issue = _crossing(IssueType.VIDEO_FREEZES, d.participant_sid, recv, _share(lambda t: t.freezes_duration_s),
                      lambda v: v >= thr, thr, directions=("inbound",))
    if issue is None:
        return None
    return DetectedIssue(issue.issue_type, issue.participant_sid, media=("video",), value=issue.value,
                         threshold=thr, directions=("inbound",), tracks=issue.tracks)
