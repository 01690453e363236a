"""LiveKit webhooks → the same lifecycle events the Twilio status callbacks produce.

LiveKit posts protobuf-JSON (camelCase keys, int64 as strings, enums by name, default values left
out) with `Authorization: <JWT>`: HS256 with the API secret, `iss` the API key, and a `sha256` claim
holding the base64 SHA-256 of the body. Verification and mapping here are pure: the route finds the
key, this module checks the signature and turns one body into events.

LiveKit has no Twilio SIDs. A LiveKit room is matched to ours by name, as the collector's rooms are
(the gateway's name resolution: the in-progress room of that name, else the name's own SID unless
that room has ended), once: `RoomBindings` then keeps LiveKit's room id (`RM_…`, new with every
instance of a name) bound to that SID, so that late, repeated or reordered webhooks of one instance
land in one room and the next "standup" in a new one. Participants, tracks and recordings derive
theirs from LiveKit's ids (a participant's `PA_…` is new with every connection). Every event carrying
a participant also restates its join (and one carrying a room, the room's creation) with exactly the
content participant_joined (room_started) gives: the pipeline keys events by content, so these
collapse into one, and a dropped participant_joined or room_started costs nothing.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from typing import Annotated, Any

import jwt
import msgspec

from video_insights.errors import BadRequest, Forbidden
from video_insights.ingest.auth import CLOCK_SKEW_S
from video_insights.ingest.gateway_wire import field_error
from video_insights.ingest.twilio_callbacks import EARLIEST_MS, MAX_SKEW_MS
from video_insights.model.ids import derived_sid
from video_insights.model.records import Event, Source
from video_insights.model.vocabulary import ParticipantEndReason, RoomType
from video_insights.processing import lifecycle as lc
from video_insights.query import events as event_queries
from video_insights.store.base import Store

CONTENT_TYPES = ("application/webhook+json", "application/json")
# (LiveKit room id, room name, event time in ms) → our room SID.
RoomResolver = Callable[[str, str, int], str]
BINDING_WINDOW_MS = 8 * 86_400_000  # how far apart two webhooks of one room may be: past any retention
_I64 = Annotated[int, msgspec.Meta(ge=0, le=2**63 - 1)]
_Id = Annotated[str, msgspec.Meta(max_length=256)]
_Text = Annotated[str, msgspec.Meta(max_length=1024)]
_Enum = Annotated[int, msgspec.Meta(ge=0, le=2**31)] | _Id  # protobuf-JSON: an enum's name, or its number


class _Codec(msgspec.Struct, rename="camel"):
    mime_type: _Id = ""
    cid: _Id = ""


class Room(msgspec.Struct, rename="camel"):
    sid: _Id = ""
    name: _Text = ""
    max_participants: _I64 = 0
    creation_time: _I64 = 0  # seconds
    creation_time_ms: _I64 = 0


class Participant(msgspec.Struct, rename="camel"):
    sid: _Id = ""
    identity: _Text = ""
    joined_at: _I64 = 0  # seconds
    joined_at_ms: _I64 = 0
    region: _Id = ""
    kind: _Enum = 0
    disconnect_reason: _Enum = 0


class Track(msgspec.Struct, rename="camel"):
    sid: _Id = ""
    type: _Enum = 0
    name: _Text = ""
    source: _Enum = 0
    mime_type: _Id = ""


class _Output(msgspec.Struct, rename="camel"):
    """A file or a segment playlist an egress wrote (FileInfo / SegmentsInfo)."""

    filename: _Text = ""
    playlist_name: _Text = ""
    duration: _I64 = 0  # nanoseconds
    size: _I64 = 0


class _TrackRequest(msgspec.Struct, rename="camel"):
    track_id: _Id = ""


class Egress(msgspec.Struct, rename="camel"):
    egress_id: _Id = ""
    room_id: _Id = ""
    room_name: _Text = ""
    status: _Enum = 0
    started_at: _I64 = 0  # nanoseconds
    ended_at: _I64 = 0
    error: _Text = ""
    track: _TrackRequest | None = None
    file_results: Annotated[list[_Output], msgspec.Meta(max_length=64)] = []
    segment_results: Annotated[list[_Output], msgspec.Meta(max_length=64)] = []
    file: _Output | None = None  # before fileResults (LiveKit < 1.4)
    segments: _Output | None = None


class Webhook(msgspec.Struct, rename="camel"):
    event: _Id = ""
    id: _Id = ""
    created_at: _I64 = 0  # seconds
    room: Room | None = None
    participant: Participant | None = None
    track: Track | None = None
    egress_info: Egress | None = None


# LiveKit's event → the lifecycle name (processing/lifecycle.py) it becomes.
EVENTS = {
    "room_started": lc.ROOM_CREATED,
    "room_finished": lc.ROOM_ENDED,
    "participant_joined": lc.PARTICIPANT_CONNECTED,
    "participant_left": lc.PARTICIPANT_DISCONNECTED,
    "participant_connection_aborted": lc.PARTICIPANT_DISCONNECTED,
    "track_published": lc.TRACK_ADDED,
    "track_unpublished": lc.TRACK_REMOVED,
    "egress_started": lc.RECORDING_STARTED,
    "egress_ended": lc.RECORDING_COMPLETED,  # or recording-failed, by the egress's status
}
TRACK_TYPES = ("AUDIO", "VIDEO", "DATA")
TRACK_SOURCES = ("UNKNOWN", "CAMERA", "MICROPHONE", "SCREEN_SHARE", "SCREEN_SHARE_AUDIO")
PARTICIPANT_KINDS = {0: "STANDARD", 1: "INGRESS", 2: "EGRESS", 3: "SIP", 4: "AGENT", 7: "CONNECTOR", 8: "BRIDGE"}
EGRESS_STATUSES = ("EGRESS_STARTING", "EGRESS_ACTIVE", "EGRESS_ENDING", "EGRESS_COMPLETE", "EGRESS_FAILED",
                   "EGRESS_ABORTED", "EGRESS_LIMIT_REACHED")
EGRESS_FAILED = {"EGRESS_FAILED", "EGRESS_ABORTED"}  # a time limit still leaves a usable file
DISCONNECT_REASONS = (
    "UNKNOWN_REASON", "CLIENT_INITIATED", "DUPLICATE_IDENTITY", "SERVER_SHUTDOWN", "PARTICIPANT_REMOVED",
    "ROOM_DELETED", "STATE_MISMATCH", "JOIN_FAILURE", "MIGRATION", "SIGNAL_CLOSE", "ROOM_CLOSED",
    "USER_UNAVAILABLE", "USER_REJECTED", "SIP_TRUNK_FAILURE", "CONNECTION_TIMEOUT", "MEDIA_FAILURE",
    "AGENT_ERROR")
# End reasons only a server can tell (docs/lifecycle.md).
END_DUPLICATE_IDENTITY = ParticipantEndReason.DUPLICATE_IDENTITY
END_VIA_API = ParticipantEndReason.DISCONNECTED_VIA_API
# DisconnectReason → our participant end reason (docs/lifecycle.md). Reasons not listed (unknown, migration,
# SIP and agent failures) say nothing our end reasons name: the summary falls back as for a Twilio callback.
END_REASONS = {
    "CLIENT_INITIATED": lc.END_DISCONNECTED,
    "DUPLICATE_IDENTITY": END_DUPLICATE_IDENTITY,
    "PARTICIPANT_REMOVED": END_VIA_API,
    "ROOM_DELETED": lc.END_ROOM_ENDED,
    "ROOM_CLOSED": lc.END_ROOM_ENDED,
    "SERVER_SHUTDOWN": lc.END_SIGNALING_ERROR,
    "STATE_MISMATCH": lc.END_SIGNALING_ERROR,
    "SIGNAL_CLOSE": lc.END_SIGNALING_ERROR,
    "CONNECTION_TIMEOUT": lc.END_SIGNALING_ERROR,
    "JOIN_FAILURE": lc.END_MEDIA_ERROR,
    "MEDIA_FAILURE": lc.END_MEDIA_ERROR,
}


# -- ids -------------------------------------------------------------------------------------------
class RoomBindings:
    """Which of our rooms each LiveKit room is: found once, by name, then kept.

    A binding is what the room's stored events say (their `livekit_room_sid`), remembered here so that
    most webhooks cost no query; a room seen for the first time takes the room its name resolves to.
    """

    def __init__(self, store: Store, room_for_name: Callable[[str, str], str], size: int = 50_000) -> None:
        self.store = store
        self.room_for_name = room_for_name  # the gateway's: (account, name) → room SID
        self.size = size
        self._bound: OrderedDict[tuple[str, str], str] = OrderedDict()
        self._lock = threading.Lock()  # two webhooks of a new room must not bind it twice

    def resolver(self, account_sid: str) -> RoomResolver:
        return lambda livekit_sid, name, ts_ms: self.room_sid(account_sid, livekit_sid, name, ts_ms)

    def room_sid(self, account_sid: str, livekit_sid: str, name: str, ts_ms: int) -> str:
        key = (account_sid, livekit_sid)
        with self._lock:
            sid = self._bound.get(key) or self._stored(account_sid, livekit_sid, ts_ms)
            if sid is None:
                sid = self.room_for_name(account_sid, name) if name else \
                    derived_sid("RM", account_sid, "livekit", livekit_sid)
            self._bound[key] = sid
            self._bound.move_to_end(key)
            if len(self._bound) > self.size:
                self._bound.popitem(last=False)
            return sid

    def _stored(self, account_sid: str, livekit_sid: str, ts_ms: int) -> str | None:
        _, rows = self.store.fetch(event_queries.room_bound_to_livekit(
            account_sid, livekit_sid, ts_ms - BINDING_WINDOW_MS, ts_ms + BINDING_WINDOW_MS))
        return str(rows[0][0]) if rows else None


def participant_sid(account_sid: str, livekit_participant_sid: str) -> str:
    return derived_sid("PA", account_sid, "livekit", livekit_participant_sid)


def track_sid(account_sid: str, livekit_track_sid: str) -> str:
    return derived_sid("MT", account_sid, "livekit", livekit_track_sid)


def recording_sid(account_sid: str, egress_id: str) -> str:
    return derived_sid("RT", account_sid, "livekit", egress_id)


# -- signature -------------------------------------------------------------------------------------
def webhook_token(authorization: str | None) -> tuple[str, str]:
    """The JWT of an `Authorization` header and its (not yet verified) issuer: the LiveKit API key
    whose secret must have signed it."""
    token = (authorization or "").strip()
    if token[:7].lower() == "bearer ":
        token = token[7:].strip()
    if not token:
        raise Forbidden("Authorization header missing: LiveKit webhooks carry a JWT signed with the API secret")
    if token.count(".") != 2:
        raise Forbidden("Authorization: not a JWT (expected three dot-separated parts)")
    try:
        alg = jwt.get_unverified_header(token).get("alg")
        unverified = jwt.decode(token, options={"verify_signature": False})
    except jwt.InvalidTokenError as e:
        raise Forbidden(f"Authorization: unreadable JWT ({e})") from None
    if alg != "HS256":
        raise Forbidden(f"Authorization: the JWT is {'unsigned' if alg == 'none' else f'signed with {alg}'}; "
                        "LiveKit signs webhooks with HS256")
    issuer = unverified.get("iss")
    if not isinstance(issuer, str) or not issuer:
        raise Forbidden("Authorization: the JWT has no iss claim (the LiveKit API key)")
    return token, issuer


# The same words whether the key is unknown or its signature wrong: an answer must not say which keys exist.
UNKNOWN_SIGNER = ("Authorization: bad signature, or not a LiveKit key registered here (register it with "
                  "`video-insights keys create --account AC… --livekit-key … --livekit-secret …`)")


def verify_webhook(body: bytes, token: str, api_key: str, api_secret: str) -> None:
    """Check the JWT's signature with the key's secret, its lifetime, and that it signs this body."""
    try:
        claims = jwt.decode(token, api_secret, algorithms=["HS256"], issuer=api_key, leeway=CLOCK_SKEW_S,
                            options={"require": ["exp", "sha256"]})
    except jwt.ExpiredSignatureError:
        raise Forbidden("Authorization: the JWT has expired") from None
    except jwt.ImmatureSignatureError:
        raise Forbidden("Authorization: the JWT is not valid yet (check the LiveKit server's clock)") from None
    except jwt.InvalidSignatureError:
        raise Forbidden(UNKNOWN_SIGNER) from None
    except jwt.MissingRequiredClaimError as e:
        raise Forbidden(f"Authorization: the JWT has no {e.claim} claim") from None
    except jwt.InvalidTokenError as e:
        raise Forbidden(f"Authorization: {e}") from None
    stated = claims["sha256"]
    try:
        digest = base64.b64decode(stated, validate=True) if isinstance(stated, str) else b""
    except (binascii.Error, ValueError):
        digest = b""
    if len(digest) != hashlib.sha256().digest_size:
        raise Forbidden("Authorization: the JWT's sha256 claim is not a base64 SHA-256 digest")
    if not hmac.compare_digest(digest, hashlib.sha256(body).digest()):
        raise Forbidden("body does not match the JWT's sha256 claim (altered, or not the body that was signed)")


# -- mapping ---------------------------------------------------------------------------------------
def decode(body: bytes) -> Webhook:
    try:
        # Lax mode reads int64 fields given as strings, as protobuf-JSON writes them.
        return msgspec.json.decode(body, type=Webhook, strict=False)
    except msgspec.ValidationError as e:
        raise BadRequest(field_error(e, "body")) from None
    except msgspec.DecodeError as e:
        raise BadRequest(f"body: malformed JSON ({e})") from None


def room_type_of(account_settings: dict[str, Any] | None) -> str:
    """LiveKit has no room types: `group`, unless the account's settings name another."""
    chosen = (account_settings or {}).get("room_type")
    return chosen if chosen in {t.value for t in RoomType} else RoomType.GROUP.value


