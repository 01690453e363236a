"""Client (OS, browser, device, SDK) details for participant summaries and dashboard segments.

Sources, weakest first; each later one overrides what the earlier ones said:

1. The user-agent string, parsed with ua-parser 1.x (uap-core rules). The rust resolver
   (``ua-parser-rs``) is used when importable, else the pure-python one. Names are uap-core's
   families ("Chrome", "Chrome Mobile", "Mobile Safari", "Mac OS X", ...) so that segments agree
   whichever source a value came from; uap's "Other" becomes "Unknown".
2. ``navigator.userAgentData`` high-entropy values (Chromium browsers only): the real OS version,
   the device model and the full browser version, none of which a reduced Chrome UA carries.
3. The SDK's own publisher info (twilio-video.js, the native iOS/Android SDKs, our collector):
   SDK name and version, and for native SDKs the hardware manufacturer/model and the platform.

Device manufacturer when nothing names one (uap only names a brand for phones, tablets and Macs):

* Apple platforms (iOS, macOS, tvOS, watchOS) -> "Apple": Apple is the only maker, so this is a
  fact, not a guess.
* Windows, Linux, Chrome OS desktops -> "Unknown". A Windows PC or a Chromebook may be made by
  Dell, HP, Lenovo, Acer, ... and the UA does not say which. "Microsoft" or "Google" would put
  Acer Chromebooks into the same bucket as Pixel phones, and a dashboard user who filters on a
  manufacturer to chase a device-specific problem would be misled; the OS segment already tells
  the platform apart. (``PLATFORM_MANUFACTURERS`` is the one place to change this.)
* uap's placeholder brands (Generic, Generic_Android, Spider, ...) -> "Unknown", and their
  pseudo-models ("Smartphone", "Tablet", and "K" from Chrome's reduced Android UA) -> None.
* A ``userAgentData.model`` such as "SM-S918B" gets its maker from uap's device rules, which
  key on model names.

Frozen UA versions. Browsers no longer tell the truth about the OS in the UA string:

* Chrome/Samsung Internet on Android send "Android 10; K" whatever the release: version and
  model are reported as unknown rather than as Android 10.
* Chrome on Chrome OS sends "CrOS x86_64 14541.0.0": version reported as unknown.
* Safari 26+ on iOS/iPadOS freezes "iPhone OS 18_6"/"18_7"; Safari ships with the OS, so its
  own version (Version/26.2) is the iOS version and is used instead.
* "Windows NT 10.0" is both Windows 10 and 11 and "Intel Mac OS X 10_15_7" is every macOS since
  Catalina. Both are kept as uap reports them ("10", "10.15.7") because a genuine Windows 10 or
  Catalina sends exactly the same string; userAgentData gives the real version when collected.

Performance (``client_info(ua)``, one core, regex engines warmed up; the throughput test in
tests/processing/test_useragent.py prints current figures):

* rust resolver, uncached:  ~50,000 parses/s on the 1,876 distinct uap-core test strings,
  ~70,000/s on today's browser UAs (demo.user_agents); the very first pass over new kinds of
  strings runs at about half that while the regex automata are built lazily
* pure-python, uncached:    ~2,000-2,600 parses/s
* cache hit (either):       ~1,400,000 calls/s

Ingest sees the same few hundred UA strings over and over, so with the LRU cache (10,000
entries, keys capped at 2,048 chars) parsing is effectively free; the rust resolver matters for
cold caches and for deployments with many distinct UAs.
"""

from __future__ import annotations

import functools
import logging
import re
import threading
from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import Any, Final

from ua_parser import BasicResolver, Domain, Resolver, load_builtins, load_lazy_builtins

from video_insights.model.client_segments import UNKNOWN

__all__ = [
    "PLATFORM_MANUFACTURERS",
    "UA_CACHE_SIZE",
    "UNKNOWN",
    "UNKNOWN_CLIENT",
    "ClientInfo",
    "client_info",
]

_log = logging.getLogger(__name__)

UA_CACHE_SIZE: Final = 10_000
# Real UAs are < 500 chars; anything longer is junk or an attack, and the cache key must stay small.
_MAX_UA_CHARS: Final = 2048
# Bounds what a client can make us store in a summary column.
_MAX_FIELD_CHARS: Final = 128
_MAX_BRANDS: Final = 16

