"""The report workers (ingest/report_workers.py): the WebSocket's stats reports parsed into columns in
worker processes store exactly what the server's own path would, a malformed report or entry is
refused and counted the same way, and a worker killed with SIGKILL mid-stream loses nothing."""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import time
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path
from typing import Any

import httpx
import numpy as np
import orjson
import pytest
import uvloop
from websockets.sync.client import connect

from conftest import account_in
from support import free_port, start_serve
from video_insights.errors import BadRequest
from video_insights.ingest.auth import mint_token
from video_insights.ingest.gateway import Gateway, GatewaySession
from video_insights.ingest.gateway_wire import ROW_COLUMNS
from video_insights.ingest.rejections import Reason, Rejections
from video_insights.ingest.report_workers import Job, ReportWorkers, parse
from video_insights.model.ids import new_sid
from video_insights.model.records import Event, Source
from video_insights.processing.pipeline import Pipeline
from video_insights.settings import Settings
from video_insights.store import Store, open_store
from video_insights.store.columns import columns_of
from video_insights.store.schema import STREAM_SAMPLES

DATA = Path(__file__).parents[1] / "data" / "twilio-video-js" / "2.36.0"


def _recorded_reports() -> list[dict[str, Any]]:
    """The stats-report messages twilio-video.js 2.36.0 sent in recorded calls (clean, and 10 % loss)."""
    out = []
    for name in ("clean.jsonl", "loss10.jsonl"):
        lines = (orjson.loads(line) for line in (DATA / name).read_text().splitlines() if line.strip())
        out += [m for m in lines if m.get("group") == "quality" and m.get("name") == "stats-report"]
    return out


def _hostile_variants(report: dict[str, Any]) -> list[dict[str, Any]]:
    """Reports a client could send: an entry of the wrong shape, a list that is not one, an SSRC out of
    range, a payload that is not an object, strings where numbers belong, and script in every string."""
    payload = report["payload"]
    out: list[dict[str, Any]] = []
    bad_entry = {**payload, "localAudioTrackStats": [*payload["localAudioTrackStats"], {"ssrc": -1}]}
    out.append({**report, "payload": bad_entry})
    out.append({**report, "payload": {**payload, "localVideoTrackStats": "<script>alert(1)</script>"}})
    out.append({**report, "payload": ["not", "an", "object"]})
    out.append({**report, "payload": {**payload, "peerConnectionId": {"nested": True}}})
    hostile = [{**e, "trackId": "<img src=x onerror=alert(1)>", "codec": "\u202e\u0000opus", "bytesSent": "12"}
               for e in payload["localAudioTrackStats"]]
    out.append({**report, "payload": {**payload, "localAudioTrackStats": hostile}})
    out.append({**report, "payload": {**payload, "peerConnectionId": "pc-\U0001f600" * 3}})
    return out


def _same_columns(a: dict[str, Any] | None, b: dict[str, Any] | None) -> None:
    assert (a is None) == (b is None)
    if a is None or b is None:
        return
    assert list(a) == list(b)
    for name in a:
        x, y = a[name], b[name]
        assert type(x) is type(y) and x.dtype == y.dtype, name
        assert np.array_equal(np.ma.getmaskarray(x), np.ma.getmaskarray(y)), name
        assert np.ma.getdata(x).tolist() == np.ma.getdata(y).tolist(), name


