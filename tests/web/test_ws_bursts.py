"""The WebSocket burst reader on a real asyncio.Queue (what uvicorn's receive waits on), on uvloop as
`serve` runs it: where bursts begin and end, and that the timer ending a burst loses no message."""

from __future__ import annotations

import asyncio
import time
from concurrent.futures import ThreadPoolExecutor

import pytest
import uvloop

from video_insights.web import ws_bursts
from video_insights.web.ws_bursts import BURST_GAP_S, BURST_MAX_MESSAGES, BURST_MAX_S, Bursts


def run(gaps_s: list[float], handed_on: list[float] | None = None) -> list[list[str]]:
    """Messages put on the queue after the given pauses (the first at once); the bursts read, and in
    `handed_on` the seconds from the start at which each was handed on."""

    async def main() -> list[list[str]]:
        queue: asyncio.Queue[str] = asyncio.Queue()

        async def feed() -> None:
            for i, gap in enumerate(gaps_s):
                if gap:
                    await asyncio.sleep(gap)
                queue.put_nowait(str(i))

        feeder = asyncio.create_task(feed())
        bursts = Bursts(queue.get)
        out: list[list[str]] = []
        started = time.monotonic()
        while sum(map(len, out)) < len(gaps_s):
            out.append([message for message, _ in await bursts.next()])
            if handed_on is not None:
                handed_on.append(time.monotonic() - started)
        await feeder
        return out

    # On a thread of its own: in a run that has used the browser, Playwright's loop runs on this one.
    with ThreadPoolExecutor(1) as thread:
        return thread.submit(uvloop.run, main()).result(timeout=120)


def test_messages_within_the_gap_form_one_burst_and_a_longer_pause_starts_the_next() -> None:
    quick, pause = BURST_GAP_S / 5, BURST_GAP_S * 3
    assert run([0, quick, quick, pause, quick]) == [["0", "1", "2"], ["3", "4"]]


def test_a_burst_is_handed_on_within_its_time_limit_however_the_messages_keep_coming() -> None:
    gaps = [0] + [BURST_GAP_S / 5] * 40  # 40 messages over twice the limit, never a gap
    handed_on: list[float] = []
    first = run(gaps, handed_on)[0]
    # The first burst waited as long as it could, and no longer: the messages of its time, not all.
    assert BURST_MAX_S * 0.9 <= handed_on[0] <= BURST_MAX_S + BURST_GAP_S
    assert 3 <= len(first) <= BURST_MAX_S / (BURST_GAP_S / 5) + 2


def test_a_burst_holds_at_most_its_count_and_nothing_queued_is_lost() -> None:
    bursts = run([0] * (BURST_MAX_MESSAGES * 3 + 5))
    assert [len(b) for b in bursts] == [BURST_MAX_MESSAGES] * 3 + [5]
    assert [m for b in bursts for m in b] == [str(i) for i in range(BURST_MAX_MESSAGES * 3 + 5)]


@pytest.mark.parametrize("seed", range(2))
def test_messages_arriving_as_the_gap_ends_are_all_read_in_order(seed: int, monkeypatch: pytest.MonkeyPatch) -> None:
    # A short gap makes the timer expire thousands of times just as messages arrive.
    monkeypatch.setattr(ws_bursts, "BURST_GAP_S", 0.002)
    import random

    rng = random.Random(seed)
    gaps = [rng.choice([0, 0.0015, 0.002, 0.0025]) for _ in range(1000)]
    got = [m for b in run(gaps) for m in b]
    assert got == [str(i) for i in range(len(gaps))]
