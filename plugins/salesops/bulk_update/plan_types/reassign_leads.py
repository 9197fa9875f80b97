"""reassign_leads: unassigned or misrouted open leads -> the territories.yaml team (round-robin)."""

from __future__ import annotations

from datetime import date
from typing import TYPE_CHECKING, Any

from salesops.bulk_update.model import values_params

if TYPE_CHECKING:
    from salesops.bulk_update.quality_link import QualityLink
    from salesops.bulk_update.settings import PlanType

SQL = "plan_reassign_leads.sql"
QUALITY_GAPS_SQL = "quality_gaps_reassign_leads.sql"
# The plan SQL routes leads with kpis/models/int_lead_routed.sql (the quality checks' and the
# speed-to-lead KPI's routing), which joins the territory tables: the plan writes them first when
# they do not hold territories.yaml (salesops.reference.ensure_territories).
READS_TERRITORIES = True


def sql_context(
    pt: PlanType, as_of_date: date, quality: QualityLink | None = None
) -> tuple[dict[str, Any], dict[str, Any], dict[str, Any]]:
    """(jinja switches, bind params, scope): the open lead statuses; the routing itself (segment,
    region, team) is the model int_lead_routed over the territory tables (READS_TERRITORIES)."""
    p = pt.params
    statuses = [{"status": s} for s in p.get("open_statuses", ["Open", "Working", "Nurturing"])]
    params = values_params("open_status", statuses)
    jinja = {
        "n_statuses": len(statuses),
        "include_misrouted": bool(p.get("include_misrouted", True)),
    }
    scope = {
        "rule": "unassigned or misrouted open leads -> territories.yaml team, round-robin by lead id",
        "open_statuses": [s["status"] for s in statuses],
        "include_misrouted": jinja["include_misrouted"],
    }
    return jinja, params, scope
