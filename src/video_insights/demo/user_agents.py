"""User-agent strings for demo data, with weights that approximate who joins video calls.

The strings have the exact shapes browsers send as of late 2026, several copied verbatim from
2026 request logs and the rest with current version and build numbers: Chromium browsers send the
reduced UA (``Chrome/155.0.0.0``, ``Android 10; K``, ``CrOS x86_64 14541.0.0``,
``Windows NT 10.0`` for Windows 11 too), Safari 26+ on iOS freezes ``iPhone OS 18_7``, Macs report
``10_15_7`` whatever their version, and Android WebViews and native-app shells still carry the
device model. The uap-core test corpus only goes up to 2023-era versions, so its strings would
not look current.

Weights are percentages of participants (they sum to 100) and follow the shape of browser share
for video meetings: desktop Chrome dominant, Edge strong on Windows (enterprise), Safari on
iPhone the largest mobile slice, then Chrome on Android, Samsung Internet, Firefox; a tail of
Electron apps, in-app WebViews and headless recording bots. Draw with
``random.choices(DESKTOP_AND_MOBILE_SAMPLE_UAS, weights=DESKTOP_AND_MOBILE_SAMPLE_UA_WEIGHTS)``.
"""

from __future__ import annotations

from typing import Final

__all__ = ["DESKTOP_AND_MOBILE_SAMPLE_UAS", "DESKTOP_AND_MOBILE_SAMPLE_UA_WEIGHTS"]

_CHROMIUM_TAIL = "AppleWebKit/537.36 (KHTML, like Gecko)"
_WEBKIT_TAIL = "AppleWebKit/605.1.15 (KHTML, like Gecko)"

