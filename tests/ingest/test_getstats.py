"""getStats report -> StreamSamples, and the twilio-video.js stats-report payload that carries them."""

from __future__ import annotations

import gzip
from pathlib import Path
from typing import Any

import orjson
import pytest

from video_insights.ingest.dumps import parse_dump
from video_insights.ingest.getstats import (
    gateway_entry_to_sample,
    snapshot_to_gateway_payload,
    snapshot_to_samples,
)
from video_insights.model.records import Direction, MediaKind, StreamSample

DATA = Path(__file__).resolve().parent.parent / "data"
SERIES = DATA / "getstats" / "chromium156"
IDS: dict[str, Any] = {"account_sid": "AC1", "room_sid": "RM1", "participant_sid": "PA1"}
LISTS: dict[tuple[Direction, MediaKind], str] = {
    ("send", "audio"): "localAudioTrackStats", ("send", "video"): "localVideoTrackStats",
    ("recv", "audio"): "audioTrackStats", ("recv", "video"): "videoTrackStats"}


def series(name: str) -> list[dict[str, Any]]:
    """The page's own getStats() every second: {label, clientTs, stats: [stat, ...]} per line."""
    raw = gzip.decompress((SERIES / f"{name}.jsonl.gz").read_bytes())
    return [orjson.loads(line) for line in raw.splitlines()]


