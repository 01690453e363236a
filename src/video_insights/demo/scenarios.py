"""Plans for the demo generator: which rooms exist, who is in them, on what client and network.

A plan is plain data drawn from a numpy Generator; `demo.events` and `demo.samples` turn it into
what the real sources would have sent. The rates here are tuned so that the issue detectors fire as
they do for a real account: a few percent of participants with loss or latency problems, fewer with
connection failures, most calls fine.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

from video_insights.demo.clients import Client, draw_client
from video_insights.model.ids import derived_sid
from video_insights.model.vocabulary import RoomType

SECOND = 1000
MINUTE = 60_000

ROOM_TYPES = tuple(RoomType)
ROOM_TYPE_WEIGHTS = (0.55, 0.20, 0.21, 0.04)
# Participant counts are heavy-tailed: mostly two people, some big meetings (index 0 = 1 person).
@dataclass(frozen=True)
class Mix:
    """How big rooms are and how long they last, per room type."""

    name: str
    sizes: dict[str, tuple[float, ...]]  # weights of 1, 2, 3… participants
    lengths: dict[str, tuple[float, float]]  # (median minutes, lognormal sigma) of how long a room is busy


# An account of meetings: mostly two or three people (the demo).
MEETINGS = Mix("meetings", sizes={
    "group": (6, 40, 16, 11, 7, 5, 4, 3, 2.5, 2, 1.5, 2),
    "group_small": (8, 60, 20, 12),
    "peer_to_peer": (10, 85, 5),
    "go": (12, 88),
}, lengths={"group": (17.0, 0.75), "group_small": (14.0, 0.7), "peer_to_peer": (9.0, 0.8), "go": (4.0, 0.7)})
# A large platform account (classes, team rooms, telehealth): bigger group rooms and shorter calls,
# about five participants a room; the benchmarks' shape (100,000 rooms, 500,000 participants a week).
PLATFORM = Mix("platform", sizes={
    "group": (2, 10, 10, 10, 10, 10, 9, 9, 8, 8, 7, 8),
    "group_small": (4, 40, 28, 28),
    "peer_to_peer": (6, 89, 5),
    "go": (10, 90),
}, lengths={"group": (9.0, 0.7), "group_small": (8.0, 0.7), "peer_to_peer": (6.0, 0.8), "go": (3.0, 0.7)})
MIXES = {m.name: m for m in (MEETINGS, PLATFORM)}
# The long tail of meetings ends somewhere: half a working day.
MAX_ROOM_MINUTES = 240.0
MAX_PARTICIPANTS = {"group": 50, "group_small": 4, "peer_to_peer": 10, "go": 2}
MAX_IN_ROOM = 12
REGIONS = ("us1", "ie1", "de1", "sg1", "au1", "br1", "jp1", "in1")
REGION_WEIGHTS = np.array([0.46, 0.14, 0.10, 0.08, 0.05, 0.05, 0.05, 0.07])
# Rooms of apps on another stack (an SFU, plain P2P) that send only our collector's telemetry: a
# share of the group and peer-to-peer rooms, about 15 % of all rooms.
COLLECTOR_SHARE = {"group": 0.2, "peer_to_peer": 0.2}
VIA_API_SHARE = 0.3  # rooms the app ends explicitly rather than letting them empty out
EMPTY_ROOM_TIMEOUT_MS = 5 * MINUTE  # Twilio's default emptyRoomTimeout


@dataclass(frozen=True)
class Network:
    """One participant's path to the media server."""

    loss: float  # typical uplink loss rate (fraction of packets)
    rtt_ms: float
    jitter_ms: float
    cpu_share: float  # share of reports in which the encoder is CPU-limited
    bandwidth_share: float


@dataclass(frozen=True)
class Faults:
    setup_ms: int  # ICE checking → connected
    gum_denied: bool = False
    ice_failed: bool = False  # the media connection fails at the participant's leave
    reconnects: int = 0
    goodbye: bool = True  # the client says room/disconnected when it leaves


