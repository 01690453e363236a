"""Queries over raw stream samples: deltas, 10-second intervals and whole-life track statistics.

Deltas follow the rules in processing.intervals, computed here with a window over each series
(participant, peer connection, direction, SSRC) ordered by time. Duplicated samples (the same series
and timestamp) collapse into one. The SQL is generated from the schema's counter list once, parsed
by sqlglot and printed per engine.
"""

from __future__ import annotations

from functools import cache
from typing import Any, NamedTuple

from video_insights.model.ids import sid_key
from video_insights.model.records import COUNTERS
from video_insights.query.sql import Bound, bound

_SERIES = "participant_sid, pc_id, direction, ssrc"
_INSTANT = ("track_sid", "track_id", "kind", "codec", "rid", "rtt_ms", "jitter_ms", "frame_rate", "frame_width",
            "frame_height", "quality_limitation_reason", "period_ms", "bucket_ms", "room_sid")


@cache
def _deltas_cte() -> str:
    """CTEs samples_dedup, samples_lagged (with the previous values) and samples_delta."""
    cols = ", ".join(f"max({c}) AS {c}" for c in (*_INSTANT, *COUNTERS))
    dedup = (f"samples_dedup AS (SELECT {_SERIES}, ts_ms, {cols} FROM stream_samples WHERE {{where}} "
             f"GROUP BY {_SERIES}, ts_ms)")
    lags = ", ".join(f"lag({c}) OVER w AS prev_{c}" for c in ("ts_ms", *COUNTERS))
    lagged = (f"samples_lagged AS (SELECT *, {lags} FROM samples_dedup "
              f"WINDOW w AS (PARTITION BY {_SERIES} ORDER BY ts_ms))")
    restart = ("(prev_ts_ms IS NULL OR bytes < prev_bytes OR packets < prev_packets)")
    deltas = ", ".join(
        f"CASE WHEN {c} IS NULL THEN NULL WHEN {restart} OR prev_{c} IS NULL THEN {c} "
        f"ELSE greatest({c} - prev_{c}, 0) END AS d_{c}" for c in COUNTERS)
    dt = "CASE WHEN prev_ts_ms IS NULL THEN period_ms ELSE greatest(ts_ms - prev_ts_ms, 1) END AS d_t_ms"
    instant = ", ".join(_INSTANT)
    delta = f"samples_delta AS (SELECT {_SERIES}, ts_ms, {instant}, {dt}, {deltas} FROM samples_lagged)"
    return f"{dedup}, {lagged}, {delta}"


# Send loss is pooled over the layers that report it in the interval (`pl`: their packets):
# twilio-video.js gives packetsLost for one simulcast layer only (the one its getStats matches to
# remote-inbound-rtp), and counting the other layers' packets as delivered would hide most of the loss.
_SEND_PER_SSRC = """
  per_ssrc AS (
    SELECT participant_sid, track_sid, ssrc, bucket_ms, max(kind) AS kind, max(codec) AS codec,
      min(ts_ms) AS first_ms, max(ts_ms) AS last_ms, count(*) AS n,
      sum(d_bytes) AS b, sum(d_t_ms) AS dt, sum(d_packets) AS p, sum(d_packets_lost) AS l,
      CASE WHEN count(d_packets_lost) > 0 THEN sum(d_packets) END AS pl,
      CASE WHEN sum(d_rtt_measurements) > 0 THEN 1000.0 * sum(d_total_rtt_s) / sum(d_rtt_measurements)
           ELSE avg(rtt_ms) END AS rtt,
      avg(jitter_ms) AS jitter, max(frame_rate) AS fr, max(frame_width) AS fw, max(frame_height) AS fh,
      sum(d_ql_cpu_s) AS cpu, sum(d_ql_bandwidth_s) AS bw, max(quality_limitation_reason) AS qlr,
      sum(d_retransmitted_packets) AS rtx, sum(d_nack_count) AS nack, sum(d_pli_count) AS pli
    FROM samples_delta WHERE direction = 'send' GROUP BY participant_sid, track_sid, ssrc, bucket_ms),
  per_track AS (
    SELECT participant_sid, track_sid, bucket_ms, max(kind) AS kind, max(codec) AS codec,
      min(first_ms) AS first_ms, max(last_ms) AS last_ms, sum(n) AS n,
      sum(b * 8000.0 / CASE WHEN dt > 0 THEN dt END) AS bitrate, sum(b) AS b, sum(p) AS p, sum(l) AS l,
      sum(pl) AS pl, max(dt) AS dt, max(rtt) AS rtt, max(jitter) AS jitter, max(fr) AS fr, max(fw) AS fw, max(fh) AS fh,
      max(cpu) AS cpu, max(bw) AS bw, max(qlr) AS qlr, sum(rtx) AS rtx, sum(nack) AS nack, sum(pli) AS pli
    FROM per_ssrc GROUP BY participant_sid, track_sid, bucket_ms)"""

