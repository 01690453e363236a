"""The gateway's hot path builds stream_samples rows straight from the wire structs; they must be the
rows the pipeline makes from the same reports as StreamSamples (imports, the getStats helper)."""

from __future__ import annotations

import gzip
from pathlib import Path

import msgspec
import orjson
import pytest

from video_insights.ingest.gateway_wire import StatsReport, report_rows, report_samples, salvage_report
from video_insights.ingest.getstats import snapshot_to_gateway_payload
from video_insights.model.ids import derived_sid
from video_insights.processing.intervals import GATEWAY_PERIOD_MS
from video_insights.processing.pipeline import sample_row

SERIES = Path(__file__).parent.parent / "data" / "getstats" / "chromium156"
IDS = {"account_sid": "AC" + "a" * 32, "room_sid": derived_sid("RM", "rows"),
       "participant_sid": derived_sid("PA", "rows")}


@pytest.mark.parametrize("path", sorted(SERIES.glob("*.jsonl.gz")), ids=lambda p: p.name.split(".")[0])
def test_rows_equal_the_sample_path(path: Path) -> None:
    with gzip.open(path) as f:
        lines = [orjson.loads(line) for line in f]
    checked = 0
    for n, line in enumerate(lines):
        payload = snapshot_to_gateway_payload({s["id"]: s for s in line["stats"]}, f"pc-{line['label']}")
        if n % 3 == 0:  # also without the source's trackSid: the derived SIDs must agree too
            for key in ("localAudioTrackStats", "localVideoTrackStats", "audioTrackStats", "videoTrackStats"):
                for entry in payload.get(key, []):
                    entry.pop("trackSid", None)
        report = msgspec.json.decode(orjson.dumps(payload), type=StatsReport)
        ts = int(line["clientTs"])
        rows = report_rows(report, ts_ms=ts, period_ms=GATEWAY_PERIOD_MS, path="p", **IDS)
        samples = report_samples(report, ts_ms=ts, path="p", **IDS)
        assert rows == [sample_row(s, GATEWAY_PERIOD_MS) for s in samples]
        checked += len(rows)
    assert checked > 20


@pytest.mark.parametrize(("bad", "where"), [
    ({"ssrc": "x1"}, "p.localVideoTrackStats[2].ssrc: expected an SSRC"),
    ({"ssrc": 3, "kind": "audio"}, "p.localVideoTrackStats[2].kind: 'audio' does not match the video list"),
    ({"ssrc": 3, "timestamp": 10.0}, "p.localVideoTrackStats[2].timestamp: 10 is more than a day from"),
])
def test_a_bad_entry_is_named_by_its_list_and_index(bad: dict[str, object], where: str) -> None:
    good = [{"ssrc": 1, "bytesSent": 10}, {"ssrc": 2, "bytesSent": 20}]
    payload = {"localAudioTrackStats": [{"ssrc": 9}], "localVideoTrackStats": [*good, bad]}
    report = msgspec.json.decode(orjson.dumps(payload), type=StatsReport)
    with pytest.raises(ValueError) as info:
        report_rows(report, ts_ms=1_800_000_000_000, period_ms=GATEWAY_PERIOD_MS, path="p", **IDS)
    assert str(info.value).startswith(where)
    assert len(report_rows(msgspec.json.decode(orjson.dumps({"localVideoTrackStats": good}), type=StatsReport),
                           ts_ms=1_800_000_000_000, period_ms=GATEWAY_PERIOD_MS, path="p", **IDS)) == 2


# twilio-video.js 2.36.0's entry for a receiver that got no media (the sender's side of a sendonly call).
PLACEHOLDER = {"trackId": "d76985b9-5b6c-4c39-a8a0-5e0b8e4c2f61", "trackSid": "MT10c5" + "0" * 28, "timestamp": 0,
               "packetsLost": None, "codec": None, "bytesReceived": None, "packetsReceived": None, "jitter": None,
               "audioLevel": None}


def test_an_entry_without_media_is_skipped_not_refused() -> None:
    now = 1_800_000_000_000
    payload = {"localAudioTrackStats": [{"ssrc": "1", "timestamp": now, "bytesSent": 10, "packetsLost": None,
                                         "roundTripTime": 0, "audioLevel": 32304, "elapsedTime": 5}],
               "audioTrackStats": [PLACEHOLDER], "videoTrackStats": [{**PLACEHOLDER, "frameRate": None,
                                                                      "dimensions": None, "freezeCount": None}]}
    report = msgspec.json.decode(orjson.dumps(payload), type=StatsReport)
    dropped: list[str] = []
    rows = report_rows(report, ts_ms=now, period_ms=GATEWAY_PERIOD_MS, path="p", dropped=dropped, **IDS)
    assert len(rows) == 1 and dropped == []
    assert len(report_rows(report, ts_ms=now, period_ms=GATEWAY_PERIOD_MS, path="p", **IDS)) == 1  # strict too


@pytest.mark.parametrize("bad", [{"timestamp": 0, "bytesReceived": 5}, {"ssrc": "7", "timestamp": 0}])
def test_an_entry_that_counts_without_an_ssrc_or_a_time_is_malformed(bad: dict[str, object]) -> None:
    now = 1_800_000_000_000
    report = msgspec.json.decode(orjson.dumps({"audioTrackStats": [{"ssrc": 1, "timestamp": now}, bad]}),
                                 type=StatsReport)
    dropped: list[str] = []
    rows = report_rows(report, ts_ms=now, period_ms=GATEWAY_PERIOD_MS, path="p", dropped=dropped, **IDS)
    assert len(rows) == 1
    assert len(dropped) == 1 and dropped[0].startswith("p.audioTrackStats[1].")
    with pytest.raises(ValueError, match=r"audioTrackStats\[1\]"):
        report_rows(report, ts_ms=now, period_ms=GATEWAY_PERIOD_MS, path="p", **IDS)


def test_a_report_that_fails_to_decode_keeps_its_good_entries() -> None:
    now = 1_800_000_000_000
    good = {"ssrc": 1, "timestamp": now, "bytesSent": 10}
    payload = orjson.dumps({"peerConnectionId": "pc9", "localAudioTrackStats": [good, {"ssrc": 2, "bytesSent": "x"}, 7],
                            "localVideoTrackStats": "nope", "audioTrackStats": [good] * 201,
                            "videoTrackStats": [PLACEHOLDER]})
    dropped: list[str] = []
    report = salvage_report(payload, "p", dropped)
    assert dropped == ["p.localAudioTrackStats[1].bytesSent: expected a number",
                       "p.localAudioTrackStats[2]: expected an object",
                       "p.localVideoTrackStats: expected an array",
                       "p.audioTrackStats: too many entries (at most 200)"]
    rows = report_rows(report, ts_ms=now, period_ms=GATEWAY_PERIOD_MS, path="p", dropped=dropped, **IDS)
    assert [(r[3], r[6]) for r in rows] == [("pc9", 1)]
    for unusable in (b"[1]", b'{"peerConnectionId": 5}'):
        with pytest.raises(ValueError, match=r"^p"):
            salvage_report(unusable, "p", [])
