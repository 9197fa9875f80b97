"""Task body of the monitoring step (``detect_anomalies`` in the kpi_transforms DAG)."""

from __future__ import annotations

import logging
from datetime import date, datetime
from typing import TYPE_CHECKING, Any

from salesops import policy

if TYPE_CHECKING:
    from salesops.warehouse.core import Warehouse

log = logging.getLogger(__name__)


def _as_of(wh: Warehouse) -> tuple[date, datetime]:
    """The KPI build's as-of (marts.kpi_context): series are scored at the marts' own time."""
    import pandas as pd

    row = wh.query("select as_of_date, as_of_ts from marts.kpi_context")[0]
    return pd.Timestamp(row["as_of_date"]).date(), pd.Timestamp(row["as_of_ts"]).to_pydatetime()


def monitor(wh: Warehouse, run_id: str, alert: bool = True) -> dict[str, Any]:
    """Score every series, fold the episodes into quality.anomaly, alert; a JSON-able summary."""
    from salesops.monitoring import alerts, store
    from salesops.monitoring.series import score_all

    pol = policy.monitoring()
    as_of_date, as_of_ts = _as_of(wh)
    points = score_all(wh, as_of_date, pol)
    fold = store.write_run(wh, run_id, as_of_ts, points, pol)
    sent = alerts.alert_open(wh, pol) if alert else []
    summary = {
        "as_of_date": as_of_date.isoformat(),
        "points": len(points),
        "anomalous": sum(p.outcome == "anomaly" for p in points),
        "not_evaluated": sum(p.outcome == "not_evaluated" for p in points),
        "opened": fold.opened,
        "continued": fold.continued,
        "resolved": fold.resolved,
        "alerted": [s["anomaly_id"] for s in sent],
    }
    log.info("monitoring as of %s: %s", as_of_date, summary)
    return summary


def detect_anomalies(run_id: str, warehouse_conn_id: str) -> dict[str, Any]:
    from salesops.warehouse.duckdb_session import held
    from salesops.warehouse.hook import WarehouseHook

    wh = WarehouseHook(warehouse_conn_id).warehouse
    # one DuckDB instance for the task's series queries, episode fold and alert look-ups (opened
    # once, warm buffer pool, bounded memory_limit) instead of opening the file for each of them
    with held(wh):
        return monitor(wh, run_id)
