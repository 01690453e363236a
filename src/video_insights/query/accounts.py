"""Queries over accounts and their API keys (store.schema.ACCOUNTS, API_KEYS)."""

from __future__ import annotations

from typing import NamedTuple

from sqlglot import exp

from video_insights.query.sql import q


class AccountRow(NamedTuple):
    """A row of `account`."""

    account_sid: str
    auth_token: str
    parent_account_sid: str | None
    friendly_name: str | None
    settings: str | None  # JSON


class KeyRow(NamedTuple):
    """A row of `key` and `key_by_livekit`."""

    key_sid: str
    account_sid: str
    secret: str
    livekit_api_key: str | None


_KEY_COLUMNS = ", ".join(KeyRow._fields)


def account(sid: str) -> exp.Expr:
    """One account: an AccountRow."""
    return q(f"SELECT {', '.join(AccountRow._fields)} FROM accounts WHERE account_sid = :sid", sid=sid)


def account_created(sid: str) -> exp.Expr:
    """(created_ms,) of one account."""
    return q("SELECT created_ms FROM accounts WHERE account_sid = :sid", sid=sid)


def account_settings(sid: str) -> exp.Expr:
    """(settings,) of one account: its JSON document, or NULL."""
    return q("SELECT settings FROM accounts WHERE account_sid = :a", a=sid)


def subaccounts(parent_sid: str) -> exp.Expr:
    """(account_sid,) of an account's subaccounts, oldest first."""
    return q("SELECT account_sid FROM accounts WHERE parent_account_sid = :sid ORDER BY created_ms, account_sid",
             sid=parent_sid)


def first_account_named(friendly_name: str) -> exp.Expr:
    """(account_sid,) of the oldest account with this friendly name."""
    return q("SELECT account_sid FROM accounts WHERE friendly_name = :n ORDER BY created_ms, account_sid LIMIT 1",
             n=friendly_name)


def key(sid: str) -> exp.Expr:
    """One API key: a KeyRow."""
    return q(f"SELECT {_KEY_COLUMNS} FROM api_keys WHERE key_sid = :sid", sid=sid)


def key_by_livekit(livekit_key: str) -> exp.Expr:
    """The key registered for a LiveKit key name, in the same columns as `key`."""
    return q(f"SELECT {_KEY_COLUMNS} FROM api_keys WHERE livekit_api_key = :k", k=livekit_key)


def first_twilio_key(account_sid: str) -> exp.Expr:
    """(key_sid,) of an account's oldest API key that is not a LiveKit pair."""
    return q("SELECT key_sid FROM api_keys WHERE account_sid = :a AND livekit_api_key IS NULL "
             "ORDER BY created_ms, key_sid LIMIT 1", a=account_sid)


def owned_by(account_sid: str) -> exp.Expr:
    """The condition that picks an account's rows of any table (a WriteBatch delete)."""
    return q("account_sid = :a", a=account_sid)
