"""close_stale_opportunities: open, no activity well beyond the stale threshold -> Closed Lost."""

from __future__ import annotations

from datetime import date, timedelta
from typing import TYPE_CHECKING, Any

from salesops.bulk_update.model import PlanError

if TYPE_CHECKING:
    from salesops.bulk_update.quality_link import QualityLink
    from salesops.bulk_update.settings import PlanType

SQL = "plan_close_stale_opportunities.sql"
QUALITY_GAPS_SQL = "quality_gaps_close_stale_opportunities.sql"


def sql_context(
    pt: PlanType, as_of_date: date, quality: QualityLink | None = None
) -> tuple[dict[str, Any], dict[str, Any], dict[str, Any]]:
    """(jinja switches, bind params, scope): the stale cutoff and the closed-lost stage's values."""
    from salesops.bulk_update.plan_types._common import stage_flags, stage_policy
    from salesops.config import policy

    p = pt.params
    stale_days = int(policy("hygiene")["stale_opportunity"]["days_without_activity"]) + int(
        p.get("extra_margin_days", 0)
    )
    target = p.get("target_stage", "Closed Lost")
    stage = next((s for s in stage_policy() if s["name"] == target), None)
    if stage is None or not stage.get("is_closed") or stage.get("is_won"):
        raise PlanError(
            f"close_stale_opportunities.params.target_stage {target!r} is not a closed-lost stage in stages.yaml"
        )
    reasons = policy("stages").get("picklists", {}).get("loss_reason", [])
    loss_reason = p.get("loss_reason")
    if loss_reason not in reasons:
        raise PlanError(
            f"close_stale_opportunities.params.loss_reason {loss_reason!r} is not in stages.yaml picklists.loss_reason {reasons}"
        )
    cutoff = as_of_date - timedelta(days=stale_days)
    params = {
        "cutoff_date": cutoff.isoformat(),
        "target_stage": target,
        "target_category": stage["forecast_categories"][0],
        "target_probability": str(stage["probability"]),
        "loss_reason": loss_reason,
    }
    scope = {
        "rule": f"open, no activity for more than {stale_days} days (last activity or creation before {cutoff})",
        **params,
    }
    flags_jinja, flags_params = stage_flags()
    return flags_jinja, {**params, **flags_params}, scope
