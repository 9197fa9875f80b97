"""A pack's fingerprint is the same for the same data (issue 15: a re-run on unchanged data reuses
the files and is known as already rendered).

The fingerprint (packs/render.py) hashes every bit of every shown value. A DOUBLE mean or sum's last
bits depend on the order DuckDB adds the values in (row order, threads), so the routing_sla pack's
mean hours to assignment and the forecast pack's weighted amount differed between two builds of the
same rows: 1.4400183796296306 vs 1.44001837962963 hours, 29228.890050000005 vs 29228.890049999998.
They are now computed over DECIMALs (rules.sql stable_avg, weighted_amount), exact whatever the order.

Fixture, made up: one rep, 60 ENT leads created an hour apart, each assigned after a different
number of milliseconds; 60 open deals with 2-decimal amounts and probabilities 10, 30, 33.3, 66.7.
The same rows are built twice, inserted in opposite orders and with 1 and 4 DuckDB threads.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from decimal import Decimal

import pytest

from salesops.kpis import runner
from salesops.packs.render import render_pack
from salesops.warehouse import Warehouse
from salesops.warehouse.schema import ensure_object_tables

PROBABILITIES = (10.0, 30.0, 33.3, 66.7)


def _rows() -> dict[str, list[dict]]:
    leads, opps = [], []
    for i in range(60):
        created = datetime(2026, 10, 1, 9) + timedelta(hours=i)
        leads.append(
            dict(
                id=f"00Q{i:012d}",
                owner_id="U1",
                segment="ENT",
                region="AMER",
                status="Working",
                created_at=created,
                assigned_at=created + timedelta(milliseconds=(i * 7919 % 10007) * 1013 + 7 * i + 1),
                system_modstamp=created,
            )
        )
        opps.append(
            dict(
                id=f"006{i:012d}",
                owner_id="U1",
                stage_name="Needs Analysis",
                amount=Decimal(f"{1000 + i * 13}.{i % 100:02d}"),
                probability=PROBABILITIES[i % 4],
                close_date=date(2026, 12, 1),
                forecast_category="Pipeline",
                is_closed=False,
                is_won=False,
                type="New Business",
                created_at=datetime(2026, 9, 1, 10),
                system_modstamp=datetime(2026, 9, 1, 10),
            )
        )
    user = dict(
        id="U1",
        name="Rep",
        user_role="Account Executive",
        region="AMER",
        segment="ENT",
        system_modstamp=datetime(2026, 1, 1),
    )
    return {"stg_crm__user": [user], "stg_crm__lead": leads, "stg_crm__opportunity": opps}


def _insert(wh: Warehouse, table: str, rows: list[dict]) -> None:
    cols = list(rows[0]) + ["_batch_id", "_loaded_at"]
    wh.execute_script(
        "\n".join(
            f"insert into staging.{table} ({', '.join(cols)}) values ({', '.join(':' + c + str(i) for c in cols)});"
            for i in range(len(rows))
        ),
        {
            f"{c}{i}": v
            for i, r in enumerate(rows)
            for c, v in {**r, "_batch_id": "t", "_loaded_at": datetime(2026, 1, 1)}.items()
        },
    )


def _build(path, *, reverse: bool) -> Warehouse:
    wh = Warehouse(f"duckdb:///{path}")
    ensure_object_tables(wh)
    for table, rows in _rows().items():
        _insert(wh, table, rows[::-1] if reverse else rows)
    runner.build(wh, as_of="2026-11-20")
    for f in ("quality/create_tables.sql", "monitoring/create_tables.sql", "packs/create_tables.sql"):
        wh.run_file(f)
    return wh


@pytest.fixture(scope="module")
def twins(tmp_path_factory, request):
    base = tmp_path_factory.mktemp("fingerprint")
    built = []
    for name, reverse, threads in (("a", False, "1"), ("b", True, "4")):
        mp = pytest.MonkeyPatch()
        mp.setenv("SALESOPS_DUCKDB_THREADS", threads)
        try:
            built.append(_build(base / f"{name}.duckdb", reverse=reverse))
        finally:
            mp.undo()
    yield base, built
    for wh in built:
        wh.dispose()


@pytest.mark.parametrize("pack", ["routing_sla", "forecast_hygiene"])
def test_the_same_data_gives_the_same_fingerprint_whatever_the_row_order_and_threads(twins, pack):
    base, (a, b) = twins
    fa = render_pack(a, pack, formats=("csv",), reuse=False, out_dir=base / "a" / pack).fingerprint
    fb = render_pack(b, pack, formats=("csv",), reuse=False, out_dir=base / "b" / pack).fingerprint
    assert fa == fb


def test_the_means_and_weighted_sums_are_exact(twins):
    _, (a, b) = twins
    rows = _rows()
    ms = [(r["assigned_at"] - r["created_at"]) / timedelta(milliseconds=1) for r in rows["stg_crm__lead"]]
    weighted = sum(
        (r["amount"] * Decimal(str(r["probability"])) / 100 for r in rows["stg_crm__opportunity"]), Decimal(0)
    )
    for wh in (a, b):
        speed = wh.query("select avg_hours_to_assignment from marts.agg_speed_to_lead where segment = 'ENT'")
        assert speed[0]["avg_hours_to_assignment"] == pytest.approx(sum(ms) / len(ms) / 3_600_000, rel=1e-12)
        fc = wh.query(
            "select weighted_pipeline_amount from marts.agg_forecast_rollup "
            "where rollup_level = 'company' and quarter_relative = 'current'"
        )
        assert Decimal(str(fc[0]["weighted_pipeline_amount"])) == weighted