# One row per inbound SSRC and interval. `track_sid` is the incoming track: the sender's track SID where
# the source names it (twilio-video.js, the collector with setTrackSid), else derived from the
# receiver's trackIdentifier (model.records.track_sid_of).
_RECV_PER_PC = """
  recv AS (
    SELECT participant_sid, pc_id, track_sid, kind, ssrc, bucket_ms, max(track_id) AS track_id,
      max(codec) AS codec, min(ts_ms) AS first_ms, max(ts_ms) AS last_ms,
      count(*) AS n, sum(d_bytes) AS b, sum(d_t_ms) AS dt, sum(d_packets) AS p, sum(d_packets_lost) AS l,
      avg(jitter_ms) AS jitter, sum(d_freeze_count) AS freezes, sum(d_freezes_duration_s) AS frozen_s,
      sum(d_concealed_samples) AS concealed, sum(d_total_samples_received) AS samples
    FROM samples_delta WHERE direction = 'recv' GROUP BY participant_sid, pc_id, track_sid, kind, ssrc, bucket_ms)"""


@cache
def _intervals_template(where: str) -> str:
    """Send intervals per track and receive intervals per peer connection in one scan: rows say which
    side they are ("send": track, kind, codec…; "recv": peer connection and the receive measures)."""
    return (f"WITH {_deltas_cte().format(where=where)}, {_SEND_PER_SSRC}, {_RECV_PER_PC} "
            "SELECT participant_sid, 'send' AS side, track_sid, kind, codec, bucket_ms, bitrate, "
            "CASE WHEN l + pl > 0 THEN 100.0 * l / (l + pl) END AS loss, rtt, jitter, fr, fw, fh, qlr, "
            "cpu, bw, rtx, nack, pli, NULL AS freezes, NULL AS frozen_s, NULL AS concealment FROM per_track "
            "UNION ALL "
            "SELECT participant_sid, 'recv', pc_id, NULL, NULL, bucket_ms, "
            "sum(b * 8000.0 / CASE WHEN dt > 0 THEN dt END), "
            "CASE WHEN sum(l) + sum(p) > 0 THEN 100.0 * sum(l) / (sum(l) + sum(p)) END, NULL, max(jitter), "
            "NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, sum(freezes), sum(frozen_s), "
            "CASE WHEN sum(samples) > 0 THEN 1.0 * sum(concealed) / sum(samples) END "
            "FROM recv GROUP BY participant_sid, pc_id, bucket_ms "
            "ORDER BY 1, 2, 3, 6")


class IntervalRow(NamedTuple):
    """A row of `intervals`/`intervals_of`: one 10-second interval of a send track (`side` "send", `sid`
    its track) or of a receiving peer connection ("recv", `sid` the peer connection). Measures the side
    does not have are NULL."""

    participant_sid: str
    side: str
    sid: str
    kind: str | None
    codec: str | None
    bucket_ms: int
    bitrate: float | None
    loss: float | None
    rtt: float | None
    jitter: float | None
    frame_rate: float | None
    frame_width: float | None
    frame_height: float | None
    quality_limitation_reason: str | None
    cpu_s: float | None
    bandwidth_s: float | None
    retransmitted: Any
    nack: Any
    pli: Any
    freezes: Any
    frozen_s: float | None
    concealment: float | None


# participant_key first: an integer comparison lets the store skip most vectors before it reads a string.
_WHERE_ONE = ("participant_key = :key AND participant_sid = :participant AND account_sid = :account "
              "AND ts_ms >= :since AND ts_ms <= :until")
_WHERE_MANY = ("participant_key IN :keys AND participant_sid IN :participants AND account_sid = :account "
               "AND ts_ms >= :since")


def intervals(account: str, participant: str, since: int = 0, until: int = 2**62) -> Bound:
    """One participant's intervals: rows of IntervalRow."""
    return bound(_intervals_template(_WHERE_ONE), account=account, participant=participant,
                 key=sid_key(participant), since=since, until=until)


def intervals_of(account: str, participants: list[str], since: int = 0) -> Bound:
    """The same rows (IntervalRow) for several participants in one scan (the summariser's batch)."""
    return bound(_intervals_template(_WHERE_MANY), account=account, participants=participants, since=since,
                 keys=sorted({sid_key(p) for p in participants}))