# Values clients send when they have nothing to say; treated as absent so a real source can win.
_ABSENT_WORDS: Final = frozenset({"", "unknown", "other", "null", "undefined", "none", "n/a"})

# uap-core's non-manufacturer brands, and the "models" that are really form factors.
_PLACEHOLDER_BRANDS: Final = frozenset(
    {"generic", "generic_android", "generic_android_tablet", "generic_inettv", "spider", "other"}
)
_PSEUDO_MODEL_BRANDS: Final = frozenset({"generic", "spider", "generic_inettv"})
# Chrome's UA reduction (https://www.chromium.org/updates/ua-reduction/) placeholders.
_REDUCED_ANDROID_MODEL: Final = "K"
_REDUCED_ANDROID_VERSION: Final = "10"
_REDUCED_CROS_VERSION: Final = "14541.0.0"
_FIRST_FROZEN_IOS_SAFARI: Final = 26

_APPLE_OSES: Final = frozenset({"iOS", "Mac OS X", "Mac OS", "ATV OS X", "tvOS", "WatchOS", "visionOS"})
PLATFORM_MANUFACTURERS: Final[Mapping[str, str]] = dict.fromkeys(_APPLE_OSES, "Apple")

# Canonical (uap-core) OS names for userAgentData.platform and the SDKs' platformName.
_OS_ALIASES: Final[Mapping[str, str]] = {
    "macos": "Mac OS X",
    "mac os": "Mac OS X",
    "mac os x": "Mac OS X",
    "os x": "Mac OS X",
    "osx": "Mac OS X",
    "ios": "iOS",
    "ipados": "iOS",  # uap files iPads under iOS; one segment either way
    "iphone os": "iOS",
    "android": "Android",
    "windows": "Windows",
    "linux": "Linux",
    "chrome os": "Chrome OS",
    "chromeos": "Chrome OS",
    "chromium os": "Chrome OS",
    "cros": "Chrome OS",
    "watchos": "WatchOS",
    "tvos": "tvOS",
    "visionos": "visionOS",
}

# userAgentData brand -> uap-core family, so a Chrome seen via client hints segments with one seen via UA.
_BRAND_FAMILIES: Final[Mapping[str, str]] = {
    "google chrome": "Chrome",
    "microsoft edge": "Edge",
    "opera": "Opera",
    "samsung internet": "Samsung Internet",
    "brave": "Brave",
    "headlesschrome": "HeadlessChrome",
    "chromium": "Chromium",
    "android webview": "Chrome Mobile WebView",
    "yandex": "Yandex Browser",
    "yabrowser": "Yandex Browser",
    "vivaldi": "Vivaldi",
    "whale": "Whale",
    "naver whale": "Whale",
}
# uap families that are the same product as a brand-derived name, so the UA's more specific label stays.
_LINEAGE: Final[Mapping[str, str]] = {
    "Chrome Mobile": "Chrome",
    "HeadlessChrome": "Chrome",
    "Edge Mobile": "Edge",
    "Opera Mobile": "Opera",
}
_CHROMIUM: Final = "Chromium"
# Chromium's GREASE brands: "Not A;Brand", "Not)A;Brand", "Not_A Brand", "Not/A)Brand", ...
_GREASE_RE: Final = re.compile(r"^not[^a-z0-9]*a[^a-z0-9]*brand$", re.IGNORECASE)
_VERSION_RE: Final = re.compile(r"\d+(?:\.\d+){0,2}")
_CONTROL_RE: Final = re.compile(r"[\x00-\x1f\x7f]+")

# Manufacturer spellings that differ between Android's Build.MANUFACTURER and uap-core.
_BRAND_ALIASES: Final[Mapping[str, str]] = {
    "xiaomi": "Xiaomi",  # uap spells it "XiaoMi"; the company and Android say "Xiaomi"
    "lge": "LG",
    "blackberry": "BlackBerry",
}


@dataclass(frozen=True, slots=True)
class ClientInfo:
    os_name: str
    os_version: str | None
    browser_name: str
    browser_version: str | None
    device_manufacturer: str
    device_model: str | None
    sdk_name: str
    sdk_version: str | None


