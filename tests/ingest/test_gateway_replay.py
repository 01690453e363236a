"""The recorded getStats series replayed as twilio-video.js `quality/stats-report` events over a real
WebSocket to a running server, then read back through the Metrics endpoint."""

from __future__ import annotations

import itertools
import time
from typing import Any

import pytest

from support import gateway_reports, getstats_series, publish_reports, shift_timestamps
from video_insights.ingest.getstats import snapshot_to_gateway_payload
from video_insights.model.ids import new_sid
from video_insights.query.filters import iso


def _metrics(client, room: str, participant: str, want_points: int) -> dict[str, Any]:
    deadline = time.time() + 20
    while True:
        r = client.get(f"/v1/Video/Rooms/{room}/Participants/{participant}/Metrics")
        if r.status_code == 200:
            body = r.json()
            points = sum(len(t["points"]) for t in body["send"]) + sum(len(t["points"]) for t in body["receive"])
            if points >= want_points:
                return body
        if time.time() > deadline:
            raise AssertionError(f"metrics never arrived: {r.status_code} {r.text}")
        time.sleep(0.1)


def _outbound(stats: list[dict[str, Any]], kind: str) -> list[dict[str, Any]]:
    return [s for s in stats if s["type"] == "outbound-rtp" and s.get("kind") == kind]


@pytest.mark.parametrize("name,layers", [("pw_nosim", 1), ("pw_simulcast", 3), ("pw_relay_d100_l5", 1),
                                         ("pw_relay_simulcast", 3)])
def test_replayed_series_reads_back(live_server, creds, name, layers):
    lines = getstats_series(name)
    offset = time.time() * 1000 - lines[-1]["clientTs"] - 5_000
    room = new_sid("RM")
    sender = gateway_reports(lines, "sender", offset)
    participant = publish_reports(live_server.url, creds, room, "alice", sender, sdk_version="2.28.1")
    receiver = publish_reports(live_server.url, creds, room, "bob", gateway_reports(lines, "receiver", offset),
                               sdk_version="2.28.1")
    with live_server.client(creds) as client:
        body = _metrics(client, room, participant, want_points=2 * len(sender) - 2)
        kinds = sorted(t["kind"] for t in body["send"])
        assert kinds == ["audio", "video"], "simulcast layers must merge into one video track"
        video = next(t for t in body["send"] if t["kind"] == "video")
        assert video["codec"] == "VP8"
        # Expected bitrate of each interval from the raw series: Σ layers Δbytes × 8 / Δt over the reports
        # whose timestamp falls in it (the first interval counts from zero over the nominal 10 s).
        assert len(sender[1][1]["localVideoTrackStats"]) == layers
        expected: dict[int, list[float]] = {}
        for (_, p0), (_, p1) in itertools.pairwise(sender):
            t0, t1 = (int(p["localVideoTrackStats"][0]["timestamp"]) for p in (p0, p1))
            sent = [sum(e["bytesSent"] for e in p["localVideoTrackStats"]) for p in (p0, p1)]
            acc = expected.setdefault(t1 - t1 % 10_000, [0.0, 0.0])
            acc[0] += (sent[1] - sent[0]) * 8
            acc[1] += (t1 - t0) / 1000
        got = {p["time"]: p["bitrate_bps"] for p in video["points"]}
        for bucket, (bits, seconds) in expected.items():
            assert got[iso(bucket)] == pytest.approx(bits / seconds, rel=0.02)
        assert all(p["packet_loss_pct"] is None or 0 <= p["packet_loss_pct"] <= 100 for p in video["points"])
        recv = _metrics(client, room, receiver, want_points=1)
        assert len(recv["receive"]) == 1 and recv["receive"][0]["points"][-1]["bitrate_bps"] > 100_000
        live_server.flush()
        room_body = client.get(f"/v1/Video/Rooms/{room}").json()
        assert room_body["unique_participants"] == 2 and room_body["room_status"] == "in_progress"
        pbody = client.get(f"/v1/Video/Rooms/{room}/Participants/{participant}").json()
        assert pbody["sdk"] == {"name": "twilio-video.js", "version": "2.28.1"}
        assert pbody["browser"]["name"] == "HeadlessChrome"


def test_relayed_call_shows_loss_and_rtt(live_server, creds):
    lines = getstats_series("pw_relay_d100_l5")
    offset = time.time() * 1000 - lines[-1]["clientTs"] - 5_000
    room = new_sid("RM")
    # Every sample (1 s), so the intervals carry enough RTCP reports to measure the relay's 200 ms.
    sender = [(int(ln["clientTs"] + offset), snapshot_to_gateway_payload(
        {s["id"]: s for s in shift_timestamps(ln["stats"], offset)}, "pc")) for ln in lines if ln["label"] == "sender"]
    participant = publish_reports(live_server.url, creds, room, "carol", sender, sdk_version="2.28.1")
    with live_server.client(creds) as client:
        body = _metrics(client, room, participant, want_points=2)
        time.sleep(0.5)
        body = _metrics(client, room, participant, want_points=2)
        rtts = [p["rtt_ms"] for t in body["send"] for p in t["points"] if p["rtt_ms"] is not None]
        assert rtts and all(180 <= r <= 260 for r in rtts), rtts
        losses = [p["packet_loss_pct"] for t in body["send"] if t["kind"] == "audio" for p in t["points"]
                  if p["packet_loss_pct"] is not None]
        assert losses and max(losses) > 1.0
