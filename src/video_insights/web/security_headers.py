"""Headers every response carries so that a missed escape or a hostile page can do little harm.

The Content-Security-Policy allows scripts and styles from our own origin only (ECharts and Swagger UI
are vendored; templates hold no inline script or style attribute), so markup injected from telemetry
cannot run. No page may be framed (clickjacking), types are not sniffed, and other sites get no URL of
ours in Referer.
See docs/security.md.
"""

from __future__ import annotations

from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send


def _policy(style: str) -> str:
    return "; ".join((
        "default-src 'self'",
        "script-src 'self'",
        f"style-src {style}",
        "img-src 'self' data:",
        "connect-src 'self'",
        "object-src 'none'",
        "base-uri 'none'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    ))


CONTENT_SECURITY_POLICY = _policy("'self'")
# Swagger UI writes style attributes into its markup; a style cannot run script, and its page shows no
# telemetry.
API_DOCS_POLICY = _policy("'self' 'unsafe-inline'")
API_DOCS = "/docs/api"
HEADERS = {
    "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
}


class SecurityHeaders:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                headers.setdefault("Content-Security-Policy",
                                   API_DOCS_POLICY if scope["path"] == API_DOCS else CONTENT_SECURITY_POLICY)
                for name, value in HEADERS.items():
                    headers.setdefault(name, value)
            await send(message)

        await self.app(scope, receive, with_headers)
