"""`make run`: the whole chain on your own CRM export and policy overlay, in process.

    make run SOURCE=csv CSV_FOLDER=/data/exports/2026-11-20 CONFIG_DIR=/data/salesops-config

Runs crm_extract_load, crm_data_quality, kpi_transforms and report_packs (company-wide slice) with
``dag.test()``, then prints the same summary `make demo` prints. Exit status 1 when the quality
gate holds (nothing downstream runs: no KPI or pack is published on data that failed a blocker),
2 on bad arguments. Writes only to ``SALESOPS_DATA_DIR`` / ``SALESOPS_OUTPUT_DIR`` (the Makefile
defaults them to runs/data and runs/out) and refuses a data folder that holds the demo CRM.
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
import time
from typing import Any

PACKS = ["weekly_pipeline_inspection", "forecast_hygiene", "dq_scorecard", "routing_sla", "quarter_end"]


def run_chain(
    source: str,
    csv_folder: str | None = None,
    column_map: str | None = None,
    source_conn_id: str | None = None,
    packs: list[str] | None = None,
) -> int:
    """Run the chain; print the summary; 0 = published, 1 = the quality gate held."""
    from salesops import paths
    from salesops.runner import DagRunFailed, run_dag
    from salesops.warehouse import Warehouse
    from scripts.demo import _print_downstream

    data, out = paths.data_dir(), paths.output_dir()
    if (data / "demo_crm.duckdb").exists():
        print(
            f"refusing to run on {data}: it holds the demo CRM. Set SALESOPS_DATA_DIR (make run DATA_DIR=...) "
            "to a folder of your own",
            file=sys.stderr,
        )
        return 2
    if source == "csv" and not csv_folder:
        print("make run SOURCE=csv needs CSV_FOLDER=<export folder>", file=sys.stderr)
        return 2
    t0 = time.perf_counter()
    conf: dict[str, Any] = {"source": source}
    if csv_folder:
        conf["csv_folder"] = str(csv_folder)
    if column_map:
        conf["csv_column_map"] = str(column_map)
    if source_conn_id:
        conf["source_conn_id"] = source_conn_id
    overlay = os.environ.get("SALESOPS_CONFIG_DIR")
    print(f"Policy: include/config{' + overlay ' + overlay if overlay else ' (no overlay)'}", flush=True)
    print(f"Running crm_extract_load ({source}) ...", flush=True)
    run_dag("crm_extract_load", conf)
    print("Running crm_data_quality ...", flush=True)
    held = False
    try:
        run_dag("crm_data_quality")
    except DagRunFailed:
        held = True
    if not held:
        print("Running kpi_transforms ...", flush=True)
        run_dag("kpi_transforms")
        print("Running report_packs ...", flush=True)
        run_dag("report_packs", {"packs": packs or PACKS, "scope": "all"})
    wh = Warehouse()
    print("\nLoads (ops.load_audit):")
    for r in wh.query(
        "select object, sum(rows_read) as read, sum(rows_inserted) as inserted, sum(rows_updated) as updated, "
        "sum(rows_deleted) as deleted, sum(rows_rejected) as rejected from ops.load_audit "
        "where status = 'loaded' and rows_read > 0 group by object order by object"
    ):
        print(
            f"  {r['object']:<28}read {r['read']:>7}  inserted {r['inserted']:>7}  updated {r['updated']:>7}  "
            f"deleted {r['deleted']:>5}  rejected {r['rejected']:>5}"
        )
    _print_downstream(wh, out)
    if held:
        msg = wh.scalar("select gate_message from quality.run order by started_at desc limit 1")
        print(f"\nQUALITY GATE HELD - nothing downstream was published:\n  {msg}")
    print(f"\nWarehouse: {wh.path}\nOutputs:   {out}")
    print("Results:   PYTHONPATH=plugins .venv/bin/python -m salesops metrics --json (quality --json)")
    print(f"Done in {time.perf_counter() - t0:.0f} s.")
    return 1 if held else 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--source", default="csv", help="csv | salesforce | hubspot | marketo | demo")
    parser.add_argument("--csv-folder")
    parser.add_argument("--column-map")
    parser.add_argument("--conn-id", help="Airflow connection id of an API source")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    return run_chain(args.source, args.csv_folder, args.column_map, args.conn_id)


if __name__ == "__main__":
    code = main()
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)
