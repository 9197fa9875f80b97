"""`make demo`: seed the demo CRM and run the pipelines end to end, in process, on DuckDB.

Runs, in order, every stage DAG that exists: crm_extract_load (first full load), a simulated week
of CRM activity (demo_crm_simulate) and the incremental load, then quality, KPIs, packs and the
bulk-update plan. No credentials, no network, no services.
"""

from __future__ import annotations

import argparse
import logging
import shutil
import sys
import time

# Downstream stage DAGs in dependency order, with the conf an unattended demo run needs.
STAGES_AFTER_LOAD = {
    "crm_data_quality": {},
    "kpi_transforms": {},
    "report_packs": {},
    # Unattended: build the plan and print its summary; approving is a person's step (README).
    "crm_bulk_update": {"plan_type": "fix_forecast_category", "approval_channel": "build_only",
                        "requester": "make-demo", "reason": "make demo: forecast categories off policy"},
}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--size", default="small", help="demo size: small | medium | large | N opportunities")
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--days", type=int, default=7, help="days of CRM activity to simulate between loads")
    parser.add_argument("--keep", action="store_true", help="keep the existing demo CRM and warehouse")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")

    from salesops import paths
    from salesops.runner import dag_ids, run_dag
    from salesops.sources.demo import DemoCrm
    from salesops.sources.tasks import parse_size
    from salesops.warehouse import Warehouse

    t0 = time.perf_counter()
    data, out = paths.data_dir(), paths.output_dir()
    if not args.keep:
        for p in (data / "warehouse.duckdb", data / "warehouse.duckdb.wal", data / "landing"):
            if p.is_dir():
                shutil.rmtree(p)
            elif p.exists():
                p.unlink()
        print(f"Seeding the demo CRM (size={args.size}, seed={args.seed}) ...", flush=True)
        crm = DemoCrm.seed(size=parse_size(args.size), seed=args.seed)
    else:
        crm = DemoCrm()
    print(f"Demo CRM at {crm.path}; clock {crm.server_time():%Y-%m-%d %H:%M} UTC", flush=True)

    available = set(dag_ids())
    print("Running crm_extract_load (full load) ...", flush=True)
    run_dag("crm_extract_load", {"source": "demo"})
    if args.days:
        print(f"Running demo_crm_simulate ({args.days} days of activity) ...", flush=True)
        run_dag("demo_crm_simulate", {"days": args.days})
        print("Running crm_extract_load (incremental) ...", flush=True)
        run_dag("crm_extract_load", {"source": "demo"})
    for dag_id, conf in STAGES_AFTER_LOAD.items():
        if dag_id in available:
            print(f"Running {dag_id} ...", flush=True)
            run_dag(dag_id, conf)

    wh = Warehouse()
    print()
    print("Loads (ops.load_audit):")
    rows = wh.query(
        "select object, count(*) as batches, sum(rows_read) as read, sum(rows_inserted) as inserted, "
        "sum(rows_updated) as updated, sum(rows_deleted) as deleted, sum(rows_rejected) as rejected "
        "from ops.load_audit where status = 'loaded' group by object order by object"
    )
    print(f"  {'object':<28}{'batches':>8}{'read':>9}{'inserted':>10}{'updated':>9}{'deleted':>9}{'rejected':>10}")
    for r in rows:
        print(f"  {r['object']:<28}{r['batches']:>8}{r['read']:>9}{r['inserted']:>10}{r['updated']:>9}"
              f"{r['deleted']:>9}{r['rejected']:>10}")
    print()
    print(f"Warehouse:   {wh.path}  (open it with: duckdb {wh.path})")
    print(f"Demo CRM:    {crm.path}")
    print(f"Quarantine:  {wh.scalar('select count(*) from ops.quarantine')} rows in ops.quarantine")
    print(f"Outputs:     {out}")
    import os

    print(f"Task logs:   {os.environ.get('AIRFLOW_HOME', '~/airflow')}/logs")
    print(f"Done in {time.perf_counter() - t0:.0f} s.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
