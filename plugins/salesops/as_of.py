"""The data's "now": one definition of the as-of time every job uses.

As-of = the source clock at the latest successful load: ``max(until)`` of the batches with status
``loaded`` in ``ops.load_audit``, never the wall clock, so re-running a job on old data gives the
same answer. The SQL form is the view ``ops.v_as_of`` (include/sql/load/create_tables.sql, created
with the load tables); SQL that needs the as-of selects from it, Python calls :func:`data_as_of`.
Quality, KPI, pack and bulk-update runs may override it (tests, backfills); the override is theirs.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from salesops.warehouse.core import Warehouse


def to_utc(value: Any) -> datetime | None:
    """A timestamp from the warehouse as an aware UTC datetime (naive values are UTC already)."""
    if value is None or value != value:  # None or NaT
        return None
    if not isinstance(value, datetime):
        import pandas as pd

        value = pd.Timestamp(value).to_pydatetime()
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def naive_utc(value: datetime | None) -> datetime | None:
    """``value`` in UTC without tzinfo (the form the warehouse's timestamp columns hold)."""
    return None if value is None else value.astimezone(UTC).replace(tzinfo=None)


def _row(wh: Warehouse) -> dict[str, Any]:
    from salesops import sql

    if not wh.table_exists("ops.load_audit"):
        return {}
    rows = wh.query(sql.render("load/as_of.sql"))
    return rows[0] if rows else {}


def data_as_of(wh: Warehouse) -> datetime | None:
    """The data's as-of time (aware UTC), or None before the first successful load."""
    return to_utc(_row(wh).get("as_of"))


def load_finished_at(wh: Warehouse) -> datetime | None:
    """When the latest successful load finished (loader clock, aware UTC), or None."""
    return to_utc(_row(wh).get("load_finished_at"))
