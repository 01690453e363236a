"""The server's WebSocket pings have no deadline for their pong (web/uvicorn_config.py,
docs/durability.md "Backpressure and keepalive"): while ingest pushes back, a client's pong waits
behind frames the server has not read, and closing the connection for it would throw those frames
away. A raw client that never answers a ping keeps its connection, and what it sends is stored."""

from __future__ import annotations

import base64
import contextlib
import os
import socket
import time
from pathlib import Path

import orjson

from conftest import make_account
from support import serving
from video_insights.app import create_app
from video_insights.ingest.auth import mint_token
from video_insights.model.ids import new_sid
from video_insights.settings import Settings
from video_insights.store.duckdb_store import DuckDBStore
from video_insights.web.uvicorn_config import uvicorn_config

PING, CLOSE, TEXT = 0x9, 0x8, 0x1


def masked_text(payload: bytes) -> bytes:
    """A client text frame (RFC 6455, 5.2): clients mask what they send."""
    n, key = len(payload), os.urandom(4)
    head = bytes([0x81, 0x80 | n]) if n < 126 else bytes([0x81, 0x80 | 126]) + n.to_bytes(2, "big")
    return head + key + bytes(b ^ key[i % 4] for i, b in enumerate(payload))


class RawClient:
    """A WebSocket client by hand, so that nothing answers the server's pings for it."""

    def __init__(self, url: str) -> None:
        host, port = url.removeprefix("http://").split(":")
        self.sock = socket.create_connection((host, int(port)), timeout=10)
        key = base64.b64encode(os.urandom(16)).decode()
        self.sock.sendall(f"GET /v1/VideoEvents HTTP/1.1\r\nHost: {host}\r\nUpgrade: websocket\r\n"
                          f"Connection: Upgrade\r\nSec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n\r\n"
                          .encode())
        self.buffer = b""
        while b"\r\n\r\n" not in self.buffer:
            self.buffer += self._recv()
        head, self.buffer = self.buffer.split(b"\r\n\r\n", 1)
        assert head.startswith(b"HTTP/1.1 101"), head

    def _recv(self) -> bytes:
        data = self.sock.recv(65536)
        assert data, "the server closed the connection"
        return data

    def frames(self, until_text: bool) -> list[tuple[int, bytes]]:
        """The frames the server sent: until a text frame, or for the next half second."""
        out: list[tuple[int, bytes]] = []
        deadline = time.monotonic() + (10 if until_text else 0.5)
        while time.monotonic() < deadline:
            while (frame := self._frame()) is not None:
                out.append(frame)
            if until_text and any(op == TEXT for op, _ in out):
                return out
            self.sock.settimeout(max(0.01, deadline - time.monotonic()))
            with contextlib.suppress(TimeoutError):
                self.buffer += self._recv()
        assert not until_text, "no answer from the server"
        return out

    def _frame(self) -> tuple[int, bytes] | None:
        """The next whole (unmasked, server) frame in the buffer, taken out of it."""
        if len(self.buffer) < 2:
            return None
        n, start = self.buffer[1] & 0x7F, 2
        if n == 126:
            if len(self.buffer) < 4:
                return None
            n, start = int.from_bytes(self.buffer[2:4], "big"), 4
        assert n < 127 or start == 4, "the server's frames here are under 64 KB"
        if len(self.buffer) < start + n:
            return None
        frame = (self.buffer[0] & 0x0F, self.buffer[start:start + n])
        self.buffer = self.buffer[start + n:]
        return frame

    def send(self, message: dict[str, object]) -> None:
        self.sock.sendall(masked_text(orjson.dumps(message)))


def test_the_server_pings_without_a_deadline_for_the_pong() -> None:
    config = uvicorn_config(None, Settings(), host="127.0.0.1", port=0, log_level="warning")  # type: ignore[arg-type]
    assert config.ws_ping_interval == 20.0 and config.ws_ping_timeout is None


def test_a_client_that_answers_no_ping_keeps_its_connection_and_everything_it_sends(tmp_path: Path) -> None:
    store = DuckDBStore(tmp_path / "vi.duckdb")
    store.migrate()
    creds = make_account(store)
    settings = Settings.from_env({}, store=f"duckdb:///{tmp_path / 'vi.duckdb'}", ws_ping_interval_s=0.1,
                                 writer_flush_ms=20)
    app = create_app(settings, store=store)
    with serving(app) as url:
        client = RawClient(url)
        participant = new_sid("PA")
        client.send({"type": "connect", "version": 1, "token": mint_token(creds.account_sid, creds.key_sid,
                                                                           creds.key_secret, "silent"),
                     "publisher": {"name": "raw", "sdkVersion": "1", "participantSid": participant,
                                   "roomSid": new_sid("RM")}})
        answer = next(orjson.loads(data) for op, data in client.frames(until_text=True) if op == TEXT)
        assert answer["type"] == "connected", answer
        time.sleep(1.5)  # fifteen ping intervals, none answered
        now = int(time.time() * 1000)
        for i in range(5):
            client.send({"type": "event", "version": 1, "session": answer["session"], "group": "network",
                         "name": "network-type-changed", "timestamp": now + i, "payload": {"i": i}})
        sent = client.frames(until_text=False)
        assert sum(op == PING for op, _ in sent) >= 10, "the server went on pinging"
        assert not any(op == CLOSE for op, _ in sent), "the server closed the connection"
        app.state.services.settle()
        _, rows = store.fetch(f"SELECT count(*) FROM events WHERE participant_sid = '{participant}' "
                              "AND name = 'network/network-type-changed'")
        assert rows == [(5,)]
        client.sock.close()
    store.close()
