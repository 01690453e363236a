"""The collector around the call: the service down and back, killed mid-call, page unload, the ES module
import."""

from __future__ import annotations

import os
import signal
import time
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any

import httpx

from conftest import account_in, make_account
from e2e.conftest import e2e_settings
from e2e.relay import UdpRelay
from support import free_port, serving, start_serve
from video_insights import __version__
from video_insights.app import create_app
from video_insights.ingest import livekit
from video_insights.ingest.auth import mint_token
from video_insights.model.ids import room_sid_for_name
from video_insights.store import open_store
from video_insights.store.duckdb_store import DuckDBStore

CONNECT = """async ({url, token, room, identity, relay}) => {
    window.session = VideoInsights.connect({url, token, roomName: room, identity, roomType: "group"});
    await startCall({relay, width: 320, height: 240});
}"""


def wait_for(page: Any, condition: str, seconds: float) -> None:
    page.wait_for_function(condition, timeout=seconds * 1000, polling=100)


def test_service_down_and_back(call_browser: Any, page_server: Callable[[str, str], str], tmp_path: Path) -> None:
    """Down when the call starts, up, down again mid-call, back: the app never notices; what was
    queued arrives, and the reconnected collector is still the same participant."""
    path = tmp_path / "vi.duckdb"
    store = DuckDBStore(path)
    store.migrate()
    creds = make_account(store)
    settings = e2e_settings(path)
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    page = call_browser.new_context().new_page()
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.goto(page_server("/outage.html", _page('<script src="/collector.js"></script>')))
    token = mint_token(creds.account_sid, creds.key_sid, creds.key_secret, "outage")
    with UdpRelay() as relay:
        page.evaluate(CONNECT, {"url": url, "token": token, "room": "outage", "identity": "outage",
                                "relay": list(relay.ports)})
        time.sleep(3)
        assert page.evaluate("session.connected") is False
        with serving(create_app(settings, store=store), port):
            wait_for(page, "session.connected", 20)
        wait_for(page, "!session.connected", 10)
        down_ms = int(time.time() * 1000)
        wait_for(page, "session.queued > 0", 15)  # a stats report while nobody listens
        time.sleep(1)
        assert page.evaluate("call.pc1.connectionState") == "connected", "the call suffered"
        app = create_app(settings, store=store)
        with serving(app, port):
            up_ms = int(time.time() * 1000)
            wait_for(page, "session.connected && session.queued === 0", 40)
            result = page.evaluate("""async () => { await session.close(); endCall();
                return {room: session.roomSid, participant: session.participantSid}; }""")
            app.state.services.settle()
            with httpx.Client(base_url=url, auth=creds.basic, timeout=30) as client:
                listed = client.get(f"/v1/Video/Rooms/{result['room']}/Participants").json()["participants"]
                m = client.get(f"/v1/Video/Rooms/{result['room']}/Participants/{result['participant']}/Metrics")
    page.context.close()
    store.close()
    assert errors == []
    assert [p["participant_sid"] for p in listed] == [result["participant"]], "a reconnect made a new participant"
    assert listed[0]["status"] == "completed"
    times = [_ms(p["time"]) for t in m.json()["send"] for p in t["points"]]
    assert any(down_ms - 10_000 <= t < up_ms for t in times), "the report queued while down never arrived"


# Every stats report the collector sends, as the page's WebSocket carries it (the collector's own
# counters could not tell whether it lost one).
RECORD_REPORTS = """(() => {
    window.sentReports = [];
    const send = WebSocket.prototype.send;
    WebSocket.prototype.send = function (data) {
        const m = JSON.parse(data);
        if (m.name === "stats-report") window.sentReports.push(m);
        return send.call(this, data);
    };
})();"""
SEND_LISTS = ("localAudioTrackStats", "localVideoTrackStats")
RECV_LISTS = ("audioTrackStats", "videoTrackStats")


