"""The Snowflake load path on fakesnow: a crash inside the load's transaction changes nothing, the
landing tables are dropped either way, and the transaction holds DML only.

Plus the naming rule fakesnow cannot check (DuckDB underneath is case-insensitive): our own column
names stay unquoted (Snowflake folds them to upper case), CRM field names are quoted.
"""

from __future__ import annotations

import shutil

import pytest
from tests.conftest import use_dirs
from tests.support.faults import crash_load_after

pytestmark = pytest.mark.snowflake


@pytest.fixture(scope="module")
def fake_snowflake(golden_demo, tmp_path_factory):
    import fakesnow

    from salesops.warehouse import Warehouse

    root = tmp_path_factory.mktemp("sf-load")
    data, out = root / "data", root / "out"
    data.mkdir()
    out.mkdir()
    shutil.copy(golden_demo.data_dir / "demo_crm.duckdb", data / "demo_crm.duckdb")
    with fakesnow.patch(), use_dirs(data, out):
        # no schema in the URL: the session must still have one for temporary tables
        yield Warehouse("snowflake://loader:not-a-secret@fakeacct/SALESOPS_LOAD?warehouse=WH"), data


def _landing_tables(wh) -> list[str]:
    return [
        r["t"]
        for r in wh.query(
            "select lower(table_name) as t from information_schema.tables where lower(table_schema) = 'raw'"
        )
        if r["t"].startswith("_land__")
    ]


def test_crash_inside_the_transaction_changes_nothing_then_rerun_loads(fake_snowflake):
    from salesops.ingest.batches import mark_failed
    from salesops.ingest.extract import extract_batch
    from salesops.ingest.load import load_batch
    from salesops_demo import DemoCrm

    wh, data = fake_snowflake
    crm = DemoCrm(data / "demo_crm.duckdb")
    batch = extract_batch(crm, "user", wh)
    assert batch.rows_read == 75
    for step in ("raw", "quarantine", "merge", "deletes"):
        with (
            crash_load_after(step) as ran,
            pytest.raises(RuntimeError, match=f"simulated crash after {step}"),
        ):
            load_batch(wh, batch)
        assert "load/insert_raw.sql" in ran, step
        assert wh.scalar("select count(*) from staging.stg_crm__user") == 0, step
        assert wh.scalar("select count(*) from raw.crm__user") == 0, step
        assert wh.scalar("select count(*) from ops.load_watermark") == 0, step
        assert _landing_tables(wh) == [], step
    mark_failed(wh, batch.batch_id, "simulated")
    result = load_batch(wh, batch)
    assert (result.rows_inserted, result.rows_rejected) == (75, 0)
    assert wh.scalar("select count(*) from staging.stg_crm__user") == 75
    assert wh.scalar("select count(distinct id) from staging.stg_crm__user") == 75
    assert (
        wh.scalar("select status from ops.load_audit where batch_id = :b", {"b": batch.batch_id}) == "loaded"
    )
    assert _landing_tables(wh) == []
    # the same batch again: MERGE path, nothing changes
    again = load_batch(wh, batch)
    assert (again.rows_inserted, again.rows_updated, again.rows_unchanged) == (0, 0, 75)
    assert wh.scalar("select count(*) from staging.stg_crm__user") == 75


def test_the_load_transaction_refuses_ddl():
    from salesops.ingest.load import _execute
    from salesops.warehouse.core import WarehouseError

    class Conn:
        def __init__(self):
            self.ran = []

        def execute(self, stmt, params):
            self.ran.append(str(stmt))

    conn = Conn()
    _execute(
        conn,
        "x.sql",
        "delete from raw.t where a = 1;\nmerge into s using g on s.id = g.id when matched then delete;",
        {},
        dml_only=True,
    )
    assert len(conn.ran) == 2
    with pytest.raises(WarehouseError, match="only DML may run inside the load transaction"):
        _execute(conn, "x.sql", "create or replace temporary table _t as select 1 as a;", {}, dml_only=True)
    assert len(conn.ran) == 2


def test_snowflake_column_names():
    from salesops.warehouse.core import WarehouseError, snowflake_column

    assert snowflake_column("batch_id") == "batch_id"  # unquoted: Snowflake's BATCH_ID
    assert snowflake_column("OwnerId") == '"OwnerId"'
    assert snowflake_column("Region__c") == '"Region__c"'
    with pytest.raises(WarehouseError):
        snowflake_column('a"b')
