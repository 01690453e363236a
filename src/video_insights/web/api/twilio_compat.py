"""The Video Log Analyzer endpoints, answering as Twilio's Insights v1 does (twilio-python works)."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Request, Response

from video_insights.analytics import rooms as rooms_q
from video_insights.analytics.live import RoomView
from video_insights.analytics.metrics import metrics_json
from video_insights.analytics.rooms import Scope
from video_insights.errors import BadRequest, NotFound
from video_insights.model.vocabulary import RoomStatus, RoomType
from video_insights.query import rooms as room_queries
from video_insights.query.filters import RoomQuery, parse_room_query, parse_time
from video_insights.web.deps import base_url, scope, services, sid_param

if TYPE_CHECKING:  # conditions pass through here; they are built in query/
    from sqlglot import exp

router = APIRouter(tags=["Video Log Analyzer (Twilio-compatible)"])
TWILIO_PARAMS = ("RoomType", "Codec", "RoomName", "RoomStatus", "CreatedAfter", "CreatedBefore", "PageSize", "Page",
                 "PageToken", "AccountSid")
ROOM_TYPES = tuple(RoomType)
CODECS = ("VP8", "H264", "VP9", "opus", "AV1")
# RoomStatus as Twilio's Rooms resource spells it, and as our room_status field does.
ROOM_STATUSES = {"in-progress": RoomStatus.IN_PROGRESS, **{s.value: s for s in RoomStatus}}


def _page(request: Request) -> tuple[int, int]:
    size_raw = request.query_params.get("PageSize")
    if size_raw is not None and not re.fullmatch(r"[0-9]{1,7}", size_raw):  # isdigit() also takes "²"
        raise BadRequest(f"PageSize: must be a whole number from 1 to 1000, got {size_raw!r}")
    size = rooms_q.check_page_size(size_raw)
    token = request.query_params.get("PageToken")
    raw = token[2:] if token and token.startswith("PT") else request.query_params.get("Page", "0")
    if (token and not token.startswith("PT")) or not re.fullmatch(r"[0-9]{1,7}", raw) or int(raw) > 1_000_000:
        raise BadRequest(f"Page/PageToken: not a page this API issued ({token or raw!r})")
    return int(raw), size


def _meta(request: Request, key: str, page: int, size: int, has_next: bool) -> dict[str, Any]:
    path = base_url(request) + request.url.path
    keep = [(k, v) for k, v in request.query_params.multi_items() if k not in ("Page", "PageSize", "PageToken")]

    def url(p: int) -> str:
        extra = [("PageToken", f"PT{p}")] if p else []
        return f"{path}?{urlencode([*keep, ('PageSize', str(size)), ('Page', str(p)), *extra])}"

    return {"page": page, "page_size": size, "first_page_url": url(0),
            "previous_page_url": url(page - 1) if page > 0 else None, "url": url(page),
            "next_page_url": url(page + 1) if has_next else None, "key": key}


def _twilio_conditions(request: Request) -> tuple[list[exp.Expr], bool, bool]:
    """The conditions of Twilio's parameters, whether they date the list, and whether they name a status."""
    params = request.query_params
    types = params.getlist("RoomType")
    for t in types:
        if t not in ROOM_TYPES:
            raise BadRequest(f"RoomType: {t!r} is not one of {', '.join(ROOM_TYPES)}")
    codecs = params.getlist("Codec")
    for c in codecs:
        if c not in CODECS:
            raise BadRequest(f"Codec: {c!r} is not one of {', '.join(CODECS)}")
    statuses = params.getlist("RoomStatus")
    for status in statuses:
        if status not in ROOM_STATUSES:
            raise BadRequest(f"RoomStatus: {status!r} is not one of in-progress, completed")
    created = {name: parse_time(name, params[name]) for name in ("CreatedAfter", "CreatedBefore") if params.get(name)}
    conds = room_queries.twilio_conditions(
        types=types, codecs=codecs, room_name=params.get("RoomName") or None,
        statuses=[ROOM_STATUSES[st].value for st in statuses], created_after=created.get("CreatedAfter"),
        created_before=created.get("CreatedBefore"))
    return conds, bool(created), bool(statuses)


