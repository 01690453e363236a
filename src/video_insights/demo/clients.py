"""Who joins demo calls: browsers through twilio-video.js or our collector, and the native SDKs."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from video_insights.demo.user_agents import DESKTOP_AND_MOBILE_SAMPLE_UA_WEIGHTS, DESKTOP_AND_MOBILE_SAMPLE_UAS

_UA_P = np.array(DESKTOP_AND_MOBILE_SAMPLE_UA_WEIGHTS) / sum(DESKTOP_AND_MOBILE_SAMPLE_UA_WEIGHTS)
_MOBILE_MARKERS = ("Mobile", "iPhone", "iPad", "Android")

JS_VERSIONS = (("2.31.0", 30), ("2.30.1", 35), ("2.29.0", 20), ("2.28.1", 15))
IOS_VERSIONS = (("5.9.0", 40), ("5.8.3", 60))
ANDROID_VERSIONS = (("7.7.1", 45), ("7.6.4", 55))
IOS_DEVICES = (("iPhone17,3", "iPhone", 30), ("iPhone16,2", "iPhone", 25), ("iPhone15,2", "iPhone", 20),
               ("iPhone14,5", "iPhone", 15), ("iPad14,1", "iPad", 10))
IOS_PLATFORMS = (("26.1", 45), ("18.7", 35), ("18.6.2", 15), ("17.7", 5))
ANDROID_DEVICES = (("samsung", "SM-S931B", 25), ("samsung", "SM-A556B", 20), ("Google", "Pixel 9", 15),
                   ("Xiaomi", "23129RAA4G", 15), ("motorola", "moto g85 5G", 15), ("OnePlus", "CPH2581", 10))
ANDROID_PLATFORMS = (("16", 40), ("15", 40), ("14", 20))
# Among Twilio apps' participants: the JavaScript SDK in a browser, else a native app.
SDK_SHARES = {"js": 0.84, "ios": 0.09, "android": 0.07}


@dataclass(frozen=True)
class Client:
    """A participant's software: what its SDK's connect message says about it."""

    publisher: dict[str, Any]  # without the per-connection fields (SIDs, room, region)
    user_agent: str | None
    mobile: bool
    prefers_h264: bool  # no VP8 simulcast for this one


def _weighted(rng: np.random.Generator, options: tuple[tuple[Any, ...], ...]) -> tuple[Any, ...]:
    w = np.array([o[-1] for o in options], dtype=float)
    return options[int(rng.choice(len(options), p=w / w.sum()))]


def draw_user_agent(rng: np.random.Generator) -> str:
    return DESKTOP_AND_MOBILE_SAMPLE_UAS[int(rng.choice(len(_UA_P), p=_UA_P))]


def draw_client(rng: np.random.Generator, twilio: bool) -> Client:
    if not twilio:
        return _browser(rng, {"name": "video-insights-collector", "sdkVersion": "1.0.0"})
    u = rng.random()
    if u < SDK_SHARES["js"]:
        return _browser(rng, {"name": "twilio-video.js", "sdkVersion": _weighted(rng, JS_VERSIONS)[0]})
    if u < SDK_SHARES["js"] + SDK_SHARES["ios"]:
        model, kind, _ = _weighted(rng, IOS_DEVICES)
        pub = {"name": "twilio-video-ios", "sdkVersion": _weighted(rng, IOS_VERSIONS)[0], "platformName": "iOS",
               "platformVersion": _weighted(rng, IOS_PLATFORMS)[0], "hwDeviceManufacturer": "Apple",
               "hwDeviceModel": model, "hwDeviceType": kind}
        return Client(pub, None, mobile=True, prefers_h264=rng.random() < 0.5)
    maker, model, _ = _weighted(rng, ANDROID_DEVICES)
    pub = {"name": "twilio-video-android", "sdkVersion": _weighted(rng, ANDROID_VERSIONS)[0],
           "platformName": "Android", "platformVersion": _weighted(rng, ANDROID_PLATFORMS)[0],
           "hwDeviceManufacturer": maker, "hwDeviceModel": model, "hwDeviceType": "phone"}
    return Client(pub, None, mobile=True, prefers_h264=False)


def _browser(rng: np.random.Generator, sdk: dict[str, Any]) -> Client:
    ua = draw_user_agent(rng)
    mobile = any(m in ua for m in _MOBILE_MARKERS)
    # Safari on iPhones often negotiates H.264 (hardware encoder) in mixed rooms.
    h264 = "iPhone" in ua and "CriOS" not in ua and rng.random() < 0.3
    return Client({**sdk, "userAgent": ua}, ua, mobile=mobile, prefers_h264=h264)
