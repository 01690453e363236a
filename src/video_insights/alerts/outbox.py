"""The alerts decided and the outbox of their deliveries, one `alerts` row each (store.schema).

- An alert's sid is derived from what was decided (the rule and the participant and issue type, or
  the rule's previous window alert), so a decision taken twice (a summary re-run after a crash, or by
  two processes) names the same row; deciders write only sids that are not there yet. The sid is the
  delivery id a receiver sees in `X-Video-Insights-Delivery`.
- The row holds the exact body to post, built once when decided: every attempt sends, and signs, the
  same bytes.
- The row is replaced whole as its delivery goes: `pending` (with the time of its next attempt), then
  `delivered`, `failed` (no 2xx within 24 h) or `cancelled` (its rule was deleted). Each version has a
  greater `updated_ms` than the last, so ClickHouse, which keeps the greatest version, agrees.
"""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass
from typing import Any

import orjson

from video_insights.alerts.rules import PARTICIPANT_ISSUE, Rule
from video_insights.model.ids import derived_sid
from video_insights.query import alerts as alert_queries
from video_insights.query.filters import iso
from video_insights.query.sql import rows_as_dicts
from video_insights.store.base import Store, WriteBatch, make_row
from video_insights.store.schema import ALERTS

ALERT_PREFIX = "NO"
PENDING, DELIVERED, FAILED, CANCELLED = "pending", "delivered", "failed", "cancelled"
GIVE_UP_MS = 24 * 3600 * 1000
MAX_BACKOFF_S = 3600.0
KEPT_ATTEMPTS = 50  # the first and the latest ones; 24 h of backoff makes about 35
SIGNATURE_HEADER = "X-Video-Insights-Signature"
DELIVERY_HEADER = "X-Video-Insights-Delivery"


def sign(secret: str, body: bytes) -> str:
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def participant_alert_sid(rule_sid: str, participant_sid: str, issue_type: str) -> str:
    return derived_sid(ALERT_PREFIX, rule_sid, participant_sid, issue_type)


def window_alert_sid(rule_sid: str, previous: str | None) -> str:
    return derived_sid(ALERT_PREFIX, rule_sid, "after", previous or "none")


@dataclass(frozen=True)
class Facts:
    """What an alert says, whatever its format."""

    alert_sid: str
    issue_type: str | None
    room_sid: str | None
    participant_sid: str | None
    value: float | None
    threshold: float | None
    media: list[str]
    fired_ms: int
    console_url: str


def payload(rule: Rule, f: Facts) -> dict[str, Any]:
    return {"alert_sid": f.alert_sid, "rule_sid": rule.sid, "account_sid": rule.account_sid, "trigger": rule.type,
            "issue_type": f.issue_type, "room_sid": f.room_sid, "participant_sid": f.participant_sid,
            "value": None if f.value is None else round(f.value, 2), "threshold": f.threshold, "media": f.media,
            "fired_at": iso(f.fired_ms), "console_url": f.console_url}


def _slack_escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def slack_text(rule: Rule, f: Facts) -> str:
    name = _slack_escape(rule.friendly_name or rule.sid)
    if rule.type == PARTICIPANT_ISSUE:
        media = f" ({', '.join(f.media)})" if f.media else ""
        head = (f"*{name}*: participant {f.participant_sid} in room {f.room_sid} has {f.issue_type}{media}: "
                f"{_num(f.value)} against a threshold of {_num(f.threshold)}.")
    else:
        head = (f"*{name}*: {_num(f.value)} % of rooms had issues in the last "
                f"{rule.trigger['window_minutes']} minutes (threshold {_num(f.threshold)} %).")
    return f"{head} Fired at {iso(f.fired_ms)}. <{f.console_url}|Open in Video Insights>"


def _num(v: float | None) -> str:
    return "—" if v is None else f"{v:.2f}".rstrip("0").rstrip(".")


def body_for(rule: Rule, f: Facts) -> bytes:
    if rule.format == "slack":
        return orjson.dumps({"text": slack_text(rule, f)})
    return orjson.dumps(payload(rule, f))


