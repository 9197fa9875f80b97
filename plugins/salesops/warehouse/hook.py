"""Airflow hook that turns the ``salesops_warehouse`` connection into a :class:`Warehouse`.

Connection forms (all optional; without a connection the project-local DuckDB file is used):

- DuckDB file: ``AIRFLOW_CONN_SALESOPS_WAREHOUSE='{"conn_type": "generic",
  "extra": {"sqlalchemy_url": "duckdb:////abs/path/warehouse.duckdb"}}'``
- Snowflake: a connection of type ``snowflake`` (account, user, password or key, warehouse,
  database, schema, role as the Snowflake provider documents); the URL comes from
  ``SnowflakeHook.get_uri()``.
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

    def _url(self) -> str:
        from airflow.sdk.exceptions import AirflowNotFoundException

        try:
            conn = self.get_connection(self.warehouse_conn_id)
        except AirflowNotFoundException:
            url = default_warehouse_url()
            log.info("connection %s not defined; using the embedded default %s", self.warehouse_conn_id, url)
            return url
        if conn.conn_type == "snowflake":
            from airflow.providers.snowflake.hooks.snowflake import SnowflakeHook

            return SnowflakeHook(snowflake_conn_id=self.warehouse_conn_id).get_uri()
        url = conn.extra_dejson.get("sqlalchemy_url")
        if not url:
            raise ValueError(
                f"connection {self.warehouse_conn_id!r} has no extra 'sqlalchemy_url' "
                "(expected e.g. duckdb:////abs/path/warehouse.duckdb) and is not of type snowflake"
            )
        return url

    @cached_property
    def warehouse(self) -> Warehouse:
        return Warehouse(self._url())

    def get_conn(self) -> Warehouse:
        return self.warehouse
