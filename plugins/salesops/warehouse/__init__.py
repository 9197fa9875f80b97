"""The warehouse: a thin layer over SQLAlchemy (DuckDB file by default, Snowflake in production)."""

from salesops.warehouse.core import Warehouse, WarehouseError, default_warehouse_url

__all__ = ["Warehouse", "WarehouseError", "default_warehouse_url"]
