"""Dump parsing against real recordings (tests/data, copied from the project's shared data set).

webrtc-internals/chromium156: loopback calls in headless Chromium 156 recorded three ways at once, with a
UDP relay adding known delay and loss. The table below is the data set's own reference (its README),
computed from the webrtc-internals export. rtcstats/jitsi: Jitsi rtcstats-server test dumps (MIT, see
the LICENSE beside them) with Jitsi's own feature-extractor results in expected/.
"""

from __future__ import annotations

import gzip
import json
from collections import defaultdict
from pathlib import Path
from typing import Any

import pytest

from video_insights.ingest.dumps import DumpFormatError, ParsedDump, parse_dump
from video_insights.ingest.getstats import snapshot_to_gateway_payload, snapshot_to_samples

DATA = Path(__file__).resolve().parent.parent / "data"
CALLS = DATA / "webrtc-internals" / "chromium156"
JITSI = DATA / "rtcstats" / "jitsi"

# name -> (audio loss %, audio RTT ms, video loss %, video RTT ms), from the data set's README.
README_TABLE = {
    "clean": (0.00, 1.8, 0.00, 2.3),
    "loss8": (8.07, 1.7, 4.61, 2.0),
    "rtt350": (0.00, 358.6, 0.00, 358.3),
    "loss3_rtt150": (3.01, 154.2, 2.75, 154.7),
}
CALL_FILES = [f"{name}{ext}" for name in README_TABLE for ext in (".json.gz", ".rtcstats-dump.gz")]
JITSI_FILES = sorted(p.name for p in JITSI.glob("*.jsonl"))


def load(path: Path) -> ParsedDump:
    return parse_dump(path.read_bytes())


def samples_of(snapshot: Any) -> list[Any]:
    return snapshot_to_samples(snapshot.stats, account_sid="AC1", room_sid="RM1", participant_sid="PA1",
                               pc_id=snapshot.pc_id, ts_ms=int(snapshot.ts_ms))


def send_track_metrics(dump: ParsedDump, pc_id: str = "8-1") -> dict[str, tuple[float, float]]:
    """kind -> (cumulative loss %, mean RTT ms) per sending track, simulcast layers summed.

    RTT is the mean of every remote-inbound-rtp roundTripTime sample of the track's layers, as the README
    table computes it. (PRODUCT's per-interval rule takes the maximum across layers; on "clean" that
    gives 3.5 ms for video instead of 2.3 ms because the layers' RTCP timing differs by a millisecond.)
    """
    last: dict[tuple[str | None, int], Any] = {}
    rtts: dict[str | None, list[float]] = defaultdict(list)
    kinds: dict[str | None, str] = {}
    for snap in dump.snapshots:
        if snap.pc_id != pc_id:
            continue
        for sample in samples_of(snap):
            if sample.direction == "send":
                last[sample.track_id, sample.ssrc] = sample
                kinds[sample.track_id] = sample.kind
                if sample.rtt_ms is not None:
                    rtts[sample.track_id].append(sample.rtt_ms)
    metrics = {}
    for track, kind in kinds.items():
        layers = [s for (t, _), s in last.items() if t == track]
        lost = sum(s.packets_lost or 0 for s in layers)
        sent = sum(s.packets or 0 for s in layers)
        metrics[kind] = (100.0 * lost / (lost + sent), sum(rtts[track]) / len(rtts[track]))
    return metrics


# --- every sample parses ---------------------------------------------------------------------------

@pytest.mark.parametrize("name", CALL_FILES)
def test_chrome_call_parses(name: str) -> None:
    dump = load(CALLS / name)
    assert dump.peer_connections == ["8-1", "8-2"]
    assert dump.user_agent_data is not None and dump.user_agent_data["platform"] == "Linux"
    if name.endswith(".json.gz"):
        assert dump.format == "webrtc-internals"
        assert dump.user_agent is not None and "HeadlessChrome/156" in dump.user_agent
    else:
        assert dump.format == "rtcstats-dump"
        assert dump.user_agent is None  # Chrome's rtcstats dump only has navigator.userAgentData
    per_pc = {pc: [s for s in dump.snapshots if s.pc_id == pc] for pc in dump.peer_connections}
    assert all(40 <= len(snaps) <= 43 for snaps in per_pc.values())  # ~1 poll/s over a 40 s call
    assert dump.snapshots == sorted(dump.snapshots, key=lambda s: (s.ts_ms, s.pc_id))
    assert 40_000 < dump.end_ms - dump.start_ms < 46_000
    for snap in dump.snapshots:
        for sid, stat in snap.stats.items():
            assert stat["id"] == sid and isinstance(stat["type"], str)
            assert isinstance(stat["timestamp"], float | int)
            assert not any(key.startswith("[") for key in stat)  # webrtc-internals' computed series
    outbound = [o for o in per_pc["8-1"][-1].stats.values() if o["type"] == "outbound-rtp"]
    assert {o["kind"] for o in outbound} == {"audio", "video"}
    assert all(isinstance(o["mid"], str) for o in outbound)  # the export writes mid as a number