# An event before its room is known: (participant SID, time, lifecycle name, payload).
_Draft = tuple[str | None, int, str, dict[str, Any]]


def to_events(body: bytes, account_sid: str, resolve_room: RoomResolver, *,
              room_type: str = RoomType.GROUP.value, now_ms: int | None = None) -> tuple[str, list[Event]]:
    """One verified webhook body → (its event name, the lifecycle events it gives; none if ignored).
    Everything is checked before `resolve_room` is asked for the room: a rejected body binds nothing."""
    hook = decode(body)
    if not hook.event:
        raise BadRequest("body.event: required")
    if hook.event not in EVENTS:
        return hook.event, []  # egress_updated, ingress_*, agent_*: nothing a summary shows
    now_ms = int(time.time() * 1000) if now_ms is None else now_ms
    at = _ms(hook.created_at * 1000, "body.createdAt", now_ms) if hook.created_at else None
    if hook.event.startswith("egress_"):
        livekit_room, room_name, drafts = _recording(hook, account_sid, room_type, at, now_ms)
    else:
        room = hook.room
        if room is None or not room.sid:
            raise BadRequest(f"body.room.sid: required for {hook.event}")
        livekit_room, room_name = room.sid, room.name
        drafts = _room_drafts(hook, room, account_sid, room_type, at, now_ms)
    if not drafts:
        return hook.event, []
    rsid = resolve_room(livekit_room, room_name, min(ts for _, ts, _, _ in drafts))
    return hook.event, [Event(account_sid, rsid, psid, ts, Source.LIVEKIT, name, payload)
                        for psid, ts, name, payload in drafts]


