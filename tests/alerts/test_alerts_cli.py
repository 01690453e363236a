"""`video-insights alerts …` as a user runs it, in a subprocess on a DuckDB file: rules made, listed,
deleted, the history read; bad input exits 2 with one line on stderr."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import orjson


def _run(store: str, *args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "video_insights", *args, "--store", store], capture_output=True,
                          text=True, timeout=120, env={**os.environ, **(env or {})}, check=False)


def _ok(r: subprocess.CompletedProcess[str]) -> Any:
    assert r.returncode == 0, r.stderr
    return orjson.loads(r.stdout)


def _refused(r: subprocess.CompletedProcess[str], words: str) -> None:
    assert r.returncode == 2, (r.stdout, r.stderr)
    assert len(r.stderr.splitlines()) == 1 and words in r.stderr, r.stderr


def test_alert_rules_from_the_command_line(tmp_path: Path) -> None:
    store = f"duckdb:///{tmp_path / 'vi.duckdb'}"
    account = _ok(_run(store, "accounts", "create"))["account_sid"]
    hook = "http://127.0.0.1:9/hook"
    _refused(_run(store, "alerts", "create", "--account", account, "--url", hook, "--issue-type", "packet_loss"),
             "loopback")
    allow = {"VIDEO_INSIGHTS_ALERTS_ALLOW_PRIVATE_URLS": "true"}
    _refused(_run(store, "alerts", "create", "--account", account, "--url", hook, "--issue-type", "loud"), "loud")
    _refused(_run(store, "alerts", "create", "--account", account, "--url", hook, "--issue-type", "packet_loss",
                  "--filter", "colour__eq=red", env=allow), "colour")
    _refused(_run(store, "alerts", "create", "--account", account, "--url", hook), "--issue-type or --share-pct")
    made = _ok(_run(store, "alerts", "create", "--account", account, "--url", hook, "--issue-type", "packet_loss",
                    "--filter", "room_type__eq=group", "--friendly-name", "on-call", env=allow))
    assert made["sid"].startswith("AL") and made["secret"] and made["filters"] == {"room_type__eq": "group"}
    window = _ok(_run(store, "alerts", "create", "--account", account, "--url", hook, "--share-pct", "20",
                      "--min-rooms", "5", "--format", "slack", env=allow))
    assert window["trigger"]["cooldown_minutes"] == 15 and window["format"] == "slack"
    listed = _ok(_run(store, "alerts", "list", "--account", account))
    assert [r["sid"] for r in listed] == [made["sid"], window["sid"]] and "secret" not in listed[0]
    assert _ok(_run(store, "alerts", "history", "--account", account)) == []
    assert _ok(_run(store, "alerts", "delete", made["sid"], "--account", account))["date_deleted"]
    assert [r["sid"] for r in _ok(_run(store, "alerts", "list", "--account", account))] == [window["sid"]]
    r = _run(store, "alerts", "delete", made["sid"], "--account", account)
    assert r.returncode == 1 and "not found" in r.stderr
