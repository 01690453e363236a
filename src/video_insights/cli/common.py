"""What every command shares: the store option, settings, its one-line errors, SID options, JSON output."""

from __future__ import annotations

import sys
from collections.abc import Callable
from functools import wraps
from typing import Any, NoReturn, TypeVar

import click
import orjson

from video_insights.errors import BadRequest, VideoInsightsError
from video_insights.model.ids import is_sid, normalise_sid
from video_insights.settings import Settings

F = TypeVar("F", bound=Callable[..., Any])

store_option = click.option("--store", envvar="VIDEO_INSIGHTS_STORE", default=None,
                            help="Store URL (default duckdb:///video-insights-data/video-insights.duckdb).")


def settings_for(store: str | None, **overrides: Any) -> Settings:
    try:
        return Settings.from_env(store=store, **overrides)
    except ValueError as e:
        raise click.UsageError(str(e)) from None


def fail(message: object, status: int) -> NoReturn:
    """The one line on stderr, and the exit status."""
    click.echo(f"error: {' '.join(str(message).split())}", err=True)
    sys.exit(status)


def fails_cleanly(fn: F) -> F:
    """Turn our errors into one line on stderr and exit status 1 (2 for bad input)."""

    @wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return fn(*args, **kwargs)
        except click.ClickException:
            raise  # usage errors: the group words them
        except BadRequest as e:
            fail(e.message, 2)
        except VideoInsightsError as e:
            fail(e.message, 1)
        except OSError as e:
            fail(e, 1)
        except Exception as e:  # a bug: still one line, and a failure status rather than a traceback
            fail(f"internal error ({type(e).__name__}: {e})", 1)

    return wrapper  # type: ignore[return-value]


def sid_option(prefix: str) -> Callable[[click.Context, click.Parameter, str | None], str | None]:
    """A click callback: the option must be a SID with this prefix (else exit status 2)."""

    def check(ctx: click.Context, param: click.Parameter, value: str | None) -> str | None:
        if value is None:
            return None
        if not is_sid(value, prefix):
            raise click.BadParameter(f"expected {prefix} followed by 32 hex digits, got {value!r}")
        return normalise_sid(value)

    return check


def emit(value: Any) -> None:
    click.echo(orjson.dumps(value, option=orjson.OPT_INDENT_2).decode())
