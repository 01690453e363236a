"""The insights gateway protocol of twilio-video.js (and of our collector script).

A client opens a session with a `connect` message carrying an access token; the session string we
answer with is signed with the token's API key secret and carries the account, room and participant,
so that any server process can accept the session's events (no per-process state is required).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import msgspec
import orjson

from video_insights.accounts import find_key
from video_insights.errors import BadRequest, Forbidden, Unauthorized
from video_insights.ingest import livekit
from video_insights.ingest import validate as v
from video_insights.ingest.auth import TokenGrant, verify_token
from video_insights.ingest.clock import MAX_CORRECTION_MS, ClientClock
from video_insights.ingest.gateway_wire import EventMessage, field_error, stats_payload_rows
from video_insights.ingest.rejections import Rejections
from video_insights.ingest.report_workers import Job
from video_insights.model.ids import derived_sid, is_sid, normalise_sid, room_sid_for_name
from video_insights.model.records import Event, Source
from video_insights.model.vocabulary import RoomStatus, RoomType
from video_insights.processing import lifecycle as lc
from video_insights.processing.intervals import GATEWAY_PERIOD_MS
from video_insights.query import events as event_queries
from video_insights.query import participants as participant_queries
from video_insights.query import rooms as room_queries
from video_insights.settings import Settings
from video_insights.store.base import Row, Store

ROOM_TYPES = {t.value for t in RoomType}
_EVENT_DECODER = msgspec.json.Decoder(EventMessage)
MAX_UA_DATA_BYTES = 4096
_DAY_MS = 86_400_000


@dataclass(frozen=True)
class GatewaySession:
    account_sid: str
    key_sid: str
    room_sid: str
    participant_sid: str
    identity: str | None
    # Not in the session string: a WebSocket keeps one for its life, an HTTP batch one per request, each
    # started from the participant's last recorded offset (`Gateway.resume_clock`).
    clock: ClientClock = field(default_factory=ClientClock, compare=False, repr=False)

    def encode(self, secret: str) -> str:
        body = base64.urlsafe_b64encode(orjson.dumps(
            [self.account_sid, self.key_sid, self.room_sid, self.participant_sid, self.identity])).decode()
        sig = hmac.new(secret.encode(), body.encode(), hashlib.sha256).hexdigest()[:32]
        return f"{body}.{sig}"


class NotJson(BadRequest):
    """A message that is not JSON at all (told apart from a malformed one in the rejection counts)."""


LIVEKIT_PARTICIPANT = re.compile(r"PA_[A-Za-z0-9]{1,64}")


class Gateway:
    def __init__(self, store: Store, settings: Settings) -> None:
        self.store = store
        self.settings = settings
        self.rejections = Rejections()
        self._received = 0  # messages after connect, good or not: with `rejections`, what /metrics shows
        self._received_lock = threading.Lock()  # the event loop and batch threads both count

    def received(self, messages: int = 1) -> None:
        with self._received_lock:
            self._received += messages

    @property
    def messages_received(self) -> int:
        return self._received

    @property
    def rejected(self) -> int:
        """Events and stats entries refused since start, whatever the reason."""
        return self.rejections.total

    # -- connect ---------------------------------------------------------------------------------
    def connect(self, message: Any) -> tuple[GatewaySession, str, Event]:
        """Validate a connect message: the session, its opaque string, and the event to store."""
        msg = v.obj(message, "message")
        if msg.get("type") != "connect":
            raise BadRequest(f"message.type: expected 'connect' first, got {msg.get('type')!r}")
        token = v.req_str(msg, "token", "message", max_len=8192)
        grant = verify_token(self.store, token)
        publisher = v.obj(msg.get("publisher", {}), "message.publisher")
        for key in ("name", "sdkVersion", "userAgent", "participantSid", "roomSid", "roomName", "roomType",
                    "identity", "region", "hwDeviceManufacturer", "hwDeviceModel", "hwDeviceType",
                    "platformName", "platformVersion"):
            v.opt_str(publisher, key, "message.publisher", max_len=2048)
        ua_data = self._ua_data(publisher.get("userAgentData"))
        now = int(time.time() * 1000)
        room_type = publisher.get("roomType")
        if room_type is not None and room_type not in ROOM_TYPES:
            raise BadRequest(f"message.publisher.roomType: expected one of {sorted(ROOM_TYPES)}, got {room_type!r}")
        identity = grant.identity or publisher.get("identity")
        room_sid, room_name = self._room(grant, publisher)
        participant_sid = self._participant(grant, publisher, room_sid, identity, now)
        session = GatewaySession(grant.account_sid, grant.key_sid, room_sid, participant_sid, identity)
        self.resume_clock(session)
        signing_key = find_key(self.store, grant.key_sid)
        assert signing_key is not None  # verify_token found it
        payload: dict[str, Any] = {"publisher": {k: val for k, val in publisher.items() if k != "token"},
                                   "identity": identity, "room_name": room_name, "room_type": room_type,
                                   "user_agent_data": ua_data,
                                   "signaling_region": publisher.get("region") or self.settings.region or None}
        event = Event(session.account_sid, room_sid, participant_sid, now, Source.GATEWAY, lc.SESSION_CONNECT, payload)
        return session, session.encode(signing_key.secret), event

    @staticmethod
    def _ua_data(value: Any) -> dict[str, Any] | None:
        """Our collector's navigator.userAgentData values: the real OS version and device model."""
        if value is None:
            return None
        path = "message.publisher.userAgentData"
        data = v.obj(value, path)
        try:
            size = len(orjson.dumps(data))
        except orjson.JSONEncodeError:
            size = MAX_UA_DATA_BYTES + 1
        if size > MAX_UA_DATA_BYTES:
            raise BadRequest(f"{path}: over {MAX_UA_DATA_BYTES} bytes of JSON")
        return data

    def _room(self, grant: TokenGrant, publisher: dict[str, Any]) -> tuple[str, str | None]:
        """The session's room. A token whose video grant names a room (by name, or by SID) is good for
        that room only, as with Twilio: a connect naming another gets a 403 (docs/security.md)."""
        sid = publisher.get("roomSid")
        if sid and not is_sid(sid, "RM"):
            raise BadRequest(f"message.publisher.roomSid: expected RM followed by 32 hex digits, got {sid!r}")
        if grant.room and is_sid(grant.room, "RM"):
            if sid and normalise_sid(sid) != normalise_sid(grant.room):
                raise Forbidden(f"message.publisher.roomSid: the access token is for room {grant.room}, not {sid}")
            sid = grant.room
        elif grant.room:
            asked = publisher.get("roomName")
            if asked and asked != grant.room:
                raise Forbidden(f"message.publisher.roomName: the access token is for room {grant.room!r}, "
                                f"not {asked!r}")
            stored = self._room_name(grant.account_sid, normalise_sid(sid)) if sid else None
            if stored is not None and stored != grant.room:
                raise Forbidden(f"message.publisher.roomSid: room {sid} is not {grant.room!r}, the room the "
                                "access token is for")
        name = publisher.get("roomName") or (grant.room if grant.room and not is_sid(grant.room, "RM") else None)
        if sid:
            return normalise_sid(sid), name
        if not name:
            raise BadRequest("message.publisher: give roomSid or roomName (or a token with a video room grant)")
        return self.room_for_name(grant.account_sid, name), name

    def _room_name(self, account: str, room_sid: str) -> str | None:
        _, rows = self.store.fetch(room_queries.room_name(account, room_sid))
        return str(rows[0][0]) if rows and rows[0][0] is not None else None

    def room_for_name(self, account: str, name: str) -> str:
        """The in-progress room of that name, else the name's next instance: the name's own SID the
        first time, then (apps reuse names: "standup") one derived from the instance before it.

        Only what is stored decides, so every process gives the same SID: collectors of one call that
        connect by name to different processes meet in one room, and a second connection moments after
        the first (its room not summarised yet) finds the same SID the first was given."""
        _, rows = self.store.fetch(room_queries.latest_named(account, name))
        if not rows:
            return room_sid_for_name(account, name)
        sid, status = str(rows[0][0]), rows[0][1]
        return sid if status == RoomStatus.IN_PROGRESS else derived_sid("RM", account, name, "after", sid)

    def _participant(self, grant: TokenGrant, publisher: dict[str, Any], room_sid: str, identity: str | None,
                     now: int) -> str:
        sid = publisher.get("participantSid")
        if sid:
            if not is_sid(sid, "PA"):
                raise BadRequest(f"message.publisher.participantSid: expected PA followed by 32 hex digits, "
                                 f"got {sid!r}")
            return normalise_sid(sid)
        livekit_sid = publisher.get("livekitParticipantSid")
        if livekit_sid is not None:
            # The SID LiveKit's webhooks give this participant: whichever of the two arrives first,
            # both describe one participant.
            if not isinstance(livekit_sid, str) or not LIVEKIT_PARTICIPANT.fullmatch(livekit_sid):
                raise BadRequest("message.publisher.livekitParticipantSid: expected LiveKit's participant SID "
                                 f"(PA_ and up to 64 letters and digits), got {livekit_sid!r}")
            return livekit.participant_sid(grant.account_sid, livekit_sid)
        if identity:
            # A webhook (LiveKit's participant_joined) may have announced this person already: the
            # telemetry then describes that participant rather than a second one.
            _, rows = self.store.fetch(participant_queries.in_progress_by_identity(grant.account_sid, room_sid,
                                                                                   identity))
            if rows:
                return str(rows[0][0])
        return derived_sid("PA", grant.account_sid, room_sid, identity or "", str(now))

    # -- events ----------------------------------------------------------------------------------
    def session_from(self, text: Any, account_sid: str | None = None) -> GatewaySession:
        if not isinstance(text, str) or "." not in text:
            raise Unauthorized("message.session: missing or malformed (send a connect message first)")
        body, sig = text.rsplit(".", 1)
        try:
            account, key_sid, room, participant, identity = orjson.loads(base64.urlsafe_b64decode(body))
        except (ValueError, TypeError):
            raise Unauthorized("message.session: malformed") from None
        key = find_key(self.store, key_sid) if isinstance(key_sid, str) else None
        expected = hmac.new(key.secret.encode(), body.encode(), hashlib.sha256).hexdigest()[:32] if key else ""
        if key is None or not hmac.compare_digest(expected.encode(), sig.encode("utf-8", "surrogatepass")):
            raise Unauthorized("message.session: not issued by this service")
        if account_sid is not None and account != account_sid:
            raise Unauthorized("message.session: belongs to another account than the access token")
        session = GatewaySession(account, key_sid, room, participant, identity)
        self.resume_clock(session)
        return session

    def resume_clock(self, session: GatewaySession) -> None:
        """Start the session's clock at the offset its participant's last `session/clock` event
        recorded: a reconnect, or messages resent after a restart, get the correction they had, and the
        store's de-duplication (by time) recognises them."""
        if not self.settings.client_clock_correction:
            return
        _, rows = self.store.fetch(event_queries.latest_payload(session.account_sid, session.room_sid,
                                                                session.participant_sid, lc.CLIENT_CLOCK))
        if rows and rows[0][0]:
            offset = orjson.loads(rows[0][0]).get("clock_offset_ms")
            if isinstance(offset, int) and abs(offset) <= MAX_CORRECTION_MS:
                session.clock.applied = offset

    @staticmethod
    def decode_event(raw: bytes | str, path: str = "message") -> EventMessage:
        """Decode and check one event message's envelope (its payload is read by `records`)."""
        try:
            msg = _EVENT_DECODER.decode(raw)
        except (msgspec.ValidationError, msgspec.DecodeError) as e:
            if isinstance(e, msgspec.ValidationError):
                raise BadRequest(field_error(e, path)) from None
            raise NotJson(f"{path}: malformed JSON ({e})") from None
        if msg.type != "event":
            raise BadRequest(f"{path}.type: expected 'event', got {msg.type!r}")
        if not msg.group or not msg.name:
            raise BadRequest(f"{path}.{'group' if not msg.group else 'name'}: required")
        return msg

    def clock_group(self, session: GatewaySession, group: Sequence[tuple[EventMessage, int]]) -> list[Event]:
        """Show the session's clock a group of messages that arrived together, (message, received_ms)
        each, before any of them is turned into records: the group's newest message bounds the offset of
        its oldest (docs/api.md, "Client clocks"). When the applied offset moves, the `session/clock`
        event that records it, with the estimate and the raw times of the message that set it."""
        if not self.settings.client_clock_correction:
            return []
        clock = session.clock
        for msg, received in group:
            if msg.timestamp is not None:
                clock.observe(msg.timestamp, received)
        by = clock.estimated_by
        if by is None or not clock.update():
            return []
        sent, received = by
        payload = {"clock_offset_ms": clock.applied, "estimate_ms": clock.estimate, "client_timestamp_ms": sent,
                   "received_ms": received}
        return [Event(session.account_sid, session.room_sid, session.participant_sid, received, Source.GATEWAY,
                      lc.CLIENT_CLOCK, payload)]

    def records(self, session: GatewaySession, msg: EventMessage, path: str = "message",
                dropped: list[str] | None = None, received_ms: int | None = None) -> tuple[list[Row], list[Event]]:
        """The stream_samples rows or the event one decoded message carries, its times put on the
        server's clock by the session's applied offset (its group went through `clock_group` first).

        Without `dropped`, anything malformed rejects the message (BadRequest), as an HTTP batch is all
        or nothing. With it, a malformed stats-report entry is left out, its reason appended there, and
        the report's other entries are kept: only a message that is unusable as a whole raises."""
        received = int(time.time() * 1000) if received_ms is None else received_ms
        offset = session.clock.applied
        ts = self._timestamp(msg.timestamp, path, offset, received)
        if msg.group == "quality" and msg.name == "stats-report":
            try:
                return stats_payload_rows(msg.payload, account_sid=session.account_sid, room_sid=session.room_sid,
                                          participant_sid=session.participant_sid, ts_ms=ts,
                                          period_ms=GATEWAY_PERIOD_MS, path=f"{path}.payload", dropped=dropped,
                                          offset_ms=offset), []
            except ValueError as e:
                raise BadRequest(str(e)) from None
        payload = v.obj(msgspec.json.decode(msg.payload), f"{path}.payload")
        if msg.group == "room" and msg.name == "disconnected":
            payload.setdefault("identity", session.identity)
        return [], [Event(session.account_sid, session.room_sid, session.participant_sid, ts, Source.GATEWAY,
                          f"{msg.group}/{msg.name}", payload)]

    def report_job(self, session: GatewaySession, msg: EventMessage, path: str = "message",
                   received_ms: int | None = None) -> Job | None:
        """A stats-report message as a job for the report workers (ingest/report_workers.py), its time
        checked and put on the server's clock as `records` does; None for any other message."""
        if msg.group != "quality" or msg.name != "stats-report":
            return None
        received = int(time.time() * 1000) if received_ms is None else received_ms
        offset = session.clock.applied
        ts = self._timestamp(msg.timestamp, path, offset, received)
        return (session.account_sid, session.room_sid, session.participant_sid, ts, offset, bytes(msg.payload),
                f"{path}.payload")

    @staticmethod
    def _timestamp(ts: float | None, path: str, offset: int, now: int) -> int:
        """The message's time on the server's clock, checked to be within the last week."""
        if ts is None:
            return now
        at = ts + offset
        if not (now - 8 * _DAY_MS <= at <= now + _DAY_MS):
            raise BadRequest(f"{path}.timestamp: {ts:.0f} is not a time within the last week (ms since epoch)"
                             f"{_how_far_off(ts, now)}")
        return int(at)


def _how_far_off(ts: float, now: int) -> str:
    """Why a timestamp is refused: how far the client's clock would be off, and a likely cause."""
    off = now - ts
    if abs(off) <= MAX_CORRECTION_MS:
        return ""
    days = abs(off) / _DAY_MS
    amount = f"{days / 365.25:.0f} years" if days >= 730 else f"{days:.0f} days"
    why = f" (the client's clock would be {amount} {'behind' if off > 0 else 'ahead of'} the server's: " \
          "more than a day off is not corrected"
    if abs(now - ts * 1000) <= MAX_CORRECTION_MS:
        why += "; this looks like seconds, not milliseconds"
    return why + ")"
