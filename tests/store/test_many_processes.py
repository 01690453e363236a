"""Several `serve` processes on one ClickHouse give what one process gives (issue 5, item 2): two real
server processes, each with `--store clickhouse://…` (ClickHouse's HTTP interface in front of chDB,
`tests/clickhouse_http.py`), take the reports of one call in turn, as a load balancer without
stickiness would hand them out, and every read of the call through either process equals what one
process on DuckDB answers for the same messages."""

from __future__ import annotations

import math
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path
from typing import Any

import httpx
import orjson
import pytest
from websockets.sync.client import ClientConnection, connect

from conftest import make_account
from support import Creds, free_port, gateway_reports, getstats_series, running, serving, wait_until_up
from video_insights import accounts
from video_insights.app import create_app
from video_insights.ingest.auth import mint_token
from video_insights.model.ids import new_sid
from video_insights.settings import Settings
from video_insights.store import open_store

PUBLIC_URL = "https://insights.example.com"  # links in the answers must not name which process answered
ENV = {"VIDEO_INSIGHTS_SUMMARY_DELAY_S": "0.2", "VIDEO_INSIGHTS_WRITER_FLUSH_MS": "20",
       "VIDEO_INSIGHTS_PUBLIC_URL": PUBLIC_URL, "VIDEO_INSIGHTS_LOG_LEVEL": "warning"}
USER_AGENT = ("Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) HeadlessChrome/156.0.0.0 "
              "Safari/537.36")


@contextmanager
def serve_process(store_url: str, env: dict[str, str] | None = None) -> Iterator[str]:
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    with running([sys.executable, "-m", "video_insights", "serve", "--store", store_url, "--port", str(port)],
                 url + "/healthz", f"serve on {store_url}", env={**os.environ, **ENV, **(env or {})}):
        yield url


def _connect(stack: ExitStack, url: str, token: str, room: str, participant: str) -> tuple[ClientConnection, str]:
    ws = stack.enter_context(connect(url.replace("http://", "ws://") + "/v1/VideoEvents"))
    ws.send(orjson.dumps({"type": "connect", "token": token, "version": 1, "publisher": {
        "name": "twilio-video.js", "sdkVersion": "2.28.1", "participantSid": participant, "roomSid": room,
        "userAgent": USER_AGENT}}).decode())
    answer = orjson.loads(ws.recv(timeout=10))
    assert answer["type"] == "connected", answer
    return ws, answer["session"]


def _event(session: str, ts: int, group: str, name: str, payload: dict[str, Any]) -> str:
    return orjson.dumps({"type": "event", "version": 1, "session": session, "group": group, "name": name,
                         "timestamp": ts, "payload": payload}).decode()


def publish(urls: list[str], token: str, room: str, calls: dict[str, list[tuple[int, dict[str, Any]]]]) -> None:
    """Each participant connects to every URL in turn (one connection each) and sends its reports
    round-robin over them, then leaves through the last one."""
    with ExitStack() as stack:
        for participant, reports in calls.items():
            links = []
            for url in urls:
                ws, session = _connect(stack, url, token, room, participant)
                links.append((ws, session))
            for i, (ts, payload) in enumerate(reports):
                ws, session = links[i % len(links)]
                ws.send(_event(session, ts, "quality", "stats-report", payload))
            ws, session = links[len(reports) % len(links)]
            ws.send(_event(session, reports[-1][0] + 1_000, "room", "disconnected", {}))


def _norm(v: Any) -> Any:
    """Floats to 9 significant digits: ClickHouse sums partial results in no fixed order."""
    if isinstance(v, float):
        return float(f"{v:.9g}") if math.isfinite(v) else v
    if isinstance(v, list):
        return [_norm(x) for x in v]
    if isinstance(v, dict):
        return {k: _norm(x) for k, x in v.items()}
    return v


def reads(url: str, creds: Creds, room: str, participants: list[str]) -> dict[str, Any]:
    paths = [f"/v1/Video/Rooms/{room}", f"/v1/Video/Rooms/{room}/Participants"]
    for p in participants:
        paths += [f"/v1/Video/Rooms/{room}/Participants/{p}", f"/v1/Video/Rooms/{room}/Participants/{p}/Metrics"]
    with httpx.Client(base_url=url, auth=creds.basic, timeout=30) as client:
        return {path: (r.status_code, _norm(r.json())) for path in paths for r in [client.get(path)]}


def settled(url: str, creds: Creds, room: str, participants: list[str], want: dict[str, Any] | None
            ) -> dict[str, Any]:
    """The reads once the call is over and summarised (equal to `want` when given), or the last seen."""
    deadline = time.time() + 90
    while True:
        got = reads(url, creds, room, participants)
        room_status = got[f"/v1/Video/Rooms/{room}"]
        done = room_status[0] == 200 and all(
            got[f"/v1/Video/Rooms/{room}/Participants/{p}"][1].get("status") == "completed" for p in participants)
        if (done and (want is None or got == want)) or time.time() > deadline:
            return got
        time.sleep(0.3)


