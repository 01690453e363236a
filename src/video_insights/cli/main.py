"""The `video-insights` command. Exit status: 0 success, 2 bad usage, 1 failure (one line on stderr)."""

from __future__ import annotations

import sys
from collections.abc import Callable
from functools import wraps
from pathlib import Path
from typing import Any, TypeVar

import click
import orjson

from video_insights import __version__
from video_insights.errors import BadRequest, VideoInsightsError
from video_insights.settings import Settings

F = TypeVar("F", bound=Callable[..., Any])

store_option = click.option("--store", envvar="VIDEO_INSIGHTS_STORE", default=None,
                            help="Store URL (default duckdb:///video-insights-data/video-insights.duckdb).")


def settings_for(store: str | None, **overrides: Any) -> Settings:
    try:
        return Settings.from_env(store=store, **overrides)
    except ValueError as e:
        raise click.UsageError(str(e)) from None


def fails_cleanly(fn: F) -> F:
    """Turn our errors into one line on stderr and exit status 1 (2 for bad input)."""

    @wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return fn(*args, **kwargs)
        except BadRequest as e:
            click.echo(f"error: {e.message}", err=True)
            sys.exit(2)
        except VideoInsightsError as e:
            click.echo(f"error: {e.message}", err=True)
            sys.exit(1)
        except OSError as e:
            click.echo(f"error: {e}", err=True)
            sys.exit(1)

    return wrapper  # type: ignore[return-value]


def emit(value: Any) -> None:
    click.echo(orjson.dumps(value, option=orjson.OPT_INDENT_2).decode())


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="video-insights")
def main() -> None:
    """Video Insights: call-quality analytics for WebRTC video applications."""


from video_insights.cli import admin, serve_cmd  # noqa: E402  (commands register on `main`)

__all__ = ["Path", "admin", "emit", "fails_cleanly", "main", "serve_cmd", "settings_for", "store_option"]
