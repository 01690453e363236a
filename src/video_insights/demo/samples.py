"""Demo plans → `stream_samples` columns: the cumulative counters clients report every 10 seconds.

The plan of a chunk of rooms is first reduced to *series* (one SSRC of one peer connection, as the
pipeline keys them) made of *segments* (report ranges with a constant nominal rate). Everything per
report is then computed with numpy over the whole chunk at once: per-report increments with noise,
loss bursts and quality limitation, turned into cumulative counters per series.

Receive samples are one inbound stream per track received, named by the sender's track SID as
twilio-video.js names it (its `trackSid`) and by the sender's media track id (Chrome keeps it across the
call); the SFU forwards at most four videos at a time (a bandwidth profile), so a video track beyond
those pauses (reported, counting nothing). Received video freezes, and received audio is concealed,
in proportion to the loss.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field
from typing import Any, NamedTuple

import numpy as np

from video_insights.demo.scenarios import Participant, Room, Track
from video_insights.model.ids import derived_sid, sid_key
from video_insights.model.records import Direction, MediaKind
from video_insights.processing.intervals import GATEWAY_PERIOD_MS

REPORT_MS = GATEWAY_PERIOD_MS
TS_JITTER_MS = 40  # a report's timer fires a little late, never early
VIDEO_PACKET_BYTES = 1100
MAX_FORWARDED_VIDEOS = 4
# Simulcast layers: rid, share of the track's bitrate, width, height, frame rate.
LAYERS = (("q", 0.12, 320, 180, 15.0), ("h", 0.28, 640, 360, 30.0), ("f", 0.60, 1280, 720, 30.0))
QL_REASONS = np.array(["none", "cpu", "bandwidth"], dtype=object)
# The columns each kind of stat carries. Each is written as its own column set so that the others
# stay NULL (a numpy integer column cannot hold a NULL).
_GROUPS = {
    ("send", "audio"): ("rtt_ms", "total_rtt_s", "rtt_measurements", "jitter_ms"),
    ("send", "video"): ("rtt_ms", "total_rtt_s", "rtt_measurements", "jitter_ms", "frame_rate",
                        "frame_width", "frame_height", "quality_limitation_reason", "ql_cpu_s", "ql_bandwidth_s",
                        "retransmitted_packets", "nack_count", "pli_count"),
    ("recv", "audio"): ("jitter_ms", "concealed_samples", "total_samples_received"),
    ("recv", "video"): ("jitter_ms", "freeze_count", "freezes_duration_s"),
}
_COMMON = ("account_sid", "room_sid", "participant_sid", "pc_id", "direction", "kind", "ssrc", "ts_ms",
           "bucket_ms", "period_ms", "track_sid", "participant_key", "track_id", "codec", "bytes", "packets",
           "packets_lost")
Columns = dict[str, np.ndarray]


def _uuid(sid: str) -> str:
    """Browsers name peer connections and media tracks with UUIDs; derive one from a SID."""
    h = sid[2:]
    return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:32]}"


class _Series(NamedTuple):
    """One SSRC of one peer connection of a participant: what stays the same across its samples."""

    part: int  # index into _Plan.parts
    pc: str
    direction: Direction
    kind: MediaKind
    ssrc: int
    track_sid: str
    track_id: str | None
    codec: str
    rid: str | None


class _Segment(NamedTuple):
    """Reports [k0, k1) of a series at one nominal rate (a receive series changes as senders come and go)."""

    series: int
    k0: int
    k1: int
    bytes_per_s: float
    packets_per_s: float  # 0: derived from bytes (video)
    width: int
    height: int
    fps: float
    streams: int  # inbound streams summed into a receive series


_SEG = {name: i for i, name in enumerate(_Segment._fields)}


@dataclass
class _Plan:
    """The participants, series and segments of a chunk (turned into arrays once)."""

    parts: list[tuple[Room, Participant]] = field(default_factory=list)
    t0: list[int] = field(default_factory=list)  # each participant's first report
    reports: list[int] = field(default_factory=list)  # how many reports it sent
    series: list[_Series] = field(default_factory=list)
    segments: list[_Segment] = field(default_factory=list)


class SampleBuilder:
    """Collects rooms, then builds all their samples at once."""

    def __init__(self, account: str, now_ms: int, rng: np.random.Generator) -> None:
        self.account, self.now_ms, self.rng = account, now_ms, rng
        self.plan = _Plan()
        self._index: dict[str, int] = {}

    # -- planning (per participant, in Python) --------------------------------------------------------
    def add_room(self, room: Room) -> None:
        for p in room.participants:
            self._add_participant(room, p)
        sfu = room.type in ("group", "group_small")
        for p in room.participants:
            if p.sid not in self._index:
                continue
            if sfu:
                self._link(p, derived_sid("PC", p.sid, "sfu"), [q for q in room.participants if q is not p], True)
            else:
                for q in room.participants:
                    if q is not p:
                        self._link(p, derived_sid("PC", *sorted((p.sid, q.sid))), [q], False)

    def _add_participant(self, room: Room, p: Participant) -> None:
        t0 = p.media_ms + int(self.rng.integers(0, REPORT_MS))
        end = min(p.leave_ms - (500 if p.faults.ice_failed else 0), self.now_ms) - TS_JITTER_MS
        n = (end - t0) // REPORT_MS + 1 if end > t0 else 0
        if n <= 0:
            return
        self._index[p.sid] = len(self.plan.parts)
        self.plan.parts.append((room, p))
        self.plan.t0.append(t0)
        self.plan.reports.append(int(n))

    def _k(self, p: Participant, at_ms: int) -> int:
        """Index of the first report of `p` at or after `at_ms`, within its reports."""
        i = self._index[p.sid]
        k = -(-(at_ms - self.plan.t0[i]) // REPORT_MS)
        return int(min(max(k, 0), self.plan.reports[i]))

    def _link(self, p: Participant, pc_sid: str, others: list[Participant], sfu: bool) -> None:
        pc = _uuid(pc_sid)
        span = (p.media_ms, p.leave_ms) if sfu else (max(p.media_ms, others[0].media_ms),
                                                     min(p.leave_ms, others[0].leave_ms))
        if span[1] <= span[0]:
            return
        for t in p.tracks:
            self._send(p, pc, t, max(t.start_ms, span[0]), min(t.end_ms, span[1]))
        kinds: tuple[MediaKind, ...] = ("audio", "video")
        for kind in kinds:
            ranges = [(self._k(p, max(t.start_ms, span[0])), self._k(p, min(t.end_ms, q.leave_ms, span[1])), t)
                      for q in others for t in q.tracks if t.kind == kind]
            self._recv(p, pc, kind, [r for r in ranges if r[1] > r[0]], sfu)

    def _series(self, p: Participant, pc: str, direction: Direction, kind: MediaKind, track: str,
                track_id: str | None, codec: str, rid: str | None = None) -> int:
        ssrc = int(self.rng.integers(1, 2**32 - 1))
        part = self._index[p.sid]
        self.plan.series.append(_Series(part, pc, direction, kind, ssrc, track, track_id, codec, rid))
        return len(self.plan.series) - 1

    def _send(self, p: Participant, pc: str, t: Track, start: int, end: int) -> None:
        k0, k1 = self._k(p, start), self._k(p, end)
        if k1 <= k0:
            return
        bps = t.kbps * 125
        if t.kind == "audio":
            s = self._series(p, pc, "send", "audio", t.sid, _uuid(t.sid), t.codec)
            self.plan.segments.append(_Segment(s, k0, k1, bps, 50.0, 0, 0, 0.0, 1))
            return
        if t.layers == 1:
            w, h, fps = ((1920, 1080, float(self.rng.uniform(5, 15))) if t.screen else
                         (640, 480, 24.0) if p.client.mobile else (1280, 720, 30.0))
            s = self._series(p, pc, "send", "video", t.sid, _uuid(t.sid), t.codec)
            self.plan.segments.append(_Segment(s, k0, k1, bps, 0.0, w, h, fps, 1))
            return
        for rid, share, w, h, fps in LAYERS:
            s = self._series(p, pc, "send", "video", t.sid, _uuid(t.sid), t.codec, rid)
            self.plan.segments.append(_Segment(s, k0, k1, bps * share, 0.0, w, h, fps, 1))

    def _recv(self, p: Participant, pc: str, kind: MediaKind, ranges: list[tuple[int, int, Track]],
              sfu: bool) -> None:
        if not ranges:
            return
        # A series' rows must be contiguous: its segments are gathered per track, then appended.
        segments: dict[str, list[_Segment]] = {}
        series: dict[str, int] = {}
        points = sorted({k for a, b, _ in ranges for k in (a, b)})
        for a, b in itertools.pairwise(points):
            active = [t for k0, k1, t in ranges if k0 <= a and k1 >= b]
            if kind == "video" and sfu:
                active = active[:MAX_FORWARDED_VIDEOS]
            # An SFU forwards the top simulcast layer to one or two tiles, the middle one to a grid.
            share = 1.0 if not sfu else 0.60 if len(active) <= 2 else 0.28
            for t in active:
                if t.sid not in series:
                    series[t.sid] = self._series(p, pc, "recv", kind, t.sid, _uuid(t.sid), t.codec)
                bps = t.kbps * 125 * (share if t.layers > 1 else 1.0)
                pps = 50.0 if kind == "audio" else 0.0
                segments.setdefault(t.sid, []).append(_Segment(series[t.sid], a, b, bps, pps, 0, 0, 0.0, 1))
        for track_segments in segments.values():
            # A track the SFU stops forwarding is still reported, its counters standing still.
            for seg, after in itertools.pairwise(track_segments):
                self.plan.segments.append(seg)
                if after.k0 > seg.k1:
                    self.plan.segments.append(_Segment(seg.series, seg.k1, after.k0, 0.0, 0.0, 0, 0, 0.0, 0))
            self.plan.segments.append(track_segments[-1])

    # -- building (vectorised over the chunk) ---------------------------------------------------------
    def columns(self) -> list[Columns]:
        """One column dict per (direction, kind): each has only the columns that kind of stat carries."""
        if not self.plan.segments:
            return []
        net = _NetworkState(self.plan, self.rng)
        rows = _Rows(self.plan, net, self.rng)
        return [rows.group(direction, kind, names, self.account) for (direction, kind), names in _GROUPS.items()
                if rows.has(direction, kind)]


class _NetworkState:
    """Per participant and report: loss, RTT, jitter, quality limitation (shared by all its streams)."""

    def __init__(self, plan: _Plan, rng: np.random.Generator) -> None:
        n = np.array(plan.reports, dtype=np.int64)
        self.offset = np.cumsum(n) - n
        self.t0 = np.array(plan.t0, dtype=np.int64)
        who = np.repeat(np.arange(len(n)), n)
        total = int(n.sum())

        def per_part(name: str) -> np.ndarray:
            return np.array([getattr(p.network, name) for _, p in plan.parts])[who]

        bursts = 1.0 + (rng.random(total) < 0.03) * rng.uniform(4.0, 12.0, total)
        self.loss = np.clip(per_part("loss") * rng.lognormal(-0.18, 0.6, total) * bursts, 0.0, 0.6)
        spikes = (rng.random(total) < 0.02) * rng.uniform(40.0, 250.0, total)
        self.rtt = per_part("rtt_ms") * rng.lognormal(0.0, 0.08, total) + spikes
        self.jitter = per_part("jitter_ms") * rng.lognormal(0.0, 0.25, total)
        self.cpu = rng.random(total) < per_part("cpu_share")
        self.bandwidth = ~self.cpu & (rng.random(total) < per_part("bandwidth_share"))
        self.ts_jitter = rng.integers(0, TS_JITTER_MS, total)


def _cumulative(inc: np.ndarray, starts: np.ndarray, group: np.ndarray) -> np.ndarray:
    """Running totals of `inc` restarting at each series start (rows of a series are contiguous)."""
    total = np.cumsum(inc)
    before = (total - inc)[starts]
    out: np.ndarray = total - before[group]
    return out


class _Rows:
    """Every report row of a chunk: identity columns and cumulative counters."""

    def __init__(self, plan: _Plan, net: _NetworkState, rng: np.random.Generator) -> None:
        self.plan, self.seg = plan, np.array(plan.segments, dtype=np.float64)
        k0 = self.segment("k0").astype(np.int64)
        length = self.segment("k1").astype(np.int64) - k0
        self.seg_row = np.repeat(np.arange(len(self.seg)), length)
        self.k = np.arange(int(length.sum())) - np.repeat(np.cumsum(length) - length, length) + np.repeat(k0, length)
        self.series = self.seg[self.seg_row, _SEG["series"]].astype(np.int64)
        self.part = self._of_series("part").astype(np.int64)
        rep = net.offset[self.part] + self.k
        self.ts = net.t0[self.part] + self.k * REPORT_MS + net.ts_jitter[rep]
        self.send = self._of_series("direction") == "send"
        self.video = self._of_series("kind") == "video"
        start_mask = np.r_[True, self.series[1:] != self.series[:-1]]
        self.starts = np.flatnonzero(start_mask)
        self.group_of = np.cumsum(start_mask) - 1
        self.values = _Counters(self, net, rep, rng).values

    def segment(self, name: str) -> np.ndarray:
        """A field of each segment."""
        out: np.ndarray = self.seg[:, _SEG[name]]
        return out

    def per_row(self, name: str) -> np.ndarray:
        """A field of each row's segment."""
        out: np.ndarray = self.seg[self.seg_row, _SEG[name]]
        return out

    def _of_series(self, name: str) -> np.ndarray:
        out: np.ndarray = np.array([getattr(s, name) for s in self.plan.series], dtype=object)[self.series]
        return out

    def has(self, direction: str, kind: str) -> bool:
        return bool(np.any(self._mask(direction, kind)))

    def _mask(self, direction: str, kind: str) -> np.ndarray:
        return np.asarray((self.send == (direction == "send")) & (self.video == (kind == "video")))

    def group(self, direction: str, kind: str, names: tuple[str, ...], account: str) -> Columns:
        m = self._mask(direction, kind)
        rooms = np.array([r.sid for r, _ in self.plan.parts], dtype=object)
        people = np.array([p.sid for _, p in self.plan.parts], dtype=object)
        ts = self.ts[m]
        out: Columns = {
            "account_sid": np.full(len(ts), account, dtype=object), "room_sid": rooms[self.part[m]],
            "participant_sid": people[self.part[m]],
            "participant_key": np.array([sid_key(p) for p in people], dtype=np.int64)[self.part[m]],
            "direction": np.full(len(ts), direction, dtype=object),
            "kind": np.full(len(ts), kind, dtype=object), "ssrc": self._of_series("ssrc")[m].astype(np.int64),
            "ts_ms": ts, "bucket_ms": ts - ts % REPORT_MS, "period_ms": np.full(len(ts), REPORT_MS, dtype=np.int64)}
        out |= {column: self._of_series(field)[m] for column, field in (
            ("pc_id", "pc"), ("track_sid", "track_sid"), ("track_id", "track_id"), ("codec", "codec"),
            ("rid", "rid"))}
        out |= {c: self.values[c][m] for c in _COMMON + names if c not in out}
        return out


