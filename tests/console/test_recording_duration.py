"""Over the demo data, recorded time never exceeds time in the room (issue 14: a participant read 2m 42s
recorded in 1m 22s, its camera's and microphone's recordings added up; processing.summaries.recorded_seconds)."""

from __future__ import annotations

from typing import Any

from video_insights.query.sql import q


def test_demo_participants_are_not_recorded_longer_than_they_stayed(console: Any) -> None:
    """Over the demo data (per-track recordings, as Twilio makes them): within a second of rounding."""
    _, rows = console.store.fetch(q(
        "SELECT count(*), sum(CASE WHEN recording_duration_sec > 0 THEN 1 ELSE 0 END), "
        "sum(CASE WHEN recording_duration_sec > duration_sec + 1 THEN 1 ELSE 0 END) FROM participants "
        "WHERE account_sid = :a", a=console.demo.account_sid))
    participants, recorded, longer = (int(v or 0) for v in rows[0])
    assert participants > 0 and recorded > 10, "the demo records some rooms"
    assert longer == 0
    _, rooms = console.store.fetch(q(
        "SELECT count(*) FROM rooms WHERE account_sid = :a "
        "AND total_recording_duration_sec > total_participant_duration_sec + unique_participants",
        a=console.demo.account_sid))
    assert int(rooms[0][0]) == 0
