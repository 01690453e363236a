"""CSRF protection for the console's forms that change something (log in, log out, switch account).

Double submit: the browser holds a random token in an HttpOnly, SameSite=Lax cookie, and every such
form carries the same token in a hidden field. A page on another site can make the browser post a form,
but it can neither read the cookie nor get it sent along with a cross-site post, so it cannot make the
two match. A request the browser marks as cross-site (`Sec-Fetch-Site`) is refused outright. (Lax, not
Strict: a link from another site must not make the page issue a new token under an open tab's forms.)
See docs/security.md.
"""

from __future__ import annotations

import re
import secrets

from fastapi import Request, Response

from video_insights.accounts import same_secret
from video_insights.errors import Forbidden

COOKIE = "vi_csrf"
FIELD = "csrf"
_TOKEN = re.compile(r"[A-Za-z0-9_-]{43}")


def token(request: Request) -> str:
    """The token a page puts in its forms: the browser's own, or a new one `attach` will set."""
    current = request.cookies.get(COOKIE, "")
    if _TOKEN.fullmatch(current):
        return current
    issued: str | None = getattr(request.state, "csrf_issued", None)
    if issued is None:
        issued = secrets.token_urlsafe(32)
        request.state.csrf_issued = issued
    return issued


def attach(request: Request, response: Response) -> None:
    issued = getattr(request.state, "csrf_issued", None)
    if issued is not None:
        response.set_cookie(COOKIE, issued, httponly=True, samesite="lax", secure=request.url.scheme == "https",
                            path="/")


def check(request: Request, given: str) -> None:
    """Refuse a state-changing form post that did not come from one of our own pages."""
    if request.headers.get("sec-fetch-site") == "cross-site":
        raise Forbidden("this form was sent from another site; open the console and use its own form")
    cookie = request.cookies.get(COOKIE, "")
    if not _TOKEN.fullmatch(cookie) or not same_secret(cookie, given):
        raise Forbidden("the form's security token is missing or out of date: reload the page and try again")
