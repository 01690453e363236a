"""`GET /metrics`: the service's counters in Prometheus's text format (prometheus-client).

Like /healthz it answers without credentials and says nothing of any account: counts, queue depths and
latencies of this process only (docs/operations.md lists every metric). Values are read from the
running parts when scraped, so there is one source of truth for /healthz and /metrics alike.
"""

from __future__ import annotations

from collections.abc import Iterator

from fastapi import APIRouter, Request, Response
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from video_insights.store.timing import READS
from video_insights.web.deps import Services

router = APIRouter(tags=["Health"])


class ServiceCollector(Collector):
    def __init__(self, svc: Services) -> None:
        self.svc = svc

    def collect(self) -> Iterator[Metric]:
        gateway, pipeline = self.svc.gateway, self.svc.pipeline
        st = pipeline.stats
        yield CounterMetricFamily("video_insights_gateway_messages", "Insights gateway messages received after "
                                  "connect (WebSocket and HTTP batch), accepted or not.",
                                  value=gateway.messages_received)
        rejected = CounterMetricFamily("video_insights_gateway_rejected", "Gateway events and stats entries "
                                       "refused, by reason.", labels=["reason"])
        for reason, count in gateway.rejections.snapshot().items():
            rejected.add_metric([reason], count)
        yield rejected
        yield CounterMetricFamily("video_insights_stored_samples", "Stream samples committed to the store.",
                                  value=st.samples)
        yield CounterMetricFamily("video_insights_stored_events", "Events committed to the store.", value=st.events)
        yield CounterMetricFamily("video_insights_duplicate_events", "Events received again and stored once.",
                                  value=st.duplicate_events)
        yield CounterMetricFamily("video_insights_commits", "Commits of the writer.", value=st.batches)
        yield CounterMetricFamily("video_insights_writer_errors", "Commits or summaries that failed.",
                                  value=st.errors)
        yield CounterMetricFamily("video_insights_rooms_summarized", "Room summaries computed.",
                                  value=st.rooms_summarized)
        yield GaugeMetricFamily("video_insights_writer_pending_samples", "Samples received and not yet committed "
                                "(ingest pushes back above max_pending_samples).", value=pipeline.pending_samples)
        reports = self.svc.reports
        yield GaugeMetricFamily("video_insights_reports_parsing", "Stats reports with the report workers, not yet "
                                "handed to the writer.", value=reports.in_flight if reports else 0)
        yield CounterMetricFamily("video_insights_report_worker_fallbacks", "Batches of reports parsed in the "
                                  "server's own process because their worker failed.",
                                  value=reports.fallbacks if reports else 0)
        yield GaugeMetricFamily("video_insights_summaries_pending", "Rooms this process has still to summarise.",
                                value=pipeline.pending_summaries)
        yield CounterMetricFamily("video_insights_alert_screen_reads", "Participants whose statistics the alert "
                                  "screen read, as a sample of theirs was past a threshold.",
                                  value=pipeline.screen.confirmed)
        yield CounterMetricFamily("video_insights_alert_screen_refused_samples", "Samples the alert screen left to "
                                  "summaries as it was behind (MAX_PENDING_ROWS waiting).",
                                  value=pipeline.screen.refused)
        yield CounterMetricFamily("video_insights_alerts_decided_by_screen", "Participant alerts the alert screen "
                                  "decided (the others were decided by summaries).", value=pipeline.screen.decided)
        yield CounterMetricFamily("video_insights_alerts_decided_by_summaries", "Participant alerts decided by "
                                  "room summaries.", value=pipeline.summarizer.alerts_decided)
        for histogram in (pipeline.commit_seconds, pipeline.lag_seconds, READS):
            yield from histogram.collect()


def registry_for(svc: Services) -> CollectorRegistry:
    """One registry per app: two apps in one process (tests) each export their own parts."""
    registry = CollectorRegistry(auto_describe=False)
    registry.register(ServiceCollector(svc))
    return registry


@router.get("/metrics", summary="Prometheus metrics of this process", response_class=Response)
def metrics(request: Request) -> Response:
    registry: CollectorRegistry = request.app.state.metrics_registry
    return Response(generate_latest(registry), media_type=CONTENT_TYPE_LATEST)
