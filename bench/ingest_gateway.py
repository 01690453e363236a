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
import random
import sys
import tempfile
import time
from pathlib import Path

import orjson
import websockets

sys.path.insert(0, str(Path(__file__).parent))
from common import Server, cli, machine
from video_insights.ingest.auth import mint_token
from video_insights.model.ids import new_sid

ENTRIES_PER_EVENT = 4


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


def messages(session_count: int, per_session: int, start: int) -> list[list[str]]:
    """Every message each participant will send, serialised before the clock starts (so the client's
    own JSON work does not limit the rate it can offer)."""
    out = []
    for _ in range(session_count):
        mine = []
        for n in range(1, per_session + 1):
            ts = start + n * 10_000  # reports 10 s apart in event time
            mine.append(orjson.dumps({"type": "event", "version": 1, "session": "{session}", "group": "quality",
                                      "name": "stats-report", "timestamp": ts, "payload": report(n, ts)}).decode())
        out.append(mine)
    return out


async def participant(url: str, token: str, room: str, deadline: float, counter: list[int], period: float,
                      script: list[str]) -> None:
    async with websockets.connect(url, max_queue=None) as ws:
        await ws.send(json.dumps({"type": "connect", "token": token, "version": 1, "publisher": {
            "name": "bench", "sdkVersion": "1", "userAgent": "bench", "roomSid": room,
            "participantSid": new_sid("PA")}}))
        session = json.loads(await ws.recv())["session"]
        next_at = time.monotonic() + period * random.random()
        for message in script:
            if time.time() >= deadline:
                break
            await ws.send(message.replace("{session}", session, 1))
            counter[0] += 1
            next_at += period
            await asyncio.sleep(max(0.0, next_at - time.monotonic()))


async def drive(base: str, token: str, connections: int, seconds: float, rate: float) -> tuple[int, float]:
    """Messages sent, and when sending started."""
    url = base.replace("http://", "ws://") + "/v1/VideoEvents"
    counter = [0]
    rooms = [new_sid("RM") for _ in range(max(1, connections // 4))]
    period = connections / rate
    scripts = messages(connections, int(seconds / period) + 2, int(time.time() * 1000) - 3 * 3_600_000)
    started = time.time()
    deadline = started + seconds
    await asyncio.gather(*(participant(url, token, rooms[i % len(rooms)], deadline, counter, period, scripts[i])
                           for i in range(connections)))
    return counter[0], started


def samples_stored(base: str, creds: dict[str, str]) -> int:
    import httpx

    health = httpx.get(base + "/healthz", timeout=30).json()
    return int(health["pipeline"]["samples"])


def measure(store: str, connections: int, seconds: float, rate: float,
            env: dict[str, str] | None = None) -> dict[str, object]:
    """Sustained ingest into an empty store (any store URL), by one `serve` process."""
    account = cli(store, "accounts", "create")
    key = cli(store, "keys", "create", "--account", account["account_sid"])
    token = mint_token(account["account_sid"], key["sid"], key["secret"], "bench", ttl=86_400)
    server = Server(store, env)
    try:
        sent, started = asyncio.run(drive(server.url, token, connections, seconds, rate))
        sending = time.time() - started
        while samples_stored(server.url, account) < sent * ENTRIES_PER_EVENT:
            if time.time() - started > seconds * 10 + 60:
                break
            time.sleep(0.2)
        total = time.time() - started
        stored = samples_stored(server.url, account) // ENTRIES_PER_EVENT
        return {"connections": connections, "offered_per_s": rate, "events_sent": sent, "events_stored": stored,
                "send_seconds": round(sending, 1), "drain_seconds": round(total - sending, 1),
                "events_per_s_sent": round(sent / sending), "events_per_s_stored": round(stored / total),
                "server_peak_rss_mb": round(server.rss_mb())}
    finally:
        server.stop()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--seconds", type=float, default=20)
    ap.add_argument("--connections", type=int, default=1000)
    ap.add_argument("--rate", type=float, default=10_000, help="offered stats-reports per second in all")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        result = measure(f"duckdb:///{tmp}/bench.duckdb", args.connections, args.seconds, args.rate)
    print(json.dumps({**result, "machine": machine()}, indent=2))


if __name__ == "__main__":
    main()
