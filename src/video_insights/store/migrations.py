"""Schema migrations, as engine-neutral steps that each store prints in its own DDL.

Append a new Migration to change the schema (and update store.schema to match: a test checks that
applying every migration yields exactly the tables of store.schema).
"""

from __future__ import annotations

from dataclasses import dataclass

from video_insights.store.schema import (
    ACCOUNTS,
    ALERT_RULES,
    ALERTS,
    API_KEYS,
    EVENTS,
    IMPORTS,
    PARTICIPANT_FACTS,
    PARTICIPANT_METRICS,
    PARTICIPANTS,
    RECORDINGS,
    ROOM_FACTS,
    ROOM_LEDGER,
    ROOMS,
    STREAM_SAMPLES,
    TRACKS,
    Column,
    Table,
)


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


MIGRATIONS: tuple[Migration, ...] = (
    # The tables as 0.1.0 created them, named one by one: a table added later must not join this list.
    Migration(1, "initial schema", tuple(CreateTable(t) for t in (
        ACCOUNTS, API_KEYS, EVENTS, STREAM_SAMPLES, TRACKS, PARTICIPANTS, ROOMS, RECORDINGS, ROOM_FACTS,
        PARTICIPANT_FACTS))),
    Migration(2, "stored metrics documents of completed participants", (CreateTable(PARTICIPANT_METRICS),)),
    Migration(3, "imported rooms, kept from their import", (CreateTable(IMPORTS),)),
    Migration(4, "the ledger of rooms whose summaries are stale", (CreateTable(ROOM_LEDGER),)),
    Migration(5, "alert rules, and the alerts decided with the outbox of their deliveries",
              (CreateTable(ALERT_RULES), CreateTable(ALERTS))),
)
