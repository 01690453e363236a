"""CPU time of the gateway's ingest path per stats-report event, without sockets: decode and check
the message, turn it into rows, and commit them in the writer's batches. A steady number on a busy
machine (thread CPU time, median of rounds), for comparing changes to the hot path.

    python bench/ingest_cpu.py --events 20000
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from ingest_gateway import messages
from video_insights import accounts
from video_insights.ingest.acks import CommitAcks
from video_insights.ingest.gateway import (
    Gateway,
    GatewaySession,
)
from video_insights.model.ids import new_sid
from video_insights.processing.pipeline import Pipeline
from video_insights.settings import Settings
from video_insights.store.duckdb_store import DuckDBStore
from video_insights.web.api.ingest import _handle_ws_messages
from video_insights.web.deps import Services


async def _nothing(*_: object) -> None:
    return None


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--events", type=int, default=20_000)
    ap.add_argument("--rounds", type=int, default=3)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        settings = Settings.from_env({}, store=f"duckdb:///{tmp}/cpu.duckdb", summary_delay_s=3600,
                                     client_clock_correction=False)  # its reports are 10 s apart, sent at once
        store = DuckDBStore(Path(tmp) / "cpu.duckdb")
        store.migrate()
        account = accounts.create_account(store).sid
        pipeline = Pipeline(store, settings)
        svc = Services(settings, store, pipeline, Gateway(store, settings))
        sessions = 200
        acks = CommitAcks(_nothing, _nothing)  # twilio-video.js numbers nothing: never used
        per = args.events // sessions
        results = {"parse_us": [], "write_us": []}
        for r in range(args.rounds):
            start = int(time.time() * 1000) - 3_600_000 + r * per * 10_000
            texts = messages(sessions, per, start)
            ss = [GatewaySession(account, "SK", new_sid("RM"), new_sid("PA"), f"u{i}") for i in range(sessions)]
            t0 = time.thread_time()
            for i in range(per):
                for s, mine in zip(ss, texts, strict=True):
                    # Live reports, one a burst (reports 10 s apart arrive alone).
                    _handle_ws_messages(svc, s, [(mine[i], int(time.time() * 1000))], acks)
            t1 = time.thread_time()
            pipeline.flush()
            t2 = time.thread_time()
            n = per * sessions
            results["parse_us"].append((t1 - t0) / n * 1e6)
            results["write_us"].append((t2 - t1) / n * 1e6)
        out = {k: round(statistics.median(v), 1) for k, v in results.items()}
        out["total_us"] = round(out["parse_us"] + out["write_us"], 1)
        out["events_per_cpu_s"] = round(1e6 / out["total_us"])
        out["rejected"] = svc.gateway.rejected
        print(json.dumps(out))
        store.close()


if __name__ == "__main__":
    main()
