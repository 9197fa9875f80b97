"""move_past_close_dates: open with CloseDate in the past -> end of the fiscal quarter."""

from __future__ import annotations

from datetime import date, timedelta
from typing import TYPE_CHECKING, Any

from salesops.bulk_update.model import PlanError

if TYPE_CHECKING:
    from salesops.bulk_update.quality_link import QualityLink
    from salesops.bulk_update.settings import PlanType

SQL = "plan_move_past_close_dates.sql"
QUALITY_GAPS_SQL = "quality_gaps_move_past_close_dates.sql"


def sql_context(
    pt: PlanType, as_of_date: date, quality: QualityLink | None = None
) -> tuple[dict[str, Any], dict[str, Any], dict[str, Any]]:
    """(jinja switches, bind params, scope): the past-due cutoff and the new close date."""
    from salesops.bulk_update.plan_types._common import stage_flags
    from salesops.config import policy
    from salesops.kpis.fiscal import fiscal_day

    p = pt.params
    grace = int(policy("hygiene")["close_date"].get("past_due_grace_days", 0))
    if p.get("target", "end_of_fiscal_quarter") != "end_of_fiscal_quarter":
        raise PlanError(
            f"move_past_close_dates.params.target {p.get('target')!r} is not supported (end_of_fiscal_quarter)"
        )
    fy_start = int(policy("calendar")["fiscal_year_start_month"])
    new_date = fiscal_day(as_of_date, fy_start).fiscal_quarter_end
    if (new_date - as_of_date).days < int(p.get("min_days_ahead", 0)):
        new_date = fiscal_day(new_date + timedelta(days=1), fy_start).fiscal_quarter_end
    stale_days = int(policy("hygiene")["stale_opportunity"]["days_without_activity"])
    params = {
        "past_due_before": (as_of_date - timedelta(days=grace)).isoformat(),
        "new_close_date": new_date.isoformat(),
        "stale_cutoff_date": (as_of_date - timedelta(days=stale_days)).isoformat(),
    }
    jinja = {"exclude_stale": bool(p.get("exclude_stale", True))}
    scope = {"rule": "open with CloseDate in the past -> end of fiscal quarter", **params, **jinja}
    flags_jinja, flags_params = stage_flags()
    return {**jinja, **flags_jinja}, {**params, **flags_params}, scope
