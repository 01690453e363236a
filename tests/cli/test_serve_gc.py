"""`serve` tunes the cyclic garbage collector for ingest (see `tune_gc`): start-up's objects frozen out
of collections, and young collections rare but still on."""

from __future__ import annotations

import gc
from collections.abc import Iterator

import pytest

from video_insights.runtime import tune_gc


@pytest.fixture
def restored_gc() -> Iterator[None]:
    thresholds = gc.get_threshold()
    yield
    gc.unfreeze()
    gc.set_threshold(*thresholds)


@pytest.mark.usefixtures("restored_gc")
def test_tune_gc_freezes_start_up_and_keeps_collecting() -> None:
    gc.unfreeze()
    kept = [[] for _ in range(1000)]  # objects alive at start-up, as the app's are
    tune_gc()
    assert gc.get_freeze_count() >= len(kept)
    assert gc.isenabled()
    first, second, third = gc.get_threshold()
    assert first >= 10_000 and second > 0 and third > 0
    # Cycles made afterwards are still freed.
    cycle: list[object] = []
    cycle.append(cycle)
    del cycle
    assert gc.collect() >= 1
