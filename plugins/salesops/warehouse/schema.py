"""Create the raw/staging tables the manifest describes (idempotent)."""

from __future__ import annotations

from collections.abc import Iterable

from salesops.config import ObjectSpec, object_manifest
from salesops.warehouse.core import Warehouse


def ensure_object_tables(wh: Warehouse, objects: Iterable[ObjectSpec] | None = None) -> None:
    """Create raw.<system>__<name>, staging.stg_<system>__<name> and the ops tables if missing."""
    for obj in objects if objects is not None else object_manifest().values():
        wh.run_file("load/create_tables.sql", obj=obj)
        _add_missing_staging_columns(wh, obj)


def _add_missing_staging_columns(wh: Warehouse, obj: ObjectSpec) -> None:
    """A staging table created before the manifest gained fields gets them as null columns (a kept
    warehouse, e.g. ``make run``'s, would otherwise fail its next load on the unknown column)."""
    present = {c.lower() for c in wh.columns(obj.staging_table)}
    missing = [f for f in obj.fields if f.column.lower() not in present]
    if missing:
        wh.run_file("load/add_staging_columns.sql", obj=obj, missing=missing)
