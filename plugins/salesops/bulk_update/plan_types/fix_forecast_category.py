"""fix_forecast_category: ForecastCategoryName not allowed for the stage -> the stage's default."""

from __future__ import annotations

from datetime import date
from typing import TYPE_CHECKING, Any

from salesops.bulk_update.model import values_params

if TYPE_CHECKING:
    from salesops.bulk_update.quality_link import QualityLink
    from salesops.bulk_update.settings import PlanType

SQL = "plan_fix_forecast_category.sql"
QUALITY_GAPS_SQL = "quality_gaps_fix_forecast_category.sql"


def sql_context(
    pt: PlanType, as_of_date: date, quality: QualityLink | None = None
) -> tuple[dict[str, Any], dict[str, Any], dict[str, Any]]:
    """(jinja switches, bind params, scope): stages.yaml's default and allowed categories per stage."""
    from salesops.bulk_update.plan_types._common import stage_policy

    stages = stage_policy()
    defaults = [{"stage_name": s["name"], "category": s["forecast_categories"][0]} for s in stages]
    allowed = [{"stage_name": s["name"], "category": c} for s in stages for c in s["forecast_categories"]]
    params = {**values_params("stage_default", defaults), **values_params("stage_allowed", allowed)}
    scope = {"rule": "ForecastCategoryName not allowed for the stage (stages.yaml) -> policy default"}
    return {"n_stages": len(defaults), "n_allowed": len(allowed)}, params, scope
