"""Clients whose clocks are off: their reports are put on the server's clock (docs/api.md, "Client
clocks"), sent over a real WebSocket and HTTP batch to a running server on each engine and read back
as Metrics. And the WebSocket's reading in bursts loses no message."""

from __future__ import annotations

import random
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import orjson
import pytest
from websockets.sync.client import ClientConnection, connect

from support import Creds, getstats_series, shift_timestamps
from video_insights.ingest.auth import mint_token
from video_insights.ingest.clock import CLOCK_TOLERANCE_MS, MAX_CORRECTION_MS, ClientClock
from video_insights.ingest.getstats import snapshot_to_gateway_payload
from video_insights.model.ids import new_sid
from video_insights.query.filters import iso
from video_insights.query.sql import q

HOUR_MS = 3_600_000
PUBLISHER = {"name": "twilio-video.js", "sdkVersion": "2.28.1"}
SENDER = [ln for ln in getstats_series("pw_nosim") if ln["label"] == "sender"]


def _report(line: dict[str, Any], client_ms: float) -> tuple[int, dict[str, Any]]:
    """A recorded getStats line as a report taken at `client_ms` on the client's clock."""
    stats = {s["id"]: s for s in shift_timestamps(line["stats"], client_ms - line["clientTs"])}
    return int(client_ms), snapshot_to_gateway_payload(stats, "pc-sender")


def _event(session: str | None, ts: int, payload: dict[str, Any], group: str = "quality",
           name: str = "stats-report") -> dict[str, Any]:
    message = {"type": "event", "version": 1, "group": group, "name": name, "timestamp": ts, "payload": payload}
    return {**message, "session": session} if session else message


def _video_stamp(payload: dict[str, Any]) -> int:
    return round(payload["localVideoTrackStats"][0]["timestamp"])


@contextmanager
def _socket(url: str, creds: Creds, room: str, participant: str) -> Iterator[tuple[ClientConnection, str]]:
    token = mint_token(creds.account_sid, creds.key_sid, creds.key_secret, "skewed")
    with connect(url.replace("http://", "ws://") + "/v1/VideoEvents") as ws:
        ws.send(orjson.dumps({"type": "connect", "token": token, "version": 1, "publisher": {
            **PUBLISHER, "participantSid": participant, "roomSid": room}}).decode())
        answer = orjson.loads(ws.recv(timeout=10))
        assert answer["type"] == "connected", answer
        yield ws, answer["session"]


def _send_live(url: str, creds: Creds, room: str, participant: str, skew_ms: int, lines: list[dict[str, Any]]
               ) -> list[tuple[int, dict[str, Any]]]:
    """A client whose clock is `skew_ms` off publishing a report per line as it is taken, a second
    apart: the reports sent."""
    sent = []
    with _socket(url, creds, room, participant) as (ws, session):
        for i, line in enumerate(lines):
            if i:
                time.sleep(1)
            ts, payload = _report(line, time.time() * 1000 + skew_ms)
            sent.append((ts, payload))
            ws.send(orjson.dumps(_event(session, ts, payload)).decode())
    return sent


def _video_ts(live_server: Any, participant: str, want: int) -> list[int]:
    """The participant's stored video sample times, once `want` distinct ones are there."""
    deadline = time.time() + 20
    while True:
        live_server.flush()
        _, rows = live_server.store.fetch(q("SELECT DISTINCT ts_ms FROM stream_samples WHERE participant_sid = :p "
                                            "AND kind = 'video' ORDER BY ts_ms", p=participant))
        if len(rows) >= want or time.time() > deadline:
            return [int(r[0]) for r in rows]
        time.sleep(0.1)


def _clock_events(live_server: Any, participant: str) -> list[dict[str, Any]]:
    _, rows = live_server.store.fetch(q("SELECT payload FROM events WHERE participant_sid = :p "
                                        "AND name = 'session/clock' ORDER BY ts_ms", p=participant))
    return [orjson.loads(r[0]) for r in rows]


def _metric_times(client: Any, room: str, participant: str, want: int) -> list[str]:
    deadline = time.time() + 20
    while True:
        r = client.get(f"/v1/Video/Rooms/{room}/Participants/{participant}/Metrics")
        if r.status_code == 200:
            times = [p["time"] for t in r.json()["send"] if t["kind"] == "video" for p in t["points"]]
            if len(times) >= want:
                return sorted(times)
        assert time.time() < deadline, f"metrics never arrived: {r.status_code} {r.text}"
        time.sleep(0.1)


