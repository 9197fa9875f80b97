"""Run the series SQL (include/sql/monitoring/series/<sql>.sql) and score every enabled series."""

from __future__ import annotations

import logging
from datetime import date, timedelta
from typing import TYPE_CHECKING, Any

from salesops import policy
from salesops.monitoring.detect import Point, score_series

if TYPE_CHECKING:
    import pandas as pd

    from salesops.policy.models.monitoring import Defaults, MonitoringPolicy, Series
    from salesops.warehouse.core import Warehouse

log = logging.getLogger(__name__)

COLUMNS = ["scope_type", "scope_value", "day", "numerator", "denominator"]
SYNC_LOOKBACK_DAYS = 400


def series_path(spec: Series) -> str:
    return f"monitoring/series/{spec.sql}.sql"


def lookback_start(spec: Series, knobs: Defaults, as_of_date: date) -> date:
    """The first day a series needs: its training and detection windows (x7 for weekday seasonality)."""
    if spec.grain == "sync":
        return as_of_date - timedelta(days=SYNC_LOOKBACK_DAYS)
    step = 1 if spec.grain == "day" else 7
    periods = knobs.training_periods + knobs.detection_periods + 1
    if knobs.seasonality == "day_of_week":
        periods *= 7
    return as_of_date - timedelta(days=step * periods)


def bind(spec: Series, knobs: Defaults, as_of_date: date) -> dict[str, Any]:
    return {"as_of_date": as_of_date, "from_date": lookback_start(spec, knobs, as_of_date)}


def fetch(wh: Warehouse, spec: Series, knobs: Defaults, as_of_date: date) -> pd.DataFrame:
    """The series frame (the SQL contract's columns), checked."""
    from salesops.quality import _db

    frame = _db.fetch_df(wh, series_path(spec), bind(spec, knobs, as_of_date))
    frame.columns = [c.lower() for c in frame.columns]
    missing = [c for c in COLUMNS if c not in frame.columns]
    if missing:
        raise ValueError(f"include/sql/{series_path(spec)}: columns {missing} missing (expected {COLUMNS})")
    frame["numerator"] = frame["numerator"].astype(float)
    frame["denominator"] = frame["denominator"].astype(float)
    return frame[COLUMNS]


def score_all(
    wh: Warehouse, as_of_date: date, pol: MonitoringPolicy | None = None, only: list[str] | None = None
) -> list[Point]:
    """Score every enabled series of monitoring.yaml (or the ``only`` ones) as of ``as_of_date``."""
    pol = pol or policy.monitoring()
    points: list[Point] = []
    for name, spec in pol.series.items():
        if not spec.enabled or (only is not None and name not in only):
            continue
        knobs = pol.resolved(name)
        scored = score_series(name, spec, knobs, fetch(wh, spec, knobs, as_of_date), as_of_date)
        log.info(
            "series %s: %d points scored, %d anomalous, %d not evaluated",
            name,
            len(scored),
            sum(p.outcome == "anomaly" for p in scored),
            sum(p.outcome == "not_evaluated" for p in scored),
        )
        points.extend(scored)
    return points
