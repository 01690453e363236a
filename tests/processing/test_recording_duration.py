"""A participant's recording duration is the time it was recorded, never more than its time in the room:
its tracks' recordings run side by side and are merged, not added (issue 14: 2m 42s recorded in 1m 22s)."""

from __future__ import annotations

from video_insights.model.summaries import RecordingInfo
from video_insights.processing.summaries import recorded_seconds

T0 = 1_700_000_000_000


def rec(sid: str, start_s: float, seconds: int) -> RecordingInfo:
    return RecordingInfo(sid, "completed", participant_sid="PA1", start_ms=T0 + int(start_s * 1000),
                         duration_sec=seconds)


def test_tracks_recorded_together_count_once() -> None:
    assert recorded_seconds([rec("RT1", 0.3, 81), rec("RT2", 0.4, 81)]) == 81
    assert recorded_seconds([rec("RT1", 0, 30), rec("RT2", 60, 20)]) == 50  # a gap is not recorded time
    assert recorded_seconds([rec("RT1", 0, 30), rec("RT2", 10, 40)]) == 50  # overlapping: the union
    assert recorded_seconds([]) == 0
