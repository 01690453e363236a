"""Dashboard facts of an earlier window, for the dashboard's "against the previous period".

The dashboard keeps its facts (`room_facts`, `participant_facts`) twice as long as rooms and samples,
so a real account a week old has a week of facts before its oldest room. The demo makes them the way
the real pipeline does: the generator writes that window's rooms, events and samples into a scratch
store and the pipeline summarises them there; only the facts are copied into the store, and the
scratch store is deleted.
"""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Any

from video_insights.demo.generator import DemoSummary, generate
from video_insights.query import facts as fact_queries
from video_insights.settings import Settings
from video_insights.store.base import Store, WriteBatch
from video_insights.store.duckdb_store import DuckDBStore

FACT_TABLES = ("room_facts", "participant_facts")


def generate_facts(store: Store, settings: Settings, *, account_sid: str, end_ms: int, now_ms: int,
                   **options: Any) -> DemoSummary:
    """The facts of the rooms `generate(…, end_ms=end_ms, now_ms=now_ms, **options)` would write, written
    to `store`; nothing else of them is kept."""
    with tempfile.TemporaryDirectory(prefix="video-insights-demo-") as scratch_dir:
        scratch = DuckDBStore(Path(scratch_dir) / "scratch.duckdb", memory_limit=settings.duckdb_memory_limit)
        try:
            scratch.migrate()
            summary = generate(scratch, settings, account_sid=account_sid, end_ms=end_ms, now_ms=now_ms,
                               metrics_documents=False, **options)
            batch = WriteBatch()
            for table in FACT_TABLES:
                names, rows = scratch.fetch(fact_queries.of_account(table, account_sid))
                if rows:  # by column name: the scratch store's schema is this version's, as is the store's
                    batch.insert_columns(table, {n: [r[i] for r in rows] for i, n in enumerate(names)})
            store.write(batch)
        finally:
            scratch.close()
    return summary
