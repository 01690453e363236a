""""""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse

from video_insights.analytics.rooms import Scope
from video_insights.web.pages.render import render
from video_insights.web.pages.session import page_scope

router = APIRouter(include_in_schema=False)


@router.get("/", response_class=HTMLResponse)
def dashboard_page(request: Request, scope: Scope = Depends(page_scope)) -> HTMLResponse:
    # Placeholder until the page is built (issue 3).
    return render(request, "placeholder.html", {"title": "Dashboard"})