def test_workers_parse_what_the_gateway_would_store(tmp_path: Path) -> None:
    """The same messages, through `parse` and through the gateway's own path (`records`): the same
    typed columns, the same entries left out, the same reports refused with the same message."""
    settings = Settings.from_env({}, store=f"duckdb:///{tmp_path}/p.duckdb")
    store = open_store(settings.store, settings=settings)
    store.migrate()
    gateway = Gateway(store, settings)
    session = GatewaySession(new_sid("AC"), new_sid("SK"), new_sid("RM"), new_sid("PA"), "ada")
    session.clock.applied = -3_600_000  # a client an hour ahead: times are put on the server's clock
    recorded = _recorded_reports()
    assert len(recorded) >= 6
    messages = recorded + [v for r in recorded[:2] for v in _hostile_variants(r)]
    now = max(int(m["timestamp"]) for m in messages) - 3_600_000 + 5_000
    jobs: list[Job] = []
    rows: list[Any] = []
    expected: list[tuple[list[str], Reason | None, str]] = []
    for i, m in enumerate(messages):
        msg = gateway.decode_event(orjson.dumps(m), path=f"message[{i}]")
        job = gateway.report_job(session, msg, path=f"message[{i}]", received_ms=now)
        assert job is not None
        jobs.append(job)
        dropped: list[str] = []
        try:
            r, _ = gateway.records(session, msg, path=f"message[{i}]", dropped=dropped, received_ms=now)
            rows.extend(r)
            expected.append((dropped, None, ""))
        except BadRequest as e:
            expected.append((dropped, Reason.MALFORMED_EVENT, e.message))
    columns, outcomes = parse(jobs)
    _same_columns(columns, columns_of(STREAM_SAMPLES, rows, ROW_COLUMNS, skip_null=True))
    assert outcomes == expected
    assert any(o[0] for o in outcomes), "an entry was left out"
    assert any(o[1] for o in outcomes), "a report was refused"
    assert columns is not None and len(columns["ssrc"]) == len(rows) > 5 * len(recorded)
    store.close()


def test_non_report_messages_are_not_jobs(tmp_path: Path) -> None:
    settings = Settings.from_env({}, store=f"duckdb:///{tmp_path}/p.duckdb")
    store = open_store(settings.store, settings=settings)
    store.migrate()
    gateway = Gateway(store, settings)
    session = GatewaySession(new_sid("AC"), new_sid("SK"), new_sid("RM"), new_sid("PA"), "ada")
    msg = gateway.decode_event(orjson.dumps({"type": "event", "group": "room", "name": "disconnected",
                                             "timestamp": int(time.time() * 1000), "payload": {}}))
    assert gateway.report_job(session, msg) is None
    store.close()


def _children(pid: int) -> set[int]:
    out: set[int] = set()
    for task in Path(f"/proc/{pid}/task").iterdir():
        children = (task / "children").read_text().split()
        out.update(int(c) for c in children)
    return out


def _worker_of(pid: int, timeout: float = 20) -> int:
    """The server's report worker: its child running multiprocessing's spawn entry point (started with
    the first batch)."""
    deadline = time.time() + timeout
    while time.time() < deadline:
        for child in _children(pid):
            try:
                if b"spawn_main" in Path(f"/proc/{child}/cmdline").read_bytes():
                    return child
            except FileNotFoundError:
                continue
        time.sleep(0.05)
    raise AssertionError("no report worker")


def _restamped(payload: dict[str, Any], ts: int) -> dict[str, Any]:
    """The report with every entry stamped `ts` (entries carry their own times)."""
    return {k: [{**e, "timestamp": ts} for e in v] if isinstance(v, list) else v for k, v in payload.items()}


def _fallbacks(metrics: str) -> float:
    line = next(x for x in metrics.splitlines() if x.startswith("video_insights_report_worker_fallbacks_total "))
    return float(line.split()[1])


