"""crm_extract_load on the documented CSV-export example folder, through the real DAG."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest
from tests.conftest import use_dirs

pytestmark = pytest.mark.e2e
EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "csv_export"
FILES = {
    "user": "users.csv",
    "account": "accounts.csv",
    "opportunity": "opportunities.csv",
    "lead": "leads.csv",
}


@pytest.fixture(scope="module")
def csv_run(airflow_db, tmp_path_factory):
    from salesops.runner import run_dag
    from salesops.warehouse import Warehouse

    root = tmp_path_factory.mktemp("csv")
    with use_dirs(root / "data", root / "out"):
        conf = {"source": "csv", "csv_folder": str(EXAMPLE), "objects": list(FILES)}
        first = run_dag("crm_extract_load", conf)
        second = run_dag("crm_extract_load", conf)
        yield Warehouse(f"duckdb:///{root / 'data' / 'warehouse.duckdb'}"), first, second


def _csv_rows(name: str) -> list[dict]:
    with (EXAMPLE / name).open(encoding="utf-8-sig") as fh:
        return list(csv.DictReader(fh))


def test_every_exported_row_is_staged_or_quarantined(csv_run):
    wh, _, _ = csv_run
    for obj, fname in FILES.items():
        exported = len(_csv_rows(fname))
        system = "crm"
        staged = wh.scalar(f"select count(*) from staging.stg_{system}__{obj}")
        rejected = wh.scalar(
            "select count(distinct row_number) from ops.quarantine where object = :o", {"o": obj}
        )
        assert staged + rejected == exported, obj
        assert wh.scalar(f"select count(*) from raw.{system}__{obj}") == exported


def test_the_malformed_amount_is_quarantined_with_its_reason(csv_run):
    wh, _, _ = csv_run
    bad = [r for r in _csv_rows("opportunities.csv") if r["Amount"] == "n/a"]
    assert len(bad) == 1
    q = wh.query("select record_id, field, value, reason from ops.quarantine where object = 'opportunity'")
    assert q == [
        {
            "record_id": bad[0]["Opportunity ID"],
            "field": "Amount",
            "value": "n/a",
            # the file, line and column of the export, and the map's notation
            "reason": "opportunities.csv line 14 column 'Amount': cannot parse 'n/a' as decimal: expected "
            "a number (decimal separator '.', thousands separator ',')",
        }
    ]


def test_values_are_typed_from_the_export_formats(csv_run):
    wh, _, _ = csv_run
    row = wh.query(
        "select amount, close_date, probability, is_closed from staging.stg_crm__opportunity where id = 'OPP-0001'"
    )[0]
    assert float(row["amount"]) == 15919.0
    assert str(row["close_date"]) == "2026-12-02"  # dd/mm/yyyy in the export
    assert row["probability"] == 50.0 and row["is_closed"] is False


def test_second_run_reads_nothing_new(csv_run):
    wh, _, _ = csv_run
    runs = wh.query(
        "select run_id, sum(rows_read) as n from ops.load_audit group by run_id order by min(started_at)"
    )
    assert len(runs) == 2
    assert runs[0]["n"] == sum(len(_csv_rows(f)) for f in FILES.values())
    assert runs[1]["n"] == 0
