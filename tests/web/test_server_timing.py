"""Every HTTP response says how long the store's reads took and how many there were
(`Server-Timing`), so an operator sees the engine's share of a slow page, and the benchmarks the
engine's time beside the server's."""

from __future__ import annotations

import re

from support import Creds

TIMING = re.compile(r'^store;dur=(?P<store>\d+\.\d\d);desc="(?P<reads>\d+) reads", total;dur=(?P<total>\d+\.\d\d)$')


def _timing(response) -> tuple[float, int, float]:  # type: ignore[no-untyped-def]
    m = TIMING.match(response.headers["server-timing"])
    assert m, response.headers["server-timing"]
    return float(m["store"]), int(m["reads"]), float(m["total"])


def test_api_reads_are_timed(live_server, creds: Creds) -> None:  # type: ignore[no-untyped-def]
    with live_server.client(creds) as client:
        listed = client.get("/v1/Video/Rooms?_range=7d")
        assert listed.status_code == 200
        store_ms, reads, total_ms = _timing(listed)
        assert reads >= 1 and 0 < store_ms <= total_ms
        missing = client.get("/v1/Video/Rooms/RM00000000000000000000000000000000")
        assert missing.status_code == 404 and _timing(missing)[1] >= 1  # errors are timed too
    with live_server.client() as anonymous:
        static = anonymous.get("/static/collector.js")
        assert static.status_code == 200 and _timing(static)[:2] == (0.0, 0)
