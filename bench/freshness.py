"""Freshness under load: how soon what a server receives is readable through its API.

One `serve` process takes a sustained load of twilio-video.js stats reports over the WebSocket (the
generator of bench/ingest_gateway.py: 1,000 participants, 4 SSRC entries a report) while a probe, in
a process of its own so that the load generator's work does not delay its clock, measures:

- **presence**: a new participant connects to a new room (the gateway's connect message); the time
  until that room is in `GET /v1/Video/Rooms?RoomStatus=in-progress` (the stored summary: events are
  summarised at once, docs/durability.md), from the moment the probe opened its socket;
- **report**: that participant then sends its first stats report; the time until its interval is in
  the participant's `/Metrics` (read live: docs/durability.md, "Live reads"), from the moment it was
  sent;
- **commit to readable**: that report is numbered (`seq`), as our collector numbers its messages, so
  the server acknowledges it once it is committed (docs/collector.md); the time from that
  acknowledgement's arrival to the report being readable (0 when it was readable first).

Each is from the moment the probe sent, so it includes the writer's gathering time and
the commit (an upper bound of "commit to readable"). The server's own arrival-to-commit lag is read
from its `/metrics` histogram over the same run.

    python bench/freshness.py --seconds 60 --rate 20000
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx
import orjson
import uvloop
from websockets.sync.client import connect

sys.path.insert(0, str(Path(__file__).parent))
from common import Server, cli, machine
from ingest_gateway import ENTRIES_PER_EVENT, FAST_FORWARD_ENV, drive, report, samples_stored
from video_insights.ingest.auth import mint_token
from video_insights.model.ids import new_sid


def _pct(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(p * len(ordered)))] if ordered else float("nan")


def _connect(ws_url: str, token: str, room: str, name: str) -> tuple[Any, str, str]:
    ws = connect(ws_url)
    participant = new_sid("PA")
    ws.send(orjson.dumps({"type": "connect", "token": token, "version": 1, "publisher": {
        "name": "probe", "sdkVersion": "1", "userAgent": "probe", "roomSid": room, "roomName": name,
        "participantSid": participant}}).decode())
    return ws, orjson.loads(ws.recv(timeout=60))["session"], participant


def probe(base: str, token: str, auth: tuple[str, str], seconds: float, out: Any) -> None:
    """Every half second for `seconds`: a participant connects to a new room (presence), then sends
    its first stats report (report)."""
    ws_url = base.replace("http://", "ws://") + "/v1/VideoEvents"
    presence: list[float] = []
    reports: list[float] = []
    after_commit: list[float] = []
    with httpx.Client(base_url=base, auth=auth, timeout=60) as api:
        end = time.monotonic() + seconds
        while time.monotonic() < end:
            started = time.monotonic()
            room, name = new_sid("RM"), f"probe-{new_sid('RM')[2:14]}"
            ws, session, participant = _connect(ws_url, token, room, name)
            while not api.get("/v1/Video/Rooms", params={"RoomStatus": "in-progress", "RoomName": name}
                              ).json()["rooms"]:
                time.sleep(0.005)
            presence.append(time.monotonic() - started)

            ts = int(time.time() * 1000)
            sent = time.monotonic()
            ws.send(orjson.dumps({"type": "event", "version": 1, "session": session, "group": "quality",
                                  "name": "stats-report", "timestamp": ts, "payload": report(1, ts),
                                  "seq": 1}).decode())
            url = f"/v1/Video/Rooms/{room}/Participants/{participant}/Metrics"
            acked: float | None = None
            while True:
                acked = acked or _acked(ws, 0)
                r = api.get(url)
                if r.status_code == 200 and any(t["points"] for t in r.json()["send"]):
                    break
                time.sleep(0.005)
            readable = time.monotonic()
            reports.append(readable - sent)
            acked = acked or _acked(ws, 60)
            if acked is not None:
                after_commit.append(max(0.0, readable - acked))
            ws.close()
            time.sleep(max(0.0, 0.5 - (time.monotonic() - started)))
    out.put({"presence": presence, "report": reports, "commit_to_readable": after_commit})


def _acked(ws: Any, timeout: float) -> float | None:
    """When the server's acknowledgement of seq 1 (sent after the commit) arrived, if it has."""
    try:
        answer = orjson.loads(ws.recv(timeout=timeout))
    except TimeoutError:
        return None
    return time.monotonic() if answer.get("type") == "ack" and answer.get("seq") == 1 else None


def _commit_lag(base: str) -> dict[str, float]:
    """p50/p99 of the server's arrival-to-commit lag, from its Prometheus histogram."""
    text = httpx.get(base + "/metrics", timeout=30).text
    buckets = []
    for line in text.splitlines():
        if line.startswith("video_insights_commit_lag_seconds_bucket"):
            le = line.split('le="', 1)[1].split('"', 1)[0]
            buckets.append((float("inf") if le == "+Inf" else float(le), float(line.rsplit(" ", 1)[1])))
    total = buckets[-1][1] if buckets else 0
    return {f"p{int(p * 100)}_le_s": next((le for le, c in buckets if c >= p * total), float("nan"))
            for p in (0.5, 0.99)}


def measure(store: str, seconds: float, rate: float, connections: int) -> dict[str, Any]:
    account = cli(store, "accounts", "create")
    key = cli(store, "keys", "create", "--account", account["account_sid"])
    token = mint_token(account["account_sid"], key["sid"], key["secret"], "bench", ttl=86_400)
    auth = (account["account_sid"], account["auth_token"])
    server = Server(store, FAST_FORWARD_ENV)
    try:
        results: Any = multiprocessing.get_context("spawn").Queue()
        # The probe starts once the load's connections are open and it is sending.
        prober = multiprocessing.get_context("spawn").Process(
            target=_delayed_probe, args=(server.url, token, auth, seconds, results, min(20.0, seconds / 3)))
        prober.start()
        run = uvloop.run(drive(server.url, token, connections, seconds, rate, timeout=seconds * 10 + 60))
        found = results.get(timeout=600)
        prober.join(timeout=60)
        stored = samples_stored(server.url) // ENTRIES_PER_EVENT
        lag = _commit_lag(server.url)
    finally:
        server.stop()
    out: dict[str, Any] = {"offered_per_s": rate, "seconds": seconds, "connections": connections,
                           "reports_sent": run.sent, "reports_stored_per_s": round(stored / run.total_seconds),
                           "server_commit_lag": lag}
    for kind in ("presence", "report", "commit_to_readable"):
        values = found[kind]
        out[kind] = {"probes": len(values), "p50_s": round(statistics.median(values), 3) if values else None,
                     "p99_s": round(_pct(values, 0.99), 3), "max_s": round(max(values, default=float("nan")), 3)}
    return out


def _delayed_probe(base: str, token: str, auth: tuple[str, str], seconds: float, out: Any, delay: float) -> None:
    time.sleep(delay)
    probe(base, token, auth, seconds - delay, out)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--seconds", type=float, default=60)
    ap.add_argument("--rate", type=float, default=20_000, help="offered stats-reports per second in all")
    ap.add_argument("--connections", type=int, default=1000)
    ap.add_argument("--store", default="", help="store URL (default: a new DuckDB file)")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        result = measure(args.store or f"duckdb:///{tmp}/bench.duckdb", args.seconds, args.rate, args.connections)
    print(json.dumps({**result, "machine": machine()}, indent=2))


if __name__ == "__main__":
    main()
