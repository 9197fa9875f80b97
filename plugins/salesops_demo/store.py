"""The demo CRM's DuckDB file: connections, table layout and API text formatting."""

from __future__ import annotations

import os
import re
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

import duckdb

from salesops.config import ObjectSpec, object_manifest
from salesops.sources.base import SourceError

LOCK_RETRY_SECONDS = 60.0
# DuckDB's own default is 80 % of the machine's memory: the demo's 1 M-opportunity org then took
# what it liked (advance() peaked at 5 GB). Spilling instead keeps `make demo DEMO_SIZE=large` small.
MEMORY_LIMIT = os.getenv("SALESOPS_DEMO_DUCKDB_MEMORY", "1GB")

SQL_TYPES = {
    "id": "VARCHAR",
    "string": "VARCHAR",
    "int": "BIGINT",
    "decimal": "DECIMAL(18,2)",
    "double": "DOUBLE",
    "bool": "BOOLEAN",
    "date": "DATE",
    "timestamp": "TIMESTAMP",  # naive, always UTC
}

TS_FORMAT = "%Y-%m-%dT%H:%M:%S.000+0000"

# Internal tables next to the object tables.
META_DDL = [
    "CREATE TABLE meta (key VARCHAR PRIMARY KEY, value VARCHAR)",
    "CREATE TABLE deleted_records (api_name VARCHAR, Id VARCHAR, deleted_at TIMESTAMP)",
    "CREATE TABLE change_log (seq BIGINT, object VARCHAR, record_id VARCHAR, change_type VARCHAR,"
    " changed_at TIMESTAMP, origin VARCHAR)",
    "CREATE TABLE ground_truth (object VARCHAR, record_id VARCHAR, defect VARCHAR, detail VARCHAR,"
    " related_id VARCHAR)",
    # Injected duplicate pairs (not derivable by a rule) and malformed API values (stored apart
    # from the typed tables, overlaid on read).
    "CREATE TABLE dup_pairs (object VARCHAR, record_id VARCHAR, related_id VARCHAR, detail VARCHAR)",
    "CREATE TABLE malformed_values (api_name VARCHAR, Id VARCHAR, field VARCHAR, value VARCHAR)",
    # What the generator injected at seed time (the rules in rules.py must find exactly these).
    "CREATE TABLE injected_defects (object VARCHAR, record_id VARCHAR, defect VARCHAR)",
    # Simulated schema drift: columns hidden from the API (data kept) and added columns.
    "CREATE TABLE schema_drift (api_name VARCHAR, field VARCHAR, action VARCHAR)",
]


def objects_by_api() -> dict[str, ObjectSpec]:
    return {o.api_name: o for o in object_manifest().values()}


def spec(api_name: str) -> ObjectSpec:
    objs = objects_by_api()
    if api_name not in objs:
        raise SourceError(f"demo CRM has no object {api_name!r}; known objects: {sorted(objs)}")
    return objs[api_name]


def q(name: str) -> str:
    """Quote an identifier (API names are case sensitive)."""
    return '"' + name.replace('"', '""') + '"'


def create_object_table_sql(obj: ObjectSpec) -> str:
    cols = ", ".join(f"{q(f.api_name)} {SQL_TYPES[f.type]}" for f in obj.fields)
    return f"CREATE TABLE {q(obj.api_name)} ({cols})"


def text_expr(column_sql: str, ftype: str) -> str:
    """SQL that renders a typed column in the API's text form."""
    if ftype in ("id", "string"):
        return column_sql
    if ftype == "bool":
        return f"CASE WHEN {column_sql} THEN 'true' WHEN NOT {column_sql} THEN 'false' END"
    if ftype == "date":
        return f"strftime({column_sql}, '%Y-%m-%d')"
    if ftype == "timestamp":
        return f"strftime({column_sql}, '{TS_FORMAT}')"
    return f"CAST({column_sql} AS VARCHAR)"  # int, decimal (2 places), double


def to_naive_utc(ts: datetime | None) -> datetime | None:
    """API datetimes are aware or naive-UTC; the store keeps naive UTC."""
    if ts is None:
        return None
    if ts.tzinfo is not None:
        ts = ts.astimezone(UTC).replace(tzinfo=None)
    return ts


def format_ts(ts: datetime) -> str:
    return to_naive_utc(ts).strftime("%Y-%m-%dT%H:%M:%S.000+0000")


@contextmanager
def connect(path: Path, read_only: bool = False) -> Iterator[duckdb.DuckDBPyConnection]:
    """A short-lived connection; retries for up to a minute while another process holds the lock."""
    deadline = time.monotonic() + LOCK_RETRY_SECONDS
    delay = 0.1
    while True:
        try:
            con = duckdb.connect(str(path), read_only=read_only)
            break
        except duckdb.IOException as exc:
            if "lock" not in str(exc).lower() or time.monotonic() > deadline:
                raise
            time.sleep(delay)
            delay = min(delay * 2, 2.0)
    try:
        con.execute("SET TimeZone = 'UTC'")
        if MEMORY_LIMIT and re.fullmatch(r"\d+(\.\d+)?\s*[KMGT]i?B", MEMORY_LIMIT):
            con.execute(f"SET memory_limit = '{MEMORY_LIMIT}'")
        yield con
    finally:
        con.close()
