"""`demo`: write generated, realistic call data for an account."""

from __future__ import annotations

import click

from video_insights.cli import remote
from video_insights.cli.common import emit, fails_cleanly, settings_for, store_option


@click.command()
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
    emit(remote.run(settings_for(store), "demo", days=days, rooms_per_day=rooms_per_day, seed=seed,
                    account=account))
