"""The dashboard's data: the three graphs the console draws."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Request

from video_insights.analytics import dashboard as dash
from video_insights.analytics.rooms import Scope
from video_insights.errors import BadRequest
from video_insights.web.deps import scope, services

router = APIRouter(tags=["Dashboard"])
_COMMON = ("_since", "_until", "_range", "granularity", "AccountSid")


def _params(request: Request, allowed: tuple[str, ...]) -> dict[str, str]:
    for key in request.query_params:
        if key not in allowed:
            raise BadRequest(f"{key}: unknown parameter (this endpoint takes {', '.join(allowed)})")
    return dict(request.query_params)


@router.get("/v1/Video/Dashboard/Rooms", summary="Rooms per bucket, with and without issues")
def rooms(request: Request, sc: Scope = Depends(scope)) -> dict[str, Any]:
    w = dash.parse_window(_params(request, _COMMON))
    return dash.rooms_graph(services(request).store, sc.account_sid, w)


@router.get("/v1/Video/Dashboard/Participants", summary="Participants per bucket by segment")
def participants(request: Request, sc: Scope = Depends(scope)) -> dict[str, Any]:
    params = _params(request, (*_COMMON, "segment", "issues"))
    w = dash.parse_window(params)
    return dash.participants_graph(services(request).store, sc.account_sid, w,
                                   params.get("segment", "browser"), params.get("issues", "all"))


@router.get("/v1/Video/Dashboard/Minutes", summary="Participant and recording minutes, with the previous period")
def minutes(request: Request, sc: Scope = Depends(scope)) -> dict[str, Any]:
    w = dash.parse_window(_params(request, _COMMON))
    return dash.minutes_graph(services(request).store, sc.account_sid, w)
