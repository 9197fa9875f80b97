"""Benchmark: first sync of N opportunities through the fake Salesforce org, Bulk API 2.0 vs REST.

The fake org (tests/fakes/salesforce_api.py) runs in its own process on 127.0.0.1 with N
opportunities (default 1,000,000). Each path then runs in a fresh process so its peak RSS is its
own: ``SalesforceVolumeSource`` + ``extract_batch`` (landing Parquet) + ``load_batch`` (DuckDB
staging), once with the Bulk path (threshold 50,000, 100,000 records a result page) and once with
REST only (2,000 records a page). Reported per path: wall time, records/s, data API calls (the
source's own count, checked against the fake's), peak RSS of the client process.

Targets (issue 13): Bulk uses >= 10x fewer API calls than REST, and peak RSS < 1 GiB.

    .venv/bin/python bench/salesforce_bulk_vs_rest.py [--rows 1000000] [--workdir bench/results/sf]
"""

from __future__ import annotations

import argparse
import json
import multiprocessing as mp
import resource
import shutil
import sys
import time
from datetime import timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT / "plugins"), str(ROOT)]


def serve(rows: int, ready: mp.Queue, stop: mp.Event) -> None:  # type: ignore[valid-type]
    """The fake org's process: seed, publish url + token, serve until told to stop."""
    from tests.fakes.fixtures import OPPORTUNITY_FIELDS, T0, opportunity
    from tests.fakes.salesforce_api import FakeSalesforce

    fake = FakeSalesforce(clock=T0 + timedelta(days=60), api_max=10_000_000)
    fake.copy_snapshots = False
    fake.add_object("Opportunity", OPPORTUNITY_FIELDS, id_prefix="006")
    batch = []
    for i in range(rows):
        stamp = T0 + timedelta(seconds=i % 86_400 * 50)
        batch.append(opportunity(i, stamp, SystemModstamp=stamp.strftime("%Y-%m-%dT%H:%M:%S.000+0000")))
        if len(batch) == 50_000:
            fake.insert("Opportunity", batch)
            batch = []
    fake.insert("Opportunity", batch)
    fake.start()
    token = fake.issue_token()
    ready.put((fake.url, token))
    while not stop.wait(0.5):
        pass
    fake.stop()


def run_path(path: str, url: str, token: str, workdir: Path, out: mp.Queue) -> None:  # type: ignore[valid-type]
    import os

    os.environ["SALESOPS_DATA_DIR"] = str(workdir)
    from salesops.ingest.extract import extract_batch
    from salesops.ingest.load import load_batch
    from salesops.sources.salesforce import SalesforceClient
    from salesops.sources.salesforce_bulk import SalesforceVolumeSource
    from salesops.warehouse import Warehouse

    client = SalesforceClient(url, access_token=token)
    threshold = 50_000 if path == "bulk" else 10**12
    src = SalesforceVolumeSource(client, bulk_threshold=threshold, bulk_page_records=100_000)
    wh = Warehouse(f"duckdb:///{workdir / 'warehouse.duckdb'}")
    t0 = time.perf_counter()
    batch = extract_batch(src, "opportunity", wh, landing_root=workdir / "landing")
    t1 = time.perf_counter()
    result = load_batch(wh, batch)
    t2 = time.perf_counter()
    staged = wh.scalar("select count(*) from staging.stg_crm__opportunity")
    wh.dispose()
    out.put(
        {
            "path": path,
            "method": src.methods.get("Opportunity"),
            "rows_read": batch.rows_read,
            "rows_staged": int(staged),
            "rows_inserted": result.rows_inserted,
            "extract_s": round(t1 - t0, 1),
            "load_s": round(t2 - t1, 1),
            "records_per_s_extract": round(batch.rows_read / (t1 - t0)),
            "api_calls": src.api_calls,
            "peak_rss_mib": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024),
        }
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--workdir", type=Path, default=ROOT / "bench" / "results" / "sf")
    args = parser.parse_args()
    ctx = mp.get_context("spawn")
    ready, stop = ctx.Queue(), ctx.Event()
    t0 = time.perf_counter()
    server = ctx.Process(target=serve, args=(args.rows, ready, stop), daemon=True)
    server.start()
    try:
        url, token = ready.get(timeout=1800)
        print(
            f"fake org with {args.rows:,} opportunities ready in {time.perf_counter() - t0:.0f} s", flush=True
        )
        results = []
        for path in ("bulk", "rest"):
            workdir = args.workdir / path
            shutil.rmtree(workdir, ignore_errors=True)
            workdir.mkdir(parents=True)
            out = ctx.Queue()
            proc = ctx.Process(target=run_path, args=(path, url, token, workdir, out))
            proc.start()
            res = out.get(timeout=3600)
            proc.join()
            print(json.dumps(res), flush=True)
            results.append(res)
            shutil.rmtree(workdir / "landing", ignore_errors=True)
    finally:
        stop.set()
        server.join(timeout=30)
        if server.is_alive():
            server.kill()
    bulk, rest = results
    summary = {
        "rows": args.rows,
        "results": results,
        "calls_ratio_rest_over_bulk": round(rest["api_calls"] / bulk["api_calls"], 1),
        "target_calls_ratio_ge_10": rest["api_calls"] >= 10 * bulk["api_calls"],
        "target_bulk_peak_rss_lt_1GiB": bulk["peak_rss_mib"] < 1024,
    }
    args.workdir.mkdir(parents=True, exist_ok=True)
    (args.workdir / "summary.json").write_text(json.dumps(summary, indent=2))
    print(json.dumps(summary, indent=2))


if __name__ == "__main__":
    main()
