"""The latest quality run's results, as the tests read them back (quality.run, check_result)."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from salesops.warehouse import Warehouse


def latest_run(wh: Warehouse) -> str:
    """The run id of the most recent quality run."""
    return str(wh.scalar("select run_id from quality.run order by started_at desc limit 1"))


def check_results(wh: Warehouse, check_ids: Iterable[str]) -> dict[str, dict[str, Any]]:
    """check id -> its company-wide result row (status, evaluated, failed, reason) of the latest run."""
    wanted = set(check_ids)
    rows = wh.query(
        "select check_id, status, evaluated, failed, reason from quality.check_result "
        "where run_id = :r and scope_type = 'all'",
        {"r": latest_run(wh)},
    )
    return {r["check_id"]: r for r in rows if r["check_id"] in wanted}
