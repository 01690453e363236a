"""Queries whose rows are read by name: each named row type has exactly its query's columns, on every engine."""

from __future__ import annotations

from video_insights.model.ids import sid_key
from video_insights.query import accounts, events, samples
from video_insights.store import Store
from video_insights.store.base import WriteBatch, make_row


def test_named_rows_have_their_queries_columns(store: Store) -> None:
    batch = WriteBatch()
    batch.insert("events", make_row("events", account_sid="AC1", room_sid="RM1", participant_sid="PA1", ts_ms=1_000,
                                    source="gateway", name="x", payload="{}", event_id="e1", received_ms=1_000,
                                    room_key=sid_key("RM1")))
    store.write(batch)
    cols, rows = store.fetch(events.of_rooms("AC1", ["RM1"]))
    assert cols == list(events.EventRow._fields)
    assert events.EventRow._make(rows[0]).event_id == "e1"
    for query, row in ((samples.intervals("AC1", "PA1"), samples.IntervalRow),
                       (samples.intervals_of("AC1", ["PA1", "PA2"]), samples.IntervalRow),
                       (samples.track_stats("AC1", ["PA1"]), samples.TrackStatsRow),
                       (samples.receive_tracks("AC1", "PA1"), samples.ReceiveTrackRow),
                       (samples.receive_tracks_of("AC1", ["PA1", "PA2"]), samples.ReceiveTrackRow)):
        cols, _ = store.fetch(query)
        assert len(cols) == len(row._fields), row.__name__


def test_account_rows_are_named(store: Store) -> None:
    batch = WriteBatch()
    batch.insert("accounts", make_row("accounts", account_sid="AC1", auth_token="t", created_ms=1))
    batch.insert("api_keys", make_row("api_keys", key_sid="SK1", account_sid="AC1", secret="s", created_ms=1))
    store.write(batch)
    cols, rows = store.fetch(accounts.account("AC1"))
    assert cols == list(accounts.AccountRow._fields) and accounts.AccountRow._make(rows[0]).auth_token == "t"
    cols, rows = store.fetch(accounts.key("SK1"))
    assert cols == list(accounts.KeyRow._fields) and accounts.KeyRow._make(rows[0]).secret == "s"
