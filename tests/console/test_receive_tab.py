"""The participant page's Receive tab in Chromium: one panel per incoming track, named by who sent it,
with bitrate, loss, jitter and freezes (video) or concealment (audio) whose values are /Metrics' own,
the issue thresholds drawn and one zoom for every graph.

Over the demo account (a participant tagged with received video freezes), and over recorded getStats
series of a real Chromium call (5 % loss, 100 ms each way, three freezes) sent the way each source
sends them: twilio-video.js with Twilio's status callbacks (the sender's track SID), a collector on
both sides of a peer-to-peer call (the sender's media track id), and a receiver alone (no sender).
"""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from conftest import make_account
from console.test_room_pages import CHART_OPTION, api, chart_options, metrics_of, participants_of, wheel_zoom
from support import Creds, gateway_reports, getstats_series, publish_reports, serving, twilio_sign
from video_insights.app import create_app
from video_insights.model.ids import new_sid
from video_insights.model.labels import track_name
from video_insights.settings import Settings
from video_insights.store.duckdb_store import DuckDBStore

# What each Receive graph draws, from which /Metrics field, at which scale (freezes: seconds frozen in a
# 10-second interval, drawn as a percentage of it).
DRAWN = {"bitrate": ("bitrate_bps", 1e-3), "loss": ("packet_loss_pct", 1), "jitter": ("jitter_ms", 1),
         "freezes": ("freezes_duration_s", 10), "concealment": ("concealment_pct", 1)}
UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-")
VIEWPORT = {"width": 1440, "height": 900}


def drawn_values(option: dict[str, Any]) -> list[float]:
    """The values a graph draws, in time order, without the nulls that break its line at gaps."""
    points = [d["value"] if isinstance(d, dict) else d for d in option["series"][0]["data"]]
    return [v for _, v in points if v is not None]


def threshold_of(option: dict[str, Any]) -> float | None:
    line = option["series"][0].get("markLine")
    return float(line["data"][0]["yAxis"]) if line else None


def open_receive_tab(page: Any, url: str) -> None:
    page.goto(url + "?tab=receive")
    page.wait_for_function(
        "() => [...document.querySelectorAll('#panel-receive .qchart')].every(el => echarts.getInstanceByDom(el))")


def check_panels_equal_the_api(page: Any, metrics: dict[str, Any], thresholds: dict[str, float]) -> None:
    """Every incoming track of /Metrics has its panel, and each graph draws exactly its values."""
    incoming = {t["track_sid"]: t for t in metrics["receive_tracks"]}
    panels = page.locator("#panel-receive .track-panel")
    assert panels.count() == len(incoming) > 0
    for panel in panels.all():
        track = incoming[panel.get_attribute("data-track-sid")]
        heading = panel.locator("h3").inner_text()
        assert not UUID.search(heading) or track["sender"] is None, heading  # a peer connection id is no name
        expected = ("loss", "jitter", "bitrate", "freezes" if track["kind"] == "video" else "concealment")
        shown = panel.locator(".qchart").evaluate_all("els => els.map(e => e.dataset.metric)")
        assert sorted(shown) == sorted(expected)
        for metric in expected:
            option = panel.locator(f".qchart[data-metric={metric}]").evaluate(CHART_OPTION)
            field, scale = DRAWN[metric]
            api_values = [p[field] * scale for p in track["points"] if p[field] is not None]
            assert drawn_values(option) == pytest.approx(api_values), (track["track_sid"], metric)
            assert threshold_of(option) == thresholds.get(metric), metric


