"""End to end: real WebRTC calls in headless Chromium, every packet through a UDP relay that adds
delay and drops packets, the collector loaded from the service, results read through the REST API.

The four network cases run at once (one page each) so the module stays within a few minutes.
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Iterator
from contextlib import ExitStack
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest

from conftest import LiveServer
from e2e.relay import Network, UdpRelay
from support import Creds
from video_insights.ingest.auth import mint_token

# The collector publishes every 10th second: closing just after the 40th leaves four whole reports.
CALL_S = 40.5


CLEAN = Network("clean")
LOSSY = Network("loss12", loss=0.12)
SLOW = Network("rtt350", delay_ms=175.0)
SIMULCAST = Network("simulcast", simulcast=True)


@dataclass
class Call:
    network: Network
    page: Any
    relay: UdpRelay
    errors: list[str] = field(default_factory=list)
    result: dict[str, Any] = field(default_factory=dict)


def collector_page(server: str) -> str:
    return (f'<!doctype html><title>call</title><script crossorigin src="{server}/static/collector.js"></script>'
            '<script src="/call.js"></script>')


def token(creds: Creds, identity: str) -> str:
    return mint_token(creds.account_sid, creds.key_sid, creds.key_secret, identity)


def start_call(browser: Any, page_url: str, server: str, creds: Creds, net: Network, relay: UdpRelay) -> Call:
    page = browser.new_context().new_page()
    call = Call(net, page, relay)
    page.on("pageerror", lambda e: call.errors.append(str(e)))
    page.goto(page_url)
    page.evaluate("""async ({url, token, room, identity, relay, simulcast}) => {
        if (!crossOriginIsolated) throw new Error("the page is not cross-origin isolated: coarse timers");
        window.session = VideoInsights.connect({url, token, roomName: room, identity, roomType: "peer_to_peer"});
        window.connectedAt = performance.now();
        // Three simulcast layers need 960x540 at least; the other calls stay small to spare the CPU.
        const size = simulcast ? {width: 960, height: 540} : {width: 320, height: 240};
        await startCall({relay, simulcast, ...size});
        logLayers();
    }""", {"url": server, "token": token(creds, net.name), "room": f"e2e-{net.name}", "identity": net.name,
           "relay": list(relay.ports), "simulcast": net.simulcast})
    return call


def finish_call(call: Call) -> None:
    """Wait out the call, then leave: close() sends the last report and room/disconnected."""
    call.page.wait_for_function(f"performance.now() - window.connectedAt >= {CALL_S * 1000}",
                                timeout=(CALL_S + 30) * 1000, polling=200)
    call.result = call.page.evaluate("""async () => {
        const log = window.layerLog.slice();
        await session.close();
        endCall();
        return {roomSid: session.roomSid, participantSid: session.participantSid, cost: session.cost,
                log, lastError: session.lastError};
    }""")


def participant(client: httpx.Client, call: Call) -> dict[str, Any]:
    r = call.result
    deadline = time.time() + 30
    while True:
        got = client.get(f"/v1/Video/Rooms/{r['roomSid']}/Participants/{r['participantSid']}")
        if got.status_code == 200 and got.json()["status"] == "completed":
            return dict(got.json())
        assert time.time() < deadline, f"{call.network.name}: participant never completed: {got.text}"
        time.sleep(0.3)


def metrics(client: httpx.Client, call: Call) -> dict[str, Any]:
    r = call.result
    got = client.get(f"/v1/Video/Rooms/{r['roomSid']}/Participants/{r['participantSid']}/Metrics")
    assert got.status_code == 200, got.text
    return dict(got.json())


def send_tracks(m: dict[str, Any], kind: str) -> list[dict[str, Any]]:
    return [t for t in m["send"] if t["kind"] == kind]


def values(track: dict[str, Any], key: str) -> list[float]:
    return [p[key] for p in track["points"] if p[key] is not None]


def issues(p: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {i["issue_type"]: i["properties"] for i in p["detected_issues"]["details"]}


@pytest.fixture(scope="module")
def calls(call_browser: Any, page_server: Any, service: LiveServer, account: Creds) -> Iterator[dict[str, Call]]:
    page_url = page_server("/call.html", collector_page(service.url))
    started: dict[str, Call] = {}
    # Two calls at a time: four encoders and decoders at once starve a two-core machine, and a
    # starved receiver freezes, which is an issue the clean call must not have.
    for batch in ((SIMULCAST, LOSSY), (CLEAN, SLOW)):
        with ExitStack() as stack:
            for net in batch:
                relay = stack.enter_context(UdpRelay(delay_ms=net.delay_ms, loss=net.loss))
                started[net.name] = start_call(call_browser, page_url, service.url, account, net, relay)
            for net in batch:
                finish_call(started[net.name])
    service.flush()
    yield started
    for call in started.values():
        call.page.context.close()


def test_calls_under_network_conditions(calls: dict[str, Call], service: LiveServer, account: Creds) -> None:
    client = service.client(account)
    for call in calls.values():
        assert call.errors == [], f"{call.network.name}: the page threw: {call.errors}"
        assert call.result["lastError"] is None
        assert call.relay.counts.forwarded > 1000, "the media did not cross the relay"
    found = {name: (participant(client, c), metrics(client, c)) for name, c in calls.items()}

    # Clean: no issue; bitrate, no loss, an RTT of a few milliseconds.
    p, m = found["clean"]
    assert issues(p) == {}, (p, m)
    assert p["end_reason"] == "participant_disconnected"
    for kind in ("audio", "video"):
        (track,) = send_tracks(m, kind)
        assert len(track["points"]) >= 3
        assert statistics.mean(values(track, "bitrate_bps")) > (20_000 if kind == "audio" else 100_000)
        # The relay drops nothing, but it is a Python thread on a 2-core machine running two calls: a
        # starved moment can cost a few packets (0.6 % of one interval's audio was seen in CI). Still
        # far from the lossy call's 12 % and the 5 % issue threshold, which the "no issue" above holds.
        loss = values(track, "packet_loss_pct")
        assert statistics.mean(loss) < 0.5 and max(loss) < 2, loss
        assert statistics.mean(values(track, "rtt_ms")) < 50
    assert m["receive"] and max(values(m["receive"][0], "bitrate_bps")) > 100_000

    # 12 % dropped each way: packet_loss on the participant, for audio at least.
    p, m = found["loss12"]
    lossy = issues(p)
    assert "packet_loss" in lossy, (p, m)
    assert "audio" in lossy["packet_loss"]["media"]
    (audio,) = send_tracks(m, "audio")
    assert 8 < statistics.mean(values(audio, "packet_loss_pct")) < 17

    # 175 ms each way: round_trip_time for audio and video, about 350 ms on average.
    p, m = found["rtt350"]
    slow = issues(p)
    assert "round_trip_time" in slow, (p, m)
    assert set(slow["round_trip_time"]["media"]) >= {"audio", "video"}
    for kind in ("audio", "video"):
        (track,) = send_tracks(m, kind)
        assert 320 < statistics.mean(values(track, "rtt_ms")) < 450

    # Simulcast: one video track, whose bitrate is its three layers' together.
    p, m = found["simulcast"]
    (video,) = send_tracks(m, "video")
    log = calls["simulcast"].result["log"]
    assert sorted(layer["rid"] for layer in log[-1]["layers"]) == ["f", "h", "q"]
    first, last = log[-11], log[-1]  # the page's last ten seconds: what the collector's last report covers
    expected = (last["videoBytes"] - first["videoBytes"]) * 8000 / (last["at"] - first["at"])
    largest = max((b["bytesSent"] - a["bytesSent"]) * 8000 / (last["at"] - first["at"])
                  for a, b in zip(first["layers"], last["layers"], strict=True))
    reported = video["points"][-1]["bitrate_bps"]
    assert abs(reported - expected) < 0.2 * expected, (reported, expected)
    assert reported > 1.2 * largest, "the track's bitrate is one layer's, not the sum"


def test_collector_costs_under_a_millisecond_per_sample(calls: dict[str, Call]) -> None:
    """Main-thread time of the collector's sampling (two peer connections, timers at 5 µs)."""
    costs = [c.result["cost"] for c in calls.values()]
    samples = sum(c["samples"] for c in costs)
    mean = sum(c["totalMs"] for c in costs) / samples
    recent = sorted(ms for c in costs for ms in c["recent"])
    median, p95 = recent[len(recent) // 2], recent[int(len(recent) * 0.95)]
    print(f"\ncollector main-thread time per sample: mean {mean:.3f} ms, median {median:.3f} ms, "
          f"p95 {p95:.3f} ms, max {max(c['maxMs'] for c in costs):.3f} ms over {samples} samples")
    assert samples >= 4 * int(CALL_S - 2)
    # The median: on a busy machine the mean also counts the moments the tab was not scheduled at all.
    assert median < 1.0
