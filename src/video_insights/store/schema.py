"""The schema as data, so that each engine prints its own DDL from one definition.

All times are integer milliseconds since the epoch (UTC): integer arithmetic buckets them the same
way on every engine. Sets of short values (codecs, issue types) are stored as tag strings
(",VP8,opus,") so that "contains" is a portable LIKE.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from functools import cached_property

from video_insights.model.records import COUNTERS, FLOAT_COUNTERS


class T(StrEnum):
    """Logical column types."""

    STR = "str"
    INT = "int"
    FLOAT = "float"
    BOOL = "bool"
    JSON = "json"  # a JSON document kept as text
    TAGS = "tags"  # a set of short strings kept as ",a,b,"
    BYTES = "bytes"  # an opaque binary value (compressed documents)


@dataclass(frozen=True)
class Column:
    name: str
    type: T
    nullable: bool = True


@dataclass(frozen=True, eq=False)  # identity equality; cached_property needs the instance __dict__
class Table:
    name: str
    columns: tuple[Column, ...]
    key: tuple[str, ...]  # identifies a row version: replaced rows share it
    order_by: tuple[str, ...]  # physical order for engines that have one (ClickHouse)
    time_column: str | None = None  # drives retention
    retention: str | None = None  # "data" (7 days / 2 for go) or "dashboard" (14 / 2)
    # Rows are replaced by key (summaries; versions on ClickHouse) rather than only appended (raw events
    # and samples, whose readers collapse duplicates themselves).
    versioned: bool = True

    @cached_property
    def column_names(self) -> tuple[str, ...]:
        return tuple(c.name for c in self.columns)

    @cached_property
    def sort_key(self) -> tuple[str, ...]:
        """The physical sort key (ClickHouse's ORDER BY): the read order, then the rest of the row's key,
        since ReplacingMergeTree collapses rows that share the whole sorting key."""
        if not self.versioned:
            return self.order_by
        return self.order_by + tuple(k for k in self.key if k not in self.order_by)

    @cached_property
    def prewhere_columns(self) -> frozenset[str]:
        """Columns a condition may be applied on before a versioned read collapses versions (ClickHouse's
        PREWHERE under FINAL): every version of a row has the same values in its sort key, so such a
        condition keeps or drops all of them together (query.sql applies it)."""
        return frozenset(self.sort_key)


def _cols(spec: str) -> tuple[Column, ...]:
    """Parse 'name:type' pairs; a trailing '!' marks NOT NULL."""
    out = []
    for item in spec.split():
        name, kind = item.split(":")
        required = kind.endswith("!")
        out.append(Column(name, T(kind.rstrip("!")), nullable=not required))
    return tuple(out)


ACCOUNTS = Table(
    "accounts",
    _cols("account_sid:str! parent_account_sid:str friendly_name:str auth_token:str! created_ms:int! "
          "settings:json"),
    key=("account_sid",), order_by=("account_sid",),
)
API_KEYS = Table(
    "api_keys",
    _cols("key_sid:str! account_sid:str! secret:str! friendly_name:str livekit_api_key:str created_ms:int!"),
    key=("key_sid",), order_by=("account_sid", "key_sid"),
)
EVENTS = Table(
    "events",
    _cols("account_sid:str! room_sid:str! participant_sid:str ts_ms:int! source:str! name:str! payload:json "
          "event_id:str! received_ms:int! room_key:int!"),
    key=("account_sid", "event_id"), order_by=("account_sid", "room_sid", "ts_ms"),
    time_column="ts_ms", retention="data", versioned=False,
)
# Raw cumulative samples, one row per SSRC per report. Deltas and intervals are derived at read time
# (a window over each series), which makes them a pure function of the set of samples: arrival order,
# duplicates and the process that received a report do not matter.
STREAM_SAMPLES = Table(
    "stream_samples",
    _cols("account_sid:str! room_sid:str! participant_sid:str! pc_id:str! direction:str! kind:str! ssrc:int! "
          "ts_ms:int! bucket_ms:int! period_ms:int! track_sid:str! participant_key:int! track_id:str codec:str rid:str "
          "rtt_ms:float jitter_ms:float frame_rate:float frame_width:int frame_height:int "
          "quality_limitation_reason:str")
    + tuple(Column(c, T.FLOAT if c in FLOAT_COUNTERS else T.INT) for c in COUNTERS),
    key=("account_sid", "participant_sid", "pc_id", "direction", "ssrc", "ts_ms"),
    order_by=("account_sid", "participant_sid", "ts_ms"),
    time_column="ts_ms", retention="data", versioned=False,
)
TRACKS = Table(
    "tracks",
    _cols("account_sid:str! room_sid:str! participant_sid:str! track_sid:str! kind:str! name:str codec:str "
          "first_ms:int last_ms:int published_ms:int unpublished_ms:int bytes_sent:int packets_sent:int "
          "packets_lost:int loss_pct:float rtt_avg_ms:float rtt_intervals:int jitter_avg_ms:float "
          "ql_cpu_share:float ql_bandwidth_share:float updated_ms:int! participant_key:int!"),
    key=("account_sid", "participant_sid", "track_sid"), order_by=("account_sid", "room_sid", "participant_sid"),
    time_column="first_ms", retention="data",
)
PARTICIPANTS = Table(
    "participants",
    _cols("account_sid:str! room_sid:str! participant_sid:str! participant_identity:str room_type:str "
          "join_ms:int leave_ms:int duration_sec:int status:str end_reason:str error_code:int codecs:tags "
          "media_region:str signaling_region:str edge_location:str properties:json publisher_info:json "
          "user_agent:str os_name:str os_version:str browser_name:str browser_version:str "
          "device_manufacturer:str device_model:str sdk_name:str sdk_version:str tracks_audio:int "
          "tracks_video:int tracks_data:int recording_duration_sec:int issue_types:tags issue_count:int "
          "detected_issues:json last_activity_ms:int updated_ms:int! participant_key:int! room_key:int!"),
    key=("account_sid", "participant_sid"), order_by=("account_sid", "room_sid", "participant_sid"),
    time_column="join_ms", retention="data",
)
ROOMS = Table(
    "rooms",
    _cols("account_sid:str! room_sid:str! room_name:str create_ms:int end_ms:int room_type:str room_status:str "
          "status_callback:str status_callback_method:str created_method:str end_reason:str "
          "max_participants:int unique_participants:int unique_participant_identities:int "
          "concurrent_participants:int max_concurrent_participants:int codecs:tags media_region:str "
          "duration_sec:int total_participant_duration_sec:int total_recording_duration_sec:int "
          "processing_state:str recording_enabled:bool edge_location:str issue_count:int "
          "participants_with_issues:int issue_types:tags detected_issues:json last_activity_ms:int "
          "updated_ms:int! room_key:int!"),
    key=("account_sid", "room_sid"), order_by=("account_sid", "create_ms", "room_sid"),
    time_column="create_ms", retention="data",
)
RECORDINGS = Table(
    "recordings",
    _cols("account_sid:str! room_sid:str! recording_sid:str! participant_sid:str track_sid:str kind:str "
          "track_name:str status:str start_ms:int duration_sec:int size_bytes:int container:str codec:str "
          "updated_ms:int!"),
    key=("account_sid", "recording_sid"), order_by=("account_sid", "room_sid"),
    time_column="start_ms", retention="data",
)
# The dashboard outlives rooms and participants (14 days against 7) and needs no identities.
ROOM_FACTS = Table(
    "room_facts",
    _cols("account_sid:str! room_sid:str! create_ms:int! room_type:str has_issues:bool "
          "recording_sec:int updated_ms:int!"),
    key=("account_sid", "room_sid"), order_by=("account_sid", "create_ms"),
    time_column="create_ms", retention="dashboard",
)
PARTICIPANT_FACTS = Table(
    "participant_facts",
    _cols("account_sid:str! room_sid:str! participant_sid:str! join_ms:int! room_type:str duration_sec:int "
          "has_issues:bool os_name:str browser_name:str device_manufacturer:str sdk_name:str "
          "signaling_region:str end_reason:str updated_ms:int!"),
    key=("account_sid", "participant_sid"), order_by=("account_sid", "join_ms"),
    time_column="join_ms", retention="dashboard",
)

# One completed participant's /Metrics document (send and receive intervals), zlib-compressed JSON,
# written when the participant's summary is. Its samples are spread over hours of time-ordered rows, so
# recomputing a long participant's intervals at read time costs a scan of that whole span; this is
# one row to fetch. In-progress participants are still computed from their samples when read.
PARTICIPANT_METRICS = Table(
    "participant_metrics",
    _cols("account_sid:str! room_sid:str! participant_sid:str! participant_key:int! join_ms:int "
          "room_type:str basis:str! document:bytes! updated_ms:int!"),
    key=("account_sid", "participant_sid"), order_by=("account_sid", "participant_sid"),
    time_column="join_ms", retention="data",
)

# One row per imported dump's room: retention counts an imported room's age from its import, not from
# when it was recorded (docs/retention.md). Replaced on re-import, which restarts the count.
IMPORTS = Table(
    "imports",
    _cols("account_sid:str! room_sid:str! imported_ms:int! file_name:str"),
    key=("account_sid", "room_sid"), order_by=("account_sid", "room_sid"),
    time_column="imported_ms", retention="dashboard",
)

# Which rooms need (re)summarising, kept in the store so that any process, after any crash, can tell
# (processing/ledger.py). Per room, the `touched` entry names (by a new random token) the last write of
# data for it, and the `summarized` entry the token its last summary had read before reading the data:
# the room's summary is stale while the two tokens differ. Both are replaced whole (last write wins,
# hence no updated_ms: a version from clocks of different processes would not order writes).
ROOM_LEDGER = Table(
    "room_ledger",
    _cols("account_sid:str! room_sid:str! room_key:int! entry:str! token:str! at_ms:int!"),
    key=("account_sid", "room_sid", "entry"), order_by=("account_sid", "room_sid", "entry"),
    time_column="at_ms", retention="data",
)

# An account's alert rules (alerts/rules.py). A deleted rule keeps its row, with `deleted_ms`, so that
# the history of its alerts still names it; it fires no more.
ALERT_RULES = Table(
    "alert_rules",
    _cols("account_sid:str! rule_sid:str! friendly_name:str trigger:json! url:str! format:str! "
          "secret:str! created_ms:int! deleted_ms:int updated_ms:int!"),
    key=("account_sid", "rule_sid"), order_by=("account_sid", "rule_sid"),
)
# Alerts decided, and the outbox of their deliveries (alerts/outbox.py): one row per alert, replaced
# whole as its delivery goes (pending → delivered, failed or cancelled). Its sid is derived from what
# was decided, so deciding again gives the same row; `body` is the exact bytes sent (and signed) on
# every attempt; `attempts` the JSON list of each attempt's time and outcome; a process delivering it
# holds a lease (`lease_owner` until `lease_until_ms`). `updated_ms` only grows from version to version
# (ClickHouse keeps the greatest).
ALERTS = Table(
    "alerts",
    _cols("account_sid:str! alert_sid:str! rule_sid:str! trigger_type:str! issue_type:str room_sid:str "
          "participant_sid:str fired_ms:int! body:json! state:str! attempts:json next_ms:int! "
          "lease_owner:str lease_until_ms:int updated_ms:int!"),
    key=("account_sid", "alert_sid"), order_by=("account_sid", "alert_sid"),
    time_column="fired_ms", retention="data",
)

TABLES: tuple[Table, ...] = (
    ACCOUNTS, API_KEYS, EVENTS, STREAM_SAMPLES, TRACKS, PARTICIPANTS, ROOMS, RECORDINGS, ROOM_FACTS,
    PARTICIPANT_FACTS, PARTICIPANT_METRICS, IMPORTS, ROOM_LEDGER, ALERT_RULES, ALERTS,
)
TABLES_BY_NAME = {t.name: t for t in TABLES}
#: (table, column) pairs whose conditions go to PREWHERE on ClickHouse: the store hands them to query.sql.render.
PREWHERE: frozenset[tuple[str, str]] = frozenset((t.name, c) for t in TABLES for c in t.prewhere_columns)
