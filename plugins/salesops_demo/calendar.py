"""Fiscal calendar helpers (include/config/calendar.yaml) and time utilities of the demo."""

from __future__ import annotations

from datetime import date, datetime

import numpy as np

from salesops.config import policy
from salesops.kpis.fiscal import fiscal_day, quarter_after


def fiscal_start_month() -> int:
    return int(policy("calendar").get("fiscal_year_start_month", 1))


def quarter_start(d: date) -> date:
    """First day of the fiscal quarter containing ``d`` (the one fiscal calendar: kpis/fiscal.py)."""
    return fiscal_day(d, fiscal_start_month()).fiscal_quarter_start


def add_quarters(qs: date, k: int) -> date:
    """First day of the fiscal quarter ``k`` quarters after the one containing ``qs``."""
    return quarter_after(fiscal_day(qs, fiscal_start_month()), fiscal_start_month(), k).fiscal_quarter_start


def d64(d: date | datetime) -> np.datetime64:
    return np.datetime64(d.date() if isinstance(d, datetime) else d, "D")


def s64(ts: datetime) -> np.datetime64:
    return np.datetime64(ts.replace(tzinfo=None), "s")


DAY = np.timedelta64(1, "D")
SEC = np.timedelta64(1, "s")
HOUR = np.timedelta64(3600, "s")


def parse_start(value: str) -> datetime:
    """'2026-11-02T06:00:00Z' -> naive UTC datetime."""
    ts = datetime.fromisoformat(value.replace("Z", "+00:00"))
    if ts.tzinfo is not None:
        from datetime import UTC

        ts = ts.astimezone(UTC).replace(tzinfo=None)
    return ts
