"""Benchmark: render every slice of every pack (all audiences) on a built warehouse and check it.

    SALESOPS_DATA_DIR=/path/with/warehouse.duckdb SALESOPS_OUTPUT_DIR=/tmp/packs_bench \
        python bench/packs_render.py [--packs weekly_pipeline_inspection,dq_scorecard] [--no-pdf]

The warehouse must hold loaded staging, a quality run and the KPI marts (``make demo`` builds them).
Prints seconds per slice (render + pack checks) and the totals per pack.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "plugins"))

from salesops.packs.checks import check_pack, quality_gate  # noqa: E402
from salesops.packs.config import load_packs  # noqa: E402
from salesops.packs.render import render_pack  # noqa: E402
from salesops.warehouse import Warehouse  # noqa: E402


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--packs", default=",".join(load_packs()))
    ap.add_argument("--no-pdf", action="store_true")
    args = ap.parse_args()
    wh = Warehouse()
    print(quality_gate(wh).reason)
    formats = ("html", "xlsx", "csv") if args.no_pdf else ("html", "pdf", "xlsx", "csv")
    grand = time.perf_counter()
    for name in args.packs.split(","):
        spec = load_packs()[name]
        t_pack, n, failed = time.perf_counter(), 0, 0
        for aud in spec.audiences:
            values = aud.values or [
                str(v)
                for v in wh.query_file(
                    "packs/scope_values.sql",
                    column={"region": "region", "team": "team", "owner": "id"}[aud.scope],
                )["scope_value"]
            ]
            for value in values:
                t = time.perf_counter()
                r = render_pack(wh, name, aud.scope, value, formats=formats)
                ok = check_pack(wh, r).passed
                n, failed = n + 1, failed + (not ok)
                print(
                    f"  {name:28s} {aud.scope}={value:10s} {time.perf_counter() - t:5.2f} s  checks {'ok' if ok else 'FAILED'}"
                )
        print(f"{name}: {n} slices in {time.perf_counter() - t_pack:.1f} s ({failed} failed checks)")
    print(f"total {time.perf_counter() - grand:.1f} s")


if __name__ == "__main__":
    main()
