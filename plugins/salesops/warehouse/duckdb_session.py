"""One bounded DuckDB instance for a whole job (the quality run, the KPI build).

The warehouse engine uses ``NullPool`` so the file stays unlocked between operations; on DuckDB
that means every statement opens the database (reads its metadata) and the last close
checkpoints it. A job that runs dozens of statements holds one connection open for its length
(:func:`held`): every other connection the process opens to the same file shares that instance
(DuckDB's instance cache), its warm buffer pool and its ``memory_limit``.

``SALESOPS_DUCKDB_MEMORY_LIMIT`` caps DuckDB's buffer memory (joins, group-bys and sorts spill to
disk beyond it; DuckDB's own default is 80 % of the machine's RAM, which on a shared Airflow
worker is everyone's memory). Default ``1GB``, unless the warehouse URL already sets
``memory_limit`` (``duckdb:///...?memory_limit=1536MB``). ``SALESOPS_DUCKDB_THREADS`` caps its
threads (default: DuckDB's, one per core).
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

DEFAULT_MEMORY_LIMIT = "1GB"


def settings(url: str | None = None) -> list[str]:
    """The ``SET`` statements of a bounded job connection (empty settings are left alone)."""
    limit = os.getenv("SALESOPS_DUCKDB_MEMORY_LIMIT")
    if limit is None:
        limit = "" if url is not None and "memory_limit=" in url else DEFAULT_MEMORY_LIMIT
    out = []
    if limit:
        if not re.fullmatch(r"\d+(\.\d+)?\s*[KMGT]i?B", limit, flags=re.I):
            raise ValueError(f"SALESOPS_DUCKDB_MEMORY_LIMIT must look like 1GB or 512MiB, not {limit!r}")
        out.append(f"set memory_limit = '{limit}'")
    threads = os.getenv("SALESOPS_DUCKDB_THREADS")
    if threads:
        out.append(f"set threads = {int(threads)}")
    return out


@contextmanager
def held(wh: Any) -> Iterator[Any]:
    """A SQLAlchemy connection held for the block (DuckDB: bounded by :func:`settings`); the
    caller commits. On other warehouses it is just a session."""
    with wh.session() as conn:
        if wh.dialect == "duckdb":
            for stmt in settings(wh.url):
                conn.exec_driver_sql(stmt)
            conn.commit()
        yield conn