@pytest.mark.parametrize("name", JITSI_FILES)
def test_jitsi_dump_parses(name: str) -> None:
    dump = load(JITSI / name)
    assert dump.format == "rtcstats"
    assert dump.peer_connections and all(pc.startswith("PC_") for pc in dump.peer_connections)
    assert dump.snapshots
    assert dump.end_ms - dump.start_ms < 10 * 60_000  # connectionInfo's stray timestamp is left out
    if name != "google-legacy-stats-sfu.jsonl":  # the only one without a connectionInfo line
        assert dump.user_agent is not None and dump.user_agent.startswith("Mozilla/5.0")
    assert dump.identity is not None
    for snap in dump.snapshots:
        assert all(stat["id"] == sid and "timestamp" in stat for sid, stat in snap.stats.items())


def test_rtcstats_v3_gum_only() -> None:
    dump = load(DATA / "rtcstats" / "v3" / "gumonly.jsonl")
    assert dump.format == "rtcstats-dump"
    assert dump.snapshots == [] and dump.peer_connections == []
    assert dump.user_agent is not None and "Chrome/140" in dump.user_agent
    assert dump.user_agent_data is not None and dump.user_agent_data["platform"] == "Linux"
    # Method names are compressed to numbers (39, 60, 61) and times are deltas after the first.
    assert [(e.name, e.ts_ms) for e in dump.events] == [
        ("create", 1758602115670),
        ("navigator.mediaDevices.getUserMedia", 1758602115670 + 2153),
        ("navigator.mediaDevices.getUserMediaOnSuccess", 1758602115670 + 2153 + 1040),
        ("close", 1758602115670 + 2153 + 1040 + 2353),
    ]


def test_rtcstats_dump_times_are_deltas_from_an_absolute_start() -> None:
    dump = load(CALLS / "clean.rtcstats-dump.gz")
    for snap in dump.snapshots[:5] + dump.snapshots[-5:]:
        local = [o["timestamp"] for o in snap.stats.values() if o["type"] == "transport"]
        assert local and abs(snap.ts_ms - local[0]) < 50  # summed deltas land on the stats' own clock


def test_events() -> None:
    export = load(CALLS / "clean.json.gz")
    states = [(e.pc_id, e.payload) for e in export.events if e.name == "oniceconnectionstatechange"]
    assert ("8-1", "checking") in states and ("8-1", "connected") in states  # JSON-in-string unwrapped
    assert [e.name for e in export.events if e.pc_id is None] == [
        "navigator.mediaDevices.getUserMedia", "navigator.mediaDevices.getUserMediaOnSuccess"]
    assert export.events == sorted(export.events, key=lambda e: e.ts_ms)
    dump = load(CALLS / "clean.rtcstats-dump.gz")
    assert {e.pc_id for e in dump.events if e.name.startswith("navigator.")} == {None}  # not "8-0"
    failed = load(JITSI / "chrome-standard-pc-failed.jsonl")
    assert ("PC_0", "failed") in [(e.pc_id, e.payload) for e in failed.events
                                  if e.name == "onconnectionstatechange"]


# --- the reference numbers -------------------------------------------------------------------------

@pytest.mark.parametrize("name", CALL_FILES)
def test_loss_and_rtt_match_readme_table(name: str) -> None:
    audio_loss, audio_rtt, video_loss, video_rtt = README_TABLE[name.split(".", 1)[0]]
    metrics = send_track_metrics(load(CALLS / name))
    assert set(metrics) == {"audio", "video"}
    assert metrics["audio"][0] == pytest.approx(audio_loss, abs=0.2)
    assert metrics["video"][0] == pytest.approx(video_loss, abs=0.2)
    # The rtcstats dump holds one poll more than the export (it was saved a second later).
    assert metrics["audio"][1] == pytest.approx(audio_rtt, rel=0.05)
    assert metrics["video"][1] == pytest.approx(video_rtt, rel=0.05)