@dataclass(frozen=True)
class Track:
    sid: str
    kind: str  # audio | video
    name: str
    start_ms: int
    end_ms: int
    codec: str
    kbps: float  # total over the simulcast layers
    layers: int = 1
    screen: bool = False


@dataclass
class Participant:
    sid: str
    identity: str
    join_ms: int
    leave_ms: int
    client: Client
    network: Network
    region: str
    faults: Faults
    tracks: list[Track] = field(default_factory=list)

    @property
    def media_ms(self) -> int:
        """When media starts flowing: after connect and ICE."""
        return self.join_ms + 600 + self.faults.setup_ms


@dataclass
class Room:
    sid: str
    name: str
    type: str
    create_ms: int
    media_region: str
    twilio: bool  # status callbacks arrive (else telemetry only)
    recorded: bool
    end_ms: int  # when room-ended is sent (may be after `now`)
    participants: list[Participant] = field(default_factory=list)


@dataclass(frozen=True)
class RoomSeed:
    """What the day's rhythm decides about a room before it is planned."""

    sid: str
    create_ms: int
    home_region: str
    room_type: str


def room_types(rng: np.random.Generator, n: int, carry: np.ndarray) -> tuple[list[str], np.ndarray]:
    """Types for `n` rooms in the configured proportions, shuffled.

    Counts are stratified (what a day falls short of a type's share is carried to the next), so that
    even a small run shows every type, `go` included.
    """
    want = n * np.array(ROOM_TYPE_WEIGHTS) + carry
    counts = np.maximum(np.floor(want), 0).astype(np.int64)
    while counts.sum() < n:
        counts[np.argmax(want - counts)] += 1
    while counts.sum() > n:
        counts[np.argmax(np.where(counts > 0, counts - want, -np.inf))] -= 1
    types = [t for t, c in zip(ROOM_TYPES, counts, strict=True) for _ in range(int(c))]
    return [types[int(i)] for i in rng.permutation(len(types))], want - counts


def _pick(rng: np.random.Generator, weights: Sequence[float] | np.ndarray) -> int:
    w = np.asarray(weights, dtype=float)
    return int(rng.choice(len(w), p=w / w.sum()))


def plan_room(rng: np.random.Generator, seed: RoomSeed, identities: Sequence[str], mix: Mix = MEETINGS) -> Room:
    room_type = seed.room_type
    twilio = rng.random() >= COLLECTOR_SHARE.get(room_type, 0.0)
    n = 1 + _pick(rng, mix.sizes[room_type])
    median, sigma = mix.lengths[room_type]
    length = int(np.clip(rng.lognormal(np.log(median), sigma), 1.0, MAX_ROOM_MINUTES) * MINUTE)
    via_api = twilio and rng.random() < VIA_API_SHARE
    windows = _windows(rng, seed.create_ms, length, n, via_api)
    names = rng.choice(len(identities), size=n, replace=False)
    people = [_participant(rng, seed, twilio, identities[int(i)], j, w)
              for j, (i, w) in enumerate(zip(names, windows, strict=True))]
    people = _with_rejoins(rng, seed.sid, people, twilio)
    last_leave = max(p.leave_ms for p in people)
    room = Room(seed.sid, _room_name(rng, room_type), room_type, seed.create_ms, seed.home_region, twilio,
                recorded=twilio and room_type in ("group", "group_small") and rng.random() < 0.25,
                end_ms=last_leave + (int(rng.integers(200, 2000)) if via_api else EMPTY_ROOM_TIMEOUT_MS),
                participants=people)
    for p in people:
        p.tracks = _tracks(rng, p, room_type)
    return room


