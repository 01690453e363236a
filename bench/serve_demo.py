"""`serve --demo` on an empty store: time to the first HTTP answer, to the credentials, and to a
complete demo; /healthz latency while the demo fills; shutdown during the fill; restart on the
complete store.

    python bench/serve_demo.py                  # the real demo (300 rooms a day), 5 starts + 1 full fill
    python bench/serve_demo.py --starts 3 --rooms-per-day 40
    python bench/serve_demo.py --starts 10 --starts-only

Each start is `python -m video_insights serve --demo` on a fresh DuckDB file in a temporary directory,
as a user runs it; "first answer" is from starting the process to the first 200 from /healthz
(polled every 20 ms). Prints JSON; docs/benchmarks.md records it.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx

sys.path.insert(0, str(Path(__file__).parent))
from common import free_port, load_average, machine

POLL_S = 0.02


class DemoProcess:
    def __init__(self, store: str, out: Path, rooms_per_day: int | None, demo: bool = True) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.out = out
        extra = ["--demo-rooms-per-day", str(rooms_per_day)] if rooms_per_day else []
        extra = ["--demo", *extra] if demo else []
        self.started = time.monotonic()
        with out.open("wb") as o:
            self.proc = subprocess.Popen(
                [sys.executable, "-m", "video_insights", "serve", "--store", store, "--port", str(self.port),
                 *extra], stdout=o, stderr=subprocess.DEVNULL,
                env={**os.environ, "VIDEO_INSIGHTS_LOG_LEVEL": "warning"})
        self.credentials_s: float | None = None
        self.first_answer_s = self._first_answer()

    def _first_answer(self) -> float:
        while True:
            if self.credentials_s is None and "auth token" in self.out.read_text():  # (--demo only)
                self.credentials_s = time.monotonic() - self.started
            try:
                if httpx.get(self.url + "/healthz", timeout=5).status_code == 200:
                    elapsed = time.monotonic() - self.started
                    if self.credentials_s is None:
                        self.credentials_s = elapsed
                    return elapsed
            except httpx.HTTPError:
                pass
            if self.proc.poll() is not None or time.monotonic() - self.started > 120:
                raise RuntimeError("serve --demo did not answer")
            time.sleep(POLL_S)

    def demo(self) -> tuple[dict[str, Any], float]:
        t = time.perf_counter()
        r = httpx.get(self.url + "/healthz", timeout=30)
        return r.json()["demo"], (time.perf_counter() - t) * 1000

    def stop(self) -> float:
        """SIGTERM; seconds until the process has exited."""
        t = time.monotonic()
        self.proc.send_signal(signal.SIGTERM)
        self.proc.wait(timeout=120)
        return time.monotonic() - t


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--starts", type=int, default=5, help="starts on an empty store, each stopped mid-fill")
    parser.add_argument("--rooms-per-day", type=int, default=None, help="smaller demo (default: the real one)")
    parser.add_argument("--starts-only", action="store_true", help="only the starts, no full fill or restarts")
    args = parser.parse_args()
    result: dict[str, Any] = {"machine": machine(), "load_average_before": load_average()}
    with tempfile.TemporaryDirectory(prefix="bench-serve-demo-") as tmp:
        starts = []
        for i in range(args.starts):
            p = DemoProcess(f"duckdb:///{tmp}/start{i}.duckdb", Path(tmp) / f"start{i}.txt", args.rooms_per_day)
            time.sleep(3)  # mid-fill
            starts.append({"first_answer_s": round(p.first_answer_s, 2),
                           "credentials_s": round(p.credentials_s or 0, 2), "stop_during_fill_s": round(p.stop(), 2)})
        result["starts_on_empty_store"] = starts
        result["first_answer_s_median"] = statistics.median(s["first_answer_s"] for s in starts)
        result["first_answer_s_max"] = max(s["first_answer_s"] for s in starts)
        if args.starts_only:
            print(json.dumps({**result, "load_average_after": load_average()}, indent=2))
            return

        store = f"duckdb:///{tmp}/full.duckdb"
        p = DemoProcess(store, Path(tmp) / "full.txt", args.rooms_per_day)
        phases: dict[str, float] = {}
        latencies = []
        while True:
            state, ms = p.demo()
            latencies.append(ms)
            phases.setdefault(state["phase"] or "starting", time.monotonic() - p.started)
            if state["state"] != "generating":
                break
            time.sleep(0.5)
        total = time.monotonic() - p.started
        assert state["state"] == "complete", state
        result["full_fill"] = {
            "first_answer_s": round(p.first_answer_s, 2), "complete_s": round(total, 1),
            "this_week_s": round(phases.get("previous week", total) - phases.get("this week", 0), 1),
            "previous_week_s": round(total - phases.get("previous week", total), 1),
            "healthz_ms_during_fill": {
                "median": round(statistics.median(latencies), 1),
                "p95": round(sorted(latencies)[int(len(latencies) * 0.95)], 1), "max": round(max(latencies), 1),
                "samples": len(latencies)}}
        p.stop()
        from video_insights.store.duckdb_store import DuckDBStore

        db = DuckDBStore(f"{tmp}/full.duckdb", read_only=True)
        result["full_fill"]["rooms_this_week"] = db.table_rows("rooms")
        result["full_fill"]["room_facts_both_weeks"] = db.table_rows("room_facts")
        db.close()
        restarts: dict[str, list[float]] = {"serve --demo": [], "serve": []}
        for _ in range(3):
            again = DemoProcess(store, Path(tmp) / "again.txt", args.rooms_per_day)
            restarts["serve --demo"].append(round(again.first_answer_s, 2))
            again.stop()
            plain = DemoProcess(store, Path(tmp) / "plain.txt", None, demo=False)
            restarts["serve"].append(round(plain.first_answer_s, 2))
            plain.stop()
        result["restart_on_complete_demo_first_answer_s"] = restarts
    result["load_average_after"] = load_average()
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