def test_export_rebuild_equals_chromes_own_dump() -> None:
    """Same polls, read from the per-property series and from Chrome's full reports, match exactly.

    Except remote-outbound-rtp roundTripTime: it is absent on polls without a new RTCP XR measurement,
    and a series with holes cannot be placed back from the export (only its start and end are known).
    """
    export, dump = load(CALLS / "clean.json.gz"), load(CALLS / "clean.rtcstats-dump.gz")
    by_time = {(s.pc_id, _poll_time(s)): s for s in dump.snapshots}
    compared = 0
    for snap in export.snapshots:
        other = by_time[snap.pc_id, _poll_time(snap)]
        assert set(snap.stats) == set(other.stats)
        for sid, stat in snap.stats.items():
            gappy = {"roundTripTime"} if stat["type"] == "remote-outbound-rtp" else set()
            assert _without(stat, gappy) == _without(other.stats[sid], gappy)
            compared += 1
    assert compared > 1500


def _without(stat: dict[str, Any], keys: set[str]) -> dict[str, Any]:
    return {k: v for k, v in stat.items() if k not in keys}


def _poll_time(snapshot: Any) -> float:
    return round(float(next(o["timestamp"] for o in snapshot.stats.values() if o["type"] == "transport")), 3)


# --- old-style exports -----------------------------------------------------------------------------

def _old_id(sid: str, series: dict[str, list[Any]], stats_type: str) -> str:
    kind = str(series.get("kind", ["?"])[-1]).capitalize()
    ssrc = series.get("ssrc", ["?"])[-1]
    names = {
        "outbound-rtp": f"RTCOutboundRTP{kind}Stream_{ssrc}",
        "inbound-rtp": f"RTCInboundRTP{kind}Stream_{ssrc}",
        "remote-inbound-rtp": f"RTCRemoteInboundRtp{kind}Stream_{ssrc}",
        "remote-outbound-rtp": f"RTCRemoteOutboundRTP{kind}Stream_{ssrc}",
        "codec": f"RTCCodec_{sid}",
        "candidate-pair": f"RTCIceCandidatePair_{sid[2:]}",
        "local-candidate": f"RTCIceCandidate_{sid[1:]}",
        "remote-candidate": f"RTCIceCandidate_{sid[1:]}",
        "transport": f"RTCTransport_{sid}",
        "peer-connection": "RTCPeerConnection",
        "media-source": f"RTC{kind}Source_{sid[2:]}",
        "media-playout": "RTCAudioPlayout_1",
        "certificate": f"RTCCertificate_{sid[2:]}",
    }
    return names[stats_type]


def to_old_style_export(doc: dict[str, Any]) -> dict[str, Any]:
    """What Chrome exported before ~M110: no statsType, no timestamp (or type) series, long stat ids."""
    for pc in doc["PeerConnections"].values():
        grouped: dict[str, dict[str, Any]] = defaultdict(dict)
        types: dict[str, str] = {}
        for key, raw in pc["stats"].items():
            if "-[" not in key:
                sid, prop = key.rsplit("-", 1)
                grouped[sid][prop] = raw
                types[sid] = raw["statsType"]
        rename = {sid: _old_id(sid, {p: json.loads(r["values"]) for p, r in props.items()}, types[sid])
                  for sid, props in grouped.items()}
        old_stats = {}
        for sid, props in grouped.items():
            for prop, raw in props.items():
                if prop in ("timestamp", "type"):
                    continue
                values = [rename.get(v, v) if isinstance(v, str) else v for v in json.loads(raw["values"])]
                old_stats[f"{rename[sid]}-{prop}"] = {
                    "startTime": raw["startTime"], "endTime": raw["endTime"], "values": json.dumps(values)}
        pc["stats"] = old_stats
    return doc


