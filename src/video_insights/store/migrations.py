"""Schema migrations, as engine-neutral steps that each store prints in its own DDL.

Append a new Migration to change the schema (and update store.schema to match: a test checks that
applying every migration yields exactly the tables of store.schema).
"""

from __future__ import annotations

from dataclasses import dataclass

from video_insights.store.schema import PARTICIPANT_METRICS, ROOM_LEDGER, TABLES, Column, Table


@dataclass(frozen=True)
class CreateTable:
    table: Table


@dataclass(frozen=True)
class AddColumn:
    table: str
    column: Column


Step = CreateTable | AddColumn


@dataclass(frozen=True)
class Migration:
    version: int
    name: str
    steps: tuple[Step, ...]


_LATER = (PARTICIPANT_METRICS, ROOM_LEDGER)  # tables created by a migration after the first

MIGRATIONS: tuple[Migration, ...] = (
    Migration(1, "initial schema", tuple(CreateTable(t) for t in TABLES if t not in _LATER)),
    Migration(2, "stored metrics documents of completed participants", (CreateTable(PARTICIPANT_METRICS),)),
    Migration(3, "the ledger of rooms whose summaries are stale", (CreateTable(ROOM_LEDGER),)),
)
