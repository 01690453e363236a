"""Ingest routes: the insights gateway (WebSocket and HTTP batch), Twilio status callbacks, dump imports."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import AsyncGenerator, Sequence
from concurrent.futures import Future
from typing import Annotated, Any
from urllib.parse import parse_qsl

import msgspec
import orjson
from fastapi import APIRouter, Depends, Request, Response, WebSocket, WebSocketDisconnect
from fastapi.responses import FileResponse
from starlette.datastructures import UploadFile
from starlette.formparsers import MultiPartException, MultiPartParser

from video_insights import __version__
from video_insights.accounts import find_account
from video_insights.analytics.rooms import Scope
from video_insights.errors import (
    BadRequest,
    Forbidden,
    PayloadTooLarge,
    Unauthorized,
    UnsupportedMedia,
    VideoInsightsError,
)
from video_insights.ingest import dump_import, twilio_callbacks
from video_insights.ingest.acks import CommitAcks
from video_insights.ingest.auth import TokenGrant, check_twilio_signature, verify_token
from video_insights.ingest.gateway import GatewaySession, NotJson
from video_insights.ingest.gateway_wire import EventMessage, field_error, message_seq
from video_insights.ingest.json_depth import check_depth
from video_insights.ingest.rejections import Reason
from video_insights.ingest.report_workers import Job
from video_insights.model.records import Event
from video_insights.model.vocabulary import RoomType
from video_insights.store.base import Row
from video_insights.web.deps import (
    COMMIT_TIMEOUT_S,
    accepting,
    committed,
    read_body,
    scope,
    services,
    stored_and_summarised,
)
from video_insights.web.pages.render import STATIC
from video_insights.web.ws_bursts import Bursts, Received

router = APIRouter(tags=["Ingest"])
log = logging.getLogger(__name__)
CONNECT_TIMEOUT_S = 30
MAX_WS_MESSAGE = 1_048_576
MAX_BATCH_MESSAGES = 1000
DUMP_EXPANSION = 16  # how far a gzip dump may expand: text dumps compress ~8-12x
IMPORT_PARAMS = ("FileName", "RoomName", "RoomType", "ParticipantIdentity", "AccountSid")
MULTIPART_OVERHEAD = 65_536  # part headers and small fields around the file


def _json(raw: bytes | str | memoryview, what: str) -> Any:
    check_depth(raw, what)
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
        session, token, connected = await asyncio.to_thread(svc.gateway.connect, _json(first, "message"))
        svc.pipeline.submit(events=[connected])
    except (TimeoutError, WebSocketDisconnect):
        await _close(ws, 1008)
        return
    except VideoInsightsError as e:
        await ws.send_text(orjson.dumps({"type": "error", "message": e.message}).decode())
        await _close(ws, 1008)
        return
    # The SIDs let a client that reconnects (our collector) come back as the same participant.
    await ws.send_text(orjson.dumps({"type": "connected", "session": token, "roomSid": session.room_sid,
                                     "participantSid": session.participant_sid}).decode())
    if svc.reports is not None:
        svc.reports.warm()
    acks = CommitAcks(ws.send_text, lambda: _close(ws, 1011))
    bursts = Bursts(lambda: _receive(ws))
    try:
        while True:
            _handle_ws_messages(svc, session, await bursts.next(), acks)
            # While the writer is behind, stop reading, so TCP pushes back on the clients instead of
            # this process buffering without bound.
            await svc.push_back.wait()
    except WebSocketDisconnect:
        return
    finally:
        await acks.close()


async def _receive(ws: WebSocket) -> str | bytes:
    """The next message, text or binary (UTF-8 JSON either way)."""
    message = await ws.receive()
    if message["type"] == "websocket.disconnect":
        raise WebSocketDisconnect(message.get("code", 1000))
    data: str | bytes | None = message.get("text")
    return data if data is not None else message.get("bytes") or b""


def _handle_ws_messages(svc: Any, session: GatewaySession, burst: Sequence[Received], acks: CommitAcks) -> None:
    """Store a burst of messages (web/ws_bursts.py) at once. Each is decoded on its own, and a bad one
    is counted without losing the others; the session's clock sees the whole burst before any of it is
    corrected (docs/api.md, "Client clocks"). Numbered messages (our collector's) are acknowledged
    once the burst is committed, a refused one with them (ingest/acks.py). Stats reports are parsed
    by the report workers when the server has them (ingest/report_workers.py): the burst is
    submitted, its events and commit future with it, once they are."""
    svc.gateway.received(len(burst))
    # One commit future for the burst, made before its messages are taken in order, so that every
    # number reaches `acks` in receive order whatever happens to the message after it.
    stored: Future[None] | None = None
    decoded: list[tuple[EventMessage, int]] = []
    for text, received in burst:
        seq: int | None = None
        readable = False  # within the size and depth limits: its seq may be looked for
        with _counted(svc, session) as refused:
            if len(text) > MAX_WS_MESSAGE:
                svc.gateway.rejections.add(Reason.TOO_LARGE, f"message: over {MAX_WS_MESSAGE} bytes",
                                           session.participant_sid)
                continue
            check_depth(text, "message")
            readable = True
            msg = svc.gateway.decode_event(text)
            seq = msg.seq
            acks.check(seq)
            decoded.append((msg, received))
            if seq is not None:
                stored = stored or Future()
                acks.add(seq, stored)
        if refused:
            acks.add(seq if seq is not None else message_seq(text) if readable else None, None)
    events: list[Event] = svc.gateway.clock_group(session, decoded) if decoded else []
    rows: list[Row] = []
    jobs: list[Job] = []
    workers = svc.reports
    for msg, received in decoded:
        with _counted(svc, session):  # refused here: acknowledged with the burst, as handled
            if workers is not None and (job := svc.gateway.report_job(session, msg, received_ms=received)):
                jobs.append(job)
                continue
            dropped: list[str] = []
            r, e = svc.gateway.records(session, msg, dropped=dropped, received_ms=received)
            for message in dropped:
                svc.gateway.rejections.add(Reason.MALFORMED_ENTRY, message, session.participant_sid)
            rows.extend(r)
            events.extend(e)
    if jobs:
        assert workers is not None
        workers.add(jobs, participant_sid=session.participant_sid, events=events,
                    room=(session.account_sid, session.room_sid), stored=stored)
    elif events or rows:
        svc.pipeline.submit(events=events, rows=rows, rooms=[(session.account_sid, session.room_sid)], stored=stored)
    elif stored is not None:
        stored.set_result(None)


class _counted:  # noqa: N801  (used as a function: `with _counted(svc, session) as refused`)
    """Count and log what goes wrong with one message, and go on with the next. What it yields is
    not empty afterwards if the message was refused. A class, not a generator: it runs twice for
    every message, and the generator's machinery cost more than the rest of the bookkeeping."""

    __slots__ = ("refused", "session", "svc")

    def __init__(self, svc: Any, session: GatewaySession) -> None:
        self.svc = svc
        self.session = session
        self.refused: list[str] = []

    def __enter__(self) -> list[str]:
        return self.refused

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None, tb: object) -> bool:
        if error is None:
            return False
        rejections = self.svc.gateway.rejections
        if isinstance(error, VideoInsightsError):
            # One bad event must not end the session: we count it and log why (twilio-video.js does not
            # expect an answer to events, so none is sent; our collector's is acknowledged, as handled).
            reason = (Reason.MALFORMED_JSON if isinstance(error, NotJson) else
                      Reason.BAD_SESSION if isinstance(error, Unauthorized) else Reason.MALFORMED_EVENT)
            rejections.add(reason, error.message, self.session.participant_sid)
        elif isinstance(error, Exception):
            # Nor may a bug in a parser: the event is lost, the session and the other events are not.
            reason = Reason.INTERNAL_ERROR
            rejections.add(reason, "see the traceback that follows", self.session.participant_sid)
            log.error("gateway event failed", exc_info=error)
        else:
            return False  # cancellation, KeyboardInterrupt: not the message's fault
        self.refused.append(reason)
        return True


