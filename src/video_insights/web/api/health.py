"""Health: answers without credentials; says whether the store answers, the writer keeps up, and how far
`serve --demo` has got filling the demo account."""

from __future__ import annotations

import time
from typing import Any

from fastapi import APIRouter, Request

from video_insights.query.sql import probe
from video_insights.web.deps import services

router = APIRouter(tags=["Health"])


@router.get("/healthz", summary="Liveness and the writer's counters")
def healthz(request: Request) -> dict[str, Any]:
    svc = services(request)
    started = time.perf_counter()
    svc.store.fetch(probe())
    st = svc.pipeline.stats
    demo = {"demo": svc.demo.progress.snapshot()} if svc.demo is not None else {}
    return {"status": "ok", "store": svc.store.url.split("://")[0],
            "store_ms": round((time.perf_counter() - started) * 1000, 2),
            "pipeline": {"samples": st.samples, "events": st.events, "batches": st.batches,
                         "pending_samples": svc.pipeline.pending_samples,
                         "reports_parsing": svc.reports.in_flight if svc.reports else 0,
                         "rooms_summarized": st.rooms_summarized, "errors": st.errors,
                         "rejected_gateway_events": svc.gateway.rejected},
            "gateway_rejections": svc.gateway.rejections.snapshot(), **demo}
