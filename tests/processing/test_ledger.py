"""Which rooms await their summaries is read from the store, not from a process's memory: a process
started on a store where another stopped (crashed) before summarising finishes those rooms, and a
summary that read a room's ledger before newer data arrived does not pass for covering it."""

from __future__ import annotations

import time

import pytest

from conftest import make_account
from video_insights.model.ids import new_sid
from video_insights.model.records import Event, Source, StreamSample
from video_insights.processing import lifecycle as lc
from video_insights.processing.ledger import Ledger
from video_insights.processing.pipeline import Pipeline, event_id
from video_insights.query.sql import q
from video_insights.settings import Settings
from video_insights.store import Store
from video_insights.store.base import WriteBatch, make_row
from video_insights.store.schema import ROOM_LEDGER

NEVER_RIPE = Settings.from_env({}, summary_delay_s=3600)


def _joined(account: str, room: str) -> Event:
    return Event(account, room, new_sid("PA"), int(time.time() * 1000), Source.GATEWAY, lc.SESSION_CONNECT,
                 {"identity": "alice", "room_name": "standup"})


def _report(account: str, room: str, n: int) -> StreamSample:
    return StreamSample(account, room, "PA" + "0" * 32, "pc1", "send", "audio", 1, int(time.time() * 1000) + n,
                        bytes=1000 * n, packets=10 * n)


def _rooms(store: Store, room: str) -> list[str]:
    _, rows = store.fetch(q("SELECT room_status FROM rooms WHERE room_sid = :r", r=room))
    return [str(r[0]) for r in rows]


def _stale(ledger: Ledger) -> list[tuple[str, str]]:
    return ledger.stale(int(time.time() * 1000) + 1)


def _event_batch(e: Event) -> WriteBatch:
    batch = WriteBatch()
    batch.insert("events", make_row("events", account_sid=e.account_sid, room_sid=e.room_sid,
                                    participant_sid=e.participant_sid, ts_ms=e.ts_ms, source=e.source.value,
                                    name=e.name, payload="{}", event_id=event_id(e), received_ms=e.ts_ms,
                                    room_key=0))
    return batch


def test_a_restarted_process_summarises_what_the_last_one_only_committed(store: Store) -> None:
    account = make_account(store).account_sid
    room = new_sid("RM")
    crashed = Pipeline(store, NEVER_RIPE)
    # What the writer does on a commit (an event's room is summarised at once, and the process dies
    # before that): the data, with the room's touch.
    crashed.ledger.write(_event_batch(_joined(account, room)), [(account, room)])
    assert _rooms(store, room) == []
    assert _stale(crashed.ledger) == [(account, room)]

    restarted = Pipeline(store, NEVER_RIPE)  # nothing in memory
    assert restarted.recover() == 1
    restarted.flush()
    assert _rooms(store, room) == ["in_progress"]
    assert _stale(restarted.ledger) == []
    assert restarted.recover() == 0


def test_a_summary_covers_only_what_was_touched_before_it_read(store: Store) -> None:
    account = make_account(store).account_sid
    room = new_sid("RM")
    first = Pipeline(store, NEVER_RIPE)
    first.submit(events=[_joined(account, room)])
    first.flush()
    read = first.ledger.tokens([(account, room)])  # a summary starts: it reads the ledger, then the data
    # Meanwhile another process writes more data for the room.
    Ledger(store, NEVER_RIPE).write(_event_batch(_joined(account, room)), [(account, room)])
    store.write(first.ledger.summarized(WriteBatch(), read))
    assert _stale(first.ledger) == [(account, room)], "the later data is not covered by that summary"

    store.write(first.ledger.summarized(WriteBatch(), first.ledger.tokens([(account, room)])))
    assert _stale(first.ledger) == []


def test_a_process_touches_a_room_once_until_it_summarises_it(store: Store) -> None:
    account = make_account(store).account_sid
    room = new_sid("RM")
    pipeline = Pipeline(store, NEVER_RIPE)

    def token() -> str:
        return pipeline.ledger.tokens([(account, room)])[(account, room)]

    pipeline.submit(events=[_joined(account, room)])
    pipeline.flush()  # an event: summarised at once
    assert _stale(pipeline.ledger) == []
    pipeline.submit([_report(account, room, 0)])  # a report: its summary waits for the delay
    pipeline.flush()
    touched = token()
    for i in range(1, 4):  # more data within the summary delay: the ledger is not written again
        pipeline.submit([_report(account, room, i)])
        pipeline.flush()
    assert token() == touched
    pipeline.settle()
    assert _stale(pipeline.ledger) == []
    pipeline.submit([_report(account, room, 5)])  # stale again: touched again
    pipeline.flush()
    assert token() != touched
    assert _stale(pipeline.ledger) == [(account, room)]
    _, rows = store.fetch(f"SELECT count(DISTINCT entry) FROM {ROOM_LEDGER.name} WHERE room_sid = '{room}'")
    assert rows == [(2,)]


@pytest.mark.parametrize("age_s", [0.0, 3600.0])
def test_on_a_shared_store_only_rooms_left_alone_are_taken_over(store: Store, age_s: float) -> None:
    """What another live process touched moments ago is its own to summarise; what has waited past
    the takeover time is anyone's."""
    account = make_account(store).account_sid
    room = new_sid("RM")
    settings = Settings.from_env({}, summary_delay_s=1, takeover_after_s=60)
    batch = WriteBatch()
    batch.replace("room_ledger", make_row("room_ledger", account_sid=account, room_sid=room, room_key=0,
                                          entry="touched", token="t1", at_ms=int((time.time() - age_s) * 1000)))
    store.write(batch)
    pipeline = Pipeline(store, settings)
    assert pipeline.adopt(pipeline.ledger.abandoned_before_ms()) == (1 if age_s else 0)
