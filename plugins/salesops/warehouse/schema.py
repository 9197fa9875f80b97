"""Create the raw/staging tables the manifest describes (idempotent)."""

from __future__ import annotations

from collections.abc import Iterable

from salesops.config import ObjectSpec, object_manifest
from salesops.warehouse.core import Warehouse


def ensure_object_tables(wh: Warehouse, objects: Iterable[ObjectSpec] | None = None) -> None:
    """Create raw.<system>__<name>, staging.stg_<system>__<name> and the ops tables if missing."""
    for obj in objects if objects is not None else object_manifest().values():
        wh.run_file("load/create_tables.sql", obj=obj)
