"""A store that 0.1.0 created and filled opens in this version: its migrations run, what it held reads
back through the API as 0.1.0 summarised it, and summarising it again with this version's code agrees.

`tests/data/stores/0.1.0.duckdb.gz` was written by the code of commit c8ef934 (schema migration 1
only: the tables listed in store/migrations.py's first migration), with the demo generator of that
version: one account, 12 rooms over the day before 2026-11-18T08:26:40Z (1795000000000 ms)."""

from __future__ import annotations

import gzip
import shutil
from pathlib import Path

import httpx

from conftest import DATA
from support import serving
from video_insights.app import create_app
from video_insights.processing.pipeline import Pipeline
from video_insights.query.sql import q
from video_insights.settings import Settings
from video_insights.store.duckdb_store import DuckDBStore
from video_insights.store.migrations import MIGRATIONS

OLD = DATA / "stores" / "0.1.0.duckdb.gz"
SINCE = "2026-11-16T00:00:00Z"


def _unpacked(tmp_path: Path) -> Path:
    path = tmp_path / "from-0.1.0.duckdb"
    with gzip.open(OLD) as src, path.open("wb") as dst:
        shutil.copyfileobj(src, dst)
    return path


def _summaries(store: DuckDBStore) -> list[tuple[object, ...]]:
    _, rows = store.fetch("SELECT room_sid, room_status, unique_participants, duration_sec, create_ms, end_ms "
                          "FROM rooms ORDER BY room_sid")
    return rows


def test_a_0_1_0_store_upgrades_and_reads_back(tmp_path: Path) -> None:
    path = _unpacked(tmp_path)
    store = DuckDBStore(path)
    try:
        applied = store.migrate()
        assert applied == [f"{m.version}: {m.name}" for m in MIGRATIONS[1:]], applied
        assert store.migrate() == []
        _, accounts = store.fetch("SELECT account_sid, auth_token FROM accounts")
        ((account, token),) = accounts
        before = _summaries(store)
        assert len(before) == 12 and {r[1] for r in before} == {"completed"}

        # The recording is weeks old by now: the server's retention pass at start would remove it.
        settings = Settings.from_env({}, store=f"duckdb:///{path}", retention_days=36_500,
                                     dashboard_retention_days=36_500, retention_days_go=36_500,
                                     dashboard_retention_days_go=36_500)
        with serving(create_app(settings, store)) as url, httpx.Client(base_url=url, auth=(account, token)) as api:
            rooms = api.get("/v1/Video/Rooms", params={"CreatedAfter": SINCE, "PageSize": 50}).json()["rooms"]
            assert sorted(r["room_sid"] for r in rooms) == [r[0] for r in before]
            room = max(rooms, key=lambda r: r["unique_participants"])
            participants = api.get(f"/v1/Video/Rooms/{room['room_sid']}/Participants").json()["participants"]
            assert len(participants) == room["unique_participants"]
            # 0.1.0 stored no metrics documents: they are computed from the samples.
            pid = participants[0]["participant_sid"]
            metrics = api.get(f"/v1/Video/Rooms/{room['room_sid']}/Participants/{pid}/Metrics").json()
            assert metrics["send"] and all(t["points"] for t in metrics["send"])

        # Summarised again by this version, from the same events and samples: the same rooms.
        pipeline = Pipeline(store, settings)
        batch_rooms = [(account, str(r[0])) for r in before]
        pipeline.submit(rooms=batch_rooms, urgent=True)
        pipeline.settle()
        assert _summaries(store) == before
        _, rows = store.fetch(q("SELECT count(*) FROM participant_metrics WHERE account_sid = :a", a=account))
        assert rows[0][0] > 0, "completed participants now have stored metrics documents"
    finally:
        store.close()


def _columns(store: DuckDBStore) -> dict[str, list[tuple[str, str]]]:
    _, rows = store.fetch("SELECT table_name, column_name, data_type FROM information_schema.columns "
                          "ORDER BY table_name, ordinal_position")
    out: dict[str, list[tuple[str, str]]] = {}
    for table, column, kind in rows:
        out.setdefault(str(table), []).append((str(column), str(kind)))
    return out


def test_an_upgraded_store_has_the_schema_of_a_new_one(tmp_path: Path) -> None:
    """Migrations, not edits of the schema, change a table: a column added to a table of the first
    migration without a migration of its own would be missing from every upgraded store."""
    upgraded = DuckDBStore(_unpacked(tmp_path))
    fresh = DuckDBStore(tmp_path / "new.duckdb")
    try:
        upgraded.migrate()
        fresh.migrate()
        assert _columns(upgraded) == _columns(fresh)
    finally:
        upgraded.close()
        fresh.close()