class _Counters:
    """Per-report increments (rate × noise, loss, RTT measurements, ...) → cumulative counters."""

    def __init__(self, rows: _Rows, net: _NetworkState, rep: np.ndarray, rng: np.random.Generator) -> None:
        n = len(rows.k)
        send_video = rows.send & rows.video
        pos = np.arange(n) - rows.starts[rows.group_of]
        ramp = np.where(send_video & (pos == 0), 0.5, np.where(send_video & (pos == 1), 0.8, 1.0))
        squeeze = np.where(send_video & net.bandwidth[rep], 0.5, 1.0)
        nbytes = np.rint(rows.per_row("bytes_per_s") * 10.0 * rng.lognormal(0.0, 0.08, n) * ramp * squeeze)
        pps = rows.per_row("packets_per_s")
        packets = np.where(pps > 0, np.rint(pps * 10.0), np.ceil(nbytes / VIDEO_PACKET_BYTES)).astype(np.int64)
        loss = np.minimum(net.loss[rep] * np.where(rows.send, 1.0, 0.7), 0.9)
        lost = rng.binomial(packets, loss)
        rtt = net.rtt[rep] * rng.lognormal(0.0, 0.03, n)
        measurements = np.where(rows.video, 10, 2) * rows.send  # RTCP receiver reports per 10 s
        streams = rows.per_row("streams")
        freezes = rng.poisson(np.where(rows.video & ~rows.send & (streams > 0), 0.01 + 6.0 * net.loss[rep], 0.0))
        heard = (48_000 * 10 * streams).astype(np.int64)  # audio samples at 48 kHz
        ql = np.where(net.cpu[rep], 1, np.where(net.bandwidth[rep], 2, 0))
        incs: dict[str, np.ndarray] = {
            "bytes": nbytes.astype(np.int64), "packets": packets, "packets_lost": lost,
            "rtt_measurements": measurements, "total_rtt_s": rtt / 1000.0 * measurements,
            "ql_cpu_s": np.where(ql == 1, 10.0, 0.0), "ql_bandwidth_s": np.where(ql == 2, 10.0, 0.0),
            "retransmitted_packets": np.rint(lost * rng.uniform(0.7, 1.0, n)).astype(np.int64),
            "nack_count": np.rint(lost * 0.8).astype(np.int64) + rng.poisson(0.05, n),
            "pli_count": rng.poisson(0.02 + 3.0 * net.loss[rep]), "freeze_count": freezes,
            "freezes_duration_s": freezes * rng.uniform(0.25, 0.7, n), "total_samples_received": heard,
            "concealed_samples": np.rint(heard * np.minimum(loss * 1.2 + 0.0005, 1.0)).astype(np.int64)}
        self.values: dict[str, Any] = {k: _cumulative(v, rows.starts, rows.group_of) for k, v in incs.items()}
        fps = rows.per_row("fps") * np.where(net.cpu[rep], 0.6, 1.0) * rng.uniform(0.93, 1.0, n)
        self.values |= {
            "rtt_ms": rtt, "jitter_ms": net.jitter[rep] * np.where(rows.send, np.where(rows.video, 1.3, 1.0), 0.8),
            "frame_rate": np.rint(fps), "frame_width": rows.per_row("width").astype(np.int64),
            "frame_height": rows.per_row("height").astype(np.int64), "quality_limitation_reason": QL_REASONS[ql]}
