"""Undo the compression rtcstats clients apply to methods and getStats reports.

Two delta schemes exist:
- Jitsi's rtcstats (JSON lines with absolute timestamps): every live stat id is sent on every poll with
  only its changed fields; `timestamp: 0` stands for the report's top-level `timestamp`; an id absent
  from a report is gone. Verified on the Jitsi samples: no id ever disappears and comes back.
- RTCStatsDump file format 3 (rtcstats.com): unchanged objects are omitted entirely, removals are sent
  as `null`, the shared timestamp moves to a top-level "t", and method names, property names and stat
  types may be replaced by numbers from fixed tables (below). Chrome's own "rtcstats dump" download
  uses this file format but writes every report in full, each object with its "id"; such reports are
  taken as they are, so a stat that vanishes is not carried forward.
"""

from __future__ import annotations

from typing import Any

from video_insights.ingest.dumps._common import check_stat, is_number
from video_insights.ingest.dumps.model import DumpFormatError, Stats

_METHODS: dict[str, str] = {
    "g": "getStats", "1": "getStats", "2": "createOffer", "3": "createOfferOnSuccess",
    "4": "createAnswer", "5": "createAnswerOnSuccess", "6": "setLocalDescription",
    "7": "setLocalDescriptionOnSuccess", "8": "setRemoteDescription",
    "9": "setRemoteDescriptionOnSuccess",
    "10": "addIceCandidate", "11": "addIceCandidateOnSuccess", "12": "createOfferOnFailure",
    "13": "createAnswerOnFailure", "14": "setLocalDescriptionOnFailure",
    "15": "setRemoteDescriptionOnFailure",
    "16": "addIceCandidateOnFailure", "20": "onicecandidate", "21": "onicecandidateerror", "22": "ontrack",
    "23": "onsignalingstatechange", "24": "oniceconnectionstatechange", "25": "onconnectionstatechange",
    "26": "onicegatheringstatechange", "27": "onnegotiationneeded", "28": "ondatachannel", "30": "addTrack",
    "31": "addTrackOnSuccess", "32": "addTransceiver", "33": "addTransceiverOnSuccess", "34": "removeTrack",
    "35": "createDataChannel", "36": "close", "37": "restartIce", "38": "setConfiguration", "39": "create",
    "40": "constraints", "41": "setCodecPreferences", "42": "setHeaderExtensionsToNegotiate",
    "50": "setParameters", "51": "replaceTrack", "60": "navigator.mediaDevices.getUserMedia",
    "61": "navigator.mediaDevices.getUserMediaOnSuccess", "63": "navigator.mediaDevices.getDisplayMedia",
    "64": "navigator.mediaDevices.getDisplayMediaOnSuccess",
    "65": "navigator.mediaDevices.getUserMediaOnFailure",
    "66": "navigator.mediaDevices.enumerateDevices", "67": "navigator.mediaDevices.ondevicechange",
    "68": "navigator.mediaDevices.getDisplayMediaOnFailure", "70": "MediaStreamTrack.stop",
    "71": "MediaStreamTrack.applyConstraints", "72": "MediaStreamTrack.onended",
    "73": "MediaStreamTrack.onmute", "74": "MediaStreamTrack.onunmute", "80": "HTMLMediaElement.resize",
}

_TYPES: dict[int, str] = {
    1: "inbound-rtp", 2: "outbound-rtp", 3: "remote-inbound-rtp", 4: "remote-outbound-rtp", 5: "transport",
    6: "candidate-pair", 7: "local-candidate", 8: "remote-candidate", 9: "data-channel",
    10: "peer-connection", 11: "certificate", 12: "media-source", 13: "media-playout", 14: "codec",
}

