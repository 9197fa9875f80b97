"""Benchmark: every KPI model on 1,000,000 opportunities and 5,000,000 field-history rows.

Synthetic staging rows are generated directly in DuckDB (deterministic arithmetic, no demo
generator needed), then ``salesops.kpis.runner.build`` runs seeds + all models once; a second
build measures the re-run (the snapshot dates then exist, so only the as-of day is rewritten).

    PYTHONPATH=plugins .venv/bin/python bench/kpis_models.py [--opps 1000000] [--history-per-opp 5]

Reports wall time per model and in total, and the process's peak RSS (DuckDB runs in-process,
so its memory is included).

On an already loaded warehouse (e.g. the 1 M demo org; run the quality job first, the marts join
its scorecard): ``--warehouse duckdb:////path/warehouse.duckdb`` builds once and prints wall, CPU
seconds, peak RSS and the slowest models as JSON; bench/scale.py (t17-bench) can call
:func:`measure_kpis` in the stage's own process for the same dict.
"""

from __future__ import annotations

import argparse
import resource
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "plugins"))

from salesops.kpis import runner  # noqa: E402
from salesops.warehouse import Warehouse  # noqa: E402
from salesops.warehouse.schema import ensure_object_tables  # noqa: E402

AS_OF = "2027-01-20"
STAGES = [
    "Prospecting",
    "Qualification",
    "Needs Analysis",
    "Value Proposition",
    "Proposal/Price Quote",
    "Negotiation/Review",
    "Closed Won",
    "Closed Lost",
]


def generate(wh: Warehouse, n_opps: int, hist_per_opp: int, n_leads: int) -> None:
    stages = "[" + ", ".join(f"'{s}'" for s in STAGES) + "]"
    with wh.raw_duckdb() as con:
        con.execute("""
            insert into staging.stg_crm__user (id, name, user_role, manager_id, region, segment, team, is_active,
                                               system_modstamp, _batch_id, _loaded_at)
            select 'U' || i, 'User ' || i,
                   case when i < 50 then 'Sales Manager' else 'Account Executive' end,
                   case when i < 50 then null else 'U' || (i % 50) end,
                   ['AMER', 'EMEA', 'APAC'][1 + i % 3], ['SMB', 'MM', 'ENT'][1 + (i // 3) % 3], 'T', true,
                   timestamp '2024-01-01', 'b', now()
            from range(1000) t(i)""")
        con.execute("""
            insert into staging.stg_crm__quota (id, owner_id, period_start, quota_amount, system_modstamp, _batch_id, _loaded_at)
            select 'Q' || i || '-' || q, 'U' || i, d, 500000 + (i % 7) * 50000, timestamp '2024-01-01', 'b', now()
            from range(50, 1000) t(i), (values (0, date '2026-11-01'), (1, date '2027-02-01')) as p(q, d)""")
        # Each opportunity: created up to ~600 days before the as-of; stage path 1 -> final
        # (history: stage changes, close-date pushes, an amount change), closed ones ~ 45 %.
        con.execute(f"""
            insert into staging.stg_crm__opportunity (id, name, account_id, owner_id, stage_name, amount, probability,
                close_date, forecast_category, next_step, last_activity_date, type, lead_source, is_closed, is_won,
                loss_reason, created_at, system_modstamp, _batch_id, _loaded_at)
            select 'O' || i, 'Deal ' || i, 'A' || (i % 200000), 'U' || (50 + i % 950),
                   {stages}[1 + f], (1000 + (i * 7919) % 400000)::decimal(18,2),
                   [10, 20, 30, 50, 70, 90, 100, 0][1 + f]::double,
                   date '2027-01-20' - 300 + ((i * 31) % 420)::integer,
                   ['Pipeline', 'Pipeline', 'Pipeline', 'Best Case', 'Best Case', 'Commit', 'Closed', 'Omitted'][1 + f],
                   case when i % 3 = 0 then null else 'call' end,
                   date '2027-01-20' - (i % 90)::integer,
                   ['New Business', 'Expansion', 'Renewal'][1 + i % 3], 'Web', f >= 6, f = 6,
                   case when f = 7 then ['Price', 'Competitor', 'Duplicate'][1 + i % 3] end,
                   timestamp '2027-01-20 12:00' - to_minutes(1440 * (30 + i % 600) + i % 1440),
                   timestamp '2027-01-20 12:00', 'b', now()
            from (select i, (i * 13) % 8 as f from range({n_opps}) t(i))""")
        con.execute(f"""
            insert into staging.stg_crm__opportunity_field_history (id, opportunity_id, field, old_value, new_value,
                                                                   created_at, _batch_id, _loaded_at)
            select 'H' || i || '-' || k, 'O' || i,
                   ['StageName', 'CloseDate', 'Amount', 'StageName', 'CloseDate', 'ForecastCategoryName'][1 + k % 6],
                   case k % 6 when 0 then 'Prospecting' when 3 then 'Qualification'
                              when 1 then cast(date '2026-06-01' + (i % 200)::integer as varchar)
                              when 4 then cast(date '2026-07-01' + (i % 200)::integer as varchar)
                              when 2 then '500.00' else 'Pipeline' end,
                   case k % 6 when 0 then 'Qualification' when 3 then 'Needs Analysis'
                              when 1 then cast(date '2026-07-01' + (i % 200)::integer as varchar)
                              when 4 then cast(date '2026-08-01' + (i % 200)::integer as varchar)
                              when 2 then '900.00' else 'Best Case' end,
                   timestamp '2027-01-20 11:00' - to_minutes(1440 * (k * 5 + i % 25) + i % 600),
                   'b', now()
            from range({n_opps}) t(i), range({hist_per_opp}) s(k)""")
        con.execute(f"""
            insert into staging.stg_crm__opportunity_line_item (id, opportunity_id, product_code, quantity, unit_price,
                                                               total_price, system_modstamp, _batch_id, _loaded_at)
            select 'LI' || i, 'O' || i, 'P', 1, 1000, 1000, timestamp '2027-01-01', 'b', now()
            from range(0, {n_opps}, 2) t(i)""")
        con.execute(f"""
            insert into staging.stg_finance__booking (id, opportunity_id, booking_date, amount, booking_type,
                                                     system_modstamp, _batch_id, _loaded_at)
            select 'B' || i, 'O' || i, date '2027-01-20' - 300 + ((i * 31) % 420)::integer, (1000 + (i * 7919) % 400000)::decimal(18,2),
                   'New Business', timestamp '2027-01-01', 'b', now()
            from range({n_opps}) t(i) where (i * 13) % 8 = 6""")
        con.execute(f"""
            insert into staging.stg_crm__lead (id, company, number_of_employees, segment, lead_source, owner_id, assigned_at,
                first_touch_at, is_converted, created_at, system_modstamp, _batch_id, _loaded_at)
            select 'L' || i, 'Co', (i * 37) % 5000, 'SMB', ['Web', 'Event', 'Partner'][1 + i % 3],
                   case when i % 7 = 0 then null else 'U' || (50 + i % 950) end,
                   case when i % 7 = 0 then null else timestamp '2027-01-01' - to_minutes(i % 500000) + to_minutes(i % 3000) end,
                   case when i % 5 = 0 then null else timestamp '2027-01-01' - to_minutes(i % 500000) + to_minutes(i % 4000) end,
                   i % 10 = 0, timestamp '2027-01-01' - to_minutes(i % 500000), timestamp '2027-01-01', 'b', now()
            from range({n_leads}) t(i)""")
        con.execute(f"""
            insert into staging.stg_map__lifecycle_stage_change (id, lead_id, from_stage, to_stage, changed_at, _batch_id, _loaded_at)
            select 'LC' || i || '-' || k, 'L' || i, ['Lead', 'MQL', 'SQL'][1 + k], ['MQL', 'SQL', 'Opportunity'][1 + k],
                   timestamp '2027-01-01' - to_minutes(i % 400000), 'b', now()
            from range({n_leads}) t(i), range(3) s(k) where k <= i % 4""")


