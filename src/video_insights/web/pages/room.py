"""The room summary page (`/rooms/{RoomSid}`): the room's fields, its detected issues and its participants.

The issue rows built here are shared with the participant page, so both say the same thing the same way.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

import orjson
from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse

from video_insights.analytics.live import RoomView
from video_insights.analytics.rooms import Scope, room_json
from video_insights.errors import BadRequest, NotFound
from video_insights.model.issues import CATALOG, IssueInfo, IssueType
from video_insights.model.labels import issue_title
from video_insights.query.fields import ROOM_FIELDS, FieldType
from video_insights.query.sql import untag
from video_insights.web.deps import base_url, services, sid_param
from video_insights.web.pages.render import render
from video_insights.web.pages.session import page_scope

router = APIRouter(include_in_schema=False)

PARTICIPANTS_PER_PAGE = 100
_DIRECTIONS = {"outbound": "sent", "inbound": "received"}


@dataclass(frozen=True)
class IssueRow:
    """One detected issue as a person reads it: what, who, on which media, measured against what."""

    type: str
    title: str
    explanation: str
    rule: str
    participant_sid: str
    identity: str | None
    media: str
    track_sids: tuple[str, ...]
    inbound: bool  # the tracks are ones the participant received (its page's Receive tab)
    measured: str
    threshold: str


def _info(kind: str) -> IssueInfo | None:
    try:
        return CATALOG[IssueType(kind)]
    except ValueError:  # a type this version does not know (stored by a newer one): show its name
        return None


def _num(v: float, digits: int) -> str:
    # Enough digits that a value just over its threshold does not print as the threshold itself.
    text = f"{v:.{digits}f}"
    return text.rstrip("0").rstrip(".") if "." in text else text


# Digits a measurement is shown with by default, per unit; more where it would print as its threshold.
_DIGITS = {"share": 1, "%": 2, "ms": 1, "s": 2, "reconnects": 0}
_MAX_DIGITS = 4


def _amount(v: float | None, unit: str, digits: int | None = None) -> str:
    if v is None:
        return "—"
    d = _DIGITS.get(unit, 2) if digits is None else digits
    if unit == "share":  # stored as 0..1; people read a percentage of the time
        return f"{_num(100 * v, d)} % of the time"
    if unit == "reconnects":
        return f"{_num(v, d)} reconnects"
    if unit in _DIGITS:
        return f"{_num(v, d)} {unit}"
    return f"{v:g} {unit}".strip()


def measured_and_threshold(value: float | None, threshold: float, unit: str) -> tuple[str, str]:
    """Both as text, the measurement with enough digits that a value which crossed its threshold does
    not print as the threshold itself (0.0204 against 0.02 reads "2.04 %", not "2 %")."""
    limit = _amount(threshold, unit)
    digits = _DIGITS.get(unit, 2)
    text = _amount(value, unit, digits)
    while value is not None and value != threshold and text == limit and digits < _MAX_DIGITS:
        digits += 1
        text = _amount(value, unit, digits)
    return text, limit


def issue_rows(details: list[dict[str, Any]], identities: dict[str, str]) -> list[IssueRow]:
    """`detected_issues.details` (as the API shows them) → rows; unknown issue types still show."""
    out = []
    for d in details:
        props = d.get("properties") or {}
        kind = str(d.get("issue_type"))
        info = _info(kind)
        unit = info.unit if info else ""
        media = ", ".join(props.get("media") or [])
        directions = ", ".join(_DIRECTIONS.get(x, x) for x in props.get("directions") or [])
        threshold = props.get("threshold")
        # Issues without a threshold are events (a failure happened), not measurements.
        measured, limit = (measured_and_threshold(props.get("value"), float(threshold), unit)
                           if threshold is not None else ("occurred", "—"))
        sid = str(props.get("participant_sid") or "")
        out.append(IssueRow(
            type=kind, title=issue_title(kind), explanation=info.explanation if info else "",
            rule=info.rule if info else "", participant_sid=sid, identity=identities.get(sid),
            media=f"{media} ({directions})" if media and directions else (media or "—"),
            track_sids=tuple(props.get("track_sids") or ()), inbound="inbound" in (props.get("directions") or ()),
            measured=measured, threshold=limit))
    return sorted(out, key=lambda r: (r.title, r.identity or r.participant_sid))


def details_of(row: dict[str, Any]) -> list[dict[str, Any]]:
    details: list[dict[str, Any]] = orjson.loads(row["detected_issues"]) if row["detected_issues"] else []
    return details


def issue_titles(tags: str | None) -> list[tuple[str, str]]:
    """(type, title) of a row's issue_types, for badges."""
    return [(t, issue_title(t)) for t in untag(tags)]


def no_params_but(request: Request, *allowed: str) -> None:
    for key in request.query_params:
        if key not in allowed:
            takes = f"takes only {', '.join(allowed)}" if allowed else "takes no parameters"
            raise BadRequest(f"{key}: unknown parameter (this page {takes})")


def viewed_room(request: Request, scope: Scope, raw_sid: str) -> RoomView:
    """The room if it belongs to the account being viewed; a 404 otherwise, saying where it is when
    the viewer can reach it from another of their accounts."""
    sid = sid_param(raw_sid, "RM", "room")
    view = services(request).live.view(scope, sid)
    if view.account_sid != scope.account_sid:
        raise NotFound(f"room {sid} belongs to account {view.account_sid}: switch to that account to see it")
    return view


def _page_param(request: Request) -> int:
    raw = request.query_params.get("_page", "0")
    if not (raw.isascii() and raw.isdigit()) or int(raw) > 100_000:
        raise BadRequest(f"_page: must be a whole number from 0, got {raw!r}")
    return int(raw)


def _field_rows(room: dict[str, Any], api: dict[str, Any]) -> list[dict[str, Any]]:
    """Every room field of the rooms list's allow-list, in its order, typed for display; the values
    are the API's, so the page and `/v1/Video/Rooms/{sid}` never disagree."""
    rows = []
    for f in ROOM_FIELDS:
        key = "issue_types" if f.name == "issue_type" else f.name
        value: Any = room[f.column] if f.type is FieldType.TIME else api[key]
        link = None
        if f.type in (FieldType.ENUM, FieldType.STRING) and f.name != "room_sid" and value not in (None, ""):
            link = "/rooms?" + urlencode({f"{f.name}__eq": value})
        rows.append({"name": f.name, "label": f.label, "type": f.type.value, "value": value, "link": link})
    return rows


@router.get("/rooms/{room_sid}", response_class=HTMLResponse)
def room_page(room_sid: str, request: Request, scope: Scope = Depends(page_scope)) -> HTMLResponse:
    no_params_but(request, "_page")
    page = _page_param(request)
    view = viewed_room(request, scope, room_sid)
    room, sid = view.row, view.room_sid
    rows = view.participants(page, PARTICIPANTS_PER_PAGE)
    participants = rows[:PARTICIPANTS_PER_PAGE]
    identities = {p["participant_sid"]: p["participant_identity"] for p in participants}
    issues = issue_rows(details_of(room), identities)
    api = room_json(room, base_url(request))
    return render(request, "room.html", {
        "title": room["room_name"] or sid, "room": room, "api": api, "fields": _field_rows(room, api),
        "issues": issues, "issue_types": issue_titles(room["issue_types"]),
        "participants": [{**p, "issues": issue_titles(p["issue_types"])} for p in participants],
        "page": page, "has_next": len(rows) > PARTICIPANTS_PER_PAGE, "per_page": PARTICIPANTS_PER_PAGE,
    })
