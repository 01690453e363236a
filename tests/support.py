"""Helpers the test modules share: credentials, a real uvicorn server on 127.0.0.1 in a thread, and
the recorded getStats series as twilio-video.js stats reports."""

from __future__ import annotations

import gzip
import os
import re
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import orjson
import uvicorn

from video_insights.ingest.getstats import snapshot_to_gateway_payload
from video_insights.settings import Settings
from video_insights.web.uvicorn_config import uvicorn_config

SERIES = Path(__file__).parent / "data" / "getstats" / "chromium156"
SDK_VERSION = "2.36.0"
SDK_FRAMES = Path(__file__).parent / "data" / "twilio-video-js" / SDK_VERSION
REPORT_EVERY = 10  # the series has one getStats() a second; twilio-video.js publishes every 10 s


@dataclass
class Creds:
    account_sid: str
    auth_token: str
    key_sid: str
    key_secret: str

    @property
    def basic(self) -> tuple[str, str]:
        return (self.account_sid, self.auth_token)


def csrf_of(html: str) -> str:
    """The CSRF token a console page's forms carry."""
    found = re.search(r'name="csrf" value="([^"]+)"', html)
    assert found, "no CSRF token in the page"
    return found.group(1)


def console_login(client: httpx.Client, creds: Creds, next: str = "/") -> httpx.Response:
    """Sign in the way a browser does: fetch the login form (its CSRF cookie and token), post it."""
    form = client.get("/login", headers={"accept": "text/html"})
    return client.post("/login", data={"username": creds.account_sid, "password": creds.auth_token, "next": next,
                                       "csrf": csrf_of(form.text)})


def console_post(client: httpx.Client, path: str, data: dict[str, str]) -> httpx.Response:
    """A console form post with the CSRF token of the page the form is on."""
    page = client.get("/login", headers={"accept": "text/html"})
    return client.post(path, data={**data, "csrf": csrf_of(page.text)})


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_until_up(url: str, proc: subprocess.Popen[bytes], what: str, timeout: float = 60) -> None:
    """Return once GET `url` answers 200; fail if `proc` exits first or `timeout` passes."""
    deadline = time.time() + timeout
    while True:
        try:
            if httpx.get(url, timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        if time.time() > deadline or proc.poll() is not None:
            raise RuntimeError(f"{what} did not start")
        time.sleep(0.1)


def start_serve(store_url: str, port: int, env: dict[str, str]) -> subprocess.Popen[bytes]:
    """`video-insights serve` as a process of its own (one a test can `kill -9`), once it answers;
    `env` adds to this process's environment."""
    proc = subprocess.Popen([sys.executable, "-m", "video_insights", "serve", "--store", store_url,
                             "--port", str(port)], env={**os.environ, **env})
    wait_until_up(f"http://127.0.0.1:{port}/healthz", proc, f"serve on {store_url}")
    return proc


@contextmanager
def running(cmd: list[str], ready_url: str, what: str, env: dict[str, str] | None = None) -> Iterator[None]:
    """Run `cmd` as a process of its own until the block ends, once GET `ready_url` answers; stopped by
    its PID (killed if it does not stop within 30 s)."""
    proc = subprocess.Popen(cmd, env=env)
    try:
        wait_until_up(ready_url, proc, what)
        yield
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()


@contextmanager
def serving(app: Any, port: int | None = None) -> Iterator[str]:
    """Run `app` on `port` (else a free one) until the block ends; yields its base URL."""
    # Port 0 lets the kernel choose while binding, so parallel test processes can't pick the same one.
    services = getattr(app.state, "services", None)
    settings = services.settings if services is not None else Settings()
    server = uvicorn.Server(uvicorn_config(app, settings, host="127.0.0.1", port=port or 0, log_level="warning"))
    if services is not None:  # live-view streams end when the server starts to stop, as under `serve`
        services.live_hub.stopping = lambda: server.should_exit
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.time() + 20
    while not server.started:
        if time.time() > deadline or not thread.is_alive():
            raise RuntimeError("the test server did not start")
        time.sleep(0.02)
    port = port or int(server.servers[0].sockets[0].getsockname()[1])
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=20)


def getstats_series(name: str) -> list[dict[str, Any]]:
    """One recorded series (`tests/data/getstats/chromium156/NAME.jsonl.gz`): a getStats() a second."""
    with gzip.open(SERIES / f"{name}.jsonl.gz") as f:
        return [orjson.loads(line) for line in f]


