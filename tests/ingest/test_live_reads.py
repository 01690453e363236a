"""A call in progress is readable as it happens (docs/durability.md, "Live reads"): on a server whose
stored summaries wait an hour for stats reports, the frames twilio-video.js really sent make their room
and participant show in the lists as soon as their events are committed, and single-room reads answer
what a summary made now would say, reports included."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import orjson
import pytest

from conftest import LiveServer, make_account
from support import Creds, sdk_frames, sdk_session
from video_insights.analytics.live import LiveRooms
from video_insights.analytics.rooms import Scope, participant_json
from video_insights.errors import NotFound
from video_insights.model.ids import new_sid, sid_key
from video_insights.model.records import Event, Source
from video_insights.processing import lifecycle as lc
from video_insights.processing.ledger import Ledger
from video_insights.processing.pipeline import event_id
from video_insights.query.sql import q, rows_as_dicts
from video_insights.settings import Settings
from video_insights.store import Store
from video_insights.store.base import WriteBatch, make_row

T = TypeVar("T")
HOUR_DELAY = {"summary_delay_s": 3600}


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    # The recorded frames are sent faster than they were recorded: as sent, not as a clock off.
    return Settings.from_env({}, store=f"duckdb:///{tmp_path / 'vi.duckdb'}", writer_flush_ms=20,
                             client_clock_correction=False, **HOUR_DELAY)


def _until(probe: Callable[[], T | None], what: str, timeout: float = 10.0) -> tuple[T, float]:
    """The probe's first truthy answer, and how long it took."""
    start = time.monotonic()
    while True:
        found = probe()
        if found:
            return found, time.monotonic() - start
        assert time.monotonic() - start < timeout, f"{what}: not within {timeout} s"
        time.sleep(0.02)


def _stored_participant(server: LiveServer, participant: str) -> dict[str, Any] | None:
    cols, rows = server.store.fetch(q("SELECT * FROM participants WHERE participant_sid = :p", p=participant))
    return rows_as_dicts(cols, rows)[0] if rows else None


def _events_of(server: LiveServer, participant: str) -> int:
    _, rows = server.store.fetch(q("SELECT count(*) FROM events WHERE participant_sid = :p", p=participant))
    return int(rows[0][0])


def _without_clock(p: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in p.items() if k not in ("duration_sec",)}


def test_a_call_in_progress_reads_as_it_is_now(live_server: LiveServer, creds: Creds) -> None:
    frames = sdk_frames("loss10")
    connect_frame, *events = frames
    reports = [i for i, f in enumerate(events) if f.get("name") == "stats-report"]
    room, participant = new_sid("RM"), new_sid("PA")
    with sdk_session(live_server.url, creds, connect_frame, room, participant, identity="live") as send, \
            live_server.client(creds) as api:
        # The connect alone: the room is in the list of rooms in progress, its participant too.
        def listed() -> list[str] | None:
            r = api.get("/v1/Video/Rooms", params={"RoomStatus": "in-progress"})
            return [x["room_sid"] for x in r.json()["rooms"] if x["room_sid"] == room] or None

        _until(listed, "the room in the list of rooms in progress")
        p = api.get(f"/v1/Video/Rooms/{room}/Participants/{participant}").json()
        assert p["status"] == "in_progress" and p["sdk"]["name"] == "twilio-video.js"

        # Everything up to the first report, then stored and summarised; then two reports alone.
        first = events[:reports[0] + 2]
        assert first[-1].get("name") != "stats-report"
        send(first)
        # The socket's messages are committed in order: once its last event is, so is the report.
        stored_events = 1 + sum(f.get("name") != "stats-report" for f in first)
        _until(lambda: _events_of(live_server, participant) == stored_events, "the first frames committed")
        live_server.flush()
        stored_before = _stored_participant(live_server, participant)
        assert stored_before is not None
        send([events[i] for i in reports[1:]])

        def three_intervals() -> dict[str, Any] | None:
            m = api.get(f"/v1/Video/Rooms/{room}/Participants/{participant}/Metrics").json()
            audio = [t for t in m["send"] if t["kind"] == "audio"]
            return m if audio and len(audio[0]["points"]) == 3 else None

        _until(three_intervals, "the reports in /Metrics")
        live = api.get(f"/v1/Video/Rooms/{room}/Participants/{participant}").json()
        live_room = api.get(f"/v1/Video/Rooms/{room}").json()
        # The stored summary has not moved (reports wait an hour); the answer has.
        assert _stored_participant(live_server, participant) == stored_before
        assert participant_json(stored_before, live_server.url) != live
        issues = {i["issue_type"]: i["properties"] for i in live["detected_issues"]["details"]}
        assert "packet_loss" in issues and live["status"] == "in_progress"
        assert live_room["room_status"] == "in_progress" and "packet_loss" in live_room["issue_types"]

        # What a summary made now stores is what was read.
        live_server.flush()
        assert _without_clock(api.get(f"/v1/Video/Rooms/{room}/Participants/{participant}").json()) == \
            _without_clock(live)
        assert participant_json(_stored_participant(live_server, participant) or {}, live_server.url)[
            "detected_issues"] == live["detected_issues"]

        # The participant leaves: its status reads completed at once, from the list too.
        send([events[-1]])

        def left() -> bool:
            r = api.get(f"/v1/Video/Rooms/{room}/Participants")
            return [x["status"] for x in r.json()["participants"]] == ["completed"]

        _until(left, "the participant completed")


def test_a_room_whose_data_is_committed_and_not_summarised_is_readable(store: Store) -> None:
    """What the writer committed (its ledger touch written, no summary yet) is read from events."""
    creds = make_account(store)
    account, room, participant = creds.account_sid, new_sid("RM"), new_sid("PA")
    joined = Event(account, room, participant, int(time.time() * 1000), Source.GATEWAY, lc.SESSION_CONNECT,
                   {"identity": "alice", "room_name": "standup", "publisher": {"name": "video-insights-collector"}})
    batch = WriteBatch()
    batch.insert("events", make_row(
        "events", account_sid=account, room_sid=room, participant_sid=participant, ts_ms=joined.ts_ms,
        source=joined.source.value, name=joined.name, payload=orjson.dumps(joined.payload).decode(),
        event_id=event_id(joined), received_ms=joined.ts_ms, room_key=sid_key(room)))
    Ledger(store, Settings()).write(batch, [(account, room)])
    _, rows = store.fetch(q("SELECT count(*) FROM rooms WHERE room_sid = :r", r=room))
    assert rows == [(0,)]

    view = LiveRooms(store, Settings()).view(Scope(account, frozenset({account})), room)
    assert view.live and view.row["room_name"] == "standup" and view.row["room_status"] == "in_progress"
    assert view.participant(participant)["participant_identity"] == "alice"
    other = make_account(store).account_sid
    with pytest.raises(NotFound):
        LiveRooms(store, Settings()).view(Scope(other, frozenset({other})), room)
