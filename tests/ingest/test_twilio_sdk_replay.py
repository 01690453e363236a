"""The frames twilio-video.js 2.36.0 really sent (recorded by tests/e2e/test_twilio_video_sdk.py),
replayed over a real WebSocket to a running server on each engine: nothing is rejected, the reports
read back as the SDK measured them, every event group is stored and the summaries use them.

`clean` and `loss10` are a 3-layer simulcast loopback call through the relay (0 % and 10 % loss, the
latter with 40 ms each way); `events` is every event group the SDK publishes, through its own API."""

from __future__ import annotations

import itertools
import time
from pathlib import Path
from typing import Any

import orjson
import pytest
from websockets.sync.client import connect

from support import SDK_VERSION, sdk_frames
from video_insights.ingest.auth import mint_token
from video_insights.model.ids import new_sid
from video_insights.processing.useragent import client_info
from video_insights.query.filters import iso
from video_insights.query.sql import q
from video_insights.settings import Settings


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    """The replay sends a call's 30 s of frames at once, stamped up to 35 s ago. Read in one burst, the
    newest bounds the client clock's offset within its tolerance; split into two bursts by a loaded
    machine, the first would read as a clock 20 s behind and be corrected by that, the second not
    (docs/api.md, "Client clocks", tested in test_client_clocks.py): these tests are about the reports."""
    return Settings.from_env({}, store=f"duckdb:///{tmp_path / 'vi.duckdb'}", writer_flush_ms=20,
                             client_clock_correction=False)


def _replay(server: Any, creds: Any, frames: list[dict[str, Any]]) -> tuple[str, str]:
    room, participant = new_sid("RM"), new_sid("PA")
    connect_frame, *events = frames
    connect_frame["token"] = mint_token(creds.account_sid, creds.key_sid, creds.key_secret, "replay")
    connect_frame["publisher"] |= {"roomSid": room, "participantSid": participant}
    with connect(server.url.replace("http://", "ws://") + "/v1/VideoEvents") as ws:
        ws.send(orjson.dumps(connect_frame).decode())
        answer = orjson.loads(ws.recv(timeout=10))
        assert answer["type"] == "connected", answer
        for frame in events:
            ws.send(orjson.dumps({**frame, "session": answer["session"]}).decode())
    return room, participant


def _rejections(server: Any) -> dict[str, int]:
    with server.client() as c:
        return dict(c.get("/healthz").json()["gateway_rejections"])


def _completed(client: Any, room: str, participant: str) -> dict[str, Any]:
    deadline = time.time() + 30
    while True:
        r = client.get(f"/v1/Video/Rooms/{room}/Participants/{participant}")
        if r.status_code == 200 and r.json()["status"] == "completed":
            return dict(r.json())
        assert time.time() < deadline, r.text
        time.sleep(0.1)


@pytest.mark.parametrize("name", ["clean", "loss10"])
def test_a_real_call_reads_back(live_server: Any, creds: Any, name: str) -> None:
    frames = sdk_frames(name)
    reports = [f for f in frames if f.get("name") == "stats-report"]
    # What broke ingest: entries for the sender's receivers, without SSRC or time, counters null.
    assert any("ssrc" not in e and e["timestamp"] == 0 and e["bytesReceived"] is None
               for r in reports for e in r["payload"]["audioTrackStats"])
    before = _rejections(live_server)
    room, participant = _replay(live_server, creds, frames)
    live_server.flush()
    assert _rejections(live_server) == before
    with live_server.client(creds) as client:
        p = _completed(client, room, participant)
        assert p["sdk"] == {"name": "twilio-video.js", "version": SDK_VERSION}
        ua = frames[0]["publisher"]["userAgent"]
        info = client_info(ua)
        assert (p["browser"]["name"], p["browser"]["version"]) == (info.browser_name, info.browser_version)
        assert p["browser"]["name"] == "HeadlessChrome" and p["user_agent"] == ua
        assert p["properties"]["network"]["relayed"] is False
        assert p["tracks_published"] == {"audio": 1, "video": 1, "data": 0}
        m = client.get(f"/v1/Video/Rooms/{room}/Participants/{participant}/Metrics").json()
    assert sorted(t["kind"] for t in m["send"]) == ["audio", "video"] and m["receive"] == []
    tracks = {t["kind"]: t for t in m["send"]}
    assert len(reports[-1]["payload"]["localVideoTrackStats"]) == 3

    # Each interval as the frames say: video bits summed over the layers; audio loss from its counters.
    for (_, a), (_, b) in itertools.pairwise((r["timestamp"], r["payload"]) for r in reports):
        (a_audio,), (b_audio,) = a["localAudioTrackStats"], b["localAudioTrackStats"]
        t0, t1 = a_audio["timestamp"], b_audio["timestamp"]
        bucket = iso(t1 - t1 % 10_000)
        bits = 8 * sum(y["bytesSent"] - x["bytesSent"] for x, y in zip(a["localVideoTrackStats"],
                                                                         b["localVideoTrackStats"], strict=True))
        video = next(p for p in tracks["video"]["points"] if p["time"] == bucket)
        assert video["bitrate_bps"] == pytest.approx(bits * 1000 / (t1 - t0), rel=0.01)
        lost = b_audio["packetsLost"] - a_audio["packetsLost"]
        sent = b_audio["packetsSent"] - a_audio["packetsSent"]
        audio = next(p for p in tracks["audio"]["points"] if p["time"] == bucket)
        assert audio["packet_loss_pct"] == pytest.approx(100 * lost / (lost + sent), abs=0.01)
        assert audio["rtt_ms"] == pytest.approx(b_audio["roundTripTime"], abs=0.5)
    issues = {i["issue_type"] for i in p["detected_issues"]["details"]}
    assert ("packet_loss" in issues) == (name == "loss10")


