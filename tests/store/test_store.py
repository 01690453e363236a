"""The DuckDB store: migrations give exactly the schema, batches are atomic, retention removes what
the policy says and nothing else."""

from __future__ import annotations

import time

import pytest

from video_insights.settings import Settings
from video_insights.store.base import WriteBatch, make_row
from video_insights.store.duckdb_store import DuckDBStore
from video_insights.store.retention import purge
from video_insights.store.schema import TABLES

DAY = 86_400_000


def test_migrations_give_the_schema(store):
    described = store.describe()
    for table in TABLES:
        assert [name for name, _ in described[table.name]] == list(table.column_names)
    assert store.migrate() == []  # idempotent


def test_replace_keeps_one_version_and_batches_are_atomic(store):
    batch = WriteBatch()
    for n in (1, 2):
        batch.replace("room_facts", make_row("room_facts", account_sid="AC1", room_sid="RM1", create_ms=n,
                                             updated_ms=n))
    store.write(batch)
    _, rows = store.fetch("SELECT create_ms FROM room_facts")
    assert rows == [(2,)]
    bad = WriteBatch()
    bad.insert("room_facts", make_row("room_facts", account_sid="AC1", room_sid="RM2", create_ms=5, updated_ms=5))
    bad.insert("room_facts", make_row("room_facts", account_sid="AC1", room_sid=None, create_ms=5, updated_ms=5))
    with pytest.raises(Exception, match="NOT NULL"):
        store.write(bad)
    assert store.table_rows("room_facts") == 1  # nothing of the failed batch


def _room(batch: WriteBatch, sid: str, room_type: str, age_days: float, now: int) -> None:
    created = int(now - age_days * DAY)
    batch.insert("rooms", make_row("rooms", account_sid="AC1", room_sid=sid, room_type=room_type,
                                   create_ms=created, updated_ms=now, room_key=0))
    batch.insert("room_facts", make_row("room_facts", account_sid="AC1", room_sid=sid, room_type=room_type,
                                        create_ms=created, updated_ms=now))
    batch.insert("events", make_row("events", account_sid="AC1", room_sid=sid, ts_ms=created, source="twilio",
                                    name="room-created", event_id=sid, received_ms=now, room_key=0))


def test_retention_policy(store):
    now = int(time.time() * 1000)
    batch = WriteBatch()
    _room(batch, "RMfresh", "group", 1, now)
    _room(batch, "RMweekold", "group", 8, now)  # rooms gone, dashboard facts kept (14 days)
    _room(batch, "RMancient", "group", 15, now)  # everything gone
    _room(batch, "RMgo", "go", 3, now)  # go rooms: 2 days for both
    store.write(batch)
    settings = Settings.from_env({})
    would = purge(store, settings, dry_run=True, now=now)
    assert would["rooms"] == 3 and would["room_facts"] == 2 and would["events"] == 3
    assert store.table_rows("rooms") == 4  # a dry run removes nothing
    assert purge(store, settings, now=now) == would
    _, rooms = store.fetch("SELECT room_sid FROM rooms")
    _, facts = store.fetch("SELECT room_sid FROM room_facts ORDER BY room_sid")
    _, events = store.fetch("SELECT room_sid FROM events")
    assert rooms == [("RMfresh",)] and events == [("RMfresh",)]
    assert facts == [("RMfresh",), ("RMweekold",)]


def test_imported_rooms_are_kept_from_their_import(store):
    """A dump recorded weeks ago and imported today stays for the period counted from the import."""
    now = int(time.time() * 1000)
    batch = WriteBatch()
    _room(batch, "RMimported", "group", 20, now)
    _room(batch, "RMimportedgo", "go", 20, now)
    _room(batch, "RMold", "group", 20, now)  # as old, never imported: goes
    for sid in ("RMimported", "RMimportedgo"):
        batch.replace("imports", make_row("imports", account_sid="AC1", room_sid=sid, imported_ms=now - DAY))
    store.write(batch)
    settings = Settings.from_env({})
    assert purge(store, settings, now=now)["rooms"] == 1
    _, rooms = store.fetch("SELECT room_sid FROM rooms ORDER BY room_sid")
    assert rooms == [("RMimported",), ("RMimportedgo",)]
    # Two days after the import the go room goes; seven after, the other room; fourteen, its dashboard facts.
    assert purge(store, settings, now=now + 2 * DAY)["rooms"] == 1
    assert purge(store, settings, now=now + 7 * DAY)["rooms"] == 1
    _, facts = store.fetch("SELECT room_sid FROM room_facts")
    assert facts == [("RMimported",)]
    assert store.table_rows("imports") == 2  # the records last as long as dashboard facts can
    assert purge(store, settings, now=now + 14 * DAY)["room_facts"] == 1
    assert store.table_rows("imports") == 0 and store.table_rows("events") == 0


def test_store_locked_by_another_process_says_so(tmp_path):
    import subprocess
    import sys

    path = tmp_path / "locked.duckdb"
    DuckDBStore(path).close()
    holder = subprocess.Popen([sys.executable, "-c", f"import duckdb,time; c=duckdb.connect({str(path)!r}); "
                               "print('ready', flush=True); time.sleep(30)"], stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "ready"
        from video_insights.store.duckdb_store import StoreLocked

        with pytest.raises(StoreLocked, match="in use by another process"):
            DuckDBStore(path)
    finally:
        holder.kill()
