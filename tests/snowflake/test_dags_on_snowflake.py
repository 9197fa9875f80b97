"""The DAGs themselves, unchanged, with the salesops_warehouse connection pointed at Snowflake
(fakesnow in process): ``crm_extract_load`` through ``dag.test()`` lands every object of the demo
CRM in the Snowflake staging tables.

Its own module: it opens its own fakesnow patch, which cannot nest inside another module's.
"""

from __future__ import annotations

import json

import pytest
from tests.conftest import use_dirs

pytestmark = [pytest.mark.snowflake, pytest.mark.timeout(2400)]

CONN = {
    "conn_type": "snowflake",
    "login": "dag_user",
    "password": "not-a-secret",
    "extra": {"account": "fakeacct", "database": "SALESOPS_DAGS", "warehouse": "WH", "role": "R"},
}


def test_crm_extract_load_runs_unchanged_on_snowflake(airflow_db, tmp_path, monkeypatch):
    import fakesnow

    from salesops.config import object_manifest
    from salesops.runner import run_dag, task_instances
    from salesops.warehouse.hook import WarehouseHook
    from salesops_demo import DemoCrm

    data, out = tmp_path / "data", tmp_path / "out"
    monkeypatch.setenv("AIRFLOW_CONN_SALESOPS_WAREHOUSE", json.dumps(CONN))
    with use_dirs(data, out), fakesnow.patch():
        DemoCrm.seed(size="small", seed=7, path=data / "demo_crm.duckdb")
        dr = run_dag("crm_extract_load", {"source": "demo"}, check=False)
        states = {(t.task_id, t.map_index): str(t.state) for t in task_instances(dr)}
        wh = WarehouseHook("salesops_warehouse").warehouse
        assert wh.dialect == "snowflake"
        audit = {
            r["object"]: r
            for r in wh.query(
                "select object, sum(rows_read) as rows_read, sum(rows_rejected) as rows_rejected"
                " from ops.load_audit group by object"
            )
        }
        staged = {
            name: wh.scalar(f"select count(*) from {spec.staging_table}")
            for name, spec in object_manifest().items()
            if wh.table_exists(spec.staging_table)
        }
        in_crm = DemoCrm(data / "demo_crm.duckdb").summary()["counts"]
    assert str(dr.state) == "success", states
    assert set(states.values()) == {"success"}, states
    manifest = object_manifest()
    assert set(audit) == set(manifest) == set(staged)
    # every CRM record is staged or quarantined, on Snowflake as on DuckDB
    assert {n: staged[n] + int(audit[n]["rows_rejected"] or 0) for n in manifest} == {
        n: in_crm[spec.api_name] for n, spec in manifest.items()
    }
    assert staged["opportunity"] > 0
    # nothing landed in DuckDB: the warehouse file of the default connection was never created
    assert not (data / "warehouse.duckdb").exists()
