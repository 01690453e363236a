"""DuckDB, chDB and PostgreSQL side by side on the same data, in one run.

    python bench/compare_engines.py --scale 0.125       # 1/8 of the large account's rooms
    python bench/compare_engines.py --scale 1           # all of it (hours on a small machine)

Takes the one-week large-account data set that bench/read_endpoints.py generated into DuckDB
(bench/results/large.duckdb, with its info file large.json; waits for it if it is being generated), a
subset of its rooms (--scale; see copy_data), and copies it into chDB (through Parquet) and into a
private PostgreSQL 15 server this script starts (through COPY, then indexes and VACUUM ANALYZE). Then,
on each engine through a real `serve` process: every REST read endpoint of read_endpoints (the same
URLs on each; median of --repeat runs after warm-up), the server's peak RSS, and sustained ingest
through the WebSocket gateway into an empty store of that engine (ingest_gateway). Prints a table
with the ratio of PostgreSQL's time to each engine's, and writes everything as JSON to --out.
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx

sys.path.insert(0, str(Path(__file__).parent))
from common import Server, load_average, machine, process_tree_rss_mb, time_endpoints
from copy_data import load_chdb, load_postgres, subset_duckdb
from ingest_gateway import measure
from read_endpoints import endpoints
from video_insights.store.pg_cluster import LocalCluster

ENGINES = ("duckdb", "chdb", "postgresql")
# The data set spans a week generated some time ago: the servers must not purge any of it meanwhile.
SERVER_ENV = {"VIDEO_INSIGHTS_RETENTION_DAYS": "60", "VIDEO_INSIGHTS_RETENTION_DAYS_GO": "60",
              "VIDEO_INSIGHTS_DASHBOARD_RETENTION_DAYS": "60", "VIDEO_INSIGHTS_DASHBOARD_RETENTION_DAYS_GO": "60"}
# PostgreSQL set up as its documentation and the usual tuning guides say for a 2-core machine with
# this much memory, its buffer cache the size of DuckDB's memory limit (2 GB). fsync is off in the
# private cluster (pg_cluster), and WAL is minimal (the bulk load's COPY and index builds then write
# none: the full account's samples would otherwise pass through WAL too), which can only favour
# PostgreSQL's loads and ingest; reads are the same.
POSTGRES_SETTINGS = {"shared_buffers": "2GB", "effective_cache_size": "8GB", "work_mem": "64MB",
                     "maintenance_work_mem": "1GB", "random_page_cost": "1.1", "effective_io_concurrency": "200",
                     "max_parallel_workers_per_gather": "2", "max_wal_size": "2GB", "jit": "off",
                     "wal_level": "minimal", "max_wal_senders": "0"}


def wait_for(info: Path, minutes: float) -> dict[str, Any]:
    deadline = time.time() + minutes * 60
    while not info.exists():
        if time.time() > deadline:
            raise SystemExit(f"{info} did not appear within {minutes} minutes (is the data set generated?)")
        time.sleep(10)
    return dict(json.loads(info.read_text()))


def read_timings(store: str, auth: tuple[str, str], urls: dict[str, str] | None, repeat: int,
                 pg: LocalCluster | None = None) -> dict[str, Any]:
    """Every endpoint timed on one engine; the URLs are chosen on the first engine and reused."""
    server = Server(store, SERVER_ENV)
    try:
        with httpx.Client(base_url=server.url, auth=auth, timeout=300) as client:
            chosen = urls if urls is not None else endpoints(client)
            store_ms: dict[str, float] = {}
            timings = time_endpoints(client, chosen, repeat, store_ms)
        out: dict[str, Any] = {"urls": chosen, "timings_ms": timings, "store_ms": store_ms,
                               "server_peak_rss_mb": round(server.rss_mb())}
        if pg is not None and pg.proc is not None:
            out["postgres_rss_mb"] = round(process_tree_rss_mb(pg.proc.pid))
        return out
    finally:
        server.stop()


def table(results: dict[str, dict[str, Any]], key: str = "timings_ms") -> str:
    """Markdown: each engine's median, and PostgreSQL's time over each other engine's when it ran;
    `key` "store_ms" for the time the store's reads took inside the server (its Server-Timing)."""
    engines = list(results)
    faster = [e for e in engines if e != "postgresql"] if "postgresql" in engines else []
    names = list(next(iter(results.values()))[key])
    lines = ["| endpoint | " + " | ".join(f"{e} ms" for e in engines) + " |"
             + "".join(f" PostgreSQL ÷ {e} |" for e in faster),
             "|---" * (1 + len(engines) + len(faster)) + "|"]
    for n in names:
        ms = {e: results[e][key][n] for e in engines}
        ratios = "".join(f" {ms['postgresql'] / ms[e]:.1f}× |" if ms[e] else " – |" for e in faster)
        lines.append(f"| {n} | " + " | ".join(f"{ms[e]}" for e in engines) + " |" + ratios)
    return "\n".join(lines)


