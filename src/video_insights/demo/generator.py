"""The seeded generator of a realistic week of calls for one account.

Rooms are planned in chunks, in order of start (`demo.scenarios`), and turned into what the sources
would have sent (`demo.events`: Twilio status callbacks and gateway events; `demo.samples`: 10-second
stats reports as column arrays). Samples are written in time order, as live ingest writes them (the
store's time pruning depends on that layout, so benchmarks on this data measure what production sees);
once all of a chunk's samples are written, its events are written and its rooms summarised by the
real pipeline. Nothing in a summary is invented here. Memory holds the samples of calls in progress.
The same seed, account and `now_ms` give the same data.
"""

from __future__ import annotations

import threading
import time
from collections import Counter
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field

import numpy as np

from video_insights.demo.events import room_events
from video_insights.demo.progress import Report, TerminalBar
from video_insights.demo.rhythm import DAY_MS, Rhythm
from video_insights.demo.samples import SampleBuilder
from video_insights.demo.scenarios import (
    MEETINGS,
    ROOM_TYPES,
    Mix,
    Room,
    RoomSeed,
    identity_pool,
    plan_room,
    room_types,
)
from video_insights.model.ids import derived_sid
from video_insights.model.records import Event
from video_insights.processing.pipeline import Pipeline
from video_insights.query import participants as participant_queries
from video_insights.query.sql import untag
from video_insights.settings import Settings
from video_insights.store.base import Store, WriteBatch

# Rooms planned together (one sample-building pass), and rooms summarised together: small enough to
# keep each summary query's participant list short, to show progress often and to stop soon when asked.
CHUNK_ROOMS = 400
SUMMARY_ROOMS = 50


class GenerationStopped(Exception):
    """`stop` was set: generation ended between two steps, leaving what it had written."""


@dataclass(frozen=True)
class DemoSummary:
    account_sid: str
    since_ms: int
    until_ms: int
    rooms: int
    participants: int
    samples: int
    events: int
    seconds: float
    # Participants with each issue type, among the account's participants who joined in the window.
    issues: dict[str, int] = field(default_factory=dict)


@dataclass
class _Totals:
    rooms: int = 0
    participants: int = 0
    samples: int = 0
    events: int = 0
    day: int = 0  # of the rooms summarised last


def generate(store: Store, settings: Settings, *, account_sid: str, days: int = 7, rooms_per_day: int = 300,
             seed: int = 0, now_ms: int | None = None, end_ms: int | None = None, progress: bool = True,
             mix: Mix = MEETINGS, report: Report | None = None, stop: threading.Event | None = None,
             metrics_documents: bool = True) -> DemoSummary:
    """Write `days` days of rooms ending at `end_ms` (default: `now_ms`, default now) for `account_sid`,
    and summarise them; what happens after `now_ms` is left out. `mix` sets how big and long rooms are
    (scenarios.MIXES). `progress` draws a bar on stderr; `report` is told the same; `stop` ends the
    run between two steps (GenerationStopped). Without `metrics_documents` the participants' /Metrics
    documents are not built (a scratch store whose summaries are all that is kept)."""
    started = time.monotonic()
    now = int(time.time() * 1000) if now_ms is None else now_ms
    end = now if end_ms is None else end_ms
    start = end - days * DAY_MS
    rhythm = Rhythm(start, days, rooms_per_day)
    identities = identity_pool(np.random.default_rng([seed, days, rooms_per_day]), max(200, rooms_per_day))
    pipeline = Pipeline(store, settings, metrics_documents=metrics_documents)
    totals = _Totals()
    # SIDs differ between runs at different times (reruns never collide) and between windows of one run.
    run = f"{seed}:{now}" if end == now else f"{seed}:{now}:{end}"
    total_rooms = sum(rhythm.rooms_on(d) for d in range(days))
    carry = np.zeros(len(ROOM_TYPES))
    writer = _TimeOrderedWriter(store)
    waiting: list[tuple[_Chunk, int]] = []  # planned chunks whose samples are not all written yet
    bar = TerminalBar() if progress else None
    reports = [r for r in (bar.reporter("demo data") if bar else None, report) if r is not None]

    def tell() -> None:
        # The day whose rooms were summarised last: what the rooms count has reached.
        for r in reports:
            r(totals.rooms, total_rooms, f"day {min(totals.day + 1, days)}/{days}")
        if stop is not None and stop.is_set():
            raise GenerationStopped

    def summarise(ready: list[tuple[_Chunk, int]]) -> None:
        for c, _ in ready:
            totals.day = c.day
            for rooms, events in _slices(c):
                # write_now stores the events, then summarises every room they touch from the events and
                # samples read back (Pipeline.summarize_rooms).
                pipeline.write_now(events=events)
                totals.rooms += len(rooms)
                totals.participants += sum(len(r.participants) for r in rooms)
                totals.events += len(events)
                tell()

    if bar:
        bar.start()
    try:
        tell()
        for day in range(days):
            day_rng = np.random.default_rng([seed, day])
            times, regions = rhythm.day(day_rng, day)
            types, carry = room_types(day_rng, len(times), carry)
            for chunk, lo in enumerate(range(0, len(times), CHUNK_ROOMS)):
                hi = min(lo + CHUNK_ROOMS, len(times))
                seeds = [RoomSeed(derived_sid("RM", account_sid, run, str(day), str(i)), int(times[i]), regions[i],
                                  types[i]) for i in range(lo, hi)]
                rng = np.random.default_rng([seed, day, chunk + 1])
                planned = _plan_chunk(account_sid, day, seeds, identities, now, rng, mix)
                writer.add(planned.columns)
                waiting.append((planned, _last_sample(planned.columns)))
                planned.columns = []  # the writer holds them now
                # Rooms are planned in order of start: no later room has a sample before this one's start.
                writer.flush_before(int(times[hi - 1]))
                tell()
                summarise([w for w in waiting if w[1] < writer.watermark])
                waiting = [w for w in waiting if w[1] >= writer.watermark]
        writer.flush_before(2**62)
        summarise(waiting)
    finally:
        if bar:
            bar.stop()
    totals.samples = writer.written
    return DemoSummary(account_sid, start, end, totals.rooms, totals.participants, totals.samples, totals.events,
                       round(time.monotonic() - started, 2), _issue_counts(store, account_sid, start, end))


