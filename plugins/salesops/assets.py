"""The Assets that chain the DAGs: extract-load -> quality -> KPIs -> packs.

Light on purpose (DAG files import it at parse time): no I/O, no heavy imports.
"""

from __future__ import annotations

from airflow.sdk import Asset

_BASE = "salesops://warehouse"


def staging_asset(staging_table: str) -> Asset:
    """Asset for a staging table, e.g. ``staging_asset("staging.stg_crm__opportunity")``."""
    schema, _, table = staging_table.partition(".")
    return Asset(name=staging_table, uri=f"{_BASE}/{schema}/{table}", group="staging")


def raw_asset(raw_table: str) -> Asset:
    """Asset for a raw table, e.g. ``raw_asset("raw.crm__opportunity")`` (as extracted, all batches)."""
    schema, _, table = raw_table.partition(".")
    return Asset(name=raw_table, uri=f"{_BASE}/{schema}/{table}", group="raw")


def mart_asset(mart_table: str) -> Asset:
    """Asset for a mart table, e.g. ``mart_asset("marts.fct_pipeline_snapshot")``."""
    schema, _, table = mart_table.partition(".")
    return Asset(name=mart_table, uri=f"{_BASE}/{schema}/{table}", group="marts")


def all_staging_assets() -> list[Asset]:
    """One Asset per manifest object (reads the YAML manifest: small, cached)."""
    from salesops.config import object_manifest

    return [staging_asset(o.staging_table) for o in object_manifest().values()]


def all_raw_assets() -> list[Asset]:
    """One Asset per manifest object's raw table."""
    from salesops.config import object_manifest

    return [raw_asset(o.raw_table) for o in object_manifest().values()]


# Emitted by the quality DAG only when no blocker check failed: KPI and pack DAGs schedule on it.
QUALITY_GATE_PASSED = Asset(name="quality.gate_passed", uri="salesops://quality/gate_passed", group="quality")
# Emitted by the KPI DAG after all marts are rebuilt.
KPI_MARTS_READY = Asset(name="marts.ready", uri=f"{_BASE}/marts/_ready", group="marts")
