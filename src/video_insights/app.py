"""create_app(settings): wiring only."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI
from fastapi.middleware.cors import CORSMiddleware
from fastapi.staticfiles import StaticFiles

from video_insights import __version__
from video_insights.admin_ops import write_control
from video_insights.alerts.delivery import AlertWorker
from video_insights.ingest.gateway import Gateway
from video_insights.ingest.report_workers import ReportWorkers
from video_insights.processing.pipeline import Pipeline
from video_insights.processing.scheduler import Scheduler
from video_insights.settings import Settings
from video_insights.store import open_store
from video_insights.store.base import Store
from video_insights.web import access_log, errors
from video_insights.web.api import admin, dashboard, health, ingest, livekit, metrics, twilio_compat
from video_insights.web.api import alerts as alerts_api
from video_insights.web.deps import Services
from video_insights.web.display_zone import DisplayZone
from video_insights.web.head import HeadAsGet
from video_insights.web.pages import ROUTERS as PAGE_ROUTERS
from video_insights.web.pages.render import STATIC
from video_insights.web.security_headers import SecurityHeaders
from video_insights.web.timing import ServerTiming


def create_app(settings: Settings, store: Store | None = None) -> FastAPI:
    store = store or open_store(settings.store, memory_limit=settings.duckdb_memory_limit, settings=settings)
    store.migrate()
    pipeline = Pipeline(store, settings)
    svc = Services(settings, store, pipeline, Gateway(store, settings))
    if settings.ingest_workers > 0:
        svc.reports = ReportWorkers(settings.ingest_workers, pipeline, svc.gateway.rejections)
    scheduler = Scheduler(svc.pipeline, settings)
    alerts = AlertWorker(store, settings, on_rules=pipeline.watch)
    pipeline.on_alerts = alerts.wake

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        access_log.install()  # after uvicorn has configured its loggers
        pipeline.start()
        scheduler.start()
        alerts.start()
        if svc.demo is not None:
            svc.demo.start()
        control = None
        if getattr(app.state, "control_url", None):
            control = write_control(settings.store, app.state.control_url)
            app.state.admin_token = control[1] if control else None
        try:
            yield
        finally:
            if control is not None:
                control[0].unlink(missing_ok=True)
            if svc.demo is not None:
                svc.demo.stop()
            svc.live_hub.close()
            scheduler.stop()
            if svc.reports is not None:  # what they parse goes into the pipeline's last commit
                svc.reports.close()
            pipeline.stop()  # its last summaries may decide alerts: delivered by the next process if not now
            alerts.stop()

    app = FastAPI(title="Video Insights", version=__version__, lifespan=lifespan,
                  description="Call-quality analytics for WebRTC video applications. "
                              "Twilio Video Log Analyzer compatible.", docs_url=None, redoc_url=None)
    app.state.services = svc
    app.state.metrics_registry = metrics.registry_for(svc)
    # The collector runs on the app's own origin: the token, not the origin, authorises telemetry.
    app.add_middleware(CORSMiddleware, allow_origins=["*"], allow_methods=["GET", "POST"],
                       allow_headers=["Authorization", "Content-Type"])
    app.add_middleware(ServerTiming)
    app.add_middleware(DisplayZone)  # inside SecurityHeaders: its own 400 gets the headers too
    app.add_middleware(SecurityHeaders)
    app.add_middleware(HeadAsGet)  # outermost: every route, and the error pages, answer HEAD as GET
    errors.install(app)
    for router in (health.router, metrics.router, twilio_compat.router, dashboard.router, ingest.router,
                   livekit.router, admin.router, alerts_api.router, *PAGE_ROUTERS):
        app.include_router(router)
    app.mount("/static", StaticFiles(directory=STATIC), name="static")
    return app