def measure_kpis(warehouse_url: str) -> dict:
    """One ``kpis.runner.build`` on a loaded warehouse: wall, CPU seconds, this process's peak RSS
    (``ru_maxrss``: DuckDB runs in-process), per-model seconds (slowest first)."""
    import os

    cpu0 = os.times()
    t0 = time.perf_counter()
    result = runner.build(Warehouse(warehouse_url))
    wall = time.perf_counter() - t0
    cpu1 = os.times()
    return {
        "wall_s": round(wall, 1),
        "cpu_s": round(cpu1.user + cpu1.system - cpu0.user - cpu0.system, 1),
        "peak_rss_bytes": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024,
        "models": dict(sorted(result.models.items(), key=lambda kv: -kv[1])),
        "as_of": result.as_of_date,
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--warehouse", default=None, help="measure one build on this loaded warehouse")
    ap.add_argument("--opps", type=int, default=1_000_000)
    ap.add_argument("--history-per-opp", type=int, default=5)
    ap.add_argument("--leads", type=int, default=300_000)
    args = ap.parse_args()
    if args.warehouse:
        import json
        import os

        print(json.dumps(measure_kpis(args.warehouse), indent=2), flush=True)
        os._exit(0)  # DuckDB's binding prints pages of harmless "leaked" lines at a normal exit
    folder = Path(tempfile.mkdtemp(prefix="kpis-bench-"))
    wh = Warehouse(f"duckdb:///{folder / 'bench.duckdb'}")
    ensure_object_tables(wh)
    t0 = time.perf_counter()
    generate(wh, args.opps, args.history_per_opp, args.leads)
    gen_s = time.perf_counter() - t0
    counts = {
        t: wh.scalar(f"select count(*) from staging.{t}")
        for t in ("stg_crm__opportunity", "stg_crm__opportunity_field_history", "stg_crm__lead")
    }
    print(f"generated in {gen_s:.1f} s: {counts}")

    t1 = time.perf_counter()
    first = runner.build(wh, as_of=AS_OF)
    build_s = time.perf_counter() - t1
    t2 = time.perf_counter()
    runner.build(wh, as_of=AS_OF)
    rerun_s = time.perf_counter() - t2
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"snapshot dates: {first.snapshot_dates}")
    for name, seconds in sorted(first.models.items(), key=lambda kv: -kv[1]):
        print(f"  {name:40s} {seconds:7.2f} s   rows={wh.scalar(f'select count(*) from marts.{name}')}")
    problems = runner.validate_build(wh)
    print(
        f"first build (seeds + {len(first.models)} models): {build_s:.1f} s; re-run: {rerun_s:.1f} s; "
        f"peak RSS {peak_mb:.0f} MB; grain problems: {problems or 'none'}"
    )


if __name__ == "__main__":
    main()
