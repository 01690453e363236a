"""How long the store's reads took for the request being served: each engine's `fetch` is decorated
with `timed`, and the web layer opens a `StoreClock` per request and reports it in a `Server-Timing`
header (browsers' developer tools show it; the benchmarks read it to tell the engine's time from the
server's). Every read is also counted in `READS`, the process's histogram that /metrics exports."""

from __future__ import annotations

import time
from collections.abc import Callable
from contextvars import ContextVar
from functools import wraps
from typing import TypeVar

from prometheus_client import Histogram

R = TypeVar("R")
# Not registered: the app's /metrics collector reads it (web/api/metrics.py).
READS = Histogram("video_insights_store_read_seconds", "Time the store takes to answer one read.", registry=None,
                  buckets=(0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 10.0))


class StoreClock:
    """Durations of the reads made while it is current (reads in worker threads count too: the
    threads a request starts copy its context, and with it this object)."""

    def __init__(self) -> None:
        self.durations: list[float] = []  # list.append is atomic: no lock for reads in parallel threads

    @property
    def seconds(self) -> float:
        return sum(self.durations)


CURRENT: ContextVar[StoreClock | None] = ContextVar("store_clock", default=None)


def timed(fetch: Callable[..., R]) -> Callable[..., R]:
    @wraps(fetch)
    def counted(*args: object, **kwargs: object) -> R:
        clock = CURRENT.get()
        start = time.perf_counter()
        try:
            return fetch(*args, **kwargs)
        finally:
            took = time.perf_counter() - start
            READS.observe(took)
            if clock is not None:
                clock.durations.append(took)

    return counted
