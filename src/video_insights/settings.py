"""Typed settings, read from VIDEO_INSIGHTS_* environment variables and overridden by CLI flags.

Every field documents itself through its metadata; `docs/configuration.md` is generated from it
(and a test checks it is current).
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from typing import Any

DEFAULT_STORE = "duckdb:///" + str(Path("video-insights-data") / "video-insights.duckdb")


def _f(default: Any, doc: str) -> Any:
    return field(default=default, metadata={"doc": doc})


@dataclass(frozen=True)
class Settings:
    store: str = _f(DEFAULT_STORE, "Store URL: duckdb:///path/file.duckdb, clickhouse://…, chdb:///dir.")
    host: str = _f("127.0.0.1", "Address `serve` listens on.")
    port: int = _f(8000, "Port `serve` listens on.")
    public_url: str = _f("", "Base URL used in API links; empty = the address and port a request arrived on "
                             "(never its Host header). Set it behind a proxy or a DNS name.")
    region: str = _f("", "Region label for participants this server receives (signaling region).")
    media_region: str = _f("", "Media region label used when no source states one.")
    edge_location: str = _f("", "Edge location label used when no source states one.")
    packet_loss_threshold_pct: float = _f(5.0, "Default packet_loss issue threshold (cumulative %, ≥).")
    rtt_threshold_ms: float = _f(300.0, "Default round_trip_time issue threshold (average ms, >).")
    jitter_threshold_ms: float = _f(30.0, "Default high_jitter threshold (mean outgoing audio jitter, >).")
    limitation_share: float = _f(0.30, "Share of time CPU/bandwidth-limited that tags an issue (≥).")
    slow_setup_s: float = _f(5.0, "Connection setup slower than this tags slow_connection_setup.")
    reconnects_threshold: int = _f(3, "This many reconnects or more tags repeated_reconnects.")
    empty_room_timeout_s: int = _f(300, "A telemetry-only room with nobody for this long has ended.")
    participant_timeout_s: int = _f(60, "No report for this long after the last one: the participant left.")
    retention_days: int = _f(7, "Days rooms, participants, tracks, metrics and events are kept.")
    retention_days_go: int = _f(2, "The same for `go` rooms.")
    dashboard_retention_days: int = _f(14, "Days dashboard aggregates are kept.")
    dashboard_retention_days_go: int = _f(2, "The same for `go` rooms.")
    max_body_bytes: int = _f(1_048_576, "Largest request body accepted by the API and webhooks.")
    max_import_bytes: int = _f(64 * 1_048_576, "Largest dump accepted by imports.")
    duckdb_memory_limit: str = _f("2GB", "Memory DuckDB may use for its caches and queries (it spills beyond).")
    duckdb_checkpoint_threshold: str = _f("256MB", "Write-ahead log size at which DuckDB folds the log into the "
                                                   "file. Each fold recompresses the newest data: at DuckDB's "
                                                   "16MB, sustained ingest spent nearly twice the CPU on commits. "
                                                   "A crash replays the log on the next start (about 0.3 s per "
                                                   "100 MB; docs/benchmarks.md).")
    writer_flush_ms: int = _f(200, "How long the writer gathers rows before it commits a batch.")
    writer_ack_flush_ms: int = _f(20, "How long the writer gathers rows before a commit that a request waits for "
                                      "(HTTP ingest answers once committed; concurrent requests share a commit).")
    max_pending_samples: int = _f(200_000, "Samples received and not yet committed beyond which ingest pushes "
                                           "back: the WebSocket stops reading, HTTP ingest answers 503 with "
                                           "Retry-After.")
    writer_max_rows: int = _f(50_000, "Rows that make the writer commit at once.")
    ingest_workers: int = _f(1, "Processes that parse the WebSocket's stats reports into columns for the writer "
                                "(docs/durability.md, \"Report workers\"): one interpreter runs one thread at a "
                                "time, and parsing is most of ingest's work. 0 parses them in the server's own "
                                "process.")
    ws_ping_interval_s: float = _f(20.0, "How often the server pings each WebSocket client (keeping proxies' idle "
                                         "timers open; TCP finds a client that is gone when a ping cannot be "
                                         "delivered). A late pong never closes a connection: while ingest pushes "
                                         "back, a pong waits behind frames not read yet (docs/durability.md).")
    summary_delay_s: float = _f(15.0, "Stats reports make a room's stored summary stale; it is recomputed at most "
                                      "this late. Events (a participant connecting or leaving, a track), "
                                      "webhooks and imports recompute it at once, and the API computes a room "
                                      "in progress, its participants, tracks and metrics live.")
    live_tick_s: float = _f(1.0, "How often the live view (`/live`) recomputes an account's board while someone "
                                 "watches it; one computation per account, shared by all its viewers.")
    live_max_viewers: int = _f(500, "Live-view streams (`/live` and live participant graphs) this server holds open "
                                    "at once; more are answered 503 with Retry-After.")
    takeover_after_s: float = _f(60.0, "A room whose summary has stayed stale this long past the summary delay (the "
                                       "process that took its data may have died) is summarised by any process "
                                       "that notices; on a store several processes share it must exceed their "
                                       "clock skew.")
    client_clock_correction: bool = _f(True, "Put gateway clients' timestamps on the server's clock when their "
                                              "clock is more than 10 s off (docs/api.md, 'Client clocks'); false "
                                              "takes them as sent (benchmarks that replay time fast-forward).")
    alerts_summary_delay_s: float = _f(5.0, "The summary delay for rooms of accounts that have participant_issue "
                                            "alert rules on an issue type only summaries decide (video_stalled, "
                                            "cpu_pressure, the other issues from events), so that their alerts "
                                            "fire within seconds (docs/alerts.md, 'Timing'), and of accounts "
                                            "someone watches live, so that running issue counts follow as soon "
                                            "(docs/live.md).")
    alerts_allow_private_urls: bool = _f(False, "Let alert rules post to URLs whose host resolves to a loopback, "
                                                "private or link-local address (an on-premises receiver); off, "
                                                "such URLs are refused, at creation and at each delivery.")
    alerts_retry_base_s: float = _f(10.0, "First wait before an alert delivery is tried again; it doubles per "
                                          "attempt (at most an hour) until 24 h after the alert fired.")
    session_secret: str = _f("", "Extra secret that signs console session cookies, with the signing-in "
                                 "credential's own secret; empty = the credential's secret alone.")
    log_level: str = _f("info", "Log level.")

    def days_kept(self, retention: str) -> tuple[int, int]:
        """(days, days for go rooms) that a table with this retention policy ("data" or "dashboard", its
        `retention` in store.schema) keeps its rows: purge's cutoffs, and ClickHouse's TTL."""
        if retention == "dashboard":
            return self.dashboard_retention_days, self.dashboard_retention_days_go
        return self.retention_days, self.retention_days_go

    @classmethod
    def from_env(cls, environ: dict[str, str] | None = None, **overrides: Any) -> Settings:
        env = os.environ if environ is None else environ
        values: dict[str, Any] = {}
        for f in fields(cls):
            raw = env.get("VIDEO_INSIGHTS_" + f.name.upper())
            if raw is not None:
                values[f.name] = _parse(f.name, type(f.default), raw)
        values.update({k: v for k, v in overrides.items() if v is not None})
        return replace(cls(), **values)


def _parse(name: str, kind: type, raw: str) -> Any:
    if kind is bool:  # bool("false") is True
        if raw.strip().lower() in ("true", "1", "yes", "on", "false", "0", "no", "off", ""):
            return raw.strip().lower() in ("true", "1", "yes", "on")
        raise ValueError(f"VIDEO_INSIGHTS_{name.upper()}: expected true or false, got {raw!r}")
    try:
        return kind(raw)
    except ValueError:
        raise ValueError(f"VIDEO_INSIGHTS_{name.upper()}: expected {kind.__name__}, got {raw!r}") from None


def settings_doc() -> str:
    lines = ["| setting | environment variable | default | meaning |", "|---|---|---|---|"]
    for f in fields(Settings):
        lines.append(
            f"| `{f.name}` | `VIDEO_INSIGHTS_{f.name.upper()}` | `{f.default}` | {f.metadata['doc']} |"
        )
    return "\n".join(lines) + "\n"
