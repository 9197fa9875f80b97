"""salesops_warehouse of type snowflake goes through Airflow's SnowflakeHook (password or key pair).

Its own module: it opens its own fakesnow patch, which cannot nest inside another module's.
"""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.snowflake


@pytest.mark.parametrize("auth", ["password", "key_pair"])
def test_connection_through_snowflake_hook(auth, monkeypatch):
    """salesops_warehouse of type snowflake -> SnowflakeHook -> the connector gets account,
    database, warehouse, role and the password or the private key (fakesnow records the call)."""
    import json

    import fakesnow
    import snowflake.connector

    from salesops.warehouse.hook import WarehouseHook

    extra = {"account": "fakeacct", "database": "SALESOPS_AUTH", "warehouse": "WH_XS", "role": "SALESOPS_RW"}
    conn = {"conn_type": "snowflake", "login": "loader_user", "extra": extra}
    if auth == "password":
        conn["password"] = "not-a-secret-pw"
    else:
        from cryptography.hazmat.primitives import serialization
        from cryptography.hazmat.primitives.asymmetric import rsa

        key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        extra["private_key_content"] = key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        ).decode()
    monkeypatch.setenv("AIRFLOW_CONN_SALESOPS_WAREHOUSE", json.dumps(conn))
    with fakesnow.patch():
        wh = WarehouseHook("salesops_warehouse").warehouse
        assert wh.dialect == "snowflake"
        assert wh.scalar("select 41 + 1") == 42
        assert wh.scalar("select current_schema()") == "OPS"  # temporary tables need one
        kwargs = snowflake.connector.connect.call_args.kwargs
    assert (kwargs["account"], kwargs["database"], kwargs["warehouse"], kwargs["role"]) == (
        "fakeacct",
        "SALESOPS_AUTH",
        "WH_XS",
        "SALESOPS_RW",
    )
    assert kwargs["user"] == "loader_user"
    if auth == "password":
        assert kwargs["password"] == "not-a-secret-pw" and "private_key" not in kwargs
    else:
        assert kwargs["private_key"][:2] == b"0\x82"  # DER bytes of the key, as the connector wants
        assert not kwargs.get("password")
    assert "not-a-secret-pw" not in repr(wh)


def test_schema_prefix_from_the_connection_isolates_two_environments_in_one_database(tmp_path, monkeypatch):
    """Extra ``schema_prefix``: the project's schemas become <prefix>_raw, ... Two prefixes in one
    database load, read and count only their own data (fakesnow: one shared database)."""
    import json

    import fakesnow

    from salesops.ingest.pipeline import extract_and_load
    from salesops.sources.csv_export import CsvExportSource
    from salesops.warehouse.hook import WarehouseHook

    monkeypatch.setenv("SALESOPS_DATA_DIR", str(tmp_path / "data"))
    head = "Deal,Name,Stage,Amount,Modified\n"
    columns = "{Id: Deal, Name: Name, StageName: Stage, Amount: Amount, SystemModstamp: Modified}"
    exports = {
        # D9: a bad amount, quarantined with the CSV's own reason (notes landed through the stage)
        "dev": head
        + "D1,Synthetic Deal 1,Prospecting,100,2026-11-01T10:00:00Z\nD9,Synthetic Deal 9,Prospecting,1O0,2026-11-01T10:00:00Z\n",
        "ci": head
        + "C1,Synthetic Deal 7,Prospecting,7,2026-11-01T10:00:00Z\nC2,Synthetic Deal 8,Proposal,8,2026-11-01T11:00:00Z\n",
    }
    whs = {}
    with fakesnow.patch():
        for prefix, body in exports.items():
            folder = tmp_path / prefix
            folder.mkdir()
            (folder / "opps.csv").write_text(body)
            (folder / "column_map.yaml").write_text(
                f"objects:\n  Opportunity:\n    file: opps.csv\n    columns: {columns}\n"
            )
            extra = {"account": "fakeacct", "database": "SALESOPS_SHARED", "schema_prefix": prefix.upper()}
            conn = {"conn_type": "snowflake", "login": "loader_user", "password": "pw", "extra": extra}
            monkeypatch.setenv("AIRFLOW_CONN_SALESOPS_WAREHOUSE", json.dumps(conn))
            wh = whs[prefix] = WarehouseHook("salesops_warehouse").warehouse
            wh.ensure_schemas()
            assert wh.scalar("select current_schema()") == f"{prefix.upper()}_OPS"
            monkeypatch.setenv("SALESOPS_MAX_QUARANTINE_SHARE", "1")
            extract_and_load(CsvExportSource(folder), ["opportunity"], wh)
        assert whs["dev"].query("select record_id, field, reason from ops.quarantine") == [
            {
                "record_id": "D9",
                "field": "Amount",
                "reason": "opps.csv line 3 column 'Amount': cannot parse '1O0' as decimal: expected a number "
                "(decimal separator '.')",
            }
        ]
        assert whs["ci"].scalar("select count(*) from ops.quarantine") == 0
        schemas = {
            r["s"]
            for r in whs["dev"].query(
                "select upper(schema_name) as s from information_schema.schemata "
                "where upper(catalog_name) = 'SALESOPS_SHARED'"
            )
        }
        project = {f"{p}_{s}" for p in ("DEV", "CI") for s in ("RAW", "STAGING", "QUALITY", "MARTS", "OPS")}
        assert project <= schemas
        assert not schemas & {"RAW", "STAGING", "QUALITY", "MARTS", "OPS"}  # nothing unprefixed
        for prefix, ids in (("dev", ["D1"]), ("ci", ["C1", "C2"])):
            wh = whs[prefix]
            got = [r["id"] for r in wh.query("select id from staging.stg_crm__opportunity order by id")]
            assert got == ids
            assert wh.scalar("select count(*) from ops.load_audit") == 1
            assert wh.scalar("select sum(rows_inserted) from ops.load_audit") == len(ids)
            assert wh.scalar("select sum(rows_read) from ops.load_audit") == {"dev": 2, "ci": 2}[prefix]
            assert wh.table_exists("raw.crm__opportunity") and wh.physical("raw.x") == f"{prefix}_raw.x"
