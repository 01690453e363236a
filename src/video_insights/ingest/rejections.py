"""What the insights gateway refused, counted by reason and logged (rate-limited).

A WebSocket client gets no answer to its events, so these counters and the log are the only place a
refusal shows: `/healthz` reads `snapshot()`, and so can any later metrics endpoint. The reasons are
a fixed vocabulary (docs/api.md, "Health"), so a counter never grows with what a client sends.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import Counter
from enum import StrEnum

log = logging.getLogger(__name__)


class Reason(StrEnum):
    MALFORMED_JSON = "malformed_json"  # the message is not JSON
    TOO_LARGE = "too_large"  # over the message size limit
    BAD_SESSION = "bad_session"  # no session, or one this service did not issue
    MALFORMED_EVENT = "malformed_event"  # an envelope or payload that cannot be read: the whole event
    MALFORMED_ENTRY = "malformed_entry"  # one stats-report entry (or list): the rest of the report is kept
    INTERNAL_ERROR = "internal_error"  # a bug in a parser: the event is lost, the session goes on


# One line per reason per this many seconds: a misbehaving client sending thousands of bad events
# must not flood the log, yet the first of each kind shows at once, with how many were not logged.
LOG_EVERY_S = 10.0


class Rejections:
    """Counters by reason, safe to bump from the event loop and worker threads alike."""

    def __init__(self, log_every_s: float = LOG_EVERY_S) -> None:
        self._counts: Counter[Reason] = Counter()
        self._lock = threading.Lock()
        self._log_every_s = log_every_s
        self._last_logged: dict[Reason, float] = {}
        self._unlogged: Counter[Reason] = Counter()

    def add(self, reason: Reason, message: str, participant_sid: str | None = None) -> None:
        now = time.monotonic()
        with self._lock:
            self._counts[reason] += 1
            last = self._last_logged.get(reason)
            if last is not None and now - last < self._log_every_s:
                self._unlogged[reason] += 1
                return
            self._last_logged[reason] = now
            skipped = self._unlogged.pop(reason, 0)
        more = f" ({skipped} more since the last line)" if skipped else ""
        log.warning("gateway %s rejected (%s) for participant %s: %s%s", "entry" if reason is Reason.MALFORMED_ENTRY
                    else "event", reason.value, participant_sid or "-", message[:500], more)

    def snapshot(self) -> dict[str, int]:
        """Every reason with its count (zeros included, so a reader sees the whole vocabulary)."""
        with self._lock:
            return {r.value: self._counts[r] for r in Reason}

    @property
    def total(self) -> int:
        with self._lock:
            return sum(self._counts.values())