def test_a_worker_killed_mid_stream_loses_no_report(tmp_path: Path) -> None:
    """A real `serve`: its report worker starts when a WebSocket connects, and gets SIGKILL while
    reports stream over WebSockets. Every report is stored once, the batch the worker held (or the
    next) is parsed by the server itself, and a new worker takes the reports that follow."""
    template = _recorded_reports()[-1]  # the first reports may list only placeholders
    probe = (new_sid("AC"), new_sid("RM"), new_sid("PA"), template["timestamp"], 0, orjson.dumps(template["payload"]),
             "p")
    per_report = len(parse([probe])[0]["ssrc"])  # type: ignore[index]
    store_url = f"duckdb:///{tmp_path}/w.duckdb"
    creds = account_in(store_url)
    port = free_port()
    proc = start_serve(store_url, port, {"VIDEO_INSIGHTS_INGEST_WORKERS": "1",
                                         "VIDEO_INSIGHTS_CLIENT_CLOCK_CORRECTION": "false"})
    base = f"http://127.0.0.1:{port}"
    token = mint_token(creds.account_sid, creds.key_sid, creds.key_secret, "ada", ttl=3600)
    start = int(time.time() * 1000) - 3_600_000
    sent = 0
    sockets: list[tuple[Any, str]] = []
    opened = contextlib.ExitStack()
    try:
        for _ in range(4):
            ws = opened.enter_context(connect(base.replace("http", "ws") + "/v1/VideoEvents"))
            ws.send(orjson.dumps({"type": "connect", "token": token, "version": 1, "publisher": {
                "name": "twilio-video.js", "sdkVersion": "2.36.0", "roomSid": new_sid("RM"),
                "participantSid": new_sid("PA")}}).decode())
            sockets.append((ws, orjson.loads(ws.recv(timeout=10))["session"]))
        first = _worker_of(proc.pid)  # started when the first WebSocket connected, before any report
        for n in range(300):
            ts = start + n * 10_000
            for ws, session in sockets:
                ws.send(orjson.dumps({**template, "session": session, "timestamp": ts,
                                      "payload": _restamped(template["payload"], ts)}).decode())
                sent += 1
            if n == 100:
                os.kill(first, signal.SIGKILL)
        deadline = time.time() + 60
        while (stored := httpx.get(base + "/healthz", timeout=10).json()["pipeline"]["samples"]) < sent * per_report:
            assert time.time() < deadline, f"stored {stored} samples of {sent * per_report}"
            time.sleep(0.2)
        assert stored == sent * per_report
        assert _fallbacks(httpx.get(base + "/metrics", timeout=10).text) >= 1
        assert _worker_of(proc.pid) != first, "a new worker takes the reports that follow"
    finally:
        opened.close()
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=60)
    store = open_store(store_url)
    try:
        _, rows = store.fetch("SELECT count(*), count(DISTINCT (participant_sid, ts_ms)) FROM stream_samples")
    finally:
        store.close()
    assert rows == [(sent * per_report, sent)]


def _started(path: Path, **settings: Any) -> tuple[Store, Pipeline, Rejections, ReportWorkers]:
    """A store at `path`, its pipeline running, and a report worker handing that pipeline its bursts."""
    config = Settings.from_env({}, store=f"duckdb:///{path}", **settings)
    store = open_store(config.store, settings=config)
    store.migrate()
    pipeline = Pipeline(store, config)
    pipeline.start()
    rejections = Rejections()
    return store, pipeline, rejections, ReportWorkers(1, pipeline, rejections)


def test_bursts_of_many_connections_are_stored_whole_and_acknowledged(tmp_path: Path) -> None:
    """20,000 reports in 2,000 bursts of 500 connections, more than two batches' worth at a time: all
    stored, each burst's commit future resolved, and a report that is not one refused and counted
    while the rest of its burst is stored."""
    store, pipeline, rejections, workers = _started(tmp_path / "b.duckdb", client_clock_correction=False)
    template = _recorded_reports()[-1]
    sessions = [(new_sid("AC"), new_sid("RM"), new_sid("PA")) for _ in range(500)]
    start = int(time.time() * 1000) - 3_600_000
    futures: list[Future[None]] = []

    async def feed() -> None:
        for n in range(4):
            for i, (account, room, participant) in enumerate(sessions):
                jobs: list[Job] = []
                for k in range(10):
                    ts = start + (n * 10 + k) * 10_000
                    payload = orjson.dumps(_restamped(template["payload"], ts))
                    if n == 3 and k == 9 and i == 7:
                        payload = b'["not a report"]'
                    jobs.append((account, room, participant, ts, 0, payload, "message.payload"))
                stored: Future[None] = Future()
                futures.append(stored)
                workers.add(jobs, participant_sid=participant, events=[], room=(account, room), stored=stored)
            await asyncio.sleep(0)
        workers.close()  # everything gathered is parsed and submitted before it returns

    with ThreadPoolExecutor(1) as pool:
        pool.submit(uvloop.run, feed()).result(timeout=120)
    pipeline.stop()
    assert all(f.done() and f.exception() is None for f in futures)
    per_report = len(parse([(*sessions[0], start, 0, orjson.dumps(template["payload"]), "p")])[0]["ssrc"])  # type: ignore[index]
    _, rows = store.fetch("SELECT count(*), count(DISTINCT (participant_sid, ts_ms)) FROM stream_samples")
    assert rows == [((20_000 - 1) * per_report, 20_000 - 1)]
    assert rejections.snapshot()["malformed_event"] == 1
    assert workers.in_flight == 0
    store.close()


