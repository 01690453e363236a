"""Collectors that name their room (our collector, LiveKit apps) meet in one room whichever `serve`
process each connects to: the room a name stands for is decided by what is stored, not by a process's
memory, on every engine."""

from __future__ import annotations

import time

from conftest import make_account
from video_insights.ingest.auth import mint_token
from video_insights.ingest.gateway import Gateway
from video_insights.model.ids import room_sid_for_name
from video_insights.model.records import Event, Source
from video_insights.processing import lifecycle as lc
from video_insights.processing.pipeline import Pipeline
from video_insights.settings import Settings
from video_insights.store import Store

SETTINGS = Settings.from_env({})


def _join(gateway: Gateway, token: str, name: str, identity: str) -> Event:
    _, _, connected = gateway.connect({"type": "connect", "token": token, "publisher": {
        "roomName": name, "identity": identity, "name": "video-insights-collector"}})
    return connected


def test_two_processes_give_a_room_name_the_same_room_each_time(store: Store) -> None:
    creds = make_account(store)
    token = mint_token(creds.account_sid, creds.key_sid, creds.key_secret, "alice")
    first_process, second_process = Gateway(store, SETTINGS), Gateway(store, SETTINGS)
    pipeline = Pipeline(store, SETTINGS)

    # Monday: the first connection of the name, on each process, before anything is stored.
    monday = [_join(g, token, "standup", who) for g, who in ((first_process, "alice"), (second_process, "bob"))]
    assert {e.room_sid for e in monday} == {room_sid_for_name(creds.account_sid, "standup")}
    pipeline.write_now(events=monday)
    assert second_process.room_for_name(creds.account_sid, "standup") == monday[0].room_sid  # in progress
    ended = Event(creds.account_sid, monday[0].room_sid, None, int(time.time() * 1000), Source.TWILIO,
                  lc.ROOM_ENDED, {"RoomName": "standup"})
    pipeline.write_now(events=[ended])

    # Tuesday: the name again, now a new room; both processes, before and after it is stored.
    tuesday = [_join(g, token, "standup", who) for g, who in ((second_process, "carol"), (first_process, "dan"))]
    assert len({e.room_sid for e in tuesday}) == 1 and tuesday[0].room_sid != monday[0].room_sid
    pipeline.write_now(events=tuesday)
    assert first_process.room_for_name(creds.account_sid, "standup") == tuesday[0].room_sid
    assert Gateway(store, SETTINGS).room_for_name(creds.account_sid, "standup") == tuesday[0].room_sid
    _, rows = store.fetch("SELECT room_sid, room_status, unique_participants FROM rooms ORDER BY create_ms")
    assert [(str(r[0]), r[1], r[2]) for r in rows] == [(monday[0].room_sid, "completed", 2),
                                                      (tuesday[0].room_sid, "in_progress", 2)]
