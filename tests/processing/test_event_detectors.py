"""The detectors that read twilio-video.js's events: spans of a state, closed by the next change or the
participant's last activity, and hostile payloads."""

from __future__ import annotations

from typing import Any

from video_insights.model.issues import IssueConfig
from video_insights.model.records import Event, Source
from video_insights.processing.detectors import DetectorInput
from video_insights.processing.detectors.connection import cpu_pressure, video_stalled

PID = "PA" + "1" * 32
CFG = IssueConfig(True, 5.0)


def _event(ts_s: float, name: str, **payload: Any) -> Event:
    return Event("AC" + "a" * 32, "RM" + "b" * 32, PID, int(ts_s * 1000), Source.GATEWAY, name, payload)


def _stall(ts_s: float, sid: Any, raised: bool = True) -> Event:
    return _event(ts_s, f"track-warning-{'raised' if raised else 'cleared'}/track-stalled", trackSid=sid,
                  frameRate=0, threshold=0.5, trackType="video")


def test_a_stall_still_on_lasts_until_the_last_activity() -> None:
    events = [_stall(0, "MTa"), _stall(2, "MTa", raised=False),  # 2 s: under the threshold
              _stall(10, "MTb"), _event(17, "room/disconnected")]  # 7 s, never cleared
    issue = video_stalled(DetectorInput(PID, [], events), CFG)
    assert issue is not None and issue.tracks == ("MTb",) and issue.value == 7.0


def test_stalls_add_up_per_track_and_odd_track_sids_are_ignored() -> None:
    events = [_stall(0, "MTa"), _stall(3, "MTa", raised=False), _stall(4, "MTa"), _stall(7, "MTa", raised=False),
              _stall(0, 42), _stall(0, "x" * 65), _stall(0, ""), _event(100, "room/disconnected")]
    issue = video_stalled(DetectorInput(PID, [], events), CFG)
    assert issue is not None and issue.tracks == ("MTa",) and issue.value == 6.0


def test_cpu_pressure_counts_serious_and_critical_time() -> None:
    def changes(*states: tuple[float, Any]) -> list[Event]:
        return [_event(t, "system/cpu-pressure-changed", resourceType="cpu", pressure=p) for t, p in states]

    issue = cpu_pressure(DetectorInput(PID, [], changes((0, "fair"), (1, "serious"), (3, "critical"), (7, "nominal"))),
                         CFG)
    assert issue is not None and issue.value == 6.0
    assert cpu_pressure(DetectorInput(PID, [], changes((0, "serious"), (4, "fair"))), CFG) is None
    assert cpu_pressure(DetectorInput(PID, [], changes((0, ["critical"]), (40, "nominal"))), CFG) is None
