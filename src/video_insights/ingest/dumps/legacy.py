"""Rewrite Chrome's legacy ("goog") getStats reports into standard-shaped stats.

Chrome before M9x could only report the callback-based legacy stats: `ssrc` objects ("ssrc_<n>_send" /
"ssrc_<n>_recv") with every value a string, `googCandidatePair`, `googComponent`, `localcandidate` ...
The parser rewrites them here, once, so that everything downstream reads one (W3C) shape:
- `ssrc` *_send -> `outbound-rtp` (same id) plus a synthesised `remote-inbound-rtp` "<id>_remote"
  (legacy packetsLost / googRtt / googJitterReceived of a send stream come from RTCP receiver reports)
  and a `media-source` "<id>_source" carrying the track id;
- `ssrc` *_recv -> `inbound-rtp`;
- `googCandidatePair` -> `candidate-pair`, `googComponent` -> `transport`,
  `localcandidate`/`remotecandidate` -> `local-candidate`/`remote-candidate`;
- a `codec` "legacy-codec-<kind>-<name>" per googCodecName.
The goog* fields stay on the rewritten objects. Legacy times are integer milliseconds (googRtt,
googJitterReceived); they become seconds as in the standard. A googRtt of 0 means "no RTCP report yet"
(legacy stats cannot express "absent"), so it yields no roundTripTime.
"""

from __future__ import annotations

import re
from typing import Any

from video_insights.ingest.dumps._common import is_number
from video_insights.ingest.dumps.model import Stats

_LEGACY_TYPES = frozenset(
    {"ssrc", "googCandidatePair", "googComponent", "localcandidate", "remotecandidate", "VideoBwe",
     "googTrack", "googCertificate", "googLibjingleSession"}
)
_NUMBER = re.compile(r"-?\d+(\.\d+)?([eE][-+]?\d+)?")
_CANDIDATE_TYPES = {"local": "host", "host": "host", "stun": "srflx", "serverreflexive": "srflx",
                    "prflx": "prflx", "peerreflexive": "prflx", "relay": "relay", "relayed": "relay"}
_SEND_FIELDS = {"googNacksReceived": "nackCount", "googPlisReceived": "pliCount",
                "googFirsReceived": "firCount", "googFrameWidthSent": "frameWidth",
                "googFrameHeightSent": "frameHeight", "googFrameRateSent": "framesPerSecond",
                "codecImplementationName": "encoderImplementation"}
_RECV_FIELDS = {"googNacksSent": "nackCount", "googPlisSent": "pliCount", "googFirsSent": "firCount",
                "googFrameWidthReceived": "frameWidth", "googFrameHeightReceived": "frameHeight",
                "googFrameRateDecoded": "framesPerSecond", "codecImplementationName": "decoderImplementation"}


def has_legacy_stats(stats: Stats) -> bool:
    return any(obj.get("type") in _LEGACY_TYPES for obj in stats.values())


def standardize_legacy(stats: Stats) -> Stats:
    out: Stats = {}
    for sid, raw in stats.items():
        kind = raw.get("type")
        if kind not in _LEGACY_TYPES:
            out[sid] = raw
            continue
        obj = _with_numbers(raw)
        if kind == "ssrc":
            _convert_ssrc(sid, obj, out)
        elif kind == "googCandidatePair":
            out[sid] = _convert_pair(obj)
        elif kind == "googComponent":
            out[sid] = {**obj, "type": "transport"}
        elif kind in ("localcandidate", "remotecandidate"):
            out[sid] = _convert_candidate(obj)
        else:
            out[sid] = obj
    _attach_bandwidth(out)
    return out


def _with_numbers(obj: dict[str, Any]) -> dict[str, Any]:
    converted = {key: _legacy_value(key, value) for key, value in obj.items()}
    ssrc = obj.get("ssrc")
    if isinstance(ssrc, str) and ssrc.isascii() and ssrc.isdigit():
        converted["ssrc"] = int(ssrc)
    return converted


def _legacy_value(key: str, value: Any) -> Any:
    if not isinstance(value, str) or key.lower().endswith("id"):
        return value  # ids and track ids stay strings even when they look numeric
    if value in ("true", "false"):
        return value == "true"
    if _NUMBER.fullmatch(value):
        return float(value) if any(c in value for c in ".eE") else int(value)
    return value


def _convert_ssrc(sid: str, obj: dict[str, Any], out: Stats) -> None:
    sending = sid.endswith("_send") or ("packetsSent" in obj and "packetsReceived" not in obj)
    kind = obj.get("mediaType")
    std: dict[str, Any] = {**obj, "type": "outbound-rtp" if sending else "inbound-rtp"}
    if isinstance(kind, str):
        std["kind"] = kind
    codec_id = _add_codec(obj, out)
    if codec_id:
        std["codecId"] = codec_id
    _copy_renamed(obj, std, _SEND_FIELDS if sending else _RECV_FIELDS)
    if sending:
        _add_sender_companions(sid, obj, std, out)
    else:
        _add_receiver_fields(obj, std)
    out[sid] = std


