"""When demo rooms start: working hours in the account's main time zone, a second peak for Europe, a
smaller one for Asia-Pacific, quiet nights and much quieter weekends."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import numpy as np

MINUTE_MS = 60_000
HOUR_MS = 3_600_000
DAY_MS = 86_400_000

# (time zone, share of the rooms, the media regions its rooms use with weights)
COMPONENTS: tuple[tuple[str, float, tuple[tuple[str, float], ...]], ...] = (
    ("America/New_York", 0.58, (("us1", 0.9), ("br1", 0.1))),
    ("Europe/Berlin", 0.27, (("ie1", 0.55), ("de1", 0.45))),
    ("Asia/Singapore", 0.10, (("sg1", 0.4), ("jp1", 0.25), ("in1", 0.2), ("au1", 0.15))),
)
BACKGROUND_SHARE = 0.05  # round the clock, anywhere (on-call, other continents)
BACKGROUND_REGIONS = (("us1", 0.5), ("ie1", 0.15), ("sg1", 0.1), ("au1", 0.1), ("br1", 0.1), ("in1", 0.05))
WEEKEND_FACTOR = 0.2


def _local_offsets(start_ms: int, minutes: int, tz: str) -> np.ndarray:
    """UTC offset (ms) of each minute, looked up hourly so that DST changes land where they should."""
    zone = ZoneInfo(tz)
    hours = np.arange(start_ms - start_ms % HOUR_MS, start_ms + minutes * MINUTE_MS + HOUR_MS, HOUR_MS)
    by_hour = np.array([_offset_ms(int(h), zone) for h in hours], dtype=np.int64)
    t = start_ms + np.arange(minutes, dtype=np.int64) * MINUTE_MS
    out: np.ndarray = by_hour[(t - hours[0]) // HOUR_MS]
    return out


def _offset_ms(at_ms: int, zone: ZoneInfo) -> int:
    offset = datetime.fromtimestamp(at_ms / 1000, UTC).astimezone(zone).utcoffset()
    return int(offset.total_seconds() * 1000) if offset is not None else 0


def minute_curve(start_ms: int, minutes: int, tz: str) -> np.ndarray:
    """Relative rate of new rooms in each minute for people in `tz`."""
    t = start_ms + np.arange(minutes, dtype=np.int64) * MINUTE_MS
    local = t + _local_offsets(start_ms, minutes, tz)
    hour = (local % DAY_MS) / HOUR_MS
    weekday = (local // DAY_MS + 3) % 7  # 1970-01-01 was a Thursday; Monday = 0
    shape = np.exp(-(((hour - 10.5) / 1.6) ** 2)) + 0.85 * np.exp(-(((hour - 14.8) / 1.9) ** 2)) + 0.04
    out: np.ndarray = np.where(weekday >= 5, WEEKEND_FACTOR, 1.0) * shape
    return out


def _draw_regions(rng: np.random.Generator, options: tuple[tuple[str, float], ...], n: int) -> list[str]:
    w = np.array([o[1] for o in options])
    return [options[int(i)][0] for i in rng.choice(len(options), size=n, p=w / w.sum())]


def _draw_times(rng: np.random.Generator, day_start: int, curve: np.ndarray, n: int) -> np.ndarray:
    minute = rng.choice(len(curve), size=n, p=curve / curve.sum())
    return day_start + minute.astype(np.int64) * MINUTE_MS + rng.integers(0, MINUTE_MS, size=n)


class Rhythm:
    """The demo window [start, start + days): how many rooms each day gets, and when they start."""

    def __init__(self, start_ms: int, days: int, rooms_per_day: int) -> None:
        self.start_ms, self.days = start_ms, days
        minutes = days * 24 * 60
        self.curves = [minute_curve(start_ms, minutes, tz).reshape(days, -1) for tz, _, _ in COMPONENTS]
        total = rooms_per_day * days
        self.counts = np.zeros((len(COMPONENTS) + 1, days), dtype=np.int64)
        for i, ((_, share, _), curve) in enumerate(zip(COMPONENTS, self.curves, strict=True)):
            per_day = curve.sum(axis=1)
            self.counts[i] = np.round(total * share * per_day / per_day.sum())
        self.counts[-1] = round(total * BACKGROUND_SHARE / days)

    def rooms_on(self, day: int) -> int:
        return int(self.counts[:, day].sum())

    def day(self, rng: np.random.Generator, day: int) -> tuple[np.ndarray, list[str]]:
        """Creation times (sorted) and home media regions of the rooms of one day."""
        day_start = self.start_ms + day * DAY_MS
        times, regions = [], []
        for i, (_, _, options) in enumerate(COMPONENTS):
            n = int(self.counts[i, day])
            times.append(_draw_times(rng, day_start, self.curves[i][day], n))
            regions += _draw_regions(rng, options, n)
        n = int(self.counts[-1, day])
        times.append(_draw_times(rng, day_start, np.ones(24 * 60), n))
        regions += _draw_regions(rng, BACKGROUND_REGIONS, n)
        all_times = np.concatenate(times)
        order = np.argsort(all_times, kind="stable")
        return all_times[order], [regions[int(i)] for i in order]
