"""How each REST read endpoint's time grows with the data: the large account at 1/8, 1/4, 1/2 and all
of its rooms (≈12.5 M → 100 M intervals; nested subsets by room_key, see copy_data).

    python bench/growth.py                          # DuckDB at 0.125, 0.25, 0.5, 1
    python bench/growth.py --engines duckdb,chdb --sizes 0.125,0.25

Every size is timed with the same URLs (chosen on the smallest: its rooms and participants are in
every larger subset), through a real `serve` process, median of --repeat runs. Endpoints that read
summaries must stay flat: any of them more than --limit times slower at the largest size than at the
smallest is flagged. (The in-progress participant's metrics are computed from raw samples: not a
summary read, shown but not flagged.)
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

sys.path.insert(0, str(Path(__file__).parent))
from common import load_average, machine
from compare_engines import read_timings, wait_for
from copy_data import load_chdb, subset_duckdb

FROM_SAMPLES = "participant metrics, in progress (from samples)"


def report(sizes: list[float], timings: dict[float, dict[str, float]], limit: float) -> tuple[str, list[str]]:
    names = list(timings[sizes[0]])
    lines = ["| endpoint | " + " | ".join(f"{s:g} ms" for s in sizes) + f" | {sizes[-1]:g} ÷ {sizes[0]:g} |",
             "|---" * (len(sizes) + 2) + "|"]
    flagged = []
    for n in names:
        first, last = timings[sizes[0]][n], timings[sizes[-1]].get(n)
        growth = last / first if last is not None and first else float("nan")
        mark = ""
        if n != FROM_SAMPLES and growth > limit:
            flagged.append(n)
            mark = " **grows**"
        lines.append(f"| {n} | " + " | ".join(str(timings[s].get(n, "—")) for s in sizes)
                     + f" | {growth:.2f}×{mark} |")
    return "\n".join(lines), flagged


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--source", type=Path, default=Path("bench/results/large.duckdb"))
    ap.add_argument("--sizes", default="0.125,0.25,0.5,1")
    ap.add_argument("--engines", default="duckdb", help="duckdb and/or chdb")
    ap.add_argument("--repeat", type=int, default=9)
    ap.add_argument("--limit", type=float, default=2.0, help="flag summary endpoints growing more than this")
    ap.add_argument("--wait-minutes", type=float, default=120)
    ap.add_argument("--work", type=Path, default=Path(tempfile.gettempdir()))
    ap.add_argument("--out", type=Path, default=Path("bench/results/growth.json"))
    args = ap.parse_args()
    sizes = sorted(float(s) for s in args.sizes.split(","))
    engines = [e for e in args.engines.split(",") if e]
    if not sizes or not all(0 < s <= 1 for s in sizes) or not set(engines) <= {"duckdb", "chdb"}:
        raise SystemExit("--sizes: fractions in (0, 1]; --engines: duckdb and/or chdb")
    source = args.source.resolve()
    info = wait_for(source.with_suffix(".json"), args.wait_minutes)
    auth = (str(info["account_sid"]), str(info["auth_token"]))
    work = Path(tempfile.mkdtemp(prefix="vi-growth-", dir=args.work))
    result: dict[str, Any] = {"sizes": sizes, "source": str(source), "load_average_start": load_average(),
                              "machine": machine(), "rows": {}, "timings_ms": {e: {} for e in engines},
                              "server_peak_rss_mb": {e: {} for e in engines}}
    urls = None
    try:
        for size in sizes:
            duck = source
            if size < 1:
                started = time.time()
                duck = work / f"subset-{size:g}.duckdb"
                result["rows"][size] = subset_duckdb(source, duck, size)
                print(f"{size:g}: subset in {time.time() - started:.0f} s: {result['rows'][size]}", file=sys.stderr)
            for engine in engines:
                store = f"duckdb:///{duck}"
                if engine == "chdb":
                    load_chdb(duck, work / "chdb", work)
                    store = f"chdb://{work / 'chdb'}"
                reads = read_timings(store, auth, urls, args.repeat)
                urls = reads["urls"]
                result["timings_ms"][engine][size] = reads["timings_ms"]
                result["server_peak_rss_mb"][engine][size] = reads["server_peak_rss_mb"]
                print(f"{size:g} {engine}: {json.dumps(reads['timings_ms'])}", file=sys.stderr)
                shutil.rmtree(work / "chdb", ignore_errors=True)
            if duck != source:
                duck.unlink()
            args.out.write_text(json.dumps({**result, "urls": urls}, indent=2))  # what is done so far
    finally:
        shutil.rmtree(work, ignore_errors=True)
    result["load_average_end"] = load_average()
    args.out.write_text(json.dumps({**result, "urls": urls}, indent=2))
    for engine in engines:
        done = [s for s in sizes if s in result["timings_ms"][engine]]
        text, flagged = report(done, result["timings_ms"][engine], args.limit)
        print(f"\n{engine}\n{text}")
        print(f"summary endpoints growing more than {args.limit:g}×: {', '.join(flagged) or 'none'}")
    print(f"results: {args.out}")


if __name__ == "__main__":
    main()
