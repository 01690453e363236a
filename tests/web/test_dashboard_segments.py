"""The dashboard's browser segment for native SDK participants, and its windows' edges: participants
sent through the real gateway, counted by the real API."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from security.hostile import Server, module_server, send_call
from video_insights.analytics.dashboard import DAY_MS, HOUR_MS, PreviousPeriod, Window

CHROME = ("Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 "
          "Safari/537.36")
# What each client's connect message says about itself, and the browser segment it belongs to.
CLIENTS = [
    ({"name": "twilio-video-ios", "sdkVersion": "5.9.0", "platformName": "iOS", "platformVersion": "26.1",
      "hwDeviceManufacturer": "Apple", "hwDeviceModel": "iPhone17,3"}, "iOS SDK"),
    ({"name": "twilio-video-android", "sdkVersion": "7.7.1", "platformName": "Android", "platformVersion": "16",
      "hwDeviceManufacturer": "samsung", "hwDeviceModel": "SM-S931B"}, "Android SDK"),
    ({"name": "twilio-video-android", "sdkVersion": "7.7.1", "platformName": "Android"}, "Android SDK"),
    ({"name": "an-inhouse-native-sdk", "sdkVersion": "1.0"}, "Native SDK"),
    ({"name": "twilio-video.js", "sdkVersion": "2.31.0"}, "Unknown"),  # a browser whose user agent is missing
    ({"name": "twilio-video.js", "sdkVersion": "2.31.0", "platformName": "iOS"}, "Unknown"),
    ({"sdkVersion": "1.0", "platformName": "Android"}, "Unknown"),  # no SDK named: nothing to go on
    ({"name": "twilio-video.js", "sdkVersion": "2.31.0", "userAgent": CHROME}, "Chrome"),
    ({"name": "twilio-video-ios", "sdkVersion": "5.9.0", "platformName": "iOS", "userAgent": CHROME}, "Chrome"),
]


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    with module_server(tmp_path_factory, "segments") as s:
        yield s


def test_native_sdk_participants_are_segmented_by_their_platform(server: Server) -> None:
    sessions = [send_call(server, {**publisher, "identity": f"p{i}"}, room="segments")
                for i, (publisher, _) in enumerate(CLIENTS)]
    expected: dict[str, int] = {}
    for _, label in CLIENTS:
        expected[label] = expected.get(label, 0) + 1
    with server.client(server.creds) as c:
        body = c.get("/v1/Video/Dashboard/Participants", params={"segment": "browser", "_range": "24h"}).json()
        assert body["totals"] == expected
        sdks = c.get("/v1/Video/Dashboard/Participants", params={"segment": "sdk", "_range": "24h"}).json()
        assert sdks["totals"]["twilio-video-android"] == 2  # the SDK segment keeps the SDK's own name
        # The participant's own record keeps what its client said: no browser.
        s = sessions[0]
        one = c.get(f"/v1/Video/Rooms/{s.room_sid}/Participants/{s.participant_sid}").json()
        assert one["browser"]["name"] == "Unknown" and one["os"]["name"] == "iOS"


def test_partial_buckets_are_the_ones_the_window_cuts() -> None:
    day = 1_700_000_000_000 // DAY_MS * DAY_MS
    w = Window(day + 30 * 60_000, day + 5 * HOUR_MS + 10 * 60_000, HOUR_MS)
    assert [w.partial(b) for b in w.buckets()] == [True, False, False, False, False, True]
    aligned = Window(day, day + 3 * HOUR_MS, HOUR_MS)
    assert not any(aligned.partial(b) for b in aligned.buckets())


def test_previous_period_coverage() -> None:
    day = 1_700_000_000_000 // DAY_MS * DAY_MS
    since, until = day - DAY_MS + 30 * 60_000, day + 30 * 60_000  # "the 24 hours before" a 24 h window

    def period(first: int | None) -> PreviousPeriod:
        return PreviousPeriod(DAY_MS, since, until, first, HOUR_MS)

    assert period(None).recorded == "none"
    assert period(until).recorded == "none"
    assert period(since - DAY_MS).recorded == "all"
    assert period(since + 20 * 60_000).recorded == "all"  # within its first, cut, hour
    assert period(since + 2 * HOUR_MS).recorded == "part"
    p = period(since + 2 * HOUR_MS)
    current_first = since + DAY_MS - (since + DAY_MS) % HOUR_MS
    assert p.unrecorded(current_first) and not p.unrecorded(current_first + 3 * HOUR_MS)
