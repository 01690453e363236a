"""Where an alert may be posted: http(s) URLs whose host resolves to public addresses only, unless
the deployment allows private ones (`alerts_allow_private_urls`). Checked when a rule is made and
again at each delivery, as what a name resolves to can change; a delivery then connects to the very
address that was checked (docs/alerts.md, "Receivers")."""

from __future__ import annotations

import ipaddress
import socket
from dataclasses import dataclass
from urllib.parse import urlsplit

from video_insights.errors import BadRequest

MAX_URL = 2048


@dataclass(frozen=True)
class Target:
    url: str  # as the rule states it
    scheme: str
    host: str  # the name, for the Host header and TLS
    port: int
    path: str  # path and query
    address: str  # the checked address to connect to


def parse(url: object, name: str = "url") -> tuple[str, str, int, str]:
    """(scheme, host, port, path and query) of an http(s) URL, or BadRequest naming what is wrong."""
    if not isinstance(url, str) or not url.strip():
        raise BadRequest(f"{name}: expected an http or https URL")
    if len(url) > MAX_URL:
        raise BadRequest(f"{name}: longer than {MAX_URL} characters")
    if any(ord(c) < 33 or ord(c) == 127 for c in url):
        raise BadRequest(f"{name}: contains spaces or control characters")
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as e:
        raise BadRequest(f"{name}: not a URL ({e})") from None
    if parts.scheme not in ("http", "https"):
        raise BadRequest(f"{name}: only http and https URLs are posted to, not {parts.scheme or 'no scheme'!r}")
    if not parts.hostname:
        raise BadRequest(f"{name}: has no host")
    if parts.username is not None or parts.password is not None:
        raise BadRequest(f"{name}: credentials in the URL are not accepted (put a secret in the path instead)")
    path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    return parts.scheme, parts.hostname, port or (443 if parts.scheme == "https" else 80), path


def forbidden(address: str) -> str | None:
    """Why an address is no place to post to, or None."""
    ip = ipaddress.ip_address(address.split("%", 1)[0])
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    for what, bad in (("loopback", ip.is_loopback), ("link-local", ip.is_link_local),
                      ("unspecified", ip.is_unspecified), ("multicast", ip.is_multicast),
                      ("private", ip.is_private), ("reserved", ip.is_reserved),
                      ("not globally reachable", not ip.is_global)):
        if bad:
            return what
    return None


def resolve(url: object, *, allow_private: bool, name: str = "url") -> Target:
    """The URL checked and its host resolved: every address it resolves to must be allowed."""
    scheme, host, port, path = parse(url, name)
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (OSError, UnicodeError) as e:
        raise BadRequest(f"{name}: the host {host!r} does not resolve ({e})") from None
    addresses = list(dict.fromkeys(str(info[4][0]) for info in infos))
    if not addresses:
        raise BadRequest(f"{name}: the host {host!r} does not resolve")
    if not allow_private:
        for address in addresses:
            why = forbidden(address)
            if why is not None:
                raise BadRequest(f"{name}: the host {host!r} resolves to {address}, a {why} address; alerts "
                                 "post to public addresses unless VIDEO_INSIGHTS_ALERTS_ALLOW_PRIVATE_URLS=true")
    assert isinstance(url, str)
    return Target(url, scheme, host, port, path, addresses[0])
