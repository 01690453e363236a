"""Detectors over connection events: failures, reconnects, slow setup, camera/microphone errors."""

from __future__ import annotations

from collections.abc import Callable, Hashable

from video_insights.model.issues import IssueConfig, IssueType
from video_insights.model.records import Event
from video_insights.model.summaries import DetectedIssue
from video_insights.processing.detectors import DetectorInput, detector
from video_insights.processing.lifecycle import MEDIA_FAILURE_EVENTS

_FAILED = MEDIA_FAILURE_EVENTS
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


def _spans(d: DetectorInput, state: Callable[[Event], tuple[Hashable, bool] | None]) -> dict[Hashable, float]:
    """Seconds spent in a state per key: `state(event)` says (key, entered?) for the events that change
    it. A state still on at the end lasts until the participant's last activity."""
    events = sorted(d.events, key=lambda e: e.ts_ms)
    end = max([e.ts_ms for e in events] + [t.last_ms for t in d.tracks], default=0)
    since: dict[Hashable, int] = {}
    total: dict[Hashable, float] = {}
    for e in events:
        change = state(e)
        if change is None:
            continue
        key, entered = change
        if entered:
            since.setdefault(key, e.ts_ms)
        elif key in since:
            total[key] = total.get(key, 0.0) + (e.ts_ms - since.pop(key)) / 1000.0
    for key, start in since.items():
        total[key] = total.get(key, 0.0) + (end - start) / 1000.0
    return total


_PRESSED = {"serious", "critical"}
_MAX_SID = 64  # a track SID is 34 characters: anything longer is not one
_MAX_TRACKS = 20  # the longest stalls listed on the issue


def _cpu_pressure(e: Event) -> tuple[Hashable, bool] | None:
    if e.name != "system/cpu-pressure-changed":
        return None
    pressure = e.payload.get("pressure")
    return "cpu", isinstance(pressure, str) and pressure in _PRESSED


@detector(IssueType.CPU_PRESSURE)
def cpu_pressure(d: DetectorInput, cfg: IssueConfig) -> DetectedIssue | None:
    seconds = _spans(d, _cpu_pressure).get("cpu", 0.0)
    thr = float(cfg.threshold or 0)
    return _issue(IssueType.CPU_PRESSURE, d, seconds, thr) if seconds and seconds >= thr else None


def _stall(e: Event) -> tuple[Hashable, bool] | None:
    sid = e.payload.get("trackSid")
    if not isinstance(sid, str) or not 0 < len(sid) <= _MAX_SID:
        return None
    if e.name == "track-warning-raised/track-stalled":
        return sid, True
    if e.name == "track-warning-cleared/track-stalled":
        return sid, False
    return None


@detector(IssueType.VIDEO_STALLED)
def video_stalled(d: DetectorInput, cfg: IssueConfig) -> DetectedIssue | None:
    thr = float(cfg.threshold or 0)
    stalled = sorted(((s, str(sid)) for sid, s in _spans(d, _stall).items() if s >= thr), reverse=True)
    if not stalled:
        return None
    return DetectedIssue(IssueType.VIDEO_STALLED.value, d.participant_sid, media=("video",),
                         value=stalled[0][0], threshold=thr, directions=("inbound",),
                         tracks=tuple(sorted(sid for _, sid in stalled[:_MAX_TRACKS])))