@pytest.mark.parametrize("name", ["clean", "loss8", "loss3_rtt150"])
def test_old_style_export_gives_the_same_numbers(name: str) -> None:
    new_doc = json.loads(gzip.decompress((CALLS / f"{name}.json.gz").read_bytes()))
    old = parse_dump(json.dumps(to_old_style_export(new_doc)).encode())
    new = load(CALLS / f"{name}.json.gz")
    for pc_id in ("8-1", "8-2"):
        old_pc = [s for s in old.snapshots if s.pc_id == pc_id]
        new_pc = [s for s in new.snapshots if s.pc_id == pc_id]
        assert [len(s.stats) for s in old_pc] == [len(s.stats) for s in new_pc]
        # Times are spread between startTime and endTime: within a poll of the recorded ones.
        for old_snap, new_snap in zip(old_pc, new_pc, strict=True):
            assert abs(old_snap.ts_ms - new_snap.ts_ms) < 1000
    types = {o["type"] for s in old.snapshots for o in s.stats.values()}
    assert {"outbound-rtp", "remote-inbound-rtp", "local-candidate", "remote-candidate", "codec"} <= types
    old_metrics, new_metrics = send_track_metrics(old), send_track_metrics(new)
    for kind in ("audio", "video"):
        assert old_metrics[kind][0] == pytest.approx(new_metrics[kind][0], abs=1e-9)
        assert old_metrics[kind][1] == pytest.approx(new_metrics[kind][1], rel=1e-9)


# --- Jitsi's own results -----------------------------------------------------------------------------

def _jitsi_expected(name: str) -> dict[str, Any]:
    for path in sorted((JITSI / "expected").glob(f"*{name}*.json")):
        doc = json.loads(path.read_text())
        doc = doc[0] if isinstance(doc, list) else doc.get("expectedExtractData", doc)
        if "features" in doc and "aggregates" in doc["features"]:
            aggregates: dict[str, Any] = doc["features"]["aggregates"]
            return aggregates
    raise AssertionError(f"no aggregates for {name}")


def _last_samples(dump: ParsedDump) -> dict[tuple[str, str, int], Any]:
    return {(snap.pc_id, s.direction, s.ssrc): s for snap in dump.snapshots for s in samples_of(snap)}


def _mean_pair_rtt(dump: ParsedDump, pc_id: str) -> float:
    """Jitsi's meanRtt: selected candidate pair currentRoundTripTime (s), zero readings skipped."""
    values = []
    for snap in dump.snapshots:
        if snap.pc_id != pc_id:
            continue
        pair = snapshot_to_gateway_payload(snap.stats, pc_id)["candidatePair"]
        if pair and pair["currentRoundTripTime"]:
            values.append(pair["currentRoundTripTime"])
    return sum(values) / len(values) if values else 0.0


@pytest.mark.parametrize("name", ["chrome-standard-pc-failed", "google-standard-stats-sfu",
                                  "chrome96-standard-stats-p2p-add-transceiver",
                                  "firefox-standard-stats-sfu", "firefox97-standard-stats-sfu"])
def test_jitsi_per_ssrc_packets_and_loss(name: str) -> None:
    """Jitsi keeps the last packetsSent/Received and packetsLost per SSRC and PC; so do we.

    Documented differences: Jitsi's Firefox extractor reads packetsSent from remote-inbound-rtp, which
    Firefox does not fill, so its sender `packets` are 0 (only packetsLost is compared there); and it
    files remote-inbound-rtp stats (our own streams, seen by the SFU) under receiverTracks — those SSRCs
    are not inbound streams and are skipped. Jitsi's packetsLostPct is lost / packets (not / (lost +
    packets)) rounded to 2 decimals; that is what is compared to it.
    """
    dump, expected = load(JITSI / f"{name}.jsonl"), _jitsi_expected(name)
    ours = _last_samples(dump)
    firefox = name.startswith("firefox")
    checked = 0
    for pc_id, aggregate in expected.items():
        for side, direction in (("senderTracks", "send"), ("receiverTracks", "recv")):
            for track in aggregate["tracks"][side]:
                sample = ours.get((pc_id, direction, int(track["ssrc"])))
                if sample is None and firefox and direction == "recv":
                    assert (pc_id, "send", int(track["ssrc"])) in ours  # a remote-inbound-rtp
                    continue
                assert sample is not None, (pc_id, direction, track["ssrc"])
                assert sample.kind == track["mediaType"]
                assert (sample.packets_lost or 0) == track["packetsLost"]
                if not (firefox and direction == "send"):
                    assert sample.packets == track["packets"]
                    pct = round(100 * (sample.packets_lost or 0) / sample.packets, 2) if sample.packets else 0
                    assert pct == track["packetsLostPct"]
                checked += 1
    assert checked >= 3


