"""Live-view fan-out: SSE viewers of `/live` on one account with many rooms in progress, by one server.

The rooms are real: `--rooms` rooms of two participants each connect over the WebSocket gateway and
keep sending a twilio-video.js stats report every 10 s (as real clients do), for the whole run. Then,
for `--seconds` each:

1. no viewer: the server's CPU for ingest alone;
2. `--viewers` signed-in viewers follow `/live/stream` (`--slow` of them never read what they are
   sent, as a stalled browser tab would): the server's CPU, peak RSS, what each viewer received, and
   how long a room that connects meanwhile takes to reach the viewers' boards.

Afterwards, the server stopped, the board's queries are timed on the store itself (the median of several
runs at the time of the last report): a whole board, and a board between two scans of the samples
(analytics/live_board.py BoardSource).

    python bench/live_fanout.py --rooms 1000 --viewers 100 --seconds 30 [--store chdb]
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

import httpx
import orjson
import uvloop
import websockets

sys.path.insert(0, str(Path(__file__).parent))
sys.path.insert(0, str(Path(__file__).parents[1] / "tests"))
from common import Server, cli, machine
from ingest_gateway import report
from support import Creds, console_login
from video_insights.analytics.live_board import BoardSource
from video_insights.ingest.auth import mint_token
from video_insights.model.ids import new_sid
from video_insights.settings import Settings
from video_insights.store import open_store

UA = ("Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 "
      "Safari/537.36")
REPORT_EVERY_S = 10.0


class Participant:
    def __init__(self, ws: Any, session: str) -> None:
        self.ws, self.session, self.n = ws, session, 0

    async def report(self) -> None:
        self.n += 1
        ts = int(time.time() * 1000)
        await self.ws.send(orjson.dumps({"type": "event", "version": 1, "session": self.session,
                                         "group": "quality", "name": "stats-report", "timestamp": ts,
                                         "payload": report(self.n, ts)}).decode())


async def join(url: str, creds: Creds, room: str, identity: str, handshakes: asyncio.Semaphore) -> Participant:
    token = mint_token(creds.account_sid, creds.key_sid, creds.key_secret, identity, ttl=86_400)
    async with handshakes:
        ws = await websockets.connect(url, max_queue=None, compression=None, ping_interval=None)
        await ws.send(json.dumps({"type": "connect", "token": token, "version": 1, "publisher": {
            "name": "twilio-video.js", "sdkVersion": "2.36.0", "userAgent": UA, "roomSid": room,
            "roomName": f"room-{room[-6:]}", "participantSid": new_sid("PA")}}))
        return Participant(ws, json.loads(await ws.recv())["session"])


async def keep_reporting(people: list[Participant], stop: asyncio.Event) -> None:
    """Each participant reports every 10 s, the participants spread evenly over the 10 s."""
    start = time.monotonic()
    sent = 0
    while not stop.is_set():
        due = int((time.monotonic() - start) / REPORT_EVERY_S * len(people))
        while sent < due:
            await people[sent % len(people)].report()
            sent += 1
        await asyncio.sleep(0.05)


class Viewer:
    def __init__(self) -> None:
        self.events = 0
        self.bytes = 0
        self.rooms = 0
        self.first = asyncio.Event()


async def follow(client: httpx.AsyncClient, viewer: Viewer, read: bool, stop: asyncio.Event) -> None:
    async with client.stream("GET", "/live/stream") as r:
        assert r.status_code == 200, r.status_code
        if not read:  # a stalled tab: the connection stays open, nothing is read
            viewer.first.set()
            await stop.wait()
            return
        async for line in r.aiter_lines():
            viewer.bytes += len(line) + 1
            if line.startswith("data: "):
                viewer.events += 1
                viewer.rooms = orjson.loads(line[6:])["totals"]["rooms"]
                viewer.first.set()
            if stop.is_set():
                return


async def run(base: str, creds: Creds, rooms: int, viewers: int, slow: int, seconds: float,
              server: Server) -> dict[str, Any]:
    url = base.replace("http://", "ws://") + "/v1/VideoEvents"
    handshakes = asyncio.Semaphore(50)
    room_sids = [new_sid("RM") for _ in range(rooms)]
    people = await asyncio.gather(*(join(url, creds, room_sids[i // 2], f"user-{i}", handshakes)
                                    for i in range(rooms * 2)))
    stop_reports = asyncio.Event()
    reporting = asyncio.create_task(keep_reporting(people, stop_reports))
    with httpx.Client(base_url=base, timeout=30) as sync_client:
        console_login(sync_client, creds)
        cookies = dict(sync_client.cookies)
    limits = httpx.Limits(max_connections=viewers + 10, max_keepalive_connections=viewers + 10)
    async with httpx.AsyncClient(base_url=base, cookies=cookies, timeout=None, limits=limits) as client:
        # Every room on the board before the clock starts.
        probe, stop_probe = Viewer(), asyncio.Event()
        probing = asyncio.create_task(follow(client, probe, True, stop_probe))
        deadline = time.monotonic() + 300
        while probe.rooms < rooms:
            assert time.monotonic() < deadline, f"only {probe.rooms} rooms on the board"
            await asyncio.sleep(0.2)
        stop_probe.set()
        probing.cancel()
        await asyncio.sleep(REPORT_EVERY_S)  # a full round of reports

        cpu, clock = server.cpu_seconds(), time.monotonic()
        await asyncio.sleep(seconds)
        idle = {"server_cpu_pct": round(100 * (server.cpu_seconds() - cpu) / (time.monotonic() - clock), 1),
                "server_peak_rss_mb": round(server.rss_mb())}

        stop = asyncio.Event()
        watching = [Viewer() for _ in range(viewers)]
        tasks = [asyncio.create_task(follow(client, v, i >= slow, stop)) for i, v in enumerate(watching)]
        await asyncio.wait_for(asyncio.gather(*(v.first.wait() for v in watching)), 120)
        cpu, clock = server.cpu_seconds(), time.monotonic()
        before = [(v.events, v.bytes) for v in watching]
        await asyncio.sleep(seconds / 2)
        # A room connects: how long until the (reading) viewers' boards count it.
        newcomer_at = time.monotonic()
        newcomer_room = new_sid("RM")
        newcomer = await join(url, creds, newcomer_room, "newcomer", handshakes)
        readers = watching[slow:]
        listed_s = None  # when the stored summaries (what the board reads) have it: the pipeline's part
        api = httpx.AsyncClient(base_url=base, auth=creds.basic, timeout=30)
        while not all(v.rooms == rooms + 1 for v in readers):
            assert time.monotonic() - newcomer_at < 30, "the new room did not reach the viewers"
            if listed_s is None:
                found = (await api.get("/v1/Video/Rooms", params={
                    "RoomStatus": "in-progress", "room_name__eq": f"room-{newcomer_room[-6:]}"})).json()["rooms"]
                if found:
                    listed_s = time.monotonic() - newcomer_at
            await asyncio.sleep(0.02)
        newcomer_s = time.monotonic() - newcomer_at
        await api.aclose()
        await asyncio.sleep(max(0.0, seconds - (time.monotonic() - clock)))
        elapsed = time.monotonic() - clock
        watched = {"server_cpu_pct": round(100 * (server.cpu_seconds() - cpu) / elapsed, 1),
                   "server_peak_rss_mb": round(server.rss_mb()),
                   "events_per_viewer_per_s": round(statistics.mean(
                       (v.events - b[0]) / elapsed for v, b in zip(readers, before[slow:], strict=True)), 2),
                   "kb_per_viewer_per_s": round(statistics.mean(
                       (v.bytes - b[1]) / elapsed / 1024 for v, b in zip(readers, before[slow:], strict=True)), 1),
                   "new_room_on_every_board_s": round(newcomer_s, 2),
                   "new_room_in_stored_summaries_s": None if listed_s is None else round(listed_s, 2)}
        stop.set()
        for t in tasks:
            t.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        await newcomer.ws.close()
    stop_reports.set()
    await reporting
    await asyncio.gather(*(p.ws.close() for p in people), return_exceptions=True)
    return {"ingest_only": idle, "with_viewers": watched}


def time_board(store_url: str, account: str, at_ms: int) -> dict[str, Any]:
    store = open_store(store_url)
    try:
        spent, presence = [], []
        for _ in range(7):
            t = time.perf_counter()
            source = BoardSource(store, Settings(), account)
            board = source(at_ms)
            spent.append((time.perf_counter() - t) * 1000)
            t = time.perf_counter()
            source(at_ms + 1_000)  # the ticks between two scans of the samples
            presence.append((time.perf_counter() - t) * 1000)
        return {"board_ms_median": round(statistics.median(spent), 1),
                "board_without_samples_scan_ms_median": round(statistics.median(presence), 1),
                "board_rooms": board.totals["rooms"],
                "board_participants_with_interval": sum(
                    1 for r in board.rooms for p in r["participants"] if p["interval_ms"] is not None),
                "board_page_kb": round(len(board.page(0)) / 1024, 1)}
    finally:
        store.close()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--rooms", type=int, default=1000)
    ap.add_argument("--viewers", type=int, default=100)
    ap.add_argument("--slow", type=int, default=10, help="viewers that never read their stream")
    ap.add_argument("--seconds", type=float, default=30)
    ap.add_argument("--store", choices=("duckdb", "chdb"), default="duckdb")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        store = f"duckdb:///{tmp}/bench.duckdb" if args.store == "duckdb" else f"chdb:///{tmp}/bench-chdb"
        account = cli(store, "accounts", "create")
        key = cli(store, "keys", "create", "--account", account["account_sid"])
        creds = Creds(account["account_sid"], account["auth_token"], key["sid"], key["secret"])
        server = Server(store, {"VIDEO_INSIGHTS_LIVE_MAX_VIEWERS": str(args.viewers + 10)})
        try:
            result = uvloop.run(run(server.url, creds, args.rooms, args.viewers, args.slow, args.seconds, server))
        finally:
            server.stop()
        ended_ms = int(time.time() * 1000)
        result["store"] = time_board(store, creds.account_sid, ended_ms)
    print(json.dumps({"rooms": args.rooms, "participants": args.rooms * 2, "viewers": args.viewers,
                      "slow_viewers": args.slow, "seconds": args.seconds, "store_kind": args.store, **result,
                      "machine": machine()}, indent=2))


if __name__ == "__main__":
    main()
