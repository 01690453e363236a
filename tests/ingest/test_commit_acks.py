"""Commit acknowledgements on `WS /v1/VideoEvents` (docs/collector.md, "Acknowledgements"), over a real
WebSocket to a real server: numbered messages are acknowledged, cumulatively and only once committed;
a bad number is refused and counted; messages without a number (twilio-video.js) are answered nothing.
And a resend (the same messages over a second connection, as the collector sends what was not
acknowledged) changes no answer of the API, on every engine."""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import httpx
import orjson
from websockets.sync.client import ClientConnection, connect

from conftest import LiveServer
from support import Creds, gateway_reports, getstats_series, shift_timestamps
from video_insights.ingest.auth import mint_token
from video_insights.model.ids import new_sid

REPORTS = 6


def _messages(start_ms: int) -> list[dict[str, Any]]:
    """A participant's call as the collector sends it: state events, six stats reports 10 s apart
    from `start_ms`, and room/disconnected."""
    recorded = gateway_reports(getstats_series("pw_simulcast"), "sender", 0, every=3)[:REPORTS]
    out = [_event("ice-connection-state", "connected", start_ms - 500, {"peerConnectionId": "pc-1"})]
    for i, (ts, payload) in enumerate(recorded):
        shift = start_ms + i * 10_000 - ts
        out.append(_event("quality", "stats-report", int(ts + shift), shift_timestamps(payload, shift)))
    out.append(_event("quality", "quality-limitation-state-changed", start_ms + 12_000,
                      {"peerConnectionId": "pc-1", "ssrc": "1", "qualityLimitationReason": "cpu", "previous": "none"}))
    out.append(_event("room", "disconnected", start_ms + REPORTS * 10_000, {}))
    return out


def _event(group: str, name: str, ts: int, payload: dict[str, Any]) -> dict[str, Any]:
    return {"type": "event", "version": 1, "group": group, "name": name, "timestamp": ts, "payload": payload}


@contextmanager
def _connected(server: LiveServer, creds: Creds, room: str, participant: str) -> Iterator[Connection]:
    with connect(server.url.replace("http://", "ws://") + "/v1/VideoEvents") as ws:
        yield Connection(ws, creds, room, participant)


class Connection:
    def __init__(self, ws: ClientConnection, creds: Creds, room: str, participant: str) -> None:
        token = mint_token(creds.account_sid, creds.key_sid, creds.key_secret, "acked")
        self.ws = ws
        self.ws.send(orjson.dumps({"type": "connect", "token": token, "version": 1, "publisher": {
            "name": "video-insights-collector", "roomSid": room, "participantSid": participant}}).decode())
        self.session = orjson.loads(self.ws.recv(timeout=10))["session"]

    def send(self, message: dict[str, Any], seq: Any = None) -> None:
        numbered = message if seq is None else {**message, "seq": seq}
        self.ws.send(orjson.dumps({**numbered, "session": self.session}).decode())

    def ack(self, timeout: float = 10) -> int:
        answer = orjson.loads(self.ws.recv(timeout=timeout))
        assert answer["type"] == "ack" and set(answer) == {"type", "seq"}, answer
        return int(answer["seq"])

    def acks_until(self, last: int) -> list[int]:
        got = [self.ack()]
        while got[-1] < last:
            got.append(self.ack())
        return got

    def silent(self, seconds: float) -> bool:
        try:
            self.ws.recv(timeout=seconds)
        except TimeoutError:
            return True
        return False


def _samples(server: LiveServer, participant: str) -> int:
    _, rows = server.store.fetch(f"SELECT count(DISTINCT ts_ms) FROM stream_samples WHERE participant_sid = "
                                 f"'{participant}'")
    return int(rows[0][0])


def _rejected(server: LiveServer) -> dict[str, int]:
    return dict(httpx.get(server.url + "/healthz", timeout=10).json()["gateway_rejections"])


def test_acks_are_cumulative_and_follow_the_commit(live_server: LiveServer, creds: Creds) -> None:
    room, participant = new_sid("RM"), new_sid("PA")
    reports = [m for m in _messages(int(time.time() * 1000) - 70_000) if m["name"] == "stats-report"]
    pipeline = live_server.app.state.services.pipeline  # type: ignore[attr-defined]
    with _connected(live_server, creds, room, participant) as conn:
        # twilio-video.js numbers nothing and is answered nothing, though its report is stored.
        conn.send(reports[0])
        deadline = time.time() + 10
        while _samples(live_server, participant) == 0:
            assert time.time() < deadline, "the unnumbered report was never stored"
            time.sleep(0.05)
        assert conn.silent(0.5), "a message without seq was answered"

        batches = pipeline.stats.batches
        for seq, report in enumerate(reports[1:], start=1):
            conn.send(report, seq)
        acked = conn.acks_until(len(reports) - 1)
        # What an acknowledgement covers is in the store when it arrives.
        assert _samples(live_server, participant) == len(reports)
        assert acked == sorted(set(acked)), acked
        assert len(acked) <= pipeline.stats.batches - batches, "more acknowledgements than commits"

        before = _rejected(live_server)
        for bad in ("7", -1, 1.5, 2**53, True, {"n": 1}):
            conn.send(reports[0], bad)
        conn.send(reports[0], 3)  # not above the last number of this connection
        assert conn.silent(0.5), "a bad seq was acknowledged"
        after = _rejected(live_server)
        assert after["malformed_event"] - before["malformed_event"] == 7

        # A numbered message the gateway refuses is acknowledged all the same: sending it again is useless.
        conn.send({"type": "event", "version": 1, "group": "room", "payload": {}}, 20)  # no name
        assert conn.ack() == 20
        conn.send(_event("room", "reconnecting", int(time.time() * 1000), {}), 21)
        conn.send(reports[0], 22)
        assert conn.acks_until(22)[-1] == 22
    health = httpx.get(live_server.url + "/healthz", timeout=10).json()
    assert health["gateway_rejections"]["malformed_event"] == 8


def _snapshot(server: LiveServer, creds: Creds, room: str, participant: str) -> dict[str, Any]:
    server.flush()
    base = f"/v1/Video/Rooms/{room}/Participants/{participant}"
    with server.client(creds) as client:
        got = {"participant": client.get(base).json(), "metrics": client.get(base + "/Metrics").json(),
               "room": client.get(f"/v1/Video/Rooms/{room}").json()}
    for part in ("participant", "room"):  # when the summary was computed, not what it says
        got[part].pop("date_updated", None)
    return got


def test_a_resend_changes_nothing(live_server: LiveServer, creds: Creds) -> None:
    """The collector's resend after a lost acknowledgement: every message again, over a new
    connection, with the same numbers. One sample stays one sample, one event one event."""
    room, participant = new_sid("RM"), new_sid("PA")
    messages = _messages(int(time.time() * 1000) - 80_000)
    with _connected(live_server, creds, room, participant) as first:
        for seq, m in enumerate(messages, start=1):
            first.send(m, seq)
        first.acks_until(len(messages))
    with _connected(live_server, creds, room, participant) as second:  # the collector reconnects …
        once = _snapshot(live_server, creds, room, participant)
        for seq, m in enumerate(messages, start=1):  # … and sends what it had no acknowledgement for
            second.send(m, seq)
        second.acks_until(len(messages))
        twice = _snapshot(live_server, creds, room, participant)
    assert once["participant"]["status"] == "completed"
    points = [len(t["points"]) for t in once["metrics"]["send"]]
    assert points and min(points) == REPORTS
    assert twice == once
