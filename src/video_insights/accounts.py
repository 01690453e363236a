"""Accounts, subaccounts and API keys: creation, lookup and credential checks."""

from __future__ import annotations

import hmac
import secrets
import time
from dataclasses import dataclass
from typing import Any

import orjson

from video_insights.errors import BadRequest, NotFound, Unauthorized
from video_insights.model.ids import is_sid, new_sid, normalise_sid
from video_insights.query import accounts as queries
from video_insights.store.base import Store, WriteBatch, make_row


@dataclass(frozen=True)
class Account:
    sid: str
    auth_token: str
    parent_sid: str | None = None
    friendly_name: str | None = None
    settings: dict[str, Any] | None = None


@dataclass(frozen=True)
class ApiKey:
    sid: str
    account_sid: str
    secret: str
    livekit_api_key: str | None = None


@dataclass(frozen=True)
class Principal:
    """Who a request acts as: an account, and the accounts it may reach (itself and its subaccounts)."""

    account_sid: str
    reachable: frozenset[str]


def _now_ms() -> int:
    return int(time.time() * 1000)


def create_account(store: Store, *, friendly_name: str | None = None, parent: str | None = None,
                   sid: str | None = None, auth_token: str | None = None,
                   settings: dict[str, Any] | None = None) -> Account:
    if (sid is None) != (auth_token is None):
        raise BadRequest("--sid and --auth-token go together (register an existing account's pair)")
    if sid is not None and not is_sid(sid, "AC"):
        raise BadRequest(f"--sid {sid!r}: expected AC followed by 32 hex digits")
    if auth_token is not None and len(auth_token) < 16:
        raise BadRequest("--auth-token: expected at least 16 characters")
    if parent is not None:
        parent = normalise_sid(parent)
        get_account(store, parent)
    account = Account(sid=normalise_sid(sid) if sid else new_sid("AC"),
                      auth_token=auth_token or secrets.token_hex(16), parent_sid=parent,
                      friendly_name=friendly_name, settings=settings)
    if find_account(store, account.sid) is not None:
        raise BadRequest(f"account {account.sid} already exists")
    batch = WriteBatch()
    batch.insert("accounts", make_row("accounts", account_sid=account.sid, parent_account_sid=parent,
                                      friendly_name=friendly_name, auth_token=account.auth_token,
                                      created_ms=_now_ms(),
                                      settings=orjson.dumps(settings).decode() if settings else None))
    store.write(batch)
    return account


def find_account(store: Store, sid: str) -> Account | None:
    _, rows = store.fetch(queries.account(normalise_sid(sid)))
    if not rows:
        return None
    a = queries.AccountRow._make(rows[0])
    return Account(a.account_sid, a.auth_token, a.parent_account_sid, a.friendly_name,
                   orjson.loads(a.settings) if a.settings else None)


def get_account(store: Store, sid: str) -> Account:
    account = find_account(store, sid)
    if account is None:
        raise NotFound(f"account {sid} not found")
    return account


def subaccounts(store: Store, sid: str) -> list[Account]:
    _, rows = store.fetch(queries.subaccounts(sid))
    return [get_account(store, r[0]) for r in rows]


def update_settings(store: Store, sid: str, settings: dict[str, Any]) -> Account:
    a = get_account(store, sid)
    batch = WriteBatch()
    _, rows = store.fetch(queries.account_created(a.sid))
    batch.replace("accounts", make_row("accounts", account_sid=a.sid, parent_account_sid=a.parent_sid,
                                       friendly_name=a.friendly_name, auth_token=a.auth_token,
                                       created_ms=rows[0][0], settings=orjson.dumps(settings).decode()))
    store.write(batch)
    return get_account(store, sid)


