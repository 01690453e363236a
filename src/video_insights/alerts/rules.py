"""Alert rules: what a client sends, checked field by field, kept in `alert_rules`, and shown back.

A rule is `{"friendly_name", "trigger", "url", "format"}`, its trigger one of
- `{"type": "participant_issue", "issue_type": "packet_loss"}`: a participant is first tagged with it;
- `{"type": "rooms_with_issues_share", "threshold_pct", "window_minutes", "min_rooms", "cooldown_minutes"}`:
  the share of rooms created in the window that have issues;
either narrowed by rooms-list filters (`"filters": {"room_type__eq": "group"}`, in the trigger or beside it).
"""

from __future__ import annotations

import secrets
import time
from dataclasses import dataclass
from typing import Any

import orjson

from video_insights.alerts import urls
from video_insights.errors import BadRequest, NotFound
from video_insights.model.ids import new_sid
from video_insights.model.issues import IssueType
from video_insights.query import alerts as alert_queries
from video_insights.query.fields import FieldType
from video_insights.query.filters import Filter, iso, parse_filter
from video_insights.query.sql import rows_as_dicts, untag
from video_insights.store.base import Store, WriteBatch, make_row
from video_insights.store.schema import ALERT_RULES

RULE_PREFIX = "AL"
PARTICIPANT_ISSUE = "participant_issue"
ROOMS_SHARE = "rooms_with_issues_share"
FORMATS = ("json", "slack")
MAX_RULES = 100  # per account: each is evaluated on every summary of the account's rooms
MAX_FILTERS = 20
_FIELDS = {"friendly_name", "trigger", "url", "format", "filters"}


@dataclass(frozen=True)
class Rule:
    account_sid: str
    sid: str
    friendly_name: str
    trigger: dict[str, Any]  # as stated, filters included
    filters: tuple[Filter, ...]
    url: str
    format: str
    secret: str
    created_ms: int
    deleted_ms: int | None = None

    @property
    def type(self) -> str:
        return str(self.trigger["type"])

    def to_json(self, base_url: str, *, with_secret: bool = False) -> dict[str, Any]:
        out: dict[str, Any] = {
            "sid": self.sid, "account_sid": self.account_sid, "friendly_name": self.friendly_name,
            "trigger": self.trigger, "filters": self.trigger.get("filters", {}), "url": self.url,
            "format": self.format, "date_created": iso(self.created_ms),
            "date_deleted": iso(self.deleted_ms) if self.deleted_ms is not None else None,
            "links": {"self": f"{base_url}/v1/Video/AlertRules/{self.sid}",
                      "alerts": f"{base_url}/v1/Video/Alerts?RuleSid={self.sid}"}}
        if with_secret:
            out["secret"] = self.secret
        return out


def _number(trigger: dict[str, Any], key: str, low: float, high: float, *, whole: bool,
            default: float | None = None) -> float:
    raw = trigger.get(key, default)
    if raw is None:
        raise BadRequest(f"trigger.{key}: required for {trigger['type']}")
    if isinstance(raw, bool) or not isinstance(raw, (int, float)) or (whole and not float(raw).is_integer()):
        raise BadRequest(f"trigger.{key}: expected {'a whole number' if whole else 'a number'}, got {raw!r}")
    if not low <= raw <= high:
        raise BadRequest(f"trigger.{key}: must be between {low:g} and {high:g}, got {raw!r}")
    return int(raw) if whole else float(raw)


def parse_filters(raw: object, name: str = "filters") -> tuple[Filter, ...]:
    """Rooms-list filters given as an object of `FIELD__OP: value` (a list for `in`)."""
    if raw is None:
        return ()
    if not isinstance(raw, dict):
        raise BadRequest(f"{name}: expected an object like {{\"room_type__eq\": \"group\"}}")
    if len(raw) > MAX_FILTERS:
        raise BadRequest(f"{name}: at most {MAX_FILTERS} filters")
    out = []
    for param, value in raw.items():
        if "__" not in param:
            raise BadRequest(f"{name}.{param}: expected FIELD__OP (such as room_type__eq)")
        if isinstance(value, list) and all(isinstance(v, (str, int)) and not isinstance(v, bool) for v in value):
            text = ",".join(str(v) for v in value)
        elif isinstance(value, bool):
            text = "true" if value else "false"
        elif isinstance(value, (str, int)):
            text = str(value)
        else:
            raise BadRequest(f"{name}.{param}: expected a string, number, boolean or list, got {value!r}")
        out.append(parse_filter(param, text))
    return tuple(out)


def parse_trigger(raw: object, outer_filters: object) -> tuple[dict[str, Any], tuple[Filter, ...]]:
    if not isinstance(raw, dict):
        raise BadRequest("trigger: expected an object with a type (participant_issue or rooms_with_issues_share)")
    kind = raw.get("type")
    if kind == PARTICIPANT_ISSUE:
        allowed = {"type", "issue_type", "filters"}
        issue = raw.get("issue_type")
        if issue not in {t.value for t in IssueType}:
            raise BadRequest(f"trigger.issue_type: unknown issue type {issue!r} (expected one of "
                             f"{', '.join(t.value for t in IssueType)})")
        trigger: dict[str, Any] = {"type": kind, "issue_type": issue}
    elif kind == ROOMS_SHARE:
        allowed = {"type", "threshold_pct", "window_minutes", "min_rooms", "cooldown_minutes", "filters"}
        window = _number(raw, "window_minutes", 1, 1440, whole=True)
        trigger = {"type": kind, "threshold_pct": _number(raw, "threshold_pct", 0, 100, whole=False),
                   "window_minutes": window, "min_rooms": _number(raw, "min_rooms", 1, 100_000, whole=True, default=1),
                   "cooldown_minutes": _number(raw, "cooldown_minutes", 1, 10_080, whole=True, default=window)}
    else:
        raise BadRequest(f"trigger.type: expected participant_issue or rooms_with_issues_share, got {kind!r}")
    unknown = sorted(set(raw) - allowed)
    if unknown:
        raise BadRequest(f"trigger: unknown field(s) {', '.join(unknown)} for {kind}")
    if raw.get("filters") is not None and outer_filters is not None:
        raise BadRequest("filters: give them in the trigger or beside it, not both")
    given = raw.get("filters") if raw.get("filters") is not None else outer_filters
    filters = parse_filters(given, "trigger.filters" if raw.get("filters") is not None else "filters")
    if filters:
        trigger["filters"] = given
    return trigger, filters


