"""Where WebSockets wait while the writer is behind (web/push_back.py): nobody waits while it keeps up,
everyone waits while it does not and goes on together once it has caught up, and a connection that
closes while it waits leaves the others waiting."""

from __future__ import annotations

import asyncio
import time
from concurrent.futures import ThreadPoolExecutor

import uvloop

from video_insights.web.push_back import PushBack


def on_uvloop(main: object) -> object:
    """Run a coroutine function on uvloop, as `serve` does, on a thread of its own (a browser test's
    Playwright loop may hold this process's main thread)."""
    with ThreadPoolExecutor(1) as pool:
        return pool.submit(uvloop.run, main()).result(timeout=60)  # type: ignore[operator]


def test_waiters_go_on_together_once_the_writer_has_caught_up() -> None:
    behind = [True]
    checks = [0]

    def over() -> bool:
        checks[0] += 1
        return behind[0]

    async def main() -> tuple[float, list[float], int]:
        gate = PushBack(over, check_s=0.01)
        started = time.monotonic()
        released: list[float] = []

        async def connection() -> None:
            await gate.wait()
            released.append(time.monotonic() - started)

        waiting = [asyncio.create_task(connection()) for _ in range(1000)]
        leaver = asyncio.create_task(connection())
        await asyncio.sleep(0.2)
        leaver.cancel()  # a connection closes while it waits
        assert not released, "nobody reads while the writer is behind"
        checks_while_behind = checks[0]
        behind[0] = False
        caught_up = time.monotonic() - started
        await asyncio.gather(*waiting)
        return caught_up, released, checks_while_behind

    caught_up, released, checks_while_behind = on_uvloop(main)  # type: ignore[misc]
    assert len(released) == 1000
    assert min(released) >= caught_up and max(released) - caught_up < 0.5
    # One timer looks for all 1,001 connections: about 20 looks in 0.2 s, not 20 per connection.
    assert checks_while_behind < 100


def test_nobody_waits_while_the_writer_keeps_up() -> None:
    async def main() -> float:
        gate = PushBack(lambda: False)
        started = time.monotonic()
        for _ in range(10_000):
            await gate.wait()
        return time.monotonic() - started

    assert on_uvloop(main) < 1  # type: ignore[operator]
