"""Benchmark the quality run at scale.

Two modes:

* **On a loaded warehouse** (the demo org, e.g. the 1 M org ``make demo DEMO_SIZE=large`` or
  bench/scale.py loads): ``--warehouse duckdb:////path/warehouse.duckdb``. Runs ``run_quality``
  once (with Data Docs unless ``--no-docs``) and prints wall, CPU seconds and peak RSS of the
  whole run plus its per-step breakdown (``RunSummary.timings``: availability, gx, sql,
  duplicates, write). For bench/scale.py (t17-bench) the same figures come from
  :func:`measure_quality` (call it in the stage's own process; it returns a JSON-friendly dict)::

      from bench.quality_scale import measure_quality
      figures = measure_quality("duckdb:////tmp/1m/warehouse.duckdb", build_docs=True)
      # {"wall_s", "cpu_s", "peak_rss_bytes", "timings": {...}, "gate_passed", "exceptions_open"}

  The KPI stage has the same pair in bench/kpis_models.py (``measure_kpis``).
* **Synthetic** (default): 1,000,000 opportunities and 2,000,000 leads + 2,000,000 contacts
  generated directly in DuckDB (deterministic hashes, ~1 % duplicates with
  case/punctuation/alias/typo variants, a few % of every other defect): wall time and peak RSS of
  the GX step, the duplicate matching per object, and the whole run_quality.

    .venv/bin/python bench/quality_scale.py [--opps 1000000] [--leads 2000000] [--contacts 2000000]
    .venv/bin/python bench/quality_scale.py --warehouse duckdb:////tmp/1m/warehouse.duckdb [--no-docs]

Set ``SALESOPS_DUCKDB_MEMORY_LIMIT`` (default 1GB) to change the quality run's DuckDB budget.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import threading
import time
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "plugins"))

import psutil  # noqa: E402

AS_OF = datetime(2026, 11, 1)

SYL = [
    "ka",
    "lo",
    "mi",
    "ne",
    "ru",
    "ta",
    "vo",
    "ze",
    "bi",
    "do",
    "fa",
    "gu",
    "hi",
    "jo",
    "pe",
    "sa",
    "te",
    "wu",
    "xi",
    "yo",
    "ba",
    "ce",
    "di",
    "fo",
    "ga",
    "ho",
    "ju",
    "ki",
    "la",
    "mo",
]


def _syl(expr: str, n: int, salt: int) -> str:
    arr = "[" + ",".join(f"'{s}'" for s in SYL) + "]"
    parts = [f"{arr}[1 + cast(hash({expr}, {salt + k}) % {len(SYL)} as bigint)]" for k in range(n)]
    return " || ".join(parts)


@contextmanager
def measure(label: str, results: dict):
    proc = psutil.Process()
    base = proc.memory_info().rss
    peak = [base]
    stop = threading.Event()

    def sample():
        while not stop.is_set():
            peak[0] = max(peak[0], proc.memory_info().rss)
            time.sleep(0.05)

    th = threading.Thread(target=sample, daemon=True)
    th.start()
    t0 = time.monotonic()
    try:
        yield
    finally:
        stop.set()
        th.join()
        results[label] = {
            "seconds": round(time.monotonic() - t0, 1),
            "peak_rss_mb": round(peak[0] / 2**20),
            "rss_growth_mb": round((peak[0] - base) / 2**20),
        }
        print(f"{label:38s} {results[label]}", flush=True)


def generate(wh, n_opp: int, n_lead: int, n_contact: int) -> None:
    from salesops.warehouse.schema import ensure_object_tables

    ensure_object_tables(wh)
    stages = [
        "Prospecting",
        "Qualification",
        "Needs Analysis",
        "Value Proposition",
        "Proposal/Price Quote",
        "Negotiation/Review",
        "Closed Won",
        "Closed Lost",
    ]
    stage_arr = "[" + ",".join(f"'{s}'" for s in stages) + "]"
    n_company = max(n_lead // 40, 10)
    with wh.raw_duckdb() as con:
        con.execute("""
        insert into staging.stg_crm__user (id, name, team, region, segment, is_active, manager_id, _batch_id, _loaded_at)
        select 'U' || i, 'User ' || i,
               ['AMER','EMEA','APAC'][1 + i % 3] || '-' || ['SMB','MM','ENT'][1 + (i // 3) % 3],
               ['AMER','EMEA','APAC'][1 + i % 3], ['SMB','MM','ENT'][1 + (i // 3) % 3], true, 'U0', 'b', now()
        from range(900) t(i)""")
        con.execute(f"""
        insert into staging.stg_crm__account (id, name, website, owner_id, created_at, _batch_id, _loaded_at)
        select 'A' || i, upper({_syl("i", 3, 1)}) || ' ' || {_syl("i", 2, 7)} || ' Inc',
               {_syl("i", 3, 1)} || '.example', 'U' || (i % 900), timestamp '2024-01-01' + to_seconds(i), 'b', now()
        from range({n_company}) t(i)""")
        con.execute(f"""
        insert into staging.stg_crm__opportunity (id, name, account_id, owner_id, stage_name, amount, close_date,
            forecast_category, next_step, last_activity_date, type, lead_source, is_closed, is_won, loss_reason,
            created_at, _batch_id, _loaded_at)
        select 'O' || i, 'Deal ' || i,
               case when hash(i, 1) % 200 = 0 then 'A404' else 'A' || (i % {n_company}) end,
               case when hash(i, 2) % 500 = 0 then 'U404' else 'U' || (i % 900) end,
               s,
               case when hash(i, 3) % 100 = 0 then null when hash(i, 3) % 100 = 1 then -1
                    when hash(i, 3) % 100 = 2 then 9000000 else 1000 + hash(i, 4) % 100000 end,
               date '2026-11-01' + cast(hash(i, 5) % 300 as integer) - 120,
               case when s = 'Closed Won' then 'Closed' when s = 'Closed Lost' then 'Omitted'
                    when hash(i, 6) % 50 = 0 then 'Commit' else 'Pipeline' end,
               case when hash(i, 7) % 30 = 0 then null else 'follow up' end,
               date '2026-11-01' - cast(hash(i, 8) % 60 as integer),
               case when hash(i, 9) % 100 = 0 then 'New Biz' else 'New Business' end, 'Web',
               s like 'Closed%', s = 'Closed Won',
               case when s = 'Closed Lost' then 'Price' end,
               timestamp '2025-01-01' + to_seconds(i), 'b', now()
        from (select i, {stage_arr}[1 + cast(hash(i, 0) % 8 as bigint)] as s from range({n_opp}) t(i))""")
        con.execute(f"""
        insert into staging.stg_crm__opportunity_line_item (id, opportunity_id, product_code, quantity, _batch_id, _loaded_at)
        select 'LI' || i, 'O' || i, 'P1', 1, 'b', now() from range({n_opp}) t(i) where hash(i, 11) % 20 <> 0""")
        con.execute(f"""
        insert into staging.stg_crm__opportunity_field_history (id, opportunity_id, field, old_value, new_value,
            created_at, _batch_id, _loaded_at)
        select 'H' || i || '_' || k, 'O' || i, 'CloseDate', cast(date '2026-01-01' + cast(k * 10 as integer) as varchar),
               cast(date '2026-01-01' + cast((k + 1) * 10 as integer) as varchar), timestamp '2026-01-01' + to_days(cast(k as integer)), 'b', now()
        from range({n_opp}) t(i), range(3) r(k) where hash(i, 12) % 10 = 0""")
        con.execute(f"""
        insert into staging.stg_finance__booking (id, opportunity_id, booking_date, amount, _batch_id, _loaded_at)
        select 'B' || i, 'O' || i, date '2026-09-01', 1000 + hash(i, 4) % 100000, 'b', now()
        from range({n_opp}) t(i) where {stage_arr}[1 + cast(hash(i, 0) % 8 as bigint)] = 'Closed Won' and hash(i, 13) % 50 <> 0""")
        # people: every 100th record is a variant of the record 50 before it (a duplicate)
        for table, n, extra_cols, extra_vals in (
            (
                "lead",
                n_lead,
                "company, country, number_of_employees, owner_id, assigned_at, is_converted",
                "upper({comp}), ['United States','Germany','Japan'][1 + base % 3], (base % 5) * 600, "
                "case when hash(i, 21) % 50 = 0 then null else 'U' || (base % 900) end, "
                "created + to_seconds(cast(hash(i, 22) % 40000 as bigint)), false",
            ),
            ("contact", n_contact, "account_id, owner_id", "'A' || (base % {nc}), 'U' || (base % 900)"),
        ):
            first = _syl("base", 2, 31)
            last = _syl("base", 3, 41)
            comp = _syl("base % " + str(n_company), 3, 1)
            vals = extra_vals.format(comp=comp, nc=n_company)
            con.execute(f"""
            insert into staging.stg_crm__{table} (id, first_name, last_name, email, created_at, {extra_cols},
                _batch_id, _loaded_at)
            select '{table[0].upper()}' || i,
                   case when variant = 1 then upper(f) else f end,
                   case when variant = 4 then substr(l, 1, 2) || substr(l, 4, 1) || substr(l, 3, 1) || substr(l, 5)
                        when variant = 2 then substr(l, 1, 3) || '-' || substr(l, 4) else l end,
                   case when variant = 3 then f || '.' || l || '+promo@' || {comp} || '.example'
                        when variant = 4 then f || '.' || substr(l, 1, 2) || substr(l, 4, 1) || substr(l, 3, 1)
                             || substr(l, 5) || '@' || {comp} || '.example'
                        when hash(i, 23) % 100 = 0 then 'broken-at-' || {comp}
                        else f || '.' || l || '@' || {comp} || '.example' end,
                   created, {vals}, 'b', now()
            from (
                select i, base, variant, {first} as f, {last} as l,
                       timestamp '2026-01-01' + to_seconds(cast(i * 7 as bigint)) as created
                from (select i, case when i % 100 = 99 then i - 50 else i end as base,
                             case when i % 100 = 99 then 1 + (i // 100) % 4 else 0 end as variant
                      from range({n}) t(i))
            )""")
        con.execute("delete from ops.load_audit")
        for name in (
            "user",
            "account",
            "opportunity",
            "opportunity_line_item",
            "opportunity_field_history",
            "booking",
            "lead",
            "contact",
        ):
            con.execute(
                "insert into ops.load_audit (batch_id, object, source, until, status, finished_at) "
                "values (?, ?, 'bench', ?, 'loaded', ?)",
                [f"b-{name}", name, AS_OF, AS_OF],
            )


def measure_quality(warehouse_url: str, *, build_docs: bool = True, run_id: str = "bench") -> dict:
    """One ``run_quality`` on an already loaded warehouse: wall, CPU seconds and peak RSS of this
    process (DuckDB runs in-process, so its memory is included), the run's step timings, gate
    verdict and open exceptions."""
    from salesops.quality import runner
    from salesops.quality.expectations import import_gx
    from salesops.warehouse.core import Warehouse

    import_gx()  # the one-off import (~8 s) is Airflow's task start, not the quality work
    results: dict = {}
    proc = psutil.Process()
    cpu0 = proc.cpu_times()
    with measure("run_quality", results):
        summary = runner.run_quality(Warehouse(warehouse_url), run_id=run_id, build_docs=build_docs)
    cpu1 = proc.cpu_times()
    r = results["run_quality"]
    return {
        "wall_s": r["seconds"],
        "cpu_s": round(cpu1.user + cpu1.system - cpu0.user - cpu0.system, 1),
        "peak_rss_bytes": r["peak_rss_mb"] * 2**20,
        "timings": {k: round(v, 2) for k, v in summary.timings.items()},
        "gate_passed": summary.gate_passed,
        "exceptions_open": summary.exceptions_open,
    }


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--warehouse", default=None, help="measure run_quality on this loaded warehouse")
    ap.add_argument("--no-docs", action="store_true", help="with --warehouse: no Data Docs")
    ap.add_argument("--opps", type=int, default=1_000_000)
    ap.add_argument("--leads", type=int, default=2_000_000)
    ap.add_argument("--contacts", type=int, default=2_000_000)
    ap.add_argument("--workdir", default=None)
    args = ap.parse_args()
    if args.warehouse:
        import json

        print(json.dumps(measure_quality(args.warehouse, build_docs=not args.no_docs), indent=2), flush=True)
        os._exit(0)  # DuckDB's binding prints pages of harmless "leaked" lines at a normal exit
    work = Path(args.workdir or tempfile.mkdtemp(prefix="quality-bench-"))
    os.environ["SALESOPS_OUTPUT_DIR"] = str(work / "out")
    from salesops.quality import _db, runner
    from salesops.quality.catalogue import load_config, policy_context
    from salesops.quality.duplicates import find_duplicates
    from salesops.warehouse.core import Warehouse

    wh = Warehouse(f"duckdb:///{work / 'bench.duckdb'}")
    results: dict = {}
    print(f"cores={os.cpu_count()} opps={args.opps:,} leads={args.leads:,} contacts={args.contacts:,}")
    with measure("generate staging rows", results):
        generate(wh, args.opps, args.leads, args.contacts)
    runner.ensure_quality_tables(wh)
    cfg = load_config()
    # only the other objects' (empty) freshness rows would fail: keep the bench about the checks
    cfg_over = {"checks": {"source_freshness": {"severity": "warn"}}}

    from salesops.quality.expectations import import_gx

    import_gx()  # one-off import cost (~8 s) kept out of the GX figure
    dup_cfg = cfg.section("duplicates")
    for obj in ("lead", "contact", "account"):
        rules = dup_cfg["objects"][obj]
        df = _db.fetch_df(
            wh,
            "quality/duplicate_input.sql",
            object=obj,
            table=f"staging.stg_crm__{obj}",
            fields=rules["fields"],
            **policy_context(cfg),
        )
        with measure(f"duplicates: {obj} ({len(df):,} records)", results):
            r = find_duplicates(df, obj, rules, dup_cfg["company_suffixes"])
        print(
            f"   {len(r.duplicates):,} duplicates, {r.candidate_pairs:,} candidate pairs, "
            f"{r.skipped_blocks} blocks skipped, {r.per_1000:.2f} per 1,000"
        )
        del df
    with measure("full run_quality (no Data Docs)", results):
        summary = runner.run_quality(wh, run_id="bench-full", build_docs=False, config_overrides=cfg_over)
    print("   timings:", {k: round(v, 1) for k, v in summary.timings.items()})
    print("   gate:", summary.gate_message[:300])


if __name__ == "__main__":
    main()