@pytest.mark.parametrize("name", ["chrome-standard-pc-failed", "google-standard-stats-sfu",
                                  "chrome96-standard-stats-p2p-add-transceiver"])
def test_jitsi_mean_rtt(name: str) -> None:
    """Documented difference: for legacy goog stats (chrome96-...) Jitsi averages googRtt as it comes,
    in milliseconds, into a field it reports in seconds (PC_1 meanRtt 40.33); we convert to seconds."""
    dump, expected = load(JITSI / f"{name}.jsonl"), _jitsi_expected(name)
    for pc_id, aggregate in expected.items():
        jitsi = aggregate["transportAggregates"]["meanRtt"]
        ours = _mean_pair_rtt(dump, pc_id)
        if name.startswith("chrome96"):
            ours *= 1000.0
        assert round(ours, 2) == pytest.approx(jitsi, abs=0.011), pc_id


@pytest.mark.parametrize(("name", "mean_rtt_s"), [("firefox-standard-stats-sfu", 0.05),
                                                  ("firefox97-standard-stats-sfu", 0.04)])
def test_jitsi_mean_rtt_firefox(name: str, mean_rtt_s: float) -> None:
    """Firefox has no currentRoundTripTime: Jitsi averages every remote-inbound-rtp roundTripTime."""
    dump = load(JITSI / f"{name}.jsonl")
    rtts = [s.rtt_ms / 1000.0 for snap in dump.snapshots for s in samples_of(snap) if s.rtt_ms]
    assert round(sum(rtts) / len(rtts), 2) == mean_rtt_s == _jitsi_expected(name)["PC_0"][
        "transportAggregates"]["meanRtt"]


def test_jitsi_legacy_goog_stats() -> None:
    """Legacy stats are rewritten to standard objects; totals match Jitsi's legacy feature extractor."""
    dump = load(JITSI / "google-legacy-stats-sfu.jsonl")
    features = json.loads((JITSI / "expected" / "results-google-legacy-stats-sfu-result.json").read_text())
    pc1 = next(f["connectionFeatures"] for f in features if f["connId"] == "PC_1")
    ours = _last_samples(dump)
    sends = {s.kind: s for (pc, d, _), s in ours.items() if pc == "PC_1" and d == "send"}
    assert (sends["video"].packets, sends["video"].packets_lost) == (
        pc1["statsVideoPacketsSentTotal"], pc1["statsVideoPacketsLostTotal"])  # 3212, 3
    assert (sends["audio"].packets, sends["audio"].packets_lost) == (
        pc1["statsAudioPacketsSentTotal"], pc1["statsAudioPacketsLostTotal"])  # 5352, 2
    assert round(_mean_pair_rtt(dump, "PC_1"), 2) == pc1["statsMeanRoundTripTime"]  # 0.05 s
    assert sends["video"].codec == "VP8" and sends["video"].frame_height == 180
    assert sends["video"].track_id == "3cdca7fc-5d91-49a5-8b08-aed379cc48c8"
    last = dump.snapshots[-1].stats
    assert isinstance(last["ssrc_108604700_send"]["bytesSent"], int)  # "2803276" in the dump
    assert last["ssrc_108604700_send_remote"]["roundTripTime"] == pytest.approx(0.046)


def test_safari_relay_trouble_is_visible() -> None:
    dump = load(JITSI / "safari-relay.jsonl")
    pairs = [snapshot_to_gateway_payload(s.stats, s.pc_id)["candidatePair"] for s in dump.snapshots]
    assert all(p is not None and p["relayed"] for p in pairs)
    assert max(p["currentRoundTripTime"] or 0 for p in pairs if p) > 2.0  # RTT spikes of seconds
    ours = _last_samples(dump)
    worst = max((s for s in ours.values() if s.direction == "recv" and s.packets),
                key=lambda s: s.packets_lost / (s.packets_lost + s.packets))
    assert worst.kind == "video" and worst.packets_lost / (worst.packets_lost + worst.packets) > 0.05


# --- delta decompression ---------------------------------------------------------------------------

def _lines(*records: Any) -> bytes:
    return "\n".join(json.dumps(r) for r in records).encode() + b"\n"