# (user agent, weight). Kept as pairs so a string and its weight cannot drift apart in an edit.
_WEIGHTED: Final[tuple[tuple[str, float], ...]] = (
    # --- Chrome, desktop (~42%)
    (f"Mozilla/5.0 (Windows NT 10.0; Win64; x64) {_CHROMIUM_TAIL} Chrome/155.0.0.0 Safari/537.36", 18.0),
    (f"Mozilla/5.0 (Windows NT 10.0; Win64; x64) {_CHROMIUM_TAIL} Chrome/154.0.0.0 Safari/537.36", 9.0),
    (f"Mozilla/5.0 (Windows NT 10.0; Win64; x64) {_CHROMIUM_TAIL} Chrome/152.0.0.0 Safari/537.36", 2.0),
    (f"Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) {_CHROMIUM_TAIL} Chrome/155.0.0.0 Safari/537.36", 6.5),
    (f"Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) {_CHROMIUM_TAIL} Chrome/154.0.0.0 Safari/537.36", 3.0),
    (f"Mozilla/5.0 (X11; Linux x86_64) {_CHROMIUM_TAIL} Chrome/155.0.0.0 Safari/537.36", 1.5),
    (f"Mozilla/5.0 (X11; CrOS x86_64 14541.0.0) {_CHROMIUM_TAIL} Chrome/155.0.0.0 Safari/537.36", 1.8),
    (f"Mozilla/5.0 (X11; CrOS x86_64 14541.0.0) {_CHROMIUM_TAIL} Chrome/153.0.0.0 Safari/537.36", 0.7),
    # --- Edge, desktop (~9%)
    (
        f"Mozilla/5.0 (Windows NT 10.0; Win64; x64) {_CHROMIUM_TAIL} Chrome/155.0.0.0 Safari/537.36 "
        "Edg/155.0.0.0",
        6.4,
    ),
    (
        f"Mozilla/5.0 (Windows NT 10.0; Win64; x64) {_CHROMIUM_TAIL} Chrome/154.0.0.0 Safari/537.36 "
        "Edg/154.0.0.0",
        2.4,
    ),
    (
        f"Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) {_CHROMIUM_TAIL} Chrome/155.0.0.0 "
        "Safari/537.36 Edg/155.0.0.0",
        0.5,
    ),
    # --- Safari, macOS (and iPads in their default desktop mode, which send the same string) (~6%)
    (f"Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) {_WEBKIT_TAIL} Version/27.0 Safari/605.1.15", 3.2),
    (f"Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) {_WEBKIT_TAIL} Version/26.1 Safari/605.1.15", 2.3),
    (f"Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) {_WEBKIT_TAIL} Version/18.6 Safari/605.1.15", 0.6),
    # --- Firefox, desktop (~4%)
    ("Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:157.0) Gecko/20100101 Firefox/157.0", 1.8),
    ("Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:140.0) Gecko/20100101 Firefox/140.0", 0.4),  # ESR
    ("Mozilla/5.0 (Macintosh; Intel Mac OS X 10.15; rv:157.0) Gecko/20100101 Firefox/157.0", 0.7),
    ("Mozilla/5.0 (X11; Ubuntu; Linux x86_64; rv:157.0) Gecko/20100101 Firefox/157.0", 0.4),
    ("Mozilla/5.0 (X11; Linux x86_64; rv:156.0) Gecko/20100101 Firefox/156.0", 0.3),
    # --- Other desktop: Opera, Electron meeting apps, headless recording bots (~3.5%)
    (
        f"Mozilla/5.0 (Windows NT 10.0; Win64; x64) {_CHROMIUM_TAIL} Chrome/154.0.0.0 Safari/537.36 "
        "OPR/139.0.0.0",
        0.6,
    ),
    (
        f"Mozilla/5.0 (Windows NT 10.0; Win64; x64) {_CHROMIUM_TAIL} Chrome/152.0.7977.130 "
        "Electron/44.4.5 Safari/537.36",
        1.4,
    ),
    (
        f"Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) {_CHROMIUM_TAIL} Chrome/148.0.7778.280 "
        "Electron/42.7.1 Safari/537.36",
        0.7,
    ),
    (f"Mozilla/5.0 (X11; Linux x86_64) {_CHROMIUM_TAIL} HeadlessChrome/155.0.0.0 Safari/537.36", 0.8),
    # --- iPhone / iPad (~19%)
    (
        f"Mozilla/5.0 (iPhone; CPU iPhone OS 18_7 like Mac OS X) {_WEBKIT_TAIL} Version/27.0 "
        "Mobile/15E148 Safari/604.1",
        7.0,
    ),
    (
        f"Mozilla/5.0 (iPhone; CPU iPhone OS 18_7 like Mac OS X) {_WEBKIT_TAIL} Version/26.1 "
        "Mobile/15E148 Safari/604.1",
        5.5,
    ),
    (
        f"Mozilla/5.0 (iPhone; CPU iPhone OS 18_6 like Mac OS X) {_WEBKIT_TAIL} Version/18.6 "
        "Mobile/15E148 Safari/604.1",
        1.6,
    ),
    (
        f"Mozilla/5.0 (iPad; CPU OS 18_7 like Mac OS X) {_WEBKIT_TAIL} Version/26.1 Mobile/15E148 "
        "Safari/604.1",
        0.7,
    ),
    (
        f"Mozilla/5.0 (iPhone; CPU iPhone OS 26_6_2 like Mac OS X) {_WEBKIT_TAIL} CriOS/153.0.8010.24 "
        "Mobile/15E148 Safari/604.1",
        1.8,
    ),
    (
        f"Mozilla/5.0 (iPhone; CPU iPhone OS 18_7 like Mac OS X) {_WEBKIT_TAIL} FxiOS/156.0 "
        "Mobile/15E148 Safari/604.1",
        0.3,
    ),
    (
        f"Mozilla/5.0 (iPhone; CPU iPhone OS 18_7 like Mac OS X) {_WEBKIT_TAIL} Version/26.0 "
        "EdgiOS/154.0.3485.54 Mobile/15E148 Safari/605.1.15",
        0.2,
    ),
    # A call link opened inside another app's WKWebView: no browser token at all.
    (f"Mozilla/5.0 (iPhone; CPU iPhone OS 18_7 like Mac OS X) {_WEBKIT_TAIL} Mobile/15E148", 1.2),
    # --- Android (~16.5%)
    (f"Mozilla/5.0 (Linux; Android 10; K) {_CHROMIUM_TAIL} Chrome/155.0.0.0 Mobile Safari/537.36", 7.8),
    (f"Mozilla/5.0 (Linux; Android 10; K) {_CHROMIUM_TAIL} Chrome/154.0.0.0 Mobile Safari/537.36", 3.2),
    (f"Mozilla/5.0 (Linux; Android 10; K) {_CHROMIUM_TAIL} Chrome/155.0.0.0 Safari/537.36", 0.6),  # tablet
    (
        f"Mozilla/5.0 (Linux; Android 10; K) {_CHROMIUM_TAIL} SamsungBrowser/29.0 Chrome/136.0.0.0 "
        "Mobile Safari/537.36",
        2.2,
    ),
    (
        f"Mozilla/5.0 (Linux; Android 10; K) {_CHROMIUM_TAIL} SamsungBrowser/28.0 Chrome/130.0.0.0 "
        "Mobile Safari/537.36",
        0.6,
    ),
    (
        f"Mozilla/5.0 (Linux; Android 10; K) {_CHROMIUM_TAIL} Chrome/155.0.0.0 Mobile Safari/537.36 "
        "EdgA/155.0.0.0",
        0.3,
    ),
    ("Mozilla/5.0 (Android 16; Mobile; rv:157.0) Gecko/157.0 Firefox/157.0", 0.4),
    # In-app WebViews still send the device model, which is where most Android makers show up.
    (
        f"Mozilla/5.0 (Linux; Android 16; SM-S931B Build/BP2A.250605.031.A3; wv) {_CHROMIUM_TAIL} "
        "Version/4.0 Chrome/154.0.7811.59 Mobile Safari/537.36",
        0.6,
    ),
    (
        f"Mozilla/5.0 (Linux; Android 16; Pixel 9 Build/BP3A.251005.004; wv) {_CHROMIUM_TAIL} "
        "Version/4.0 Chrome/154.0.7811.59 Mobile Safari/537.36",
        0.4,
    ),
    (
        f"Mozilla/5.0 (Linux; Android 15; TECNO LJ8k Build/AP3A.240905.015.A2; wv) {_CHROMIUM_TAIL} "
        "Version/4.0 Chrome/149.0.7827.159 Mobile Safari/537.36",
        0.3,
    ),
    (
        f"Mozilla/5.0 (Linux; Android 15; Redmi Note 13 Pro 5G Build/AQ3A.240912.001; wv) {_CHROMIUM_TAIL} "
        "Version/4.0 Chrome/153.0.7727.137 Mobile Safari/537.36",
        0.3,
    ),
)

DESKTOP_AND_MOBILE_SAMPLE_UAS: Final[tuple[str, ...]] = tuple(ua for ua, _ in _WEIGHTED)
DESKTOP_AND_MOBILE_SAMPLE_UA_WEIGHTS: Final[tuple[float, ...]] = tuple(w for _, w in _WEIGHTED)
