"""Tuning of the Python process that serves (and of its report workers)."""

from __future__ import annotations

import gc


def tune_gc() -> None:
    """Make the cyclic garbage collector cheap for a long-running ingest server.

    Ingest frees nearly everything it allocates by reference counting, yet with the default thresholds
    the collector kept walking every object the app keeps for its life. Freezing what start-up made
    takes those out of every collection; the higher first threshold makes collections rare without
    turning them off, so cycles (exceptions with tracebacks, closed sockets' futures) are still freed
    within a second or so. What it saved is in docs/decisions.md.
    """
    gc.collect()
    gc.freeze()
    gc.set_threshold(50_000, 20, 100)