def decided(rule: Rule, f: Facts) -> tuple[object, ...]:
    """The row of a new alert, due for delivery at once."""
    return make_row(ALERTS, account_sid=rule.account_sid, alert_sid=f.alert_sid, rule_sid=rule.sid,
                    trigger_type=rule.type, issue_type=f.issue_type, room_sid=f.room_sid,
                    participant_sid=f.participant_sid, fired_ms=f.fired_ms, body=body_for(rule, f).decode(),
                    state=PENDING, attempts="[]", next_ms=f.fired_ms, updated_ms=f.fired_ms)


def existing(store: Store, account_sid: str, sids: list[str]) -> set[str]:
    """Which of these alerts were decided already."""
    if not sids:
        return set()
    _, rows = store.fetch(alert_queries.decided(account_sid, sids))
    return {r[0] for r in rows}


def latest_of_rule(store: Store, account_sid: str, rule_sid: str) -> tuple[str, int] | None:
    """(sid, fired_ms) of the rule's most recent alert."""
    _, rows = store.fetch(alert_queries.latest_of_rule(account_sid, rule_sid))
    return (str(rows[0][0]), int(rows[0][1])) if rows else None


def due(store: Store, now: int, limit: int) -> list[dict[str, Any]]:
    """Pending alerts whose next attempt is due and which no live lease holds."""
    cols, rows = store.fetch(alert_queries.due(PENDING, now, limit))
    return rows_as_dicts(cols, rows)


def by_sid(store: Store, account_sid: str | None, sids: list[str]) -> dict[str, dict[str, Any]]:
    if not sids:
        return {}
    cols, rows = store.fetch(alert_queries.by_sid(account_sid, sids))
    return {r["alert_sid"]: r for r in rows_as_dicts(cols, rows)}


def next_version(row: dict[str, Any], now: int, **changes: Any) -> dict[str, Any]:
    return {**row, **changes, "updated_ms": max(now, int(row["updated_ms"]) + 1)}


def write(store: Store, rows: list[dict[str, Any]]) -> None:
    batch = WriteBatch()
    for r in rows:
        batch.replace("alerts", make_row(ALERTS, **r))
    store.write(batch)


def backoff_s(attempt: int, base_s: float) -> float:
    """The wait after the n-th failed attempt (1-based): base, 2×base, 4×base, … at most an hour."""
    return float(min(base_s * 2 ** (attempt - 1), MAX_BACKOFF_S))


def after_attempt(row: dict[str, Any], now: int, outcome: dict[str, Any], ok: bool, base_s: float
                  ) -> dict[str, Any]:
    """The row's next version once an attempt's outcome is known."""
    attempts = orjson.loads(row["attempts"] or "[]")
    attempts.append(outcome)
    if len(attempts) > KEPT_ATTEMPTS:
        attempts = attempts[:1] + attempts[-(KEPT_ATTEMPTS - 1):]
    n = len(attempts)
    changes: dict[str, Any] = {"attempts": orjson.dumps(attempts).decode(), "lease_owner": None,
                               "lease_until_ms": None}
    if ok:
        changes["state"] = DELIVERED
    else:
        retry = now + int(backoff_s(n, base_s) * 1000)
        if retry - int(row["fired_ms"]) > GIVE_UP_MS:
            changes["state"] = FAILED
        else:
            changes["next_ms"] = retry
    return next_version(row, now, **changes)


def history(store: Store, account_sid: str, *, rule_sid: str | None = None, state: str | None = None,
            limit: int = 50, page: int = 0) -> list[dict[str, Any]]:
    cols, rows = store.fetch(alert_queries.history(account_sid, rule_sid=rule_sid, state=state, limit=limit,
                                                   offset=page * limit))
    return rows_as_dicts(cols, rows)


def alert_json(row: dict[str, Any], base_url: str) -> dict[str, Any]:
    body = row["body"] or "{}"
    return {
        "sid": row["alert_sid"], "delivery_id": row["alert_sid"], "account_sid": row["account_sid"],
        "rule_sid": row["rule_sid"], "trigger": row["trigger_type"], "issue_type": row["issue_type"],
        "room_sid": row["room_sid"], "participant_sid": row["participant_sid"], "fired_at": iso(int(row["fired_ms"])),
        "outcome": row["state"], "attempts": orjson.loads(row["attempts"] or "[]"),
        "next_attempt_at": iso(int(row["next_ms"])) if row["state"] == PENDING else None,
        "payload": orjson.loads(body), "url": f"{base_url}/v1/Video/Alerts/{row['alert_sid']}"}