def _room_drafts(hook: Webhook, room: Room, account_sid: str, room_type: str, at: int | None,
                 now_ms: int) -> list[_Draft]:
    room_payload = _room_payload(room, room_type)
    drafts: list[_Draft] = []
    created = room.creation_time_ms or room.creation_time * 1000
    if created:
        drafts.append((None, _ms(created, "body.room.creationTime", now_ms), lc.ROOM_CREATED, room_payload))
    if hook.event == "room_finished":
        drafts.append((None, _required(at, hook.event), lc.ROOM_ENDED, room_payload))
    if hook.event == "room_started" and not created:
        drafts.append((None, _required(at, hook.event), lc.ROOM_CREATED, room_payload))
    if hook.event.startswith("room_"):
        return drafts
    p = hook.participant
    if p is None or not p.sid:
        raise BadRequest(f"body.participant.sid: required for {hook.event}")
    if _name(p.kind, PARTICIPANT_KINDS, "body.participant.kind") == "EGRESS":
        return []  # a recorder, not a person: its egress is the recording
    psid = participant_sid(account_sid, p.sid)
    joined = p.joined_at_ms or p.joined_at * 1000
    payload = _participant_payload(p, room_payload)
    name = EVENTS[hook.event]
    if joined or name == lc.PARTICIPANT_CONNECTED:
        join_ts = _ms(joined, "body.participant.joinedAt", now_ms) if joined else _required(at, hook.event)
        drafts.append((psid, join_ts, lc.PARTICIPANT_CONNECTED, payload))
    if name == lc.PARTICIPANT_CONNECTED:
        return drafts
    ts = _required(at, hook.event)
    if name == lc.PARTICIPANT_DISCONNECTED:
        drafts.append((psid, ts, name, {**payload, **_end_reason(hook.event, p)}))
        return drafts
    t = hook.track
    if t is None or not t.sid:
        raise BadRequest(f"body.track.sid: required for {hook.event}")
    kind = _name(t.type, TRACK_TYPES, "body.track.type")
    if kind not in TRACK_TYPES:
        raise BadRequest(f"body.track.type: expected one of {', '.join(TRACK_TYPES)}, got {kind!r}")
    source = _name(t.source, TRACK_SOURCES, "body.track.source")
    drafts.append((psid, ts, name, {
        **room_payload, "identity": p.identity or None, "track_sid": track_sid(account_sid, t.sid),
        "track_kind": kind.lower(), "track_name": t.name or source.lower(), "livekit_track_sid": t.sid,
        "codec": lc.normalise_codec(t.mime_type)}))
    return drafts


