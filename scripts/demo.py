"""`make demo`: seed the demo CRM and run the pipelines end to end, in process, on DuckDB.

Runs, in order, every stage DAG that exists: crm_extract_load (first full load), a simulated week
of CRM activity (demo_crm_simulate) and the incremental load, then quality, KPIs, packs and the
bulk-update plan. No credentials, no network, no services.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import shutil
import sys
import time

from salesops.packs.names import PACKS

# Downstream stage DAGs in dependency order, with the conf an unattended demo run needs.
STAGES_AFTER_LOAD = {
    "crm_data_quality": {},
    "kpi_transforms": {},
    # Every pack, company-wide slice ('' would render every audience: regions, teams).
    "report_packs": {
        "packs": list(PACKS),
        "scope": "all",
    },
    # Unattended: build the plan and print its summary; approving is a person's step (README).
    # record_limit (set in main() to the plan type's max_records) splits the large demo's plan the
    # way an analyst would: the first records now, the rest in later plans.
    "crm_bulk_update": {
        "plan_type": "fix_forecast_category",
        "approval_channel": "build_only",
        "reason": "make demo: forecast categories off policy",
    },
}


def _print_downstream(wh, out) -> None:
    """What the quality, KPI, pack and bulk-update stages produced, if they ran."""
    if wh.table_exists("quality.run"):
        q = wh.query("select * from quality.run order by started_at desc limit 1")
        if q:
            r = q[0]
            gate = "PASSED" if r["gate_passed"] else "FAILED"
            open_exc = (
                wh.scalar("select count(*) from quality.exception_queue where status = 'open'")
                if wh.table_exists("quality.exception_queue")
                else "?"
            )
            print(
                f"\nData quality (as of {r['as_of']:%Y-%m-%d %H:%M}): gate {gate}; "
                f"{r['blockers_failed']} blocker and {r['warns_failed']} warn checks failed; "
                f"{open_exc} open exceptions (quality.exception_queue)"
            )
            if r.get("data_docs_path"):
                print(f"  Data Docs: {r['data_docs_path']}")
    if wh.table_exists("marts.kpi_context"):
        n = wh.scalar("select count(*) from information_schema.tables where table_schema = 'marts'")
        print(
            f"\nKPI marts: {n} tables in schema marts; definitions: docs/glossary.md and {out / 'glossary.html'}"
        )
    if wh.table_exists("quality.anomaly"):
        rows = wh.query(
            "select anomaly_id, severity, series, scope_type, scope_value, ticket_path from quality.anomaly "
            "where status = 'open' order by severity, series"
        )
        print(f"\nMonitoring: {len(rows)} open anomalies (quality.anomaly)")
        for r in rows:
            print(f"  {r['anomaly_id']} [{r['severity']}] {r['series']} {r['scope_type']}={r['scope_value']}")
            if r["ticket_path"]:
                print(f"    ticket draft: {r['ticket_path']}")
    if wh.table_exists("ops.pack_delivery_log"):
        print("\nReport packs (ops.pack_delivery_log):")
        for r in wh.query(
            "select pack, scope_value, channel, status, recipient from ops.pack_delivery_log "
            "order by pack, channel"
        ):
            print(f"  {r['pack']:<28}{r['scope_value']:<8}{r['channel']:<7}{r['status']:<9}{r['recipient']}")
    if wh.table_exists("ops.bulk_update_plan"):
        for r in wh.query(
            "select plan_id, plan_type, record_count, status, content_hash, scope "
            "from ops.bulk_update_plan order by created_at desc limit 1"
        ):
            split = (json.loads(r["scope"] or "{}") or {}).get("record_limit") or {}
            left = split.get("left_for_later_plans") or 0
            shown = (
                f" (the first {split['taken_records']} of {split['eligible_records']} by record id, record_limit "
                f"{split['limit']}: {left} left for later plans)"
                if left
                else ""
            )
            print(
                f"\nBulk-update plan {r['plan_id']} ({r['plan_type']}): {r['record_count']} records{shown}, "
                f"status {r['status']}; nothing is written to the CRM until someone approves it:"
            )
            print(f"  full plan: {out / 'bulk_updates' / r['plan_id']}/plan.html (and plan_rows.csv/.xlsx)")
            conf = json.dumps({"plan_id": r["plan_id"], "approval_channel": "ui"})
            print(
                f"  approve:   trigger crm_bulk_update with {conf} as yourself, then a second person "
                "approves in Required actions (README: Bulk updates), or with their own Airflow login:"
            )
            print(
                f"             PYTHONPATH=plugins .venv/bin/python -m salesops.bulk_update approve "
                f"--plan-id {r['plan_id']} --hash {r['content_hash']}"
            )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--size", default="small", help="demo size: small | medium | large | N opportunities")
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--days", type=int, default=7, help="days of CRM activity to simulate between loads")
    parser.add_argument("--keep", action="store_true", help="keep the existing demo CRM and warehouse")
    parser.add_argument(
        "--incident",
        action="append",
        default=[],
        help="switch a demo incident on after seeding (routing_gap | lead_sync_drop | commit_jump; "
        "repeatable; use with --days 0 so the KPI run sees the incident's week)",
    )
    parser.add_argument(
        "--currencies",
        default=None,
        help="multi-currency mode (issue 13): re-price the demo org in these currencies besides the "
        "corporate one, e.g. EUR,GBP (rates: include/config/demo.yaml currencies); default single-currency",
    )
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")

    from salesops import paths
    from salesops.runner import dag_ids, run_dag
    from salesops.warehouse import Warehouse
    from salesops_demo import DemoCrm
    from salesops_demo.tasks import parse_size

    t0 = time.perf_counter()
    data, out = paths.data_dir(), paths.output_dir()
    if not args.keep:
        for p in (data / "warehouse.duckdb", data / "warehouse.duckdb.wal", data / "landing"):
            if p.is_dir():
                shutil.rmtree(p)
            elif p.exists():
                p.unlink()
        shown = f", currencies={args.currencies}" if args.currencies else ""
        print(f"Seeding the demo CRM (size={args.size}, seed={args.seed}{shown}) ...", flush=True)
        crm = DemoCrm.seed(size=parse_size(args.size), seed=args.seed, currencies=args.currencies)
        if args.incident:
            from salesops_demo.incidents import inject

            for name in args.incident:
                print(f"Incident switched on: {inject(crm.path, name)}", flush=True)
    else:
        crm = DemoCrm()
    print(f"Demo CRM at {crm.path}; clock {crm.server_time():%Y-%m-%d %H:%M} UTC", flush=True)

    available = set(dag_ids())
    print("Running crm_extract_load (full load) ...", flush=True)
    # dag.test() runs have no logged-in user; the demo's plans are requested by "make-demo".
    os.environ.setdefault("SALESOPS_TEST_REQUESTER", "make-demo")
    run_dag("crm_extract_load", {"source": "demo"})
    if args.days:
        print(f"Running demo_crm_simulate ({args.days} days of activity) ...", flush=True)
        run_dag("demo_crm_simulate", {"days": args.days})
        print("Running crm_extract_load (incremental) ...", flush=True)
        run_dag("crm_extract_load", {"source": "demo"})
    from salesops.bulk_update.settings import load_settings

    plan_conf = STAGES_AFTER_LOAD["crm_bulk_update"]
    plan_conf["record_limit"] = load_settings().plan_type(str(plan_conf["plan_type"])).max_records
    for dag_id, conf in STAGES_AFTER_LOAD.items():
        if dag_id in available:
            print(f"Running {dag_id} ...", flush=True)
            run_dag(dag_id, conf)

    wh = Warehouse()
    print()
    print("Loads (ops.load_audit):")
    rows = wh.query(
        "select object, count(*) as batches, sum(rows_read) as read, sum(rows_inserted) as inserted, "
        "sum(rows_updated) as updated, sum(rows_deleted) as deleted, sum(rows_rejected) as rejected, "
        "coalesce(sum(rows_duplicates), 0) as duplicates "
        "from ops.load_audit where status = 'loaded' group by object order by object"
    )
    print(
        f"  {'object':<28}{'batches':>8}{'read':>9}{'inserted':>10}{'updated':>9}{'deleted':>9}{'rejected':>10}"
        f"{'duplicates':>11}"
    )
    for r in rows:
        print(
            f"  {r['object']:<28}{r['batches']:>8}{r['read']:>9}{r['inserted']:>10}{r['updated']:>9}"
            f"{r['deleted']:>9}{r['rejected']:>10}{r['duplicates']:>11}"
        )
    quarantined = wh.scalar(
        "select count(distinct batch_id || row_number) from ops.quarantine where coalesce(severity, 'error') = 'error'"
    )
    warned = wh.scalar(
        "select count(distinct batch_id || row_number) from ops.quarantine where severity = 'warning'"
    )
    print(
        f"  quarantined: {quarantined} rows, loaded with an optional field empty: {warned} rows "
        "(ops.quarantine: record id, field, value, reason, severity)"
    )
    _print_downstream(wh, out)
    print()
    print(f"Warehouse:   {wh.path}  (open it with: duckdb {wh.path})")
    print(f"Demo CRM:    {crm.path}")
    print(f"Outputs:     {out}")
    print(f"Task logs:   {os.environ.get('AIRFLOW_HOME', '~/airflow')}/logs")
    print(f"Done in {time.perf_counter() - t0:.0f} s.")
    return 0


if __name__ == "__main__":
    code = main()
    # End here: DuckDB's binding otherwise prints pages of harmless "leaked instance" lines at exit.
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)
