"""`video-insights alerts …`: an account's alert rules and the alerts they fired (docs/alerts.md)."""

from __future__ import annotations

from typing import Any

import click

from video_insights.cli import remote
from video_insights.cli.common import emit, fails_cleanly, settings_for, sid_option, store_option


@click.group("alerts")
def alerts_group() -> None:
    """Alert rules: who is told, and when, that quality broke."""


def _filters(given: tuple[str, ...]) -> dict[str, str]:
    out = {}
    for item in given:
        name, sep, value = item.partition("=")
        if not sep or "__" not in name:
            raise click.BadParameter(f"expected FIELD__OP=VALUE (such as room_type__eq=group), got {item!r}",
                                     param_hint="--filter")
        out[name.strip()] = value
    return out


@alerts_group.command("create")
@click.option("--account", required=True, callback=sid_option("AC"), help="The account the rule watches.")
@click.option("--url", required=True, help="Where alerts are posted (http or https).")
@click.option("--issue-type", default=None, help="participant_issue: fire when a participant is first tagged.")
@click.option("--share-pct", type=float, default=None,
              help="rooms_with_issues_share: fire when this % of the window's rooms have issues.")
@click.option("--window-minutes", type=int, default=15, show_default=True, help="The window of --share-pct.")
@click.option("--min-rooms", type=int, default=1, show_default=True, help="Fewer rooms in the window: no alert.")
@click.option("--cooldown-minutes", type=int, default=None, help="Quiet time after a window alert (default: "
                                                                 "the window).")
@click.option("--filter", "filters", multiple=True, metavar="FIELD__OP=VALUE",
              help="Only rooms passing this rooms-list filter (repeatable).")
@click.option("--format", "fmt", type=click.Choice(["json", "slack"]), default="json", show_default=True)
@click.option("--friendly-name", default="")
@store_option
@fails_cleanly
def alerts_create(account: str, url: str, issue_type: str | None, share_pct: float | None, window_minutes: int,
                  min_rooms: int, cooldown_minutes: int | None, filters: tuple[str, ...], fmt: str,
                  friendly_name: str, store: str | None) -> None:
    """Create a rule; prints it with its signing secret (shown this once)."""
    if (issue_type is None) == (share_pct is None):
        raise click.UsageError("give either --issue-type or --share-pct")
    trigger: dict[str, Any]
    if issue_type is not None:
        trigger = {"type": "participant_issue", "issue_type": issue_type}
    else:
        trigger = {"type": "rooms_with_issues_share", "threshold_pct": share_pct, "window_minutes": window_minutes,
                   "min_rooms": min_rooms}
        if cooldown_minutes is not None:
            trigger["cooldown_minutes"] = cooldown_minutes
    rule: dict[str, Any] = {"friendly_name": friendly_name, "trigger": trigger, "url": url, "format": fmt}
    if filters:
        rule["filters"] = _filters(filters)
    emit(remote.run(settings_for(store), "alerts_create", account=account, rule=rule))


@alerts_group.command("list")
@click.option("--account", required=True, callback=sid_option("AC"))
@store_option
@fails_cleanly
def alerts_list(account: str, store: str | None) -> None:
    """The account's rules."""
    emit(remote.run(settings_for(store), "alerts_list", account=account))


@alerts_group.command("delete")
@click.argument("sid", callback=sid_option("AL"))
@click.option("--account", required=True, callback=sid_option("AC"))
@store_option
@fails_cleanly
def alerts_delete(sid: str, account: str, store: str | None) -> None:
    """Delete a rule: it fires no more; its alerts stay in the history."""
    emit(remote.run(settings_for(store), "alerts_delete", account=account, sid=sid))


@alerts_group.command("history")
@click.option("--account", required=True, callback=sid_option("AC"))
@click.option("--rule", default=None, callback=sid_option("AL"), help="Only this rule's alerts.")
@click.option("--limit", type=click.IntRange(1, 1000), default=50, show_default=True)
@store_option
@fails_cleanly
def alerts_history(account: str, rule: str | None, limit: int, store: str | None) -> None:
    """Alerts fired, newest first, with each delivery's attempts and outcome."""
    emit(remote.run(settings_for(store), "alerts_history", account=account, rule=rule, limit=limit))


COMMANDS = (alerts_group,)
