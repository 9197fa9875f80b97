"""Each domain rule has one definition, and every job that uses it gets the same answer.

As-of: ``salesops.as_of.data_as_of`` over the view ``ops.v_as_of``; the quality run, the KPI build,
the pack checks, the bulk-update plans and the loader's own helper all resolve to the same instant.
"""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from salesops import sql
from salesops.as_of import data_as_of, load_finished_at
from salesops.bulk_update.plan import plan_as_of
from salesops.kpis import runner as kpi_runner
from salesops.packs.checks import load_as_of as pack_as_of
from salesops.quality.runner import resolve_as_of as quality_as_of
from salesops.warehouse.core import Warehouse
from salesops.warehouse.load import as_of as loader_as_of
from salesops.warehouse.schema import ensure_object_tables


@pytest.fixture
def wh(tmp_path):
    w = Warehouse("duckdb:///" + str(tmp_path / "w.duckdb"))
    ensure_object_tables(w)
    return w


def _audit(wh, batch_id, until, status, finished):
    wh.execute(
        "insert into ops.load_audit (batch_id, object, source, until, status, finished_at) values "
        f"('{batch_id}', 'opportunity', 'demo', timestamp '{until}', '{status}', timestamp '{finished}')"
    )


def test_every_job_resolves_the_same_as_of(wh):
    assert data_as_of(wh) is None and pack_as_of(wh) is None and kpi_runner.extracted_at(wh) is None
    _audit(wh, "a", "2026-11-18 06:00:00", "loaded", "2026-11-18 06:05:00")
    _audit(wh, "b", "2026-11-20 09:30:00", "loaded", "2026-11-20 09:41:00")
    # a later batch that failed or is only landed does not move "now"
    _audit(wh, "c", "2026-11-21 09:30:00", "failed", "2026-11-21 09:31:00")
    _audit(wh, "d", "2026-11-22 09:30:00", "landed", "2026-11-22 09:31:00")

    expected = datetime(2026, 11, 20, 9, 30, tzinfo=UTC)
    assert data_as_of(wh) == expected
    assert load_finished_at(wh) == datetime(2026, 11, 20, 9, 41, tzinfo=UTC)
    assert loader_as_of(wh) == expected
    assert plan_as_of(wh, "opportunity") == expected
    naive = expected.replace(tzinfo=None)
    assert quality_as_of(wh) == naive
    assert pack_as_of(wh) == naive
    assert kpi_runner.extracted_at(wh) == naive
    assert kpi_runner.resolve_as_of(wh).as_of_ts == naive
    # the SQL form every query selects from
    assert wh.query("select as_of, load_finished_at from ops.v_as_of") == [
        {"as_of": naive, "load_finished_at": datetime(2026, 11, 20, 9, 41)}
    ]


def test_no_sql_file_computes_the_as_of_itself():
    # max(until) over all loaded batches is the as-of; per-object maxima (freshness, grouped by
    # object) are a different figure and allowed.
    offenders = []
    for path in sql.sql_path("").rglob("*.sql"):
        text = " ".join(path.read_text().lower().split())
        if "max(until)" in text and "from ops.load_audit" in text and "group by" not in text:
            offenders.append(path.relative_to(sql.sql_path("")).as_posix())
    assert offenders == ["load/create_tables.sql"]
    assert "ops.v_as_of" in sql.sql_path("packs/context.sql").read_text()


@pytest.mark.parametrize("start_month", [1, 2, 4, 11])
def test_fiscal_quarters_of_plans_and_quality_are_the_calendars(start_month):
    from datetime import date, timedelta

    from salesops.bulk_update.plan import fiscal_quarter_end
    from salesops.kpis.fiscal import fiscal_day
    from salesops.quality.catalogue import fiscal_quarter

    day = date(2025, 1, 1)
    while day < date(2027, 3, 1):
        cal = fiscal_day(day, start_month)
        assert fiscal_quarter_end(day, start_month) == cal.fiscal_quarter_end, day
        assert fiscal_quarter(day, start_month) == cal.fiscal_quarter_label, day
        day += timedelta(days=1)