def test_two_processes_on_one_clickhouse_answer_as_one_process(clickhouse_url: str, tmp_path: Path) -> None:
    lines = getstats_series("pw_simulcast")
    room = new_sid("RM")
    shared = open_store(clickhouse_url)
    shared.migrate()
    creds = make_account(shared)
    shared.close()
    reference_store = open_store(f"duckdb:///{tmp_path}/one.duckdb")
    reference_store.migrate()
    accounts.create_account(reference_store, sid=creds.account_sid, auth_token=creds.auth_token)
    accounts.create_key(reference_store, creds.account_sid, sid=creds.key_sid, secret=creds.key_secret)
    token = mint_token(creds.account_sid, creds.key_sid, creds.key_secret, "alice", ttl=3600)
    settings = Settings.from_env(ENV, store=f"duckdb:///{tmp_path}/one.duckdb")

    with serve_process(clickhouse_url) as first, serve_process(clickhouse_url) as second, \
            serving(create_app(settings, store=reference_store)) as one:
        # A report a second: consecutive reports, in the same 10-second interval, land on different
        # processes. Made now and sent to both deployments at once: reports that arrive more than 10 s
        # after their time would be taken for a clock that is behind (docs/api.md, "Client clocks").
        offset = time.time() * 1000 - lines[-1]["clientTs"] - 5_000
        calls = {new_sid("PA"): gateway_reports(lines, "sender", offset, every=1),
                 new_sid("PA"): gateway_reports(lines, "receiver", offset, every=1)}
        assert all(len(r) > 10 for r in calls.values())
        publish([one, one], token, room, calls)  # the same connections and messages, all to one process
        publish([first, second], token, room, calls)
        expected = settled(one, creds, room, list(calls), None)
        assert all(status == 200 for status, _ in expected.values()), expected
        metrics = expected[f"/v1/Video/Rooms/{room}/Participants/{next(iter(calls))}/Metrics"][1]
        assert len(metrics["send"]) == 2 and all(len(t["points"]) >= 2 for t in metrics["send"])

        for url in (first, second):
            got = settled(url, creds, room, list(calls), expected)
            for path, answer in expected.items():
                assert got[path] == answer, f"{url}{path}"
        health = [httpx.get(u + "/healthz", timeout=10).json()["pipeline"] for u in (first, second)]
        assert all(h["samples"] > 0 for h in health), "both processes must have written some reports"
    reference_store.close()


def test_a_room_whose_process_died_is_finished_by_another(clickhouse_url: str) -> None:
    """The first process acknowledges a gateway batch (committed) and is killed before it would
    summarise it; the second, which never saw the batch, finds the room stale in the store and
    summarises it once it has been left alone past the takeover time."""
    shared = open_store(clickhouse_url)
    shared.migrate()
    creds = make_account(shared)
    shared.close()
    token = mint_token(creds.account_sid, creds.key_sid, creds.key_secret, "alice", ttl=3600)
    room, participant = new_sid("RM"), new_sid("PA")
    lines = getstats_series("pw_simulcast")
    reports = gateway_reports(lines, "sender", time.time() * 1000 - lines[-1]["clientTs"] - 5_000, every=3)
    batch = [{"type": "connect", "version": 1, "publisher": {
        "name": "twilio-video.js", "sdkVersion": "2.28.1", "participantSid": participant, "roomSid": room,
        "userAgent": USER_AGENT}}]
    batch += [{"type": "event", "version": 1, "group": "quality", "name": "stats-report", "timestamp": ts,
               "payload": payload} for ts, payload in reports]
    port = free_port()
    doomed = subprocess.Popen(
        [sys.executable, "-m", "video_insights", "serve", "--store", clickhouse_url, "--port", str(port)],
        env={**os.environ, **ENV, "VIDEO_INSIGHTS_SUMMARY_DELAY_S": "3600", "VIDEO_INSIGHTS_TAKEOVER_AFTER_S": "3600"})
    try:
        wait_until_up(f"http://127.0.0.1:{port}/healthz", doomed, "the first serve")
        with serve_process(clickhouse_url, {"VIDEO_INSIGHTS_TAKEOVER_AFTER_S": "2"}) as survivor:
            r = httpx.post(f"http://127.0.0.1:{port}/v1/VideoEvents", content=orjson.dumps(batch),
                           headers={"Authorization": f"Bearer {token}"}, timeout=30)
            assert r.status_code == 200, r.text
            os.kill(doomed.pid, signal.SIGKILL)
            doomed.wait(timeout=30)
            path = f"/v1/Video/Rooms/{room}/Participants/{participant}"
            deadline = time.time() + 30
            with httpx.Client(base_url=survivor, auth=creds.basic, timeout=30) as client:
                while (found := client.get(path)).status_code == 404 and time.time() < deadline:
                    time.sleep(0.3)
                assert found.status_code == 200, found.text
                metrics = client.get(path + "/Metrics").json()
                assert metrics["send"] and all(t["points"] for t in metrics["send"])
    finally:
        if doomed.poll() is None:
            doomed.kill()
            doomed.wait(timeout=30)


@pytest.mark.parametrize("path", ["/v1/Video/Rooms/RM00000000000000000000000000000000"])
def test_a_process_on_clickhouse_answers_404_for_what_is_not_there(clickhouse_url: str, path: str) -> None:
    shared = open_store(clickhouse_url)
    shared.migrate()
    creds = make_account(shared)
    shared.close()
    with serve_process(clickhouse_url) as url:
        r = httpx.get(url + path, auth=creds.basic, timeout=30)
        assert r.status_code == 404, r.text
