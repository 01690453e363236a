"""A 2xx means stored (docs/durability.md): threads send signed Twilio status callbacks and gateway
batches (a connect and six stats reports each) to a real `serve` process, which gets `kill -9` at a
random moment, three times over; after the last restart every acknowledged callback and batch is
readable through the API, summarised (room and participant found), with its reports in /Metrics. And
SIGTERM commits what the server holds before it exits."""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import orjson
import pytest
from twilio.request_validator import RequestValidator
from websockets.sync.client import connect

from conftest import STORE_URLS, account_in
from support import (
    Creds,
    free_port,
    gateway_reports,
    getstats_series,
    shift_timestamps,
    start_serve,
    wait_until_up,
)
from video_insights.ingest.auth import mint_token
from video_insights.model.ids import new_sid
from video_insights.query.filters import iso
from video_insights.store import open_store

CYCLES = 3
THREADS = {"twilio": 2, "batch": 2}
REPORTS = 6
# The defaults that matter: summaries wait 15 s, so what the server acknowledged in the seconds before
# each kill is committed and not yet summarised; only the store can say it is still to be done.
ENV = {"VIDEO_INSIGHTS_LOG_LEVEL": "warning", "VIDEO_INSIGHTS_SUMMARY_DELAY_S": "15"}


@dataclass
class Acked:
    """What the server acknowledged, by thread; each thread appends to its own lists."""

    callbacks: list[tuple[str, str]] = field(default_factory=list)  # (room, participant)
    batches: list[tuple[str, str]] = field(default_factory=list)
    attempts: int = 0
    refused: int = 0


class Load:
    def __init__(self, url: str, creds: Creds) -> None:
        self.url = url
        self.creds = creds
        self.stop = threading.Event()
        self.acked = Acked()
        self.lock = threading.Lock()
        self.token = mint_token(creds.account_sid, creds.key_sid, creds.key_secret, "crash", ttl=3600)
        # Six of the recorded reports (3 s apart), spread 10 s apart as twilio-video.js sends them and
        # ending 5 s ago: one 10-second interval each.
        recorded = gateway_reports(getstats_series("pw_simulcast"), "sender", 0, every=3)[:REPORTS]
        end = time.time() * 1000 - 5_000
        self.reports = []
        for i, (ts, payload) in enumerate(recorded):
            shift = end - (REPORTS - 1 - i) * 10_000 - ts
            self.reports.append((int(ts + shift), shift_timestamps(payload, shift)))
        self.validator = RequestValidator(creds.auth_token)

    def _send(self, client: httpx.Client, request: Callable[[httpx.Client], httpx.Response]) -> bool:
        with self.lock:
            self.acked.attempts += 1
        try:
            r = request(client)
        except httpx.HTTPError:
            with self.lock:
                self.acked.refused += 1
            time.sleep(0.05)
            return False
        if r.status_code >= 500:
            return False
        assert r.status_code == 200, r.text
        return True

    def _callback(self, client: httpx.Client, params: dict[str, str]) -> bool:
        url = f"{self.url}/webhooks/twilio"
        signature = self.validator.compute_signature(url, params)
        return self._send(client, lambda c: c.post(url, data=params, headers={"X-Twilio-Signature": signature}))

    def twilio(self) -> None:
        with httpx.Client(timeout=30) as client:
            while not self.stop.is_set():
                room, participant = new_sid("RM"), new_sid("PA")
                common = {"AccountSid": self.creds.account_sid, "RoomSid": room, "RoomName": f"crash-{room[-6:]}",
                          "RoomType": "group", "RoomStatus": "in-progress"}
                if not self._callback(client, {**common, "StatusCallbackEvent": "room-created",
                                               "Timestamp": iso(int(time.time() * 1000)), "SequenceNumber": "0"}):
                    continue
                if self._callback(client, {**common, "StatusCallbackEvent": "participant-connected",
                                           "ParticipantSid": participant, "ParticipantIdentity": "alice",
                                           "ParticipantStatus": "connected", "SequenceNumber": "1",
                                           "Timestamp": iso(int(time.time() * 1000))}):
                    with self.lock:
                        self.acked.callbacks.append((room, participant))

    def batches(self) -> None:
        with httpx.Client(timeout=30, headers={"Authorization": f"Bearer {self.token}"}) as client:
            while not self.stop.is_set():
                room, participant = new_sid("RM"), new_sid("PA")
                messages: list[dict[str, Any]] = [{"type": "connect", "version": 1, "publisher": {
                    "name": "twilio-video.js", "sdkVersion": "2.28.1", "roomSid": room, "participantSid": participant,
                    "userAgent": "Mozilla/5.0 (X11; Linux x86_64) Chrome/156.0.0.0 Safari/537.36"}}]
                messages += [{"type": "event", "version": 1, "group": "quality", "name": "stats-report",
                              "timestamp": ts, "payload": payload} for ts, payload in self.reports]
                body = orjson.dumps(messages)
                url = f"{self.url}/v1/VideoEvents"
                if self._send(client, lambda c, u=url, b=body: c.post(u, content=b)):  # type: ignore[misc]
                    with self.lock:
                        self.acked.batches.append((room, participant))

    def run(self) -> list[threading.Thread]:
        threads = [threading.Thread(target=self.twilio, daemon=True) for _ in range(THREADS["twilio"])]
        threads += [threading.Thread(target=self.batches, daemon=True) for _ in range(THREADS["batch"])]
        for t in threads:
            t.start()
        return threads