def _check_corrected(live_server: Any, creds: Creds, room: str, participant: str,
                     sent: list[tuple[int, dict[str, Any]]], skew_ms: int) -> int:
    """The participant's reports sit at the server's times and its clock event holds the offset, the
    estimate and the raw times of the message that set it; the offset is returned."""
    stamps = [_video_stamp(payload) for _, payload in sent]
    stored = _video_ts(live_server, participant, len(stamps))
    (clock,) = _clock_events(live_server, participant)
    offset = clock["clock_offset_ms"]
    # The skew plus the smallest delay seen (a few milliseconds on the loopback; the newest of a batch's
    # reports is a moment old).
    assert -skew_ms <= offset <= -skew_ms + 1_000
    assert clock["estimate_ms"] == offset
    assert clock["received_ms"] - clock["client_timestamp_ms"] == offset
    assert clock["client_timestamp_ms"] in [ts for ts, _ in sent]
    assert stored == [s + offset for s in stamps]
    now = time.time() * 1000
    assert now - 60_000 < stored[0] <= stored[-1] <= now
    expected = sorted({iso(t - t % 10_000) for t in stored})
    with live_server.client(creds) as client:
        assert _metric_times(client, room, participant, len(expected)) == expected
        body = client.get(f"/v1/Video/Rooms/{room}/Participants/{participant}").json()
    assert body["status"] == "in_progress"
    _, rows = live_server.store.fetch(q("SELECT join_ms, last_activity_ms FROM participants "
                                        "WHERE participant_sid = :p", p=participant))
    join, last = rows[0]
    assert now - 60_000 < join <= last <= now
    return int(offset)


def test_client_an_hour_behind_over_the_websocket(live_server, creds):
    room, participant = new_sid("RM"), new_sid("PA")
    sent = _send_live(live_server.url, creds, room, participant, -HOUR_MS, SENDER[5:8])
    _check_corrected(live_server, creds, room, participant, sent, -HOUR_MS)


def test_client_five_minutes_ahead_over_the_websocket(live_server, creds):
    room, participant = new_sid("RM"), new_sid("PA")
    sent = _send_live(live_server.url, creds, room, participant, 300_000, SENDER[5:8])
    _check_corrected(live_server, creds, room, participant, sent, 300_000)


def _queued(skew_ms: int, newest_age_ms: int, count: int = 4) -> list[tuple[int, dict[str, Any]]]:
    """Reports a client queued 10 s apart while it could not send, the newest `newest_age_ms` old, on a
    clock `skew_ms` off."""
    client_now = time.time() * 1000 + skew_ms
    return [_report(SENDER[i], client_now - newest_age_ms - 10_000 * (count - 1 - i)) for i in range(count)]


def _post_batch(live_server: Any, creds: Creds, room: str, participant: str,
                reports: list[tuple[int, dict[str, Any]]]) -> Any:
    token = mint_token(creds.account_sid, creds.key_sid, creds.key_secret, "batched")
    body: list[dict[str, Any]] = [{"type": "connect", "version": 1, "publisher": {
        **PUBLISHER, "participantSid": participant, "roomSid": room}}]
    body += [_event(None, ts, payload) for ts, payload in reports]
    with live_server.client() as client:
        return client.post("/v1/VideoEvents", json=body, headers={"Authorization": f"Bearer {token}"})


def test_batch_an_hour_behind(live_server, creds):
    room, participant = new_sid("RM"), new_sid("PA")
    sent = _queued(-HOUR_MS, newest_age_ms=0)
    r = _post_batch(live_server, creds, room, participant, sent)
    assert r.status_code == 200, r.text
    _check_corrected(live_server, creds, room, participant, sent, -HOUR_MS)


def test_clock_within_the_tolerance_is_left_alone(live_server, creds):
    room, participant = new_sid("RM"), new_sid("PA")
    sent = _queued(-2_000, newest_age_ms=0)
    r = _post_batch(live_server, creds, room, participant, sent)
    assert r.status_code == 200, r.text
    assert _video_ts(live_server, participant, len(sent)) == [_video_stamp(p) for _, p in sent]
    assert _clock_events(live_server, participant) == []


def test_a_burst_queued_for_30_seconds_by_a_right_clock_is_not_shifted(live_server, creds):
    """A reconnecting client flushes its queue back to back: the oldest report looks 30 s late, the
    newest (taken 3 s ago) says the clock is right, and the burst is judged as a whole."""
    room, participant = new_sid("RM"), new_sid("PA")
    sent = _queued(0, newest_age_ms=3_000)
    with _socket(live_server.url, creds, room, participant) as (ws, session):
        for ts, payload in sent:
            ws.send(orjson.dumps(_event(session, ts, payload)).decode())
    assert _video_ts(live_server, participant, len(sent)) == [_video_stamp(p) for _, p in sent]
    assert _clock_events(live_server, participant) == []


