"""Alert latency under load: from the stats report that crosses a threshold to the alert's arrival at
a receiver, while the server takes a sustained rate of reports.

One `serve` process (DuckDB, default settings, client times taken as sent as in ingest_gateway) and
one account with a participant_issue rule (packet_loss, 5 %) posting to a receiver on 127.0.0.1 in
this process. The load is bench/ingest_gateway's (1,000 twilio-video.js clients of that account at the
offered rate, their loss under the threshold, so every sample of theirs is screened and none is
past it). Meanwhile, once a second, a probe participant in a room of its own sends a report with no
loss, then one with 20 % loss: the latency is from that report's send to the alert's arrival; the
output splits it at the report's commit (acknowledged to the probe) and at the alert's decision.

    python bench/alert_latency.py --seconds 60 --rate 20000
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import sys
import tempfile
import threading
import time
from datetime import datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx
import orjson
import uvloop
import websockets

sys.path.insert(0, str(Path(__file__).parent))
from common import Server, cli, free_port, machine
from ingest_gateway import ENTRIES_PER_EVENT, FAST_FORWARD_ENV, drive, samples_stored
from video_insights.ingest.auth import mint_token
from video_insights.model.ids import new_sid

arrived: dict[str, float] = {}  # participant sid -> when its alert arrived
decided: dict[str, float] = {}  # participant sid -> when its alert was decided (the body's fired_at)


class Receiver(BaseHTTPRequestHandler):
    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers.get("content-length", "0")))
        alert = orjson.loads(body)
        arrived.setdefault(alert["participant_sid"], time.time())
        decided.setdefault(alert["participant_sid"],
                           datetime.fromisoformat(alert["fired_at"].replace("Z", "+00:00")).timestamp())
        self.send_response(204)
        self.end_headers()

    def log_message(self, *args: Any) -> None:
        pass


def probe_report(n: int, ts: int, loss_share: float) -> dict[str, Any]:
    sent = n * 50
    entry = {"trackId": "a1", "trackSid": None, "timestamp": ts, "ssrc": 1, "codec": "opus",
             "packetsLost": int(sent * loss_share / (1 - loss_share)), "bytesSent": sent * 100,
             "packetsSent": sent, "roundTripTime": 0.04, "jitter": 0.003, "totalRoundTripTime": 0.04 * n,
             "roundTripTimeMeasurements": n, "audioLevel": 100}
    return {"peerConnectionId": "pc1", "localAudioTrackStats": [entry], "localVideoTrackStats": [],
            "audioTrackStats": [], "videoTrackStats": []}


async def open_probe(url: str, token: str) -> tuple[Any, str, str]:
    """A participant in a room of its own, connected before the load starts (a handshake under full
    load can take longer than a client waits): (connection, session, participant sid)."""
    pid = new_sid("PA")
    ws = await websockets.connect(url, ping_interval=None, open_timeout=60)
    await ws.send(json.dumps({"type": "connect", "token": token, "version": 1, "publisher": {
        "name": "bench-probe", "sdkVersion": "1", "userAgent": "bench", "roomSid": new_sid("RM"),
        "participantSid": pid}}))
    return ws, json.loads(await ws.recv())["session"], pid


async def cross(ws: Any, session: str) -> tuple[float, float | None]:
    """A report with no loss, then one with 20 %, numbered as our collector numbers its messages so
    that the server acknowledges each once committed: (when the second was sent, when its
    acknowledgement arrived, if it did within a minute)."""
    now = int(time.time() * 1000)
    sent = 0.0
    for n, (ts, loss) in enumerate(((now - 10_000, 0.0), (now, 0.2)), start=1):
        await ws.send(orjson.dumps({"type": "event", "version": 1, "session": session, "group": "quality",
                                    "name": "stats-report", "timestamp": ts, "seq": n,
                                    "payload": probe_report(n * 10, ts, loss)}).decode())
        sent = time.time()
        if n == 1:
            await asyncio.sleep(0.5)
    deadline = time.monotonic() + 60
    while (left := deadline - time.monotonic()) > 0:
        try:
            answer = orjson.loads(await asyncio.wait_for(ws.recv(), left))
        except TimeoutError:
            break
        if answer.get("type") == "ack" and answer.get("seq", 0) >= 2:
            return sent, time.time()
    return sent, None


async def run(server: Server, token: str, connections: int, seconds: float, rate: float, warmup: float
              ) -> tuple[list[tuple[str, float, float | None]], Any]:
    url = server.url.replace("http://", "ws://") + "/v1/VideoEvents"
    opened = [await open_probe(url, token) for _ in range(int(seconds))]
    load = asyncio.create_task(drive(server.url, token, connections, seconds, rate, timeout=seconds * 10 + 60))
    await asyncio.sleep(warmup + 10)  # the load's connections opened, its frames built, and it running
    probes = []
    deadline = time.monotonic() + seconds - warmup - 5
    for ws, session, pid in opened:
        if time.monotonic() > deadline or load.done():
            break
        probes.append((pid, asyncio.create_task(cross(ws, session))))
        await asyncio.sleep(1)
    done = [(pid, *(await task)) for pid, task in probes]
    result = await load
    await asyncio.gather(*(ws.close() for ws, _, _ in opened))
    return done, result


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--seconds", type=float, default=60)
    ap.add_argument("--connections", type=int, default=1000)
    ap.add_argument("--rate", type=float, default=20_000, help="offered stats-reports per second in all")
    ap.add_argument("--warmup", type=float, default=5, help="seconds of load before the first probe")
    args = ap.parse_args()
    receiver = ThreadingHTTPServer(("127.0.0.1", free_port()), Receiver)
    threading.Thread(target=receiver.serve_forever, daemon=True).start()
    with tempfile.TemporaryDirectory() as tmp:
        store = f"duckdb:///{tmp}/bench.duckdb"
        account = cli(store, "accounts", "create")
        key = cli(store, "keys", "create", "--account", account["account_sid"])
        token = mint_token(account["account_sid"], key["sid"], key["secret"], "bench", ttl=86_400)
        # The load's clients fast-forward their clocks (as in ingest_gateway): their times are taken as sent.
        server = Server(store, {**FAST_FORWARD_ENV, "VIDEO_INSIGHTS_ALERTS_ALLOW_PRIVATE_URLS": "true"})
        try:
            r = httpx.post(server.url + "/v1/Video/AlertRules", auth=(account["account_sid"], account["auth_token"]),
                           json={"trigger": {"type": "participant_issue", "issue_type": "packet_loss"},
                                 "url": f"http://127.0.0.1:{receiver.server_address[1]}/hook"})
            r.raise_for_status()
            probes, load = uvloop.run(run(server, token, args.connections, args.seconds, args.rate, args.warmup))
            deadline = time.time() + 60
            while time.time() < deadline and not all(pid in arrived for pid, _, _ in probes):
                time.sleep(0.2)
            stored = samples_stored(server.url) // ENTRIES_PER_EVENT
            rss = server.rss_mb()
            counters = {line.split()[0]: float(line.split()[1]) for line in
                        httpx.get(server.url + "/metrics", timeout=30).text.splitlines()
                        if line.startswith("video_insights_alert")}
        finally:
            server.stop()
            receiver.shutdown()
    latencies = sorted(arrived[pid] - sent for pid, sent, _ in probes if pid in arrived)
    q = statistics.quantiles(latencies, n=100, method="inclusive") if len(latencies) > 1 else latencies * 99
    to_decision = sorted(decided[pid] - sent for pid, sent, _ in probes if pid in decided)
    d = statistics.quantiles(to_decision, n=100, method="inclusive") if len(to_decision) > 1 else to_decision * 99
    to_commit = sorted(acked - sent for _, sent, acked in probes if acked is not None)
    c = statistics.quantiles(to_commit, n=100, method="inclusive") if len(to_commit) > 1 else to_commit * 99
    print(json.dumps({
        "offered_per_s": args.rate, "connections": args.connections, "seconds": args.seconds,
        "reports_sent": load.sent, "reports_stored": stored, "reports_per_s_stored": round(stored / load.total_seconds),
        "probes": len(probes), "alerts_arrived": len(latencies),
        "latency_s": {"p50": round(q[49], 2), "p99": round(q[98], 2), "max": round(latencies[-1], 2),
                      "min": round(latencies[0], 2)} if latencies else None,
        # From the report's send to its commit's acknowledgement: the ingest backlog's part.
        "committed_s": {"p50": round(c[49], 2), "p99": round(c[98], 2)} if to_commit else None,
        # From the report's send to the decision (the alert's fired_at): what is left is delivery.
        "decided_s": {"p50": round(d[49], 2), "p99": round(d[98], 2)} if to_decision else None,
        "decided_by_screen": int(counters.get("video_insights_alerts_decided_by_screen_total", 0)),
        "screen_reads": int(counters.get("video_insights_alert_screen_reads_total", 0)),
        "server_peak_rss_mb": round(rss), "machine": machine()}, indent=2))


if __name__ == "__main__":
    main()
