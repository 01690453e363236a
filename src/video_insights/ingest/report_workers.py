"""Stats reports turned into stream_samples columns in worker processes (docs/durability.md, "Report
workers").

One interpreter runs one thread of Python at a time. At thousands of reports a second, decoding
each report and building its rows took about a third of the event loop's time, and turning the
rows into typed columns half of the writer thread's, all under that one lock: together they
capped a server near 12,000 reports a second on two cores. The WebSocket's reports are therefore
handed, as the bytes they arrived as, to `ingest_workers` processes, which decode them with the same
function as the gateway's own path (`gateway_wire.stats_payload_rows`) and send back typed columns
ready for the store. The event loop keeps what is cheap and stateful: framing, the envelope, the
session's clock, acknowledgements.

Nothing is lost on the way: a batch whose worker fails (a bug, or a worker killed) is parsed in this
process instead, and the pool is replaced. A burst is submitted, with its events and its commit
future, only once its reports are parsed, so a commit acknowledgement still means stored.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import multiprocessing
import os
import threading
import time
from collections import deque
from collections.abc import Sequence
from concurrent.futures import Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from video_insights.ingest.gateway_wire import ROW_COLUMNS, stats_payload_rows
from video_insights.ingest.rejections import Reason, Rejections
from video_insights.model.records import Event
from video_insights.processing.intervals import GATEWAY_PERIOD_MS
from video_insights.runtime import tune_gc
from video_insights.store.base import Row
from video_insights.store.columns import columns_of
from video_insights.store.schema import STREAM_SAMPLES

if TYPE_CHECKING:  # not imported by the workers, which only parse
    from video_insights.processing.pipeline import Pipeline, RoomKey

log = logging.getLogger(__name__)

# One stats report to parse: account, room and participant SIDs, the report's time on the server's
# clock, the session's clock offset, the payload as received, and its path for error messages.
Job = tuple[str, str, str, int, int, bytes, str]
# What became of one job: the entries left out (their messages), and the reason and message if the
# report was refused as a whole.
Outcome = tuple[list[str], Reason | None, str]
# A batch goes to a worker once this many reports have gathered, or GATHER_S after its first, if a
# worker is free; while every worker is busy (one batch parsing and one queued behind it each),
# reports keep gathering. So batches grow with the load, up to BATCH_MAX_REPORTS: each trip costs
# the same few hand-overs between threads whatever its size, and small trips queued behind one
# another held a first version near 15,000 reports a second, while one huge batch stalled the
# writer for seconds when it came back.
BATCH_REPORTS = 2_000
BATCH_MAX_REPORTS = 8_000
GATHER_S = 0.005
# Reports in flight count this many samples each against `max_pending_samples` (audio and three
# simulcast layers: four entries, as twilio-video.js sends them for a camera and a microphone).
SAMPLES_PER_REPORT = 4


def _start_worker(parent: int) -> None:
    """A worker's start: the server's garbage-collector tuning, and a watch that ends the worker once
    its server is gone. A server killed with SIGKILL never tells its workers, and a worker waiting for
    its next batch never sees the queue close (it holds the queue's other end itself): without the
    watch, each crash left a worker behind."""
    tune_gc()

    def watch() -> None:
        while os.getppid() == parent:
            time.sleep(1)
        os._exit(0)

    threading.Thread(target=watch, name="server-watch", daemon=True).start()


def parse(jobs: Sequence[Job]) -> tuple[dict[str, Any] | None, list[Outcome]]:
    """Runs in a worker (or here, when a worker failed): the jobs' rows as typed columns, and each
    job's outcome. A malformed entry is left out and named; a report that is unusable as a
    whole is refused and named, and the others are kept."""
    rows: list[Row] = []
    outcomes: list[Outcome] = []
    for account_sid, room_sid, participant_sid, ts_ms, offset_ms, payload, path in jobs:
        dropped: list[str] = []
        try:
            rows.extend(stats_payload_rows(payload, account_sid=account_sid, room_sid=room_sid,
                                           participant_sid=participant_sid, ts_ms=ts_ms, period_ms=GATEWAY_PERIOD_MS,
                                           path=path, dropped=dropped, offset_ms=offset_ms))
            outcomes.append((dropped, None, ""))
        except ValueError as e:
            outcomes.append((dropped, Reason.MALFORMED_EVENT, str(e)))
        except Exception as e:  # a bug in a parser loses this report, not the batch
            log.exception("gateway report failed")
            outcomes.append((dropped, Reason.INTERNAL_ERROR, f"{type(e).__name__}: {e}"))
    columns = columns_of(STREAM_SAMPLES, rows, ROW_COLUMNS, skip_null=True) if rows else None
    return columns, outcomes


@dataclass
class _Burst:
    """One WebSocket burst's reports, with what is stored alongside."""

    jobs: list[Job]
    participant_sid: str
    events: Sequence[Event]
    room: RoomKey
    stored: Future[None] | None


class ReportWorkers:
    """The gateway's side of the workers: gathers the reports of every connection's bursts for a few
    milliseconds, sends them to a worker in one batch, and submits what comes back to the pipeline."""

    def __init__(self, workers: int, pipeline: Pipeline, rejections: Rejections) -> None:
        self.workers = workers
        self._pipeline = pipeline
        self._rejections = rejections
        self._executor: ProcessPoolExecutor | None = None
        self._bursts: deque[_Burst] = deque()  # gathered, not sent yet
        self._gathered = 0  # their reports
        self._timer: asyncio.TimerHandle | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        # in_flight and the batches out: changed by the event loop and the pool's thread
        self._lock = threading.Condition()
        self._in_flight = 0
        self._batches = 0
        self.fallbacks = 0  # batches parsed in this process because their worker failed

    @property
    def in_flight(self) -> int:
        """Reports received and not yet handed to the pipeline."""
        return self._in_flight

    @property
    def pending_samples(self) -> int:
        """What the reports in flight weigh against `max_pending_samples`."""
        return self._in_flight * SAMPLES_PER_REPORT

    def warm(self) -> None:
        """Start the workers if they are not running: a WebSocket has connected, and its first report
        should not wait for a process to start and import (about a second)."""
        if self._executor is None:
            with contextlib.suppress(RuntimeError):
                self._pool().submit(parse, ())

    def add(self, jobs: list[Job], *, participant_sid: str, events: Sequence[Event], room: RoomKey,
            stored: Future[None] | None) -> None:
        """Queue one burst's reports (called on the event loop); its events and commit future go to the
        pipeline with them."""
        self._bursts.append(_Burst(jobs, participant_sid, events, room, stored))
        self._gathered += len(jobs)
        with self._lock:
            self._in_flight += len(jobs)
            busy = self._batches >= 2 * self.workers
        if busy:
            return  # the next batch to finish sends this one
        if self._gathered >= BATCH_REPORTS:
            self.dispatch()
        elif self._timer is None:
            self._loop = asyncio.get_running_loop()
            self._timer = self._loop.call_later(GATHER_S, self.dispatch)

    def _next(self) -> None:
        """A batch is done (on the event loop): send what gathered meanwhile, while a worker is free."""
        while self._bursts:
            with self._lock:
                if self._batches >= 2 * self.workers:
                    return
            self.dispatch()

    def dispatch(self) -> None:
        """Send what has gathered to a worker now: whole bursts, BATCH_MAX_REPORTS at most (the rest
        follows when a batch is done)."""
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        bursts: list[_Burst] = []
        jobs: list[Job] = []
        while self._bursts and (not jobs or len(jobs) + len(self._bursts[0].jobs) <= BATCH_MAX_REPORTS):
            burst = self._bursts.popleft()
            bursts.append(burst)
            jobs.extend(burst.jobs)
        if not jobs:
            return
        self._gathered -= len(jobs)
        if self._loop is None:
            with contextlib.suppress(RuntimeError):  # close() may run outside the loop
                self._loop = asyncio.get_running_loop()
        try:
            future = self._pool().submit(parse, jobs)
        except RuntimeError:  # the pool broke, or is shutting down: parse here instead
            self._executor = None
            future = Future()
            future.set_exception(BrokenProcessPool("report workers unavailable"))
        with self._lock:
            self._batches += 1
        future.add_done_callback(lambda f: self._done(f, jobs, bursts))

    def _pool(self) -> ProcessPoolExecutor:
        if self._executor is None:
            # spawn: this process has threads (the writer's, DuckDB's), which a fork would copy mid-work
            self._executor = ProcessPoolExecutor(self.workers, mp_context=multiprocessing.get_context("spawn"),
                                                 initializer=_start_worker, initargs=(os.getpid(),))
        return self._executor

    def _done(self, future: Future[tuple[dict[str, Any] | None, list[Outcome]]], jobs: list[Job],
              bursts: list[_Burst]) -> None:
        """Runs on the pool's thread once a batch is parsed (or here, on failure: parsed again)."""
        try:
            try:
                try:
                    columns, outcomes = future.result()
                except Exception as e:
                    self.fallbacks += 1
                    log.warning("report workers failed (%s: %s): parsing %d reports in the server's process",
                                type(e).__name__, e, len(jobs))
                    if isinstance(e, BrokenProcessPool):
                        self._executor = None  # a new pool for the next batch
                    columns, outcomes = parse(jobs)
            except Exception as e:  # a bug even here: the reports are refused, as the server's own path
                log.exception("gateway reports failed")  # would, and their bursts' events are still stored
                columns, outcomes = None, [([], Reason.INTERNAL_ERROR, f"{type(e).__name__}: {e}")] * len(jobs)
            start = 0
            for burst in bursts:
                end = start + len(burst.jobs)
                for dropped, reason, message in outcomes[start:end]:
                    for entry in dropped:
                        self._rejections.add(Reason.MALFORMED_ENTRY, entry, burst.participant_sid)
                    if reason is not None:
                        self._rejections.add(reason, message, burst.participant_sid)
                start = end
            self._pipeline.submit(events=[e for b in bursts for e in b.events], rooms=list(dict.fromkeys(
                b.room for b in bursts)), columns=columns,
                committed=[b.stored for b in bursts if b.stored is not None])
        finally:
            with self._lock:
                self._in_flight -= len(jobs)
                self._batches -= 1
                self._lock.notify_all()
            if self._loop is not None:
                with contextlib.suppress(RuntimeError):  # the loop has ended: close() sends the rest
                    self._loop.call_soon_threadsafe(self._next)

    def drain(self, timeout: float = 60) -> bool:
        """Wait (on another thread than the event loop's, which sends what gathers) until every report
        received so far is parsed and handed to the pipeline; False if that took over `timeout`."""
        with self._lock:
            return self._lock.wait_for(lambda: self._in_flight == 0, timeout)

    def close(self) -> None:
        """Parse and submit everything received (before the pipeline's last commit), and stop the workers."""
        while self._bursts:
            self.dispatch()
        with self._lock:  # every batch's callback has submitted it (or parsed it here first)
            if not self._lock.wait_for(lambda: self._batches == 0, timeout=120):
                log.error("report workers: %d batch(es) not parsed within 120 s", self._batches)
        if self._executor is not None:
            self._executor.shutdown(wait=True)
            self._executor = None