def test_a_skewed_client_that_reconnects_keeps_its_offset(live_server, creds):
    """An hour behind, live first; then it reconnects, resends its last report (which must stay one
    sample) and flushes two it queued, the newest 4 s old: without the offset it had, the burst alone
    would say 1 h + 4 s."""
    room, participant = new_sid("RM"), new_sid("PA")
    first = _send_live(live_server.url, creds, room, participant, -HOUR_MS, SENDER[5:7])
    offset = _check_corrected(live_server, creds, room, participant, first, -HOUR_MS)
    client_now = time.time() * 1000 - HOUR_MS
    queued = [_report(SENDER[7 + i], client_now - 4_000 - 10_000 * (1 - i)) for i in range(2)]
    with _socket(live_server.url, creds, room, participant) as (ws, session):
        for ts, payload in [first[-1], *queued]:
            ws.send(orjson.dumps(_event(session, ts, payload)).decode())
    stamps = sorted(_video_stamp(p) for _, p in first + queued)
    # One burst, one submission: a resent report moved by another offset would be a fifth time here.
    assert _video_ts(live_server, participant, len(stamps)) == [s + offset for s in stamps]
    assert [c["clock_offset_ms"] for c in _clock_events(live_server, participant)] == [offset]


@pytest.mark.parametrize("in_seconds", [False, True])
def test_a_broken_clock_is_refused_not_corrected(live_server, creds, in_seconds):
    now = int(time.time() * 1000)
    _, payload = _report(SENDER[5], now)
    stamp = now // 1000 if in_seconds else 60_000  # a time in seconds, or 1970
    r = _post_batch(live_server, creds, new_sid("RM"), new_sid("PA"), [(stamp, payload)])
    assert r.status_code == 400
    message = r.json()["message"]
    assert message.startswith(f"body[1].timestamp: {stamp} is not a time within the last week")
    years = round((now - stamp) / 86_400_000 / 365.25)
    assert (f"(the client's clock would be {years} years behind the server's: more than a day off is not "
            "corrected") in message
    assert ("this looks like seconds, not milliseconds" in message) == in_seconds


def test_messages_read_in_bursts_are_all_stored(live_server, creds):
    """Messages whose gaps straddle the burst gap (so receives time out just as messages arrive), and
    back-to-back runs longer than a burst: every one is stored."""
    room, participant = new_sid("RM"), new_sid("PA")
    rng = random.Random(12)
    count = 150
    with _socket(live_server.url, creds, room, participant) as (ws, session):
        for i in range(count):
            ts = int(time.time() * 1000)
            ws.send(orjson.dumps(_event(session, ts, {"i": i}, group="network", name="network-type-changed")).decode())
            if i % 50 < 30:
                time.sleep(rng.uniform(0.04, 0.06))
    deadline = time.time() + 20
    while True:
        live_server.flush()
        _, rows = live_server.store.fetch(q("SELECT payload FROM events WHERE participant_sid = :p "
                                            "AND name = 'network/network-type-changed'", p=participant))
        got = sorted(orjson.loads(r[0])["i"] for r in rows)
        if len(got) >= count or time.time() > deadline:
            break
        time.sleep(0.1)
    assert got == list(range(count))


# The estimator on its own: (sent on the client's clock, received on the server's) in groups.
NOW = 1_800_000_000_000


def _update(clock: ClientClock, group: list[tuple[int, int]]) -> bool:
    for sent, received in group:
        clock.observe(sent, received)
    return clock.update()


def test_the_offset_moves_only_when_the_estimate_leaves_it():
    clock = ClientClock()
    assert _update(clock, [(NOW - HOUR_MS, NOW + 40)]) and clock.applied == HOUR_MS + 40
    # A smaller delay lowers the estimate by less than the tolerance: the offset stays; spikes change nothing.
    assert not _update(clock, [(NOW - HOUR_MS + 1_000, NOW + 1_005), (NOW - HOUR_MS + 2_000, NOW + 9_000)])
    assert clock.estimate == HOUR_MS + 5 and clock.applied == HOUR_MS + 40
    # The client's clock is set right (NTP): the offset follows, to zero within the tolerance.
    assert _update(clock, [(NOW + 3_000, NOW + 3_020)]) and clock.applied == 0


def test_a_resumed_offset_holds_through_a_burst_of_queued_reports():
    clock = ClientClock(applied=HOUR_MS + 40)
    burst = [(NOW - HOUR_MS - 24_000 + 10_000 * i, NOW + i) for i in range(3)]  # the newest 4 s old
    assert not _update(clock, burst) and clock.applied == HOUR_MS + 40
    fresh = ClientClock()
    assert _update(fresh, burst) and fresh.applied == HOUR_MS + 4_002


@pytest.mark.parametrize("sent", [60_000, NOW // 1000, NOW * 1000, NOW + MAX_CORRECTION_MS + 1_000])
def test_a_broken_timestamp_does_not_enter_the_estimate(sent):
    clock = ClientClock()
    assert not _update(clock, [(sent, NOW)]) and clock.estimate is None
    assert _update(clock, [(NOW - 300_000, NOW + 30), (sent, NOW + 40)])
    assert clock.applied == 300_030


def test_an_offset_within_the_tolerance_is_not_applied():
    clock = ClientClock()
    assert not _update(clock, [(NOW - CLOCK_TOLERANCE_MS + 100, NOW)]) and clock.applied == 0
