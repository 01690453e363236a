"""The console's time zone choice, `?tz=utc`, carried by the URL across every page (docs/console.md).

Times are stored and sent in UTC; the pages show them in the viewer's zone, or in UTC when the URL
says `tz=utc` (`tz=local` is the default, spelled out). The choice belongs to the viewer, not to a page's
view, so this middleware takes it off the query string before a page reads it (no page has to know the
parameter, and each keeps checking the rest as strictly as before), keeps it in `scope["state"]`, and
puts it back on the redirects a page answers with, so that canonical URLs and form posts keep it. The
page's script (static/app.js) carries it along every link and form.
"""

from __future__ import annotations

from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from starlette.responses import PlainTextResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send

PARAM = "tz"
ZONES = ("local", "utc")
# The console's pages (web/pages); the API, webhooks, ingest and static files never see the parameter.
PAGE_PREFIXES = ("/rooms", "/live", "/alerts", "/login", "/logout", "/account", "/docs/api")


def is_page(path: str) -> bool:
    return path == "/" or path.startswith(PAGE_PREFIXES)


def with_zone(location: str, zone: str) -> str:
    """`location` (a path on this server) carrying `tz=zone`; other locations unchanged."""
    parts = urlsplit(location)
    if zone == "local" or parts.scheme or parts.netloc or not parts.path.startswith("/") or not is_page(parts.path):
        return location
    query = [(k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True) if k != PARAM]
    return urlunsplit(("", "", parts.path, urlencode([*query, (PARAM, zone)]), parts.fragment))


class DisplayZone:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not is_page(scope["path"]):
            await self.app(scope, receive, send)
            return
        items = parse_qsl(scope.get("query_string", b"").decode("latin-1"), keep_blank_values=True)
        chosen = [v for k, v in items if k == PARAM]
        if not chosen:
            await self.app({**scope, "state": {**scope.get("state", {}), "display_zone": "local"}}, receive, send)
            return
        zone = chosen[-1]
        if zone not in ZONES:
            await PlainTextResponse(f"{PARAM}: must be one of {', '.join(ZONES)}, got {zone[:40]!r}",
                                    status_code=400)(scope, receive, send)
            return
        rest = urlencode([(k, v) for k, v in items if k != PARAM]).encode("latin-1")
        scope = {**scope, "query_string": rest, "state": {**scope.get("state", {}), "display_zone": zone}}

        async def keep_zone(message: Message) -> None:
            if message["type"] == "http.response.start" and 300 <= message["status"] < 400:
                headers = [(k, with_zone(v.decode("latin-1"), zone).encode("latin-1") if k.lower() == b"location"
                            else v) for k, v in message.get("headers", [])]
                message = {**message, "headers": headers}
            await send(message)

        await self.app(scope, receive, keep_zone)
