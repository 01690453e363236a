"""The summariser's order: a room that an event makes urgent (someone joined) is summarised before
the rest of a backlog of rooms that only had reports, not after it, so presence stays within a
second of the commit however many rooms are being re-summarised (docs/durability.md, "Live reads")."""

from __future__ import annotations

import dataclasses
import time
from concurrent.futures import Future

from conftest import make_account
from video_insights.model.ids import new_sid
from video_insights.model.records import Event, Source
from video_insights.processing import lifecycle as lc
from video_insights.processing.pipeline import SUMMARY_CHUNK_ROOMS, Pipeline, _next_chunk
from video_insights.settings import Settings
from video_insights.store import Store
from video_insights.store.base import WriteBatch


class Recording(Pipeline):
    """Records the rooms of each summary; while summarising the first chunk of the backlog, a
    participant joins a new room (committed by the writer thread, as a gateway connect would be)."""

    def __init__(self, store: Store, settings: Settings, joining: Event) -> None:
        super().__init__(store, settings)
        self.order: list[list[str]] = []
        self.joining = joining

    def summarize_rooms(self, account: str, rooms: list[str], batch: WriteBatch) -> None:
        if not self.order:
            stored: Future[None] = Future()
            self.submit(events=[self.joining], stored=stored)
            stored.result(timeout=30)
        self.order.append(rooms)
        super().summarize_rooms(account, rooms, batch)


def test_a_room_made_urgent_meanwhile_goes_before_the_rest_of_the_backlog(store: Store) -> None:
    account = make_account(store).account_sid
    joined = new_sid("RM")
    joining = Event(account, joined, new_sid("PA"), int(time.time() * 1000), Source.GATEWAY, lc.SESSION_CONNECT,
                    {"identity": "late", "roomName": "late"})
    settings = Settings.from_env({}, summary_delay_s=3600, writer_flush_ms=20)
    pipeline = Recording(store, settings, joining)
    backlog = sorted(new_sid("RM") for _ in range(SUMMARY_CHUNK_ROOMS * 3 + 5))
    pipeline.submit(rooms=[(account, room) for room in backlog])  # stale, not ripe: nothing is summarised
    pipeline.flush()
    assert pipeline.order == [] and pipeline.pending_summaries == len(backlog)
    pipeline.settings = dataclasses.replace(settings, summary_delay_s=0.0)  # the backlog is ripe now
    pipeline.start()
    try:
        deadline = time.monotonic() + 60
        while pipeline.pending_summaries or sum(map(len, pipeline.order)) < len(backlog) + 1:
            assert time.monotonic() < deadline, "the backlog and the new room are summarised"
            time.sleep(0.05)
    finally:
        pipeline.stop()
    assert pipeline.order[0] == backlog[:SUMMARY_CHUNK_ROOMS]
    assert pipeline.order[1] == [joined], "the joined room goes second, before the rest of the backlog"
    assert sorted(room for rooms in pipeline.order[2:] for room in rooms) == backlog[SUMMARY_CHUNK_ROOMS:]
    _, rows = store.fetch(f"SELECT room_status FROM rooms WHERE room_sid = '{joined}'")
    assert rows == [("in_progress",)]


class Slow(Pipeline):
    """Each room's summary takes at least 20 ms; records the rooms of each chunk."""

    def __init__(self, store: Store, settings: Settings) -> None:
        super().__init__(store, settings)
        self.order: list[list[str]] = []

    def summarize_rooms(self, account: str, rooms: list[str], batch: WriteBatch) -> None:
        self.order.append(rooms)
        time.sleep(0.02 * len(rooms))
        super().summarize_rooms(account, rooms, batch)


def test_chunks_of_slow_rooms_shrink_so_an_urgent_room_waits_less(store: Store) -> None:
    """A backlog whose rooms take 20 ms each: the first chunk of 64 takes over a second, so the next
    ones take about half a second's worth (25 rooms), which is how long a room made urgent meanwhile
    can wait for its turn."""
    account = make_account(store).account_sid
    settings = Settings.from_env({}, summary_delay_s=3600, writer_flush_ms=20)
    pipeline = Slow(store, settings)
    backlog = sorted(new_sid("RM") for _ in range(SUMMARY_CHUNK_ROOMS + 60))
    pipeline.submit(rooms=[(account, room) for room in backlog])
    pipeline.flush()
    pipeline.settings = dataclasses.replace(settings, summary_delay_s=0.0)
    pipeline.flush()  # no thread: summarises here, chunk after chunk
    assert sorted(r for rooms in pipeline.order for r in rooms) == backlog
    assert len(pipeline.order[0]) == SUMMARY_CHUNK_ROOMS
    assert max(len(rooms) for rooms in pipeline.order[1:]) <= 32


def test_next_chunk_fits_half_a_second_within_bounds() -> None:
    assert _next_chunk(64, 0.1) == SUMMARY_CHUNK_ROOMS  # quick: at most the largest chunk
    assert _next_chunk(64, 2.0) == 16
    assert _next_chunk(1, 10.0) == 1  # at least one room
    assert _next_chunk(4, 0.01) == 8  # growing back at most twofold a chunk
    assert _next_chunk(10, 0.0) == 20


def test_a_clock_offset_moving_alone_does_not_make_its_room_urgent(store: Store) -> None:
    """The gateway records each move of a session's clock offset as an event; it changes nothing a list
    shows, so it waits to be ripe, as reports do, while a connect is summarised at once."""
    account = make_account(store).account_sid
    moved, joined = new_sid("RM"), new_sid("RM")
    now = int(time.time() * 1000)
    pipeline = Pipeline(store, Settings.from_env({}, summary_delay_s=3600))  # no threads: flush summarises
    pipeline.submit(events=[
        Event(account, moved, new_sid("PA"), now, Source.GATEWAY, lc.CLIENT_CLOCK, {"clock_offset_ms": 25_000}),
        Event(account, joined, new_sid("PA"), now, Source.GATEWAY, lc.SESSION_CONNECT, {"identity": "x"})])
    pipeline.flush()
    _, rows = store.fetch(f"SELECT room_sid FROM rooms WHERE account_sid = '{account}'")
    assert rows == [(joined,)] and pipeline.pending_summaries == 1