def shift_timestamps(value: Any, offset: float) -> Any:
    """Move every timestamp of a recorded report to now: the gateway takes only recent events."""
    if isinstance(value, dict):
        return {k: (v + offset if k == "timestamp" and isinstance(v, (int, float))
                    else shift_timestamps(v, offset)) for k, v in value.items()}
    if isinstance(value, list):
        return [shift_timestamps(v, offset) for v in value]
    return value


def sdk_frames(name: str) -> list[dict[str, Any]]:
    """Frames twilio-video.js really sent (recorded by tests/e2e/test_twilio_video_sdk.py), moved to
    now (the gateway takes recent events only): each event's timestamp and its stats entries' (those
    with a time: a placeholder keeps its 0)."""
    from video_insights.ingest.gateway_wire import LISTS

    frames = [orjson.loads(line) for line in (SDK_FRAMES / f"{name}.jsonl").read_text().splitlines()]
    offset = int(time.time() * 1000) - 5_000 - max(f.get("timestamp", 0) for f in frames)
    for frame in frames:
        if "timestamp" in frame:
            frame["timestamp"] += offset
        if frame.get("name") == "stats-report":
            for key in LISTS:
                for entry in frame["payload"].get(key, []):
                    if entry.get("timestamp"):
                        entry["timestamp"] += offset
    return frames


def gateway_reports(lines: list[dict[str, Any]], label: str, offset: float, every: int = REPORT_EVERY
                    ) -> list[tuple[int, dict[str, Any]]]:
    """One peer's (`sender`, `receiver`) stats reports as twilio-video.js publishes them, every tenth
    second (or `every`) and the last: (timestamp, payload)."""
    mine = [ln for ln in lines if ln["label"] == label]
    chosen = [ln for i, ln in enumerate(mine) if i % every == 0 or i == len(mine) - 1]
    out = []
    for ln in chosen:
        stats = {s["id"]: s for s in shift_timestamps(ln["stats"], offset)}
        out.append((int(ln["clientTs"] + offset), snapshot_to_gateway_payload(stats, f"pc-{label}")))
    return out


def twilio_sign(auth_token: str, url: str, params: dict[str, str]) -> str:
    """`X-Twilio-Signature` as Twilio computes it. twilio-python's RequestValidator is the oracle: a
    test signing with the product's own signer would pass whatever that signer gets wrong."""
    from twilio.request_validator import RequestValidator

    return str(RequestValidator(auth_token).compute_signature(url, params))


def callback_room(url: str, account_sid: str, auth_token: str, room_name: str) -> str:
    """A completed room from an hour ago with one participant, through signed status callbacks."""
    from datetime import UTC, datetime, timedelta
    from uuid import uuid4

    room, participant = "RM" + uuid4().hex, "PA" + uuid4().hex
    start = datetime.now(UTC) - timedelta(hours=1)
    target = f"{url}/webhooks/twilio"
    for event, t, extra in (("room-created", 0, {}),
                            ("participant-connected", 1, {"ParticipantSid": participant}),
                            ("participant-disconnected", 100, {"ParticipantSid": participant,
                                                               "ParticipantDuration": "99"}),
                            ("room-ended", 101, {"RoomDuration": "101"})):
        params = {"AccountSid": account_sid, "RoomSid": room, "RoomName": room_name, "RoomType": "group",
                  "StatusCallbackEvent": event, "ParticipantIdentity": "alice",
                  "Timestamp": (start + timedelta(seconds=t)).strftime("%Y-%m-%dT%H:%M:%SZ"), **extra}
        r = httpx.post(target, data=params, timeout=30,
                       headers={"X-Twilio-Signature": twilio_sign(auth_token, target, params)})
        assert r.status_code == 200, r.text
    return room


class Receiver:
    """A real HTTP server on 127.0.0.1 that takes alert deliveries: it records each request (headers,
    raw body, when) and answers the next status of `answers` (200 once they run out), `delay_s` after
    the request came."""

    def __init__(self, port: int | None = None, answers: list[int] | None = None, delay_s: float = 0) -> None:
        from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

        self.answers = list(answers or [])
        self.received: list[tuple[dict[str, str], bytes, float]] = []
        self.lock = threading.Lock()
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("content-length", "0")))
                with outer.lock:
                    outer.received.append(({k.lower(): v for k, v in self.headers.items()}, body, time.time()))
                    status = outer.answers.pop(0) if outer.answers else 200
                time.sleep(delay_s)
                self.send_response(status)
                self.send_header("content-length", "0")
                self.end_headers()

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", port or 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hook"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def wait_for(self, n: int, timeout: float = 20) -> list[tuple[dict[str, str], bytes, float]]:
        deadline = time.time() + timeout
        while len(self.received) < n:
            assert time.time() < deadline, f"{len(self.received)} deliveries, expected {n} within {timeout} s"
            time.sleep(0.02)
        return list(self.received)

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


