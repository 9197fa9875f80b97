"""quality.anomaly_check (every scored point per run) and quality.anomaly (episodes).

Episodes: one open row per series x scope at most. A run that scores the scope anomalous again
continues the open episode (last seen, latest value and band, worst severity); a run that scores
it normal resolves it; a run that cannot evaluate it (too little history) leaves it as it is. A
new episode's id is a hash of series, scope and its first anomalous period, so re-running a run
re-finds the same rows instead of adding copies.
"""

from __future__ import annotations

import hashlib
import math
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import TYPE_CHECKING, Any

from salesops import sql
from salesops.monitoring.detect import ANOMALY, NORMAL, Point

if TYPE_CHECKING:
    from salesops.policy.models.monitoring import MonitoringPolicy
    from salesops.warehouse.core import Warehouse

SEVERITY_RANK = {"warn": 1, "critical": 2}
ANOMALY_COLUMNS = [
    "anomaly_id", "series", "scope_type", "scope_value", "grain", "description", "unit", "period_start",
    "last_period_start", "value", "expected", "lower_bound", "upper_bound", "score", "direction",
    "severity", "status", "first_seen_at", "last_seen_at", "resolved_at", "first_run_id", "last_run_id",
    "likely_cause", "ticket_path", "alerted_at", "alert_log",
]  # fmt: skip


def ensure_tables(wh: Warehouse) -> None:
    wh.run_file("monitoring/create_tables.sql")


def anomaly_id(series: str, scope_type: str, scope_value: str, period: date) -> str:
    key = "|".join([series, scope_type, scope_value, period.isoformat()])
    return "AN-" + hashlib.sha1(key.encode()).hexdigest()[:10].upper()


def severity_of(point: Point, base: str, critical_score: float) -> str:
    if point.score is not None and abs(point.score) >= critical_score:
        return "critical"
    return base


@dataclass
class Fold:
    """What a run did to the episodes."""

    opened: list[str]
    continued: list[str]
    resolved: list[str]
    rows: list[dict[str, Any]]  # the touched episodes as written


def _finite(x: float | None) -> float | None:
    """Infinite z-scores stored as +/-1e308 (JSON and some engines have no infinity); NaN as null."""
    if x is None or math.isnan(x):
        return None
    return x if math.isfinite(x) else math.copysign(1e308, x)


def fold(
    existing: list[dict[str, Any]],
    points: list[Point],
    pol: MonitoringPolicy,
    run_id: str,
    as_of: datetime,
) -> Fold:
    """The episode rows after this run (pure: existing rows + this run's points in, rows out)."""
    by_scope: dict[tuple[str, str, str], list[Point]] = {}
    for p in points:
        by_scope.setdefault((p.series, p.scope_type, p.scope_value), []).append(p)
    open_rows = {
        (r["series"], r["scope_type"], r["scope_value"]): r for r in existing if r["status"] == "open"
    }
    known = {r["anomaly_id"]: r for r in existing}
    out = Fold([], [], [], [])
    for key, pts in sorted(by_scope.items()):
        anomalous = sorted((p for p in pts if p.outcome == ANOMALY), key=lambda p: p.period_start)
        row = open_rows.get(key)
        if not anomalous:
            if row is not None and any(p.outcome == NORMAL for p in pts):
                row = {**row, "status": "resolved", "resolved_at": as_of, "last_run_id": run_id}
                out.resolved.append(row["anomaly_id"])
                out.rows.append(row)
            continue
        spec = pol.series[key[0]]
        latest = anomalous[-1]
        severity = max(
            (severity_of(p, spec.severity, pol.alerts.critical_score) for p in anomalous),
            key=lambda s: SEVERITY_RANK[s],
        )
        if row is None:
            aid = anomaly_id(*key, anomalous[0].period_start)
            row = known.get(aid)
        if row is None:
            aid = anomaly_id(*key, anomalous[0].period_start)
            row = {
                "anomaly_id": aid,
                "period_start": anomalous[0].period_start,
                "first_seen_at": as_of,
                "first_run_id": run_id,
                "likely_cause": None,
                "ticket_path": None,
                "alerted_at": None,
                "alert_log": None,
                "severity": severity,
            }
            out.opened.append(aid)
        else:
            out.continued.append(row["anomaly_id"])
            if SEVERITY_RANK[severity] < SEVERITY_RANK.get(row["severity"], 0):
                severity = row["severity"]
            elif SEVERITY_RANK[severity] > SEVERITY_RANK.get(row["severity"], 0):
                row = {**row, "alerted_at": None}  # escalated: alert again at the new severity
        row = {
            **row,
            "series": key[0],
            "scope_type": key[1],
            "scope_value": key[2],
            "grain": latest.grain,
            "description": spec.description,
            "unit": spec.unit,
            "last_period_start": latest.period_start,
            "value": latest.value,
            "expected": latest.expected,
            "lower_bound": latest.lower_bound,
            "upper_bound": latest.upper_bound,
            "score": _finite(latest.score),
            "direction": latest.direction,
            "severity": severity,
            "status": "open",
            "last_seen_at": as_of,
            "resolved_at": None,
            "last_run_id": run_id,
        }
        out.rows.append(row)
    return out


def write_run(
    wh: Warehouse, run_id: str, as_of: datetime, points: list[Point], pol: MonitoringPolicy
) -> Fold:
    """Record this run's points and fold them into the episodes, in one transaction."""
    import pandas as pd
    import sqlalchemy as sa

    ensure_tables(wh)
    since = min((p.period_start for p in points), default=as_of.date()) - timedelta(days=1)
    existing = wh.query(sql.render("monitoring/select_anomalies.sql"), {"since": since})
    result = fold(existing, points, pol, run_id, as_of)
    checks = pd.DataFrame([{"run_id": run_id, "as_of": as_of, **p.to_dict()} for p in points])
    if not checks.empty:
        checks["score"] = [_finite(s) for s in checks["score"]]
    with wh.connect() as conn:
        conn.execute(sa.text(sql.render("monitoring/delete_run_checks.sql")), {"run_id": run_id})
        if not checks.empty:
            wh.insert_arrow(conn, "quality.anomaly_check", _arrow(checks))
        for row in result.rows:
            conn.execute(
                sa.text(sql.render("monitoring/delete_anomaly.sql")), {"anomaly_id": row["anomaly_id"]}
            )
        if result.rows:
            frame = pd.DataFrame([{c: r.get(c) for c in ANOMALY_COLUMNS} for r in result.rows])
            wh.insert_arrow(conn, "quality.anomaly", _arrow(frame))
    return result


def _arrow(frame: Any) -> Any:
    import pyarrow as pa

    return pa.Table.from_pandas(frame.reset_index(drop=True), preserve_index=False)


def set_alert(wh: Warehouse, anomaly_id: str, ticket_path: str | None, cause: str | None, log: str) -> None:
    wh.execute(
        sql.render("monitoring/update_alert.sql"),
        {"anomaly_id": anomaly_id, "ticket_path": ticket_path, "likely_cause": cause, "alert_log": log,
         "alerted_at": datetime.now().replace(microsecond=0)},
    )  # fmt: skip


def open_anomalies(wh: Warehouse, series: list[str] | None = None) -> list[dict[str, Any]]:
    """Open anomalies, most severe first; [] before monitoring ever ran."""
    if not wh.table_exists("quality.anomaly"):
        return []
    rows = wh.query(sql.render("monitoring/open_anomalies.sql"))
    return [r for r in rows if series is None or r["series"] in series]
