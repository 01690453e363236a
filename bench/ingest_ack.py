"""What answering only after the commit costs HTTP ingest: latency of gateway batches and what is stored.

Many keep-alive connections each start a session (a connect batch), then POST batches of
twilio-video.js `quality/stats-report` messages (4 SSRC entries each, as in bench/ingest_gateway.py)
on a fixed schedule, so that all of them together offer a fixed rate of reports. A request's latency
counts from when the schedule said to send it (a late answer delays the next request of its
connection, and that wait counts too) to the end of its answer. Throughput counts what reached the
store: samples stored / 4, over the time until the last one was stored.

The client writes requests built before the clock starts and reads answers by Content-Length on
plain asyncio streams: an HTTP library would cost more CPU than the server it measures.

    python bench/ingest_ack.py --seconds 30 --rate 20000 --batch 20 --connections 200
    PYTHONPATH=/path/to/older/src python bench/ingest_ack.py ...   # the same against another version
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import orjson
import uvloop

sys.path.insert(0, str(Path(__file__).parent))
from common import Server, cli, machine
from ingest_gateway import ENTRIES_PER_EVENT, FAST_FORWARD_ENV, report, samples_stored
from video_insights.ingest.auth import mint_token
from video_insights.model.ids import new_sid


def _request(port: int, token: str, body: bytes) -> bytes:
    head = (f"POST /v1/VideoEvents HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nAuthorization: Bearer {token}\r\n"
            f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n\r\n")
    return head.encode() + body


async def _answer(reader: asyncio.StreamReader) -> tuple[int, bytes]:
    head = await reader.readuntil(b"\r\n\r\n")
    status = int(head.split(b" ", 2)[1])
    length = next(int(line.split(b":", 1)[1]) for line in head.split(b"\r\n")
                  if line.lower().startswith(b"content-length:"))
    return status, await reader.readexactly(length)


async def _connection(port: int, token: str, requests: int, batch: int, interval: float, start: float,
                      latencies: list[float], statuses: dict[int, int]) -> None:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    connect = [{"type": "connect", "version": 1, "publisher": {
        "name": "bench", "sdkVersion": "1", "userAgent": "bench", "roomSid": new_sid("RM"),
        "participantSid": new_sid("PA")}}]
    writer.write(_request(port, token, orjson.dumps(connect)))
    status, body = await _answer(reader)
    assert status == 200, body
    writer.close()
    session = orjson.loads(body)["session"]
    t0 = int(time.time() * 1000) - 3 * 3_600_000
    bodies = []
    for i in range(requests):
        msgs = []
        for k in range(batch):
            n = i * batch + k + 1
            ts = t0 + n * 10_000
            msgs.append({"type": "event", "version": 1, "session": session, "group": "quality",
                         "name": "stats-report", "timestamp": ts, "payload": report(n, ts)})
        bodies.append(_request(port, token, orjson.dumps(msgs)))
    # A new connection just before the clock starts (the server closes one idle for 5 s).
    await asyncio.sleep(max(0.0, start - time.monotonic() - 1))
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    for i, request in enumerate(bodies):
        due = start + i * interval
        wait = due - time.monotonic()
        if wait > 0:
            await asyncio.sleep(wait)
        writer.write(request)
        status, _ = await _answer(reader)
        latencies.append(time.monotonic() - due)
        statuses[status] = statuses.get(status, 0) + 1
    writer.close()


async def drive(port: int, base: str, token: str, connections: int, seconds: float, rate: float, batch: int,
                ) -> dict[str, Any]:
    per_connection = rate / batch / connections  # requests a second on each connection
    requests = max(1, int(seconds * per_connection))
    interval = 1 / per_connection
    latencies: list[float] = []
    statuses: dict[int, int] = {}
    start = time.monotonic() + 5 + connections / 200  # time to open the connections and build the bodies
    # Connections start spread over one interval, so that requests do not arrive in waves.
    await asyncio.gather(*(_connection(port, token, requests, batch, interval, start + interval * i / connections,
                                       latencies, statuses) for i in range(connections)))
    sent_seconds = time.monotonic() - start
    sent = connections * requests * batch
    stored, changed = 0, time.monotonic()
    while stored < sent * ENTRIES_PER_EVENT and time.monotonic() - changed < 10:
        now = await asyncio.to_thread(samples_stored, base)
        if now != stored:
            stored, changed = now, time.monotonic()
        await asyncio.sleep(0.1)
    q = statistics.quantiles(latencies, n=100)
    return {"reports_sent": sent, "requests": len(latencies), "statuses": statuses,
            "send_seconds": round(sent_seconds, 1),
            "reports_per_s_stored": round(stored // ENTRIES_PER_EVENT / (changed - start)),
            "latency_ms": {"p50": round(q[49] * 1000, 1), "p90": round(q[89] * 1000, 1),
                           "p99": round(q[98] * 1000, 1), "max": round(max(latencies) * 1000, 1)}}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--seconds", type=float, default=30)
    ap.add_argument("--rate", type=float, default=20_000, help="offered stats-reports per second in all")
    ap.add_argument("--batch", type=int, default=20, help="stats reports per request")
    ap.add_argument("--connections", type=int, default=200)
    ap.add_argument("--store", help="a store URL (default: a new DuckDB file)")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        store = args.store or f"duckdb:///{tmp}/bench.duckdb"
        account = cli(store, "accounts", "create")
        key = cli(store, "keys", "create", "--account", account["account_sid"])
        token = mint_token(account["account_sid"], key["sid"], key["secret"], "bench", ttl=86_400)
        server = Server(store, FAST_FORWARD_ENV)
        try:
            cpu = server.cpu_seconds()
            result = uvloop.run(drive(server.port, server.url, token, args.connections, args.seconds, args.rate,
                                      args.batch))
            result["server_cpu_us_per_report"] = round((server.cpu_seconds() - cpu) / result["reports_sent"] * 1e6, 1)
            result["server_peak_rss_mb"] = round(server.rss_mb())
        finally:
            server.stop()
    print(json.dumps({**vars(args), **result, "machine": machine()}, indent=2))


if __name__ == "__main__":
    main()
