"""The time-period form that the dashboard and the rooms list share, turned into canonical URL parameters.

The form sends `_period` (a range such as `24h`, `all`, or `custom`) and, for a custom period, the
`_since`/`_until` of two `datetime-local` inputs. Browsers send those without an offset, in the
viewer's own time zone, so the page's script adds the zone as `_tz` and the server reads the values
in it. Without the script the values are read as UTC, which the form's hint says. `_period` and
`_tz` only ever come from the form: the canonical URL the browser is redirected to holds `_range` or
`_since`/`_until` in UTC, as docs/api.md describes.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, tzinfo
from functools import lru_cache
from zoneinfo import ZoneInfo, available_timezones

from video_insights.errors import BadRequest
from video_insights.query.filters import iso, parse_time

PERIOD = "_period"
TZ = "_tz"
FORM_ONLY = (PERIOD, TZ)
CUSTOM = "custom"
ALL = "all"
TIME_PARAMS = ("_range", "_since", "_until")
RANGE = re.compile(r"\d{1,4}[hd]")  # as query.filters reads `_range`, which checks it again


@lru_cache(maxsize=1)
def _zone_names() -> frozenset[str]:
    return frozenset(available_timezones())


def zone(raw: str | None) -> tzinfo:
    if not raw:
        return UTC
    # Only names from the database: ZoneInfo would also try paths such as a region's directory.
    if raw in _zone_names():
        return ZoneInfo(raw)
    raise BadRequest(f"_tz: {raw!r} is not a known time zone (an IANA name such as Europe/Berlin)")


def utc_text(name: str, raw: str, tz: tzinfo) -> str:
    """A date-time from the form, read in `tz` when it names no offset, as ISO 8601 UTC."""
    return iso(parse_time(name, raw, tz))


def read_period(items: list[tuple[str, str]], periods: tuple[str, ...]) -> list[tuple[str, str]]:
    """`items` with the form's `_period` and `_tz` replaced by `_range` or `_since`/`_until` (UTC).

    Items without form parameters come back unchanged, so a hand-written URL is checked as written.
    """
    form = {k: v for k, v in items if k in FORM_ONLY}
    if not form:
        return items
    period = form.get(PERIOD)
    if period is not None and period not in periods and not RANGE.fullmatch(period):
        raise BadRequest(f"_period: expected one of {', '.join(periods)} or a range such as 12h, got {period!r}")
    tz = zone(form.get(TZ))
    out: list[tuple[str, str]] = []
    for key, raw in items:
        if key in FORM_ONLY:
            continue
        if key in TIME_PARAMS and period not in (None, CUSTOM):
            continue  # a named period wins over the custom inputs the form also sent
        if key == "_range" and period == CUSTOM:
            continue
        out.append((key, utc_text(key, raw, tz) if key in ("_since", "_until") else raw))
    if period not in (None, CUSTOM, ALL):
        out.append(("_range", period))
    return out


def local_input(ms: int | None) -> str:
    """The value of a `datetime-local` input for `ms`, in UTC (the page's script shows it in local time)."""
    if ms is None:
        return ""
    at = datetime.fromtimestamp(ms / 1000, tz=UTC)
    return at.strftime("%Y-%m-%dT%H:%M:%S" if at.second else "%Y-%m-%dT%H:%M")
