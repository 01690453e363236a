"""Queries over alert rules and the alerts decided with their deliveries (store.schema.ALERT_RULES, ALERTS;
alerts/ says what they mean)."""

from __future__ import annotations

from collections.abc import Iterable

from sqlglot import exp

from video_insights.query.sql import q


def rules(account_sid: str | None, *, deleted: bool) -> exp.Expr:
    """An account's rules (every account's, with None), oldest first; with `deleted`, deleted ones too."""
    where = [] if account_sid is None else ["account_sid = :a"]
    if not deleted:
        where.append("deleted_ms IS NULL")
    return q(f"SELECT * FROM alert_rules {'WHERE ' + ' AND '.join(where) if where else ''} "
             "ORDER BY created_ms, rule_sid", a=account_sid)


def rule(account_sid: str, rule_sid: str) -> exp.Expr:
    """A rule that is not deleted."""
    return q("SELECT * FROM alert_rules WHERE account_sid = :a AND rule_sid = :s AND deleted_ms IS NULL",
             a=account_sid, s=rule_sid)


def decided(account_sid: str, alert_sids: Iterable[str]) -> exp.Expr:
    """(alert_sid,) of those of these alerts that were decided already."""
    return q("SELECT alert_sid FROM alerts WHERE account_sid = :a AND alert_sid IN :s",
             a=account_sid, s=sorted(set(alert_sids)))


def latest_of_rule(account_sid: str, rule_sid: str) -> exp.Expr:
    """(alert_sid, fired_ms) of a rule's most recent alert."""
    return q("SELECT alert_sid, fired_ms FROM alerts WHERE account_sid = :a AND rule_sid = :r "
             "ORDER BY fired_ms DESC, alert_sid LIMIT 1", a=account_sid, r=rule_sid)


def due(state: str, now: int, limit: int) -> exp.Expr:
    """Alerts in this state whose next attempt is due and which no live lease holds, soonest first."""
    return q("SELECT * FROM alerts WHERE state = :p AND next_ms <= :now AND coalesce(lease_until_ms, 0) < :now "
             "ORDER BY next_ms, alert_sid LIMIT :n", p=state, now=now, n=limit)


def by_sid(account_sid: str | None, alert_sids: Iterable[str]) -> exp.Expr:
    """These alerts (of one account, or of any with None)."""
    where = "alert_sid IN :s" + ("" if account_sid is None else " AND account_sid = :a")
    return q(f"SELECT * FROM alerts WHERE {where}", s=sorted(set(alert_sids)), a=account_sid)


def history(account_sid: str, *, rule_sid: str | None, state: str | None, limit: int, offset: int) -> exp.Expr:
    """A page of an account's alerts, latest first (of one rule, in one state, if given)."""
    where = ["account_sid = :a"]
    if rule_sid is not None:
        where.append("rule_sid = :r")
    if state is not None:
        where.append("state = :st")
    return q(f"SELECT * FROM alerts WHERE {' AND '.join(where)} ORDER BY fired_ms DESC, alert_sid LIMIT :n OFFSET :o",
             a=account_sid, r=rule_sid, st=state, n=limit, o=offset)
