"""The gateway's hot path builds stream_samples rows straight from the wire structs; they must be the
rows the pipeline makes from the same reports as StreamSamples (imports, the getStats helper)."""

from __future__ import annotations

import gzip
from pathlib import Path

import msgspec
import orjson
import pytest

from video_insights.ingest.gateway_wire import StatsReport, report_rows, report_samples
from video_insights.model.ids import derived_sid
from video_insights.processing.getstats import snapshot_to_gateway_payload
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