@router.get("/v1/Video/Rooms", summary="List rooms (Twilio-compatible, with FIELD__OP filters)")
def list_rooms(request: Request, sc: Scope = Depends(scope)) -> dict[str, Any]:
    page, size = _page(request)
    rq: RoomQuery = parse_room_query(request.query_params.multi_items(), extra_allowed=TWILIO_PARAMS)
    if rq.page or rq.size != 50:
        raise BadRequest("_page/_size: use Page and PageSize on this endpoint")
    rq.page, rq.size = page, size
    conds, dated, status_given = _twilio_conditions(request)
    dated = dated or bool(rq.range or rq.since_ms is not None or rq.until_ms is not None)
    # Twilio's default list is the rooms completed in the last 24 hours; a status asked for explicitly
    # replaces that default rather than narrowing it (in-progress rooms would otherwise never list).
    status_given = status_given or any(f.field.name == "room_status" for f in rq.filters)
    svc = services(request)
    rows = rooms_q.list_rooms(svc.store, sc.account_sid, rq, extra=conds,
                              default_completed_24h=not (dated or status_given))
    base = base_url(request)
    return {"rooms": [rooms_q.room_json(r, base) for r in rows[:size]],
            "meta": _meta(request, "rooms", page, size, len(rows) > size)}


def _no_params(request: Request) -> None:
    for key in request.query_params:
        if key != "AccountSid":
            raise BadRequest(f"{key}: unknown parameter (this resource takes none)")


@router.get("/v1/Video/Rooms/{room_sid}", summary="Fetch a room summary")
def get_room(room_sid: str, request: Request, sc: Scope = Depends(scope)) -> dict[str, Any]:
    _no_params(request)
    sid = sid_param(room_sid, "RM", "room")
    return rooms_q.room_json(services(request).live.view(sc, sid).row, base_url(request))


@router.get("/v1/Video/Rooms/{room_sid}/Participants", summary="List a room's participants")
def list_participants(room_sid: str, request: Request, sc: Scope = Depends(scope)) -> dict[str, Any]:
    for key in request.query_params:
        if key not in ("PageSize", "Page", "PageToken", "AccountSid"):
            raise BadRequest(f"{key}: unknown parameter (this list takes paging only)")
    page, size = _page(request)  # the request's own mistakes first, then whether the room exists
    sid = sid_param(room_sid, "RM", "room")
    rows = services(request).live.view(sc, sid).participants(page, size)
    base = base_url(request)
    return {"participants": [rooms_q.participant_json(r, base) for r in rows[:size]],
            "meta": _meta(request, "participants", page, size, len(rows) > size)}


@router.get("/v1/Video/Rooms/{room_sid}/Participants/{participant_sid}", summary="Fetch a participant")
def get_participant(room_sid: str, participant_sid: str, request: Request,
                    sc: Scope = Depends(scope)) -> dict[str, Any]:
    _no_params(request)
    rsid = sid_param(room_sid, "RM", "room")
    psid = sid_param(participant_sid, "PA", "participant")
    row = _room_of(request, sc, rsid, psid).participant(psid)
    return rooms_q.participant_json(row, base_url(request))


@router.get("/v1/Video/Rooms/{room_sid}/Participants/{participant_sid}/Metrics",
            summary="A participant's 10-second send and receive quality metrics")
def get_metrics(room_sid: str, participant_sid: str, request: Request,
                sc: Scope = Depends(scope)) -> Response:
    _no_params(request)
    rsid = sid_param(room_sid, "RM", "room")
    psid = sid_param(participant_sid, "PA", "participant")
    return Response(metrics_json(_room_of(request, sc, rsid, psid), psid), media_type="application/json")


def _room_of(request: Request, sc: Scope, room_sid: str, participant_sid: str) -> RoomView:
    """The participant's room; a 404 that names the participant when there is no such room."""
    try:
        return services(request).live.view(sc, room_sid)
    except NotFound:
        raise NotFound(f"participant {participant_sid} not found in room {room_sid}") from None
