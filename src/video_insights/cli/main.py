"""The `video-insights` command. Exit status: 0 success, 2 bad usage, 1 failure (one line on stderr)."""

from __future__ import annotations

import importlib
import sys
from typing import Any

import click

from video_insights import __version__
from video_insights.cli import admin, alerts_cmd
from video_insights.cli.common import fail


class OneLineErrors(click.Group):
    """Click prints usage errors over several lines; the contract is one line on stderr.

    Commands with heavy imports (the web app, the demo generator) load when they are named, so that
    every other command starts without them: LAZY names the module that defines each, as an attribute
    of the command's name.
    """

    LAZY = {"serve": "video_insights.cli.serve_cmd", "demo": "video_insights.cli.demo_cmd"}

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted({*super().list_commands(ctx), *self.LAZY})

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name not in self.commands and cmd_name in self.LAZY:
            command = getattr(importlib.import_module(self.LAZY[cmd_name]), cmd_name)
            assert isinstance(command, click.Command)
            self.add_command(command, cmd_name)
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


@click.group(cls=OneLineErrors, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="video-insights")
def main() -> None:
    """Video Insights: call-quality analytics for WebRTC video applications."""


# Each command module defines its commands; the group is put together here, so that no command module
# imports this one.
for command in (*admin.COMMANDS, *alerts_cmd.COMMANDS):
    main.add_command(command)