_PROPERTY_CODES: dict[int, str] = {
    4: "payloadType", 5: "transportId", 6: "mimeType", 7: "clockRate", 8: "channels", 9: "sdpFmtpLine",
    10: "ssrc", 11: "kind", 12: "codecId", 14: "packetsReceived", 15: "packetsLost", 16: "jitter",
    17: "trackIdentifier", 18: "mid", 19: "remoteId", 20: "framesDecoded", 21: "keyFramesDecoded",
    22: "framesDropped", 23: "frameWidth", 24: "frameHeight", 25: "framesPerSecond", 26: "qpSum",
    27: "totalDecodeTime", 28: "totalInterFrameDelay", 29: "totalSquaredInterFrameDelay", 30: "pauseCount",
    31: "totalPausesDuration", 32: "freezeCount", 33: "totalFreezesDuration",
    34: "lastPacketReceivedTimestamp", 35: "headerBytesReceived", 36: "packetsDiscarded",
    37: "fecPacketsReceived", 38: "fecPacketsDiscarded", 39: "fecBytesReceived", 40: "fecSsrc",
    41: "bytesReceived", 42: "nackCount", 43: "firCount", 44: "pliCount", 45: "totalProcessingDelay",
    46: "estimatedPlayoutTimestamp", 47: "jitterBufferDelay", 48: "jitterBufferTargetDelay",
    49: "jitterBufferEmittedCount", 50: "jitterBufferMinimumDelay", 51: "totalSamplesReceived",
    52: "concealedSamples", 53: "silentConcealedSamples", 54: "concealmentEvents",
    55: "insertedSamplesForDeceleration", 56: "removedSamplesForAcceleration", 57: "audioLevel",
    58: "totalAudioEnergy", 59: "totalSamplesDuration", 60: "framesReceived", 61: "decoderImplementation",
    62: "playoutId", 63: "powerEfficientDecoder", 64: "framesAssembledFromMultiplePackets",
    65: "totalAssemblyTime", 66: "contentType", 67: "googTimingFrameInfo",
    68: "retransmittedPacketsReceived", 69: "retransmittedBytesReceived", 70: "rtxSsrc",
    71: "totalCorruptionProbability", 72: "totalSquaredCorruptionProbability", 73: "corruptionMeasurements",
    74: "localId", 75: "roundTripTime", 76: "totalRoundTripTime", 77: "fractionLost",
    78: "roundTripTimeMeasurements", 79: "packetsSent", 80: "bytesSent", 81: "mediaSourceId", 82: "rid",
    83: "encodingIndex", 84: "headerBytesSent", 85: "retransmittedPacketsSent",
    86: "retransmittedBytesSent", 87: "targetBitrate", 88: "totalEncodedBytesTarget", 89: "framesSent",
    90: "hugeFramesSent", 91: "framesEncoded", 92: "keyFramesEncoded", 93: "totalEncodeTime",
    94: "totalPacketSendDelay", 95: "qualityLimitationReason", 96: "qualityLimitationDurations",
    97: "qualityLimitationResolutionChanges", 98: "encoderImplementation", 99: "powerEfficientEncoder",
    100: "active", 101: "scalabilityMode", 102: "remoteTimestamp", 103: "reportsSent",
    104: "echoReturnLoss", 105: "echoReturnLossEnhancement", 106: "width", 107: "height", 108: "frames",
    109: "synthesizedSamplesDuration", 110: "synthesizedSamplesEvents", 111: "totalPlayoutDelay",
    112: "totalSamplesCount", 113: "dataChannelsOpened", 114: "dataChannelsClosed", 115: "label",
    116: "protocol", 117: "dataChannelIdentifier", 118: "state", 119: "messagesSent",
    120: "messagesReceived", 121: "iceRole", 122: "iceLocalUsernameFragment", 123: "dtlsState",
    124: "iceState", 125: "selectedCandidatePairId", 126: "localCertificateId", 127: "remoteCertificateId",
    128: "tlsVersion", 129: "dtlsCipher", 130: "dtlsRole", 131: "srtpCipher",
    132: "selectedCandidatePairChanges", 133: "rtcpTransportStatsId", 134: "address", 135: "port",
    136: "candidateType", 137: "priority", 138: "url", 139: "relayProtocol", 140: "foundation",
    141: "relatedAddress", 142: "relatedPort", 143: "usernameFragment", 144: "tcpType", 145: "networkType",
    148: "localCandidateId", 149: "remoteCandidateId", 150: "nominated", 151: "lastPacketSentTimestamp",
    152: "currentRoundTripTime", 153: "availableOutgoingBitrate", 154: "availableIncomingBitrate",
    155: "requestsReceived", 156: "requestsSent", 157: "responsesReceived", 158: "responsesSent",
    159: "consentRequestsSent", 160: "packetsDiscardedOnSend", 161: "bytesDiscardedOnSend",
    163: "fingerprint", 164: "fingerprintAlgorithm", 165: "base64Certificate", 166: "issuerCertificateId",
    167: "psnrMeasurements", 168: "psnrSum", 169: "packetsReceivedWithEct1", 170: "packetsReceivedWithCe",
    171: "packetsReportedAsLost", 172: "packetsReportedAsLostButRecovered",
    173: "packetsWithBleachedEct1Marking", 174: "packetsSentWithEct1", 175: "ccfbMessagesSent",
    176: "ccfbMessagesReceived",
}
_PROPERTIES: dict[str, str] = {str(code): name for code, name in _PROPERTY_CODES.items()} | {"t": "timestamp"}


