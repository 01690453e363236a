"""Console sign-in: a signed HttpOnly cookie, `/login`, `/logout`, and switching to a subaccount.

The cookie is signed with the signing-in credential's own secret (auth token or key secret), and with
`session_secret` when one is set, so any number of `serve` processes accept it without sharing state,
and rotating the token or deleting the key ends its sessions. Logging out ends every console session of
the account signed before that moment (`accounts.end_console_sessions`): a copied cookie does not
outlive the logout. Every form that changes something carries a CSRF token (`csrf`).
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote, urlsplit

from fastapi import APIRouter, Form, Request
from fastapi.responses import RedirectResponse, Response
from itsdangerous import BadSignature, URLSafeTimedSerializer

from video_insights import accounts
from video_insights.accounts import Principal
from video_insights.analytics.rooms import Scope
from video_insights.errors import Forbidden, Unauthorized
from video_insights.model.ids import is_sid, normalise_sid
from video_insights.web.deps import services
from video_insights.web.pages import csrf
from video_insights.web.pages.render import render

COOKIE = "vi_session"
MAX_AGE_S = 12 * 3600
_SALT = "video-insights-console"

router = APIRouter(include_in_schema=False)


class LoginRequired(Exception):
    """A page was asked for without a valid session: the error handler redirects to /login."""


@dataclass(frozen=True)
class Viewer:
    """Who is looking at the console, and which of the accounts they reach they are looking at."""

    username: str
    principal: Principal
    account_sid: str

    @property
    def scope(self) -> Scope:
        return Scope(self.account_sid, self.principal.reachable)


def _now_us() -> int:
    return time.time_ns() // 1000


def _secret_of(request: Request, username: str) -> str | None:
    store = services(request).store
    if is_sid(username, "AC"):
        account = accounts.find_account(store, username)
        return account.auth_token if account else None
    if is_sid(username, "SK"):
        key = accounts.find_key(store, username)
        return key.secret if key and not key.livekit_api_key else None
    return None


def _serializer(request: Request | None, secret: str) -> URLSafeTimedSerializer:
    server = services(request).settings.session_secret if request is not None else ""
    return URLSafeTimedSerializer(f"{server}\x00{secret}", salt=_SALT)


def _cookie_value(request: Request, username: str, secret: str, account_sid: str, issued_us: int) -> str:
    return _serializer(request, secret).dumps({"u": username, "a": account_sid, "t": issued_us})


def _set_cookie(request: Request, response: Response, value: str) -> None:
    response.set_cookie(COOKIE, value, max_age=MAX_AGE_S, httponly=True, samesite="lax",
                        secure=request.url.scheme == "https", path="/")


def viewer(request: Request) -> Viewer:
    """The page dependency: the signed-in viewer, or LoginRequired."""
    raw = request.cookies.get(COOKIE)
    if not raw:
        raise LoginRequired
    store = services(request).store
    try:
        unverified: Any = _serializer(None, "").loads_unsafe(raw)[1]
        username = str(unverified["u"])
        secret = _secret_of(request, username)
        if secret is None:
            raise LoginRequired
        data: Any = _serializer(request, secret).loads(raw, max_age=MAX_AGE_S)
        principal = accounts.authenticate(store, username, secret)
        issued = data["t"]
        owner = accounts.find_account(store, principal.account_sid)
        if not isinstance(issued, int) or owner is None or issued <= accounts.sessions_since(owner):
            raise LoginRequired  # signed before a logout: that session is over
    except (BadSignature, KeyError, TypeError, Unauthorized):
        raise LoginRequired from None
    account_sid = str(data.get("a") or principal.account_sid)
    if account_sid not in principal.reachable:
        account_sid = principal.account_sid
    return Viewer(username, principal, account_sid)


def page_scope(request: Request) -> Scope:
    """What a page reads: the viewer's chosen account (a parent may switch to a subaccount)."""
    v = viewer(request)
    request.state.viewer = v
    return v.scope


def _safe_next(target: str | None) -> str:
    """Only same-site paths: `next=` must not send a signed-in user to another site."""
    if not target:
        return "/"
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//"):
        return "/"
    return target


def login_redirect(request: Request) -> RedirectResponse:
    target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    return RedirectResponse(f"/login?next={quote(target, safe='')}", status_code=303)


@router.get("/favicon.ico")
def favicon() -> Response:
    # Browsers ask for it whatever the page says; the console's icon is an SVG.
    return RedirectResponse("/static/favicon.svg", status_code=301)


@router.get("/login")
def login_page(request: Request, next: str = "/") -> Response:
    return render(request, "login.html", {"next": _safe_next(next), "error": None, "username": ""})


@router.post("/login")
def login(request: Request, username: str = Form(""), password: str = Form(""), next: str = Form("/"),
          csrf_token: str = Form("", alias=csrf.FIELD)) -> Response:
    username = username.strip()
    try:
        csrf.check(request, csrf_token)
        principal = accounts.authenticate(services(request).store, username, password)
    except (Unauthorized, Forbidden) as e:
        return render(request, "login.html", {"next": _safe_next(next), "error": e.message,
                                              "username": username}, status_code=e.status)
    secret = _secret_of(request, username)
    assert secret is not None
    response = RedirectResponse(_safe_next(next), status_code=303)
    _set_cookie(request, response, _cookie_value(request, normalise_sid(username), secret, principal.account_sid,
                                                 _now_us()))
    return response


@router.get("/logout")
def logout_page(request: Request) -> Response:
    """Logging out changes state, so it is a POST; a GET (a typed URL, an old bookmark) asks first."""
    return render(request, "logout.html", {})


@router.post("/logout")
def logout(request: Request, csrf_token: str = Form("", alias=csrf.FIELD)) -> Response:
    csrf.check(request, csrf_token)
    try:
        v = viewer(request)
    except LoginRequired:
        v = None
    if v is not None:
        accounts.end_console_sessions(services(request).store, v.principal.account_sid, _now_us())
    response = RedirectResponse("/login", status_code=303)
    response.delete_cookie(COOKIE, path="/")
    return response


@router.post("/account")
def switch_account(request: Request, account_sid: str = Form(""), next: str = Form("/"),
                   csrf_token: str = Form("", alias=csrf.FIELD)) -> Response:
    """Show another reachable account (a parent's subaccount, or back to the parent)."""
    csrf.check(request, csrf_token)
    v = viewer(request)
    chosen = normalise_sid(account_sid) if is_sid(account_sid, "AC") else ""
    if chosen not in v.principal.reachable:
        chosen = v.principal.account_sid
    secret = _secret_of(request, v.username)
    assert secret is not None
    # A page of one account's room makes no sense in another: land on the same kind of list.
    target = _safe_next(next)
    if target.startswith("/rooms/"):
        target = "/rooms"
    response = RedirectResponse(target, status_code=303)
    _set_cookie(request, response, _cookie_value(request, v.username, secret, chosen, _now_us()))
    return response
