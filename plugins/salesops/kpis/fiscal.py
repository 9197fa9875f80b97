"""The fiscal calendar of include/config/calendar.yaml, as plain Python.

The runner writes it into ``marts.dim_fiscal_calendar`` (one row per day) so every model maps a
date to its fiscal period with an equality join, the same on DuckDB and Snowflake.

The fiscal year starts on the first day of ``fiscal_year_start_month`` and is named after the
calendar year in which it ends: with start month 2, FY2027 = 2026-02-01 .. 2027-01-31.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta


@dataclass(frozen=True)
class FiscalDay:
    """The fiscal attributes of one calendar day."""

    date_day: date
    fiscal_year: int
    fiscal_quarter: int
    fiscal_month: int
    fiscal_year_start: date
    fiscal_year_end: date
    fiscal_quarter_start: date
    fiscal_quarter_end: date
    fiscal_month_start: date
    day_of_fiscal_quarter: int

    @property
    def fiscal_quarter_index(self) -> int:
        """A sortable, consecutive quarter number: next quarter = index + 1."""
        return self.fiscal_year * 4 + self.fiscal_quarter - 1

    @property
    def fiscal_year_label(self) -> str:
        return f"FY{self.fiscal_year}"

    @property
    def fiscal_quarter_label(self) -> str:
        return f"FY{self.fiscal_year}-Q{self.fiscal_quarter}"

    @property
    def fiscal_month_label(self) -> str:
        return f"FY{self.fiscal_year}-M{self.fiscal_month:02d}"


def _add_months(d: date, months: int) -> date:
    """First day of the month ``months`` after ``d``'s month."""
    total = d.year * 12 + (d.month - 1) + months
    return date(total // 12, total % 12 + 1, 1)


def check_start_month(start_month: int) -> int:
    if not isinstance(start_month, int) or isinstance(start_month, bool) or not 1 <= start_month <= 12:
        raise ValueError(
            f"calendar.yaml fiscal_year_start_month must be an integer 1-12, got {start_month!r}"
        )
    return start_month


def fiscal_day(d: date, start_month: int) -> FiscalDay:
    """Fiscal year, quarter, month and their boundaries for day ``d``.

    Args:
        d: the calendar day.
        start_month: first month of the fiscal year (1 = calendar year).
    """
    check_start_month(start_month)
    months_into_year = (d.month - start_month) % 12
    fy_start = _add_months(date(d.year, d.month, 1), -months_into_year)
    fy_end = _add_months(fy_start, 12) - timedelta(days=1)
    quarter = months_into_year // 3 + 1
    q_start = _add_months(fy_start, 3 * (quarter - 1))
    q_end = _add_months(q_start, 3) - timedelta(days=1)
    return FiscalDay(
        date_day=d,
        fiscal_year=fy_end.year,
        fiscal_quarter=quarter,
        fiscal_month=months_into_year + 1,
        fiscal_year_start=fy_start,
        fiscal_year_end=fy_end,
        fiscal_quarter_start=q_start,
        fiscal_quarter_end=q_end,
        fiscal_month_start=date(d.year, d.month, 1),
        day_of_fiscal_quarter=(d - q_start).days + 1,
    )


def calendar_rows(first: date, last: date, start_month: int) -> list[FiscalDay]:
    """One :class:`FiscalDay` per day from ``first`` to ``last`` inclusive."""
    if last < first:
        raise ValueError(f"calendar range is empty: {first} .. {last}")
    return [fiscal_day(first + timedelta(days=i), start_month) for i in range((last - first).days + 1)]


def quarter_after(day: FiscalDay, start_month: int, quarters: int = 1) -> FiscalDay:
    """The first day of the fiscal quarter ``quarters`` after ``day``'s quarter."""
    return fiscal_day(_add_months(day.fiscal_quarter_start, 3 * quarters), start_month)