def test_demo_participant_with_received_freezes(signed_in: Any, console: Any, screenshot_dir: Path) -> None:
    with api(console, console.demo) as c:
        rooms = c.get("/v1/Video/Rooms", params={"_range": "30d", "issue_type__eq": "video_freezes",
                                                 "room_type__eq": "group", "PageSize": 5}).json()["rooms"]
    assert rooms, "the demo data has a group room where someone's received video froze"
    room = rooms[0]["room_sid"]
    target = next(p for p in participants_of(console, room) if "video_freezes" in p["issue_types"])
    psid = target["participant_sid"]
    metrics = metrics_of(console, room, psid)
    issue = next(d for d in target["detected_issues"]["details"] if d["issue_type"] == "video_freezes")
    frozen_tracks = issue["properties"]["track_sids"]
    by_sid = {t["track_sid"]: t for t in metrics["receive_tracks"]}
    # The demo names received tracks as twilio-video.js does: every one by its sender and track name.
    assert all(t["sender"] and t["sender"]["matched_by"] == "track_sid" for t in by_sid.values())
    assert set(frozen_tracks) <= set(by_sid) and all(by_sid[t]["kind"] == "video" for t in frozen_tracks)

    page = signed_in(viewport=VIEWPORT)
    url = f"{console.url}/rooms/{room}/participants/{psid}"
    open_receive_tab(page, url)
    settings = console.app.state.services.settings
    check_panels_equal_the_api(page, metrics, {"loss": settings.packet_loss_threshold_pct,
                                               "jitter": settings.jitter_threshold_ms, "freezes": 2.0})
    for sid, track in by_sid.items():
        heading = page.locator(f"#recv-{sid} h3").inner_text()
        name = track_name(track["sender"]["track_name"], track["kind"])  # the one label of an unnamed track
        assert f"{track['sender']['participant_identity']} · {name}" in heading

    # The issue's graph: a frozen track's freeze graph crosses the threshold the issue was judged on.
    (freezes,) = chart_options(page, f"#recv-{frozen_tracks[0]} .qchart[data-metric=freezes]")
    assert max(drawn_values(freezes)) >= 2.0
    # The issue links to it, on this tab.
    page.goto(url)
    page.click(f"table.issues tr[data-issue-type=video_freezes] a[href='#recv-{frozen_tracks[0]}']")
    assert page.locator("#panel-receive").is_visible() and page.locator(f"#recv-{frozen_tracks[0]}").is_visible()
    page.wait_for_function(
        "() => [...document.querySelectorAll('#panel-receive .qchart')].every(el => echarts.getInstanceByDom(el))")
    page.evaluate("window.scrollTo(0, document.getElementById('quality').offsetTop - 60)")
    page.screenshot(path=str(screenshot_dir / "participant-receive-light-1440.png"))
    page.screenshot(path=str(screenshot_dir / "participant-receive-light-1440-full.png"), full_page=True)

    # One zoom for all: the wheel over a receive graph zooms every other graph with it.
    wheel_zoom(page, page.locator(f"#recv-{frozen_tracks[0]} .qchart[data-metric=freezes]"))
    zooms = {(o["dataZoom"][0]["start"], o["dataZoom"][0]["end"]) for o in chart_options(page, ".qchart")}
    assert len(zooms) == 1 and zooms != {(0, 100)}, zooms
    assert page.locator("#reset-zoom").is_visible()


# --- recorded data ---------------------------------------------------------------------------------

SERIES = "pw_relay_d100_l5"  # Chromium 156, relay 100 ms each way and 5 % loss: the receiver saw 3 freezes


@pytest.fixture(scope="module")
def recorded_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Creds]]:
    path = tmp_path_factory.mktemp("recv") / "recv.duckdb"
    store = DuckDBStore(path)
    store.migrate()
    creds = make_account(store)
    app = create_app(Settings.from_env({}, store=f"duckdb:///{path}", writer_flush_ms=20), store=store)
    with serving(app) as url:
        yield url, creds
    store.close()


def _callbacks(url: str, creds: Creds, room: str, people: dict[str, str], tracks: list[tuple[str, str, str, str]]
               ) -> None:
    """Twilio's signed room status callbacks: the room, its participants, and the tracks they published."""
    target = f"{url}/webhooks/twilio"
    stamp = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(time.time() - 30))
    events = [("room-created", {})] + [("participant-connected", {"ParticipantSid": p, "ParticipantIdentity": who})
                                       for p, who in people.items()]
    events += [("track-added", {"ParticipantSid": p, "ParticipantIdentity": people[p], "TrackSid": sid,
                                "TrackKind": kind, "TrackName": name}) for p, sid, kind, name in tracks]
    for event, extra in events:
        params = {"AccountSid": creds.account_sid, "RoomSid": room, "RoomName": "recorded", "RoomType": "peer-to-peer",
                  "StatusCallbackEvent": event, "Timestamp": stamp, **extra}
        r = httpx.post(target, data=params, timeout=30,
                       headers={"X-Twilio-Signature": twilio_sign(creds.auth_token, target, params)})
        assert r.status_code == 200, r.text


def _with_track_sids(reports: list[tuple[int, dict[str, Any]]], sids: dict[str, str], lists: tuple[str, str]
                     ) -> list[tuple[int, dict[str, Any]]]:
    """Each entry of `lists` (audio, video) with the track SID twilio-video.js would give it."""
    for _, payload in reports:
        for name, kind in zip(lists, ("audio", "video"), strict=True):
            for entry in payload[name]:
                entry["trackSid"] = sids[kind]
    return reports


