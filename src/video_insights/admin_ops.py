"""Administrative operations, run by the CLI on the store directly, or by a running server on the CLI's
behalf when the server holds the store (DuckDB lets one process open a file).

Each operation takes JSON-able arguments and returns a JSON-able result, so the same function serves
both paths: `cli.remote.run` picks the path. A running `serve` tells where it listens through a control
file beside the store it holds (`write_control`), which the CLI reads (`live_server`).
"""

from __future__ import annotations

import base64
import os
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import orjson

from video_insights import accounts
from video_insights.errors import BadRequest
from video_insights.ingest import dump_import
from video_insights.model.issues import IssueType
from video_insights.model.vocabulary import RoomType
from video_insights.processing.pipeline import Pipeline
from video_insights.settings import Settings
from video_insights.store.base import Store
from video_insights.store.retention import purge as purge_store


def control_path(store_url: str) -> Path | None:
    """`<file>.server.json` beside a DuckDB file, `<dir>.server.json` beside a chDB directory."""
    for prefix in ("duckdb:///", "chdb://"):
        if store_url.startswith(prefix):
            return Path(store_url[len(prefix):].rstrip("/") + ".server.json")
    return None


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


def live_server(store_url: str) -> dict[str, Any] | None:
    """The control file's content if the process that wrote it still runs; None if there is none."""
    path = control_path(store_url)
    if path is None or not path.exists():
        return None
    try:
        info: dict[str, Any] = orjson.loads(path.read_bytes())
        os.kill(int(info["pid"]), 0)
    except (OSError, ValueError, KeyError, TypeError, orjson.JSONDecodeError):
        return None
    return info



@dataclass
class OpContext:
    store: Store
    settings: Settings
    pipeline: Pipeline


Operation = Callable[..., Any]
OPERATIONS: dict[str, Operation] = {}


def operation(fn: Operation) -> Operation:
    OPERATIONS[fn.__name__] = fn
    return fn


@operation
def migrate(ctx: OpContext, cluster: str | None = None) -> dict[str, Any]:
    """`cluster`: apply the schema as Replicated tables behind Distributed ones on this ClickHouse
    cluster (store.clickhouse.cluster) instead of as the store's own tables."""
    if cluster is None:
        return {"store": ctx.store.url, "applied": ctx.store.migrate()}
    from video_insights.store.clickhouse.cluster import cluster_for, migrate_cluster
    from video_insights.store.clickhouse.store import ClickHouseStore

    target = cluster_for(ctx.store.url, cluster)
    if not isinstance(ctx.store, ClickHouseStore):
        raise BadRequest(f"--cluster {cluster}: needs a ClickHouse server store")
    return {"store": ctx.store.url, "cluster": target.name, "applied": migrate_cluster(ctx.store, target)}


@operation
def accounts_create(ctx: OpContext, friendly_name: str | None = None, parent: str | None = None,
                    sid: str | None = None, auth_token: str | None = None) -> dict[str, Any]:
    a = accounts.create_account(ctx.store, friendly_name=friendly_name, parent=parent, sid=sid,
                                auth_token=auth_token)
    return {"account_sid": a.sid, "auth_token": a.auth_token, "parent_account_sid": a.parent_sid}


@operation
def keys_create(ctx: OpContext, account: str, sid: str | None = None, secret: str | None = None,
                livekit_key: str | None = None, livekit_secret: str | None = None) -> dict[str, Any]:
    k = accounts.create_key(ctx.store, account, sid=sid, secret=secret, livekit_key=livekit_key,
                            livekit_secret=livekit_secret)
    return {"sid": k.sid, "secret": k.secret, **({"livekit_key": k.livekit_api_key} if k.livekit_api_key else {})}


@operation
def import_dumps(ctx: OpContext, files: list[dict[str, str]], account: str, room_type: str = RoomType.GROUP,
                 identity: str | None = None) -> list[dict[str, Any]]:
    """`files`: [{"name", "data" (base64)}]. Every file is checked before any is written."""
    owner = accounts.get_account(ctx.store, account)

    def build(f: dict[str, str]) -> dump_import.ImportedDump:
        try:
            data = base64.b64decode(f["data"], validate=True)
        except (KeyError, ValueError):
            raise BadRequest(f"{f.get('name', 'file')}: not base64 data") from None
        return dump_import.build(data, account_sid=owner.sid, file_name=f.get("name", ""), room_type=room_type,
                                 identity=identity)

    for f in files:  # one that is not a dump leaves the store as it was
        build(f)
    results = []
    for f in files:  # built again rather than kept: one file's samples in memory at a time
        stored = dump_import.store(ctx.pipeline, build(f))
        results.append({"file": f.get("path", f.get("name", "")), **stored.to_json()})
    return results


