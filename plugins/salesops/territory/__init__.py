"""Territory maps and assignment history: which map was applied when, who owned an account on a date.

The territory_change bulk-update plan type (salesops.bulk_update.plan_types.territory_change)
writes ``ops.territory_map_version`` (every proposal with its plan; status proposed, applied,
applied_with_errors, undone) and ``ops.territory_assignment_history`` (account -> owner and
territory, valid from/to). This module reads them; ``python -m salesops.territory`` is its CLI
(``maps``, ``as-of``, ``demo-map``).
"""

from __future__ import annotations

from datetime import date, datetime
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from salesops.warehouse import Warehouse


def _ensure(wh: Warehouse) -> None:
    wh.run_file("bulk_update/create_territory_tables.sql")


def map_versions(wh: Warehouse) -> list[dict[str, Any]]:
    """Every proposed map with its plan, status and when it was applied or undone (oldest first)."""
    from salesops.bulk_update import store

    _ensure(wh)
    return store.query(wh, "territory_select_maps.sql")


def assignments_as_of(wh: Warehouse, when: datetime | date | str) -> list[dict[str, Any]]:
    """Each account's owner, territory and map version at ``when`` (a moment, date or ISO text).

    Raises:
        PlanError: "not available" - no map was applied yet, or ``when`` is before the history
            starts (the owners as of the first applied plan's data); no number is made up.
    """
    from salesops.bulk_update import store
    from salesops.bulk_update.model import PlanError, iso

    _ensure(wh)
    at = when if isinstance(when, datetime) else datetime.fromisoformat(str(when))
    if isinstance(when, date) and not isinstance(when, datetime):
        at = datetime(when.year, when.month, when.day)
    start = store.query(wh, "territory_history_start.sql")[0]["history_start"]
    if start is None:
        raise PlanError("territory assignments not available: no territory map has been applied yet")
    stamp = iso(at)
    if stamp is None or stamp < iso(start):  # type: ignore[operator]
        raise PlanError(
            f"territory assignments as of {stamp} not available: the territory history starts {start} "
            "(the owners as of the data of the first applied territory change)"
        )
    return store.query(wh, "territory_history_as_of.sql", {"as_of": stamp})
