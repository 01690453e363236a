"""`serve`: ingest, REST API and web UI in one process."""

from __future__ import annotations

import contextlib
import logging
import sys

import click
import uvicorn
from fastapi import FastAPI

from video_insights.app import create_app
from video_insights.cli.common import fails_cleanly, settings_for, store_option
from video_insights.runtime import tune_gc
from video_insights.web.uvicorn_config import uvicorn_config


@click.command()
@click.option("--host", default=None, help="Listen address (default 127.0.0.1).")
@click.option("--port", default=None, type=click.IntRange(0, 65535), help="Port (default 8000).")
@click.option("--demo", is_flag=True,
              help="Print a demo account's credentials and, the first time, fill it with a week of demo data "
                   "while serving.")
# Smaller demos for tests of the fill itself (interrupting it, restarting); not for users.
@click.option("--demo-rooms-per-day", default=None, type=click.IntRange(1, 100_000), hidden=True)
@store_option
@fails_cleanly
def serve(host: str | None, port: int | None, demo: bool, demo_rooms_per_day: int | None, store: str | None) -> None:
    """Run the service."""
    settings = settings_for(store, host=host, port=port)
    app = create_app(settings)
    url = f"http://{settings.host}:{settings.port}"
    if demo:
        start_demo(app, url, demo_rooms_per_day)
    # Other commands run on this store through us while we hold it (cli.remote); the app publishes
    # this URL on start-up and withdraws it on shutdown.
    local = "127.0.0.1" if settings.host in ("0.0.0.0", "::") else settings.host
    app.state.control_url = f"http://{local}:{settings.port}"
    tune_gc()
    show_logs(settings.log_level)
    server = uvicorn.Server(uvicorn_config(app, settings, host=settings.host, port=settings.port,
                                          log_level=settings.log_level))
    # Live-view streams never end by themselves: they close when the server starts to stop, or its
    # drain would wait for them forever (web/live_hub.py).
    app.state.services.live_hub.stopping = lambda: server.should_exit
    with contextlib.suppress(KeyboardInterrupt):
        server.run()
    if not server.started:
        sys.exit(3)  # what uvicorn.run exits with when the server could not start


def show_logs(level: str) -> None:
    """Our own loggers to stderr at the service's log level. uvicorn configures only its loggers, and
    without a handler Python prints a bare message for warnings and nothing below them: a rejected
    gateway event (ingest.rejections) must show, with its level and source, in the server's output."""
    logger = logging.getLogger("video_insights")
    if not logger.handlers:
        handler = logging.StreamHandler()
        handler.setFormatter(logging.Formatter("%(levelname)s:     %(name)s: %(message)s"))
        logger.addHandler(handler)
        logger.propagate = False
    # uvicorn's "trace" is below DEBUG, a level the logging module does not name.
    logger.setLevel(logging.getLevelNamesMapping().get(level.upper(), logging.DEBUG))


def start_demo(app: FastAPI, url: str, rooms_per_day: int | None) -> None:
    """Print the demo account's credentials; the app fills it in the background if it is not complete."""
    from video_insights.demo.progress import DemoProgress, TerminalBar
    from video_insights.demo.seed import DEMO_ROOMS_PER_DAY, DemoFill, demo_account

    svc = app.state.services
    account = demo_account(svc.store)
    creds = account.credentials
    state = ("ready" if account.filled else
             "ready; its week of data is being written while the server runs (progress: the console, /healthz)")
    click.echo(f"Demo account {state}: {url}/\n  account SID: {creds['account_sid']}\n"
               f"  auth token:  {creds['auth_token']}\n"
               f"  try: curl -u {creds['account_sid']}:{creds['auth_token']} '{url}/v1/Video/Rooms?_range=7d'")
    bar = None
    if not account.filled:
        # Started before uvicorn sets up its logging, so that its log lines print above the bar.
        bar = TerminalBar()
        bar.start()
    svc.demo = DemoFill(svc.store, svc.settings, account, DemoProgress(bar), rooms_per_day or DEMO_ROOMS_PER_DAY)
