"""twilio-video.js's own insights code, from the npm package (tests/sdk), unchanged: its getStats
standardiser, StatsMonitor, telemetry and InsightsPublisher run in Chromium on a loopback call with
audio and 3-layer simulcast video through the lossy relay, pointed at this service's gateway.

What the service must make of it: nothing rejected, one audio and one video send track, the simulcast
layers summed, loss and RTT matching what the relay did, the browser read from the SDK's user agent,
the SDK named with its version. Set VI_RECORD_SDK_FRAMES=1 to write the frames the SDK sent to
tests/data/twilio-video-js/<version>/ (the fast replay test, tests/ingest/test_twilio_sdk_replay.py,
reads them).
"""

from __future__ import annotations

import os
import re
import statistics
import subprocess
import time
from collections.abc import Callable, Iterator
from contextlib import ExitStack
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import orjson
import pytest

from conftest import LiveServer
from e2e.relay import Network, UdpRelay
from support import Creds
from video_insights.ingest.auth import mint_token
from video_insights.model.ids import new_sid

SDK_DIR = Path(__file__).parent.parent / "sdk"
FRAMES = Path(__file__).parent.parent / "data" / "twilio-video-js"
# The StatsMonitor collects every second and publishes at its 10th, 20th and 30th collection.
CALL_S = 31.5
STALL_MS = 6_000


CLEAN = Network("clean")
LOSSY = Network("loss10", loss=0.10, delay_ms=40.0)


@dataclass
class SdkCall:
    network: Network
    page: Any
    relay: UdpRelay
    room_sid: str
    participant_sid: str
    errors: list[str] = field(default_factory=list)
    result: dict[str, Any] = field(default_factory=dict)


@pytest.fixture(scope="module")
def sdk_bundle(tmp_path_factory: pytest.TempPathFactory) -> str:
    """tests/sdk/insights.js bundled by esbuild from the installed package (`npm ci --prefix tests/sdk`)."""
    esbuild = SDK_DIR / "node_modules" / ".bin" / "esbuild"
    if not (SDK_DIR / "node_modules" / "twilio-video" / "lib").is_dir() or not esbuild.exists():
        why = "tests/sdk/node_modules is missing: run `npm ci --prefix tests/sdk`"
        if os.environ.get("CI"):
            pytest.fail(f"{why} (.ci/run must install it)")
        pytest.skip(why)
    out = tmp_path_factory.mktemp("sdk") / "insights.bundle.js"
    subprocess.run([str(esbuild), "insights.js", "--bundle", "--format=iife", "--platform=browser",
                    "--external:ws", f"--outfile={out}", "--log-level=warning"], cwd=SDK_DIR, check=True, timeout=120)
    return out.read_text()


@pytest.fixture(scope="module")
def sdk_version() -> str:
    return str(orjson.loads((SDK_DIR / "node_modules" / "twilio-video" / "package.json").read_bytes())["version"])


@pytest.fixture(scope="module")
def sdk_page(page_server: Callable[..., str], sdk_bundle: str) -> str:
    page_server("/twilio-video-insights.js", sdk_bundle, "text/javascript")
    return page_server("/sdk-call.html", '<!doctype html><title>twilio-video.js insights</title>'
                                         '<script src="/twilio-video-insights.js"></script>'
                                         '<script src="/call.js"></script><script src="/sdk_insights.js"></script>')


def _open(browser: Any, url: str, errors: list[str]) -> Any:
    page = browser.new_context().new_page()
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.goto(url)
    return page


def _insights(service: LiveServer, creds: Creds, identity: str, room_sid: str, participant_sid: str) -> dict[str, str]:
    return {"gateway": service.url.replace("http://", "ws://") + "/v1/VideoEvents", "roomSid": room_sid,
            "participantSid": participant_sid,
            "token": mint_token(creds.account_sid, creds.key_sid, creds.key_secret, identity)}


def start_call(browser: Any, url: str, service: LiveServer, creds: Creds, net: Network, relay: UdpRelay) -> SdkCall:
    call = SdkCall(net, None, relay, new_sid("RM"), new_sid("PA"))
    call.page = _open(browser, url, call.errors)
    call.page.evaluate("""async ({insights, relay}) => {
        await startInsights(insights);
        await startCall({relay, simulcast: true, width: 960, height: 540, watch: watchSender});
        window.monitorFrom = performance.now();
        logLayers();
    }""", {"insights": _insights(service, creds, net.name, call.room_sid, call.participant_sid),
           "relay": list(relay.ports)})
    return call


def finish_call(call: SdkCall) -> None:
    call.page.wait_for_function(f"performance.now() - window.monitorFrom >= {CALL_S * 1000}",
                                timeout=(CALL_S + 30) * 1000, polling=200)
    call.result = call.page.evaluate("""async () => {
        const log = window.layerLog.slice();
        await stopInsights();
        endCall();
        return {log, frames: window.sentFrames.slice(), userAgent: navigator.userAgent};
    }""")


