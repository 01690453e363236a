"""DuckDB and each other engine (chDB, a ClickHouse server, PostgreSQL) give the same answers: the same
demo data written to both, then every read the API makes (summaries, filtered room lists, dashboard
graphs, the window queries over samples, metrics documents, retention counts) compared. Floats are compared to 9
significant digits: ClickHouse adds partial sums from parallel threads in no fixed order, and
PostgreSQL computes some of them in NUMERIC."""

from __future__ import annotations

import math
import shutil
import time
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import orjson
import pytest

from video_insights.accounts import create_account
from video_insights.analytics import dashboard as dash
from video_insights.analytics.live import LiveRooms
from video_insights.analytics.metrics import participant_metrics
from video_insights.analytics.rooms import Scope, find_room, get_participant, list_participants, list_rooms
from video_insights.demo.generator import generate
from video_insights.ingest import dump_import
from video_insights.processing.pipeline import Pipeline
from video_insights.query import samples
from video_insights.query.filters import parse_room_query
from video_insights.settings import Settings
from video_insights.store import Store, open_store
from video_insights.store.retention import purge
from video_insights.store.schema import TABLES

SETTINGS = Settings.from_env({})
HOUR_MS = 3_600_000
# Over two hours ago, so that no summary depends on the minutes between the two generations.
NOW = (int(time.time() * 1000) // HOUR_MS - 2) * HOUR_MS
ACCOUNT_NAME = "agree"
DUMP = Path(__file__).parents[1] / "data" / "webrtc-internals" / "chromium156" / "loss8.rtcstats-dump.gz"


@dataclass
class Pair:
    duck: Store
    other: Store
    account: str

    def both(self, read: Any) -> tuple[Any, Any]:
        return norm(read(self.duck)), norm(read(self.other))


def norm(v: Any) -> Any:
    """Floats to 9 significant digits, tuples as lists, documents decoded."""
    if isinstance(v, float):
        return float(f"{v:.9g}") if math.isfinite(v) else v
    if isinstance(v, (list, tuple)):
        return [norm(x) for x in v]
    if isinstance(v, dict):
        return {k: norm(x) for k, x in v.items()}
    if isinstance(v, bytes):
        return norm(orjson.loads(zlib.decompress(v)))
    return v


def _fill(store: Store) -> str:
    store.migrate()
    account = create_account(store, friendly_name=ACCOUNT_NAME).sid
    _generate(store, account)
    return account


def _generate(store: Store, account: str) -> None:
    generate(store, SETTINGS, account_sid=account, days=2, rooms_per_day=25, seed=11, now_ms=NOW, progress=False)
    # And a dump recorded weeks ago, imported now: kept from its import (the `imports` table).
    dump = dump_import.build(DUMP.read_bytes(), account_sid=account, file_name=DUMP.name)
    dump_import.store(Pipeline(store, SETTINGS), dump, now_ms=NOW)


@pytest.fixture(scope="module")
def duck_filled(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    """The DuckDB side, filled once for the module: (its file, closed; the account). The data is the
    same for every engine (a fixed seed and NOW), so each pair copies this file instead of generating
    it again."""
    path: Path = tmp_path_factory.mktemp("agree-duck") / "a.duckdb"
    duck = open_store(f"duckdb:///{path}")
    try:
        account = _fill(duck)
    finally:
        duck.close()
    return path, account


@pytest.fixture(scope="module", params=["chdb", "clickhouse", "postgresql"])
def pair(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory, duck_filled: tuple[Path, str]
         ) -> Iterator[Pair]:
    base: Path = tmp_path_factory.mktemp("agree")
    if request.param == "postgresql":  # a server of its own (tests/store/conftest.py)
        other_url = request.getfixturevalue("postgres_cluster").database("agree")
    elif request.param == "clickhouse":  # over HTTP through clickhouse-connect (tests/store/conftest.py)
        server = request.getfixturevalue("clickhouse_server")
        httpx.post(server.replace("clickhouse://default:@", "http://"), content="CREATE DATABASE agree",
                   timeout=30).raise_for_status()
        other_url = f"{server}/agree"
    else:
        other_url = f"chdb:///{base}/a-chdb"
    # A copy of its own: a test may write to it (the other engine's store is new for each pair too).
    shutil.copyfile(duck_filled[0], base / "a.duckdb")
    account = duck_filled[1]
    duck = open_store(f"duckdb:///{base}/a.duckdb")
    ch = open_store(other_url)
    try:
        # Account SIDs are random: the second store gets the first one's, so that all SIDs match.
        ch.migrate()
        _, rows = duck.fetch("SELECT * FROM accounts")
        from video_insights.store.base import WriteBatch

        batch = WriteBatch()
        for r in rows:
            batch.insert("accounts", r)
        ch.write(batch)
        _generate(ch, account)
        yield Pair(duck, ch, account)
    finally:
        duck.close()
        ch.close()


# Alert rules and alerts hold random secrets and sids of rules, and the demo has none: the alert tests
# run the whole of their life (decided, retried, delivered) on DuckDB and chDB (tests/alerts).
@pytest.mark.parametrize("table", [t for t in TABLES if t.name not in ("accounts", "api_keys", "alert_rules",
                                                                         "alerts")],
                         ids=lambda t: t.name)
def test_tables_hold_the_same_rows(pair: Pair, table: Any) -> None:
    # Times of writing, and the ledger's tokens (random: processing/ledger.py), differ by nature.
    cols = [c for c in table.column_names if c not in ("updated_ms", "received_ms", "at_ms", "token")]
    sql = f"SELECT {', '.join(cols)} FROM {table.name} ORDER BY {', '.join(table.key)}"
    duck, ch = pair.both(lambda s: s.fetch(sql)[1])
    assert len(duck) > 0
    assert len(duck) == len(ch)
    for a, b in zip(duck, ch, strict=True):  # the first difference, named by its column and path
        a_row, b_row = dict(zip(cols, a, strict=True)), dict(zip(cols, b, strict=True))
        if table.name == "participant_metrics":
            a_row["document"], b_row["document"] = same_document(a_row["document"], b_row["document"])
        assert a_row == b_row, first_difference(a_row, b_row)


# A metrics document's measures, rounded by processing/metrics_documents.py to these steps from sums and
# averages of floats, which each engine adds up in its own order: a value on a rounding tie (an average
# of 3.1 and 3.2 is 3.15) can come out one step apart. Counts and sizes are exact and stay exact.
ROUNDED = {"bitrate_bps": 1, "packet_loss_pct": 0.001, "rtt_ms": 0.1, "jitter_ms": 0.1, "frame_rate": 0.1,
           "cpu_limited_s": 0.01, "bandwidth_limited_s": 0.01, "freezes_duration_s": 0.01, "concealment_pct": 0.01}


def same_document(a: Any, b: Any, key: str = "") -> tuple[Any, Any]:
    """`b` with each rounded measure that is within one rounding step of `a`'s replaced by `a`'s."""
    if isinstance(a, dict) and isinstance(b, dict):
        return a, {k: same_document(a[k], v, k)[1] if k in a else v for k, v in b.items()}
    if isinstance(a, list) and isinstance(b, list) and len(a) == len(b):
        return a, [same_document(x, y, key)[1] for x, y in zip(a, b, strict=True)]
    step = ROUNDED.get(key)
    if step and isinstance(a, int | float) and isinstance(b, int | float) and abs(a - b) <= step * 1.001:
        return a, a
    return a, b


def first_difference(a: Any, b: Any, path: str = "") -> str:
    """Where two nested values first differ, and how (`path: duckdb value != other value`)."""
    if isinstance(a, dict) and isinstance(b, dict):
        for k in sorted(set(a) | set(b), key=str):
            if a.get(k) != b.get(k):
                return first_difference(a.get(k), b.get(k), f"{path}.{k}")
    if isinstance(a, list | tuple) and isinstance(b, list | tuple):
        if len(a) != len(b):
            return f"{path}: {len(a)} items != {len(b)}"
        for i, (x, y) in enumerate(zip(a, b, strict=True)):
            if x != y:
                return first_difference(x, y, f"{path}[{i}]")
    return f"{path}: {a!r:.300} != {b!r:.300}"


QUERIES = [
    [("_range", "7d")],
    [("_range", "7d"), ("room_type__in", "group,peer_to_peer"), ("_sort", "duration_sec")],
    [("_range", "7d"), ("issue_type__eq", "packet_loss"), ("unique_participants__gte", "2")],
    [("_range", "7d"), ("codecs__ne", "VP8"), ("_sort_desc", "issue_count"), ("_size", "7"), ("_page", "1")],
    [("_range", "7d"), ("room_name__contains", "a"), ("media_region__ne", "us1")],
    [("_range", "7d"), ("end_reason__eq", "timeout"), ("recording_enabled__eq", "false")],
    [("_range", "7d"), ("room_sid__in", ""), ("duration_sec__lt", "600")],
    [("_range", "7d"), ("room_name__contains", "50%_\\x")],
    [("_range", "7d"), ("_search", "RM")],
]


@pytest.mark.parametrize("params", QUERIES, ids=lambda p: "&".join(f"{k}={v}" for k, v in p))
def test_room_lists_agree(pair: Pair, params: list[tuple[str, str]]) -> None:
    rq = parse_room_query(params)
    duck, ch = pair.both(lambda s: [{k: v for k, v in r.items() if k != "updated_ms"}
                                    for r in list_rooms(s, pair.account, rq, now=NOW)])
    assert duck == ch


def test_rooms_and_participants_agree(pair: Pair) -> None:
    scope = Scope(pair.account, frozenset({pair.account}))
    _, rooms = pair.duck.fetch(f"SELECT room_sid FROM rooms WHERE account_sid = '{pair.account}' ORDER BY room_sid")
    assert len(rooms) > 20
    for (room,) in rooms[:12]:
        duck, ch = pair.both(lambda s, r=room: {k: v for k, v in find_room(s, scope, r).items() if k != "updated_ms"})
        assert duck == ch
        duck, ch = pair.both(lambda s, r=room: [{k: v for k, v in p.items() if k != "updated_ms"}
                                                for p in list_participants(s, pair.account, r, 0, 50)])
        assert duck == ch
        for p in duck[:2]:
            pid = p["participant_sid"]
            d, c = pair.both(lambda s, r=room, p=pid: get_participant(s, scope, r, p)["participant_sid"])
            assert d == c
            d, c = same_document(*pair.both(lambda s, r=room, p=pid: participant_metrics(
                LiveRooms(s, Settings()).view(scope, r), p)))
            assert d == c, first_difference(d, c)


def test_window_queries_agree(pair: Pair) -> None:
    """The deltas (lag over each series) and intervals, computed at read time from raw samples."""
    _, rows = pair.duck.fetch(f"SELECT DISTINCT participant_sid FROM stream_samples "
                              f"WHERE account_sid = '{pair.account}' ORDER BY participant_sid")
    pids = [r[0] for r in rows]
    assert len(pids) > 20
    duck, ch = pair.both(lambda s: s.fetch(samples.track_stats(pair.account, pids))[1])
    assert duck == ch and len(duck) > len(pids)
    duck, ch = pair.both(lambda s: s.fetch(samples.intervals_of(pair.account, pids[:10]))[1])
    assert duck == ch and len(duck) > 100
    duck, ch = pair.both(lambda s: s.fetch(samples.receive_tracks_of(pair.account, pids[:10]))[1])
    assert duck == ch and len(duck) > 100
    for pid in pids[:5]:
        duck, ch = pair.both(lambda s, p=pid: s.fetch(samples.intervals(pair.account, p))[1])
        assert duck == ch


@pytest.mark.parametrize("window", [{"_range": "24h"}, {"_range": "7d"}, {"_range": "2d", "granularity": "hour"}],
                         ids=lambda w: "&".join(w.values()))
def test_dashboard_agrees(pair: Pair, window: dict[str, str]) -> None:
    w = dash.parse_window(window, now=NOW)
    duck, ch = pair.both(lambda s: dash.rooms_graph(s, pair.account, w))
    assert duck == ch and duck["totals"]["rooms"] > 0
    duck, ch = pair.both(lambda s: dash.minutes_graph(s, pair.account, w))
    assert duck == ch and duck["previous_period"]["recorded_from"] is not None
    nobody = "AC" + "0" * 32  # an account with no rooms: nothing recorded, on either engine
    assert pair.both(lambda s: dash.previous_period(s, nobody, w).recorded) == ("none", "none")
    for segment in dash.SEGMENTS:
        for issues in dash.ISSUE_FILTERS:
            duck, ch = pair.both(lambda s, g=segment, i=issues: dash.participants_graph(s, pair.account, w, g, i))
            assert duck == ch


def test_retention_counts_agree(pair: Pair) -> None:
    # A policy short enough to reach into the demo's two days: a dry run only counts.
    short = Settings.from_env({}, retention_days=1, retention_days_go=1, dashboard_retention_days=1,
                              dashboard_retention_days_go=1)
    duck, ch = pair.both(lambda s: purge(s, short, dry_run=True, now=NOW))
    assert duck == ch and duck["rooms"] > 0


def test_documents_agree_within_one_rounding_step_of_a_measure_and_no_more() -> None:
    a = {"send": [{"points": [{"jitter_ms": 3.1, "bitrate_bps": 1000, "nack_count": 4}]}]}
    assert same_document(a, {"send": [{"points": [{"jitter_ms": 3.2, "bitrate_bps": 999, "nack_count": 4}]}]}) \
        == (a, a)
    for other in ({"jitter_ms": 3.3, "bitrate_bps": 1000, "nack_count": 4},  # two steps
                  {"jitter_ms": 3.1, "bitrate_bps": 1000, "nack_count": 5},  # a count
                  {"jitter_ms": None, "bitrate_bps": 1000, "nack_count": 4}):
        b = {"send": [{"points": [other]}]}
        assert same_document(a, b) != (a, a)
