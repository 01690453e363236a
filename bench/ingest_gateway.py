"""Sustained ingest through the WebSocket gateway into the store, by one server process.

Many simulated participants (one WebSocket each) send twilio-video.js `quality/stats-report`
events (one audio and one 3-layer simulcast video track: 4 SSRC entries per report) at a fixed
offered rate, in fast-forward (each report advances the call by 10 s, as a real client's would), for a
fixed time. Throughput counts only what reached the store: samples committed
(read back through the store after the run) / 4 per event, over the sending time plus the time the
writer needed to drain. Also reports the server's peak RSS.

    python bench/ingest_gateway.py --seconds 30 --connections 200
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys
import tempfile
import time
from pathlib import Path
from typing import Any, NamedTuple

import httpx
import orjson
import uvloop
import websockets

sys.path.insert(0, str(Path(__file__).parent))
from common import Server, cli, machine
from video_insights.ingest.auth import mint_token
from video_insights.model.ids import new_sid

ENTRIES_PER_EVENT = 4
# Each connection sends its reports 10 s apart in event time, many a second: a client clock racing
# ahead, which the gateway would correct (docs/api.md, "Client clocks"). The benchmarks take the
# times as sent.
FAST_FORWARD_ENV = {"VIDEO_INSIGHTS_CLIENT_CLOCK_CORRECTION": "false"}


def report(n: int, ts: int) -> dict[str, object]:
    def out(ssrc: int, kbps: int, rid: str | None) -> dict[str, object]:
        sent = n * kbps * 1250
        return {"trackId": "v1" if rid else "a1", "trackSid": None, "timestamp": ts, "ssrc": ssrc,
                "codec": "VP8" if rid else "opus", "packetsLost": n, "bytesSent": sent, "packetsSent": sent // 1000,
                "roundTripTime": 42.0, "jitter": 3.0, "totalRoundTripTime": 0.042 * n,
                "roundTripTimeMeasurements": n, **({"rid": rid, "frameRate": 30} if rid else {"audioLevel": 100})}

    return {"peerConnectionId": "pc1", "localAudioTrackStats": [out(1, 40, None)],
            "localVideoTrackStats": [out(2, 150, "q"), out(3, 500, "h"), out(4, 1500, "f")],
            "audioTrackStats": [], "videoTrackStats": []}


def messages(session_count: int, per_session: int, start: int, acks: bool = False) -> list[list[str]]:
    """Every message each participant will send, serialised before the clock starts (so the client's
    own JSON work does not limit the rate it can offer). With `acks`, numbered as our collector numbers
    them, so that the server acknowledges each commit."""
    out = []
    for _ in range(session_count):
        mine = []
        for n in range(1, per_session + 1):
            ts = start + n * 10_000  # reports 10 s apart in event time
            message = {"type": "event", "version": 1, "session": "{session}", "group": "quality",
                       "name": "stats-report", "timestamp": ts, "payload": report(n, ts)}
            mine.append(orjson.dumps({**message, "seq": n} if acks else message).decode())
        out.append(mine)
    return out


def client_frame(text: bytes) -> bytes:
    """A masked client text frame (RFC 6455 section 5.2), built before the clock starts."""
    n = len(text)
    if n < 126:
        head = bytes([0x81, 0x80 | n])
    elif n < 65_536:
        head = bytes([0x81, 0x80 | 126]) + n.to_bytes(2, "big")
    else:
        head = bytes([0x81, 0x80 | 127]) + n.to_bytes(8, "big")
    key = os.urandom(4)
    mask = (key * (n // 4 + 1))[:n]
    return head + key + (int.from_bytes(text, "big") ^ int.from_bytes(mask, "big")).to_bytes(n, "big")


async def connect(url: str, token: str, room: str, handshakes: asyncio.Semaphore) -> tuple[Any, str]:
    async with handshakes:
        # No client keepalive: a ping waits behind the frames queued before it, and an overloaded
        # server would look dead to it.
        ws = await websockets.connect(url, max_queue=None, compression=None, ping_interval=None)
        await ws.send(json.dumps({"type": "connect", "token": token, "version": 1, "publisher": {
            "name": "bench", "sdkVersion": "1", "userAgent": "bench", "roomSid": room,
            "participantSid": new_sid("PA")}}))
        return ws, json.loads(await ws.recv())["session"]


class Run(NamedTuple):
    sent: int
    send_seconds: float  # until the last frame left the client
    total_seconds: float  # until the server had stored every sample sent
    client_cpu_seconds: float  # the client's CPU while sending
    closed: int  # connections that the server closed while the client sent
    lost: int  # messages the client wrote to a connection already closed


async def drive(base: str, token: str, connections: int, seconds: float, rate: float, timeout: float,
                acks: bool = False) -> Run:
    """Open the connections, send at the offered rate, and wait until the server has stored it all.

    The client must cost far less than the server, or it measures itself (the first generator, one
    `websockets.send` per message, topped out near 15,000 messages/s on a core): the connections are
    opened and the sessions started through `websockets`, then every message is a frame built before
    the clock starts and written straight to the connection's transport, in round-robin at the
    offered rate, from one loop that wakes every 2 ms. The connections close only once everything is
    stored: a client that closes while its frames still wait in the kernel's buffers loses them when
    the close handshake times out, which would count against the server."""
    url = base.replace("http://", "ws://") + "/v1/VideoEvents"
    rooms = [new_sid("RM") for _ in range(max(1, connections // 4))]
    handshakes = asyncio.Semaphore(50)
    opened = await asyncio.gather(*(connect(url, token, rooms[i % len(rooms)], handshakes)
                                    for i in range(connections)))
    per_session = int(seconds * rate / connections) + 1
    scripts = messages(connections, per_session, int(time.time() * 1000) - 3 * 3_600_000, acks)
    frames = [[client_frame(m.replace("{session}", session, 1).encode()) for m in script]
              for (_, session), script in zip(opened, scripts, strict=True)]
    del scripts
    transports = [ws.transport for ws, _ in opened]
    sent = lost = 0
    total = min(int(seconds * rate), connections * per_session)
    cpu = time.process_time()
    clock = time.monotonic()
    while sent < total:
        due = min(total, int(rate * (time.monotonic() - clock)))
        while sent < due:
            transport = transports[sent % connections]
            if transport.is_closing():  # asyncio drops writes to a closed transport without a word
                lost += 1
            else:
                try:
                    transport.write(frames[sent % connections][sent // connections])
                except RuntimeError:  # uvloop raises instead, when the server closed it just now
                    lost += 1
            sent += 1
        await asyncio.sleep(0.002)
    while any(t.get_write_buffer_size() for t in transports):
        await asyncio.sleep(0.01)
    send_seconds = time.monotonic() - clock
    client_cpu = time.process_time() - cpu
    closed = sum(t.is_closing() for t in transports)
    stored, changed = 0, time.monotonic()
    while stored < (sent - lost) * ENTRIES_PER_EVENT:
        now = await asyncio.to_thread(samples_stored, base)
        if now != stored:
            stored, changed = now, time.monotonic()
        elif time.monotonic() - changed > 10 or time.monotonic() - clock > timeout:
            break  # nothing more is coming: what a closed connection had in flight is lost
        await asyncio.sleep(0.1)
    total_seconds = changed - clock
    await asyncio.gather(*(ws.close() for ws, _ in opened))
    return Run(sent, send_seconds, total_seconds, client_cpu, closed, lost)


def samples_stored(base: str) -> int:
    health = httpx.get(base + "/healthz", timeout=30).json()
    return int(health["pipeline"]["samples"])


def measure(store: str, connections: int, seconds: float, rate: float,
            env: dict[str, str] | None = None, acks: bool = False) -> dict[str, object]:
    """Sustained ingest into an empty store (any store URL), by one `serve` process."""
    account = cli(store, "accounts", "create")
    key = cli(store, "keys", "create", "--account", account["account_sid"])
    token = mint_token(account["account_sid"], key["sid"], key["secret"], "bench", ttl=86_400)
    server = Server(store, {**FAST_FORWARD_ENV, **(env or {})})
    try:
        cpu_before = server.cpu_seconds()
        run = uvloop.run(drive(server.url, token, connections, seconds, rate, timeout=seconds * 10 + 60, acks=acks))
        stored = samples_stored(server.url) // ENTRIES_PER_EVENT
        server_cpu = server.cpu_seconds() - cpu_before
        return {"connections": connections, "acks": acks, "connections_closed": run.closed, "offered_per_s": rate,
                "events_sent": run.sent, "events_sent_after_close": run.lost,
                "events_stored": stored, "send_seconds": round(run.send_seconds, 1),
                "drain_seconds": round(run.total_seconds - run.send_seconds, 1),
                "events_per_s_sent": round(run.sent / run.send_seconds),
                "events_per_s_stored": round(stored / run.total_seconds),
                "server_peak_rss_mb": round(server.rss_mb()),
                "server_cpu_us_per_event": round(server_cpu / max(stored, 1) * 1e6, 1),
                "client_cpu_us_per_event": round(run.client_cpu_seconds / max(run.sent, 1) * 1e6, 1)}
    finally:
        server.stop()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--seconds", type=float, default=20)
    ap.add_argument("--connections", type=int, default=1000)
    ap.add_argument("--rate", type=float, default=10_000, help="offered stats-reports per second in all")
    ap.add_argument("--acks", action="store_true", help="number the messages (seq), as our collector does: "
                                                        "the server acknowledges each commit")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        result = measure(f"duckdb:///{tmp}/bench.duckdb", args.connections, args.seconds, args.rate, acks=args.acks)
    print(json.dumps({**result, "machine": machine()}, indent=2))


if __name__ == "__main__":
    main()
