"""Any permutation and duplication of a room's status callbacks and stats reports, arriving in any
batches, yields the same room, participant and track summaries."""

from __future__ import annotations

import itertools
import tempfile
import time
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, given
from hypothesis import settings as hsettings
from hypothesis import strategies as st

from video_insights.ingest.twilio_callbacks import to_event
from video_insights.model.ids import derived_sid
from video_insights.model.records import Event, StreamSample
from video_insights.processing.pipeline import Pipeline
from video_insights.query.filters import iso
from video_insights.settings import Settings
from video_insights.store.duckdb_store import DuckDBStore
from video_insights.store.schema import PARTICIPANT_METRICS, PARTICIPANTS, ROOMS, TRACKS

ACCOUNT = "AC" + "1" * 32
ROOM = derived_sid("RM", "order")
PEOPLE = [derived_sid("PA", "order", str(i)) for i in range(3)]
T0 = (int(time.time()) - 3 * 3600) * 1000  # long over: no timeout depends on when the test runs


def _callbacks() -> list[Event]:
    def cb(event: str, at_s: int, **extra: str) -> Event:
        params = {"AccountSid": ACCOUNT, "RoomSid": ROOM, "RoomName": "standup", "RoomType": "group",
                  "RoomStatus": "in-progress", "StatusCallbackEvent": event, "Timestamp": iso(T0 + at_s * 1000),
                  "SequenceNumber": str(at_s), **extra}
        return to_event(params)

    out = [cb("room-created", 0)]
    for i, pid in enumerate(PEOPLE):
        who = {"ParticipantSid": pid, "ParticipantIdentity": f"user{i % 2}"}  # user0 rejoins as PEOPLE[2]
        out.append(cb("participant-connected", 5 + 40 * i, **who))
        out.append(cb("track-added", 6 + 40 * i, **who, TrackSid=derived_sid("MT", pid, "a"), TrackKind="audio",
                      TrackName="mic"))
        out.append(cb("participant-disconnected", 100 + 40 * i, **who, ParticipantDuration=str(95)))
    out.append(cb("recording-started", 10, RecordingSid=derived_sid("RT", "r"),
                  SourceSid=derived_sid("MT", PEOPLE[0], "a")))
    out.append(cb("recording-completed", 60, RecordingSid=derived_sid("RT", "r"),
                  SourceSid=derived_sid("MT", PEOPLE[0], "a"), Duration="50", Size="1000"))
    out.append(cb("room-ended", 200, RoomDuration="200"))
    return out


def _reports() -> list[StreamSample]:
    out = []
    for i, pid in enumerate(PEOPLE):
        start = T0 + (5 + 40 * i) * 1000 + 1234
        for n in range(9):
            lost = (n * 7) if i == 1 else 0  # participant 1 loses ~12 % of its packets
            restart = n >= 6 and i == 2  # participant 2's stream restarts: counters go down
            k = n - 6 if restart else n
            out.append(StreamSample(
                ACCOUNT, ROOM, pid, "pc1", "send", "audio", 1000 + i, start + n * 10_000,
                track_sid=derived_sid("MT", pid, "a"), codec="opus", bytes=40_000 * k, packets=50 * k,
                packets_lost=lost, total_rtt_s=0.05 * k * (8 if i == 0 else 1), rtt_measurements=k,
                rtt_ms=50.0, jitter_ms=3.0))
    return out


def _summaries(store: DuckDBStore) -> dict[str, list[tuple[Any, ...]]]:
    out = {}
    for table in (ROOMS, PARTICIPANTS, TRACKS, PARTICIPANT_METRICS):
        cols = [c for c in table.column_names if c != "updated_ms"]
        _, rows = store.fetch(f"SELECT {', '.join(cols)} FROM {table.name} ORDER BY ALL")
        out[table.name] = rows
    return out


def _run(items: list[Event | StreamSample], cuts: list[int]) -> dict[str, list[tuple[Any, ...]]]:
    with tempfile.TemporaryDirectory() as tmp:
        store = DuckDBStore(Path(tmp) / "t.duckdb")
        store.migrate()
        pipeline = Pipeline(store, Settings.from_env({}))
        bounds = [0, *sorted(set(cuts)), len(items)]
        for a, b in itertools.pairwise(bounds):
            chunk = items[a:b]
            pipeline.write_now([x for x in chunk if isinstance(x, StreamSample)],
                               [x for x in chunk if isinstance(x, Event)])
        result = _summaries(store)
        store.close()
        return result


ITEMS: list[Event | StreamSample] = [*_callbacks(), *_reports()]
BASELINE = _run(ITEMS, [])


def test_baseline_is_what_the_events_say():
    (room,) = BASELINE["rooms"]
    cols = [c for c in ROOMS.column_names if c != "updated_ms"]
    r = dict(zip(cols, room, strict=True))
    assert r["unique_participants"] == 3 and r["unique_participant_identities"] == 2
    assert r["concurrent_participants"] == 3 and r["room_status"] == "completed" and r["duration_sec"] == 200
    assert r["total_recording_duration_sec"] == 50 and r["total_participant_duration_sec"] == 3 * 95
    assert r["issue_types"] == ",packet_loss,round_trip_time," and r["participants_with_issues"] == 2
    tcols = [c for c in TRACKS.column_names if c != "updated_ms"]
    tracks = [dict(zip(tcols, t, strict=True)) for t in BASELINE["tracks"]]
    restarted = next(t for t in tracks if t["participant_sid"] == PEOPLE[2])
    assert restarted["packets_sent"] == 50 * 5 + 50 * 2  # 5 intervals, a restart to 0, 2 more: never negative


@hsettings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(order=st.permutations(range(len(ITEMS))),
       dupes=st.lists(st.integers(0, len(ITEMS) - 1), max_size=8),
       cuts=st.lists(st.integers(1, len(ITEMS) - 1), max_size=4))
def test_any_order_and_duplicates_give_the_same_summaries(order, dupes, cuts):
    items = [ITEMS[i] for i in order] + [ITEMS[i] for i in dupes]
    assert _run(items, cuts) == BASELINE
