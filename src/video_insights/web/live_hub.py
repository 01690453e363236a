"""Live views' fan-out: one computation per topic per tick, shared by every viewer of the topic.

A topic is what several viewers watch alike (an account's live board, one participant's live graphs).
While it has viewers, one task computes its snapshot every tick in a worker thread and wakes them;
each viewer then reads the topic's latest snapshot. A viewer holds no queue: one that is slow to read
skips to the latest snapshot when it is ready again, so the server keeps one snapshot per watched
topic and a constant per viewer, however many viewers there are and however slow they are. The
number of viewers is capped (`live_max_viewers`); a topic whose last viewer leaves stops computing.

Streams must end when the server stops (a SIGTERM drains the server, which waits for every response
to finish): `stopping` is polled every tick and closes every stream (docs/live.md, "Limits").
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import AsyncIterator, Callable, Hashable
from contextlib import asynccontextmanager, suppress
from dataclasses import dataclass, field
from typing import Any

from video_insights.errors import BadRequest, Saturated

log = logging.getLogger(__name__)


@dataclass(eq=False)
class _Topic:
    compute: Callable[[], Any]
    tick_s: float
    snapshot: Any = None
    error: str | None = None
    viewers: set[asyncio.Event] = field(default_factory=set)
    task: asyncio.Task[None] | None = None


class Closed(Exception):
    """The hub is closing (the server is stopping): the stream ends."""


@dataclass
class Watch:
    """A viewer's handle on a topic: `next()` waits for the next tick and gives the latest snapshot."""

    hub: LiveHub
    topic: _Topic
    wake: asyncio.Event

    async def next(self, timeout_s: float) -> Any:
        """The topic's latest snapshot after the next tick (None until it has one, or after `timeout_s`)."""
        with suppress(TimeoutError):
            await asyncio.wait_for(self.wake.wait(), timeout_s)
        self.wake.clear()
        if self.hub.closed:
            raise Closed()
        return self.topic.snapshot

    @property
    def error(self) -> str | None:
        return self.topic.error


class LiveHub:
    def __init__(self, tick_s: float, max_viewers: int,
                 on_accounts: Callable[[frozenset[str]], None] | None = None) -> None:
        """`on_accounts` is told the accounts watched whenever that set changes (from the event loop);
        a topic's key is a tuple whose second item is its account."""
        if not tick_s > 0:
            raise BadRequest(f"live_tick_s: must be more than 0 seconds, got {tick_s}")
        if max_viewers < 0:
            raise BadRequest(f"live_max_viewers: must be 0 (no live view) or more, got {max_viewers}")
        self.tick_s = tick_s
        self.max_viewers = max_viewers
        self.stopping: Callable[[], bool] = lambda: False
        self.closed = False
        self._topics: dict[Hashable, _Topic] = {}
        self._viewers = 0
        self._on_accounts = on_accounts
        self._accounts: frozenset[str] = frozenset()

    @property
    def viewers(self) -> int:
        return self._viewers

    @property
    def topics(self) -> int:
        return len(self._topics)

    def check_capacity(self) -> None:
        """Saturated when a new viewer would be refused."""
        if self.closed:
            raise Saturated("the server is stopping", retry_after_s=5)
        if self._viewers >= self.max_viewers:
            raise Saturated(f"this server serves {self.max_viewers} live viewers at most "
                            "(live_max_viewers): try again later", retry_after_s=10)

    @asynccontextmanager
    async def watch(self, key: Hashable, compute: Callable[[], Any], tick_s: float | None = None
                    ) -> AsyncIterator[Watch]:
        """Watch a topic for the block; when nobody watches it yet, `compute` (run in a thread) makes its
        snapshot every `tick_s` (the hub's by default). Raises Saturated when the hub is full."""
        self.check_capacity()
        topic = self._topics.get(key)
        if topic is None:
            topic = self._topics[key] = _Topic(compute, tick_s or self.tick_s)
            topic.task = asyncio.get_running_loop().create_task(self._run(topic))
            self._watched_changed()
        wake = asyncio.Event()
        topic.viewers.add(wake)
        self._viewers += 1
        try:
            yield Watch(self, topic, wake)
        finally:
            self._viewers -= 1
            topic.viewers.discard(wake)
            if not topic.viewers and self._topics.get(key) is topic:
                del self._topics[key]
                if topic.task is not None:
                    topic.task.cancel()
                self._watched_changed()

    def _watched_changed(self) -> None:
        accounts = frozenset(key[1] for key in self._topics if isinstance(key, tuple) and len(key) > 1)
        if accounts != self._accounts:
            self._accounts = accounts
            if self._on_accounts is not None:
                self._on_accounts(accounts)

    def close(self) -> None:
        """End every stream (the server is stopping)."""
        self.closed = True
        for topic in self._topics.values():
            for wake in topic.viewers:
                wake.set()

    async def _run(self, topic: _Topic) -> None:
        while True:
            if self.stopping():
                self.close()
                return
            started = time.monotonic()
            try:
                topic.snapshot = await asyncio.to_thread(topic.compute)
                topic.error = None
            except asyncio.CancelledError:
                raise
            except Exception as e:  # the store may be briefly unavailable: keep the last snapshot, say so
                log.exception("live view: computing a snapshot failed")
                topic.error = f"the live view could not be refreshed: {type(e).__name__}"
            for wake in topic.viewers:
                wake.set()
            # A tick apart from start to start, so that the computing time does not add to how late a
            # change shows; a quarter tick at least, so that a slow store is not read back to back.
            await asyncio.sleep(max(topic.tick_s / 4, topic.tick_s - (time.monotonic() - started)))
