"""Benchmark: seed the demo CRM at a given size and page all opportunities out through read_changes.

    python bench/demo_generate.py --size 1000000 [--path /tmp/demo_1m.duckdb]

Prints seed time, peak RSS, record counts and the read_changes throughput.
"""

from __future__ import annotations

import argparse
import resource
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "plugins"))

from salesops.config import get_object  # noqa: E402
from salesops_demo import DemoCrm  # noqa: E402


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--size", default="1000000")
    ap.add_argument("--seed", type=int, default=42)
    ap.add_argument("--path", type=Path, default=Path("/tmp/demo_bench.duckdb"))
    ap.add_argument("--advance", type=int, default=0, help="also time advance(N days)")
    args = ap.parse_args()
    t = time.perf_counter()
    crm = DemoCrm.seed(args.size, seed=args.seed, path=args.path)
    seed_s = time.perf_counter() - t
    s = crm.summary()
    print(f"seed: {seed_s:.1f}s  size={s['size']:,}  file={args.path.stat().st_size / 1e6:.0f} MB")
    print("counts: " + ", ".join(f"{k} {v:,}" for k, v in s["counts"].items()))
    obj = get_object("opportunity")
    t = time.perf_counter()
    rows = sum(
        p.num_rows
        for p in crm.read_changes("Opportunity", obj.api_fields, obj.cursor, None, crm.server_time())
    )
    read_s = time.perf_counter() - t
    print(f"read_changes Opportunity: {rows:,} rows in {read_s:.1f}s ({rows / read_s:,.0f} rows/s)")
    if args.advance:
        t = time.perf_counter()
        r = crm.advance(args.advance)
        n = sum(sum(v.values()) for v in r["changes"].values())
        print(f"advance({args.advance}): {time.perf_counter() - t:.1f}s, {n:,} changes")
    print(f"peak RSS: {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MB")


if __name__ == "__main__":
    main()
