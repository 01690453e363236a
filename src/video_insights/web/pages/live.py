"""The live view (`/live`) and the live streams behind it (Server-Sent Events).

- `/live`: the signed-in account's rooms in progress, worst first, a page at a time; the page's script
  (static/live.js) follows `/live/stream?page=N`, whose `board` events carry the page as JSON.
- `/live/rooms/{RoomSid}/participants/{ParticipantSid}/stream`: an in-progress participant's graph data
  (what its summary page draws) as `graphs` events, then `ended` once it has left.

Both are topics of the shared LiveHub (web/live_hub.py): one computation per account (or participant)
per tick, whatever the number of viewers. A stream sends an event only when what it shows changed, and
a comment line every HEARTBEAT_S otherwise (so that proxies keep it open).
"""

from __future__ import annotations

import time
from collections.abc import AsyncIterator, Callable
from functools import partial
from typing import Any

import orjson
from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, StreamingResponse

from video_insights.analytics.live_board import PAGE_SIZE, Board, BoardSource, thresholds_of
from video_insights.analytics.metrics import participant_metrics
from video_insights.analytics.rooms import Scope
from video_insights.errors import BadRequest, NotFound, Saturated
from video_insights.model import labels
from video_insights.model.vocabulary import ParticipantStatus
from video_insights.web.deps import Services, services, sid_param
from video_insights.web.live_hub import Closed, LiveHub
from video_insights.web.pages.participant import graph_data
from video_insights.web.pages.render import render
from video_insights.web.pages.room import no_params_but, viewed_room
from video_insights.web.pages.session import page_scope

router = APIRouter(include_in_schema=False)

HEARTBEAT_S = 15.0
# A participant's graphs are built from all its intervals: recomputed less often than the board (its
# points are 10 s apart anyway).
PARTICIPANT_TICKS = 5
SSE_HEADERS = {"Cache-Control": "no-store", "X-Accel-Buffering": "no"}


def _page_param(request: Request) -> int:
    raw = request.query_params.get("page", "0")
    if not (raw.isascii() and raw.isdigit()) or int(raw) > 100_000:
        raise BadRequest(f"page: must be a whole number from 0, got {raw!r}")
    return int(raw)


def _event(name: str, data: bytes) -> bytes:
    # orjson escapes line breaks inside strings, so the JSON is one line: one `data:` field.
    return b"event: " + name.encode() + b"\ndata: " + data + b"\n\n"


async def _follow(request: Request, hub: LiveHub, key: tuple[str, ...], compute: Callable[[], Any],
                  encode: Callable[[Any], tuple[str, bytes, bytes] | None], tick_s: float) -> AsyncIterator[bytes]:
    """The SSE stream of one viewer of a topic. `encode(snapshot)` gives (event name, what to compare
    with the last one sent, the data) or None when the topic has ended (the stream then closes)."""
    yield b"retry: 3000\n\n"
    try:
        async with hub.watch(key, compute, tick_s) as watch:
            sent: bytes | None = None
            problem: str | None = None
            last_write = time.monotonic()
            while True:
                snapshot = await watch.next(HEARTBEAT_S)
                if await request.is_disconnected():
                    return
                if watch.error != problem:
                    problem = watch.error
                    yield _event("problem", orjson.dumps({"message": problem}))
                encoded = encode(snapshot) if snapshot is not None else ("", sent or b"", b"")
                if encoded is None:
                    yield _event("ended", b"{}")
                    return
                name, basis, data = encoded
                if name and basis != sent:
                    sent, last_write = basis, time.monotonic()
                    yield _event(name, data)
                elif time.monotonic() - last_write >= HEARTBEAT_S:
                    last_write = time.monotonic()
                    yield b": still here\n\n"
    except Closed:
        yield _event("bye", b"{}")
    except Saturated as e:
        yield _event("problem", orjson.dumps({"message": e.message}))


def _stream(request: Request, svc: Services, key: tuple[str, ...], compute: Callable[[], Any],
            encode: Callable[[Any], tuple[str, bytes, bytes] | None], ticks: int = 1) -> StreamingResponse:
    svc.live_hub.check_capacity()  # refused with a status while it still can be
    return StreamingResponse(_follow(request, svc.live_hub, key, compute, encode, svc.settings.live_tick_s * ticks),
                             media_type="text/event-stream", headers=SSE_HEADERS)


@router.get("/live", response_class=HTMLResponse)
def live_page(request: Request, scope: Scope = Depends(page_scope)) -> HTMLResponse:
    no_params_but(request, "page")
    page = _page_param(request)
    return render(request, "live.html", {"title": "Live", "page": page, "page_size": PAGE_SIZE,
                                         "stream_url": f"/live/stream?page={page}",
                                         "issue_titles": labels.ISSUE_TITLES, "room_types": labels.ROOM_TYPES})


def _board_page(page: int, board: Board) -> tuple[str, bytes, bytes]:
    body = board.page(page)
    # The server's clock rides along outside what is compared: durations run on it in the browser.
    return "board", body, b'{"now_ms":' + str(board.now_ms).encode() + b"," + body[1:]


@router.get("/live/stream")
def live_stream(request: Request, scope: Scope = Depends(page_scope)) -> StreamingResponse:
    no_params_but(request, "page")
    page = _page_param(request)
    svc = services(request)
    account = scope.account_sid
    return _stream(request, svc, ("board", account), BoardSource(svc.store, svc.settings, account),
                   partial(_board_page, page))


def participant_graphs(svc: Services, account: str, room_sid: str, participant_sid: str) -> dict[str, Any] | None:
    """What the participant page draws, computed now; None once the participant is no longer in progress."""
    view = svc.live.view(Scope(account, frozenset({account})), room_sid)
    row = view.participant(participant_sid)
    if not view.live or row["status"] != ParticipantStatus.IN_PROGRESS:
        return None
    metrics = participant_metrics(view, participant_sid)
    return graph_data(metrics, view.tracks(participant_sid), row, thresholds_of(svc.store, svc.settings, account))


_ENDED = {"ended": True}


def _graphs_event(snapshot: dict[str, Any]) -> tuple[str, bytes, bytes] | None:
    if snapshot is _ENDED:
        return None
    body = orjson.dumps(snapshot)
    return "graphs", body, body


@router.get("/live/rooms/{room_sid}/participants/{participant_sid}/stream")
def participant_stream(room_sid: str, participant_sid: str, request: Request,
                       scope: Scope = Depends(page_scope)) -> StreamingResponse:
    no_params_but(request)
    svc = services(request)
    view = viewed_room(request, scope, room_sid)
    psid = sid_param(participant_sid, "PA", "participant")
    view.participant(psid)  # a 404 for a participant the room does not have
    account = view.account_sid

    def compute() -> dict[str, Any]:
        try:
            return participant_graphs(svc, account, view.room_sid, psid) or _ENDED
        except NotFound:  # gone (retention) since: nothing more to show
            return _ENDED

    return _stream(request, svc, ("participant", account, view.room_sid, psid), compute, _graphs_event,
                   PARTICIPANT_TICKS)
