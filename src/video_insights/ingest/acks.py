"""Commit acknowledgements on one gateway WebSocket (docs/collector.md, "Acknowledgements").

Our collector numbers its messages (`seq`, increasing for the whole collector session) and keeps
those not yet acknowledged, to send them again after a reconnect. This side answers
`{"type": "ack", "seq": N}` once every message of this connection numbered N or less is handled:
committed to the store, or refused (a refused message would be refused again, so it is acknowledged
as well). twilio-video.js numbers nothing and is answered nothing.

The receive loop only queues; a task of its own waits for the commits and sends the answers, so a
slow client or a slow commit never holds up reading. It waits for the oldest pending commit only,
then answers for everything committed by then: one answer per commit, not one per message, and the
writer keeps its usual interval (nobody waits for these commits).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections import deque
from collections.abc import Awaitable, Callable
from concurrent.futures import Future

import orjson

from video_insights.errors import BadRequest

log = logging.getLogger(__name__)


class CommitAcks:
    def __init__(self, send: Callable[[str], Awaitable[None]], fail: Callable[[], Awaitable[None]]) -> None:
        self._send = send
        self._fail = fail  # a commit failed: end the connection, so the client sends again after reconnecting
        self._pending: deque[tuple[int, Future[None] | None]] = deque()  # in seq order; None: already handled
        self._last = -1  # the highest seq taken on this connection
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None

    def check(self, seq: int | None) -> None:
        """Refuse a number that does not increase: an acknowledgement covers every lower one."""
        if seq is not None and seq <= self._last:
            raise BadRequest(f"message.seq: {seq} does not follow {self._last} (numbers must increase)")

    def add(self, seq: int | None, committed: Future[None] | None) -> None:
        """Message `seq` is handled once `committed` resolves (None: handled now, it was refused)."""
        if seq is None or seq <= self._last:
            return
        self._last = seq
        self._pending.append((seq, committed))
        if self._task is None:  # started by the first numbered message: twilio-video.js's sessions never need one
            self._task = asyncio.get_running_loop().create_task(self._run())
        self._wake.set()

    async def close(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task

    async def _run(self) -> None:
        while True:
            await self._wake.wait()
            self._wake.clear()
            while self._pending:
                oldest = self._pending[0][1]
                if oldest is not None and not oldest.done():
                    # asyncio.wait, unlike awaiting, leaves the pipeline's future alone when this task is cancelled.
                    await asyncio.wait([asyncio.wrap_future(oldest)])
                acked = None
                while self._pending and ((f := self._pending[0][1]) is None or f.done()):
                    seq, _ = self._pending.popleft()
                    if f is not None and (f.cancelled() or f.exception() is not None):
                        # Not stored: no later number may be acknowledged either, as acknowledgements are
                        # cumulative. Ending the connection makes the collector send it all again.
                        log.warning("a commit failed; closing the WebSocket so that its client sends again")
                        await self._fail()
                        return
                    acked = seq
                if acked is not None:
                    try:
                        await self._send(orjson.dumps({"type": "ack", "seq": acked}).decode())
                    except Exception:  # the client has gone: the receive loop finds out and ends
                        return