def parse_rule(body: object, account_sid: str, *, allow_private: bool) -> Rule:
    """A new rule from a client's JSON, every field checked (BadRequest names the first wrong one)."""
    if not isinstance(body, dict):
        raise BadRequest("body: expected a JSON object with friendly_name, trigger, url and format")
    unknown = sorted(set(body) - _FIELDS)
    if unknown:
        raise BadRequest(f"body: unknown field(s) {', '.join(unknown)} (expected {', '.join(sorted(_FIELDS))})")
    name = body.get("friendly_name", "")
    if not isinstance(name, str) or len(name) > 256:
        raise BadRequest("friendly_name: expected a string of at most 256 characters")
    fmt = body.get("format", "json")
    if fmt not in FORMATS:
        raise BadRequest(f"format: expected json or slack, got {fmt!r}")
    trigger, filters = parse_trigger(body.get("trigger"), body.get("filters"))
    target = urls.resolve(body.get("url"), allow_private=allow_private)
    return Rule(account_sid, new_sid(RULE_PREFIX), name, trigger, filters, target.url, fmt,
                secrets.token_urlsafe(32), int(time.time() * 1000))


def _row(rule: Rule, now: int) -> tuple[object, ...]:
    return make_row(ALERT_RULES, account_sid=rule.account_sid, rule_sid=rule.sid, friendly_name=rule.friendly_name,
                    trigger=orjson.dumps(rule.trigger).decode(), url=rule.url, format=rule.format,
                    secret=rule.secret, created_ms=rule.created_ms, deleted_ms=rule.deleted_ms, updated_ms=now)


def _from_row(r: dict[str, Any]) -> Rule:
    trigger = orjson.loads(r["trigger"])
    return Rule(r["account_sid"], r["rule_sid"], r["friendly_name"] or "", trigger,
                parse_filters(trigger.get("filters")), r["url"], r["format"], r["secret"], int(r["created_ms"]),
                None if r["deleted_ms"] is None else int(r["deleted_ms"]))


def create(store: Store, rule: Rule) -> Rule:
    if len(list_rules(store, rule.account_sid)) >= MAX_RULES:
        raise BadRequest(f"this account has {MAX_RULES} alert rules, the most it may have: delete one first")
    batch = WriteBatch()
    batch.replace("alert_rules", _row(rule, rule.created_ms))
    store.write(batch)
    return rule


def list_rules(store: Store, account_sid: str | None = None, *, deleted: bool = False) -> list[Rule]:
    """An account's rules (every account's, with None), oldest first; with `deleted`, deleted ones too."""
    cols, rows = store.fetch(alert_queries.rules(account_sid, deleted=deleted))
    return [_from_row(r) for r in rows_as_dicts(cols, rows)]


def get(store: Store, account_sid: str, sid: str) -> Rule:
    cols, rows = store.fetch(alert_queries.rule(account_sid, sid))
    if not rows:
        raise NotFound(f"alert rule {sid} not found")
    return _from_row(rows_as_dicts(cols, rows)[0])


def delete(store: Store, account_sid: str, sid: str) -> Rule:
    """The rule stops firing; what it fired stays in the history, and its undelivered alerts are cancelled
    by the delivery worker."""
    rule = get(store, account_sid, sid)
    now = int(time.time() * 1000)
    gone = Rule(**{**rule.__dict__, "deleted_ms": now})
    batch = WriteBatch()
    batch.replace("alert_rules", _row(gone, max(now, rule.created_ms + 1)))
    store.write(batch)
    return gone


def matches(filters: tuple[Filter, ...], room: dict[str, Any]) -> bool:
    """Whether a room (a `rooms` row as a dict) passes the filters, as the rooms list would judge it."""
    return all(_passes(f, room.get(f.field.column)) for f in filters)


def _passes(f: Filter, actual: Any) -> bool:
    if f.field.type == FieldType.TAGS:
        have = set(untag(actual))
        if f.op == "contains":
            return any(str(f.values[0]).lower() in t.lower() for t in have)
        if f.op == "ne":
            return str(f.values[0]) not in have
        return any(str(v) in have for v in f.values)
    if f.op == "ne":
        return actual is None or actual != f.values[0]
    if actual is None:
        return False
    if f.op == "contains":
        return str(f.values[0]).lower() in str(actual).lower()
    if f.op in ("eq", "in"):
        return any(actual == v for v in f.values)
    v = f.values[0]
    assert isinstance(v, int)
    return bool({"gt": actual > v, "gte": actual >= v, "lt": actual < v, "lte": actual <= v}[f.op])
