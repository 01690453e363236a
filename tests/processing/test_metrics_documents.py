"""Completed participants' /Metrics documents are stored when their summaries are written: the stored
document is exactly what the samples give when read, and late samples rebuild it."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import orjson
import pytest

from video_insights.accounts import create_account
from video_insights.analytics.live import LiveRooms
from video_insights.analytics.metrics import computed_json, metrics_json, stored_document
from video_insights.analytics.rooms import Scope
from video_insights.demo.generator import generate
from video_insights.model.records import StreamSample
from video_insights.processing.pipeline import Pipeline
from video_insights.query.sql import q
from video_insights.settings import Settings
from video_insights.store.duckdb_store import DuckDBStore

SETTINGS = Settings()


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> tuple[DuckDBStore, str]:
    store = DuckDBStore(tmp_path_factory.mktemp("docs") / "t.duckdb")
    store.migrate()
    account = create_account(store).sid
    generate(store, SETTINGS, account_sid=account, days=1, rooms_per_day=30, seed=11, progress=False)
    return store, account


def _participants(store: DuckDBStore, account: str, status: str) -> list[tuple[str, str]]:
    _, rows = store.fetch(q("SELECT room_sid, participant_sid FROM participants WHERE account_sid = :a "
                            "AND status = :s ORDER BY participant_sid", a=account, s=status))
    return [(str(r), str(p)) for r, p in rows]


def test_every_completed_participant_has_a_document_equal_to_its_samples(demo: tuple[DuckDBStore, str]) -> None:
    store, account = demo
    scope = Scope(account, frozenset([account]))
    completed = _participants(store, account, "completed")
    assert len(completed) > 20
    _, rows = store.fetch(q("SELECT count(DISTINCT participant_sid) FROM participant_metrics WHERE account_sid = :a",
                            a=account))
    assert rows[0][0] == len(completed)
    with_points = with_incoming = 0
    for room, pid in completed:
        # The room may still be in progress (others in it), so the stored document is read directly.
        view = LiveRooms(store, SETTINGS).view(scope, room)
        document = stored_document(store, account, pid)
        assert document is not None, pid
        stored = orjson.loads(document)
        live = orjson.loads(computed_json(store, view.participant(pid), view.tracks(pid)))
        assert stored == live, pid
        with_points += bool(live["send"])
        with_incoming += bool(live["receive_tracks"])
    assert with_points > len(completed) // 2 and with_incoming > len(completed) // 2


def test_a_late_sample_rebuilds_the_document(demo: tuple[DuckDBStore, str]) -> None:
    store, account = demo
    scope = Scope(account, frozenset([account]))
    cols, rows = store.fetch(q(
        "SELECT * FROM stream_samples WHERE account_sid = :a AND direction = 'send' ORDER BY ts_ms DESC LIMIT 1",
        a=account))
    last: dict[str, Any] = dict(zip(cols, rows[0], strict=True))
    room, pid = last["room_sid"], last["participant_sid"]
    before = orjson.loads(metrics_json(LiveRooms(store, SETTINGS).view(scope, room), pid))
    track = next(t for t in before["send"] if t["track_sid"] == last["track_sid"])
    sample = StreamSample(account, room, pid, last["pc_id"], "send", last["kind"], last["ssrc"],
                          last["ts_ms"] + 10_000, track_sid=last["track_sid"], codec=last["codec"],
                          bytes=last["bytes"] + 125_000, packets=last["packets"] + 100,
                          packets_lost=last["packets_lost"])
    pipeline = Pipeline(store, replace(SETTINGS, summary_delay_s=0))
    pipeline.write_now([sample], [])
    after = orjson.loads(metrics_json(LiveRooms(store, SETTINGS).view(scope, room), pid))
    grown = next(t for t in after["send"] if t["track_sid"] == last["track_sid"])
    assert len(grown["points"]) == len(track["points"]) + 1
    assert grown["points"][-1]["bitrate_bps"] == 100_000