def load_and_read(args: argparse.Namespace, engines: list[str], source: Path, work: Path,
                  pg: LocalCluster | None, result: dict[str, Any]) -> None:
    """Copy the source (or its subset) into each engine, then time every read endpoint on each."""
    info = wait_for(source.with_suffix(".json"), args.wait_minutes)
    auth = (str(info["account_sid"]), str(info["auth_token"]))
    duck = source
    if args.scale < 1:
        started = time.time()
        duck = work / "subset.duckdb"
        result["rows"] = subset_duckdb(source, duck, args.scale)
        result["load_seconds"]["duckdb subset"] = round(time.time() - started, 1)
        print(f"subset: {result['rows']}", file=sys.stderr)
    stores = {"duckdb": f"duckdb:///{duck}"}
    if "chdb" in engines:
        started = time.time()
        result["load_seconds"]["chdb_tables"] = load_chdb(duck, work / "chdb", work)
        result["load_seconds"]["chdb"] = round(time.time() - started, 1)
        stores["chdb"] = f"chdb://{work / 'chdb'}"
        print(f"chdb loaded in {result['load_seconds']['chdb']} s", file=sys.stderr)
    if pg is not None:
        url = pg.database("bench")
        started = time.time()
        result["load_seconds"]["postgresql_tables"] = load_postgres(duck, url, work)
        result["load_seconds"]["postgresql"] = round(time.time() - started, 1)
        stores["postgresql"] = url
        print(f"postgresql loaded in {result['load_seconds']['postgresql']} s", file=sys.stderr)
    urls = None  # chosen on DuckDB (always timed: it is the reference), the same on the others
    for engine in ["duckdb", *[e for e in engines if e != "duckdb"]]:
        reads = read_timings(stores[engine], auth, urls, args.repeat, pg if engine == "postgresql" else None)
        urls = reads["urls"]
        result["reads"][engine] = reads
        print(f"{engine}: {json.dumps(reads['timings_ms'])}", file=sys.stderr)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--source", type=Path, default=Path("bench/results/large.duckdb"))
    ap.add_argument("--scale", type=float, default=0.125, help="fraction of the rooms (by room_key), e.g. 0.125")
    ap.add_argument("--engines", default=",".join(ENGINES))
    ap.add_argument("--repeat", type=int, default=9)
    ap.add_argument("--wait-minutes", type=float, default=120, help="for the source's info file")
    ap.add_argument("--ingest-seconds", type=float, default=20, help="0 skips the ingest runs")
    ap.add_argument("--ingest-only", action="store_true", help="skip the copies and the reads")
    ap.add_argument("--connections", type=int, default=500)
    ap.add_argument("--rate", type=float, default=12_000)
    ap.add_argument("--work", type=Path, default=Path(tempfile.gettempdir()),
                    help="where the copies go (removed afterwards)")
    ap.add_argument("--out", type=Path, default=None, help="JSON results (default bench/results/compare-SCALE.json)")
    args = ap.parse_args()
    engines = [e for e in args.engines.split(",") if e]
    if not 0 < args.scale <= 1 or not set(engines) <= set(ENGINES):
        raise SystemExit(f"--scale must be in (0, 1] and --engines a subset of {','.join(ENGINES)}")
    source = args.source.resolve()
    work = Path(tempfile.mkdtemp(prefix="vi-compare-", dir=args.work))
    work.chmod(0o755)  # PostgreSQL's server reads the CSV files from here
    result: dict[str, Any] = {"scale": args.scale, "source": str(source), "load_average_start": load_average(),
                              "machine": machine(), "load_seconds": {}, "reads": {}, "ingest": {}}
    pg = LocalCluster(settings=POSTGRES_SETTINGS, base=str(work)) if "postgresql" in engines else None
    try:
        if pg is not None:
            pg.start()
        if not args.ingest_only:
            load_and_read(args, engines, source, work, pg, result)
        if args.ingest_seconds > 0:
            for engine in engines:
                if engine == "postgresql":
                    assert pg is not None
                    empty = pg.database("ingest")
                else:
                    empty = {"duckdb": f"duckdb:///{work}/ingest.duckdb", "chdb": f"chdb://{work}/ingest-chdb"}[engine]
                result["ingest"][engine] = measure(empty, args.connections, args.ingest_seconds, args.rate,
                                                   SERVER_ENV)
                print(f"ingest {engine}: {result['ingest'][engine]}", file=sys.stderr)
    finally:
        if pg is not None:
            pg.stop()
        shutil.rmtree(work, ignore_errors=True)
    result["load_average_end"] = load_average()
    out = args.out or Path(f"bench/results/compare-{args.scale:g}.json")
    out.write_text(json.dumps(result, indent=2))
    if result["reads"]:
        print("End to end (HTTP):")
        print(table(result["reads"]))
        print("The store's reads inside the server (Server-Timing):")
        print(table(result["reads"], "store_ms"))
    for engine, r in result["ingest"].items():
        print(f"ingest {engine}: {r['events_per_s_stored']} events/s stored, server peak RSS "
              f"{r['server_peak_rss_mb']} MB")
    print(f"results: {out}")


if __name__ == "__main__":
    main()
