"""Ingest routes: the insights gateway (WebSocket and HTTP batch), Twilio status callbacks, dump imports."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from typing import Any
from urllib.parse import parse_qsl

import orjson
from fastapi import APIRouter, Depends, Request, WebSocket, WebSocketDisconnect
from starlette.datastructures import UploadFile

from video_insights.accounts import find_account
from video_insights.analytics.rooms import Scope
from video_insights.errors import BadRequest, Forbidden, Unauthorized, UnsupportedMedia, VideoInsightsError
from video_insights.ingest import dump_import, twilio_callbacks
from video_insights.ingest.auth import check_twilio_signature, verify_token
from video_insights.ingest.gateway import GatewaySession
from video_insights.model.records import Event, StreamSample
from video_insights.web.deps import read_body, scope, services

router = APIRouter(tags=["Ingest"])
log = logging.getLogger(__name__)
CONNECT_TIMEOUT_S = 30
MAX_WS_MESSAGE = 1_048_576
MAX_BATCH_MESSAGES = 1000


def _json(raw: bytes | str, what: str) -> Any:
    try:
        return orjson.loads(raw)
    except orjson.JSONDecodeError as e:
        raise BadRequest(f"{what}: malformed JSON ({e})") from None


@router.websocket("/v1/VideoEvents")
async def video_events_ws(ws: WebSocket) -> None:
    await ws.accept()
    svc = ws.app.state.services
    try:
        first = await asyncio.wait_for(_receive(ws), timeout=CONNECT_TIMEOUT_S)
        session, token = await asyncio.to_thread(svc.gateway.connect, _json(first, "message"))
    except (TimeoutError, WebSocketDisconnect):
        await _close(ws, 1008)
        return
    except VideoInsightsError as e:
        await ws.send_text(orjson.dumps({"type": "error", "message": e.message}).decode())
        await _close(ws, 1008)
        return
    await ws.send_text(orjson.dumps({"type": "connected", "session": token}).decode())
    try:
        while True:
            _handle_ws_message(svc, session, await _receive(ws))
    except WebSocketDisconnect:
        return


async def _receive(ws: WebSocket) -> str | bytes:
    """The next message, text or binary (UTF-8 JSON either way)."""
    message = await ws.receive()
    if message["type"] == "websocket.disconnect":
        raise WebSocketDisconnect(message.get("code", 1000))
    data: str | bytes | None = message.get("text")
    return data if data is not None else message.get("bytes") or b""


def _handle_ws_message(svc: Any, session: GatewaySession, text: str | bytes) -> None:
    try:
        if len(text) > MAX_WS_MESSAGE:
            raise BadRequest(f"message: over {MAX_WS_MESSAGE} bytes")
        samples, events = svc.gateway.parse_event(session, _json(text, "message"))
        svc.pipeline.submit(samples, events)
    except VideoInsightsError as e:
        # One bad event must not end the session; the client hears why, and we count it.
        svc.gateway.rejected += 1
        log.info("gateway event rejected: %s", e.message)


async def _close(ws: WebSocket, code: int) -> None:
    with contextlib.suppress(RuntimeError):  # the client may have gone already
        await ws.close(code=code)


@router.post("/v1/VideoEvents", summary="Insights gateway events over HTTP (a JSON array of messages)")
async def video_events_http(request: Request) -> dict[str, Any]:
    svc = services(request)
    body = await read_body(request, svc.settings.max_body_bytes)
    header = request.headers.get("authorization", "")
    token = header[7:].strip() if header.lower().startswith("bearer ") else request.query_params.get("token")
    if not token:
        raise Unauthorized("access token required: Authorization: Bearer <token> (or ?token=)")
    messages = _json(body, "body")
    if isinstance(messages, dict):
        messages = [messages]
    if not isinstance(messages, list):
        raise BadRequest("body: expected a JSON array of event messages")
    if len(messages) > MAX_BATCH_MESSAGES:
        raise BadRequest(f"body: at most {MAX_BATCH_MESSAGES} messages per request")
    return await asyncio.to_thread(_accept_batch, svc, token, messages)


def _accept_batch(svc: Any, token: str, messages: list[Any]) -> dict[str, Any]:
    grant = verify_token(svc.store, token)
    samples: list[StreamSample] = []
    events: list[Event] = []
    session: GatewaySession | None = None
    issued: str | None = None
    for i, msg in enumerate(messages):  # validate everything first: nothing partial is stored
        path = f"body[{i}]"
        if isinstance(msg, dict) and msg.get("type") == "connect":
            session, issued = svc.gateway.connect({**msg, "token": msg.get("token") or token})
            continue
        if not isinstance(msg, dict):
            raise BadRequest(f"{path}: expected an object")
        current = svc.gateway.session_from(msg.get("session"), grant.account_sid) if msg.get("session") \
            else session
        if current is None:
            raise BadRequest(f"{path}.session: required (or start the array with a connect message)")
        s, e = svc.gateway.parse_event(current, msg, path)
        samples.extend(s)
        events.extend(e)
    svc.pipeline.submit(samples, events)
    return {"accepted": len(messages), "session": issued}


@router.api_route("/webhooks/twilio", methods=["GET", "POST"], summary="Twilio Room Status Callbacks")
async def twilio_webhook(request: Request) -> dict[str, Any]:
    svc = services(request)
    body = await read_body(request, svc.settings.max_body_bytes)
    if request.method == "POST":
        ctype = request.headers.get("content-type", "")
        if "application/x-www-form-urlencoded" not in ctype:
            raise UnsupportedMedia("status callbacks are form-encoded (application/x-www-form-urlencoded)")
        try:
            pairs = parse_qsl(body.decode(), keep_blank_values=True, strict_parsing=False)
        except UnicodeDecodeError:
            raise BadRequest("body: not UTF-8 form data") from None
        signed: dict[str, str] = dict(pairs)
        url = _public_url(request)
    else:
        signed = {}
        pairs = list(request.query_params.multi_items())
        url = _public_url(request)
    params = dict(pairs)
    account_sid = params.get("AccountSid", "")
    account = await asyncio.to_thread(find_account, svc.store, account_sid) if account_sid else None
    if account is None:
        raise Forbidden("AccountSid: not an account registered here (register it with `accounts create "
                        "--sid … --auth-token …`)")
    check_twilio_signature(account.auth_token, url, signed, request.headers.get("x-twilio-signature"))
    event = twilio_callbacks.to_event(params)
    await asyncio.to_thread(svc.pipeline.write_now, (), [event])
    return {"accepted": True, "event": event.name, "room_sid": event.room_sid}


def _public_url(request: Request) -> str:
    configured = services(request).settings.public_url
    if not configured:
        return str(request.url)
    query = f"?{request.url.query}" if request.url.query else ""
    return configured.rstrip("/") + request.url.path + query


@router.post("/v1/Video/Imports", summary="Import a webrtc-internals or rtcstats dump")
async def import_dump(request: Request, sc: Scope = Depends(scope)) -> dict[str, Any]:
    svc = services(request)
    ctype = request.headers.get("content-type", "")
    name = request.query_params.get("FileName", "")
    if ctype.startswith("multipart/form-data"):
        form = await request.form(max_files=1, max_part_size=svc.settings.max_import_bytes)
        upload = form.get("file")
        if not isinstance(upload, UploadFile):
            raise BadRequest("file: required (a multipart field named 'file')")
        data = await upload.read(svc.settings.max_import_bytes + 1)
        name = name or upload.filename or ""
    else:
        data = await read_body(request, svc.settings.max_import_bytes)
    if len(data) > svc.settings.max_import_bytes:
        raise BadRequest(f"file: over the import limit of {svc.settings.max_import_bytes} bytes")
    params = request.query_params
    built = await asyncio.to_thread(
        dump_import.build, data, account_sid=sc.account_sid, file_name=name,
        room_name=params.get("RoomName"), room_type=params.get("RoomType", "group"),
        identity=params.get("ParticipantIdentity"))
    await asyncio.to_thread(svc.pipeline.write_now, built.samples, built.events, period_ms=built.period_ms)
    return built.result.to_json()
