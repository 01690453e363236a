"""`Server-Timing` on every HTTP response: the time the store's reads took (and how many there were)
and the time the whole response took to start, as browsers' developer tools and `curl -i` show them:

    Server-Timing: store;dur=3.41;desc="2 reads", total;dur=4.87
"""

from __future__ import annotations

import time

from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from video_insights.store.timing import CURRENT, StoreClock


class ServerTiming:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        clock = StoreClock()
        token = CURRENT.set(clock)  # the request's task and the threads it starts see this clock
        start = time.perf_counter()

        async def send_timed(message: Message) -> None:
            if message["type"] == "http.response.start":
                total = (time.perf_counter() - start) * 1000
                MutableHeaders(scope=message).append(
                    "Server-Timing", f'store;dur={clock.seconds * 1000:.2f};desc="{len(clock.durations)} reads", '
                                     f"total;dur={total:.2f}")
            await send(message)

        try:
            await self.app(scope, receive, send_timed)
        finally:
            CURRENT.reset(token)
