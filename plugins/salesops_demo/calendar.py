"""Fiscal calendar helpers (include/config/calendar.yaml) and time utilities of the demo."""

from __future__ import annotations

from datetime import date, datetime

import numpy as np

from salesops.config import policy


def fiscal_start_month() -> int:
    return int(policy("calendar").get("fiscal_year_start_month", 1))


def quarter_start(d: date) -> date:
    """First day of the fiscal quarter containing ``d``."""
    fs = fiscal_start_month()
    months_into_fy = (d.month - fs) % 12
    month = (fs - 1 + months_into_fy - months_into_fy % 3) % 12 + 1
    year = d.year if month <= d.month else d.year - 1
    return date(year, month, 1)


def add_quarters(qs: date, k: int) -> date:
    m = qs.year * 12 + (qs.month - 1) + 3 * k
    return date(m // 12, m % 12 + 1, 1)


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
