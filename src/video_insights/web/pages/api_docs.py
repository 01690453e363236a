"""`/docs/api`: Swagger UI over the OpenAPI document, served from our own copy (no CDN: the page works
offline and nothing third-party runs on our origin)."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from video_insights.web.pages.render import SWAGGER_UI, templates

router = APIRouter(include_in_schema=False)


@router.get("/docs/api")
def api_docs(request: Request) -> HTMLResponse:
    return templates.TemplateResponse(request, "api_docs.html", {"swagger_ui": SWAGGER_UI})
