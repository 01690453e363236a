"""Server-rendered console pages: one module per page, each with its own router."""

from __future__ import annotations

from fastapi import APIRouter

from video_insights.web.pages import alerts, api_docs, dashboard, live, participant, room, rooms, session

ROUTERS: list[APIRouter] = [session.router, dashboard.router, rooms.router, room.router, participant.router,
                             api_docs.router, alerts.router, live.router]