def test_server_killed_mid_call_loses_no_report(call_browser: Any, page_server: Callable[[str, str], str],
                                               tmp_path: Path) -> None:
    """`kill -9` of the server mid-call, restarted on the same port and store: the collector
    reconnects and sends again what was not acknowledged, and every report it sent is stored once.
    The first server gathers for a minute before it commits, so what it received is surely lost
    with it: only the resend can bring it back."""
    store_url = f"duckdb:///{tmp_path}/vi.duckdb"
    creds = account_in(store_url)
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    env = {"VIDEO_INSIGHTS_LOG_LEVEL": "warning", "VIDEO_INSIGHTS_SUMMARY_DELAY_S": "1"}
    page = call_browser.new_context().new_page()
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.add_init_script(RECORD_REPORTS)
    page.goto(page_server("/killed.html", _page('<script src="/collector.js"></script>')))
    token = mint_token(creds.account_sid, creds.key_sid, creds.key_secret, "killed")
    proc = start_serve(store_url, port, {**env, "VIDEO_INSIGHTS_WRITER_FLUSH_MS": "60000"})
    try:
        with UdpRelay() as relay:
            page.evaluate(CONNECT, {"url": url, "token": token, "room": "killed", "identity": "killed",
                                    "relay": list(relay.ports)})
            wait_for(page, "session.connected && sentReports.length >= 2", 30)  # both pcs' first reports
            at_risk = page.evaluate("session.unacknowledged")
            os.kill(proc.pid, signal.SIGKILL)
            proc.wait(timeout=30)
            wait_for(page, "!session.connected", 10)
            proc = start_serve(store_url, port, env)
            wait_for(page, "session.connected && session.queued === 0 && session.unacknowledged === 0", 30)
            resent = page.evaluate("new Set(sentReports.map((m) => m.seq)).size < sentReports.length")
            wait_for(page, "sentReports.length >= 4", 20)  # the call goes on: the next reports
            assert page.evaluate("call.pc1.connectionState") == "connected", "the call suffered"
            ids = page.evaluate("""async () => { await session.close(); endCall();
                return {room: session.roomSid, participant: session.participantSid,
                        left: session.queued + session.unacknowledged}; }""")
        reports = {m["seq"]: m for m in page.evaluate("sentReports")}.values()
        expected = _points(reports)
        metrics = f"/v1/Video/Rooms/{ids['room']}/Participants/{ids['participant']}/Metrics"
        with httpx.Client(base_url=url, auth=creds.basic, timeout=30) as client:
            deadline = time.time() + 20
            while (missing := expected - _metrics_points(client.get(metrics).json())) and time.time() < deadline:
                time.sleep(0.3)
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=30)
    page.context.close()
    store = open_store(store_url)
    try:
        _, rows = store.fetch(f"SELECT DISTINCT pc_id, direction, ssrc, ts_ms FROM stream_samples "
                              f"WHERE participant_sid = '{ids['participant']}'")
    finally:
        store.close()
    assert errors == []
    assert at_risk >= 2, "no report was waiting for its commit when the server was killed"
    assert ids["left"] == 0
    assert missing == set(), f"{len(missing)} of {len(expected)} report points not in /Metrics"
    samples = {(pc, d, int(ssrc), int(ts)) for pc, d, ssrc, ts in rows}
    sent = _samples(reports)
    assert sent - samples == set(), f"{len(sent - samples)} of {len(sent)} samples lost"
    assert resent, "nothing was sent again"


def _entries(reports: Any) -> Any:
    for m in reports:
        for name in (*SEND_LISTS, *RECV_LISTS):
            for e in m["payload"][name]:
                at = e.get("timestamp")
                yield m, name, e, round(at) if at is not None else int(m["timestamp"])


def _points(reports: Any) -> set[tuple[str, str, int]]:
    """What the reports make /Metrics show: a point per sent track, and per receiving peer connection,
    in each 10-second interval a report fell in."""
    return {("send", e["trackSid"], at - at % 10_000) if name in SEND_LISTS
            else ("recv", m["payload"]["peerConnectionId"], at - at % 10_000)
            for m, name, e, at in _entries(reports)}


def _metrics_points(doc: dict[str, Any]) -> set[tuple[str, str, int]]:
    return ({("send", t["track_sid"], _ms(p["time"])) for t in doc.get("send", []) for p in t["points"]}
            | {("recv", t["peer_connection_id"], _ms(p["time"])) for t in doc.get("receive", []) for p in t["points"]})


def _samples(reports: Any) -> set[tuple[str, str, int, int]]:
    return {(m["payload"]["peerConnectionId"], "send" if name in SEND_LISTS else "recv", int(e["ssrc"]), at)
            for m, name, e, at in _entries(reports)}