# Alerts (tests/alerts, tests/console): settings that make deliveries quick, and a call with 10 % loss.
# Reports alone would wait an hour for a summary: only an account with a participant_issue rule is hurried.
ALERTS_FAST = {"writer_flush_ms": 20, "alerts_allow_private_urls": True, "alerts_retry_base_s": 0.1,
               "alerts_summary_delay_s": 0.5, "summary_delay_s": 3600}


@contextmanager
def sdk_session(url: str, creds: Creds, connect_frame: dict[str, Any], room: str, participant: str, *,
                identity: str, room_name: str | None = None) -> Iterator[Callable[[list[dict[str, Any]]], None]]:
    """A gateway session opened with a recorded twilio-video.js connect frame (see `sdk_frames`), for
    this room and participant; yields a function that sends frames in it."""
    from websockets.sync.client import connect

    from video_insights.ingest.auth import mint_token

    frame = {**connect_frame, "token": mint_token(creds.account_sid, creds.key_sid, creds.key_secret, identity)}
    frame["publisher"] = {**frame["publisher"], "roomSid": room, "participantSid": participant,
                          **({"roomName": room_name} if room_name else {})}
    with connect(url.replace("http://", "ws://") + "/v1/VideoEvents") as ws:
        ws.send(orjson.dumps(frame).decode())
        answer = orjson.loads(ws.recv(timeout=10))
        assert answer["type"] == "connected", answer

        def send(chosen: list[dict[str, Any]]) -> None:
            for f in chosen:
                ws.send(orjson.dumps({**f, "session": answer["session"]}).decode())

        yield send


HEADLESS_CHROME = ("Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) "
                   "HeadlessChrome/156.0.0.0 Safari/537.36")


def publish_reports(url: str, creds: Creds, room: str, identity: str, reports: list[tuple[int, dict[str, Any]]],
                    *, participant: str | None = None, sdk_version: str = "2.36.0") -> str:
    """Stats reports (see `gateway_reports`) over the gateway's WebSocket, as twilio-video.js or the
    collector publish them, for a participant (a new one unless given); returns its sid."""
    from websockets.sync.client import connect

    from video_insights.ingest.auth import mint_token
    from video_insights.model.ids import new_sid

    participant = participant or new_sid("PA")
    token = mint_token(creds.account_sid, creds.key_sid, creds.key_secret, identity)
    with connect(url.replace("http://", "ws://") + "/v1/VideoEvents") as ws:
        ws.send(orjson.dumps({"type": "connect", "token": token, "version": 1, "publisher": {
            "name": "twilio-video.js", "sdkVersion": sdk_version, "participantSid": participant, "roomSid": room,
            "userAgent": HEADLESS_CHROME}}).decode())
        answer = orjson.loads(ws.recv(timeout=10))
        assert answer["type"] == "connected", answer
        for ts, payload in reports:
            ws.send(orjson.dumps({"type": "event", "version": 1, "session": answer["session"], "group": "quality",
                                  "name": "stats-report", "timestamp": ts, "payload": payload}).decode())
    return participant


def send_call(url: str, creds: Creds, room: str, participant: str, *, leave: bool = False) -> float:
    """A participant's frames as twilio-video.js sent them (10 % loss) over the gateway; returns when
    the last was sent."""
    connect_frame, *events = sdk_frames("loss10")
    with sdk_session(url, creds, connect_frame, room, participant, identity="alerted") as send:
        send(events if leave else events[:-1])
        return time.time()


def make_rule(api: httpx.Client, url: str, trigger: dict[str, Any], **extra: Any) -> dict[str, Any]:
    r = api.post("/v1/Video/AlertRules", json={"friendly_name": "loss", "trigger": trigger, "url": url, **extra})
    assert r.status_code == 201, r.text
    return dict(r.json())


def alert_history(api: httpx.Client, **params: str) -> list[dict[str, Any]]:
    r = api.get("/v1/Video/Alerts", params=params)
    assert r.status_code == 200, r.text
    return list(r.json()["alerts"])


def alerts_settled(api: httpx.Client, outcome: str, timeout: float = 10) -> list[dict[str, Any]]:
    deadline = time.time() + timeout
    while not (found := [a for a in alert_history(api) if a["outcome"] == outcome]):
        assert time.time() < deadline, f"no alert {outcome} within {timeout} s: {alert_history(api)}"
        time.sleep(0.05)
    return found
