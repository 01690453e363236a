"""A throwaway PostgreSQL cluster on 127.0.0.1, for tests and benchmarks: initdb into a new directory,
start it on a free port, stop it by PID and delete the directory when done.

Debian's packages put the server binaries in /usr/lib/postgresql/<version>/bin (not on PATH). As root
the cluster runs as the `postgres` user, since PostgreSQL refuses to run as root.
"""

from __future__ import annotations

import glob
import os
import pwd
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from pathlib import Path

import psycopg


def binaries() -> Path | None:
    """The directory holding initdb and postgres, or None when PostgreSQL is not installed."""
    found = shutil.which("initdb")
    if found:
        return Path(found).resolve().parent
    versions = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"), key=lambda p: int(Path(p).parts[-3]))
    return Path(versions[-1]).parent if versions else None


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class LocalCluster:
    """`with LocalCluster() as pg: pg.url` — a private server with a `video_insights` database."""

    def __init__(self, *, settings: dict[str, str] | None = None, base: str | None = None) -> None:
        self.bin = binaries()
        if self.bin is None:
            raise FileNotFoundError("PostgreSQL server binaries (initdb) not found: apt-get install postgresql")
        self.settings = settings or {}
        self.dir = Path(tempfile.mkdtemp(prefix="vi-pg-", dir=base))
        self.port = _free_port()
        self.url = f"postgresql://postgres@127.0.0.1:{self.port}/video_insights"
        self.admin_url = f"postgresql://postgres@127.0.0.1:{self.port}/postgres"
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self) -> LocalCluster:
        uid = gid = None
        if os.geteuid() == 0:
            owner = pwd.getpwnam("postgres")
            uid, gid = owner.pw_uid, owner.pw_gid
            os.chown(self.dir, uid, gid)
        data = self.dir / "data"
        assert self.bin is not None
        done = subprocess.run([str(self.bin / "initdb"), "-D", str(data), "-U", "postgres", "--auth=trust",
                               "--no-locale", "-E", "UTF8", "--no-sync"], check=False, capture_output=True,
                              text=True, user=uid, group=gid)
        if done.returncode != 0:  # e.g. a parent directory the postgres user cannot enter
            shutil.rmtree(self.dir, ignore_errors=True)
            raise RuntimeError(f"initdb failed in {data}: {done.stderr.strip()}")
        options = ["-c", "listen_addresses=127.0.0.1", "-c", f"port={self.port}",
                   "-c", f"unix_socket_directories={self.dir}", "-c", "fsync=off"]
        for k, v in self.settings.items():
            options += ["-c", f"{k}={v}"]
        with open(self.dir / "server.log", "wb") as log:  # the child keeps its own descriptor
            self.proc = subprocess.Popen([str(self.bin / "postgres"), "-D", str(data), *options],
                                         stdout=subprocess.DEVNULL, stderr=log, user=uid, group=gid)
        deadline = time.time() + 60
        while True:
            try:
                with psycopg.connect(self.admin_url, autocommit=True, connect_timeout=2) as conn:
                    conn.execute("CREATE DATABASE video_insights")
                return self
            except psycopg.OperationalError:
                if time.time() > deadline or self.proc.poll() is not None:
                    self.stop()
                    raise RuntimeError(f"PostgreSQL did not start: see {self.dir / 'server.log'}") from None
                time.sleep(0.2)

    def database(self, name: str) -> str:
        """A new empty database on this server; its URL."""
        with psycopg.connect(self.admin_url, autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{name}"'.encode())
        return f"postgresql://postgres@127.0.0.1:{self.port}/{name}"

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGINT)  # "fast" shutdown: roll back clients, stop
            try:
                self.proc.wait(timeout=60)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        shutil.rmtree(self.dir, ignore_errors=True)

    def __enter__(self) -> LocalCluster:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