async def _close(ws: WebSocket, code: int) -> None:
    with contextlib.suppress(RuntimeError):  # the client may have gone already
        await ws.close(code=code)


class Beacon(msgspec.Struct, forbid_unknown_fields=True):
    """The body `navigator.sendBeacon` posts: it cannot set an Authorization header, so the token
    travels beside the messages (and not in the URL, where access logs would keep it)."""

    token: Annotated[str, msgspec.Meta(min_length=1, max_length=8192)]
    messages: list[msgspec.Raw]


@router.post("/v1/VideoEvents", summary="Insights gateway events over HTTP: a JSON array of messages, or "
                                        "{token, messages} as the collector's sendBeacon posts it")
async def video_events_http(request: Request) -> dict[str, Any]:
    svc = services(request)
    accepting(svc)
    body = await read_body(request, svc.settings.max_body_bytes)
    if "token" in request.query_params:
        raise BadRequest("token: not accepted in the URL, where access logs keep it; send Authorization: "
                         "Bearer <token>, or a body {\"token\": …, \"messages\": […]}")
    check_depth(body, "body")
    header = request.headers.get("authorization", "")
    token = header[7:].strip() if header.lower().startswith("bearer ") else None
    beacon = None if token else _beacon(body)
    token = token or (beacon.token if beacon else None)
    if not token:
        raise Unauthorized("access token required: Authorization: Bearer <token>, or a body "
                           "{\"token\": …, \"messages\": […]}")
    grant = await asyncio.to_thread(verify_token, svc.store, token)  # before saying anything about the body
    messages = beacon.messages if beacon else _messages(body)
    if len(messages) > MAX_BATCH_MESSAGES:
        raise BadRequest(f"body: at most {MAX_BATCH_MESSAGES} messages per request")
    svc.gateway.received(len(messages))
    answer, stored = await asyncio.to_thread(_accept_batch, svc, token, grant, messages)
    await committed(stored)
    return answer