def _record(name: str, version: str, frames: list[str]) -> None:
    """The frames as sent, the access token and session left out (the replay mints its own)."""
    if not os.environ.get("VI_RECORD_SDK_FRAMES"):
        return
    folder = FRAMES / version
    folder.mkdir(parents=True, exist_ok=True)
    lines = []
    for text in frames:
        frame = orjson.loads(text)
        if "token" in frame:
            frame["token"] = "<token>"
        if "session" in frame:
            frame["session"] = "<session>"
        lines.append(orjson.dumps(frame).decode())
    (folder / f"{name}.jsonl").write_text("\n".join(lines) + "\n")


@pytest.fixture(scope="module")
def sdk_calls(call_browser: Any, sdk_page: str, service: LiveServer, account: Creds, sdk_version: str
              ) -> Iterator[dict[str, SdkCall]]:
    before = service.client().get("/healthz").json()["gateway_rejections"]
    calls: dict[str, SdkCall] = {}
    with ExitStack() as stack:
        for net in (CLEAN, LOSSY):
            relay = stack.enter_context(UdpRelay(delay_ms=net.delay_ms, loss=net.loss))
            calls[net.name] = start_call(call_browser, sdk_page, service, account, net, relay)
        for call in calls.values():
            finish_call(call)
            _record(call.network.name, sdk_version, call.result["frames"])
    service.flush()
    after = service.client().get("/healthz").json()["gateway_rejections"]
    print(f"\ntwilio-video.js {sdk_version}: gateway rejections during the calls "
          f"{ {k: after[k] - before[k] for k in after} }")
    for call in calls.values():
        call.result["rejections"] = {k: after[k] - before[k] for k in after}
    yield calls
    for call in calls.values():
        call.page.context.close()


def _participant(client: httpx.Client, room: str, participant: str) -> dict[str, Any]:
    deadline = time.time() + 30
    while True:
        got = client.get(f"/v1/Video/Rooms/{room}/Participants/{participant}")
        if got.status_code == 200 and got.json()["status"] == "completed":
            return dict(got.json())
        assert time.time() < deadline, f"the participant never completed: {got.text}"
        time.sleep(0.3)


def _values(track: dict[str, Any], key: str) -> list[float]:
    return [p[key] for p in track["points"] if p[key] is not None]