def _ms(ms: int, path: str, now_ms: int) -> int:
    # Late deliveries are normal; a time before 2010 or beyond clock skew is not an event's time.
    if not EARLIEST_MS <= ms <= now_ms + MAX_SKEW_MS:
        raise BadRequest(f"{path}: {ms} ms is not a plausible event time (after 2010, at most a day ahead)")
    return ms


def _required(at: int | None, event: str) -> int:
    if at is None:
        raise BadRequest(f"body.createdAt: required for {event}")
    return at


def _name(value: int | str, names: tuple[str, ...] | dict[int, str], path: str) -> str:
    """An enum value's name, whether protobuf-JSON gave the name or the number."""
    if isinstance(value, str):
        if not value.isdigit():
            return value.upper()
        value = int(value)
    table = dict(enumerate(names)) if isinstance(names, tuple) else names
    if value not in table:
        raise BadRequest(f"{path}: {value} is not a known value")
    return table[value]


def _room_payload(room: Room, room_type: str) -> dict[str, Any]:
    payload: dict[str, Any] = {"room_name": room.name or None, "room_type": room_type,
                               "livekit_room_sid": room.sid}
    if room.max_participants:
        payload["max_participants"] = room.max_participants
    return payload


def _participant_payload(p: Participant, room_payload: dict[str, Any]) -> dict[str, Any]:
    payload = {**room_payload, "identity": p.identity or None, "livekit_participant_sid": p.sid}
    if p.region:
        # The LiveKit node the participant reached carries both its signaling and its media.
        payload["signaling_region"] = payload["media_region"] = p.region
    return payload


