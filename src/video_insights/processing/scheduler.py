"""Periodic work of a running server: ending timed-out rooms, finishing rooms left stale (by a crashed
process, see processing/ledger.py), and the retention policy."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable

from video_insights.processing.pipeline import Pipeline
from video_insights.settings import Settings
from video_insights.store.retention import purge

log = logging.getLogger(__name__)
REFRESH_S = 30.0
RETENTION_S = 3600.0
TICK_S = 1.0


class Scheduler:
    def __init__(self, pipeline: Pipeline, settings: Settings) -> None:
        self.pipeline = pipeline
        self.settings = settings
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        # Stale rooms are looked for a few times within the takeover time, so one is taken over at
        # most about a quarter of it late.
        adopt_s = min(REFRESH_S, max(TICK_S, settings.takeover_after_s / 4))
        # (period, work); each runs once at start, then every period.
        self._tasks: list[tuple[float, Callable[[], None]]] = [
            (RETENTION_S, self._retention), (REFRESH_S, self._refresh), (adopt_s, self._adopt)]

    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name="scheduler", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=10)

    def _retention(self) -> None:
        removed = purge(self.pipeline.store, self.settings)
        if any(removed.values()):
            log.info("retention removed %s", removed)

    def _refresh(self) -> None:
        self.pipeline.refresh_in_progress(idle_ms=int(REFRESH_S * 1000))

    def _adopt(self) -> None:
        self.pipeline.adopt(self.pipeline.ledger.abandoned_before_ms())

    def _run(self) -> None:
        due = [0.0] * len(self._tasks)
        while not self._stop.is_set():
            for i, (period, work) in enumerate(self._tasks):
                if time.monotonic() < due[i]:
                    continue
                due[i] = time.monotonic() + period
                try:
                    work()
                except Exception:  # the next round tries again; a failing store shows in /healthz
                    log.exception("scheduled work failed")
            self._stop.wait(TICK_S)
