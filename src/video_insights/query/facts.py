"""Queries over the dashboard's aggregates (store.schema.ROOM_FACTS, PARTICIPANT_FACTS): counts and minutes
per time bucket (`step` ms wide, buckets start at multiples of it)."""

from __future__ import annotations

from sqlglot import exp

from video_insights.model.client_segments import BROWSER_SDKS, NATIVE_SDK, PLATFORM_SDK_LABELS, UNKNOWN
from video_insights.query.sql import q

# Which participants a graph counts, by whether they had issues.
_ISSUES = {"all": "TRUE", "with": "has_issues", "without": "NOT coalesce(has_issues, FALSE)"}
ISSUE_FILTERS = tuple(_ISSUES)


def any_room(account_sid: str) -> exp.Expr:
    """One row if the account has any dashboard data."""
    return q("SELECT room_sid FROM room_facts WHERE account_sid = :a LIMIT 1", a=account_sid)


def rooms_by_bucket(account_sid: str, since: int, until: int, step: int) -> exp.Expr:
    """(bucket, rooms, rooms with issues) of rooms created in [since, until)."""
    return q("SELECT create_ms - create_ms % :step AS b, count(*), sum(CASE WHEN has_issues THEN 1 ELSE 0 END) "
             "FROM room_facts WHERE account_sid = :a AND create_ms >= :since AND create_ms < :until GROUP BY b",
             a=account_sid, since=since, until=until, step=step)


def segment_value(column: str) -> exp.Expr:
    """A segment's value: `column` of participant_facts, "Unknown" where it is NULL. `column` must be
    an allow-listed participant_facts column: it is written into the query."""
    return q(f"coalesce({column}, :unknown)", unknown=UNKNOWN)


def browser_segment() -> exp.Expr:
    """The browser segment's value (model/client_segments.py): the browser, or a native SDK's platform."""
    platforms = " ".join(f"WHEN :os{i} THEN :label{i}" for i in range(len(PLATFORM_SDK_LABELS)))
    values: dict[str, str] = {}
    for i, (os_name, label) in enumerate(PLATFORM_SDK_LABELS.items()):
        values[f"os{i}"], values[f"label{i}"] = os_name, label
    return q(
        f"CASE WHEN coalesce(browser_name, :unknown) = :unknown AND coalesce(sdk_name, :unknown) <> :unknown "
        f"AND sdk_name NOT IN :browser_sdks THEN CASE coalesce(os_name, '') {platforms} ELSE :native END "
        f"ELSE coalesce(browser_name, :unknown) END",
        unknown=UNKNOWN, browser_sdks=BROWSER_SDKS, native=NATIVE_SDK, **values)


def participants_by_bucket(account_sid: str, since: int, until: int, step: int, value: exp.Expr, issues: str
                           ) -> exp.Expr:
    """(bucket, `value` (segment_value or browser_segment), participants) of participants who joined in
    [since, until), `issues` (one of ISSUE_FILTERS) choosing them by their issues."""
    return q(f"SELECT join_ms - join_ms % :step AS b, :value AS v, count(*) "
             f"FROM participant_facts WHERE account_sid = :a AND join_ms >= :since AND join_ms < :until "
             f"AND {_ISSUES[issues]} GROUP BY b, v", a=account_sid, since=since, until=until, step=step, value=value)


def first_room(account_sid: str) -> exp.Expr:
    """(first room's create_ms, rooms) of the account's dashboard data; with the count, because
    ClickHouse's min() over no rows is 0, not NULL."""
    return q("SELECT min(create_ms), count(*) FROM room_facts WHERE account_sid = :a", a=account_sid)


def participant_minutes(account_sid: str, since: int, until: int, step: int) -> exp.Expr:
    """(bucket, participant minutes) of participants who joined in [since, until)."""
    return q("SELECT join_ms - join_ms % :step AS b, sum(coalesce(duration_sec, 0)) / 60.0 FROM participant_facts "
             "WHERE account_sid = :a AND join_ms >= :since AND join_ms < :until GROUP BY b",
             a=account_sid, since=since, until=until, step=step)


def recording_minutes(account_sid: str, since: int, until: int, step: int) -> exp.Expr:
    """(bucket, recording minutes) of rooms created in [since, until)."""
    return q("SELECT create_ms - create_ms % :step AS b, sum(coalesce(recording_sec, 0)) / 60.0 FROM room_facts "
             "WHERE account_sid = :a AND create_ms >= :since AND create_ms < :until GROUP BY b",
             a=account_sid, since=since, until=until, step=step)


def of_account(table: str, account_sid: str) -> exp.Expr:
    """Every row (every column) of one account in a fact table (`table`: room_facts or participant_facts)."""
    if table not in ("room_facts", "participant_facts"):
        raise ValueError(f"{table} is not a fact table")
    return q(f"SELECT * FROM {table} WHERE account_sid = :a", a=account_sid)