def _issues(p: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {i["issue_type"]: i["properties"] for i in p["detected_issues"]["details"]}


def test_sdk_reports_are_accepted_and_measure_the_call(sdk_calls: dict[str, SdkCall], service: LiveServer,
                                                       account: Creds, sdk_version: str) -> None:
    client = service.client(account)
    for name, call in sdk_calls.items():
        assert call.errors == [], f"{name}: the page threw: {call.errors}"
        assert call.relay.counts.forwarded > 1000, "the media did not cross the relay"
        assert set(call.result["rejections"].values()) == {0}, call.result["rejections"]
        frames = [orjson.loads(f) for f in call.result["frames"]]
        reports = [f for f in frames if f.get("name") == "stats-report"]
        assert len(reports) == 3, [f.get("name") for f in frames]
        # The reason this test exists: the SDK's entries for the sender's receivers carry no media.
        assert any(e.get("ssrc") is None for r in reports for e in r["payload"]["audioTrackStats"])

        p = _participant(client, call.room_sid, call.participant_sid)
        assert p["sdk"] == {"name": "twilio-video.js", "version": sdk_version}
        ua = call.result["userAgent"]
        assert p["user_agent"] == ua
        assert p["browser"]["name"] in ua and p["browser"]["version"] and p["browser"]["version"] in ua
        assert p["properties"]["network"]["relayed"] is False  # loopback: a host pair
        assert p["end_reason"] == "participant_disconnected"

        m = client.get(f"/v1/Video/Rooms/{call.room_sid}/Participants/{call.participant_sid}/Metrics").json()
        assert sorted(t["kind"] for t in m["send"]) == ["audio", "video"], m["send"]
        assert m["receive"] == []  # the sender's receivers had no media
        (audio,) = [t for t in m["send"] if t["kind"] == "audio"]
        (video,) = [t for t in m["send"] if t["kind"] == "video"]
        assert len(video["points"]) >= 2 and video["codec"] == "VP8"

        # Simulcast: the track's bitrate is its three layers' together (the page's own measurement of
        # the ten seconds the SDK's last report covers).
        log = call.result["log"]
        assert sorted(layer["rid"] for layer in log[-1]["layers"]) == ["f", "h", "q"]
        first, last = log[-11], log[-1]
        expected = (last["videoBytes"] - first["videoBytes"]) * 8000 / (last["at"] - first["at"])
        layers = sorted((b["bytesSent"] - a["bytesSent"]) * 8000 / (last["at"] - first["at"])
                        for a, b in zip(first["layers"], last["layers"], strict=True))
        reported = video["points"][-1]["bitrate_bps"]
        print(f"{name} video: {reported / 1000:.0f} kbit/s reported, layers {[round(r / 1000) for r in layers]}")
        assert abs(reported - expected) < 0.2 * expected, (name, reported, expected)
        if not call.network.loss:  # a lossy link may leave the encoder one layer
            assert layers[-2] > 0.1 * layers[-1], layers
            assert reported > layers[-1] + 0.5 * layers[-2], "the track's bitrate is one layer's, not the sum"

        # Loss and RTT against what the relay did: the share it dropped (each way, so the receiver's
        # reports are lost as often as media), twice its delay.
        dropped = 100 * call.relay.counts.dropped / (call.relay.counts.dropped + call.relay.counts.forwarded)
        rtt = 2 * call.network.delay_ms
        for track in (audio, video):
            losses, rtts = _values(track, "packet_loss_pct"), _values(track, "rtt_ms")
            assert losses and rtts, (name, track)
            print(f"{name} {track['kind']}: loss {statistics.mean(losses):.1f} % (relay dropped {dropped:.1f} %), "
                  f"rtt {statistics.mean(rtts):.0f} ms (relay {rtt:.0f} ms)")
            if track["kind"] == "audio":
                assert abs(statistics.mean(losses) - dropped) < 5, (name, losses, dropped)
            else:
                # The SDK reports video loss for one simulcast layer (the one its getStats pairs with a
                # remote-inbound-rtp), and retransmissions repair most of it: it is at most the relay's.
                assert statistics.mean(losses) <= dropped + 5, (name, losses)
            assert rtt - 30 < statistics.mean(rtts) < rtt + 50, (name, track["kind"], rtts)
        if call.network.loss:
            assert "audio" in _issues(p)["packet_loss"]["media"]
        else:
            assert not {"packet_loss", "round_trip_time"} & set(_issues(p)), p["detected_issues"]


def test_sdk_name_shows_on_the_participant_page(sdk_calls: dict[str, SdkCall], service: LiveServer, account: Creds,
                                                 call_browser: Any, sdk_version: str) -> None:
    call = sdk_calls["clean"]
    page = call_browser.new_context().new_page()
    try:
        page.goto(f"{service.url}/login")
        page.fill("#username", account.account_sid)
        page.fill("#password", account.auth_token)
        page.click("button[type=submit]")
        page.wait_for_url(f"{service.url}/")
        page.goto(f"{service.url}/rooms/{call.room_sid}/participants/{call.participant_sid}")
        sdk = page.inner_text("[data-field=sdk] dd")
        assert re.fullmatch(rf"twilio-video\.js\s+{re.escape(sdk_version)}", sdk.strip()), sdk
        assert "Direct" in page.inner_text("[data-field=connection] dd")
    finally:
        page.context.close()


def test_every_event_group_is_stored_and_read(call_browser: Any, sdk_page: str, service: LiveServer,
                                              account: Creds, sdk_version: str) -> None:
    errors: list[str] = []
    page = _open(call_browser, sdk_page, errors)
    room, participant = new_sid("RM"), new_sid("PA")
    before = service.client().get("/healthz").json()["gateway_rejections"]
    try:
        page.evaluate("async (insights) => { await startInsights(insights); }",
                      _insights(service, account, "everything", room, participant))
        stalled = page.evaluate("async (stallMs) => await publishEveryEvent({stallMs})", STALL_MS)
        frames = page.evaluate("async () => { await stopInsights(); return window.sentFrames.slice(); }")
    finally:
        page.context.close()
    assert errors == []
    _record("events", sdk_version, frames)
    service.flush()
    after = service.client().get("/healthz").json()["gateway_rejections"]
    assert after == before
    client = service.client(account)
    p = _participant(client, room, participant)
    found = _issues(p)
    assert set(found) >= {"ice_failure", "repeated_reconnects", "get_user_media_failure", "cpu_pressure",
                          "video_stalled"}, found
    assert found["video_stalled"]["track_sids"] == [stalled]
    assert STALL_MS / 1000 <= found["video_stalled"]["value"] < STALL_MS / 1000 + 5
    assert p["properties"]["network"] == {"relayed": True, "local_candidate_type": "relay",
                                          "remote_candidate_type": "host", "protocol": "udp",
                                          "relay_protocol": "udp", "network_type": "wifi"}
    assert p["end_reason"] == "media_connection_error"


def test_the_sdk_under_test_is_the_pinned_one(sdk_version: str) -> None:
    pinned = orjson.loads((SDK_DIR / "package.json").read_bytes())["dependencies"]["twilio-video"]
    assert sdk_version == pinned
