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