def _messages(body: bytes) -> list[msgspec.Raw]:
    try:
        decoded = msgspec.json.decode(body, type=list[msgspec.Raw] | dict[str, Any])
    except msgspec.ValidationError:
        raise BadRequest("body: expected a JSON array of event messages") from None
    except msgspec.DecodeError as e:
        raise BadRequest(f"body: malformed JSON ({e})") from None
    return [msgspec.Raw(body)] if isinstance(decoded, dict) else decoded


def _beacon(body: bytes) -> Beacon | None:
    """The body as a beacon when it is one (an object with `messages`); anything else is left to
    the batch parser, after the token check."""
    try:
        head = msgspec.json.decode(body, type=dict[str, msgspec.Raw])
    except (msgspec.ValidationError, msgspec.DecodeError):
        return None
    if "messages" not in head:
        return None
    try:
        return msgspec.json.decode(body, type=Beacon)
    except msgspec.ValidationError as e:
        raise BadRequest(field_error(e, "body")) from None


def _accept_batch(svc: Any, token: str, grant: TokenGrant, messages: list[msgspec.Raw]
                  ) -> tuple[dict[str, Any], Future[None]]:
    received = int(time.time() * 1000)
    rows: list[Row] = []
    rooms: set[tuple[str, str]] = set()
    events: list[Event] = []
    session: GatewaySession | None = None
    issued: str | None = None
    verified: dict[str, GatewaySession] = {}  # a batch repeats its session in every message: check it once
    decoded: list[tuple[str, GatewaySession, EventMessage]] = []
    for i, raw in enumerate(messages):  # validate everything first: nothing partial is stored
        path = f"body[{i}]"
        first = _json(memoryview(raw), path)
        if isinstance(first, dict) and first.get("type") == "connect":
            session, issued, connected = svc.gateway.connect({**first, "token": first.get("token") or token})
            events.append(connected)
            continue
        msg = svc.gateway.decode_event(raw, path)
        if msg.session and msg.session not in verified:
            verified[msg.session] = svc.gateway.session_from(msg.session, grant.account_sid)
        current = verified[msg.session] if msg.session else session
        if current is None:
            raise BadRequest(f"{path}.session: required (or start the array with a connect message)")
        decoded.append((path, current, msg))
    # The batch is one burst: each session's clock sees all its messages before any is corrected.
    groups: dict[int, tuple[GatewaySession, list[tuple[EventMessage, int]]]] = {}
    for _, current, msg in decoded:
        groups.setdefault(id(current), (current, []))[1].append((msg, received))
    for current, group in groups.values():
        events.extend(svc.gateway.clock_group(current, group))
    for path, current, msg in decoded:
        r, e = svc.gateway.records(current, msg, path, received_ms=received)
        rows.extend(r)
        events.extend(e)
        rooms.add((current.account_sid, current.room_sid))
    stored = svc.pipeline.submit_committed(events=events, rows=rows, rooms=sorted(rooms))
    return {"accepted": len(messages), "session": issued}, stored