def test_jitsi_delta_rules() -> None:
    data = _lines(
        ["create", "PC_0", {}, 1000],
        ["getstats", "PC_0", {"OT1": {"timestamp": 0, "type": "outbound-rtp", "ssrc": 1, "kind": "audio",
                                      "packetsSent": 10},
                              "RI1": {"timestamp": 950, "type": "remote-inbound-rtp", "ssrc": 1,
                                      "kind": "audio", "localId": "OT1", "packetsLost": 0},
                              "CP1": {"timestamp": 0, "type": "candidate-pair"},
                              "timestamp": 1001}, 1002],
        ["getstats", "PC_0", {"OT1": {"timestamp": 0, "packetsSent": 20}, "RI1": {},
                              "timestamp": 2001}, 2002],
    )
    second = parse_dump(data).snapshots[1].stats
    assert second["OT1"] == {"id": "OT1", "timestamp": 2001, "type": "outbound-rtp", "ssrc": 1,
                             "kind": "audio", "packetsSent": 20}
    assert second["RI1"]["timestamp"] == 950  # unchanged object keeps its own (RTCP) time
    assert "CP1" not in second  # absent id: the object is gone


def test_rtcstats_v3_compressed_stats() -> None:
    data = b"RTCStatsDump\n" + _lines(
        {"fileFormat": 3, "userAgent": "UA"},
        [39, "1", {"bundlePolicy": "max-bundle"}, 1000],
        ["g", "1", {"0": {"type": 2, "10": 5, "11": "video", "79": 100, "96": {"cpu": 1.0, "bandwidth": 0}},
                    "1": {"type": 3, "10": 5, "11": "video", "74": "0", "15": 2, "75": 0.1},
                    "2": {"type": 6, "118": "succeeded"}, "t": 5000}, 4000],
        ["g", "1", {"0": {"79": 150, "96": {"cpu": 2.5}}, "2": None, "t": 6000}, 1000],
    )
    dump = parse_dump(data)
    assert dump.format == "rtcstats-dump" and dump.user_agent == "UA"
    assert dump.events[0].name == "create" and dump.peer_connections == ["1"]
    first, second = (s.stats for s in dump.snapshots)
    assert [s.ts_ms for s in dump.snapshots] == [5000, 6000]
    assert first["0"] == {"id": "0", "type": "outbound-rtp", "ssrc": 5, "kind": "video", "packetsSent": 100,
                          "qualityLimitationDurations": {"cpu": 1.0, "bandwidth": 0}, "timestamp": 5000}
    assert second["0"]["packetsSent"] == 150 and second["0"]["timestamp"] == 6000
    assert second["0"]["qualityLimitationDurations"] == {"cpu": 2.5, "bandwidth": 0}
    assert second["1"]["roundTripTime"] == 0.1  # omitted object: unchanged
    assert "2" not in second  # null: removed
    (sample,) = snapshot_to_samples(second, account_sid="A", room_sid="R", participant_sid="P", pc_id="1")
    assert (sample.packets, sample.packets_lost, sample.rtt_ms, sample.ql_cpu_s) == (150, 2, 100.0, 2.5)


# --- malformed input -----------------------------------------------------------------------------------

def _export(**overrides: Any) -> bytes:
    doc: dict[str, Any] = {"PeerConnections": {"8-1": {"stats": {
        "P-timestamp": {"startTime": "2026-01-01T00:00:00.000Z", "endTime": "2026-01-01T00:00:01.000Z",
                        "statsType": "peer-connection", "values": "[1767225600000, 1767225601000]"}},
        "updateLog": []}}, "UserAgent": "UA"}
    doc.update(overrides)
    return json.dumps(doc).encode()


