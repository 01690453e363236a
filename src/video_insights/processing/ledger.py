"""Which rooms need (re)summarising, kept in the store rather than in a process's memory.

The summaries of a room are recomputed from its stored events and samples; which rooms are due is
recorded in `room_ledger` (store.schema), so that a process restarted after a crash, or another
process on a shared store, finishes what a dead process left (docs/durability.md):

- A write of data for a room writes the room's `touched` entry with a new random token: in the same
  transaction where the store has transactions, else (ClickHouse) once before the data, so that a
  crash half-way leaves the room marked, and once after it under another token, so that a summary
  that read the first token before the data was visible is not taken to cover it.
- A summary reads the rooms' `touched` tokens before it reads their data, and once its rows are
  written records each token read as the room's `summarized` entry. A room is stale while its two
  entries' tokens differ: a touch written after the token was read has a token of its own.
  Within a process the writer and the summariser are threads: a summary's take of its rooms (after
  which this process's next write to them touches them again) and a write's decision not to touch
  a room, with that write, exclude each other, so a write that touched nothing is seen by the summary.
- A process does not write a touch for every batch: only when a room becomes stale for it, and again
  when its last touch is older than the summary delay. So every write of data for a room is preceded,
  at most a summary delay earlier, by a touch of that process, and a room whose last touch is older
  than the summary delay plus `takeover_after_s` has had no data from anyone for `takeover_after_s`:
  any process may then summarise it, and what it reads covers every write (clocks of the processes
  agreeing within `takeover_after_s`).
"""

from __future__ import annotations

import secrets
import threading
import time
from collections.abc import Iterable

from video_insights.model.ids import sid_key
from video_insights.query import ledger as queries
from video_insights.settings import Settings
from video_insights.store.base import Store, WriteBatch, make_row

RoomKey = tuple[str, str]  # (account_sid, room_sid)


def _entry(room: RoomKey, entry: str, token: str, at_ms: int) -> tuple[object, ...]:
    return make_row("room_ledger", account_sid=room[0], room_sid=room[1], room_key=sid_key(room[1]), entry=entry,
                    token=token, at_ms=at_ms)


class Ledger:
    def __init__(self, store: Store, settings: Settings) -> None:
        self.store = store
        self.settings = settings
        self._touched: dict[RoomKey, float] = {}  # rooms this process touched since it summarised them
        # Deciding which rooms a write touches, and the write, against a summary's taking of its rooms:
        # a write that touched nothing because the room was touched must be visible to that summary.
        self._lock = threading.Lock()

    def write(self, batch: WriteBatch, rooms: Iterable[RoomKey]) -> None:
        """Write `batch`, the data of `rooms`, with the touches the rooms need."""
        with self._lock:
            now = time.monotonic()
            refresh = now - self.settings.summary_delay_s
            due = sorted({r for r in rooms if self._touched.get(r, refresh) <= refresh})
            if not due:
                self.store.write(batch)
                return
            if self.store.transactional:
                self._touch(batch, due)
                self.store.write(batch)
            else:
                self.store.write(self._touch(WriteBatch(), due))
                self.store.write(batch)
                self.store.write(self._touch(WriteBatch(), due))
            for room in due:
                self._touched[room] = now

    @staticmethod
    def _touch(batch: WriteBatch, rooms: list[RoomKey]) -> WriteBatch:
        at = int(time.time() * 1000)
        for room in rooms:
            batch.replace("room_ledger", _entry(room, queries.TOUCHED, secrets.token_hex(8), at))
        return batch

    def take(self, rooms: Iterable[RoomKey]) -> dict[RoomKey, str]:
        """A summary of these rooms starts: their last touches, read before their data is. From here
        on this process's next write to them touches them again."""
        wanted = set(rooms)
        with self._lock:
            for room in wanted:
                self._touched.pop(room, None)
            return self.tokens(wanted)

    def tokens(self, rooms: Iterable[RoomKey]) -> dict[RoomKey, str]:
        """The rooms' last touches."""
        wanted = set(rooms)
        if not wanted:
            return {}
        _, rows = self.store.fetch(queries.touched_tokens(wanted))
        return {(a, r): t for a, r, t in rows if (a, r) in wanted}

    def summarized(self, batch: WriteBatch, tokens: dict[RoomKey, str]) -> WriteBatch:
        """Record that the rooms' summaries cover what their tokens stand for (the summaries themselves
        are in `batch`, or were written before it)."""
        at = int(time.time() * 1000)
        for room, token in sorted(tokens.items()):
            batch.replace("room_ledger", _entry(room, queries.SUMMARIZED, token, at))
        return batch

    def stale(self, touched_before_ms: int) -> list[RoomKey]:
        _, rows = self.store.fetch(queries.stale_rooms(touched_before_ms))
        return list(dict.fromkeys((str(a), str(r)) for a, r in rows))

    def abandoned_before_ms(self) -> int:
        """Touches before this time are no live process's to finish (see the module's note)."""
        s = self.settings
        return int((time.time() - s.summary_delay_s - s.takeover_after_s) * 1000)
