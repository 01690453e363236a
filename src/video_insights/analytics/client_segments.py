"""What the dashboard's "Browser" segment calls a participant whose client is a native app.

The browser comes from the user agent. Native SDKs (Twilio's iOS and Android SDKs, and the React
Native and Flutter wrappers built on them) send no user agent, so their browser is "Unknown" like a
browser whose user agent said nothing. They do name themselves and their platform in the connect
message (`publisher.name`, `publisher.platformName`), so the segment shows them as "iOS SDK",
"Android SDK", ..., and "Unknown" keeps its documented meaning: the user agent did not tell.
docs/api.md, "Dashboard data", states the rule.
"""

from __future__ import annotations

from typing import Final

from sqlglot import exp

from video_insights.processing.useragent import UNKNOWN
from video_insights.query.sql import q

# SDKs that run in a browser: with no parsable user agent they stay "Unknown".
BROWSER_SDKS: Final = frozenset({"twilio-video.js", "video-insights-collector"})
# Canonical OS name (processing.useragent) -> the segment value of a native SDK on it.
PLATFORM_SDK_LABELS: Final = {"iOS": "iOS SDK", "Android": "Android SDK", "Mac OS X": "macOS SDK",
                              "Windows": "Windows SDK", "Linux": "Linux SDK"}
NATIVE_SDK: Final = "Native SDK"  # a native SDK that named no platform we know


def browser_segment_sql() -> exp.Expr:
    """The browser segment's value, as a SQL expression over participant_facts' columns."""
    platforms = " ".join(f"WHEN :os{i} THEN :label{i}" for i in range(len(PLATFORM_SDK_LABELS)))
    values: dict[str, str] = {}
    for i, (os_name, label) in enumerate(PLATFORM_SDK_LABELS.items()):
        values[f"os{i}"], values[f"label{i}"] = os_name, label
    return q(
        f"CASE WHEN coalesce(browser_name, :unknown) = :unknown AND coalesce(sdk_name, :unknown) <> :unknown "
        f"AND sdk_name NOT IN :browser_sdks THEN CASE coalesce(os_name, '') {platforms} ELSE :native END "
        f"ELSE coalesce(browser_name, :unknown) END",
        unknown=UNKNOWN, browser_sdks=BROWSER_SDKS, native=NATIVE_SDK, **values)
