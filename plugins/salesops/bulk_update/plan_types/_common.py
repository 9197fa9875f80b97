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