def test_a_bug_in_building_columns_refuses_the_reports_and_keeps_the_events(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """No worker to be had, and the server's own parse fails too (a bug where columns are built): the
    burst's reports are refused and counted as internal errors, its commit future still resolves (the
    messages are handled, as on the server's own path) and its events are stored."""
    store, pipeline, rejections, workers = _started(tmp_path / "f.duckdb")

    def broken_pool() -> Any:
        raise RuntimeError("cannot start a process")

    def broken_columns(*_: Any, **__: Any) -> Any:
        raise OverflowError("a bug where columns are built")

    monkeypatch.setattr(workers, "_pool", broken_pool)
    monkeypatch.setattr("video_insights.ingest.report_workers.columns_of", broken_columns)
    account, room, participant = new_sid("AC"), new_sid("RM"), new_sid("PA")
    ts = int(time.time() * 1000)
    template = _recorded_reports()[-1]
    event = Event(account, room, participant, ts, Source.GATEWAY, "room/disconnected", {"identity": "ada"})
    stored: Future[None] = Future()

    async def feed() -> None:
        jobs: list[Job] = [(account, room, participant, ts + k, 0, orjson.dumps(template["payload"]), "m.payload")
                           for k in range(3)]
        workers.add(jobs, participant_sid=participant, events=[event], room=(account, room), stored=stored)
        workers.close()

    with ThreadPoolExecutor(1) as pool:
        pool.submit(uvloop.run, feed()).result(timeout=60)
    stored.result(timeout=30)
    pipeline.stop()
    assert rejections.snapshot()["internal_error"] == 3
    _, rows = store.fetch(f"SELECT name FROM events WHERE participant_sid = '{participant}'")
    assert rows == [("room/disconnected",)]
    assert workers.fallbacks == 1
    store.close()


def test_a_worker_ends_when_its_server_is_killed(tmp_path: Path) -> None:
    """`kill -9` of `serve` leaves no report worker behind."""
    store_url = f"duckdb:///{tmp_path}/k.duckdb"
    creds = account_in(store_url)
    port = free_port()
    proc = start_serve(store_url, port, {"VIDEO_INSIGHTS_INGEST_WORKERS": "1"})
    try:
        token = mint_token(creds.account_sid, creds.key_sid, creds.key_secret, "ada", ttl=3600)
        with connect(f"ws://127.0.0.1:{port}/v1/VideoEvents") as ws:
            ws.send(orjson.dumps({"type": "connect", "token": token, "version": 1, "publisher": {
                "name": "twilio-video.js", "sdkVersion": "2.36.0", "roomSid": new_sid("RM"),
                "participantSid": new_sid("PA")}}).decode())
            ws.recv(timeout=10)
            worker = _worker_of(proc.pid)
            proc.kill()
            proc.wait(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(timeout=30)
    deadline = time.time() + 10
    while Path(f"/proc/{worker}").exists() and b"spawn_main" in Path(f"/proc/{worker}/cmdline").read_bytes():
        assert time.time() < deadline, "the worker outlived its server"
        time.sleep(0.1)
