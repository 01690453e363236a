"""The live board's last interval per participant (analytics/live_board.py), from interval rows as
query/samples.py returns them."""

from __future__ import annotations

from typing import Any

from video_insights.analytics.live_board import LastInterval, crossed, last_intervals

SINCE = 1_000_000


def row(pid: str, side: str, sid: str, bucket: int, bitrate: float | None, loss: float | None,
        rtt: float | None = None) -> tuple[Any, ...]:
    return (pid, side, sid, "video", "vp8", bucket, bitrate, loss, rtt, *([None] * 13))


def test_the_latest_bucket_summed_over_tracks_with_the_worst_loss_and_rtt() -> None:
    rows = [row("PA1", "send", "MT1", SINCE, 9e9, 0.0, 10),  # the scan's first bucket: its deltas reach back
            row("PA1", "send", "MT1", SINCE + 10_000, 500_000, 1.0, 80),
            row("PA1", "send", "MT2", SINCE + 10_000, 40_000, 7.5, 120),
            row("PA1", "recv", "pc1", SINCE + 10_000, 900_000, 0.5)]
    last = last_intervals(rows, {"PA1": SINCE - 60_000}, SINCE)["PA1"]
    assert last == LastInterval(SINCE + 10_000, send_bps=540_000, recv_bps=900_000, send_loss_pct=7.5,
                                recv_loss_pct=0.5, rtt_ms=120)


def test_a_lone_first_bucket_counts_only_for_a_participant_who_joined_inside_the_scan() -> None:
    rows = [row("PA1", "send", "MT1", SINCE, 100_000, 0.0), row("PA2", "send", "MT2", SINCE, 200_000, 0.0)]
    last = last_intervals(rows, {"PA1": SINCE - 1, "PA2": SINCE + 5}, SINCE)
    assert set(last) == {"PA2"} and last["PA2"].send_bps == 200_000


def test_thresholds_crossed_as_detection_compares_them() -> None:
    on = {"packet_loss_pct": 5.0, "rtt_ms": 300.0}
    assert crossed(LastInterval(0, send_loss_pct=5.0, rtt_ms=300.0), on) == ["packet_loss"]
    assert crossed(LastInterval(0, recv_loss_pct=12.0, rtt_ms=301.0), on) == ["packet_loss", "round_trip_time"]
    assert crossed(LastInterval(0, send_loss_pct=50.0, rtt_ms=900.0), {"packet_loss_pct": None, "rtt_ms": None}) == []
    assert crossed(None, on) == []
