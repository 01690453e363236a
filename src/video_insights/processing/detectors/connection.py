"""Detectors over connection events: failures, reconnects, slow setup, camera/microphone errors."""

from __future__ import annotations

from video_insights.model.issues import IssueConfig, IssueType
from video_insights.model.summaries import DetectedIssue
from video_insights.processing.detectors import DetectorInput, detector

_FAILED = {"ice-connection-state/failed", "pc-connection-state/failed"}
_CHECKING = {"ice-connection-state/checking", "ice-connection-state/new"}
_CONNECTED = {"ice-connection-state/connected", "ice-connection-state/completed",
              "pc-connection-state/connected"}
_GUM_FAILED = {"get-user-media/denied", "get-user-media/failed"}


def _issue(t: IssueType, d: DetectorInput, value: float | None, threshold: float | None,
           media: tuple[str, ...] = ()) -> DetectedIssue:
    return DetectedIssue(t.value, d.participant_sid, media=media, value=value, threshold=threshold,
                         directions=())


@detector(IssueType.ICE_FAILURE)
def ice_failure(d: DetectorInput, cfg: IssueConfig) -> DetectedIssue | None:
    n = sum(1 for e in d.events if e.name in _FAILED)
    return _issue(IssueType.ICE_FAILURE, d, float(n), None) if n else None


@detector(IssueType.REPEATED_RECONNECTS)
def repeated_reconnects(d: DetectorInput, cfg: IssueConfig) -> DetectedIssue | None:
    n = sum(1 for e in d.events if e.name == "room/reconnecting")
    thr = float(cfg.threshold or 0)
    return _issue(IssueType.REPEATED_RECONNECTS, d, float(n), thr) if n and n >= thr else None


@detector(IssueType.SLOW_CONNECTION_SETUP)
def slow_connection_setup(d: DetectorInput, cfg: IssueConfig) -> DetectedIssue | None:
    start = min((e.ts_ms for e in d.events if e.name in _CHECKING), default=None)
    if start is None:
        return None
    done = min((e.ts_ms for e in d.events if e.name in _CONNECTED and e.ts_ms >= start), default=None)
    if done is None:
        return None
    seconds = (done - start) / 1000.0
    thr = float(cfg.threshold or 0)
    return _issue(IssueType.SLOW_CONNECTION_SETUP, d, seconds, thr) if seconds > thr else None


@detector(IssueType.GET_USER_MEDIA_FAILURE)
def get_user_media_failure(d: DetectorInput, cfg: IssueConfig) -> DetectedIssue | None:
    failed = [e for e in d.events if e.name in _GUM_FAILED]
    if not failed:
        return None
    return _issue(IssueType.GET_USER_MEDIA_FAILURE, d, float(len(failed)), None)
