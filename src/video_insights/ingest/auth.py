"""Access tokens (Twilio's JWT format) and webhook signatures (Twilio's HMAC-SHA1)."""

from __future__ import annotations

import base64
import hashlib
import hmac
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import jwt

from video_insights.accounts import find_key
from video_insights.errors import Forbidden, Unauthorized
from video_insights.model.ids import is_sid
from video_insights.store.base import Store

TWILIO_CTY = "twilio-fpa;v=1"
MAX_TOKEN_TTL_S = 86_400
# Tokens are minted on the app's servers: a clock a little ahead there must not make a fresh token
# "not yet valid" here (PyJWT checks iat and nbf), nor one a little behind expire it early.
CLOCK_SKEW_S = 60
NOT_OURS = ("access token: bad signature, or its API key (iss) is not registered here for its account (sub): "
            "mint tokens with a key created by `video-insights keys create`")


@dataclass(frozen=True)
class TokenGrant:
    account_sid: str
    key_sid: str
    identity: str | None
    room: str | None
    expires: int


def mint_token(account_sid: str, key_sid: str, secret: str, identity: str, *, room: str | None = None,
               ttl: int = 3600, now: int | None = None) -> str:
    iat = int(time.time()) if now is None else now
    video: dict[str, str] = {"room": room} if room else {}
    claims = {"jti": f"{key_sid}-{iat}", "iss": key_sid, "sub": account_sid, "iat": iat, "nbf": iat,
              "exp": iat + ttl, "grants": {"identity": identity, "video": video}}
    return jwt.encode(claims, secret, algorithm="HS256", headers={"cty": TWILIO_CTY})


def verify_token(store: Store, token: str) -> TokenGrant:
    """Check an access token's signature with the registered key's secret; say why it fails."""
    if not isinstance(token, str) or token.count(".") != 2:
        raise Unauthorized("access token: not a JWT (expected three dot-separated parts)")
    try:
        unverified = jwt.decode(token, options={"verify_signature": False})
    except jwt.InvalidTokenError as e:
        raise Unauthorized(f"access token: unreadable ({e})") from None
    key_sid, account_sid = unverified.get("iss"), unverified.get("sub")
    if not isinstance(key_sid, str) or not isinstance(account_sid, str) or not is_sid(key_sid, "SK") \
            or not is_sid(account_sid, "AC"):
        raise Unauthorized("access token: iss must be an API key SID (SK…) and sub an account SID (AC…)")
    key = find_key(store, key_sid)
    # One answer for an unknown key, another account's key and a bad signature: which keys exist is
    # nobody's business but their owners'.
    if key is None or key.livekit_api_key or key.account_sid != account_sid:
        raise Unauthorized(NOT_OURS)
    try:
        claims = jwt.decode(token, key.secret, algorithms=["HS256"], options={"require": ["exp"]},
                            leeway=CLOCK_SKEW_S)
    except jwt.ExpiredSignatureError:
        raise Unauthorized("access token: expired") from None
    except jwt.InvalidSignatureError:
        raise Unauthorized(NOT_OURS) from None
    except jwt.InvalidTokenError as e:
        raise Unauthorized(f"access token: {e}") from None
    if claims["exp"] > time.time() + MAX_TOKEN_TTL_S + CLOCK_SKEW_S:
        raise Unauthorized("access token: lives longer than 24 hours (Twilio's limit); mint a shorter one")
    grants: dict[str, Any] = claims["grants"] if isinstance(claims.get("grants"), dict) else {}
    video: dict[str, Any] = grants["video"] if isinstance(grants.get("video"), dict) else {}
    identity = grants.get("identity")
    room = video.get("room")
    return TokenGrant(account_sid=key.account_sid, key_sid=key.sid,
                      identity=identity if isinstance(identity, str) else None,
                      room=room if isinstance(room, str) else None, expires=int(claims["exp"]))


def twilio_signature(auth_token: str, url: str, params: Mapping[str, str | Sequence[str]]) -> str:
    """Twilio's algorithm: HMAC-SHA1 over the full URL followed by each sorted parameter name+value."""
    data = url
    for name in sorted(params):
        values = params[name]
        for v in ([values] if isinstance(values, str) else sorted(values)):
            data += name + v
    digest = hmac.new(auth_token.encode(), data.encode(), hashlib.sha1).digest()
    return base64.b64encode(digest).decode()


SIGNATURE_MISMATCH = ("X-Twilio-Signature does not match: check that the AccountSid is registered here "
                      "(`accounts create --sid … --auth-token …`), its auth token, and the callback URL")


def check_twilio_signature(auth_token: str | None, url: str, params: Mapping[str, str | Sequence[str]],
                           signature: str | None) -> None:
    """`auth_token` None (no such account) fails exactly as a wrong signature does."""
    if not signature:
        raise Forbidden("X-Twilio-Signature header missing")
    if auth_token is None:
        raise Forbidden(SIGNATURE_MISMATCH)
    candidates = {url}
    # Twilio signs the URL as configured; behind a proxy the port may be added or dropped.
    if url.startswith("https://") and ":443/" in url:
        candidates.add(url.replace(":443/", "/", 1))
    if url.startswith("http://") and ":80/" in url:
        candidates.add(url.replace(":80/", "/", 1))
    given = signature.encode("utf-8", "surrogatepass")  # bytes: compare_digest refuses non-ASCII str
    for u in candidates:
        if hmac.compare_digest(twilio_signature(auth_token, u, params).encode(), given):
            return
    raise Forbidden(SIGNATURE_MISMATCH)
