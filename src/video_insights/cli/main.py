"""The `video-insights` command. Exit status: 0 success, 2 bad usage, 1 failure (one line on stderr)."""

from __future__ import annotations

import importlib
import sys
from collections.abc import Callable
from functools import wraps
from pathlib import Path
from typing import Any, NoReturn, TypeVar

import click
import orjson

from video_insights import __version__
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


class OneLineErrors(click.Group):
    """Click prints usage errors over several lines; the contract is one line on stderr.

    Commands with heavy imports (the web app, the demo generator) load when they are named, so that
    every other command starts without them.
    """

    LAZY = {"serve": "video_insights.cli.serve_cmd", "demo": "video_insights.cli.demo_cmd"}

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted({*super().list_commands(ctx), *self.LAZY})

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name not in self.commands and cmd_name in self.LAZY:
            importlib.import_module(self.LAZY[cmd_name])  # the module registers its command on `main`
        return super().get_command(ctx, cmd_name)

    def main(self, args: Any = None, prog_name: str | None = None, complete_var: str | None = None,
             standalone_mode: bool = True, **extra: Any) -> Any:
        if not standalone_mode:
            return super().main(args, prog_name, complete_var, standalone_mode, **extra)
        try:
            rv = super().main(args, prog_name, complete_var, standalone_mode=False, **extra)
        except click.exceptions.NoArgsIsHelpError as e:  # bare `video-insights`: show the help
            e.show()
            sys.exit(e.exit_code)
        except click.ClickException as e:
            hint = f" (see '{e.ctx.command_path} --help')" if isinstance(e, click.UsageError) and e.ctx else ""
            fail(e.format_message() + hint, e.exit_code)
        except click.Abort:
            fail("aborted", 1)
        sys.exit(rv if isinstance(rv, int) else 0)


def emit(value: Any) -> None:
    click.echo(orjson.dumps(value, option=orjson.OPT_INDENT_2).decode())


@click.group(cls=OneLineErrors, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="video-insights")
def main() -> None:
    """Video Insights: call-quality analytics for WebRTC video applications."""


from video_insights.cli import admin, alerts_cmd  # noqa: E402  (commands register on `main`; see OneLineErrors.LAZY)

__all__ = ["Path", "admin", "alerts_cmd", "emit", "fail", "fails_cleanly", "main", "settings_for", "sid_option",
           "store_option"]
