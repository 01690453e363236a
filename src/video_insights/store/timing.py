"""How long the store's reads took for the request being served: each engine's `fetch` is decorated
with `timed`, and the web layer opens a `StoreClock` per request and reports it in a `Server-Timing`
header (browsers' developer tools show it; the benchmarks read it to tell the engine's time from the
server's)."""

from __future__ import annotations

import time
from collections.abc import Callable
from contextvars import ContextVar
from functools import wraps
from typing import TypeVar

R = TypeVar("R")


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
        if clock is None:
            return fetch(*args, **kwargs)
        start = time.perf_counter()
        try:
            return fetch(*args, **kwargs)
        finally:
            clock.durations.append(time.perf_counter() - start)

    return counted