def as_report(line: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {stat["id"]: stat for stat in line["stats"]}


def samples(stats: dict[str, dict[str, Any]], ts_ms: int | None = None) -> list[StreamSample]:
    return snapshot_to_samples(stats, pc_id="pc1", ts_ms=ts_ms, **IDS)


# --- real getStats series ------------------------------------------------------------------------

@pytest.mark.parametrize(("name", "layers"), [("pw_nosim", 1), ("pw_simulcast", 3),
                                              ("pw_relay_d100_l5", 1), ("pw_relay_simulcast", 3)])
def test_simulcast_layers_are_send_samples_of_one_track(name: str, layers: int) -> None:
    lines = [line for line in series(name) if line["label"] == "sender"]
    assert len(lines) >= 14
    for line in lines:
        sent = [s for s in samples(as_report(line), line["clientTs"]) if s.direction == "send"]
        video = [s for s in sent if s.kind == "video"]
        assert len(video) == layers
        assert len({s.track_id for s in video}) == 1 and video[0].track_id
        assert len({s.ssrc for s in video}) == layers
        assert {s.rid for s in video} == ({"q", "h", "f"} if layers == 3 else {None})
        assert [s.kind for s in sent].count("audio") == 1
        assert all(s.codec == ("VP8" if s.kind == "video" else "opus") for s in sent)
    last = [s for s in samples(as_report(lines[-1])) if s.kind == "video"]
    if layers == 3:  # the three layers are 320, 640 and 1280 pixels wide
        assert sorted(s.frame_width or 0 for s in last) == [320, 640, 1280]


def test_relay_delay_and_loss_show_up() -> None:
    """pw_relay_d100_l5: 100 ms each way, 5 % loss; the receiver reports both back over RTCP."""
    last = samples(as_report([line for line in series("pw_relay_d100_l5") if line["label"] == "sender"][-1]))
    for sample in last:
        assert sample.rtt_ms is not None and 180 < sample.rtt_ms < 260
        assert sample.packets_lost and sample.packets
        assert 0.01 < sample.packets_lost / (sample.packets + sample.packets_lost) < 0.10
        assert sample.total_rtt_s and sample.rtt_measurements and sample.jitter_ms is not None


def test_receiver_samples() -> None:
    report = as_report([line for line in series("pw_simulcast") if line["label"] == "receiver"][-1])
    received = samples(report)
    assert received and all(s.direction == "recv" for s in received)
    audio = next(s for s in received if s.kind == "audio")
    assert audio.concealed_samples is not None and audio.total_samples_received
    assert audio.freeze_count is None  # audio has no freezes: None, not 0
    video = next(s for s in received if s.kind == "video")
    assert video.freeze_count is not None and video.freezes_duration_s is not None
    assert video.frame_rate and video.frame_width and video.track_id and video.bytes


# --- field mapping on crafted reports -------------------------------------------------------------

def full_report() -> dict[str, dict[str, Any]]:
    return {
        "SV1": {"id": "SV1", "type": "media-source", "kind": "video", "trackIdentifier": "cam-1",
                "width": 1280, "height": 720, "framesPerSecond": 30},
        "C96": {"id": "C96", "type": "codec", "mimeType": "video/VP8"},
        "OV1": {"id": "OV1", "type": "outbound-rtp", "kind": "video", "ssrc": 11, "timestamp": 5000.4,
                "mediaSourceId": "SV1", "codecId": "C96", "bytesSent": 1000, "packetsSent": 90,
                "framesPerSecond": 29, "frameWidth": 640, "frameHeight": 360, "rid": "h",
                "qualityLimitationReason": "bandwidth",
                "qualityLimitationDurations": {"cpu": 0.5, "bandwidth": 3.25, "none": 10, "other": 0},
                "retransmittedPacketsSent": 4, "nackCount": 3, "pliCount": 2},
        "RV1": {"id": "RV1", "type": "remote-inbound-rtp", "kind": "video", "ssrc": 11, "localId": "OV1",
                "timestamp": 4900, "packetsLost": 10, "roundTripTime": 0.1234, "totalRoundTripTime": 2.5,
                "roundTripTimeMeasurements": 20, "jitter": 0.004},
        "IA1": {"id": "IA1", "type": "inbound-rtp", "kind": "audio", "ssrc": 22, "timestamp": 5000,
                "trackIdentifier": "mic-2", "bytesReceived": 500, "packetsReceived": 50, "packetsLost": 1,
                "jitter": 0.002, "concealedSamples": 480, "totalSamplesReceived": 48000, "audioLevel": 0.5},
    }


def test_send_sample_fields() -> None:
    (send,) = [s for s in samples(full_report()) if s.direction == "send"]
    assert send == StreamSample(
        **IDS, pc_id="pc1", direction="send", kind="video", ssrc=11, ts_ms=5000, track_sid=None,
        track_id="cam-1", codec="VP8", bytes=1000, packets=90, packets_lost=10, rtt_ms=123.4,
        total_rtt_s=2.5, rtt_measurements=20, jitter_ms=4.0, frame_rate=29, frame_width=640, frame_height=360,
        quality_limitation_reason="bandwidth", ql_cpu_s=0.5, ql_bandwidth_s=3.25, retransmitted_packets=4,
        nack_count=3, pli_count=2, rid="h")


def test_recv_sample_fields() -> None:
    (recv,) = [s for s in samples(full_report()) if s.direction == "recv"]
    assert recv == StreamSample(
        **IDS, pc_id="pc1", direction="recv", kind="audio", ssrc=22, ts_ms=5000, track_id="mic-2",
        bytes=500, packets=50, packets_lost=1, jitter_ms=2.0, concealed_samples=480,
        total_samples_received=48000)


def test_missing_values_stay_none() -> None:
    (sample,) = samples({"O": {"id": "O", "type": "outbound-rtp", "kind": "audio", "ssrc": 1}}, ts_ms=42)
    assert sample.ts_ms == 42  # no stat timestamp: the argument
    assert all(getattr(sample, name) is None for name in (
        "track_sid", "track_id", "codec", "bytes", "packets", "packets_lost", "rtt_ms", "total_rtt_s",
        "rtt_measurements", "jitter_ms", "frame_rate", "frame_width", "quality_limitation_reason", "ql_cpu_s",
        "retransmitted_packets", "nack_count", "pli_count", "freeze_count", "concealed_samples", "rid"))
    with pytest.raises(ValueError, match="timestamp"):
        samples({"O": {"id": "O", "type": "outbound-rtp", "kind": "audio", "ssrc": 1}})


def test_remote_inbound_found_by_remote_id_or_by_ssrc_and_kind() -> None:
    base: dict[str, dict[str, Any]] = {
            "O": {"id": "O", "type": "outbound-rtp", "kind": "audio", "ssrc": 7, "timestamp": 1},
            "R": {"id": "R", "type": "remote-inbound-rtp", "kind": "audio", "ssrc": 7, "packetsLost": 3}}
    assert samples(base)[0].packets_lost == 3  # same SSRC and kind, no links (Firefox audio)
    base["O"]["remoteId"] = "R"
    base["R"]["ssrc"] = 8
    assert samples(base)[0].packets_lost == 3  # linked by the outbound's remoteId
    base.pop("R")
    base["X"] = {"id": "X", "type": "remote-inbound-rtp", "kind": "video", "ssrc": 7, "packetsLost": 9}
    assert samples(base)[0].packets_lost is None  # same SSRC, other kind: not ours


def test_old_firefox_is_remote_stats_and_moz_rtt() -> None:
    report = {"out": {"id": "out", "type": "outbound-rtp", "mediaType": "video", "ssrc": "77", "timestamp": 1,
                      "packetsSent": 100, "remoteId": "in_rtcp"},
              "in_rtcp": {"id": "in_rtcp", "type": "inbound-rtp", "isRemote": True, "mediaType": "video",
                          "ssrc": "77", "packetsLost": 5, "mozRtt": 40, "jitter": 0.01}}
    (sample,) = samples(report)  # the isRemote inbound-rtp is no received stream
    assert (sample.direction, sample.kind, sample.ssrc) == ("send", "video", 77)
    assert (sample.packets_lost, sample.rtt_ms, sample.jitter_ms) == (5, 40.0, 10.0)


def test_legacy_track_id_and_kind_from_codec() -> None:
    report: dict[str, dict[str, Any]] = {"T": {"id": "T", "type": "track", "trackIdentifier": "cam-9"},
              "C": {"id": "C", "type": "codec", "mimeType": "video/H264"},
              "O": {"id": "O", "type": "outbound-rtp", "ssrc": 3, "trackId": "T", "codecId": "C",
                    "timestamp": 2},
              "U": {"id": "U", "type": "outbound-rtp", "ssrc": 4, "timestamp": 2}}
    (sample,) = samples(report)  # "U" has neither kind nor codec: skipped
    assert (sample.kind, sample.track_id, sample.codec) == ("video", "cam-9", "H264")


# --- the gateway payload ---------------------------------------------------------------------------

def test_gateway_payload_shape() -> None:
    payload = snapshot_to_gateway_payload(full_report(), "pc1")
    assert payload["peerConnectionId"] == "pc1"
    assert payload["localAudioTrackStats"] == [] and payload["videoTrackStats"] == []
    (video,) = payload["localVideoTrackStats"]
    assert video == {
        "trackId": "cam-1", "trackSid": None, "timestamp": 5000.4, "ssrc": "11", "codec": "VP8",
        "kind": "video",
        "packetsLost": 10, "bytesSent": 1000, "packetsSent": 90, "roundTripTime": 123.4, "jitter": 4.0,
        "captureDimensions": {"width": 1280, "height": 720}, "dimensions": {"width": 640, "height": 360},
        "captureFrameRate": 30, "frameRate": 29, "qualityLimitationReason": "bandwidth",
        "totalRoundTripTime": 2.5, "roundTripTimeMeasurements": 20, "retransmittedPacketsSent": 4,
        "nackCount": 3, "pliCount": 2, "rid": "h",
        "qualityLimitationDurations": {"cpu": 0.5, "bandwidth": 3.25, "none": 10.0, "other": 0.0}}
    (audio,) = payload["audioTrackStats"]
    assert audio["audioLevel"] == 16384  # 0.5 on twilio-video.js' 0..32767 scale
    assert audio["jitter"] == 2.0 and "freezeCount" not in audio and "nackCount" not in audio
    assert payload["candidatePair"] is None


def test_gateway_payload_candidate_pair() -> None:
    export = parse_dump((DATA / "webrtc-internals" / "chromium156" / "loss8.json.gz").read_bytes())
    last = [s for s in export.snapshots if s.pc_id == "8-1"][-1]
    pair = snapshot_to_gateway_payload(last.stats, "8-1")["candidatePair"]
    assert pair["relayed"] is False and pair["protocol"] == "udp"
    # The test relay forwards packets from its own port, so the peer learns a peer-reflexive address.
    assert pair["localCandidateType"] == "prflx" and pair["availableOutgoingBitrate"] > 0
    assert 0 < pair["currentRoundTripTime"] < 0.05  # seconds, as in getStats
    relay = parse_dump((DATA / "rtcstats" / "jitsi" / "chrome-relay.jsonl").read_bytes())
    pair = snapshot_to_gateway_payload(relay.snapshots[-1].stats, "PC_0")["candidatePair"]
    assert pair["relayed"] is True and pair["localCandidateType"] == "relay"
    firefox = parse_dump((DATA / "rtcstats" / "jitsi" / "firefox97-standard-stats-sfu.jsonl").read_bytes())
    pair = snapshot_to_gateway_payload(firefox.snapshots[-1].stats, "PC_0")["candidatePair"]
    assert pair is not None and pair["remoteCandidateType"] == "srflx"  # Firefox: the "selected" pair


def replay(payload: dict[str, Any], ts_ms: int) -> list[StreamSample]:
    """What the gateway does with a stats-report that came over the WebSocket."""
    wire = orjson.loads(orjson.dumps(payload))
    out = []
    for (direction, kind), name in LISTS.items():
        for i, entry in enumerate(wire[name]):
            out.append(gateway_entry_to_sample(entry, direction=direction, kind=kind,
                                               pc_id=wire["peerConnectionId"], ts_ms=ts_ms,
                                               path=f"{name}[{i}]", **IDS))
    return out


def _key(sample: StreamSample) -> tuple[str, int]:
    return sample.direction, sample.ssrc


@pytest.mark.parametrize("source", ["webrtc-internals/chromium156/loss3_rtt150.json.gz",
                                    "webrtc-internals/chromium156/clean.rtcstats-dump.gz",
                                    "rtcstats/jitsi/safari-relay.jsonl",
                                    "rtcstats/jitsi/firefox-standard-stats-sfu.jsonl",
                                    "rtcstats/jitsi/google-legacy-stats-sfu.jsonl"])
def test_gateway_round_trip_gives_the_same_samples(source: str) -> None:
    dump = parse_dump((DATA / source).read_bytes())
    compared = 0
    for snap in dump.snapshots:
        direct = snapshot_to_samples(snap.stats, pc_id=snap.pc_id, ts_ms=int(snap.ts_ms), **IDS)
        replayed = replay(snapshot_to_gateway_payload(snap.stats, snap.pc_id), int(snap.ts_ms))
        assert sorted(replayed, key=_key) == sorted(direct, key=_key)
        compared += len(direct)
    assert compared > 50


def test_gateway_round_trip_on_getstats_series() -> None:
    for line in series("pw_relay_simulcast"):
        report = as_report(line)
        direct = samples(report, line["clientTs"])
        replayed = replay(snapshot_to_gateway_payload(report, "pc1"), line["clientTs"])
        assert sorted(replayed, key=_key) == sorted(direct, key=_key)


def test_gateway_entry_fills_in_what_the_client_knows() -> None:
    entry = {"trackId": "t1", "trackSid": "MT123", "ssrc": 9, "bytesSent": 10.0, "packetsSent": 2}
    sample = gateway_entry_to_sample(entry, direction="send", kind="audio", pc_id="p", ts_ms=777, **IDS)
    assert (sample.track_sid, sample.ts_ms, sample.bytes, sample.ssrc) == ("MT123", 777, 10, 9)
    assert sample.rtt_ms is None and sample.packets_lost is None


BAD_ENTRIES = [
    ({"ssrc": "1", "bytesSent": "12"}, "localAudioTrackStats[0].bytesSent: expected a number"),
    ({"ssrc": "1", "bytesSent": True}, "localAudioTrackStats[0].bytesSent: expected a number"),
    ({"ssrc": "1", "roundTripTime": [1]}, "localAudioTrackStats[0].roundTripTime: expected a number"),
    ({"bytesSent": 1}, "localAudioTrackStats[0].ssrc: expected an SSRC"),
    ({"ssrc": "abc"}, "localAudioTrackStats[0].ssrc: expected an SSRC"),
    ({"ssrc": -4}, "localAudioTrackStats[0].ssrc: expected an SSRC"),
    ({"ssrc": 1.5}, "localAudioTrackStats[0].ssrc: expected an SSRC"),
    ({"ssrc": 1, "trackId": 5}, "localAudioTrackStats[0].trackId: expected a string"),
    ({"ssrc": 1, "dimensions": "640x480"}, "localAudioTrackStats[0].dimensions: expected an object"),
    ({"ssrc": 1, "dimensions": {"width": "640"}},
     "localAudioTrackStats[0].dimensions.width: expected a number"),
    ({"ssrc": 1, "qualityLimitationDurations": {"cpu": "x"}},
     "localAudioTrackStats[0].qualityLimitationDurations.cpu: expected a number"),
    ({"ssrc": 1, "kind": "video"}, "localAudioTrackStats[0].kind: 'video' does not match the audio list"),
    ({"ssrc": 1, "timestamp": "now"}, "localAudioTrackStats[0].timestamp: expected a number"),
    ("entry", "localAudioTrackStats[0]: expected an object"),
]


@pytest.mark.parametrize(("entry", "message"), BAD_ENTRIES, ids=[m for _, m in BAD_ENTRIES])
def test_gateway_entry_validation(entry: Any, message: str) -> None:
    with pytest.raises(ValueError) as info:
        gateway_entry_to_sample(entry, direction="send", kind="audio", pc_id="p", ts_ms=1,
                                path="localAudioTrackStats[0]", **IDS)
    assert message in str(info.value)


def test_gateway_entry_default_path_names_the_list() -> None:
    with pytest.raises(ValueError, match=r"^videoTrackStats\.bytesReceived: expected a number$"):
        gateway_entry_to_sample({"ssrc": 1, "bytesReceived": "x"}, direction="recv", kind="video", pc_id="p",
                                ts_ms=1, **IDS)
    with pytest.raises(ValueError, match="direction/kind"):
        gateway_entry_to_sample({"ssrc": 1}, direction="send", kind="data", pc_id="p", ts_ms=1, **IDS)
