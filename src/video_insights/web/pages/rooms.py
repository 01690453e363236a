"""The rooms explorer (`/rooms`) and its CSV export (`/rooms.csv`, the same query string and columns).

The view is the URL, parsed by query.filters into a RoomQuery exactly as the API parses it, listed by
analytics.rooms. The page's forms send their own fields plus the rest of the state as hidden inputs;
what a form says in its own terms (`_period`/`_tz` for the time, `_filter_*` for a new filter) is
turned into canonical parameters here and the browser is redirected to the canonical URL, so every
view has one URL to bookmark or share.
"""

from __future__ import annotations

import csv
import io
import re
import time
from dataclasses import dataclass, replace
from datetime import tzinfo
from typing import Any
from urllib.parse import parse_qsl

from fastapi import APIRouter, Depends, Request
from fastapi.responses import RedirectResponse, Response

from video_insights.analytics.rooms import RoomsTotal, Scope, count_rooms, list_rooms
from video_insights.errors import BadRequest
from video_insights.model.labels import value_label
from video_insights.query.fields import DEFAULT_COLUMNS, OPERATORS, ROOM_FIELDS, ROOM_FIELDS_BY_NAME, Field, FieldType
from video_insights.query.filters import RoomQuery, iso, parse_filter, parse_range, parse_room_query
from video_insights.web.deps import services
from video_insights.web.pages import period_form
from video_insights.web.pages.render import render
from video_insights.web.pages.session import page_scope

router = APIRouter(include_in_schema=False)

NEW_FILTER = ("_filter_field", "_filter_op", "_filter_value")
FORM_ONLY = (*period_form.FORM_ONLY, *NEW_FILTER)
PERIODS = {period_form.ALL: "All (last 7 days)", "24h": "Last 24 hours", "48h": "Last 48 hours",
           "7d": "Last 7 days", period_form.CUSTOM: "Custom"}
PAGE_SIZES = (25, 50, 100, 250, 1000)
OPERATOR_LABELS = {"eq": "=", "ne": "≠", "gt": ">", "gte": "≥", "lt": "<", "lte": "≤", "contains": "contains",
                   "in": "is one of"}
# Sorting a number or a time starts with the largest: "most issues first", "newest first".
DESCENDING_FIRST = (FieldType.INT, FieldType.SECONDS, FieldType.TIME)


def columns_of(rq: RoomQuery) -> list[Field]:
    return [ROOM_FIELDS_BY_NAME[c] for c in (rq.columns or DEFAULT_COLUMNS)]


def csv_value(f: Field, raw: Any) -> str:
    """A cell as the CSV holds it (and the table's `data-value`): UTC times, seconds, `true`/`false`."""
    if raw is None or raw == "":
        return ""
    if f.type == FieldType.TIME:
        return iso(int(raw))
    if f.type == FieldType.BOOL:
        return "true" if raw else "false"
    if f.type == FieldType.TAGS:
        return ",".join(v for v in str(raw).split(",") if v)
    return str(raw)


_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
_NUMBER = re.compile(r"-?[0-9]+(\.[0-9]+)?")


def spreadsheet_safe(cell: str) -> str:
    """A cell a spreadsheet will not run as a formula (OWASP's CSV injection advice): text starting with
    = + - @, a tab or a carriage return gets a leading apostrophe. Room names and identities come from
    clients; a negative number stays a number."""
    if cell.startswith(_FORMULA_START) and not _NUMBER.fullmatch(cell):
        return "'" + cell
    return cell


@dataclass(frozen=True)
class NewFilter:
    """A filter the add-filter form sends, as typed (a time in the viewer's zone `tz`)."""

    field: str
    op: str
    value: str
    tz: tzinfo


