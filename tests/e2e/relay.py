"""A UDP relay on 127.0.0.1 that every media packet of a loopback call passes through, adding delay
and dropping a share of packets in each direction (netem is not available on CI machines).

Each peer connection is told the relay's port for its side as the only remote ICE candidate, so
ICE checks, DTLS, RTP and RTCP all cross it. A side's peer address is learnt from the packets that
arrive on its port: both peers send ICE checks, so both are known within the first round trip.
"""

from __future__ import annotations

import heapq
import random
import selectors
import socket
import threading
import time
from dataclasses import dataclass, field


@dataclass(frozen=True)
class Network:
    """The conditions a test call runs under: the relay's loss and one-way delay, and simulcast."""

    name: str
    delay_ms: float = 0.0
    loss: float = 0.0
    simulcast: bool = False


@dataclass
class RelayCounts:
    forwarded: int = 0
    dropped: int = 0


@dataclass(order=True)
class _Due:
    at: float
    seq: int
    out: socket.socket = field(compare=False)
    to_side: int = field(compare=False)
    data: bytes = field(compare=False)


class UdpRelay:
    """Relay between side A (port `ports[0]`) and side B (`ports[1]`): what A's peer sends to port A
    leaves from port B towards B's peer, after `delay_ms`, unless dropped with probability `loss`."""

    def __init__(self, *, delay_ms: float = 0.0, loss: float = 0.0, seed: int = 4) -> None:
        self.delay_s = delay_ms / 1000.0
        self.loss = loss
        self.counts = RelayCounts()
        self._rng = random.Random(seed)  # the same drops every run: a failure can be replayed
        self._socks = [self._bind(), self._bind()]
        self._peers: list[tuple[str, int] | None] = [None, None]
        self._queue: list[_Due] = []
        self._seq = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="udp-relay", daemon=True)

    @staticmethod
    def _bind() -> socket.socket:
        s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4 * 1024 * 1024)
        s.bind(("127.0.0.1", 0))
        s.setblocking(False)
        return s

    @property
    def ports(self) -> tuple[int, int]:
        return self._socks[0].getsockname()[1], self._socks[1].getsockname()[1]

    def __enter__(self) -> UdpRelay:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join(timeout=5)
        for s in self._socks:
            s.close()

    def _run(self) -> None:
        sel = selectors.DefaultSelector()
        for side, s in enumerate(self._socks):
            sel.register(s, selectors.EVENT_READ, side)
        while not self._stop.is_set():
            now = time.monotonic()
            while self._queue and self._queue[0].at <= now:
                self._send(heapq.heappop(self._queue))
            timeout = min(0.05, max(0.0, self._queue[0].at - now)) if self._queue else 0.05
            for key, _ in sel.select(timeout):
                self._receive(key.fileobj, key.data)  # type: ignore[arg-type]
        sel.close()

    def _receive(self, sock: socket.socket, side: int) -> None:
        while True:
            try:
                data, addr = sock.recvfrom(65536)
            except (BlockingIOError, InterruptedError):
                return
            self._peers[side] = addr
            if self.loss and self._rng.random() < self.loss:
                self.counts.dropped += 1
                continue
            other = 1 - side
            self._seq += 1
            due = _Due(time.monotonic() + self.delay_s, self._seq, self._socks[other], other, data)
            if self.delay_s:
                heapq.heappush(self._queue, due)
            else:
                self._send(due)

    def _send(self, due: _Due) -> None:
        peer = self._peers[due.to_side]
        if peer is None:
            return  # that side has not spoken yet: like a packet sent before the route exists
        try:
            due.out.sendto(due.data, peer)
            self.counts.forwarded += 1
        except OSError:
            pass  # a peer that went away: the call is over