def _windows(rng: np.random.Generator, create_ms: int, length: int, n: int, via_api: bool) -> list[tuple[int, int]]:
    """(join, leave) of each person: most arrive in the first minutes and stay to the end."""
    end = create_ms + length
    out = []
    for i in range(n):
        if i == 0:
            join = create_ms + int(rng.integers(300, 8 * SECOND))
        elif rng.random() < 0.8:
            join = create_ms + int(rng.exponential(90 * SECOND))
        else:
            join = create_ms + int(rng.uniform(0.0, 0.6) * length)
        join = min(join, end - 30 * SECOND)
        if rng.random() < 0.25:
            leave = join + int(rng.uniform(0.2, 0.9) * (end - join))
        else:
            leave = end if via_api else end - int(rng.exponential(30 * SECOND))
        out.append((join, max(leave, join + 20 * SECOND)))
    return out


def _network(rng: np.random.Generator, mobile: bool) -> tuple[Network, bool]:
    """A participant's network, and whether it is far from the media server."""
    lossy, far = rng.random() < 0.05, rng.random() < 0.05
    marginal = not lossy and rng.random() < 0.06
    if lossy:
        loss = rng.uniform(0.055, 0.14)
    elif marginal:
        loss = rng.uniform(0.01, 0.03)
    else:
        loss = min(rng.lognormal(np.log(0.002), 1.0), 0.02)
    rtt = rng.uniform(310, 600) if far else float(np.clip(rng.lognormal(np.log(55 if not mobile else 85), 0.45),
                                                          12, 260))
    jitter = 2.0 + 200 * loss + rtt / 60 + rng.exponential(3.0)
    cpu = rng.uniform(0.35, 0.8) if rng.random() < (0.08 if mobile else 0.03) else rng.uniform(0.0, 0.05)
    bandwidth = rng.uniform(0.3, 0.7) if (lossy or far) and rng.random() < 0.5 else rng.uniform(0.0, 0.08)
    return Network(float(loss), float(rtt), float(jitter), float(cpu), float(bandwidth)), far


def _faults(rng: np.random.Generator, twilio: bool) -> Faults:
    u = rng.random()
    reconnects = int(rng.integers(3, 6)) if u < 0.006 else (1 if u < 0.036 else 0)
    slow = rng.random() < 0.012
    return Faults(setup_ms=int(rng.uniform(6, 15) * SECOND if slow else rng.uniform(150, 1500)),
                  gum_denied=rng.random() < 0.015, ice_failed=rng.random() < 0.01, reconnects=reconnects,
                  goodbye=twilio or rng.random() >= 0.06)


def _participant(rng: np.random.Generator, seed: RoomSeed, twilio: bool, identity: str,
                 index: int, window: tuple[int, int]) -> Participant:
    client = draw_client(rng, twilio)
    network, far = _network(rng, client.mobile)
    local = rng.random() < 0.8
    region = seed.home_region if local and not far else _region(rng, exclude=seed.home_region)
    return Participant(derived_sid("PA", seed.sid, str(index)), identity, window[0], window[1], client, network,
                       region, _faults(rng, twilio))


def _region(rng: np.random.Generator, exclude: str) -> str:
    w = np.where(np.array(REGIONS) == exclude, 0.0, REGION_WEIGHTS)
    return REGIONS[_pick(rng, w)]


def _with_rejoins(rng: np.random.Generator, room_sid: str, people: list[Participant], twilio: bool
                  ) -> list[Participant]:
    """Some people drop out and come back: the same identity with a new participant SID."""
    out = list(people)
    for p in people:
        if len(out) >= MAX_IN_ROOM or p.leave_ms - p.join_ms < 2 * MINUTE:
            continue
        if rng.random() >= (0.6 if p.faults.ice_failed else 0.25 if p.network.loss > 0.05 else 0.05):
            continue
        split = p.join_ms + int(rng.uniform(0.2, 0.8) * (p.leave_ms - p.join_ms))
        back = split + int(rng.uniform(5, 90) * SECOND)
        if back >= p.leave_ms - 20 * SECOND:
            continue
        again = Participant(derived_sid("PA", room_sid, p.sid, "rejoin"), p.identity, back, p.leave_ms, p.client,
                            p.network, p.region, _faults(rng, twilio))
        p.leave_ms = split
        out.append(again)
    return out


