"""Every REST read endpoint timed against a large account: one week of generated data.

    python bench/read_endpoints.py --rooms-per-day 14300          # ~100,000 rooms in a week
    python bench/read_endpoints.py --rooms-per-day 300 --reuse    # quick run, keep the store

Generates the data with the demo generator into a DuckDB file (unless --reuse finds one), starts a
real `serve` process on it, and times each endpoint over HTTP (median of repeated runs, after warm-up).
Prints JSON with the timings, the row counts, the generation time, the server's peak RSS and the
machine; docs/benchmarks.md records the results.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).parent))
from common import Server, machine, median_ms
from video_insights import accounts
from video_insights.demo.generator import generate
from video_insights.demo.scenarios import MIXES
from video_insights.settings import Settings
from video_insights.store.duckdb_store import DuckDBStore

TABLES = ("rooms", "participants", "tracks", "stream_samples", "events", "participant_facts", "participant_metrics")


def prepare(path: Path, days: int, rooms_per_day: int, reuse: bool, mix: str) -> dict[str, object]:
    info_path = path.with_suffix(".json")
    if reuse and path.exists() and info_path.exists():
        return dict(json.loads(info_path.read_text()))
    path.unlink(missing_ok=True)
    settings = Settings.from_env({})
    store = DuckDBStore(path, memory_limit=settings.duckdb_memory_limit)
    store.migrate()
    account = accounts.create_account(store, friendly_name="bench")
    started = time.time()
    summary = generate(store, settings, account_sid=account.sid, days=days,
                       rooms_per_day=rooms_per_day, seed=1, mix=MIXES[mix])
    info: dict[str, object] = {"account_sid": account.sid, "auth_token": account.auth_token,
                               "generate_seconds": round(time.time() - started, 1),
                               "rows": {t: store.table_rows(t) for t in TABLES},
                               "issues": summary.issues, "days": days, "rooms_per_day": rooms_per_day,
                               "mix": mix}
    store.close()
    info_path.write_text(json.dumps(info, indent=2))
    return info


def longest_participant(client: httpx.Client, **params: str) -> tuple[str, str] | None:
    """(room, participant): the longest-staying participant of the first room the list gives."""
    rooms = client.get("/v1/Video/Rooms", params={"_range": "7d", "PageSize": 1, **params}).json()["rooms"]
    if not rooms:
        return None
    room = rooms[0]["room_sid"]
    participants = client.get(f"/v1/Video/Rooms/{room}/Participants").json()["participants"]
    return room, max(participants, key=lambda p: p["duration_sec"] or 0)["participant_sid"]


def endpoints(client: httpx.Client) -> dict[str, str]:
    busiest = longest_participant(client, _sort_desc="unique_participants")
    week = longest_participant(client, _sort_desc="duration_sec")
    assert busiest is not None and week is not None, "the store holds no rooms"
    room, longest = busiest
    base = f"/v1/Video/Rooms/{room}"
    out = {
        "dashboard rooms, 7 days": "/v1/Video/Dashboard/Rooms?_range=7d",
        "dashboard rooms, 24 h": "/v1/Video/Dashboard/Rooms?_range=24h",
        "dashboard participants by browser, with issues, 7 days":
            "/v1/Video/Dashboard/Participants?_range=7d&segment=browser&issues=with",
        "dashboard participants by OS, 24 h": "/v1/Video/Dashboard/Participants?_range=24h&segment=os",
        "dashboard minutes with previous period, 7 days": "/v1/Video/Dashboard/Minutes?_range=7d",
        "rooms list, 7 days": "/v1/Video/Rooms?_range=7d",
        "rooms list, three filters": "/v1/Video/Rooms?_range=7d&room_type__eq=group&unique_participants__gte=3"
                                     "&issue_type__eq=packet_loss",
        "rooms list, sorted by duration": "/v1/Video/Rooms?_range=7d&_sort_desc=duration_sec",
        "rooms list, Twilio default (completed in 24 h)": "/v1/Video/Rooms",
        "room": base,
        "room participants": f"{base}/Participants",
        "participant": f"{base}/Participants/{longest}",
        "participant metrics": f"{base}/Participants/{longest}/Metrics",
        "participant metrics, longest call of the week": f"/v1/Video/Rooms/{week[0]}/Participants/{week[1]}/Metrics",
    }
    live = longest_participant(client, room_status__eq="in_progress", _sort_desc="duration_sec")
    if live is not None:  # the week's last rooms, still going when the data was generated
        out["participant metrics, in progress (from samples)"] = (f"/v1/Video/Rooms/{live[0]}/Participants/"
                                                                  f"{live[1]}/Metrics")
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--days", type=int, default=7)
    ap.add_argument("--rooms-per-day", type=int, default=14_300)
    ap.add_argument("--store", type=Path, default=Path("bench/results/large.duckdb"))
    ap.add_argument("--mix", choices=sorted(MIXES), default="platform",
                    help="room sizes and lengths: platform ≈ 5 participants a room (the issue's shape)")
    ap.add_argument("--reuse", action="store_true", help="reuse the store if it was generated before")
    ap.add_argument("--repeat", type=int, default=15)
    args = ap.parse_args()
    args.store.parent.mkdir(parents=True, exist_ok=True)
    info = prepare(args.store.resolve(), args.days, args.rooms_per_day, args.reuse, args.mix)
    server = Server(f"duckdb:///{args.store.resolve()}")
    try:
        auth = (str(info["account_sid"]), str(info["auth_token"]))
        with httpx.Client(base_url=server.url, auth=auth, timeout=120) as client:
            timings = {}
            for name, url in endpoints(client).items():
                def call(u: str = url) -> None:
                    r = client.get(u)
                    r.raise_for_status()
                timings[name] = round(median_ms(call, repeat=args.repeat), 1)
        result = {"timings_ms": timings, "server_peak_rss_mb": round(server.rss_mb()), **info,
                  "machine": machine()}
    finally:
        server.stop()
    result.pop("auth_token", None)
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
