"""One error shape for every route: our exceptions, framework errors and anything unexpected."""

from __future__ import annotations

import logging

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.middleware import Middleware
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from video_insights.errors import Saturated, VideoInsightsError, error_body
from video_insights.web.pages.render import error_page
from video_insights.web.pages.session import LoginRequired, login_redirect

log = logging.getLogger(__name__)


_API_PREFIXES = ("/v1/", "/webhooks/", "/_admin", "/healthz", "/openapi.json", "/static/", "/docs")


def wants_page(request: Request) -> bool:
    """A person's browser asking for a console page gets an HTML error page, tools get JSON."""
    path = request.url.path
    return not path.startswith(_API_PREFIXES) and "text/html" in request.headers.get("accept", "")


def _answer(request: Request, status: int, message: str, code: int | None = None,
            headers: dict[str, str] | None = None) -> Response:
    if wants_page(request):
        return error_page(request, status, message)
    return _response(status, message, code, headers)


def _response(status: int, message: str, code: int | None = None, headers: dict[str, str] | None = None
              ) -> JSONResponse:
    headers = {**(headers or {}), **({"WWW-Authenticate": 'Basic realm="Video Insights"'} if status == 401 else {})}
    return JSONResponse(error_body(status, message, code=code), status_code=status, headers=headers or None)


class CatchAll:
    """Unexpected errors become the JSON 500 here, inside the app.

    Starlette's own handler for `Exception` answers and then re-raises, so uvicorn also drops the
    connection; a client on keep-alive then sees its next request fail. This answers and carries on.
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = False

        async def watch(message: Message) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, receive, watch)
        except Exception:
            if started:  # too late to answer: let the server close the connection
                raise
            log.exception("unhandled error on %s %s", scope.get("method"), scope.get("path"))
            await _response(500, "internal error: the service logged the details")(scope, receive, send)


def install(app: FastAPI) -> None:
    # Innermost of the app's middleware, so that a 500 still gets CORS headers.
    app.user_middleware.append(Middleware(CatchAll))

    @app.exception_handler(LoginRequired)
    async def login_required(request: Request, exc: LoginRequired) -> Response:
        if wants_page(request) or request.method == "GET":
            return login_redirect(request)
        return _response(401, "sign-in required: log in at /login")

    @app.exception_handler(VideoInsightsError)
    async def ours(request: Request, exc: VideoInsightsError) -> Response:
        headers = {"Retry-After": str(exc.retry_after_s)} if isinstance(exc, Saturated) else None
        return _answer(request, exc.status, exc.message, exc.code, headers)

    @app.exception_handler(RequestValidationError)
    async def validation(request: Request, exc: RequestValidationError) -> Response:
        first = exc.errors()[0] if exc.errors() else {}
        where = ".".join(str(p) for p in first.get("loc", ()) if p not in ("query", "path", "body"))
        return _answer(request, 400, f"{where or 'request'}: {first.get('msg', 'invalid')}")

    @app.exception_handler(StarletteHTTPException)
    async def http(request: Request, exc: StarletteHTTPException) -> Response:
        message = {404: f"{request.url.path}: no such resource", 405: f"{request.method} is not allowed on "
                   f"{request.url.path}"}.get(exc.status_code, str(exc.detail))
        return _answer(request, exc.status_code, message)

    @app.exception_handler(Exception)
    async def unexpected(request: Request, exc: Exception) -> JSONResponse:
        log.exception("unhandled error on %s %s", request.method, request.url.path)
        return _response(500, "internal error: the service logged the details")