def _metrics(url: str, creds: Creds, room: str, participant: str) -> dict[str, Any]:
    deadline = time.time() + 20
    with httpx.Client(base_url=url, auth=creds.basic, timeout=30) as c:
        while True:
            r = c.get(f"/v1/Video/Rooms/{room}/Participants/{participant}/Metrics")
            body: dict[str, Any] = r.json() if r.status_code == 200 else {}
            tracks = body.get("receive_tracks", [])
            if len(tracks) == 2 and all(len(t["points"]) >= 2 for t in tracks):
                return body
            assert time.time() < deadline, f"the receiver's metrics never arrived: {r.status_code} {r.text}"
            time.sleep(0.2)


@pytest.mark.parametrize("source", ["twilio-video.js", "collector", "receiver alone"])
def test_recorded_call_received_tracks(signed_in: Any, recorded_server: tuple[str, Creds], source: str,
                                       screenshot_dir: Path) -> None:
    url, creds = recorded_server
    lines = getstats_series(SERIES)
    offset = time.time() * 1000 - lines[-1]["clientTs"] - 5_000
    room, alice, bob = new_sid("RM"), new_sid("PA"), new_sid("PA")
    # Every getStats of the recording (a second apart), so that the call's 15 s span two intervals.
    sent, received = (gateway_reports(lines, label, offset, every=1) for label in ("sender", "receiver"))
    if source == "twilio-video.js":
        sids = {"audio": new_sid("MT"), "video": new_sid("MT")}
        _callbacks(url, creds, room, {alice: "alice", bob: "bob"},
                   [(alice, sids["audio"], "audio", "mic"), (alice, sids["video"], "video", "camera")])
        sent = _with_track_sids(sent, sids, ("localAudioTrackStats", "localVideoTrackStats"))
        received = _with_track_sids(received, sids, ("audioTrackStats", "videoTrackStats"))
    if source != "receiver alone":
        publish_reports(url, creds, room, "alice", sent, participant=alice)
    publish_reports(url, creds, room, "bob", received, participant=bob)
    metrics = _metrics(url, creds, room, bob)

    incoming = {t["kind"]: t for t in metrics["receive_tracks"]}
    video = incoming["video"]
    # What the browser counted over the call: three freezes, 0.906 s frozen; loss on both tracks.
    last = next(s for s in lines[-1]["stats"] if s["type"] == "inbound-rtp" and s["kind"] == "video")
    assert (last["freezeCount"], last["totalFreezesDuration"]) == (3, 0.906)
    assert sum(p["freeze_count"] or 0 for p in video["points"]) == 3
    assert sum(p["freezes_duration_s"] or 0 for p in video["points"]) == pytest.approx(0.906, abs=0.01)
    assert all(any((p["packet_loss_pct"] or 0) > 0 for p in t["points"]) for t in incoming.values())
    assert any(p["concealment_pct"] for p in incoming["audio"]["points"])
    senders = {kind: t["sender"] for kind, t in incoming.items()}
    if source == "twilio-video.js":
        assert {k: (s["participant_identity"], s["track_name"], s["matched_by"]) for k, s in senders.items()} == \
            {"audio": ("alice", "mic", "track_sid"), "video": ("alice", "camera", "track_sid")}
    elif source == "collector":
        assert {k: (s["participant_sid"], s["matched_by"]) for k, s in senders.items()} == \
            {"audio": (alice, "track_id"), "video": (alice, "track_id")}
    else:
        assert senders == {"audio": None, "video": None}

    page = signed_in(creds, viewport=VIEWPORT, url=url)
    open_receive_tab(page, f"{url}/rooms/{room}/participants/{bob}")
    check_panels_equal_the_api(page, metrics, {"loss": 5.0, "jitter": 30.0, "freezes": 2.0})
    heading = page.locator(f"#recv-{video['track_sid']} h3").inner_text()
    if source == "twilio-video.js":
        assert "alice · camera" in heading
    elif source == "collector":
        assert "alice · " in heading and "sender not reported" not in heading
    else:
        assert f"video track {video['track_id']}" in heading and "sender not reported" in heading
    name = source.replace(".", "").replace(" ", "-")
    page.evaluate("window.scrollTo(0, document.getElementById('quality').offsetTop - 60)")
    page.screenshot(path=str(screenshot_dir / f"participant-receive-recorded-{name}.png"))
