"""URL query strings ⇄ room-list queries: `FIELD__OP=VALUE` filters and `_`-prefixed controls.

Everything a user can name is checked against query.fields; anything unknown or mistyped is a
BadRequest naming it, never ignored.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta, tzinfo
from urllib.parse import urlencode

from sqlglot import exp

from video_insights.errors import BadRequest
from video_insights.query.fields import ALL_OPERATORS, ROOM_FIELDS_BY_NAME, Field, FieldType
from video_insights.query.sql import value

CONTROLS = ("_col", "_sort", "_sort_desc", "_since", "_until", "_range", "_search", "_page", "_size")
MAX_PAGE_SIZE = 1000
_RANGE_RE = re.compile(r"^(\d{1,4})([hd])$")


@dataclass(frozen=True)
class Filter:
    field: Field
    op: str
    values: tuple[object, ...]  # typed: int, bool, str or ms

    @property
    def param(self) -> str:
        return f"{self.field.name}__{self.op}"


@dataclass
class RoomQuery:
    filters: list[Filter] = field(default_factory=list)
    columns: list[str] = field(default_factory=list)
    sort: str = "create_time"
    descending: bool = True
    since_ms: int | None = None
    until_ms: int | None = None
    range: str | None = None
    search: str | None = None
    page: int = 0
    size: int = 50

    def to_params(self) -> list[tuple[str, str]]:
        """The canonical query string of this view (what a bookmark holds)."""
        out: list[tuple[str, str]] = []
        for f in self.filters:
            out.append((f.param, ",".join(_format(f.field, v) for v in f.values)))
        out.extend(("_col", c) for c in self.columns)
        if (self.sort, self.descending) != ("create_time", True):
            out.append(("_sort_desc" if self.descending else "_sort", self.sort))
        if self.range:
            out.append(("_range", self.range))
        else:
            if self.since_ms is not None:
                out.append(("_since", iso(self.since_ms)))
            if self.until_ms is not None:
                out.append(("_until", iso(self.until_ms)))
        if self.search:
            out.append(("_search", self.search))
        if self.page:
            out.append(("_page", str(self.page)))
        if self.size != 50:
            out.append(("_size", str(self.size)))
        return out

    def query_string(self) -> str:
        return urlencode(self.to_params())


def iso(ms: int) -> str:
    return datetime.fromtimestamp(ms / 1000, tz=UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def parse_time(name: str, raw: str, tz: tzinfo = UTC) -> int:
    """ISO 8601 to epoch ms; a time without an offset is read in `tz` (UTC unless a form says)."""
    text = raw.strip()
    try:
        dt = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise BadRequest(f"{name}: {raw!r} is not a date and time (ISO 8601, such as 2026-11-24T09:30:00Z)") from None
    if dt.tzinfo is None:
        dt = dt.replace(tzinfo=tz)
    ms = int(dt.timestamp() * 1000)
    try:
        iso(ms)  # a canonical URL writes it back in UTC, which must be a year from 1 to 9999
    except (ValueError, OverflowError, OSError):
        raise BadRequest(f"{name}: {raw!r} is out of range") from None
    return ms


def parse_range(raw: str) -> int:
    m = _RANGE_RE.match(raw.strip())
    if not m:
        raise BadRequest(f"_range: {raw!r} is not a range like 24h or 7d")
    n, unit = int(m.group(1)), m.group(2)
    return int(timedelta(hours=n if unit == "h" else 24 * n).total_seconds() * 1000)


def _format(f: Field, v: object) -> str:
    if f.type == FieldType.TIME and isinstance(v, int):
        return iso(v)
    if isinstance(v, bool):
        return "true" if v else "false"
    return str(v)


def _typed(f: Field, raw: str, param: str) -> object:
    raw = raw.strip()
    if f.type in (FieldType.INT, FieldType.SECONDS):
        if not re.fullmatch(r"-?\d{1,15}", raw):
            raise BadRequest(f"{param}: {f.name} takes a whole number, got {raw!r}")
        return int(raw)
    if f.type == FieldType.TIME:
        return parse_time(param, raw)
    if f.type == FieldType.BOOL:
        if raw.lower() not in ("true", "false"):
            raise BadRequest(f"{param}: {f.name} takes true or false, got {raw!r}")
        return raw.lower() == "true"
    if f.choices and f.type in (FieldType.ENUM, FieldType.TAGS) and raw not in f.choices:
        raise BadRequest(f"{param}: {raw!r} is not a {f.name} (expected one of {', '.join(f.choices)})")
    if len(raw) > 256:
        raise BadRequest(f"{param}: value longer than 256 characters")
    return raw


def parse_filter(param: str, raw: str) -> Filter:
    name, _, op = param.rpartition("__")
    f = ROOM_FIELDS_BY_NAME.get(name)
    if f is None:
        raise BadRequest(f"{param}: unknown field {name!r} (see /docs/api.md#room-fields)")
    if op not in ALL_OPERATORS:
        raise BadRequest(f"{param}: unknown operator {op!r} (expected one of {', '.join(ALL_OPERATORS)})")
    if op not in f.operators:
        raise BadRequest(f"{param}: {f.name} does not take operator {op!r} (it takes {', '.join(f.operators)})")
    parts = raw.split(",") if op == "in" else [raw]
    if op == "in" and len(parts) > 100:
        raise BadRequest(f"{param}: at most 100 values")
    if op != "contains":
        return Filter(f, op, tuple(_typed(f, p, param) for p in parts))
    if not raw.strip() or len(raw) > 256:
        raise BadRequest(f"{param}: give 1 to 256 characters to look for")
    return Filter(f, op, (raw.strip(),))


def _int_param(name: str, raw: str, low: int, high: int) -> int:
    if not re.fullmatch(r"\d{1,7}", raw.strip()):
        raise BadRequest(f"{name}: expected a whole number, got {raw!r}")
    n = int(raw)
    if not low <= n <= high:
        raise BadRequest(f"{name}: must be between {low} and {high}, got {n}")
    return n


def parse_room_query(params: Sequence[tuple[str, str]], *, extra_allowed: Sequence[str] = ()) -> RoomQuery:
    """Parse a rooms-list query string; parameters named in `extra_allowed` are left to the caller."""
    rq = RoomQuery()
    seen_sort = False
    for key, raw in params:
        if key in extra_allowed:
            continue
        if key.startswith("_"):
            seen_sort = _control(rq, key, raw, seen_sort)
        elif "__" in key:
            rq.filters.append(parse_filter(key, raw))
        else:
            raise BadRequest(f"{key}: unknown parameter (filters are FIELD__OP=VALUE, controls start with _)")
    if rq.range and (rq.since_ms is not None or rq.until_ms is not None):
        raise BadRequest("_range: give either _range or _since/_until, not both")
    return rq


def _control(rq: RoomQuery, key: str, raw: str, seen_sort: bool) -> bool:
    if key == "_col":
        if raw not in ROOM_FIELDS_BY_NAME:
            raise BadRequest(f"_col: unknown field {raw!r}")
        if raw not in rq.columns:
            rq.columns.append(raw)
    elif key in ("_sort", "_sort_desc"):
        if seen_sort:
            raise BadRequest(f"{key}: give one sort (_sort or _sort_desc)")
        if raw not in ROOM_FIELDS_BY_NAME:
            raise BadRequest(f"{key}: unknown field {raw!r}")
        rq.sort, rq.descending = raw, key == "_sort_desc"
        return True
    elif key in ("_since", "_until"):
        ms = parse_time(key, raw)
        if key == "_since":
            rq.since_ms = ms
        else:
            rq.until_ms = ms
    elif key == "_range":
        parse_range(raw)
        rq.range = raw.strip()
    elif key == "_search":
        if not re.fullmatch(r"[A-Za-z0-9]{1,34}", raw.strip()):
            raise BadRequest(f"_search: {raw!r} is not a room SID or SID prefix")
        rq.search = raw.strip()
    elif key == "_page":
        rq.page = _int_param(key, raw, 0, 1_000_000)
    elif key == "_size":
        rq.size = _int_param(key, raw, 1, MAX_PAGE_SIZE)
    else:
        raise BadRequest(f"{key}: unknown control parameter (known: {', '.join(CONTROLS)})")
    return seen_sort


def condition(f: Filter) -> exp.Expr:
    """The SQL condition of one filter, values escaped by sqlglot."""
    col = exp.column(f.field.column)
    if f.field.type == FieldType.TAGS:
        likes = [col.like(value(f"%,{v},%")) for v in f.values]
        if f.op == "contains":
            return _contains(col, str(f.values[0]))
        if f.op == "ne":
            return exp.not_(exp.func("coalesce", col, value("")).like(value(f"%,{f.values[0]},%")))
        return exp.or_(*likes)
    if f.op == "contains":
        return _contains(exp.func("lower", col), str(f.values[0]).lower())
    if f.op == "in":
        return col.isin(*[value(v) for v in f.values])
    v = value(f.values[0])
    ops = {"eq": exp.EQ, "ne": exp.NEQ, "gt": exp.GT, "gte": exp.GTE, "lt": exp.LT, "lte": exp.LTE}
    cond: exp.Expr = ops[f.op](this=col, expression=v)
    if f.op == "ne":
        cond = exp.or_(cond, col.is_(exp.null()))
    return cond


def _contains(col: exp.Expr, text: str) -> exp.Expr:
    """`col` contains `text`: LIKE wildcards in a user's text are literal characters to them, escaped
    with an explicit ESCAPE (engines differ on a pattern's default escape character)."""
    escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return exp.Escape(this=col.like(value(f"%{escaped}%")), expression=exp.Literal.string("\\"))
