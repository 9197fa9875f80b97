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


def sql_context(
    pt: PlanType, as_of_date: date, quality: QualityLink | None = None
) -> tuple[dict[str, Any], dict[str, Any], dict[str, Any]]:
    """(jinja switches, bind params, scope): territories.yaml's regions, segments and routing rules."""
    from salesops.config import policy

    p = pt.params
    terr = policy("territories")
    countries = [{"country": c, "region": r} for r, cs in terr["regions"].items() for c in cs]
    segments = [{"segment": s["name"], "min_employees": int(s["min_employees"])} for s in terr["segments"]]
    rules = [
        {"rule_order": i, "segment": r["segment"], "region": r["region"], "team": r["team"]}
        for i, r in enumerate(terr["routing_rules"])
    ]
    statuses = [{"status": s} for s in p.get("open_statuses", ["Open", "Working", "Nurturing"])]
    params = {
        **values_params("country_region", countries),
        **values_params("segment_floor", segments),
        **values_params("routing_rule", rules),
        **values_params("open_status", statuses),
    }
    jinja = {
        "n_countries": len(countries),
        "n_segments": len(segments),
        "n_rules": len(rules),
        "n_statuses": len(statuses),
        "include_misrouted": bool(p.get("include_misrouted", True)),
    }
    scope = {
        "rule": "unassigned or misrouted open leads -> territories.yaml team, round-robin by lead id",
        "open_statuses": [s["status"] for s in statuses],
        "include_misrouted": jinja["include_misrouted"],
    }
    return jinja, params, scope
