"""Rendering pages: the Jinja2 environment, what every page's template gets, and HTML error pages."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from fastapi import Request
from fastapi.responses import HTMLResponse
from fastapi.templating import Jinja2Templates
from markupsafe import Markup, escape

from video_insights import __version__, accounts
from video_insights.model import labels
from video_insights.web import display_zone
from video_insights.web.deps import services
from video_insights.web.pages import csrf

WEB = Path(__file__).resolve().parents[1]
STATIC = WEB / "static"
ECHARTS = "echarts-6.1.0.min.js"
# swagger-ui-dist 5.36.0 as published (bundle and CSS), its licence beside it; a new version is a new name.
SWAGGER_UI = "swagger-ui-5.36.0"

templates = Jinja2Templates(directory=str(WEB / "templates"))


def local_time(ms: int | None, style: str = "datetime") -> Markup:
    """A `<time>` the page's script shows in the viewer's time zone; UTC until it runs."""
    if ms is None:
        return Markup('<span class="muted">—</span>')
    at = datetime.fromtimestamp(int(ms) / 1000, tz=UTC)
    text = at.strftime("%Y-%m-%d %H:%M:%S UTC")
    return Markup('<time datetime="{}" data-style="{}">{}</time>').format(
        at.isoformat(timespec="milliseconds").replace("+00:00", "Z"), style, text)


def duration(seconds: int | float | None) -> str:
    if seconds is None:
        return "—"
    s = int(seconds)
    h, rest = divmod(s, 3600)
    m, sec = divmod(rest, 60)
    return f"{h}h {m:02d}m {sec:02d}s" if h else (f"{m}m {sec:02d}s" if m else f"{sec}s")


def label(value: object, field: str) -> str:
    """`{{ value | label("room_type") }}`: a stored value as people read it (model/labels.py)."""
    return labels.value_label(field, value)


templates.env.filters["local_time"] = local_time
templates.env.filters["duration"] = duration
templates.env.filters["label"] = label
templates.env.filters["issue_title"] = labels.issue_title
templates.env.filters["track_name"] = labels.track_name  # {{ name | track_name(kind) }}
templates.env.globals.update(version=__version__, echarts=ECHARTS)


def _accounts_menu(request: Request) -> list[dict[str, Any]]:
    viewer = getattr(request.state, "viewer", None)
    if viewer is None or len(viewer.principal.reachable) < 2:
        return []
    store = services(request).store
    menu = []
    for sid in sorted(viewer.principal.reachable, key=lambda s: (s != viewer.principal.account_sid, s)):
        account = accounts.find_account(store, sid)
        name = account.friendly_name if account and account.friendly_name else sid
        menu.append({"sid": sid, "name": name, "current": sid == viewer.account_sid})
    return menu


def render(request: Request, template: str, context: dict[str, Any], status_code: int = 200) -> HTMLResponse:
    viewer = getattr(request.state, "viewer", None)
    here = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    demo = services(request).demo
    zone = getattr(request.state, "display_zone", "local")
    base = {"request": request, "viewer": viewer, "accounts_menu": _accounts_menu(request), "here": here,
            "display_zone": zone, "zone_links": {z: display_zone.with_zone(here, z) for z in display_zone.ZONES},
            "zone_pages": " ".join(display_zone.PAGE_PREFIXES),
            "csrf": csrf.token(request), "demo_banner": demo.progress.banner() if demo is not None else None}
    response = templates.TemplateResponse(request, template, {**base, **context}, status_code=status_code)
    csrf.attach(request, response)
    return response


def error_page(request: Request, status: int, message: str) -> HTMLResponse:
    titles = {400: "This URL asks for something the console cannot show", 401: "Sign-in required",
              403: "Not allowed", 404: "Not found", 413: "Too large", 503: "The store is unavailable"}
    return render(request, "error.html", {"status": status, "message": escape(message),
                                          "title": titles.get(status, "Something went wrong")},
                  status_code=status)