def _tracks(rng: np.random.Generator, p: Participant, room_type: str) -> list[Track]:
    start, end = p.media_ms, p.leave_ms
    sfu = room_type in ("group", "group_small")
    tracks = []
    no_mic = p.faults.gum_denied and rng.random() < 0.25
    if not no_mic:
        tracks.append(Track(derived_sid("MT", p.sid, "audio"), "audio", "microphone", start, end, "opus",
                            float(rng.uniform(32, 40))))
    if not p.faults.gum_denied and rng.random() >= 0.12:
        h264 = p.client.prefers_h264 or rng.random() < 0.05
        layers = 3 if sfu and not h264 else 1
        top = 2500.0 if not p.client.mobile else 1200.0
        tracks.append(Track(derived_sid("MT", p.sid, "camera"), "video", "camera", start, end,
                            "H264" if h264 else "VP8", float(rng.uniform(0.35, 1.0) * top), layers))
    if sfu and not p.client.mobile and end - start > 3 * MINUTE and rng.random() < 0.12:
        share_start = start + int(rng.uniform(0.1, 0.6) * (end - start))
        share_end = min(end, share_start + int(rng.uniform(2, 15) * MINUTE))
        tracks.append(Track(derived_sid("MT", p.sid, "screen"), "video", "screen", share_start, share_end, "VP8",
                            float(rng.uniform(400, 1200)), 1, screen=True))
    return tracks


_TEAMS = ("platform", "design", "sales", "support", "growth", "mobile", "data", "infra", "payments", "legal")
_SUBJECTS = ("math", "biology", "history", "spanish", "physics", "chemistry")


def _room_name(rng: np.random.Generator, room_type: str) -> str:
    """Apps reuse names ("standup" every morning) next to one-off ticket-like names."""
    n = int(rng.integers(1, 100_000))
    team = _TEAMS[int(rng.integers(len(_TEAMS)))]
    choices: dict[str, tuple[str, ...]] = {
        "group": (f"{team}-standup", f"{team}-weekly-sync", "all-hands", f"design-review-{n % 500}",
                  f"interview-{n:05d}", f"class-{_SUBJECTS[n % len(_SUBJECTS)]}-{n % 40}"),
        "group_small": (f"consult-{n:05d}", f"{team}-1on1-{n % 300}", f"office-hours-{team}"),
        "peer_to_peer": (f"visit-{n:05x}", f"support-{n:05d}", f"tutoring-{n % 800}"),
        "go": (f"quick-call-{n:05d}", f"check-in-{n:05d}"),
    }
    options = choices[room_type]
    return options[int(rng.integers(len(options)))]


_FIRST = ("ana", "ben", "carla", "david", "emma", "farid", "grace", "hiro", "ines", "jack", "kemi", "liam", "maria",
          "noah", "olga", "priya", "quinn", "raj", "sara", "tom", "uma", "victor", "wen", "ximena", "yusuf", "zoe",
          "lena", "mateo", "nina", "omar", "paula", "ravi", "sofia", "theo", "amara", "bruno", "chloe", "diego")
_LAST = ("garcia", "smith", "muller", "rossi", "tanaka", "kim", "nguyen", "silva", "khan", "dubois", "novak",
         "jensen", "okafor", "cohen", "patel", "lopez", "brown", "wang", "schmidt", "costa")


def identity_pool(rng: np.random.Generator, size: int) -> list[str]:
    """People who meet again and again across the week, plus one-off guests."""
    people = [f"{f}.{last}" for f in _FIRST for last in _LAST]
    order = rng.permutation(len(people))
    pool = [people[int(i)] for i in order[:min(size, len(people))]]
    pool += [f"guest-{int(g):05d}" for g in rng.choice(100_000, size=max(MAX_IN_ROOM, size // 4), replace=False)]
    return pool
