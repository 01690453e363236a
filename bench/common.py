"""Shared by the benchmarks: start a real server process, describe the machine, time things."""

from __future__ import annotations

import json
import os
import platform
import re
import socket
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx


def machine() -> dict[str, Any]:
    mem_kb = next(int(line.split()[1]) for line in Path("/proc/meminfo").read_text().splitlines()
                  if line.startswith("MemTotal"))
    cpu = next((line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text().splitlines()
                if line.startswith("model name")), platform.processor())
    import duckdb

    return {"cpu": cpu, "cores": os.cpu_count(), "memory_gb": round(mem_kb / 1024 / 1024, 1),
            "python": platform.python_version(), "duckdb": duckdb.__version__, "os": platform.platform()}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def cli(store: str, *args: str) -> Any:
    out = subprocess.run([sys.executable, "-m", "video_insights", *args, "--store", store],
                         check=True, capture_output=True, text=True)
    return json.loads(out.stdout)


class Server:
    """`video-insights serve` in its own process, stopped by PID when done."""

    def __init__(self, store: str, env: dict[str, str] | None = None) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "video_insights", "serve", "--store", store, "--port", str(self.port)],
            env={**os.environ, "VIDEO_INSIGHTS_LOG_LEVEL": "warning", **(env or {})})
        deadline = time.time() + 60
        while True:
            try:
                if httpx.get(self.url + "/healthz", timeout=1).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            if time.time() > deadline or self.proc.poll() is not None:
                self.stop()
                raise RuntimeError("server did not start")
            time.sleep(0.2)

    def rss_mb(self) -> float:
        status = Path(f"/proc/{self.proc.pid}/status").read_text()
        return next(int(line.split()[1]) for line in status.splitlines() if line.startswith("VmHWM")) / 1024

    def cpu_seconds(self) -> float:
        """User and system CPU time the server process has used so far (all its threads)."""
        fields = Path(f"/proc/{self.proc.pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

    def stop(self) -> None:
        self.proc.terminate()
        try:
            self.proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.proc.kill()


def median_ms(fn: Callable[[], Any], repeat: int = 15, warmup: int = 2) -> float:
    for _ in range(warmup):
        fn()
    times = []
    for _ in range(repeat):
        t = time.perf_counter()
        fn()
        times.append((time.perf_counter() - t) * 1000)
    return statistics.median(times)


STORE_TIMING = re.compile(r"store;dur=([0-9.]+)")


def time_endpoints(client: httpx.Client, urls: dict[str, str], repeat: int,
                   store_ms: dict[str, float] | None = None) -> dict[str, float]:
    """Median ms of each GET (after warm-up); a failing request stops the run. With `store_ms`, also
    the median of what the server's `Server-Timing` says its store's reads took, by name."""
    timings = {}
    for name, url in urls.items():
        spent: list[float] = []

        def call(u: str = url, spent: list[float] = spent) -> None:
            r = client.get(u)
            r.raise_for_status()
            found = STORE_TIMING.search(r.headers.get("server-timing", ""))
            if found:
                spent.append(float(found.group(1)))
        timings[name] = round(median_ms(call, repeat=repeat), 1)
        if store_ms is not None and spent:
            store_ms[name] = round(statistics.median(spent[-repeat:]), 2)
    return timings


def load_average() -> str:
    return " ".join(Path("/proc/loadavg").read_text().split()[:3])


def process_tree_rss_mb(pid: int) -> float:
    """Memory of a process and its children now (PostgreSQL's server processes): private memory of
    each, plus the largest shared (shared_buffers) once."""
    children = [pid]
    for status in Path("/proc").glob("[0-9]*/status"):
        try:
            fields = dict(line.split(":", 1) for line in status.read_text().splitlines() if ":" in line)
        except OSError:
            continue
        if int(fields.get("PPid", "0").strip()) == pid:
            children.append(int(status.parent.name))
    private = shared = 0
    for p in children:
        try:
            fields = dict(line.split(":", 1) for line in Path(f"/proc/{p}/status").read_text().splitlines()
                          if ":" in line)
        except OSError:
            continue
        private += int(fields.get("RssAnon", "0 kB").split()[0])
        shared = max(shared, int(fields.get("RssShmem", "0 kB").split()[0]))
    return (private + shared) / 1024