def _end_reason(event: str, p: Participant) -> dict[str, Any]:
    if event == "participant_connection_aborted":
        return {"end_reason": lc.END_MEDIA_ERROR}  # joined signalling, never got media connected
    value = p.disconnect_reason
    if isinstance(value, str) and not value.isdigit():
        name = value.upper()
    else:
        # Reasons newer than this table are not an error: they are as good as an unknown reason.
        number = int(value)
        name = DISCONNECT_REASONS[number] if number < len(DISCONNECT_REASONS) else ""
    reason = END_REASONS.get(name)
    return {"end_reason": reason} if reason else {}


def _recording(hook: Webhook, account_sid: str, room_type: str, at: int | None,
               now_ms: int) -> tuple[str, str, list[_Draft]]:
    e = hook.egress_info
    if e is None or not e.egress_id:
        raise BadRequest(f"body.egressInfo.egressId: required for {hook.event}")
    if not e.room_id:
        raise BadRequest(f"body.egressInfo.roomId: required for {hook.event}")
    status = _name(e.status, EGRESS_STATUSES, "body.egressInfo.status")
    started = _ms(e.started_at // 1_000_000, "body.egressInfo.startedAt", now_ms) if e.started_at else None
    ended = _ms(e.ended_at // 1_000_000, "body.egressInfo.endedAt", now_ms) if e.ended_at else None
    payload: dict[str, Any] = {"room_name": e.room_name or None, "room_type": room_type,
                               "livekit_room_sid": e.room_id, "livekit_egress_id": e.egress_id,
                               "recording_sid": recording_sid(account_sid, e.egress_id)}
    if e.track is not None and e.track.track_id:
        payload["source_sid"] = track_sid(account_sid, e.track.track_id)
    if hook.event == "egress_started":
        return e.room_id, e.room_name, [(None, started or _required(at, hook.event), lc.RECORDING_STARTED, payload)]
    outputs = [*e.file_results, *e.segment_results, *(o for o in (e.file, e.segments) if o is not None)]
    stated_ns = max((o.duration for o in outputs), default=0)
    measured_ms = ended - started if ended is not None and started is not None and ended >= started else 0
    payload["duration"] = round(stated_ns / 1e9) if stated_ns else round(measured_ms / 1000)
    size = sum(o.size for o in outputs)
    if size:
        payload["size"] = size
    file_name = next((o.filename or o.playlist_name for o in outputs if o.filename or o.playlist_name), "")
    if "." in file_name:
        payload["container"] = file_name.rsplit(".", 1)[1].lower()[:16]
    if e.error:
        payload["error"] = e.error
    name = lc.RECORDING_FAILED if status in EGRESS_FAILED else lc.RECORDING_COMPLETED
    return e.room_id, e.room_name, [(None, ended or _required(at, hook.event), name, payload)]