@operation
def accounts_settings(ctx: OpContext, account: str, changes: list[str]) -> dict[str, Any]:
    """Per-account issue switches and thresholds: changes like "packet_loss.threshold=3" or
    "high_jitter.enabled=false"."""
    a = accounts.get_account(ctx.store, account)
    settings = dict(a.settings or {})
    issues = dict(settings.get("issues", {}))
    for change in changes:
        issue_type, what, raw = _issue_change(change)
        entry = dict(issues.get(issue_type, {}))
        entry[what] = raw.lower() == "true" if what == "enabled" else float(raw)
        issues[issue_type] = entry
    settings["issues"] = issues
    return {"account_sid": a.sid, "settings": accounts.update_settings(ctx.store, a.sid, settings).settings}


def _issue_change(change: str) -> tuple[str, str, str]:
    name, _, raw = change.partition("=")
    issue_type, _, what = name.strip().partition(".")
    if issue_type not in {t.value for t in IssueType}:
        raise BadRequest(f"--set {change!r}: unknown issue type {issue_type!r}")
    if what == "enabled" and raw.lower() in ("true", "false"):
        return issue_type, what, raw
    if what == "threshold":
        try:
            if float(raw) >= 0:
                return issue_type, what, raw
        except ValueError:
            pass
    raise BadRequest(f"--set {change!r}: expected ISSUE.threshold=NUMBER or ISSUE.enabled=true|false")


@operation
def purge(ctx: OpContext, dry_run: bool = False) -> dict[str, Any]:
    counts = purge_store(ctx.store, ctx.settings, dry_run=dry_run)
    return {"dry_run": dry_run, "would_remove" if dry_run else "removed": counts}


@operation
def demo(ctx: OpContext, days: int = 7, rooms_per_day: int = 300, seed: int = 0, account: str | None = None,
         progress: bool = True) -> dict[str, Any]:
    from video_insights.demo.generator import generate

    if account is not None:
        credentials: dict[str, str] = {"account_sid": accounts.get_account(ctx.store, account).sid}
    else:
        new = accounts.create_account(ctx.store, friendly_name="Demo data")
        key = accounts.create_key(ctx.store, new.sid, friendly_name="Demo data")
        credentials = {"account_sid": new.sid, "auth_token": new.auth_token, "key_sid": key.sid,
                       "key_secret": key.secret}
    summary = generate(ctx.store, ctx.settings, account_sid=credentials["account_sid"], days=days,
                       rooms_per_day=rooms_per_day, seed=seed, progress=progress)
    return {**credentials, "rooms": summary.rooms, "participants": summary.participants,
            "samples": summary.samples, "events": summary.events, "seconds": summary.seconds,
            "participants_with_issue": summary.issues}


@operation
def alerts_create(ctx: OpContext, account: str, rule: dict[str, Any]) -> dict[str, Any]:
    """`rule`: as `POST /v1/Video/AlertRules` takes it."""
    from video_insights.alerts import rules
    from video_insights.alerts.decide import console_base

    owner = accounts.get_account(ctx.store, account)
    made = rules.create(ctx.store, rules.parse_rule(rule, owner.sid,
                                                    allow_private=ctx.settings.alerts_allow_private_urls))
    return made.to_json(console_base(ctx.settings), with_secret=True)


@operation
def alerts_list(ctx: OpContext, account: str) -> list[dict[str, Any]]:
    from video_insights.alerts import rules
    from video_insights.alerts.decide import console_base

    owner = accounts.get_account(ctx.store, account)
    return [r.to_json(console_base(ctx.settings)) for r in rules.list_rules(ctx.store, owner.sid)]


@operation
def alerts_delete(ctx: OpContext, account: str, sid: str) -> dict[str, Any]:
    from video_insights.alerts import rules
    from video_insights.alerts.decide import console_base

    owner = accounts.get_account(ctx.store, account)
    return rules.delete(ctx.store, owner.sid, sid).to_json(console_base(ctx.settings))


@operation
def alerts_history(ctx: OpContext, account: str, rule: str | None = None, limit: int = 50) -> list[dict[str, Any]]:
    from video_insights.alerts import outbox
    from video_insights.alerts.decide import console_base

    owner = accounts.get_account(ctx.store, account)
    rows = outbox.history(ctx.store, owner.sid, rule_sid=rule, limit=max(1, min(limit, 1000)))
    return [outbox.alert_json(r, console_base(ctx.settings)) for r in rows]
