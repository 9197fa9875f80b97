"""Reference tables: the fiscal calendar and the territory rules as tables every job joins.

One definition each, written from policy by one function and joined by every job that needs them:

- ``marts.dim_fiscal_calendar`` — one row per day, from :mod:`salesops.kpis.fiscal` (the one Python
  definition of the fiscal calendar, calendar.yaml ``fiscal_year_start_month``);
- ``marts.dim_segment_band``, ``marts.dim_country_region``, ``marts.dim_routing_rule``,
  ``marts.dim_routing_sla`` — territories.yaml, read by the one routing model
  ``include/sql/kpis/models/int_lead_routed.sql``.

The KPI build writes them with its other seeds. The quality run writes them before its checks (it
runs before the KPI build), so the quality check ``reconciliation_variance`` labels fiscal quarters
with the same calendar as the marts and packs, and the routing checks include the same
``int_lead_routed`` select as the speed-to-lead KPI. Every write replaces the tables (idempotent).
A bulk-update plan that routes leads (``reassign_leads``) includes the same model too; it calls
:func:`ensure_territories`, which writes the territory tables only when they do not already hold
territories.yaml (so a plan never empties a table another job is reading).
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from salesops import policy as _policy
from salesops import sql
from salesops.kpis.fiscal import calendar_rows

if TYPE_CHECKING:
    from salesops.warehouse.core import Warehouse

TABLES = (
    "dim_fiscal_calendar",
    "dim_segment_band",
    "dim_country_region",
    "dim_routing_rule",
    "dim_routing_sla",
)


def to_date(value: Any) -> date | None:
    """A date from a date, datetime or ISO string (None for None or ""); ValueError otherwise."""
    if value is None or value == "":
        return None
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    return date.fromisoformat(str(value)[:10])


def calendar_span(wh: Warehouse, as_of: date) -> tuple[date, date]:
    """Whole years around the data's dates (clamped: a typo'd close date in 9999 must not
    make a million-row calendar; such dates simply get no fiscal period)."""
    lo = hi = as_of
    row = wh.query(sql.render("kpis/seeds/date_bounds.sql", dialect=wh.dialect))[0]
    for value in (row["lo"], row["hi"]):
        d = to_date(value)
        if d is not None:
            lo, hi = min(lo, d), max(hi, d)
    lo = max(lo, date(as_of.year - 15, 1, 1))
    hi = min(hi, date(as_of.year + 10, 12, 31))
    return date(lo.year - 1, 1, 1), date(hi.year + 2, 12, 31)


def calendar_table(first: date, last: date, start_month: int) -> list[dict[str, Any]]:
    """Rows of ``marts.dim_fiscal_calendar`` from ``first`` to ``last`` (kpis/fiscal.py)."""
    return [
        {
            "date_day": d.date_day,
            "fiscal_year": d.fiscal_year,
            "fiscal_quarter": d.fiscal_quarter,
            "fiscal_month": d.fiscal_month,
            "fiscal_year_label": d.fiscal_year_label,
            "fiscal_quarter_label": d.fiscal_quarter_label,
            "fiscal_month_label": d.fiscal_month_label,
            "fiscal_quarter_index": d.fiscal_quarter_index,
            "fiscal_year_start": d.fiscal_year_start,
            "fiscal_year_end": d.fiscal_year_end,
            "fiscal_quarter_start": d.fiscal_quarter_start,
            "fiscal_quarter_end": d.fiscal_quarter_end,
            "fiscal_month_start": d.fiscal_month_start,
            "day_of_fiscal_quarter": d.day_of_fiscal_quarter,
        }
        for d in calendar_rows(first, last, start_month)
    ]


def territory_tables() -> dict[str, list[dict[str, Any]]]:
    """Rows of the territory tables (territories.yaml)."""
    terr = _policy.territories()
    bands = terr.segment_bands()
    country_region: dict[str, str] = {}
    for region, countries in terr.regions.items():
        for country in countries:
            country_region.setdefault(country, region)  # first region listing a country wins
    return {
        "dim_segment_band": [
            {
                "segment": name,
                "min_employees": lo,
                "max_employees_exclusive": bands[i + 1][1] if i + 1 < len(bands) else None,
            }
            for i, (name, lo) in enumerate(bands)
        ],
        "dim_country_region": [{"country": c, "region": r} for c, r in country_region.items()],
        "dim_routing_rule": [
            {"rule_order": i + 1, "segment": r.segment, "region": r.region, "team": r.team}
            for i, r in enumerate(terr.routing_rules)
        ],
        "dim_routing_sla": [
            {"segment": k, "assignment_hours": float(v)} for k, v in terr.sla.assignment_hours.items()
        ],
    }


def reference_rows(wh: Warehouse, as_of: date) -> dict[str, list[dict[str, Any]]]:
    """Every reference table's rows: the calendar spans the data's dates around ``as_of``."""
    first, last = calendar_span(wh, as_of)
    start_month = _policy.calendar().fiscal_year_start_month
    return {"dim_fiscal_calendar": calendar_table(first, last, start_month), **territory_tables()}


def insert_rows(wh: Warehouse, conn: Any, table: str, rows: list[dict[str, Any]]) -> None:
    """Insert seed rows into ``marts.<table>`` (bind parameters; Arrow for thousands of rows)."""
    if not rows:
        return
    from salesops.warehouse.core import check_identifier

    check_identifier(f"marts.{table}")
    if len(rows) > 200:
        # Thousands of calendar days: one bulk Arrow insert, not row-by-row bind params.
        import pyarrow as pa

        wh.insert_arrow(conn, f"marts.{table}", pa.Table.from_pylist(rows))
        return
    import sqlalchemy as sa

    columns = [check_identifier(c) for c in rows[0]]
    conn.execute(sa.text(sql.render("kpis/seeds/insert_rows.sql", table=table, columns=columns)), rows)


def _comparable(rows: list[dict[str, Any]]) -> list[tuple[Any, ...]]:
    """Rows as sorted tuples with numbers as floats (the warehouse returns ints, Decimals, floats)."""
    out = []
    for row in rows:
        out.append(
            tuple(
                (k, float(v) if isinstance(v, int | float | Decimal) and not isinstance(v, bool) else v)
                for k, v in sorted(row.items())
            )
        )
    return sorted(out, key=repr)


def territories_current(wh: Warehouse) -> bool:
    """Whether every territory table exists and holds exactly territories.yaml's rows."""
    from salesops.warehouse.core import check_identifier

    for table, want in territory_tables().items():
        if not wh.table_exists(f"marts.{table}"):
            return False
        got = wh.query(sql.render("reference/select_table.sql", table=check_identifier(table)))
        if _comparable(got) != _comparable(want):
            return False
    return True


def ensure_territories(wh: Warehouse) -> bool:
    """Write the territory tables (one transaction) unless they already hold territories.yaml.

    Returns:
        Whether it wrote them.
    """
    if territories_current(wh):
        return False
    import sqlalchemy as sa

    from salesops.warehouse.core import split_statements

    script = sql.render("reference/create_territory_tables.sql", dialect=wh.dialect)
    with wh.connect() as conn:
        for stmt in split_statements(script):
            conn.execute(sa.text(stmt))
        for table, table_rows in territory_tables().items():
            insert_rows(wh, conn, table, table_rows)
    return True


def write_reference(wh: Warehouse, as_of: date) -> None:
    """(Re)write the reference tables in one transaction (the quality run calls this first)."""
    import sqlalchemy as sa

    from salesops.warehouse.core import split_statements

    rows = reference_rows(wh, as_of)
    script = sql.render("reference/create_tables.sql", dialect=wh.dialect)
    with wh.connect() as conn:
        for stmt in split_statements(script):
            conn.execute(sa.text(stmt))
        for table, table_rows in rows.items():
            insert_rows(wh, conn, table, table_rows)