UNKNOWN_CLIENT: Final = ClientInfo(UNKNOWN, None, UNKNOWN, None, UNKNOWN, None, UNKNOWN, None)


def client_info(
    user_agent: str | None,
    *,
    ua_data: Mapping[str, Any] | None = None,
    publisher: Mapping[str, Any] | None = None,
) -> ClientInfo:
    """OS, browser, device and SDK of one participant; "Unknown"/None where no source says.

    Never raises: ingest must not lose a participant over a malformed UA or publisher dict.
    """
    try:
        pub = publisher if isinstance(publisher, Mapping) else None
        ua = _coerce_ua(user_agent)
        if ua is None and pub is not None:
            ua = _coerce_ua(pub.get("userAgent"))
        info = _parse_ua(ua) if ua is not None else UNKNOWN_CLIENT
        if isinstance(ua_data, Mapping) and ua_data:
            info = _apply_ua_data(info, ua_data)
        if pub is not None:
            info = _apply_publisher(info, pub)
        return _fill_manufacturer(info)
    except Exception:
        # Reaching this is a bug here, not bad input; debug level because adversarial input could
        # otherwise turn it into a log flood on the ingest path.
        _log.debug("client_info failed for %.200r", user_agent, exc_info=True)
        return UNKNOWN_CLIENT


# --------------------------------------------------------------------------------------------- parsing


class _ResolverSlot:
    """The process-wide resolver, built on first use (building compiles ~1,000 regexes)."""

    __slots__ = ("_lock", "_resolver")

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._resolver: Resolver | None = None

    def get(self) -> Resolver:
        resolver = self._resolver
        if resolver is None:
            with self._lock:
                if self._resolver is None:
                    self._resolver = _build_resolver()
                resolver = self._resolver
        return resolver

    def set(self, resolver: Resolver | None) -> None:
        """Swap the resolver (tests, benchmarks); None rebuilds the default on next use."""
        with self._lock:
            self._resolver = resolver
            _parse_ua.cache_clear()


def _build_resolver(*, accelerated: bool = True) -> Resolver:
    if accelerated:
        try:
            from ua_parser.regex import Resolver as RegexResolver  # needs ua_parser_rs
        except ImportError:
            _log.info("ua-parser-rs not importable; using the pure-python user-agent resolver")
        else:
            return RegexResolver(load_lazy_builtins())
    return BasicResolver(load_builtins())


_resolver_slot: Final = _ResolverSlot()


def _coerce_ua(value: object) -> str | None:
    if isinstance(value, bytes | bytearray):
        value = bytes(value[: _MAX_UA_CHARS * 4]).decode("utf-8", "replace")
    if not isinstance(value, str):
        return None
    ua = value[:_MAX_UA_CHARS].strip()
    if not ua:
        return None
    try:
        ua.encode("utf-8")
    except UnicodeEncodeError:
        # Lone surrogates (from broken JSON \u escapes) make the rust resolver raise.
        ua = ua.encode("utf-8", "replace").decode("utf-8")
    return ua


@functools.lru_cache(maxsize=UA_CACHE_SIZE)
def _parse_ua(ua: str) -> ClientInfo:
    result = _resolver_slot.get()(ua, Domain.ALL)
    browser_name, browser_version = UNKNOWN, None
    if (agent := result.user_agent) is not None:
        browser_name = _name(agent.family)
        browser_version = _join_version(agent.major, agent.minor, agent.patch)
    os_name, os_version, os_major = UNKNOWN, None, None
    if (os := result.os) is not None:
        os_name = _name(os.family)
        os_version = _join_version(os.major, os.minor, os.patch)
        os_major = os.major
    manufacturer, model = UNKNOWN, None
    if (device := result.device) is not None:
        brand_key = (device.brand or "").casefold()
        manufacturer = _canonical_brand(device.brand) or UNKNOWN
        if brand_key not in _PSEUDO_MODEL_BRANDS:
            model = _clean(device.model)

    if os_name == "Android" and model == _REDUCED_ANDROID_MODEL:
        model = None
        if os_version == _REDUCED_ANDROID_VERSION:
            os_version = None
    elif os_name == "Chrome OS" and os_version == _REDUCED_CROS_VERSION:
        os_version = None
    elif (
        os_name == "iOS"
        and browser_name == "Mobile Safari"
        and _int(browser_version) >= _FIRST_FROZEN_IOS_SAFARI > _int(os_major)
    ):
        os_version = browser_version

    return _fill_manufacturer(
        ClientInfo(os_name, os_version, browser_name, browser_version, manufacturer, model, UNKNOWN, None)
    )


