"""Create the raw/staging tables the manifest describes (idempotent)."""

from __future__ import annotations

import hashlib
from collections.abc import Iterable

from salesops import sql
from salesops.config import ObjectSpec, object_manifest
from salesops.warehouse.core import Warehouse

# What create_tables.sql creates besides the object's own raw and staging tables: the check that
# lets a DuckDB warehouse skip the DDL (see ensure_object_tables) wants them all present.
_SHARED_RELATIONS = (
    "ops.field_label",
    "ops.load_watermark",
    "ops.load_audit",
    "ops.quarantine",
    "raw.deleted_records",
    "ops.v_as_of",
)


def ensure_object_tables(wh: Warehouse, objects: Iterable[ObjectSpec] | None = None) -> None:
    """Create raw.<system>__<name>, staging.stg_<system>__<name> and the ops tables if missing.

    On DuckDB, an object whose definitions are already applied is not touched: its staging table's
    comment keeps a digest of the DDL last applied for it (create_tables.sql as rendered for it:
    its tables, columns and the ops tables; a comment, so no table or row is added), and while
    that digest matches, every table it creates still exists and the object's raw and staging
    tables have every manifest column, the DDL is skipped. Running it anyway cost about 0.15 CPU-s
    per call (some twenty DDL statements, a view re-created, a column reflection), twice per
    object and run (extract and load): a sixth of a small org's extract + load. A changed manifest
    or SQL file changes the digest, so the DDL (and the staging columns it adds) runs again.
    Snowflake always runs it.
    """
    with wh.pinned():
        for obj in objects if objects is not None else object_manifest().values():
            ddl = sql.render("load/create_tables.sql", dialect=wh.dialect, obj=obj)
            digest = hashlib.sha256(ddl.encode()).hexdigest()[:16]
            if wh.dialect == "duckdb" and _applied(wh, obj, digest):
                continue
            wh.execute_script(ddl)
            _add_missing_staging_columns(wh, obj)
            if wh.dialect == "duckdb":
                wh.run_file("load/record_object_ddl.sql", obj=obj, digest=digest)


def _applied(wh: Warehouse, obj: ObjectSpec, digest: str) -> bool:
    """Whether the object's DDL with this digest was applied and its tables all still exist."""
    wanted = [wh.physical(t) for t in (obj.raw_table, obj.staging_table, *_SHARED_RELATIONS)]
    if len(wh.tables_present(wanted)) < len({w.lower() for w in wanted}):
        return False
    schema, _, table = wh.physical(obj.staging_table).rpartition(".")
    noted = wh.scalar(sql.render("load/object_ddl_applied.sql"), {"s": schema, "t": table})
    if noted != f"salesops ddl {digest}":
        return False
    # and the object's tables still have every column the manifest gives them
    raw = {c.lower() for c in wh.columns(obj.raw_table)}
    staging = {c.lower() for c in wh.columns(obj.staging_table)}
    return {a.lower() for a in obj.api_fields} | {"_origin"} <= raw and {
        f.column.lower() for f in obj.fields
    } <= staging


def _add_missing_staging_columns(wh: Warehouse, obj: ObjectSpec) -> None:
    """A staging table created before the manifest gained fields gets them as null columns (a kept
    warehouse, e.g. ``make run``'s, would otherwise fail its next load on the unknown column)."""
    present = {c.lower() for c in wh.columns(obj.staging_table)}
    missing = [f for f in obj.fields if f.column.lower() not in present]
    if missing:
        wh.run_file("load/add_staging_columns.sql", obj=obj, missing=missing)