def test_unload_sends_disconnected_and_module_import(call_browser: Any, page_server: Callable[[str, str], str],
                                                    service: Any, account: Any) -> None:
    """The collector imported as an ES module; leaving the page beacons room/disconnected and the
    last report. A room name maps to the account's stable SID for it."""
    module = f"{service.url}/static/collector-{__version__}.mjs"
    page = call_browser.new_context().new_page()
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.goto(page_server("/module.html", _page(
        f'<script type="module">import VideoInsights from "{module}"; window.VideoInsights = VideoInsights;'
        f' window.imported = true;</script>')))
    wait_for(page, "window.imported === true", 10)
    assert page.evaluate("VideoInsights.version") == __version__
    token = mint_token(account.account_sid, account.key_sid, account.key_secret, "leaver")
    with UdpRelay() as relay:
        page.evaluate(CONNECT, {"url": service.url, "token": token, "room": "unload", "identity": "leaver",
                                "relay": list(relay.ports)})
        wait_for(page, "session.connected", 10)
        time.sleep(2)
        ids = page.evaluate("({room: session.roomSid, participant: session.participantSid})")
        page.goto("about:blank")  # pagehide: the collector beacons what it has
    assert ids["room"] == room_sid_for_name(account.account_sid, "unload")
    client = service.client(account)
    deadline = time.time() + 20
    while True:
        service.flush()
        p = client.get(f"/v1/Video/Rooms/{ids['room']}/Participants/{ids['participant']}").json()
        if p.get("status") == "completed" or time.time() > deadline:
            break
        time.sleep(0.3)
    page.context.close()
    assert errors == []
    assert p["status"] == "completed" and p["end_reason"] == "participant_disconnected", p
    assert p["sdk"] == {"name": "video-insights-collector", "version": __version__}
    assert p["publisher_info"]["userAgentData"]["platform"] == "Linux"
    m = client.get(f"/v1/Video/Rooms/{ids['room']}/Participants/{ids['participant']}/Metrics").json()
    assert {t["kind"] for t in m["send"]} == {"audio", "video"}, "the last report did not come with the beacon"


def _page(collector: str) -> str:
    return f'<!doctype html><title>collector</title>{collector}<script src="/call.js"></script>'


def _ms(iso: str) -> int:
    return int(datetime.fromisoformat(iso.replace("Z", "+00:00")).timestamp() * 1000)


def test_wrong_options_never_throw(call_browser: Any, page_server: Callable[[str, str], str]) -> None:
    page = call_browser.new_context().new_page()
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.goto(page_server("/wrong.html", _page('<script src="/collector.js"></script>')))
    got = page.evaluate("""async () => {
        const s = VideoInsights.connect({token: "t"});
        s.addPeerConnection(null); s.setTrackSid("x", "MT1");
        await s.close();
        const pc = new RTCPeerConnection();  // the wrapped constructor still builds the real thing
        return {error: s.lastError, real: pc instanceof RTCPeerConnection && typeof pc.createOffer === "function"};
    }""")
    page.context.close()
    assert errors == []
    assert "url is required" in got["error"]
    assert got["real"] is True


def test_livekit_participant_sid_from_a_promise(call_browser: Any, page_server: Callable[[str, str], str],
                                                service: Any, account: Any) -> None:
    """A LiveKit app starts the collector before `room.connect()` and hands it LiveKit's participant
    SID once known: the collector waits for it to connect, and is then the webhooks' participant."""
    page = call_browser.new_context().new_page()
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.goto(page_server("/livekit.html", _page('<script src="/collector.js"></script>')))
    token = mint_token(account.account_sid, account.key_sid, account.key_secret, "lk-alice")
    page.evaluate("""({url, token}) => {
        let joined;
        const sid = new Promise((resolve) => { joined = resolve; });
        window.session = VideoInsights.connect({url, token, roomName: "lk-room", identity: "lk-alice",
                                                livekitParticipantSid: () => sid});
        window.joined = joined;
    }""", {"url": service.url, "token": token})
    time.sleep(1)
    assert page.evaluate("session.connected") is False, "connected before the SID was known"
    page.evaluate("joined('PA_k1tC0ll3ct0r')")
    wait_for(page, "session.connected", 10)
    got = page.evaluate("session.participantSid")
    page.evaluate("session.close()")
    page.context.close()
    assert errors == []
    assert got == livekit.participant_sid(account.account_sid, "PA_k1tC0ll3ct0r")
