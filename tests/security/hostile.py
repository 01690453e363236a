"""What the security tests share: the server they talk to, and hostile telemetry sent the way an attacker
holding an access token would send it (the gateway's own wire format)."""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import httpx
import orjson
import pytest
from websockets.sync.client import connect as ws_connect

from conftest import make_account
from support import Creds, serving
from video_insights.app import create_app
from video_insights.ingest.auth import mint_token
from video_insights.settings import Settings
from video_insights.store.duckdb_store import DuckDBStore


@dataclass
class Server:
    url: str
    app: Any
    store: DuckDBStore
    creds: Creds

    @property
    def ws_url(self) -> str:
        return self.url.replace("http://", "ws://") + "/v1/VideoEvents"

    def client(self, creds: Creds | None = None, **kw: Any) -> httpx.Client:
        return httpx.Client(base_url=self.url, auth=creds.basic if creds else None, timeout=60, **kw)

    def settle(self) -> None:
        self.app.state.services.settle()


@contextmanager
def module_server(tmp_path_factory: pytest.TempPathFactory, name: str) -> Iterator[Server]:
    """A server on its own DuckDB store, with one account, that summarises at once: for a module's tests."""
    path = tmp_path_factory.mktemp(name) / "vi.duckdb"
    store = DuckDBStore(path)
    store.migrate()
    settings = Settings.from_env({}, store=f"duckdb:///{path}", writer_flush_ms=20, summary_delay_s=0.0)
    creds = make_account(store)
    app = create_app(settings, store=store)
    try:
        with serving(app) as url:
            yield Server(url, app, store, creds)
    finally:
        store.close()


@dataclass
class Session:
    room_sid: str
    participant_sid: str


def connect_message(token: str, **publisher: Any) -> dict[str, Any]:
    return {"type": "connect", "token": token, "version": 1, "publisher": publisher}


def stats_event(ts_ms: int, payload: dict[str, Any]) -> dict[str, Any]:
    return {"type": "event", "group": "quality", "name": "stats-report", "timestamp": ts_ms, "payload": payload}


def send_call(server: Server, publisher: dict[str, Any], *, reports: list[dict[str, Any]] | None = None,
              events: list[dict[str, Any]] | None = None, room: str | None = None) -> Session:
    """One participant over the WebSocket gateway: connect, its stats reports, its other events."""
    creds = server.creds
    token = mint_token(creds.account_sid, creds.key_sid, creds.key_secret, publisher.get("identity", "mallory"),
                       room=room)
    with ws_connect(server.ws_url) as ws:
        ws.send(orjson.dumps(connect_message(token, **publisher)).decode())
        answer = orjson.loads(ws.recv(timeout=30))
        assert answer["type"] == "connected", answer
        for message in [*(reports or []), *(events or [])]:
            ws.send(orjson.dumps(message).decode())
        # The server answers nothing to events; a last round trip is not part of the protocol, so wait
        # for the writer instead.
    server.settle()
    return Session(answer["roomSid"], answer["participantSid"])


def video_reports(start_ms: int, count: int, *, pc_id: str, reason: str, track_id: str) -> list[dict[str, Any]]:
    """`count` stats reports ten seconds apart: one sent video track (limited by `reason`) and one
    received video stream, their counters growing."""
    out = []
    for i in range(count):
        ts = start_ms + i * 10_000
        out.append(stats_event(ts, {
            "peerConnectionId": pc_id,
            "localVideoTrackStats": [{
                "trackId": track_id, "ssrc": 1111, "timestamp": ts, "codec": "VP8", "bytesSent": 150_000 * (i + 1),
                "packetsSent": 150 * (i + 1), "packetsLost": i, "roundTripTime": 40 + i, "frameRate": 24,
                "dimensions": {"width": 640, "height": 360}, "qualityLimitationReason": reason}],
            "videoTrackStats": [{
                "trackId": track_id + "-in", "ssrc": 2222, "timestamp": ts, "codec": "VP8",
                "bytesReceived": 120_000 * (i + 1), "packetsReceived": 120 * (i + 1), "packetsLost": 0,
                "jitter": 5, "frameRate": 24}],
        }))
    return out


def now_ms() -> int:
    return int(time.time() * 1000)
