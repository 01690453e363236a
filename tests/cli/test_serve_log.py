"""`video-insights serve` shows why the gateway refused something: a WARNING on its stderr naming the
reason and the participant, rate-limited, and the count in /healthz."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import httpx
import orjson
from websockets.sync.client import connect

from support import free_port, wait_until_up
from video_insights.ingest.auth import mint_token
from video_insights.model.ids import new_sid

EXE = shutil.which("video-insights") or str(Path(sys.executable).parent / "video-insights")


def _cli(env: dict[str, str], *args: str) -> dict[str, str]:
    r = subprocess.run([EXE, *args], capture_output=True, text=True, env=env, timeout=120, check=True)
    return dict(orjson.loads(r.stdout))


def test_rejections_are_logged_as_warnings(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("VIDEO_INSIGHTS_")}
    env |= {"VIDEO_INSIGHTS_STORE": f"duckdb:///{tmp_path / 'vi.duckdb'}", "PYTHONWARNINGS": "ignore"}
    account = _cli(env, "accounts", "create")
    key = _cli(env, "keys", "create", "--account", account["account_sid"])
    port = free_port()
    stderr = tmp_path / "stderr.txt"
    with stderr.open("w") as err:
        server = subprocess.Popen([EXE, "serve", "--port", str(port)], env=env, stderr=err)
        try:
            wait_until_up(f"http://127.0.0.1:{port}/healthz", server, "serve")
            participant = new_sid("PA")
            token = mint_token(account["account_sid"], key["sid"], key["secret"], "alice")
            with connect(f"ws://127.0.0.1:{port}/v1/VideoEvents") as ws:
                ws.send(orjson.dumps({"type": "connect", "token": token, "publisher": {
                    "roomSid": new_sid("RM"), "participantSid": participant}}).decode())
                assert orjson.loads(ws.recv(timeout=10))["type"] == "connected"
                for _ in range(5):
                    ws.send("{not json")
            deadline = time.time() + 20
            while httpx.get(f"http://127.0.0.1:{port}/healthz").json()["gateway_rejections"]["malformed_json"] < 5:
                assert time.time() < deadline, "the rejections were not counted"
                time.sleep(0.1)
        finally:
            server.terminate()
            server.wait(timeout=30)
    lines = [ln for ln in stderr.read_text().splitlines() if "rejected" in ln]
    # Five alike within seconds: the first is logged, the others are counted for the next line.
    assert len(lines) == 1, stderr.read_text()
    assert lines[0].startswith("WARNING:") and "malformed_json" in lines[0] and participant in lines[0]
