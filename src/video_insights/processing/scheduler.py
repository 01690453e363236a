"""Periodic work of a running server: ending timed-out rooms, and the retention policy."""

from __future__ import annotations

import logging
import threading

from video_insights.processing.pipeline import Pipeline
from video_insights.settings import Settings
from video_insights.store.retention import purge

log = logging.getLogger(__name__)
REFRESH_S = 30.0
RETENTION_S = 3600.0


class Scheduler:
    def __init__(self, pipeline: Pipeline, settings: Settings) -> None:
        self.pipeline = pipeline
        self.settings = settings
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name="scheduler", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=10)

    def _run(self) -> None:
        since_retention = RETENTION_S  # apply the policy once at start, then hourly
        while not self._stop.is_set():
            try:
                if since_retention >= RETENTION_S:
                    removed = purge(self.pipeline.store, self.settings)
                    if any(removed.values()):
                        log.info("retention removed %s", removed)
                    since_retention = 0.0
                self.pipeline.refresh_in_progress(idle_ms=int(REFRESH_S * 1000))
            except Exception:  # the next round tries again; a failing store shows in /healthz
                log.exception("scheduled work failed")
            self._stop.wait(REFRESH_S)
            since_retention += REFRESH_S
