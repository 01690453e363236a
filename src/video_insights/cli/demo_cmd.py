"""`demo`: write generated, realistic call data for an account."""

from __future__ import annotations

import click

from video_insights import accounts
from video_insights.cli.main import emit, fails_cleanly, main, settings_for, store_option
from video_insights.demo.generator import generate
from video_insights.store import open_store


@main.command()
@click.option("--days", default=7, show_default=True, type=click.IntRange(1, 14),
              help="Days of data, ending now.")
@click.option("--rooms-per-day", default=300, show_default=True, type=click.IntRange(1, 1_000_000),
              help="Rooms per day on average (weekdays get more, weekends fewer).")
@click.option("--seed", default=0, show_default=True, type=int, help="Same seed, same data.")
@click.option("--account", default=None, help="Existing account SID (AC…) to fill; default: a new account.")
@store_option
@fails_cleanly
def demo(days: int, rooms_per_day: int, seed: int, account: str | None, store: str | None) -> None:
    """Write generated call data (progress on stderr); prints the account's credentials and what was made."""
    settings = settings_for(store)
    s = open_store(settings.store)
    s.migrate()
    if account is not None:
        credentials: dict[str, str] = {"account_sid": accounts.get_account(s, account).sid}
    else:
        new = accounts.create_account(s, friendly_name="Demo data")
        key = accounts.create_key(s, new.sid, friendly_name="Demo data")
        credentials = {"account_sid": new.sid, "auth_token": new.auth_token, "key_sid": key.sid,
                       "key_secret": key.secret}
    summary = generate(s, settings, account_sid=credentials["account_sid"], days=days,
                       rooms_per_day=rooms_per_day, seed=seed)
    emit({**credentials, "rooms": summary.rooms, "participants": summary.participants,
          "samples": summary.samples, "events": summary.events, "seconds": summary.seconds,
          "participants_with_issue": summary.issues})
