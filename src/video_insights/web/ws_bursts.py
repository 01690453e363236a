"""A WebSocket's messages read in bursts: those that arrived back to back, as a client that reconnects
sends what it queued meanwhile. The gateway estimates a client's clock over a burst as a whole
(docs/api.md, "Client clocks"); nothing waits for more than BURST_MAX_S, so a burst is stored (and
answered) as promptly as a single message would be."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable

from fastapi import WebSocketDisconnect

# A message that follows the one before within this joins its burst: a flushed queue arrives in a
# stream of frames, a client's live reports seconds apart.
BURST_GAP_S = 0.05
BURST_MAX_MESSAGES = 64
BURST_MAX_S = 0.2  # from a burst's first message to the moment it is handed on, at most

Received = tuple[str | bytes, int]  # a message and when the server received it (ms since the epoch)


class Bursts:
    """The bursts of one WebSocket, read with `receive` (which raises WebSocketDisconnect at the end)."""

    __slots__ = ("_closed", "_receive")

    def __init__(self, receive: Callable[[], Awaitable[str | bytes]]) -> None:
        self._receive = receive
        self._closed: WebSocketDisconnect | None = None

    async def next(self) -> list[Received]:
        """The next burst: the first message to come, and those that follow it within BURST_GAP_S each,
        up to BURST_MAX_MESSAGES and BURST_MAX_S. A disconnect ends a burst; the call after it raises
        WebSocketDisconnect, so what came before the disconnect is handed on first."""
        if self._closed is not None:
            raise self._closed
        burst = [(await self._receive(), _now_ms())]
        loop = asyncio.get_running_loop()
        end = loop.time() + BURST_MAX_S
        last = [loop.time()]  # when the newest message of the burst arrived
        try:
            # A receive cancelled by the timeout loses no message: uvicorn's waits on an asyncio.Queue,
            # whose get() leaves an item in the queue when cancelled (tests/ingest/test_client_clocks.py
            # sends many). One scope for the whole burst, and one timer that moves itself on while
            # messages keep coming: a timer per message cost more than reading the message did.
            async with asyncio.timeout(None) as scope:
                def gap_over(armed_at: float) -> None:
                    # Decided by whether a message came since the timer was set, not by comparing
                    # clocks: uvloop fires timers up to a millisecond early.
                    if last[0] == armed_at or end - loop.time() < 0.001:
                        scope.reschedule(loop.time())
                    else:
                        timer[0] = loop.call_at(min(last[0] + BURST_GAP_S, end), gap_over, last[0])

                timer = [loop.call_at(min(last[0] + BURST_GAP_S, end), gap_over, last[0])]
                try:
                    while len(burst) < BURST_MAX_MESSAGES:
                        message = await self._receive()
                        last[0] = loop.time()
                        burst.append((message, _now_ms()))
                finally:
                    timer[0].cancel()
        except TimeoutError:
            pass
        except WebSocketDisconnect as closed:
            self._closed = closed
        return burst


def _now_ms() -> int:
    return int(time.time() * 1000)