def read_query(items: list[tuple[str, str]]) -> tuple[RoomQuery, NewFilter | None]:
    """The view the request asks for, and the filter a form is adding (checked by `add_filter`)."""
    # An empty control is a form field left blank; an empty filter value is a mistake the parser names.
    items = [(k, v) for k, v in items if not (k.startswith("_") and not v.strip())]
    tz = period_form.zone(dict(items).get(period_form.TZ))
    items = period_form.read_period(items, tuple(PERIODS))
    form = {k: v for k, v in items if k in NEW_FILTER}
    rq = parse_room_query([(k, v) for k, v in items if k not in NEW_FILTER])
    if rq.columns == list(DEFAULT_COLUMNS):
        rq.columns = []
    if not form:
        return rq, None
    return rq, NewFilter(form.get("_filter_field", ""), form.get("_filter_op", ""), form.get("_filter_value", ""), tz)


def add_filter(rq: RoomQuery, new: NewFilter) -> RoomQuery:
    if not new.field or not new.op:
        raise BadRequest("new filter: choose a field and an operator")
    param = f"{new.field}__{new.op}"
    if not new.value.strip():
        raise BadRequest(f"{param}: give a value to compare with")
    f = ROOM_FIELDS_BY_NAME.get(new.field)
    raw = period_form.utc_text(param, new.value, new.tz) if f and f.type == FieldType.TIME else new.value
    return replace(rq, filters=[*rq.filters, parse_filter(param, raw)], page=0)


@dataclass(frozen=True)
class Header:
    field: Field
    sort_url: str
    sort: str | None  # "ascending", "descending" or None: the aria-sort of the header
    left_url: str | None
    right_url: str | None
    remove_url: str | None


def url(rq: RoomQuery, path: str = "/rooms") -> str:
    query = rq.query_string()
    return f"{path}?{query}" if query else path


def headers(rq: RoomQuery) -> list[Header]:
    names = [f.name for f in columns_of(rq)]

    def with_columns(cols: list[str]) -> str:
        return url(replace(rq, columns=[] if cols == list(DEFAULT_COLUMNS) else cols))

    out = []
    for i, f in enumerate(columns_of(rq)):
        current = rq.sort == f.name
        descending = not rq.descending if current else f.type in DESCENDING_FIRST
        swapped = list(names)
        left = right = None
        if i > 0:
            swapped[i - 1], swapped[i] = swapped[i], swapped[i - 1]
            left = with_columns(swapped)
        if i < len(names) - 1:
            swapped = list(names)
            swapped[i + 1], swapped[i] = swapped[i], swapped[i + 1]
            right = with_columns(swapped)
        out.append(Header(f, url(replace(rq, sort=f.name, descending=descending, page=0)),
                          ("descending" if rq.descending else "ascending") if current else None, left, right,
                          with_columns([n for n in names if n != f.name]) if len(names) > 1 else None))
    return out


def filter_chips(rq: RoomQuery) -> list[dict[str, Any]]:
    chips = []
    for i, f in enumerate(rq.filters):
        shown = [v if f.field.type == FieldType.TIME else value_label(f.field.name, v) for v in f.values]
        chips.append({"filter": f, "op": OPERATOR_LABELS[f.op], "values": shown,
                      "remove_url": url(replace(rq, filters=rq.filters[:i] + rq.filters[i + 1:], page=0))})
    return chips


def hidden(rq: RoomQuery, *dropped: str) -> list[tuple[str, str]]:
    """The view's parameters a form carries along, without those it sets itself."""
    return [(k, v) for k, v in rq.to_params() if k not in dropped]


def field_catalog() -> dict[str, dict[str, Any]]:
    """What the filter form's script needs to offer each field's operators and values."""
    return {f.name: {"type": str(f.type), "operators": list(OPERATORS[f.type]),
                     "choices": [[c, value_label(f.name, c)] for c in f.choices]}
            for f in ROOM_FIELDS}


def window_inputs(rq: RoomQuery, now: int) -> tuple[str, str, str]:
    """The period the form shows selected, and the custom inputs' values (the current window's bounds)."""
    if rq.range:
        return (rq.range, period_form.local_input(now - parse_range(rq.range)), period_form.local_input(now))
    if rq.since_ms is None and rq.until_ms is None:
        return period_form.ALL, "", ""
    return period_form.CUSTOM, period_form.local_input(rq.since_ms), period_form.local_input(rq.until_ms)


