"""How far demo generation has got: the terminal's bar, and the state `/healthz` and the console show.

The generator reports `(rooms done, rooms in all, what it is on)`; `serve --demo` generates in a
background thread while the server answers, so its state is read from request threads.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TaskID, TextColumn, TimeElapsedColumn

Report = Callable[[int, int, str], None]  # (rooms done, rooms in all, what is being done, e.g. "day 3/7")

GENERATING, COMPLETE, FAILED, STOPPED = "generating", "complete", "failed", "stopped"


class TerminalBar:
    """A rich progress bar on stderr, one task per phase."""

    def __init__(self) -> None:
        columns = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TextColumn("rooms"),
                   TimeElapsedColumn())
        self._bar = Progress(*columns, console=Console(stderr=True))
        self._tasks: dict[str, TaskID] = {}

    def start(self) -> None:
        self._bar.start()

    def stop(self) -> None:
        self._bar.stop()

    def reporter(self, phase: str) -> Report:
        def report(done: int, total: int, label: str) -> None:
            if phase not in self._tasks:
                self._tasks[phase] = self._bar.add_task(phase, total=total)
            self._bar.update(self._tasks[phase], completed=done, total=total, description=f"{phase}: {label}")
        return report


class DemoProgress:
    """The state of one demo fill, safe to read from any thread."""

    def __init__(self, bar: TerminalBar | None = None) -> None:
        self._lock = threading.Lock()
        self._bar = bar
        self.state = GENERATING
        self.phase = ""
        self.label = ""
        self.done = 0
        self.total = 0
        self.error = ""

    def reporter(self, phase: str) -> Report:
        """The report function of one phase ("current week", …): it moves the state and the bar."""
        bar = self._bar.reporter(phase) if self._bar else None

        def report(done: int, total: int, label: str) -> None:
            with self._lock:
                self.phase, self.done, self.total, self.label = phase, done, total, label
            if bar:
                bar(done, total, label)
        return report

    def finish(self, state: str, error: str = "") -> None:
        with self._lock:
            self.state, self.error = state, error
        if self._bar:
            self._bar.stop()

    def snapshot(self) -> dict[str, Any]:
        """The state as /healthz gives it; `message` is the console's banner line."""
        with self._lock:
            out: dict[str, Any] = {"state": self.state, "phase": self.phase, "step": self.label,
                                   "rooms_done": self.done, "rooms_total": self.total}
            if self.error:
                out["error"] = self.error
        out["message"] = _message(out)
        return out

    def banner(self) -> str | None:
        """The console's line while the data is not complete."""
        s = self.snapshot()
        return None if s["state"] == COMPLETE else str(s["message"])


def _message(s: dict[str, Any]) -> str:
    if s["state"] == COMPLETE:
        return "Demo data is complete."
    if s["state"] == FAILED:
        return f"Demo data generation failed ({s['error']}); the next `video-insights serve --demo` tries again."
    if s["state"] == STOPPED:
        return "Demo data generation was stopped; the next `video-insights serve --demo` starts it again."
    if not s["phase"]:
        return "Demo data is being generated: starting…"
    return (f"Demo data is being generated ({s['phase']}): {s['step']}, "
            f"{s['rooms_done']:,} of {s['rooms_total']:,} rooms")
