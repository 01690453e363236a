"""Issue detectors: pure functions, one per issue type, registered by their code.

Each takes what is known of one participant (its tracks' whole-life statistics and its events) and
the issue's configuration, and returns the issue or None. Importing this package registers them all.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from video_insights.model.issues import IssueConfig, IssueType
from video_insights.model.records import Event
from video_insights.model.summaries import DetectedIssue, TrackStats


@dataclass(frozen=True)
class DetectorInput:
    participant_sid: str
    tracks: Sequence[TrackStats]
    events: Sequence[Event]

    def send_tracks(self, kind: str | None = None) -> list[TrackStats]:
        return [t for t in self.tracks if t.direction == "send" and (kind is None or t.kind == kind)]

    def recv(self) -> list[TrackStats]:
        return [t for t in self.tracks if t.direction == "recv"]


Detector = Callable[[DetectorInput, IssueConfig], DetectedIssue | None]
REGISTRY: dict[IssueType, Detector] = {}


def detector(issue_type: IssueType) -> Callable[[Detector], Detector]:
    def register(fn: Detector) -> Detector:
        REGISTRY[issue_type] = fn
        return fn

    return register


def detect_all(data: DetectorInput, configs: dict[IssueType, IssueConfig]) -> list[DetectedIssue]:
    found = []
    for issue_type, fn in REGISTRY.items():
        cfg = configs[issue_type]
        if cfg.enabled:
            issue = fn(data, cfg)
            if issue is not None:
                found.append(issue)
    return found


from video_insights.processing.detectors import connection, media  # noqa: E402  (registers them)

__all__ = ["REGISTRY", "DetectorInput", "connection", "detect_all", "detector", "media"]
