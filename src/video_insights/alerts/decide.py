"""Deciding alerts.

- participant_issue: by two deciders that reach the same decisions. The alert screen
  (processing/alert_screen.py) decides from the whole-life statistics of the participants whose
  newly stored samples look past a threshold, within a second or two of the commit. A room's summary
  (processing/room_summary.py) decides too, and puts its alert rows in the same batch as the summary
  rows: it catches what the screen cannot see (issues from events, a process that crashed after a
  commit), and a summary re-run after a crash decides the same sids again. Either way a sid is written
  only if absent.
- rooms_with_issues_share: by the delivery worker, from the stored rooms of the window, at most once per
  cooldown (the next alert's sid is derived from the last one, so processes that decide at the same
  moment decide the same row).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any, NamedTuple

from video_insights.alerts import outbox
from video_insights.alerts.rules import PARTICIPANT_ISSUE, ROOMS_SHARE, Rule, list_rules, matches
from video_insights.model.summaries import DetectedIssue, ParticipantSummary
from video_insights.query import rooms as room_queries
from video_insights.settings import Settings
from video_insights.store.base import Store, WriteBatch
from video_insights.store.schema import ROOMS


def console_base(settings: Settings) -> str:
    return settings.public_url.rstrip("/") or f"http://{settings.host}:{settings.port}"


class Tagged(NamedTuple):
    """A participant and the issues it is tagged with now."""

    room_sid: str
    participant_sid: str
    last_activity_ms: int | None
    issues: Sequence[DetectedIssue]


class AlertDecider:
    def __init__(self, store: Store, settings: Settings) -> None:
        self.store = store
        self.settings = settings

    def participants(self, account: str, participants: list[ParticipantSummary], batch: WriteBatch,
                     now: int) -> int:
        """Put in `batch` the alerts that the summaries in it call for (see `tagged`)."""
        rooms = {r[1]: dict(zip(ROOMS.column_names, r, strict=True)) for r in batch.replaces.get("rooms", [])
                 if r[0] == account}
        return self.tagged(account, [Tagged(p.room_sid, p.participant_sid, p.last_activity_ms, p.issues)
                                     for p in participants], rooms, batch, now)

    def tagged(self, account: str, participants: Iterable[Tagged], rooms: dict[str, dict[str, Any]],
               batch: WriteBatch, now: int, rules: Sequence[Rule] | None = None) -> int:
        """Put in `batch` an alert for each participant_issue rule and participant newly tagged with its
        issue type, in a room (of `rooms`, by sid) its filters pass, active since the rule was made.
        A rule with filters needs the participant's room; a rule without any does not. Returns how many."""
        if rules is None:
            rules = [r for r in list_rules(self.store, account) if r.type == PARTICIPANT_ISSUE]
        participants = list(participants)
        if not rules or not participants:
            return 0
        candidates: dict[str, outbox.Facts] = {}
        owner: dict[str, Rule] = {}
        base = console_base(self.settings)
        for p in participants:
            issues = {i.issue_type: i for i in p.issues}
            for rule in rules:
                issue = issues.get(rule.trigger["issue_type"])
                if issue is None or (p.last_activity_ms or 0) < rule.created_ms:
                    continue
                room = rooms.get(p.room_sid)
                if rule.filters and (room is None or not matches(rule.filters, room)):
                    continue
                sid = outbox.participant_alert_sid(rule.sid, p.participant_sid, issue.issue_type)
                candidates[sid] = outbox.Facts(
                    sid, issue.issue_type, p.room_sid, p.participant_sid, issue.value, issue.threshold,
                    list(issue.media), now, f"{base}/rooms/{p.room_sid}/participants/{p.participant_sid}")
                owner[sid] = rule
        fresh = sorted(set(candidates) - outbox.existing(self.store, account, list(candidates)))
        for sid in fresh:
            batch.replace("alerts", outbox.decided(owner[sid], candidates[sid]))
        return len(fresh)


def rooms_share(store: Store, rule: Rule, now: int) -> tuple[int, int]:
    """(rooms created in the rule's window that pass its filters, those of them with issues)."""
    since = now - int(rule.trigger["window_minutes"]) * 60_000
    _, rows = store.fetch(room_queries.window_counts(rule.account_sid, since, rule.filters))
    total, with_issues = rows[0] if rows else (0, 0)
    return int(total or 0), int(with_issues or 0)


def windows(store: Store, settings: Settings, rules: list[Rule], now: int) -> int:
    """Decide the window rules' alerts; returns how many were written."""
    batch = WriteBatch()
    for rule in rules:
        if rule.type != ROOMS_SHARE:
            continue
        total, with_issues = rooms_share(store, rule, now)
        if total == 0 or total < int(rule.trigger["min_rooms"]):
            continue
        share = 100.0 * with_issues / total
        if share < float(rule.trigger["threshold_pct"]):
            continue
        last = outbox.latest_of_rule(store, rule.account_sid, rule.sid)
        if last is not None and now - last[1] < int(rule.trigger["cooldown_minutes"]) * 60_000:
            continue
        sid = outbox.window_alert_sid(rule.sid, last[0] if last else None)
        if outbox.existing(store, rule.account_sid, [sid]):
            continue
        facts = outbox.Facts(sid, None, None, None, share, float(rule.trigger["threshold_pct"]), [], now,
                             f"{console_base(settings)}/rooms?issue_count__gt=0")
        batch.replace("alerts", outbox.decided(rule, facts))
    if batch:
        store.write(batch)
    return batch.row_count()
