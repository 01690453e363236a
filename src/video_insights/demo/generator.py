"""The seeded generator of a realistic week of calls for one account.

Day by day, and within a day by chunks of rooms, rooms are planned (`demo.scenarios`) and turned into
what the sources would have sent (`demo.events`: Twilio status callbacks and gateway events;
`demo.samples`: 10-second stats reports as column arrays). A day's samples are written in time order,
as live ingest writes them (the store's time pruning depends on that layout, so benchmarks on this
data measure what production sees); then each chunk's events are written and its rooms summarised by
the real pipeline. Nothing in a summary is invented here. Memory is bounded by one day's samples.
The same seed, account and `now_ms` give the same data.
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field

import numpy as np
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from video_insights.demo.events import room_events
from video_insights.demo.rhythm import DAY_MS, Rhythm
from video_insights.demo.samples import SampleBuilder
from video_insights.demo.scenarios import ROOM_TYPES, Room, RoomSeed, identity_pool, plan_room, room_types
from video_insights.model.ids import derived_sid
from video_insights.model.records import Event
from video_insights.processing.pipeline import Pipeline
from video_insights.query.sql import q, untag
from video_insights.settings import Settings
from video_insights.store.base import Store, WriteBatch

# Rooms planned and summarised together: keeps each summary query's participant list short.
CHUNK_ROOMS = 400
Advance = Callable[[int, str], None]


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


def generate(store: Store, settings: Settings, *, account_sid: str, days: int = 7, rooms_per_day: int = 300,
             seed: int = 0, now_ms: int | None = None, progress: bool = True) -> DemoSummary:
    """Write `days` days of rooms ending at `now_ms` (default: now) for `account_sid`, and summarise them."""
    started = time.monotonic()
    now = int(time.time() * 1000) if now_ms is None else now_ms
    start = now - days * DAY_MS
    rhythm = Rhythm(start, days, rooms_per_day)
    identities = identity_pool(np.random.default_rng([seed, days, rooms_per_day]), max(200, rooms_per_day))
    pipeline = Pipeline(store, settings)
    totals = _Totals()
    run = f"{seed}:{now}"  # SIDs differ between runs at different times, so reruns never collide
    total_rooms = sum(rhythm.rooms_on(d) for d in range(days))
    carry = np.zeros(len(ROOM_TYPES))
    with _progress(progress, total_rooms) as advance:
        for day in range(days):
            day_rng = np.random.default_rng([seed, day])
            times, regions = rhythm.day(day_rng, day)
            types, carry = room_types(day_rng, len(times), carry)
            chunks = []
            for chunk, lo in enumerate(range(0, len(times), CHUNK_ROOMS)):
                seeds = [RoomSeed(derived_sid("RM", account_sid, run, str(day), str(i)), int(times[i]), regions[i],
                                  types[i]) for i in range(lo, min(lo + CHUNK_ROOMS, len(times)))]
                rng = np.random.default_rng([seed, day, chunk + 1])
                chunks.append(_plan_chunk(account_sid, seeds, identities, now, rng))
            totals.samples += _write_samples_in_time_order(store, [c.columns for c in chunks])
            for c in chunks:
                # write_now stores the events, then summarises every room they touch from the events and
                # samples read back (Pipeline.summarize_rooms).
                pipeline.write_now(events=c.events)
                totals.rooms += len(c.rooms)
                totals.participants += sum(len(r.participants) for r in c.rooms)
                totals.events += len(c.events)
                advance(len(c.rooms), f"day {day + 1}/{days}")
    return DemoSummary(account_sid, start, now, totals.rooms, totals.participants, totals.samples, totals.events,
                       round(time.monotonic() - started, 2), _issue_counts(store, account_sid, start))


@dataclass
class _Chunk:
    rooms: list[Room]
    events: list[Event]
    columns: list[dict[str, np.ndarray]]


def _plan_chunk(account: str, seeds: Sequence[RoomSeed], identities: Sequence[str], now: int,
                rng: np.random.Generator) -> _Chunk:
    rooms = [r for r in (_until(plan_room(rng, s, identities), now) for s in seeds) if r.participants]
    builder = SampleBuilder(account, now, rng)
    events: list[Event] = []
    for room in rooms:
        builder.add_room(room)
        events += room_events(account, room, now, rng)
    return _Chunk(rooms, events, builder.columns())


def _write_samples_in_time_order(store: Store, chunk_columns: list[list[dict[str, np.ndarray]]]) -> int:
    """One day's sample columns, grouped by their column set, sorted by time and written."""
    groups: dict[tuple[str, ...], list[dict[str, np.ndarray]]] = {}
    for columns in (c for chunk in chunk_columns for c in chunk):
        groups.setdefault(tuple(sorted(columns)), []).append(columns)
    batch = WriteBatch()
    written = 0
    for names, parts in groups.items():
        merged = {n: np.concatenate([p[n] for p in parts]) for n in names}
        order = np.argsort(merged["ts_ms"], kind="stable")
        batch.insert_columns("stream_samples", {n: a[order] for n, a in merged.items()})
        written += len(order)
    store.write(batch)
    return written


def _until(room: Room, now: int) -> Room:
    """The room as far as it has happened: people who join later are not there yet."""
    room.participants = [p for p in room.participants if p.join_ms < now]
    return room


def _issue_counts(store: Store, account: str, since: int) -> dict[str, int]:
    _, rows = store.fetch(q("SELECT issue_types FROM participants WHERE account_sid = :a AND join_ms >= :since",
                            a=account, since=since))
    counts = Counter(t for (tags,) in rows for t in untag(tags))
    return dict(sorted(counts.items()))


@contextmanager
def _progress(enabled: bool, total: int) -> Iterator[Advance]:
    if not enabled:
        yield lambda n, description: None
        return
    columns = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TextColumn("rooms"),
               TimeElapsedColumn())
    with Progress(*columns, console=Console(stderr=True)) as bar:
        task = bar.add_task("demo data", total=total)
        yield lambda n, description: bar.update(task, advance=n, description=description)
