"""Benchmark: the project's load path vs DuckDB's raw ingest of the same data.

Generates N opportunities with the demo CRM (default 1,000,000), extracts them (landing Parquet),
then measures, each in a fresh process so peak memory is per phase:

- ``load``: the project's load path (raw insert as text + typing + quarantine + merge into
  staging + audit), :func:`salesops.ingest.load.load_batch`, on an empty warehouse;
- ``reload``: the same batch loaded again on top (all rows already present: the MERGE path);
- ``raw_ingest``: DuckDB alone, ``CREATE TABLE AS SELECT * FROM read_parquet(...)`` of the same files.

Prints rows/s for each and the ratio load / raw_ingest (target >= 0.5), plus peak RSS.

    .venv/bin/python bench/load_opportunities.py [--rows 1000000] [--workdir bench/results]
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT / "plugins"), str(ROOT)]


def _peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def phase(name: str, workdir: Path) -> dict:
    os.environ["SALESOPS_DATA_DIR"] = str(workdir)
    batch_file = workdir / "batch.json"
    t0 = time.perf_counter()
    if name == "seed":
        from salesops_demo import DemoCrm

        rows = int(os.environ["BENCH_ROWS"])
        DemoCrm.seed(size=rows, seed=42, path=workdir / "demo_crm.duckdb")
        return {"phase": name, "rows": rows, "seconds": time.perf_counter() - t0, "peak_mb": _peak_mb()}
    if name == "extract":
        from salesops.ingest.extract import extract_batch
        from salesops.warehouse import Warehouse
        from salesops_demo import DemoCrm

        wh = Warehouse(f"duckdb:///{workdir / 'extract_state.duckdb'}")
        batch = extract_batch(DemoCrm(workdir / "demo_crm.duckdb"), "opportunity", wh, full_refresh=True)
        batch_file.write_text(json.dumps(batch.to_dict()))
        return {
            "phase": name,
            "rows": batch.rows_read,
            "seconds": time.perf_counter() - t0,
            "peak_mb": _peak_mb(),
        }
    if name in ("load", "reload"):
        from salesops.ingest.batches import Batch
        from salesops.ingest.load import load_batch
        from salesops.warehouse import Warehouse

        if name == "load":
            for f in workdir.glob("warehouse.duckdb*"):
                f.unlink()
        wh = Warehouse(f"duckdb:///{workdir / 'warehouse.duckdb'}")
        batch = Batch.from_dict(json.loads(batch_file.read_text()))
        t0 = time.perf_counter()
        res = load_batch(wh, batch)
        secs = time.perf_counter() - t0
        return {
            "phase": name,
            "rows": res.rows_read,
            "seconds": secs,
            "peak_mb": _peak_mb(),
            "inserted": res.rows_inserted,
            "updated": res.rows_updated,
            "unchanged": res.rows_unchanged,
            "rejected": res.rows_rejected,
        }
    if name == "raw_ingest":
        import duckdb

        batch = json.loads(batch_file.read_text())
        target = workdir / "raw_ingest.duckdb"
        for f in workdir.glob("raw_ingest.duckdb*"):
            f.unlink()
        con = duckdb.connect(str(target))
        t0 = time.perf_counter()
        con.execute(f"create table t as select * from read_parquet('{batch['landing_path']}/part-*.parquet')")
        n = con.execute("select count(*) from t").fetchone()[0]
        secs = time.perf_counter() - t0
        con.close()
        return {"phase": name, "rows": n, "seconds": secs, "peak_mb": _peak_mb()}
    raise SystemExit(f"unknown phase {name}")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--workdir", default=str(ROOT / "bench" / "results" / "load"))
    parser.add_argument("--phase")
    parser.add_argument("--reuse", action="store_true", help="keep a demo CRM already seeded in --workdir")
    args = parser.parse_args()
    workdir = Path(args.workdir)
    if args.phase:
        print(json.dumps(phase(args.phase, workdir)))
        return
    workdir.mkdir(parents=True, exist_ok=True)
    env = dict(os.environ, BENCH_ROWS=str(args.rows))
    results = {}
    phases = ["seed", "extract", "load", "reload", "raw_ingest"]
    if args.reuse and (workdir / "demo_crm.duckdb").exists():
        phases.remove("seed")
    for name in phases:
        out = subprocess.run(
            [sys.executable, __file__, "--phase", name, "--workdir", str(workdir)],
            env=env,
            capture_output=True,
            text=True,
            check=False,
        )
        if out.returncode:
            raise SystemExit(f"phase {name} failed:\n{out.stderr[-4000:]}")
        results[name] = json.loads(out.stdout.strip().splitlines()[-1])
        r = results[name]
        print(
            f"{name:<11} {r['rows']:>9,} rows  {r['seconds']:7.2f} s  {r['rows'] / r['seconds']:>12,.0f} rows/s"
            f"  peak {r['peak_mb']:,.0f} MB",
            flush=True,
        )
    ratio = (results["load"]["rows"] / results["load"]["seconds"]) / (
        results["raw_ingest"]["rows"] / results["raw_ingest"]["seconds"]
    )
    print(f"load path / DuckDB raw ingest = {ratio:.0%} (target >= 50%)")
    (workdir / "summary.json").write_text(json.dumps({"results": results, "ratio": ratio}, indent=2))


if __name__ == "__main__":
    main()
