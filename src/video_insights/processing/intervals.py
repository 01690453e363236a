"""Wall-clock 10-second intervals.

Counters arrive cumulative; the deltas between consecutive samples of a series, and so every
interval, are computed when read (query.samples), which keeps them a pure function of the stored
samples. The rules (docs/intervals.md):
- the first sample of a series counts from zero (counters are cumulative since the stream started),
  over the source's nominal sampling period;
- a counter that goes down (new SSRC, restarted peer connection, reconnect) starts a new series: the
  new values count from zero over the gap since the previous sample (never a negative delta, never a
  spike);
- a negative delta of packetsLost alone (RTCP duplicates) counts as 0;
- a sample's delta belongs to the interval its timestamp falls in.
"""

from __future__ import annotations

INTERVAL_MS = 10_000
# twilio-video.js publishes a stats-report every 10 s: a series' first sample counts over this period.
GATEWAY_PERIOD_MS = 10_000


def bucket_of(ts_ms: int) -> int:
    return ts_ms - ts_ms % INTERVAL_MS
