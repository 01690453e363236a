"""How `serve` runs the app under uvicorn (the tests' servers run it the same way)."""

from __future__ import annotations

import uvicorn
from fastapi import FastAPI

from video_insights.settings import Settings


def uvicorn_config(app: FastAPI, settings: Settings, *, host: str, port: int, log_level: str) -> uvicorn.Config:
    # No permessage-deflate: a stats report is ~1 KB every 10 s per participant, so compression saves
    # little bandwidth, while inflating every message cost the event loop ~8 % of its time at load.
    # Pings without a deadline for their pong (docs/durability.md, "Backpressure and keepalive"): when the writer is
    # behind, the server stops reading sockets, and a client's pong waits behind the frames not read
    # yet; closing the connection for a late pong would throw those frames away. A client that is gone
    # is still found: TCP gives up on the pings it cannot deliver.
    return uvicorn.Config(app, host=host, port=port, log_level=log_level, ws="websockets-sansio",
                          ws_per_message_deflate=False, ws_ping_interval=settings.ws_ping_interval_s,
                          ws_ping_timeout=None)
