"""Airflow hook that turns the ``salesops_warehouse`` connection into a :class:`Warehouse`.

Connection forms (all optional; without a connection the project-local DuckDB file is used):

- DuckDB file: ``AIRFLOW_CONN_SALESOPS_WAREHOUSE='{"conn_type": "generic",
  "extra": {"sqlalchemy_url": "duckdb:////abs/path/warehouse.duckdb"}}'``
- Snowflake: a connection of type ``snowflake`` (account, user, password or key pair, warehouse,
  database, role as the Snowflake provider documents). Airflow's SnowflakeHook builds the
  SQLAlchemy engine, so key-pair auth (``private_key_file`` / ``private_key_content`` extras) and
  session parameters work as they do for any Snowflake task. The project's schemas (raw, staging,
  quality, marts, ops) are created in the connection's database if absent; the extra
  ``schema_prefix`` (e.g. ``"DEV"``) names them ``DEV_RAW``, ``DEV_STAGING``, ... so that several
  environments can share one database.
"""

from __future__ import annotations

import logging
from functools import cached_property
from typing import Any

from airflow.sdk import BaseHook

from salesops.warehouse.core import Warehouse, default_warehouse_url

log = logging.getLogger(__name__)


class WarehouseHook(BaseHook):
    """Resolve the warehouse from an Airflow connection.

    Args:
        warehouse_conn_id: connection id; a missing connection means the embedded default.
    """

    conn_name_attr = "warehouse_conn_id"
    default_conn_name = "salesops_warehouse"
    conn_type = "generic"
    hook_name = "SalesOps warehouse"

    def __init__(self, warehouse_conn_id: str = default_conn_name, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.warehouse_conn_id = warehouse_conn_id

    def _warehouse(self) -> Warehouse:
        from airflow.sdk.exceptions import AirflowNotFoundException

        try:
            conn = self.get_connection(self.warehouse_conn_id)
        except AirflowNotFoundException:
            url = default_warehouse_url()
            log.info("connection %s not defined; using the embedded default %s", self.warehouse_conn_id, url)
            return Warehouse(url)
        if conn.conn_type == "snowflake":
            return snowflake_warehouse(
                self.warehouse_conn_id, schema_prefix=conn.extra_dejson.get("schema_prefix") or None
            )
        url = conn.extra_dejson.get("sqlalchemy_url")
        if not url:
            raise ValueError(
                f"connection {self.warehouse_conn_id!r} has no extra 'sqlalchemy_url' "
                "(expected e.g. duckdb:////abs/path/warehouse.duckdb) and is not of type snowflake"
            )
        return Warehouse(url)

    @cached_property
    def warehouse(self) -> Warehouse:
        return self._warehouse()

    def get_conn(self) -> Warehouse:
        return self.warehouse


def snowflake_warehouse(conn_id: str, *, schema_prefix: str | None = None) -> Warehouse:
    """A :class:`Warehouse` on the Snowflake connection ``conn_id``, through SnowflakeHook.

    Args:
        conn_id: the Snowflake connection (account, database, warehouse, role, password or key pair).
        schema_prefix: the connection's ``schema_prefix`` extra: the project's schemas become
            ``<prefix>_raw``, ``<prefix>_staging``, ... (see salesops.warehouse.schema_names).
    """
    import sqlalchemy as sa
    from airflow.providers.snowflake.hooks.snowflake import SnowflakeHook

    hook = SnowflakeHook(snowflake_conn_id=conn_id)
    return Warehouse(
        hook.get_uri(),
        engine_factory=lambda: hook.get_sqlalchemy_engine(engine_kwargs={"poolclass": sa.pool.NullPool}),
        schema_prefix=schema_prefix,
    )
