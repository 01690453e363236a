"""The `video-insights` command on a chDB store (`chdb:///dir`), as a user runs it: the installed script
in a subprocess. chDB, like DuckDB, lets one process open the store, so while `serve` holds it the
commands go through that server; when it stops, they open the directory themselves again."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import httpx
import pytest

from support import free_port, wait_until_up

EXE = shutil.which("video-insights") or str(Path(sys.executable).parent / "video-insights")
DUMP = Path(__file__).parent.parent / "data" / "webrtc-internals" / "chromium156" / "loss8.rtcstats-dump.gz"


class ChdbCli:
    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self.url = f"chdb://{directory}"
        self.control = Path(f"{directory}.server.json")

    def env(self, **extra: str) -> dict[str, str]:
        environ = {k: v for k, v in os.environ.items() if not k.startswith("VIDEO_INSIGHTS_")}
        return {**environ, "VIDEO_INSIGHTS_STORE": self.url, "PYTHONWARNINGS": "ignore", **extra}

    def run(self, *args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([EXE, *args], capture_output=True, text=True, env=self.env(), timeout=180, check=False)

    def ok(self, *args: str) -> Any:
        r = self.run(*args)
        assert r.returncode == 0, f"exit {r.returncode}: {r.stderr}"
        return json.loads(r.stdout)


@pytest.fixture
def cli(tmp_path: Path) -> ChdbCli:
    return ChdbCli(tmp_path / "vi-chdb")




def test_commands_work_while_serve_holds_the_chdb_store(cli: ChdbCli) -> None:
    assert cli.ok("migrate")["applied"]  # the CLI's own store first: it is made, then handed to serve
    port = free_port()
    server = subprocess.Popen([EXE, "serve", "--port", str(port)], env=cli.env(VIDEO_INSIGHTS_LOG_LEVEL="warning"))
    base = f"http://127.0.0.1:{port}"
    try:
        wait_until_up(base + "/healthz", server, "serve")
        assert cli.control.exists() and (cli.control.stat().st_mode & 0o777) == 0o600
        account = cli.ok("accounts", "create", "--friendly-name", "while serving chDB")
        assert account["account_sid"].startswith("AC")
        (made,) = cli.ok("import", str(DUMP), "--account", account["account_sid"])
        dry = cli.ok("purge", "--dry-run")
        assert dry["dry_run"] is True and "would_remove" in dry
        # A failure through the server is still one line on stderr (no such parent: exit 1).
        bad = cli.run("accounts", "create", "--parent", "AC" + "0" * 32)
        assert bad.returncode == 1 and len(bad.stderr.splitlines()) == 1, bad.stderr
        # What the command made through the server is the server's: the account reads its room.
        auth = (account["account_sid"], account["auth_token"])
        r = httpx.get(f"{base}/v1/Video/Rooms/{made['room_sid']}", auth=auth, timeout=30)
        assert r.status_code == 200 and r.json()["issue_types"] == ["packet_loss"]
    finally:
        server.terminate()
        server.wait(timeout=60)
    assert not cli.control.exists()  # the server cleans up after itself
    again = cli.ok("accounts", "create")  # and the directory is the CLI's own again
    assert again["account_sid"] != account["account_sid"]


def test_a_stale_control_file_does_not_stop_the_cli(cli: ChdbCli) -> None:
    """A server that died without cleaning up (kill -9) left its control file; its pid is gone, so the
    command opens the directory itself (chDB's lock died with the process)."""
    cli.ok("migrate")
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    cli.control.write_text(json.dumps({"url": "http://127.0.0.1:9", "pid": dead.pid, "token": "x"}))
    assert cli.ok("accounts", "create")["account_sid"].startswith("AC")


def test_migrate_cluster_on_chdb_is_a_usage_error(cli: ChdbCli) -> None:
    r = cli.run("migrate", "--cluster", "vi")
    assert r.returncode == 2 and r.stderr.count("\n") == 1 and "clickhouse://" in r.stderr, r.stderr
    assert not cli.directory.exists()  # refused before anything was opened


def test_migrate_print_shows_the_ddl_it_would_run(cli: ChdbCli) -> None:
    r = cli.run("migrate", "--print")
    assert r.returncode == 0, r.stderr
    statements = [s for s in r.stdout.split(";\n") if s]
    assert statements[0].startswith("CREATE TABLE IF NOT EXISTS schema_migrations")
    assert any(s.startswith("CREATE TABLE IF NOT EXISTS rooms (") for s in statements)
    assert not cli.directory.exists()  # printing opens nothing