# The collector under a name that changes with each release, so pages may cache it for good.
COLLECTOR_CACHE = {"Cache-Control": "public, max-age=31536000, immutable"}


@router.get(f"/static/collector-{__version__}.js", include_in_schema=False)
def collector_script() -> FileResponse:
    return FileResponse(STATIC / "collector.js", media_type="text/javascript", headers=COLLECTOR_CACHE)


@router.get(f"/static/collector-{__version__}.mjs", include_in_schema=False)
def collector_module() -> Response:
    # The module imports the classic script of its own version, not whatever collector.js is now.
    text = (STATIC / "collector.mjs").read_text().replace('"./collector.js"', f'"./collector-{__version__}.js"')
    return Response(text, media_type="text/javascript", headers=COLLECTOR_CACHE)


@router.post("/webhooks/twilio", summary="Twilio Room Status Callbacks (form-encoded)",
             operation_id="twilio_status_callback")
@router.get("/webhooks/twilio", summary="Twilio Room Status Callbacks (query parameters)",
            operation_id="twilio_status_callback_get")
async def twilio_webhook(request: Request) -> dict[str, Any]:
    svc = services(request)
    accepting(svc)
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
    if not account_sid:
        raise Forbidden("AccountSid: required (Twilio signs every callback with its account)")
    account = await asyncio.to_thread(find_account, svc.store, account_sid)
    # An unknown account is answered as a wrong signature is: the answer must not say which exist.
    check_twilio_signature(account.auth_token if account else None, url, signed,
                           request.headers.get("x-twilio-signature"))
    event = twilio_callbacks.to_event(params)
    await stored_and_summarised(svc.pipeline, events=[event])
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
    accepting(svc)
    params = request.query_params
    for key in params:
        if key not in IMPORT_PARAMS:
            raise BadRequest(f"{key}: unknown parameter (imports take {', '.join(IMPORT_PARAMS)})")
    room_type = params.get("RoomType", RoomType.GROUP)
    if room_type not in dump_import.ROOM_TYPES:
        raise BadRequest(f"RoomType: {room_type!r} is not one of {', '.join(dump_import.ROOM_TYPES)}")
    limit = svc.settings.max_import_bytes
    name = params.get("FileName", "")
    if request.headers.get("content-type", "").startswith("multipart/form-data"):
        data, filename = await _multipart_file(request, limit)
        name = name or filename
    else:
        data = await read_body(request, limit)
    if len(data) > limit:
        raise PayloadTooLarge(f"file: over the import limit of {limit} bytes")
    built = await asyncio.to_thread(
        dump_import.build, data, account_sid=sc.account_sid, file_name=name,
        room_name=params.get("RoomName"), room_type=room_type, identity=params.get("ParticipantIdentity"),
        max_bytes=DUMP_EXPANSION * svc.settings.max_import_bytes)
    stored = await asyncio.to_thread(dump_import.hold, svc.pipeline, built)
    # The importer reads the room next (the CLI prints it): its summary is waited for as long as the commit.
    await stored_and_summarised(svc.pipeline, COMMIT_TIMEOUT_S, samples=built.samples, events=built.events,
                                period_ms=built.period_ms)
    return stored.to_json()


async def _multipart_file(request: Request, limit: int) -> tuple[bytes, str]:
    """The `file` field of a multipart body, read within the limit (Starlette alone would spool any
    size to disk)."""
    body = await read_body(request, limit + MULTIPART_OVERHEAD)

    async def stream() -> AsyncGenerator[bytes, None]:
        yield body

    parser = MultiPartParser(request.headers, stream(), max_files=1, max_fields=16,
                             max_part_size=MULTIPART_OVERHEAD)
    try:
        form = await parser.parse()
    except MultiPartException as e:
        raise BadRequest(f"multipart body: {e.message}") from None
    try:
        upload = form.get("file")
        if not isinstance(upload, UploadFile):
            raise BadRequest("file: required (a multipart field named 'file')")
        return await upload.read(), upload.filename or ""
    finally:
        await form.close()
