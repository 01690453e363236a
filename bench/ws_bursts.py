"""CPU time of the WebSocket burst reader (web/ws_bursts.py) per message, on uvloop as `serve` runs
it, over an asyncio.Queue like the one uvicorn's receive waits on. Two cases: messages already queued
(a loaded server reading a backlog), and single messages, each its own burst, whose gap timer expires
(a live client's reports, seconds apart). Medians of rounds of thread CPU time.

    python bench/ws_bursts.py
"""

from __future__ import annotations

import asyncio
import json
import statistics
import sys
import time
from pathlib import Path

import uvloop

sys.path.insert(0, str(Path(__file__).parent))
from common import machine
from video_insights.web import ws_bursts
from video_insights.web.ws_bursts import Bursts

QUEUED = 100_000
SINGLE = 2_000


async def queued_us() -> float:
    queue: asyncio.Queue[str] = asyncio.Queue()
    for _ in range(QUEUED):
        queue.put_nowait("m")
    bursts = Bursts(queue.get)
    cpu, read = time.thread_time(), 0
    while read < QUEUED:
        read += len(await bursts.next())
    return (time.thread_time() - cpu) / read * 1e6


async def single_us() -> float:
    queue: asyncio.Queue[str] = asyncio.Queue()
    bursts = Bursts(queue.get)
    cpu = time.thread_time()
    for _ in range(SINGLE):
        queue.put_nowait("m")
        await bursts.next()
    return (time.thread_time() - cpu) / SINGLE * 1e6


def main() -> None:
    ws_bursts.BURST_GAP_S = 0.0005  # the timers' CPU, not their waiting, is measured
    rounds = [(uvloop.run(queued_us()), uvloop.run(single_us())) for _ in range(5)]
    print(json.dumps({"queued_us_per_message": round(statistics.median(r[0] for r in rounds), 2),
                      "single_us_per_burst": round(statistics.median(r[1] for r in rounds), 1),
                      "machine": machine()}, indent=2))


if __name__ == "__main__":
    main()
