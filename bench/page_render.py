"""Time to first render of every console page on the large benchmark account, in Debian's Chromium.

    python bench/read_endpoints.py --rooms-per-day 14300   # makes bench/results/large.duckdb first
    python bench/page_render.py

Starts a real `serve` process on the benchmark store, signs in through /login, and opens each page
(dashboard in its heaviest views, the rooms list with three filters and 100 rows, a busy room, the
longest participant of the week) several times. For each: the first contentful paint, and "ready" —
when the page's own script has drawn its charts (DOMContentLoaded end; the pages render their data
server-side and draw it on load). Prints JSON; docs/benchmarks.md records it.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
from pathlib import Path
from typing import Any

import httpx

sys.path.insert(0, str(Path(__file__).parent))
from common import Server, machine
from read_endpoints import longest_participant

FIRST_PAINT = """() => new Promise(resolve => new PerformanceObserver(list => {
  const fcp = list.getEntries().find(e => e.name === "first-contentful-paint");
  if (fcp) resolve(fcp.startTime);
}).observe({type: "paint", buffered: true}))"""
READY = "performance.getEntriesByType('navigation')[0].domContentLoadedEventEnd"


def pages(client: httpx.Client) -> dict[str, str]:
    busiest = longest_participant(client, _sort_desc="unique_participants")
    week = longest_participant(client, _sort_desc="duration_sec")
    assert busiest is not None and week is not None, "the store holds no rooms"
    return {
        "dashboard, 7 days, participants by browser": "/?_range=7d&segment=browser",
        "dashboard, 24 h, with issues by OS": "/?segment=os&issues=with",
        "rooms, 7 days, three filters, 100 rows": "/rooms?_range=7d&room_type__eq=group&unique_participants__gte=3"
                                                 "&issue_type__eq=packet_loss&_size=100",
        "rooms, 7 days, sorted by duration": "/rooms?_range=7d&_sort_desc=duration_sec",
        "room (most participants)": f"/rooms/{busiest[0]}",
        "participant (longest of the week), send": f"/rooms/{week[0]}/participants/{week[1]}",
        "participant (longest of the week), receive": f"/rooms/{week[0]}/participants/{week[1]}?tab=receive",
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--store", type=Path, default=Path("bench/results/large.duckdb"))
    ap.add_argument("--repeat", type=int, default=7)
    args = ap.parse_args()
    info = json.loads(args.store.with_suffix(".json").read_text())
    from playwright.sync_api import sync_playwright

    server = Server(f"duckdb:///{args.store.resolve()}")
    results: dict[str, dict[str, float]] = {}
    try:
        with httpx.Client(base_url=server.url, auth=(info["account_sid"], info["auth_token"]), timeout=60) as c:
            todo = pages(c)
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path="/usr/bin/chromium", args=["--no-sandbox"])
            page = browser.new_page(viewport={"width": 1440, "height": 900})
            page.goto(server.url + "/login")
            page.fill("#username", info["account_sid"])
            page.fill("#password", info["auth_token"])
            page.click("button[type=submit]")
            page.wait_for_url(server.url + "/")
            for name, path in todo.items():
                paints, readies = [], []
                for i in range(args.repeat + 1):
                    response: Any = page.goto(server.url + path)
                    assert response.status == 200, f"{path}: {response.status}"
                    if i == 0:
                        continue  # warm-up
                    paints.append(page.evaluate(FIRST_PAINT))
                    readies.append(page.evaluate(READY))
                results[name] = {"first_paint_ms": round(statistics.median(paints)),
                                 "ready_ms": round(statistics.median(readies))}
                print(f"{name}: {results[name]}", file=sys.stderr)
            browser.close()
    finally:
        server.stop()
    print(json.dumps({"pages": results, "rows": info.get("rows"), "machine": machine()}, indent=2))


if __name__ == "__main__":
    main()
