"""Every recorded dump imported through the pipeline into a real DuckDB file: per-track loss, RTT and the
detected issues must match what the browser reported (the table in tests/data/webrtc-internals/README.md).

Documented differences: our RTT is the mean of the per-10-second-interval RTT (Δ totalRoundTripTime /
Δ roundTripTimeMeasurements), the table's is the mean of the ~1 s samples; they agree within a few %.
Beyond Twilio's two issues we may report extension issues (for example `video_freezes` on the
receiving side of loss3_rtt150, where Chrome did report freezes); the table speaks of Twilio's two.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import orjson
import pytest

from video_insights.analytics.live import LiveRooms
from video_insights.analytics.metrics import participant_metrics
from video_insights.analytics.rooms import Scope
from video_insights.ingest import dump_import
from video_insights.processing.pipeline import Pipeline
from video_insights.query.sql import q
from video_insights.settings import Settings
from video_insights.store.duckdb_store import DuckDBStore

DATA = Path(__file__).parent.parent / "data"
CHROME = DATA / "webrtc-internals" / "chromium156"
TWILIO_ISSUES = {"packet_loss", "round_trip_time"}

# file: (audio loss %, audio RTT ms, video loss %, video RTT ms, {issue: media})
EXPECTED = {
    "clean": (0.00, 1.8, 0.00, 2.3, {}),
    "loss8": (8.07, 1.7, 4.61, 2.0, {"packet_loss": ["audio"]}),
    "rtt350": (0.00, 358.6, 0.00, 358.3, {"round_trip_time": ["audio", "video"]}),
    "loss3_rtt150": (3.01, 154.2, 2.75, 154.7, {}),
}


def _import(store: DuckDBStore, settings: Settings, account: str, path: Path) -> dump_import.ImportResult:
    built = dump_import.build(path.read_bytes(), account_sid=account, file_name=path.name)
    Pipeline(store, settings).write_now(built.samples, built.events, period_ms=built.period_ms)
    return built.result


def _tracks(store: DuckDBStore, participant: str) -> dict[str, tuple[float, float]]:
    _, rows = store.fetch(q("SELECT kind, loss_pct, rtt_avg_ms FROM tracks WHERE participant_sid = :p",
                            p=participant))
    return {kind: (loss, rtt) for kind, loss, rtt in rows}


def _issues(store: DuckDBStore, participant: str) -> dict[str, list[str]]:
    details = orjson.loads(_details(store, participant))
    return {d["issue_type"]: d["properties"]["media"] for d in details}


@pytest.mark.parametrize("suffix", [".json.gz", ".rtcstats-dump.gz"])
@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_chrome_dump_matches_the_browser(store, settings, creds, name, suffix):
    result = _import(store, settings, creds.account_sid, CHROME / f"{name}{suffix}")
    a_loss, a_rtt, v_loss, v_rtt, issues = EXPECTED[name]
    tracks = _tracks(store, result.participant_sid)
    assert set(tracks) == {"audio", "video"}  # simulcast layers merge into one video track
    assert tracks["audio"][0] == pytest.approx(a_loss, abs=0.2)
    assert tracks["video"][0] == pytest.approx(v_loss, abs=0.2)
    assert tracks["audio"][1] == pytest.approx(a_rtt, rel=0.05, abs=1.0)
    assert tracks["video"][1] == pytest.approx(v_rtt, rel=0.05, abs=1.0)
    found = _issues(store, result.participant_sid)
    assert {k: v for k, v in found.items() if k in TWILIO_ISSUES} == issues


def test_room_summary_of_an_import(store, settings, creds):
    result = _import(store, settings, creds.account_sid, CHROME / "rtt350.json.gz")
    _, rows = store.fetch(q("SELECT room_status, unique_participants, concurrent_participants, issue_count, "
                            "participants_with_issues, codecs, duration_sec FROM rooms WHERE room_sid = :r",
                            r=result.room_sid))
    status, unique, concurrent, issue_count, with_issues, codecs, duration = rows[0]
    assert (status, unique, concurrent, with_issues) == ("completed", 1, 1, 1)
    assert issue_count >= 1 and ",VP8," in codecs and ",opus," in codecs
    assert 35 <= duration <= 50


def test_reimport_is_idempotent(store, settings, creds):
    first = _import(store, settings, creds.account_sid, CHROME / "loss8.json.gz")
    before = _tracks(store, first.participant_sid)
    again = _import(store, settings, creds.account_sid, CHROME / "loss8.json.gz")
    assert (again.room_sid, again.participant_sid) == (first.room_sid, first.participant_sid)
    # Equal up to float summation order (ClickHouse adds partial sums from parallel threads).
    assert _tracks(store, first.participant_sid) == {k: pytest.approx(v) for k, v in before.items()}


JITSI = sorted((DATA / "rtcstats" / "jitsi").glob("*.jsonl"))


@pytest.mark.parametrize("path", JITSI, ids=[p.stem for p in JITSI])
def test_every_jitsi_dump_imports(store, settings, creds, path):
    result = _import(store, settings, creds.account_sid, path)
    _, rows = store.fetch(q("SELECT status, browser_name FROM participants WHERE participant_sid = :p",
                            p=result.participant_sid))
    assert rows and rows[0][0] == "completed"
    assert result.samples > 0


def test_failed_connection_ends_with_a_media_error(store, settings, creds):
    dump = DATA / "rtcstats" / "jitsi" / "chrome-standard-pc-failed.jsonl"
    result = _import(store, settings, creds.account_sid, dump)
    _, rows = store.fetch(q("SELECT end_reason, issue_types FROM participants WHERE participant_sid = :p",
                            p=result.participant_sid))
    end_reason, issue_types = rows[0]
    assert end_reason == "media_connection_error"
    assert ",ice_failure," in issue_types


def _received(store: DuckDBStore, settings: Settings, account: str, name: str
              ) -> tuple[dump_import.ImportResult, dict[str, list[dict[str, Any]]], dict[str, str]]:
    result = _import(store, settings, account, CHROME / name)
    scope = Scope(account, frozenset([account]))
    metrics = participant_metrics(LiveRooms(store, settings).view(scope, result.room_sid), result.participant_sid)
    incoming: dict[str, list[dict[str, Any]]] = {}
    for t in metrics["receive_tracks"]:
        incoming.setdefault(t["kind"], []).append(t)
    return result, incoming, {t["kind"]: t["track_sid"] for t in metrics["send"]}


def test_a_loopback_dump_receives_its_own_tracks(store, settings, creds):
    """Both peer connections of the recorded page are one participant: what it received is what it sent,
    matched by the track SIDs derived from the media track ids both sides report (docs/receive.md)."""
    result, incoming, sent = _received(store, settings, creds.account_sid, "loss8.json.gz")
    assert {k: len(v) for k, v in incoming.items()} == {"audio": 1, "video": 1}
    for kind, (track,) in incoming.items():
        assert track["sender"]["participant_sid"] == result.participant_sid
        assert track["sender"]["track_sid"] == sent[kind] == track["track_sid"]


def test_received_tracks_the_sender_never_sent_have_no_sender(store, settings, creds):
    """The simulcast page receives each layer as its own track, under ids the sending side never had
    (`<id>-q`, `-h`, `-f`): those have no sender, and the video-freezes issue names one of them."""
    result, incoming, sent = _received(store, settings, creds.account_sid, "loss3_rtt150.json.gz")
    (audio,) = incoming["audio"]
    assert audio["sender"]["track_sid"] == sent["audio"]
    assert len(incoming["video"]) == 3 and all(t["sender"] is None for t in incoming["video"])
    details = orjson.loads(_details(store, result.participant_sid))
    freezes = next(d for d in details if d["issue_type"] == "video_freezes")
    (frozen,) = freezes["properties"]["track_sids"]
    track = next(t for t in incoming["video"] if t["track_sid"] == frozen)
    assert sum(p["freezes_duration_s"] or 0 for p in track["points"]) > 0


def _details(store: DuckDBStore, participant: str) -> str:
    _, rows = store.fetch(q("SELECT detected_issues FROM participants WHERE participant_sid = :p", p=participant))
    return str(rows[0][0])
