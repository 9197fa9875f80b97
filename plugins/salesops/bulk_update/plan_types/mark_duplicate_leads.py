"""mark_duplicate_leads: duplicate leads (the quality job's clusters, not the original) -> Status."""

from __future__ import annotations

from datetime import date
from typing import TYPE_CHECKING, Any

from salesops.bulk_update.model import PlanError, values_params

if TYPE_CHECKING:
    from salesops.bulk_update.quality_link import QualityLink
    from salesops.bulk_update.settings import PlanType

SQL = "plan_mark_duplicate_leads.sql"
QUALITY_GAPS_SQL = "quality_gaps_mark_duplicate_leads.sql"


def sql_context(
    pt: PlanType, as_of_date: date, quality: QualityLink | None = None
) -> tuple[dict[str, Any], dict[str, Any], dict[str, Any]]:
    """(jinja switches, bind params, scope): needs a current quality run (its duplicate clusters)."""
    from salesops.config import policy

    p = pt.params
    if quality is None or not quality.current:
        raise PlanError(
            f"plan type {pt.name} is computed from the quality job's duplicate clusters and needs a quality run "
            f"for the staging data's as-of: {quality.message if quality else 'no quality_checks configured'}"
        )
    lead_statuses = policy("stages").get("picklists", {}).get("lead_status", [])
    target = p.get("duplicate_status")
    if target not in lead_statuses:
        raise PlanError(
            f"{pt.name}.params.duplicate_status {target!r} is not in stages.yaml picklists.lead_status {lead_statuses}"
        )
    open_statuses = list(p.get("open_statuses", ["Open", "Working", "Nurturing"]))
    if target in open_statuses:
        raise PlanError(
            f"{pt.name}.params.duplicate_status {target!r} is one of the open_statuses it acts on"
        )
    kinds = [str(k) for k in p.get("match_kinds") or []]
    if not open_statuses or not kinds:
        raise PlanError(f"{pt.name}.params: open_statuses and match_kinds must not be empty")
    params = {
        **values_params("open_status", [{"status": s} for s in open_statuses]),
        **values_params("match_kind", [{"kind": k} for k in kinds]),
        "duplicate_status": target,
        "quality_run_id": quality.run_id,
        "quality_object": quality.api_name,
    }
    scope = {
        "rule": "duplicate leads (quality.duplicate_cluster, not the original) in an open status -> Status; survivor = the cluster's original",
        "duplicate_status": target,
        "open_statuses": open_statuses,
        "match_kinds": kinds,
        "quality_run_id": quality.run_id,
    }
    return {"n_statuses": len(open_statuses), "n_kinds": len(kinds)}, params, scope
