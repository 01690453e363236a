"""Run an admin operation on the store, or through the `serve` process that holds it.

DuckDB lets one process open a file, and chDB one process a directory. A running `serve` writes a
control file beside the store (its URL and a one-time secret, readable by the owner only); a command
that finds the store held reads it and asks the server to run the same operation. A user never has to
stop the service to add an account. A ClickHouse server takes many clients: no control file, no route.

The two engines are asked differently. DuckDB is tried first and refuses cleanly when held. chDB is
not tried while a live server's control file is there: its refusal writes ClickHouse's own messages
to stderr from below Python, and the command's contract is one line there.
"""

from __future__ import annotations

from typing import Any

import httpx

from video_insights.admin_ops import OPERATIONS, OpContext, control_path, live_server
from video_insights.errors import BadRequest, NotFound, StoreUnavailable, VideoInsightsError
from video_insights.processing.pipeline import Pipeline
from video_insights.settings import Settings
from video_insights.store import open_store
from video_insights.store.duckdb_store import StoreLocked


def run(settings: Settings, op: str, **kwargs: Any) -> Any:
    if settings.store.startswith("chdb://"):
        server = live_server(settings.store)
        if server is not None:
            return _post(server, op, kwargs, f"the chDB store {settings.store} is held by serve (pid {server['pid']})")
    try:
        store = open_store(settings.store, memory_limit=settings.duckdb_memory_limit, settings=settings)
    except StoreLocked as locked:
        return _through_server(settings, locked, op, kwargs)
    try:
        if op != "migrate":  # a command on a new store makes its schema first
            store.migrate()
        return OPERATIONS[op](OpContext(store, settings, Pipeline(store, settings)), **kwargs)
    finally:
        store.close()


def _through_server(settings: Settings, locked: StoreLocked, op: str, kwargs: dict[str, Any]) -> Any:
    path = control_path(settings.store)
    if path is None or not path.exists():
        raise locked
    info = live_server(settings.store)
    if info is None:
        raise StoreUnavailable(f"{locked.message}; its control file {path} is stale")
    return _post(info, op, kwargs, locked.message)


def _post(info: dict[str, Any], op: str, kwargs: dict[str, Any], why: str) -> Any:
    try:
        r = httpx.post(f"{info['url']}/_admin/ops/{op}", json=kwargs, timeout=None,
                       headers={"Authorization": f"Bearer {info['token']}"})
    except (httpx.HTTPError, KeyError) as e:
        raise StoreUnavailable(f"{why}, and its server did not answer ({e})") from None
    body = r.json() if r.headers.get("content-type", "").startswith("application/json") else {}
    if r.status_code == 200:
        return body["result"]
    message = body.get("message", r.text[:200])
    if r.status_code == 400:
        raise BadRequest(message)
    if r.status_code == 404:
        raise NotFound(message)
    raise VideoInsightsError(message)
