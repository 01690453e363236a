"""The scheduler's round: rooms that nothing touches any more are re-summarised, so a participant that
went silent times out and its room ends; rooms with fresh activity are left to the process that
received it."""

from __future__ import annotations

import time

from conftest import make_account
from video_insights.model.ids import new_sid
from video_insights.model.records import Event, Source
from video_insights.processing import lifecycle as lc
from video_insights.processing.pipeline import Pipeline
from video_insights.settings import Settings
from video_insights.store import Store


def _joined(account: str, room: str, at_ms: int) -> Event:
    return Event(account, room, new_sid("PA"), at_ms, Source.GATEWAY, lc.SESSION_CONNECT,
                 {"identity": "alice", "roomName": room})


def _status(store: Store, room: str) -> str:
    _, rows = store.fetch(f"SELECT room_status FROM rooms WHERE room_sid = '{room}'")
    return str(rows[0][0])


def test_idle_rooms_are_refreshed_and_time_out(store: Store) -> None:
    settings = Settings.from_env({}, participant_timeout_s=2, empty_room_timeout_s=1)
    pipeline = Pipeline(store, settings)
    account = make_account(store).account_sid
    quiet, busy = new_sid("RM"), new_sid("RM")
    pipeline.write_now(events=[_joined(account, quiet, int(time.time() * 1000) - 1_000)])
    assert _status(store, quiet) == "in_progress"
    time.sleep(2.5)  # the quiet participant's last word is now older than the participant timeout
    busy_at = int(time.time() * 1000)
    pipeline.write_now(events=[_joined(account, busy, busy_at)])

    def between() -> int:
        """An idle time the quiet room (3.5 s older) passes and the busy one does not, however slow
        the machine is between the calls."""
        return int(time.time() * 1000) - busy_at + 1_500

    assert pipeline.refresh_in_progress(idle_ms=between()) == 1  # the busy room is not the scheduler's
    pipeline.settle()
    assert _status(store, quiet) == "completed"
    assert _status(store, busy) == "in_progress"
    _, rows = store.fetch(f"SELECT end_reason FROM participants WHERE room_sid = '{quiet}'")
    assert [r[0] for r in rows] == [lc.END_SIGNALING_ERROR]
    assert pipeline.refresh_in_progress(idle_ms=between()) == 0  # nothing idle is left in progress