def test_every_event_group_is_stored_and_summarised(live_server: Any, creds: Any) -> None:
    frames = sdk_frames("events")
    before = _rejections(live_server)
    room, participant = _replay(live_server, creds, frames)
    live_server.flush()
    assert _rejections(live_server) == before
    _, rows = live_server.store.fetch(q("SELECT name, count(*) FROM events WHERE participant_sid = :p GROUP BY name",
                                        p=participant))
    stored = dict(rows)
    sent: dict[str, int] = {}
    for f in frames[1:]:
        sent[f"{f['group']}/{f['name']}"] = sent.get(f"{f['group']}/{f['name']}", 0) + 1
    assert {name: stored.get(name) for name in sent} == sent
    assert {n.split("/")[0] for n in sent} >= {
        "application", "get-user-media", "network", "pc-connection-state", "pc-signaling-state",
        "ice-gathering-state", "ice-connection-state", "dtls-transport-state", "ice-candidate", "quality", "room",
        "system", "track-warning-raised", "track-warning-cleared"}
    with live_server.client(creds) as client:
        p = _completed(client, room, participant)
    found = {i["issue_type"]: i["properties"] for i in p["detected_issues"]["details"]}
    assert set(found) == {"ice_failure", "repeated_reconnects", "get_user_media_failure", "cpu_pressure",
                          "video_stalled"}
    assert found["repeated_reconnects"]["value"] == 3
    assert found["get_user_media_failure"]["value"] == 2  # denied, and failed
    stall = [f for f in frames[1:] if f["group"].startswith("track-warning")]
    assert found["video_stalled"]["track_sids"] == [stall[0]["payload"]["trackSid"]]
    assert found["video_stalled"]["value"] == pytest.approx((stall[1]["timestamp"] - stall[0]["timestamp"]) / 1000,
                                                            abs=0.01)
    assert found["cpu_pressure"]["value"] >= 5
    assert p["properties"]["network"] == {"relayed": True, "local_candidate_type": "relay",
                                          "remote_candidate_type": "host", "protocol": "udp",
                                          "relay_protocol": "udp", "network_type": "wifi"}
    assert p["end_reason"] == "media_connection_error"


def test_the_same_frames_as_an_http_batch_are_accepted(live_server: Any, creds: Any) -> None:
    """All or nothing holds for malformed input only: the SDK's entries without media do not make the
    batch malformed."""
    connect_frame, *events = sdk_frames("clean")
    room, participant = new_sid("RM"), new_sid("PA")
    token = mint_token(creds.account_sid, creds.key_sid, creds.key_secret, "batch")
    connect_frame |= {"token": token, "publisher": {**connect_frame["publisher"], "roomSid": room,
                                                    "participantSid": participant}}
    body = [connect_frame, *({k: v for k, v in e.items() if k != "session"} for e in events)]
    with live_server.client() as c:
        r = c.post("/v1/VideoEvents", content=orjson.dumps(body), headers={"Authorization": f"Bearer {token}"})
    assert r.status_code == 200, r.text
    assert r.json()["accepted"] == len(body)
    live_server.flush()
    with live_server.client(creds) as client:
        m = client.get(f"/v1/Video/Rooms/{room}/Participants/{participant}/Metrics").json()
    assert sorted(t["kind"] for t in m["send"]) == ["audio", "video"]