def _copy_renamed(src: dict[str, Any], dst: dict[str, Any], names: dict[str, str]) -> None:
    for legacy, standard in names.items():
        value = src.get(legacy)
        if is_number(value) or (isinstance(value, str) and value):
            if standard in ("frameWidth", "frameHeight") and value == 0:
                continue  # legacy reports 0 before the first frame; the standard omits the field
            dst[standard] = value


def _add_sender_companions(sid: str, obj: dict[str, Any], std: dict[str, Any], out: Stats) -> None:
    common = {"timestamp": obj.get("timestamp"), "kind": std.get("kind")}
    flags = (("cpu", "googCpuLimitedResolution"), ("bandwidth", "googBandwidthLimitedResolution"))
    limited = [reason for reason, flag in flags if obj.get(flag) is True]
    if "googCpuLimitedResolution" in obj or "googBandwidthLimitedResolution" in obj:
        std["qualityLimitationReason"] = limited[0] if limited else "none"
    if isinstance(obj.get("googTrackId"), str):
        source: dict[str, Any] = {"id": f"{sid}_source", "type": "media-source", **common,
                                  "trackIdentifier": obj["googTrackId"]}
        _copy_renamed(obj, source, {"googFrameWidthInput": "width", "googFrameHeightInput": "height",
                                    "googFrameRateInput": "framesPerSecond"})
        out[source["id"]] = source
        std["mediaSourceId"] = source["id"]
    if "packetsLost" not in obj and "googRtt" not in obj:
        return
    remote: dict[str, Any] = {"id": f"{sid}_remote", "type": "remote-inbound-rtp", **common,
                              "ssrc": obj.get("ssrc"), "localId": sid}
    if is_number(obj.get("packetsLost")):
        remote["packetsLost"] = obj["packetsLost"]
    if is_number(obj.get("googRtt")) and obj["googRtt"] > 0:
        remote["roundTripTime"] = obj["googRtt"] / 1000.0
    if is_number(obj.get("googJitterReceived")):
        remote["jitter"] = obj["googJitterReceived"] / 1000.0
    if "codecId" in std:
        remote["codecId"] = std["codecId"]
    out[remote["id"]] = remote
    std["remoteId"] = remote["id"]


def _add_receiver_fields(obj: dict[str, Any], std: dict[str, Any]) -> None:
    if isinstance(obj.get("googTrackId"), str):
        std["trackIdentifier"] = obj["googTrackId"]
    if is_number(obj.get("googJitterReceived")):
        std["jitter"] = obj["googJitterReceived"] / 1000.0


def _add_codec(obj: dict[str, Any], out: Stats) -> str | None:
    name, kind = obj.get("googCodecName"), obj.get("mediaType")
    if not (isinstance(name, str) and name and isinstance(kind, str)):
        return None
    codec_id = f"legacy-codec-{kind}-{name}"
    out.setdefault(codec_id, {"id": codec_id, "type": "codec", "timestamp": obj.get("timestamp"),
                              "mimeType": f"{kind}/{name}"})
    return codec_id


def _convert_pair(obj: dict[str, Any]) -> dict[str, Any]:
    active = obj.get("googActiveConnection") is True
    pair = {**obj, "type": "candidate-pair", "nominated": active, "selected": active,
            "state": "succeeded" if obj.get("googWritable") is True else "in-progress"}
    rtt = obj.get("googRtt")
    if is_number(rtt):
        pair["currentRoundTripTime"] = rtt / 1000.0
    return pair


def _convert_candidate(obj: dict[str, Any]) -> dict[str, Any]:
    cand = {**obj, "type": "local-candidate" if obj["type"] == "localcandidate" else "remote-candidate"}
    for legacy, standard in (("ipAddress", "address"), ("portNumber", "port"), ("transport", "protocol")):
        if legacy in obj:
            cand[standard] = obj[legacy]
    legacy_type = obj.get("candidateType")
    if isinstance(legacy_type, str):
        cand["candidateType"] = _CANDIDATE_TYPES.get(legacy_type, legacy_type)
    return cand


def _attach_bandwidth(stats: Stats) -> None:
    """Legacy reports the send-side bandwidth estimate on "bweforvideo", the standard on the pair."""
    bwe = next((o for o in stats.values() if o.get("type") == "VideoBwe"), None)
    if bwe is None or not is_number(bwe.get("googAvailableSendBandwidth")):
        return
    for obj in stats.values():
        # Only pairs rewritten above: standard objects are shared with other snapshots.
        if obj.get("type") == "candidate-pair" and obj.get("googActiveConnection") is True:
            obj.setdefault("availableOutgoingBitrate", bwe["googAvailableSendBandwidth"])