GOOD_JITSI = _lines(["create", "PC_0", {}, 1000], ["getstats", "PC_0", {"timestamp": 1}, 1001])
MALFORMED = [
    (b"", "empty file"),
    (b"  \n\n", "empty file"),
    (gzip.compress(GOOD_JITSI)[:-12], "gzip: truncated"),
    (gzip.compress(GOOD_JITSI)[:15] + b"\xff" * 30, "gzip"),
    (b"\xff\xfe\x00garbage", "not UTF-8"),
    (b"hello world", "not a webrtc-internals export or rtcstats dump"),
    (GOOD_JITSI[:-8], "line 2: invalid JSON"),
    (GOOD_JITSI + b'{"method": "getstats"}\n',
     "line 3: expected a JSON array [method, pcId, value, timestamp]"),
    (GOOD_JITSI + b'["getstats", "PC_0"]\n', "line 3: expected a JSON array"),
    (GOOD_JITSI + b'["getstats", "PC_0", {}, "noon"]\n', "line 3: timestamp must be a number"),
    (GOOD_JITSI + b'[17, {}, {}, 5]\n', "line 3: pcId must be a string or null"),
    (GOOD_JITSI + b'[true, "PC_0", {}, 5]\n', "line 3: method must be a string"),
    (GOOD_JITSI + b'["getstats", "PC_0", [1, 2], 5]\n', "line 3: getStats value must be a JSON object"),
    (GOOD_JITSI + b'["getstats", "PC_0", {"OT1": 7}, 5]\n', "line 3: stat 'OT1' is not a JSON object"),
    (GOOD_JITSI + b'["getstats", "PC_0", {"OT1": {"timestamp": "x"}}, 5]\n', "line 3: stat 'OT1' timestamp"),
    (GOOD_JITSI + b'["getstats", null, {}, 5]\n', "line 3: getStats record without a peer connection"),
    (b"RTCStatsDump\n", "line 2: expected the RTCStatsDump metadata object"),
    (b"RTCStatsDump\n[1,2]\n", "line 2: expected the RTCStatsDump metadata object"),
    (b'RTCStatsDump\n{"fileFormat": 2}\n', "line 2: unsupported RTCStatsDump fileFormat 2"),
    (b'RTCStatsDump\n{"fileFormat": 3}\n["create", null, {}, 1]\n["g", "1", {"0"', "line 4: invalid JSON"),
    (b'RTCStatsDump\n{"fileFormat": 3}\n', "dump contains no events and no stats"),
    (b'{"PeerConnections": {"8-1": ', "webrtc-internals export: invalid JSON"),
    (b'{"label": "sender", "stats": []}\n{"label": "sender", "stats": []}\n', "line 1 is a JSON object"),
    (b'{"getUserMedia": []}', "no PeerConnections object"),
    (_export(PeerConnections=[]), "PeerConnections: expected an object"),
    (_export(PeerConnections={"8-1": {"stats": {"OT1-bytesSent": {"values": "{}"}}}}),
     "PeerConnections.8-1.stats.OT1-bytesSent: values is not a JSON array"),
    (_export(PeerConnections={"8-1": {"stats": {"OT1-bytesSent": {"values": "[1, 2"}}}}),
     "PeerConnections.8-1.stats.OT1-bytesSent.values: invalid JSON"),
    (_export(PeerConnections={"8-1": {"stats": {"bytesSent": {"values": "[1]"}}}}),
     "PeerConnections.8-1.stats.bytesSent: expected a '<statId>-<property>' key"),
    (_export(PeerConnections={"8-1": {"stats": {"OT1-bytesSent": {"values": "[1]", "startTime": "soon"}}}}),
     "PeerConnections.8-1.stats.OT1-bytesSent.startTime: expected an ISO 8601 time"),
    (_export(PeerConnections={"8-1": {"stats": {"OT1-bytesSent": {"values": "[1]"}}}}),
     "series without timestamps need startTime and endTime"),
    (_export(PeerConnections={"8-1": {"stats": {}, "updateLog": {}}}), "PeerConnections.8-1.updateLog"),
    (_export(PeerConnections={"8-1": {"stats": {}, "updateLog": [{"value": 1}]}}),
     "PeerConnections.8-1.updateLog[0]: expected an object with a string 'type'"),
    (_export(getUserMedia={}), "getUserMedia: expected an array"),
]


@pytest.mark.parametrize(("data", "message"), MALFORMED, ids=[m for _, m in MALFORMED])
def test_malformed_input_raises_dump_format_error(data: bytes, message: str) -> None:
    with pytest.raises(DumpFormatError) as info:
        parse_dump(data)
    assert message in str(info.value)


def test_good_inputs_of_the_malformed_cases_parse() -> None:
    assert parse_dump(GOOD_JITSI).snapshots[0].ts_ms == 1001
    assert parse_dump(gzip.compress(GOOD_JITSI)).format == "rtcstats"
    assert len(parse_dump(_export()).snapshots) == 2


def test_gzip_bomb_is_refused() -> None:
    with pytest.raises(DumpFormatError, match="expands to more than 1000 bytes"):
        parse_dump(gzip.compress(b"[" + b" " * 100_000), max_bytes=1000)