def _slices(chunk: _Chunk) -> Iterator[tuple[list[Room], list[Event]]]:
    """The chunk's rooms, SUMMARY_ROOMS at a time, with their events."""
    by_room: dict[str, list[Event]] = {}
    for e in chunk.events:
        by_room.setdefault(e.room_sid, []).append(e)
    for lo in range(0, len(chunk.rooms), SUMMARY_ROOMS):
        rooms = chunk.rooms[lo:lo + SUMMARY_ROOMS]
        yield rooms, [e for r in rooms for e in by_room.get(r.sid, [])]


@dataclass
class _Chunk:
    day: int
    rooms: list[Room]
    events: list[Event]
    columns: list[dict[str, np.ndarray]]


def _plan_chunk(account: str, day: int, seeds: Sequence[RoomSeed], identities: Sequence[str], now: int,
                rng: np.random.Generator, mix: Mix) -> _Chunk:
    rooms = [r for r in (_until(plan_room(rng, s, identities, mix), now) for s in seeds) if r.participants]
    builder = SampleBuilder(account, now, rng)
    events: list[Event] = []
    for room in rooms:
        builder.add_room(room)
        events += room_events(account, room, now, rng)
    return _Chunk(day, rooms, events, builder.columns())


def _last_sample(columns: list[dict[str, np.ndarray]]) -> int:
    return max((int(c["ts_ms"].max()) for c in columns if len(c["ts_ms"])), default=0)


class _TimeOrderedWriter:
    """Writes samples in time order, as live ingest does, holding only those not yet known to be
    earlier than every sample still to come (the calls in progress at the watermark)."""

    def __init__(self, store: Store) -> None:
        self.store = store
        self.pending: dict[tuple[str, ...], list[dict[str, np.ndarray]]] = {}
        self.watermark = 0
        self.written = 0

    def add(self, columns: list[dict[str, np.ndarray]]) -> None:
        for c in columns:
            self.pending.setdefault(tuple(sorted(c)), []).append(c)

    def flush_before(self, watermark: int) -> None:
        self.watermark = max(self.watermark, watermark)
        batch = WriteBatch()
        for names, parts in self.pending.items():
            merged = {n: np.concatenate([p[n] for p in parts]) for n in names}
            early = merged["ts_ms"] < self.watermark
            if early.any():
                order = np.argsort(merged["ts_ms"][early], kind="stable")
                batch.insert_columns("stream_samples", {n: a[early][order] for n, a in merged.items()})
                self.written += len(order)
            self.pending[names] = [{n: a[~early] for n, a in merged.items()}]
        if batch:
            self.store.write(batch)


def _until(room: Room, now: int) -> Room:
    """The room as far as it has happened: people who join later are not there yet."""
    room.participants = [p for p in room.participants if p.join_ms < now]
    return room


def _issue_counts(store: Store, account: str, since: int, until: int) -> dict[str, int]:
    _, rows = store.fetch(participant_queries.issue_types_joined(account, since, until))
    counts = Counter(t for (tags,) in rows for t in untag(tags))
    return dict(sorted(counts.items()))