class TrackStatsRow(NamedTuple):
    """A row of `track_stats`: a send track's (`direction` "send", `sid` the track) or an incoming track's
    ("recv", `sid` the incoming track) whole-life totals."""

    participant_sid: str
    sid: str
    kind: str  # a sample's kind is NOT NULL
    direction: str
    first_ms: int
    last_ms: int
    codec: str | None
    bytes: Any
    packets: Any
    packets_lost: Any
    seconds: float | None
    rtt_avg_ms: float | None
    rtt_intervals: Any
    jitter_avg_ms: float | None
    ql_cpu_s: float | None
    ql_bandwidth_s: float | None
    freeze_count: Any
    freezes_duration_s: float | None
    samples: Any
    loss_packets: Any


@cache
def _receive_tracks_template(where: str) -> str:
    """Receive intervals per incoming track (the peer-connection rows of `intervals` sum these): loss
    pooled over the track's SSRCs, jitter the worst, freezes and concealment summed."""
    return (f"WITH {_deltas_cte().format(where=where)}, {_RECV_PER_PC} "
            "SELECT participant_sid, track_sid, max(kind), max(codec), bucket_ms, "
            "sum(b * 8000.0 / CASE WHEN dt > 0 THEN dt END), "
            "CASE WHEN sum(l) + sum(p) > 0 THEN 100.0 * sum(l) / (sum(l) + sum(p)) END, max(jitter), "
            "sum(freezes), sum(frozen_s), CASE WHEN sum(samples) > 0 THEN 1.0 * sum(concealed) / sum(samples) END, "
            "max(pc_id), max(track_id) "
            "FROM recv GROUP BY participant_sid, track_sid, bucket_ms ORDER BY 1, 2, 5")


class ReceiveTrackRow(NamedTuple):
    """A row of `receive_tracks`/`receive_tracks_of`: one 10-second interval of an incoming track."""

    participant_sid: str
    track_sid: str
    kind: str | None
    codec: str | None
    bucket_ms: int
    bitrate: float | None
    loss: float | None
    jitter: float | None
    freezes: Any
    frozen_s: float | None
    concealment: float | None
    pc_id: str | None
    track_id: str | None


def receive_tracks(account: str, participant: str, since: int = 0, until: int = 2**62) -> Bound:
    """One participant's receive intervals per incoming track (ReceiveTrackRow)."""
    return bound(_receive_tracks_template(_WHERE_ONE), account=account, participant=participant,
                 key=sid_key(participant), since=since, until=until)


def receive_tracks_of(account: str, participants: list[str], since: int = 0) -> Bound:
    """The same rows for several participants in one scan (the summariser's batch)."""
    return bound(_receive_tracks_template(_WHERE_MANY), account=account, participants=participants, since=since,
                 keys=sorted({sid_key(p) for p in participants}))


@cache
def _track_stats_template() -> str:
    return (f"WITH {_deltas_cte().format(where=_WHERE_MANY)}, {_SEND_PER_SSRC}, {_RECV_PER_PC} "
            "SELECT participant_sid, track_sid, max(kind) AS kind, 'send' AS direction, min(first_ms), "
            "max(last_ms), max(codec), sum(b), sum(p), sum(l), sum(dt) / 1000.0, avg(rtt), count(rtt), "
            "avg(CASE WHEN kind = 'audio' THEN jitter END), sum(cpu), sum(bw), 0, 0.0, sum(n), sum(pl) "
            "FROM per_track GROUP BY participant_sid, track_sid "
            "UNION ALL "
            "SELECT participant_sid, track_sid, kind, 'recv', min(first_ms), max(last_ms), NULL, sum(b), sum(p), "
            "sum(l), sum(dt) / 1000.0, NULL, 0, avg(jitter), 0.0, 0.0, sum(freezes), sum(frozen_s), sum(n), sum(p) "
            "FROM (SELECT participant_sid, track_sid, kind, bucket_ms, min(first_ms) AS first_ms, "
            "max(last_ms) AS last_ms, sum(b) AS b, sum(p) AS p, sum(l) AS l, max(dt) AS dt, "
            "max(jitter) AS jitter, sum(freezes) AS freezes, sum(frozen_s) AS frozen_s, sum(n) AS n FROM recv "
            "GROUP BY participant_sid, track_sid, kind, bucket_ms) GROUP BY participant_sid, track_sid, kind "
            "ORDER BY 1, 4, 2, 3")


def track_stats(account: str, participants: list[str], since: int = 0) -> Bound:
    """One row (TrackStatsRow) per (participant, send track) and per (participant, incoming track, kind)."""
    return bound(_track_stats_template(), account=account, participants=participants, since=since,
             keys=sorted({sid_key(p) for p in participants}))