def range_text(first: int, last: int, total: RoomsTotal) -> str:
    """ "1–50 of 2,103", or "of more than 10,000" where the store stopped counting."""
    of = f"{total.count:,}" if total.exact else f"more than {total.count:,}"
    return f"{first:,}–{last:,} of {of}"


def page_context(rq: RoomQuery, rows: list[dict[str, Any]], now: int, total: RoomsTotal) -> dict[str, Any]:
    period, since_input, until_input = window_inputs(rq, now)
    shown = rows[:rq.size]
    cols = columns_of(rq)
    periods = dict(PERIODS)
    if period not in periods:  # a range typed into the URL, such as 12h
        periods[period] = f"Last {period}"
    return {
        "title": "Rooms", "rq": rq, "headers": headers(rq), "chips": filter_chips(rq),
        "rows": [{"sid": r["room_sid"], "cells": [(f, r[f.column], csv_value(f, r[f.column])) for f in cols]}
                 for r in shown],
        "first": rq.page * rq.size + 1, "last": rq.page * rq.size + len(shown), "total": total,
        "range_text": range_text(rq.page * rq.size + 1, rq.page * rq.size + len(shown), total),
        "prev_url": url(replace(rq, page=rq.page - 1)) if rq.page else None,
        "next_url": url(replace(rq, page=rq.page + 1)) if len(rows) > rq.size else None,
        "csv_url": url(rq, "/rooms.csv"), "fields": ROOM_FIELDS, "operator_labels": OPERATOR_LABELS,
        "shown_names": [f.name for f in cols], "catalog": field_catalog(), "page_sizes": PAGE_SIZES,
        "periods": periods, "period": period, "since_input": since_input, "until_input": until_input,
        "hidden_time": hidden(rq, "_range", "_since", "_until", "_search", "_page", "_size"),
        "hidden_filter": hidden(rq, "_page"), "hidden_columns": hidden(rq, "_col"),
        "headers_by_name": {f.name: f for f in ROOM_FIELDS},
        "clear_filters_url": url(replace(rq, filters=[], page=0)),
        "clear_url": url(replace(rq, filters=[], search=None, range=None, since_ms=None, until_ms=None, page=0)),
        "default_columns_url": url(replace(rq, columns=[])), "first_page_url": url(replace(rq, page=0)),
        "filtered": bool(rq.filters or rq.search or rq.range or rq.since_ms
                                                      or rq.until_ms),
    }


@router.get("/rooms", response_class=Response)
def rooms_page(request: Request, scope: Scope = Depends(page_scope)) -> Response:
    now = int(time.time()) * 1000
    rq, new = read_query(request.query_params.multi_items())
    form_error = None
    if new is not None:
        try:
            rq = add_filter(rq, new)
            new = None
        except BadRequest as e:  # shown next to the form, which keeps what was typed
            form_error = e.message
    if form_error is None and parse_qsl(request.url.query, keep_blank_values=True) != rq.to_params():
        return RedirectResponse(url(rq), status_code=303)
    rows = list_rooms(services(request).store, scope.account_sid, rq, now=now)
    context = page_context(rq, rows, now, count_rooms(services(request).store, scope.account_sid, rq, now=now))
    context.update(form_error=form_error, new_filter=new)
    return render(request, "rooms.html", context, status_code=400 if form_error else 200)


@router.get("/rooms.csv")
def rooms_csv(request: Request, scope: Scope = Depends(page_scope)) -> Response:
    """Exactly the table `/rooms` shows for the same query string: its columns, in order, and its rows."""
    now = int(time.time()) * 1000
    rq = parse_room_query(request.query_params.multi_items())
    rows = list_rooms(services(request).store, scope.account_sid, rq, now=now)[:rq.size]
    cols = columns_of(rq)
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow([f.label for f in cols])
    writer.writerows([spreadsheet_safe(csv_value(f, r[f.column])) for f in cols] for r in rows)
    stamp = time.strftime("%Y%m%d-%H%M%S", time.gmtime(now / 1000))
    return Response(out.getvalue(), media_type="text/csv; charset=utf-8",
                    headers={"Content-Disposition": f'attachment; filename="rooms-{stamp}.csv"'})
