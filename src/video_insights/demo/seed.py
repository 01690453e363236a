"""`serve --demo`: one "Demo" account with a week of data, created once and reused afterwards."""

from __future__ import annotations

import secrets

from video_insights.accounts import ApiKey, create_account, create_key, find_key, get_account
from video_insights.demo.generator import generate
from video_insights.model.ids import new_sid
from video_insights.query.sql import q
from video_insights.settings import Settings
from video_insights.store.base import Store

DEMO_NAME = "Demo"
DEMO_DAYS = 7


def seed_demo(store: Store, settings: Settings) -> dict[str, str]:
    """The demo account's credentials; generates its data only when the account does not exist yet."""
    _, rows = store.fetch(q("SELECT account_sid FROM accounts WHERE friendly_name = :n "
                            "ORDER BY created_ms, account_sid LIMIT 1", n=DEMO_NAME))
    if rows:
        account = get_account(store, str(rows[0][0]))
        key = _existing_key(store, account.sid) or create_key(store, account.sid, friendly_name=DEMO_NAME)
    else:
        # The data goes in first and the account last, so an interrupted run leaves no half-filled
        # "Demo" account behind that later starts would take as done.
        sid, token = new_sid("AC"), secrets.token_hex(16)
        generate(store, settings, account_sid=sid, days=DEMO_DAYS)
        account = create_account(store, friendly_name=DEMO_NAME, sid=sid, auth_token=token)
        key = create_key(store, account.sid, friendly_name=DEMO_NAME)
    return {"account_sid": account.sid, "auth_token": account.auth_token, "key_sid": key.sid,
            "key_secret": key.secret}


def _existing_key(store: Store, account_sid: str) -> ApiKey | None:
    _, rows = store.fetch(q("SELECT key_sid FROM api_keys WHERE account_sid = :a AND livekit_api_key IS NULL "
                            "ORDER BY created_ms, key_sid LIMIT 1", a=account_sid))
    return find_key(store, str(rows[0][0])) if rows else None
