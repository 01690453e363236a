"""A gateway session's client clock: how far it is from the server's, estimated as NTP does.

A message arrives after it was sent, so `received − sent` (server clock minus client clock) is the
clock offset plus the time the message took, never less than the offset. The minimum over a window of
recent messages is then the offset plus the smallest delay seen: delay spikes cannot pull it. Messages
a client queued and sends in one burst look delayed too, by their age in the queue; the burst's newest
message bounds the offset of the others, so a burst is estimated as a whole before any of it is
corrected (the callers group messages that arrived back to back). The rules are in docs/api.md,
"Client clocks".
"""

from __future__ import annotations

from collections import deque

from video_insights.processing.intervals import GATEWAY_PERIOD_MS

# Offsets up to this are left alone: twilio-video.js publishes a report every GATEWAY_PERIOD_MS and goes
# on while it cannot send, so the newest message of a queue flushed on reconnect may be that old on a
# clock that is right.
CLOCK_TOLERANCE_MS = GATEWAY_PERIOD_MS
# A clock further off than this is not a skewed clock but a broken timestamp (seconds for milliseconds,
# zero): it neither enters the estimate nor is corrected, and the time check refuses it with its reason.
MAX_CORRECTION_MS = 86_400_000
# The window of the minimum: long enough to hold a message that met little delay, short enough that a
# client clock stepped by NTP mid-call is followed within minutes.
CLOCK_WINDOW_MS = 300_000


class ClientClock:
    """The offset (server − client, ms) to add to one session's client timestamps.

    The applied offset moves only when the estimate leaves it by more than CLOCK_TOLERANCE_MS (see
    `update`), so a session's timestamps shift by one recorded amount rather than jitter with the delay,
    and a session resumed with the offset it had before (`applied`) keeps it through a burst of queued
    messages."""

    __slots__ = ("_window", "applied")

    def __init__(self, applied: int = 0) -> None:
        # (received_ms, received − sent) with increasing differences: the front is the window's minimum.
        self._window: deque[tuple[int, int]] = deque()
        self.applied = applied

    def observe(self, sent_ms: float, received_ms: int) -> None:
        """Take one message's timestamp into the estimate (a broken one is left out)."""
        delta = received_ms - int(sent_ms)
        if abs(delta) > MAX_CORRECTION_MS:
            return
        window = self._window
        while window and window[-1][1] >= delta:
            window.pop()
        window.append((received_ms, delta))
        while window[0][0] < received_ms - CLOCK_WINDOW_MS:
            window.popleft()

    @property
    def estimate(self) -> int | None:
        """The current minimum of received − sent (None before any usable message)."""
        return self._window[0][1] if self._window else None

    @property
    def estimated_by(self) -> tuple[int, int] | None:
        """The message the estimate comes from: its (client timestamp, server receive time)."""
        if not self._window:
            return None
        received, delta = self._window[0]
        return received - delta, received

    def update(self) -> bool:
        """Move the applied offset to the estimate if the estimate has left it by more than the
        tolerance (to 0 when the estimate itself is within the tolerance); whether it moved."""
        estimate = self.estimate
        if estimate is None or abs(estimate - self.applied) <= CLOCK_TOLERANCE_MS:
            return False
        self.applied = estimate if abs(estimate) > CLOCK_TOLERANCE_MS else 0
        return True
