"""Helpers the plan-type modules share (not a plan type: the leading underscore hides it)."""

from __future__ import annotations

from typing import Any


def stage_policy() -> list[dict[str, Any]]:
    """stages.yaml's stages (in order).

    Raises:
        PlanError: stages.yaml defines none.
    """
    from salesops.bulk_update.model import PlanError
    from salesops.config import policy

    stages: list[dict[str, Any]] = policy("stages")["stages"]
    if not stages:
        raise PlanError("stages.yaml defines no stages")
    return stages


def stage_flags() -> tuple[dict[str, Any], dict[str, Any]]:
    """(jinja, bind params) of the ``stage_flag`` table in include/sql/bulk_update/_opportunity.sql:
    each stages.yaml stage with its is_closed flag, the stage-policy input of rules.sql is_closed
    (the opportunity plans, territory_change and its impact preview)."""
    from salesops.bulk_update.model import values_params

    rows = [{"stage_name": s["name"], "is_closed": bool(s["is_closed"])} for s in stage_policy()]
    return {"n_stage_flags": len(rows)}, values_params("stage_flag", rows)
