"""HEAD answers as GET does, without the body (RFC 9110 §9.3.2).

FastAPI routes declared with GET answer HEAD with 405, and monitors and link checkers send HEAD. The
request runs as a GET, so the status and headers (Content-Length included) are the GET's; the body is
dropped on its way out. Static files answer HEAD themselves and pass through unchanged. Webhooks are
left alone: a GET status callback stores what it carries, and HEAD must change nothing.
"""

from __future__ import annotations

from starlette.types import ASGIApp, Message, Receive, Scope, Send

PASS_THROUGH = ("/static/", "/webhooks/")


class HeadAsGet:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] != "HEAD" or scope["path"].startswith(PASS_THROUGH):
            await self.app(scope, receive, send)
            return

        async def without_body(message: Message) -> None:
            if message["type"] == "http.response.body":
                if message.get("more_body", False):
                    return  # swallow all but the last part, which closes the response
                message = {"type": "http.response.body", "body": b"", "more_body": False}
            await send(message)

        await self.app({**scope, "method": "GET"}, receive, without_body)
