"""Recovery after `kill -9` on a large store: how soon a restarted server answers, and how soon it has
summarised what the killed one had committed and not yet summarised (docs/durability.md).

A copy of the store that bench/read_endpoints.py generates (one account, a week; 14,300 rooms a day
gives ~100,000 rooms) gets a `serve` process, which takes a burst of live telemetry through the
WebSocket gateway (the generator of bench/ingest_gateway.py: new rooms, stats reports) until all of it
is committed, and is then killed with SIGKILL at once, before the summary delay lets it summarise
those rooms. The ledger of stale rooms is read from the store; a new `serve` starts on it, and the
run times:

- **answering**: from starting the process to its first `/healthz` answer;
- **recovered**: from starting the process until it has summarised every stale room (its
  `video_insights_summaries_pending` gauge back to 0, and the ledger empty when read after it stops).

    python bench/recovery.py --rooms-per-day 14300 --reuse
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
import tempfile
import time
from pathlib import Path

import httpx
import uvloop

sys.path.insert(0, str(Path(__file__).parent))
from common import Server, machine
from ingest_gateway import FAST_FORWARD_ENV, drive
from read_endpoints import prepare
from video_insights.accounts import create_key
from video_insights.demo.scenarios import MIXES
from video_insights.ingest.auth import mint_token
from video_insights.processing.ledger import Ledger
from video_insights.settings import Settings
from video_insights.store.duckdb_store import DuckDBStore


def _stale_rooms(path: Path) -> int:
    store = DuckDBStore(path)
    try:
        return len(Ledger(store, Settings()).stale(int(time.time() * 1000) + 1))
    finally:
        store.close()


def _pending(url: str) -> int:
    for line in httpx.get(url + "/metrics", timeout=60).text.splitlines():
        if line.startswith("video_insights_summaries_pending "):
            return int(float(line.split()[1]))
    raise RuntimeError("no video_insights_summaries_pending in /metrics")


def measure(base: Path, account_sid: str, connections: int, seconds: float, rate: float) -> dict[str, object]:
    with tempfile.TemporaryDirectory(dir=base.parent) as tmp:
        path = Path(tmp) / "recovery.duckdb"
        shutil.copyfile(base, path)
        store = DuckDBStore(path)
        key = create_key(store, account_sid)
        store.close()
        token = mint_token(account_sid, key.sid, key.secret, "bench", ttl=86_400)
        url = f"duckdb:///{path}"

        server = Server(url, FAST_FORWARD_ENV)
        run = uvloop.run(drive(server.url, token, connections, seconds, rate, timeout=seconds * 10 + 120))
        server.proc.kill()  # SIGKILL: nothing runs on the way out
        server.proc.wait()
        stale = _stale_rooms(path)

        started = time.monotonic()
        server = Server(url, FAST_FORWARD_ENV)
        answering = time.monotonic() - started
        try:
            time.sleep(0.2)
            while _pending(server.url):
                time.sleep(0.05)
            recovered = time.monotonic() - started
        finally:
            server.stop()
        left = _stale_rooms(path)
        return {"reports_sent": run.sent, "rooms_written": max(1, connections // 4),
                "stale_rooms_after_kill": stale, "answering_s": round(answering, 2),
                "recovered_s": round(recovered, 2), "stale_rooms_after_recovery": left,
                "store_bytes": path.stat().st_size}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--rooms-per-day", type=int, default=300)
    ap.add_argument("--days", type=int, default=7)
    ap.add_argument("--store", type=Path, default=Path("bench/results/large.duckdb"),
                    help="the generated store (bench/read_endpoints.py's); it is copied, never changed")
    ap.add_argument("--mix", choices=sorted(MIXES), default="platform")
    ap.add_argument("--reuse", action="store_true", help="reuse the store if it was generated before")
    ap.add_argument("--connections", type=int, default=1000)
    ap.add_argument("--seconds", type=float, default=10)
    ap.add_argument("--rate", type=float, default=10_000)
    args = ap.parse_args()
    base = args.store.resolve()
    base.parent.mkdir(parents=True, exist_ok=True)
    info = prepare(base, args.days, args.rooms_per_day, args.reuse, args.mix)
    result = measure(base, str(info["account_sid"]), args.connections, args.seconds, args.rate)
    print(json.dumps({**result, "rows": info["rows"], "machine": machine()}, indent=2))


if __name__ == "__main__":
    main()