# ---------------------------------------------------------------------------------- userAgentData


def _apply_ua_data(info: ClientInfo, ua_data: Mapping[str, Any]) -> ClientInfo:
    platform = _canonical_os(ua_data.get("platform"))
    if platform is not None:
        raw_version = ua_data.get("platformVersion")
        version = _windows_version(raw_version) if platform == "Windows" else _dotted(raw_version)
        if version is None and platform == info.os_name:
            version = info.os_version
        info = replace(info, os_name=platform, os_version=version)

    model = _clean(ua_data.get("model"))
    if model is not None:
        manufacturer = info.device_manufacturer
        if info.os_name == "Android":
            manufacturer = _manufacturer_of_android_model(model) or manufacturer
        info = replace(info, device_manufacturer=manufacturer, device_model=model)

    brands = _brand_versions(ua_data)
    if brands:
        info = _apply_brand(info, brands)
    return info


def _brand_versions(ua_data: Mapping[str, Any]) -> list[tuple[str, str | None]]:
    # fullVersionList is high-entropy (full versions); brands is always there but majors only.
    for key in ("fullVersionList", "brands"):
        raw = ua_data.get(key)
        if not isinstance(raw, list | tuple):
            continue
        found: list[tuple[str, str | None]] = []
        for item in raw[:_MAX_BRANDS]:
            if not isinstance(item, Mapping):
                continue
            brand = _clean(item.get("brand"))
            if brand is not None and not _GREASE_RE.match(brand):
                found.append((brand, _dotted(item.get("version"))))
        if found:
            return found
    return []


def _apply_brand(info: ClientInfo, brands: list[tuple[str, str | None]]) -> ClientInfo:
    ua_family = info.browser_name
    ua_lineage = _LINEAGE.get(ua_family, ua_family)
    named = [(_BRAND_FAMILIES.get(b.casefold(), b), v) for b, v in brands]
    specific = [(n, v) for n, v in named if n != _CHROMIUM]
    matching = [(n, v) for n, v in specific if _LINEAGE.get(n, n) == ua_lineage]
    if matching:
        name, version = matching[0]
    elif specific:
        name, version = specific[0]
    else:
        name, version = named[0]
        # "Chromium" alone says only "some Chromium": an Electron or WebView UA names the product and
        # carries its own version (Electron 33 is Chromium 130), so it wins.
        if ua_family not in (UNKNOWN, _CHROMIUM) and ua_lineage != "Chrome":
            return info
        if ua_family != UNKNOWN:
            name = ua_family

    if _LINEAGE.get(name, name) == ua_lineage:
        name = ua_family  # keep the UA's more specific label ("Chrome Mobile", "HeadlessChrome")
        if version is not None and "." not in version and _major(info.browser_version) == version:
            version = info.browser_version  # `brands` has majors only; the UA may know more
    if version is None and name == info.browser_name:
        version = info.browser_version
    return replace(info, browser_name=name, browser_version=version)


def _windows_version(raw: object) -> str | None:
    # https://learn.microsoft.com/microsoft-edge/web-platform/how-to-detect-win11
    match = _VERSION_RE.match(raw.strip()) if isinstance(raw, str) else None
    if match is None:
        return None
    parts = [int(p) for p in match.group().split(".")]
    major, minor = parts[0], parts[1] if len(parts) > 1 else 0
    if major >= 13:
        return "11"
    if major >= 1:
        return "10"
    return {1: "7", 2: "8", 3: "8.1"}.get(minor)


def _manufacturer_of_android_model(model: str) -> str | None:
    # uap's device rules key on the model token of an Android UA, so feed it one. The characters
    # stripped here would end the token early and make uap read something else as the model.
    token = re.sub(r"[;()]", " ", model).strip()
    if not token:
        return None
    synthetic = (
        f"Mozilla/5.0 (Linux; Android 14; {token}) AppleWebKit/537.36 "
        "(KHTML, like Gecko) Chrome/130.0.0.0 Mobile Safari/537.36"
    )
    manufacturer = _parse_ua(synthetic).device_manufacturer
    return None if manufacturer == UNKNOWN else manufacturer


