"""What the dashboard's "Browser" segment calls a participant whose client is a native app.

The browser comes from the user agent. Native SDKs (Twilio's iOS and Android SDKs, and the React
Native and Flutter wrappers built on them) send no user agent, so their browser is "Unknown" like a
browser whose user agent said nothing. They do name themselves and their platform in the connect
message (`publisher.name`, `publisher.platformName`), so the segment shows them as "iOS SDK",
"Android SDK", ..., and "Unknown" keeps its documented meaning: the user agent did not tell.
docs/api.md, "Dashboard data", states the rule; query/facts.py's `browser_segment` applies it.
"""

from __future__ import annotations

from typing import Final

UNKNOWN: Final = "Unknown"  # a client field nothing told
# SDKs that run in a browser: with no parsable user agent they stay "Unknown".
BROWSER_SDKS: Final = frozenset({"twilio-video.js", "video-insights-collector"})
# Canonical OS name (processing.useragent) -> the segment value of a native SDK on it.
PLATFORM_SDK_LABELS: Final = {"iOS": "iOS SDK", "Android": "Android SDK", "Mac OS X": "macOS SDK",
                              "Windows": "Windows SDK", "Linux": "Linux SDK"}
NATIVE_SDK: Final = "Native SDK"  # a native SDK that named no platform we know
