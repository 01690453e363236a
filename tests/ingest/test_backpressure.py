"""A saturated writer makes HTTP ingest answer 503 with Retry-After (before reading what would only
queue up), and ingest is accepted again once the writer has caught up."""

from __future__ import annotations

import time
from pathlib import Path

import httpx
import orjson
from websockets.sync.client import connect

from conftest import make_account
from support import serving
from video_insights.app import create_app
from video_insights.ingest.auth import mint_token
from video_insights.model.ids import new_sid
from video_insights.settings import Settings
from video_insights.store import Store


def _report(ts: int) -> dict[str, object]:
    entry = {"trackId": "a1", "ssrc": 1, "codec": "opus", "timestamp": ts, "bytesSent": 1000, "packetsSent": 10,
             "packetsLost": 0}
    return {"peerConnectionId": "pc1", "localAudioTrackStats": [entry], "localVideoTrackStats": [],
            "audioTrackStats": [], "videoTrackStats": []}


def test_http_ingest_answers_503_with_retry_after_while_the_writer_is_saturated(store: Store, tmp_path: Path
                                                                                ) -> None:
    creds = make_account(store)
    token = mint_token(creds.account_sid, creds.key_sid, creds.key_secret, "alice", ttl=3600)
    # Any sample waiting counts as saturation, and the writer holds received reports for 30 s.
    settings = Settings.from_env({}, store=f"duckdb:///{tmp_path}/unused.duckdb", writer_flush_ms=30_000,
                                 max_pending_samples=0)
    app = create_app(settings, store=store)
    now = int(time.time() * 1000)
    batch = orjson.dumps([{"type": "connect", "version": 1, "publisher": {
        "name": "twilio-video.js", "sdkVersion": "2.28.1", "roomSid": new_sid("RM"), "participantSid": new_sid("PA")}},
        {"type": "event", "version": 1, "group": "quality", "name": "stats-report", "timestamp": now,
         "payload": _report(now)}])
    with serving(app) as url, httpx.Client(base_url=url, timeout=30) as client:
        with connect(url.replace("http://", "ws://") + "/v1/VideoEvents") as ws:
            ws.send(orjson.dumps({"type": "connect", "token": token, "version": 1, "publisher": {
                "name": "twilio-video.js", "sdkVersion": "2.28.1", "roomSid": new_sid("RM"),
                "participantSid": new_sid("PA")}}).decode())
            session = orjson.loads(ws.recv(timeout=10))["session"]
            ws.send(orjson.dumps({"type": "event", "version": 1, "session": session, "group": "quality",
                                  "name": "stats-report", "timestamp": now, "payload": _report(now)}).decode())
            deadline = time.time() + 10
            while app.state.services.pipeline.pending_samples == 0 and time.time() < deadline:
                time.sleep(0.05)
            r = client.post("/v1/VideoEvents", content=batch, headers={"Authorization": f"Bearer {token}"})
            assert r.status_code == 503, r.text
            assert r.headers["Retry-After"].isdigit() and "behind" in r.json()["message"]
            r = client.post("/webhooks/twilio", data={"AccountSid": creds.account_sid})
            assert r.status_code == 503 and "Retry-After" in r.headers

        app.state.services.settle()  # caught up
        r = client.post("/v1/VideoEvents", content=batch, headers={"Authorization": f"Bearer {token}"})
        assert r.status_code == 200, r.text
