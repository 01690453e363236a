"""Rebuild full getStats reports from a webrtc-internals export's per-property time series.

The export stores one series per "<statId>-<property>", one point per ~1 s poll in which the stat had
that property. Local stats carry the poll time as their own `timestamp`, so their `<id>-timestamp`
series places them exactly on the poll axis. remote-inbound/outbound-rtp stats carry the time of the
last RTCP report instead (repeated while no new report arrives), so they are placed by aligning their
last point with the last point of the local stat they describe. Older exports have no timestamp
series at all: their points are spread evenly between the series' startTime and endTime.

Limits of the format itself: Chrome keeps at most 1000 points per series, so an export of a call longer
than ~16 minutes starts late (everything is aligned on the end, so what is there is placed right); and
a property missing on some polls (remote-outbound-rtp roundTripTime between RTCP XR reports) has only
its first and last times recorded, so its points are packed against its last one.
"""

from __future__ import annotations

import bisect
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from video_insights.ingest.dumps._common import infer_type, is_number, loads, restore_string_fields
from video_insights.ingest.dumps.model import DumpFormatError, StatsSnapshot

_REMOTE_TYPES = frozenset({"remote-inbound-rtp", "remote-outbound-rtp"})


@dataclass(slots=True)
class _Series:
    values: list[Any]
    start_ms: float | None
    end_ms: float | None


@dataclass(slots=True)
class _Stat:
    stat_id: str
    stats_type: str | None = None
    props: dict[str, _Series] = field(default_factory=dict)

    def timestamps(self) -> list[float] | None:
        series = self.props.get("timestamp")
        if series is None or not all(is_number(v) for v in series.values):
            return None
        return [float(v) for v in series.values]

    def length(self) -> int:
        return max((len(s.values) for s in self.props.values()), default=0)

    def last(self, prop: str) -> Any:
        series = self.props.get(prop)
        return series.values[-1] if series and series.values else None


def rebuild_snapshots(pc_id: str, raw_stats: Any, where: str) -> list[StatsSnapshot]:
    stats = _read_stats(raw_stats, where)
    if not stats:
        return []
    axis = _poll_axis(stats, where)
    positions = {t: i for i, t in enumerate(axis)}
    reports: list[dict[str, dict[str, Any]]] = [{} for _ in axis]
    ends: dict[str, int] = {}
    # Local stats first: remote ones are anchored on the local stat they point at.
    for stat in sorted(stats.values(), key=lambda s: s.stats_type in _REMOTE_TYPES):
        _place_stat(stat, axis, positions, reports, ends, f"{where}.{stat.stat_id}")
    snapshots = []
    for ts, report in zip(axis, reports, strict=True):
        for obj in report.values():
            restore_string_fields(obj)
        if report:
            snapshots.append(StatsSnapshot(pc_id=pc_id, ts_ms=ts, stats=report))
    return snapshots


def _read_stats(raw_stats: Any, where: str) -> dict[str, _Stat]:
    if not isinstance(raw_stats, dict):
        raise DumpFormatError(f"{where}: expected an object of series")
    stats: dict[str, _Stat] = {}
    for key, raw in raw_stats.items():
        if "-[" in key:
            continue  # webrtc-internals' own computed series ("[bytesSent_in_bits/s]"), not getStats data
        stat_id, sep, prop = key.rpartition("-")
        if not sep or not stat_id or not prop:
            raise DumpFormatError(f"{where}.{key}: expected a '<statId>-<property>' key")
        series_where = f"{where}.{key}"
        if not isinstance(raw, dict):
            raise DumpFormatError(f"{series_where}: expected an object with values")
        stat = stats.setdefault(stat_id, _Stat(stat_id))
        stats_type = raw.get("statsType")
        if isinstance(stats_type, str) and stats_type:
            stat.stats_type = stats_type
        stat.props[prop] = _read_series(raw, series_where)
    for stat in stats.values():
        if stat.stats_type is None:
            last_values = {prop: s.values[-1] for prop, s in stat.props.items() if s.values}
            stat.stats_type = infer_type(stat.stat_id, last_values)
    return stats


def _read_series(raw: dict[str, Any], where: str) -> _Series:
    values = raw.get("values")
    if isinstance(values, str):
        values = loads(values, f"{where}.values")
    if not isinstance(values, list):
        raise DumpFormatError(f"{where}: values is not a JSON array")
    return _Series(values, _time_ms(raw.get("startTime"), f"{where}.startTime"),
                   _time_ms(raw.get("endTime"), f"{where}.endTime"))