def create_key(store: Store, account_sid: str, *, sid: str | None = None, secret: str | None = None,
               livekit_key: str | None = None, livekit_secret: str | None = None,
               friendly_name: str | None = None) -> ApiKey:
    account = get_account(store, account_sid)
    if livekit_key is not None or livekit_secret is not None:
        if not livekit_key or not livekit_secret:
            raise BadRequest("--livekit-key and --livekit-secret go together")
        # A LiveKit pair is stored as a key whose SID is derived from the LiveKit key name.
        if find_key_by_livekit(store, livekit_key) is not None:
            raise BadRequest(f"LiveKit key {livekit_key!r} is already registered")
        key = ApiKey(new_sid("SK"), account.sid, livekit_secret, livekit_key)
    else:
        if (sid is None) != (secret is None):
            raise BadRequest("--sid and --secret go together (register an existing API key pair)")
        if sid is not None and not is_sid(sid, "SK"):
            raise BadRequest(f"--sid {sid!r}: expected SK followed by 32 hex digits")
        key = ApiKey(normalise_sid(sid) if sid else new_sid("SK"), account.sid,
                     secret or secrets.token_urlsafe(24))
        if find_key(store, key.sid) is not None:
            raise BadRequest(f"key {key.sid} already exists")
    batch = WriteBatch()
    batch.insert("api_keys", make_row("api_keys", key_sid=key.sid, account_sid=key.account_sid,
                                      secret=key.secret, friendly_name=friendly_name,
                                      livekit_api_key=key.livekit_api_key, created_ms=_now_ms()))
    store.write(batch)
    return key


def _key_from(rows: list[tuple[Any, ...]]) -> ApiKey | None:
    if not rows:
        return None
    k = queries.KeyRow._make(rows[0])
    return ApiKey(k.key_sid, k.account_sid, k.secret, k.livekit_api_key)


def find_key(store: Store, sid: str) -> ApiKey | None:
    _, rows = store.fetch(queries.key(normalise_sid(sid) if is_sid(sid, "SK") else sid))
    return _key_from(rows)


def find_key_by_livekit(store: Store, livekit_key: str) -> ApiKey | None:
    _, rows = store.fetch(queries.key_by_livekit(livekit_key))
    return _key_from(rows)


def same_secret(expected: str, given: str) -> bool:
    """Constant-time equality of a stored secret and a client's string. As bytes: `compare_digest`
    raises TypeError for a str that is not ASCII, and a client's password may be anything."""
    return hmac.compare_digest(expected.encode(), given.encode("utf-8", "surrogatepass"))


def authenticate(store: Store, username: str, password: str) -> Principal:
    """HTTP Basic: AccountSid:AuthToken or ApiKeySid:Secret; a parent reaches its subaccounts.

    One message for an unknown SID and a wrong secret: the answer must not tell which SIDs exist."""
    if is_sid(username, "AC"):
        account = find_account(store, username)
        if account is None or not same_secret(account.auth_token, password):
            raise Unauthorized("authentication failed: unknown account SID or wrong auth token")
        sid = account.sid
    elif is_sid(username, "SK"):
        key = find_key(store, username)
        if key is None or key.livekit_api_key or not same_secret(key.secret, password):
            raise Unauthorized("authentication failed: unknown API key SID or wrong secret")
        sid = key.account_sid
    else:
        raise Unauthorized("authentication failed: the username must be an account SID (AC…) or an API "
                           "key SID (SK…)")
    return Principal(sid, frozenset([sid, *(a.sid for a in subaccounts(store, sid))]))


# Console sessions of an account signed before this instant (µs since the epoch) are over: logging out
# sets it, so a copied cookie dies with the session it came from (docs/security.md).
SESSIONS_SINCE = "console_sessions_since_us"


def sessions_since(account: Account) -> int:
    value = (account.settings or {}).get(SESSIONS_SINCE)
    return value if isinstance(value, int) else 0


def end_console_sessions(store: Store, sid: str, now_us: int) -> None:
    account = get_account(store, sid)
    update_settings(store, sid, {**(account.settings or {}), SESSIONS_SINCE: now_us})
