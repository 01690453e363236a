"""A gzip bomb against a real `serve` process: 1 MB that inflates to 1 GB of spaces is refused while the
server's resident memory stays flat (its peak measured from /proc), alone and four at once. The same
process's access log shows that a token put in a URL is masked."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import zlib
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from conftest import make_account
from support import Creds, free_port, wait_until_up
from video_insights.ingest.auth import mint_token
from video_insights.store.duckdb_store import DuckDBStore

EXE = shutil.which("video-insights") or str(Path(sys.executable).parent / "video-insights")
MB = 1 << 20
GROWTH_LIMIT = 50 * MB


@dataclass
class Process:
    url: str
    pid: int
    creds: Creds
    log: Path

    def status(self, field: str) -> int:
        """A /proc/PID/status memory field (VmRSS, VmHWM) in bytes."""
        for line in Path(f"/proc/{self.pid}/status").read_text().splitlines():
            if line.startswith(field + ":"):
                return int(line.split()[1]) * 1024
        raise AssertionError(f"{field} not in /proc/{self.pid}/status")

    def reset_peak(self) -> int:
        """Start a new peak (writing 5 to clear_refs resets VmHWM); the resident size now."""
        Path(f"/proc/{self.pid}/clear_refs").write_text("5")
        return self.status("VmRSS")


@pytest.fixture(scope="module")
def serve(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Process]:
    if not Path("/proc/self/clear_refs").exists():
        pytest.skip("needs Linux /proc to measure the server's memory")
    path = tmp_path_factory.mktemp("bomb") / "vi.duckdb"
    store = DuckDBStore(path)
    store.migrate()
    creds = make_account(store)
    store.close()
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("VIDEO_INSIGHTS_")}
    env.update({"VIDEO_INSIGHTS_STORE": f"duckdb:///{path}", "VIDEO_INSIGHTS_LOG_LEVEL": "info"})
    log = path.with_suffix(".log")
    with log.open("wb") as out:
        proc = subprocess.Popen([EXE, "serve", "--port", str(port)], env=env, stdout=out, stderr=subprocess.STDOUT)
    try:
        url = f"http://127.0.0.1:{port}"
        wait_until_up(url + "/healthz", proc, "serve")
        yield Process(url, proc.pid, creds, log)
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()


@pytest.fixture(scope="module")
def bomb() -> bytes:
    """1 GB of spaces, gzip-compressed to about 1 MB."""
    deflate = zlib.compressobj(9, zlib.DEFLATED, 31)
    block = b" " * (16 * MB)
    data = b"".join(deflate.compress(block) for _ in range(64)) + deflate.flush()
    assert len(data) < 2 * MB
    return data


def post_bomb(serve: Process, data: bytes) -> httpx.Response:
    return httpx.post(f"{serve.url}/v1/Video/Imports", content=data, auth=serve.creds.basic, timeout=120,
                      params={"FileName": "bomb.json.gz"})


def test_a_gzip_bomb_is_refused_with_flat_memory(serve: Process, bomb: bytes) -> None:
    post_bomb(serve, b"warm-up")  # the route's first call imports and allocates what every later call shares
    before = serve.reset_peak()
    r = post_bomb(serve, bomb)
    assert r.status_code == 400 and "decompression bomb" in r.json()["message"], r.text
    growth = serve.status("VmHWM") - before
    assert growth < GROWTH_LIMIT, f"resident memory grew by {growth / MB:.1f} MB"


def test_four_bombs_at_once(serve: Process, bomb: bytes) -> None:
    before = serve.reset_peak()
    with ThreadPoolExecutor(4) as pool:
        answers = list(pool.map(lambda _: post_bomb(serve, bomb), range(4)))
    assert all(r.status_code == 400 for r in answers)
    growth = serve.status("VmHWM") - before
    assert growth < GROWTH_LIMIT, f"resident memory grew by {growth / MB:.1f} MB"
    assert httpx.get(f"{serve.url}/healthz").status_code == 200


def test_a_token_in_a_url_is_refused_and_masked_in_the_access_log(serve: Process) -> None:
    token = mint_token(serve.creds.account_sid, serve.creds.key_sid, serve.creds.key_secret, "alice")
    r = httpx.post(f"{serve.url}/v1/VideoEvents", params={"token": token}, json=[])
    assert r.status_code == 400
    log = serve.log.read_text()
    assert "/v1/VideoEvents?token=[redacted]" in log
    assert token not in log and token.split(".")[2] not in log