def method_name(method: str | int) -> str:
    return _METHODS.get(str(method), str(method))


def is_full_report(report: dict[str, Any]) -> bool:
    """Compressed v3 reports drop every object's "id"; a report whose objects all keep it is complete."""
    return bool(report) and all(isinstance(o, dict) and o.get("id") == sid for sid, o in report.items())


def decompress_v3(base: Stats, delta: dict[str, Any], where: str) -> Stats:
    timestamp = delta.get("t")
    timestamp = timestamp if is_number(timestamp) else None
    changed: Stats = {}
    removed: set[str] = set()
    for sid, obj in delta.items():
        if sid == "t" and timestamp is not None:
            continue
        if obj is None:
            removed.add(sid)
        elif isinstance(obj, dict):
            changed[sid] = _expand_names(obj)
        else:
            raise DumpFormatError(f"{where}: stat {sid!r} is not a JSON object")
    result: Stats = {}
    for sid, old in base.items():
        if sid in removed:
            continue
        update = changed.pop(sid, {})
        merged = _merge(old, update)
        if timestamp is not None and "timestamp" not in update:
            merged["timestamp"] = timestamp
        result[sid] = merged
    for sid, obj in changed.items():
        if timestamp is not None:
            obj.setdefault("timestamp", timestamp)
        result[sid] = obj
    for sid, obj in result.items():
        obj["id"] = sid
        check_stat(sid, obj, where)
    return result


def merge_jitsi(base: Stats, delta: dict[str, Any], line_ts: float, where: str) -> Stats:
    top = delta.get("timestamp")
    if top is not None and not isinstance(top, dict) and not is_number(top):
        raise DumpFormatError(f"{where}: report timestamp must be a number")
    report_ts = top if is_number(top) else line_ts
    result: Stats = {}
    for sid, obj in delta.items():
        if sid == "timestamp" and not isinstance(obj, dict):
            continue
        if not isinstance(obj, dict):
            raise DumpFormatError(f"{where}: stat {sid!r} is not a JSON object")
        merged = {**base.get(sid, {}), **obj}
        if merged.get("timestamp", 0) == 0:
            merged["timestamp"] = report_ts
        merged.setdefault("id", sid)
        check_stat(sid, merged, where)
        result[sid] = merged
    return result


def _expand_names(obj: dict[str, Any]) -> dict[str, Any]:
    expanded = {}
    for key, value in obj.items():
        name = _PROPERTIES.get(key, key)
        if name == "type" and isinstance(value, int | str) and str(value).isascii() and str(value).isdigit():
            expanded[name] = _TYPES.get(int(value), value)
        else:
            expanded[name] = value
    return expanded


def _merge(old: dict[str, Any], update: dict[str, Any]) -> dict[str, Any]:
    merged = dict(old)
    for key, value in update.items():
        previous = merged.get(key)
        # Nested dictionaries (qualityLimitationDurations) are themselves sent as deltas.
        nested = isinstance(value, dict) and isinstance(previous, dict)
        merged[key] = {**(previous or {}), **value} if nested else value
    return merged
