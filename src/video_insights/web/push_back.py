"""Where WebSockets wait while the writer is behind (docs/durability.md, "Backpressure and keepalive").

A connection that finds too much waiting stops reading until the writer catches up, so that TCP
pushes back on its client. Each connection used to poll on a timer of its own: at 1,000 connections
that was 50,000 wake-ups a second, a tenth of the event loop's time, spent exactly when the server
had least to spare. They now wait on one future, and one timer looks for all of them.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable

CHECK_S = 0.02


class PushBack:
    def __init__(self, over: Callable[[], bool], check_s: float = CHECK_S) -> None:
        self._over = over  # whether too much waits for the writer
        self._check_s = check_s
        self._open: asyncio.Future[None] | None = None  # resolved when the writer has caught up

    async def wait(self) -> None:
        """Return at once if the writer keeps up, else once it has caught up."""
        if self._open is None or self._open.get_loop() is not asyncio.get_running_loop():
            if not self._over():
                return
            loop = asyncio.get_running_loop()
            self._open = loop.create_future()
            loop.call_later(self._check_s, self._check, self._open)
        # shielded: a connection that closes while it waits must not cancel the others' wait
        await asyncio.shield(self._open)

    def _check(self, opened: asyncio.Future[None]) -> None:
        if self._over():
            opened.get_loop().call_later(self._check_s, self._check, opened)
            return
        if self._open is opened:
            self._open = None
        opened.set_result(None)
