"""Warehouse reads/writes for the quality job: DataFrames in and out, fast on DuckDB."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from salesops import sql
from salesops.config import object_manifest
from salesops.warehouse.core import Warehouse

if TYPE_CHECKING:
    import pandas as pd
    import pyarrow as pa

# `:name` bind parameters (SQLAlchemy style), not `::` casts (our SQL uses cast() anyway).
_BIND = re.compile(r"(?<![:\w]):([A-Za-z_][A-Za-z0-9_]*)")


def bind_names(statement: str) -> list[str]:
    """The ``:name`` bind parameters of a statement."""
    return _BIND.findall(statement)


def duckdb_settings(url: str | None = None) -> list[str]:
    """The bounded DuckDB settings of the run (salesops.warehouse.duckdb_session)."""
    from salesops.warehouse.duckdb_session import settings

    return settings(url)


def tables() -> dict[str, str]:
    """Staging table per manifest object name, for the SQL templates."""
    return {name: obj.staging_table for name, obj in object_manifest().items()}


def render(wh: Warehouse, relpath: str, **jinja: Any) -> str:
    return sql.render(relpath, dialect=wh.dialect, tables=tables(), **jinja)


def fetch_df(
    wh: Warehouse, relpath: str, params: Mapping[str, Any] | None = None, **jinja: Any
) -> pd.DataFrame:
    """Run include/sql/<relpath> and return a DataFrame.

    On DuckDB the native driver's Arrow path is used (a million rows in about a second instead
    of tens of seconds through SQLAlchemy row fetching).
    """
    statement = render(wh, relpath, **jinja)
    if wh.dialect == "duckdb":
        names = set(_BIND.findall(statement))
        missing = names - set(params or {})
        if missing:
            raise ValueError(f"{relpath}: bind parameters {sorted(missing)} not given")
        native = _BIND.sub(lambda mt: "$" + mt.group(1), statement)
        with wh.raw_duckdb() as duck:
            return duck.execute(native, {k: v for k, v in (params or {}).items() if k in names}).df()
    return wh.query_df(statement, params)


def fetch_arrow(
    wh: Warehouse, relpath: str, params: Mapping[str, Any] | None = None, **jinja: Any
) -> pa.Table:
    """Run include/sql/<relpath> and return an Arrow table (no pandas objects per value)."""
    import pyarrow as pa

    if wh.dialect == "duckdb":
        statement = render(wh, relpath, **jinja)
        names = set(_BIND.findall(statement))
        native = _BIND.sub(lambda mt: "$" + mt.group(1), statement)
        with wh.raw_duckdb() as duck:
            return duck.sql(
                native, params={k: v for k, v in (params or {}).items() if k in names}
            ).to_arrow_table()
    return pa.Table.from_pandas(fetch_df(wh, relpath, params, **jinja), preserve_index=False)


def write_df(wh: Warehouse, qualified: str, df: pd.DataFrame) -> int:
    """Append ``df`` to ``qualified`` by column name (one transaction)."""
    import pyarrow as pa

    if df.empty:
        return 0
    table = pa.Table.from_pandas(df.reset_index(drop=True), preserve_index=False)
    with wh.connect() as conn:
        return wh.insert_arrow(conn, qualified, table)
