"""LiveKit webhooks: find the key that signed one, verify it, store what it says."""

from __future__ import annotations

import asyncio
from typing import Any

from fastapi import APIRouter, Request

from video_insights.accounts import find_account, find_key_by_livekit
from video_insights.errors import Forbidden, UnsupportedMedia
from video_insights.ingest import livekit
from video_insights.ingest.json_depth import check_depth
from video_insights.web.deps import Services, accepting, read_body, services, stored_and_summarised

router = APIRouter(tags=["Ingest"])


def _bindings(request: Request, svc: Services) -> livekit.RoomBindings:
    """The app's LiveKit room bindings, made on first use. Rooms are matched by name through the
    gateway's own resolution, so a collector naming the room and the webhooks meet in one room."""
    bindings: livekit.RoomBindings | None = getattr(request.app.state, "livekit_rooms", None)
    if bindings is None:
        bindings = request.app.state.livekit_rooms = livekit.RoomBindings(svc.store, svc.gateway.room_for_name)
    return bindings


@router.post("/webhooks/livekit", summary="LiveKit webhooks (protobuf-JSON, signed JWT)",
             operation_id="livekit_webhook")
async def livekit_webhook(request: Request) -> dict[str, Any]:
    svc = services(request)
    accepting(svc)
    body = await read_body(request, svc.settings.max_body_bytes)
    check_depth(body, "body")
    ctype = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if ctype not in livekit.CONTENT_TYPES:
        raise UnsupportedMedia(f"Content-Type: LiveKit webhooks are application/webhook+json, got {ctype or 'none'!r}")
    token, api_key = livekit.webhook_token(request.headers.get("authorization"))
    key = await asyncio.to_thread(find_key_by_livekit, svc.store, api_key)
    if key is None:
        raise Forbidden(livekit.UNKNOWN_SIGNER)
    livekit.verify_webhook(body, token, api_key, key.secret)
    account = await asyncio.to_thread(find_account, svc.store, key.account_sid)
    room_type = livekit.room_type_of(account.settings if account else None)
    resolve = _bindings(request, svc).resolver(key.account_sid)
    name, events = await asyncio.to_thread(livekit.to_events, body, key.account_sid, resolve, room_type=room_type)
    if events:
        await stored_and_summarised(svc.pipeline, events=events)
    return {"accepted": bool(events), "event": name, "room_sid": events[-1].room_sid if events else None}