def _time_ms(value: Any, where: str) -> float | None:
    if value is None:
        return None
    if is_number(value):
        return float(value)
    if isinstance(value, str):
        try:
            return datetime.fromisoformat(value.replace("Z", "+00:00")).timestamp() * 1000.0
        except ValueError:
            pass
    raise DumpFormatError(f"{where}: expected an ISO 8601 time, got {value!r}")


def _poll_axis(stats: dict[str, _Stat], where: str) -> list[float]:
    polled: set[float] = set()
    for stat in stats.values():
        times = stat.timestamps()
        if times is not None and stat.stats_type not in _REMOTE_TYPES:
            polled.update(times)
    if polled:
        return sorted(polled)
    # Old export: no timestamps; the longest series spans the most polls.
    longest = max((_longest(stat) for stat in stats.values()), key=lambda s: len(s.values))
    return _spread(longest, where)


def _spread(series: _Series, where: str) -> list[float]:
    if series.start_ms is None or series.end_ms is None:
        raise DumpFormatError(f"{where}: series without timestamps need startTime and endTime")
    count = len(series.values)
    if count <= 1:
        return [series.end_ms] * count
    step = (series.end_ms - series.start_ms) / (count - 1)
    return [series.start_ms + i * step for i in range(count)]


def _place_stat(stat: _Stat, axis: list[float], positions: dict[float, int],
                reports: list[dict[str, dict[str, Any]]], ends: dict[str, int], where: str) -> None:
    times = stat.timestamps()
    indices = _axis_indices(stat, times, axis, positions, ends)
    if not indices:
        return
    ends[stat.stat_id] = indices[-1]
    # Properties are lined up on the stat's own clock (for remote stats, RTCP arrival times), not on
    # the polls; a stat anchored near the start of the axis keeps only as many points as polls before.
    own_times = times if times is not None else _spread(_longest(stat), where)
    sample_times = own_times[-len(indices):]
    objs = []
    for index in indices:
        obj = reports[index].setdefault(stat.stat_id, {"id": stat.stat_id})
        if stat.stats_type:
            obj["type"] = stat.stats_type
        obj.setdefault("timestamp", axis[index])
        objs.append(obj)
    for prop, series in stat.props.items():
        if prop in ("id", "type") and prop in objs[-1]:
            continue
        end = _series_end(series, sample_times, exact=times is not None)
        values = series.values[max(0, len(series.values) - end - 1):]
        for obj, value in zip(objs[end - len(values) + 1 : end + 1], values, strict=True):
            obj[prop] = value


def _longest(stat: _Stat) -> _Series:
    return max(stat.props.values(), key=lambda s: len(s.values))


def _axis_indices(stat: _Stat, times: list[float] | None, axis: list[float], positions: dict[float, int],
                  ends: dict[str, int]) -> list[int]:
    count = stat.length() if times is None else len(times)
    if count == 0:
        return []
    local = times is not None and stat.stats_type not in _REMOTE_TYPES
    if local and times is not None and all(t in positions for t in times):
        return [positions[t] for t in times]
    end = _anchor(stat, times, axis, ends)
    count = min(count, end + 1)
    return list(range(end - count + 1, end + 1))


def _anchor(stat: _Stat, times: list[float] | None, axis: list[float], ends: dict[str, int]) -> int:
    local_id = stat.last("localId")
    if isinstance(local_id, str) and local_id in ends:
        return ends[local_id]
    if times is None:
        end_ms = max((s.end_ms for s in stat.props.values() if s.end_ms is not None), default=None)
        if end_ms is not None:
            return _nearest(axis, end_ms)
    return len(axis) - 1


def _series_end(series: _Series, sample_times: list[float], *, exact: bool) -> int:
    """Index of the stat sample holding the series' last point (a property can vanish before its stat)."""
    last = len(sample_times) - 1
    if series.end_ms is None:
        return last
    if exact:
        # endTime is the stat's own timestamp at the last point, truncated to whole milliseconds.
        for i in range(last, -1, -1):
            if abs(int(sample_times[i]) - series.end_ms) <= 1:
                return i
        return last
    return _nearest(sample_times, series.end_ms)


def _nearest(times: list[float], target: float) -> int:
    pos = bisect.bisect_left(times, target)
    if pos == 0:
        return 0
    if pos == len(times):
        return len(times) - 1
    return pos if times[pos] - target < target - times[pos - 1] else pos - 1