# --------------------------------------------------------------------------------------- publisher


def _apply_publisher(info: ClientInfo, pub: Mapping[str, Any]) -> ClientInfo:
    sdk_name = _clean(pub.get("name")) or UNKNOWN
    sdk_version = _clean(_version_text(pub.get("sdkVersion")))
    info = replace(info, sdk_name=sdk_name, sdk_version=sdk_version)

    platform = _canonical_os(pub.get("platformName"))
    platform_version = _dotted(pub.get("platformVersion"))
    if platform is not None:
        if platform_version is None and platform == info.os_name:
            platform_version = info.os_version
        info = replace(info, os_name=platform, os_version=platform_version)
    elif platform_version is not None:
        info = replace(info, os_version=platform_version)

    manufacturer = _canonical_brand(pub.get("hwDeviceManufacturer"))
    model = _clean(pub.get("hwDeviceModel"))
    if manufacturer is not None:
        if manufacturer.casefold() != info.device_manufacturer.casefold() and model is None:
            # A UA-derived model belongs to the UA-derived maker, not to this one.
            info = replace(info, device_model=None)
        info = replace(info, device_manufacturer=manufacturer)
    if model is not None:
        info = replace(info, device_model=model)
    return info


# ----------------------------------------------------------------------------------------- helpers


def _fill_manufacturer(info: ClientInfo) -> ClientInfo:
    if info.device_manufacturer == UNKNOWN and info.os_name in PLATFORM_MANUFACTURERS:
        return replace(info, device_manufacturer=PLATFORM_MANUFACTURERS[info.os_name])
    return info


def _clean(value: object) -> str | None:
    if not isinstance(value, str):
        return None
    text = _CONTROL_RE.sub(" ", value[: _MAX_FIELD_CHARS * 2]).strip()[:_MAX_FIELD_CHARS].strip()
    return None if text.casefold() in _ABSENT_WORDS else text


def _name(family: str | None) -> str:
    return _clean(family) or UNKNOWN


def _version_text(value: object) -> object:
    # SDKs written in JS/Swift/Kotlin may send a version as a number; bool is an int but not a version.
    if isinstance(value, int | float) and not isinstance(value, bool):
        return str(value)
    return value


def _dotted(value: object) -> str | None:
    """Up to major.minor.patch of a version; non-numeric text is kept as sent."""
    text = _clean(_version_text(value))
    if text is None:
        return None
    match = _VERSION_RE.match(text)
    return match.group() if match else text


def _join_version(*parts: str | None) -> str | None:
    present: list[str] = []
    for part in parts:
        if not part:
            break  # "1..3" would suggest a minor of 0; stop at the first gap
        present.append(part)
    return _clean(".".join(present))


def _major(version: str | None) -> str | None:
    return version.split(".", 1)[0] if version else None


def _int(version: str | None) -> int:
    major = _major(version)
    return int(major) if major is not None and major.isascii() and major.isdigit() else -1


def _canonical_os(value: object) -> str | None:
    name = _clean(value)
    if name is None:
        return None
    return _OS_ALIASES.get(name.casefold(), name)


@functools.cache
def _uap_brands() -> Mapping[str, str]:
    # Every literal brand uap-core knows, so a Build.MANUFACTURER of "samsung" or "OPPO" lands in the
    # same segment as a UA-derived "Samsung" / "Oppo".
    _, _, device_matchers = load_lazy_builtins()
    brands: dict[str, str] = {}
    for matcher in device_matchers:
        brand = getattr(matcher, "brand", None)  # not on the Matcher ABC, but on every uap matcher
        if isinstance(brand, str) and brand and "$" not in brand:
            brands[brand.casefold()] = brand
    brands.update(_BRAND_ALIASES)
    return brands


def _canonical_brand(value: object) -> str | None:
    brand = _clean(value)
    if brand is None or brand.casefold() in _PLACEHOLDER_BRANDS:
        return None
    return _uap_brands().get(brand.casefold(), brand)
