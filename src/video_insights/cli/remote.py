"""Run an admin operation on the store, or through the `serve` process that holds it.

DuckDB lets one process open a file. A running `serve` writes a control file beside the store (its
URL and a one-time secret, readable by the owner only); a command that finds the store locked reads it
and asks the server to run the same operation. A user never has to stop the service to add an account.
"""

from __future__ import annotations

import os
import secrets
from pathlib import Path
from typing import Any

import httpx
import orjson

from video_insights.admin_ops import OPERATIONS, OpContext
from video_insights.errors import BadRequest, NotFound, StoreUnavailable, VideoInsightsError
from video_insights.processing.pipeline import Pipeline
from video_insights.settings import Settings
from video_insights.store import open_store
from video_insights.store.duckdb_store import StoreLocked


def control_path(store_url: str) -> Path | None:
    if not store_url.startswith("duckdb:///"):
        return None
    return Path(store_url[len("duckdb:///"):] + ".server.json")


def write_control(store_url: str, url: str) -> tuple[Path, str] | None:
    """Called by `serve`: publish where the server listens, and the secret its admin route takes."""
    path = control_path(store_url)
    if path is None:
        return None
    token = secrets.token_urlsafe(32)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as f:
        f.write(orjson.dumps({"url": url, "pid": os.getpid(), "token": token}))
    return path, token


def run(settings: Settings, op: str, **kwargs: Any) -> Any:
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
    info = orjson.loads(path.read_bytes())
    try:
        os.kill(int(info["pid"]), 0)
    except (OSError, ValueError, KeyError):
        raise StoreUnavailable(f"{locked.message}; its control file {path} is stale") from None
    try:
        r = httpx.post(f"{info['url']}/_admin/ops/{op}", json=kwargs, timeout=None,
                       headers={"Authorization": f"Bearer {info['token']}"})
    except httpx.HTTPError as e:
        raise StoreUnavailable(f"{locked.message}, and its server at {info['url']} did not answer ({e})") from None
    body = r.json() if r.headers.get("content-type", "").startswith("application/json") else {}
    if r.status_code == 200:
        return body["result"]
    message = body.get("message", r.text[:200])
    if r.status_code == 400:
        raise BadRequest(message)
    if r.status_code == 404:
        raise NotFound(message)
    raise VideoInsightsError(message)