def _serve(store_url: str, port: int) -> subprocess.Popen[bytes]:
    return start_serve(store_url, port, ENV)


def _unread(url: str, creds: Creds, acked: list[tuple[str, str]], batches: set[tuple[str, str]]
            ) -> list[tuple[str, str, str]]:
    """The acknowledged items the API does not show (yet): (room, participant, what is missing)."""
    missing = []
    with httpx.Client(base_url=url, auth=creds.basic, timeout=30) as client:
        for room, participant in acked:
            base = f"/v1/Video/Rooms/{room}/Participants/{participant}"
            r = client.get(base)
            if r.status_code != 200:
                missing.append((room, participant, f"participant {r.status_code}"))
            elif (room, participant) in batches:
                points = [len(t["points"]) for t in client.get(base + "/Metrics").json()["send"]]
                if not points or min(points) < REPORTS:
                    missing.append((room, participant, f"metrics points {points}"))
    return missing


@pytest.mark.parametrize("engine", sorted(STORE_URLS))
def test_nothing_acknowledged_is_lost_to_kill_9(engine: str, tmp_path: Path) -> None:
    store_url = STORE_URLS[engine].format(dir=tmp_path)
    creds = account_in(store_url)
    port = free_port()
    load = Load(f"http://127.0.0.1:{port}", creds)
    rng = random.Random()
    threads: list[threading.Thread] = []
    try:
        for cycle in range(CYCLES):
            proc = _serve(store_url, port)
            threads = threads or load.run()
            before = len(load.acked.callbacks) + len(load.acked.batches)
            time.sleep(rng.uniform(1.0, 3.0))
            os.kill(proc.pid, signal.SIGKILL)
            proc.wait(timeout=30)
            after = len(load.acked.callbacks) + len(load.acked.batches)
            assert after > before, f"cycle {cycle}: nothing was acknowledged before the kill"
    finally:
        load.stop.set()
        for t in threads:
            t.join(timeout=60)
    acked = load.acked.callbacks + load.acked.batches
    assert load.acked.callbacks and load.acked.batches

    proc = _serve(store_url, port)
    try:
        deadline = time.time() + 30
        while True:
            missing = _unread(load.url, creds, acked, set(load.acked.batches))
            if not missing or time.time() > deadline:
                break
            time.sleep(0.5)
        assert missing == [], f"{len(missing)} of {len(acked)} acknowledged items lost: {missing[:5]}"
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=30)


def test_sigterm_commits_what_was_received_before_exiting(tmp_path: Path) -> None:
    """Reports received over the WebSocket wait in memory for the writer's next commit (here 10 s
    away); SIGTERM commits them, and summarises their room, before the process exits."""
    store_url = STORE_URLS["duckdb"].format(dir=tmp_path)
    creds = account_in(store_url)
    port = free_port()
    load = Load(f"http://127.0.0.1:{port}", creds)
    room, participant = new_sid("RM"), new_sid("PA")
    proc = subprocess.Popen([sys.executable, "-m", "video_insights", "serve", "--store", store_url,
                             "--port", str(port)], env={**os.environ, **ENV, "VIDEO_INSIGHTS_WRITER_FLUSH_MS": "10000"})
    try:
        wait_until_up(f"http://127.0.0.1:{port}/healthz", proc, "serve")
        with connect(f"ws://127.0.0.1:{port}/v1/VideoEvents") as ws:
            ws.send(orjson.dumps({"type": "connect", "token": load.token, "version": 1, "publisher": {
                "name": "twilio-video.js", "sdkVersion": "2.28.1", "roomSid": room,
                "participantSid": participant}}).decode())
            session = orjson.loads(ws.recv(timeout=10))["session"]
            deadline = time.time() + 30  # the connect is committed at once (the writer was idle)
            while not httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=10).json()["pipeline"]["events"]:
                assert time.time() < deadline
                time.sleep(0.05)
            for ts, payload in load.reports:
                ws.send(orjson.dumps({"type": "event", "version": 1, "session": session, "group": "quality",
                                      "name": "stats-report", "timestamp": ts, "payload": payload}).decode())
            seen: list[int] = []  # samples the server holds, until all six reports are in (no change for 1 s)
            while len(seen) < 10 or len(set(seen[-10:])) > 1 or not seen[-1]:
                health = httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=10).json()["pipeline"]
                seen.append(health["pending_samples"])
                time.sleep(0.1)
            assert health["samples"] == 0, "nothing is committed before the writer's interval"
            proc.send_signal(signal.SIGTERM)
            # uvicorn shuts down gracefully, then raises the signal again (exit status -15).
            assert proc.wait(timeout=60) in (0, -signal.SIGTERM)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(timeout=30)
    store = open_store(store_url)
    try:
        _, samples = store.fetch(f"SELECT count(DISTINCT ts_ms) FROM stream_samples WHERE participant_sid = "
                                 f"'{participant}'")
        _, rooms = store.fetch(f"SELECT count(*) FROM participants WHERE participant_sid = '{participant}'")
    finally:
        store.close()
    assert samples == [(REPORTS,)]
    assert rooms == [(1,)]
