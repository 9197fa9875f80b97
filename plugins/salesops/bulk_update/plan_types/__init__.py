"""Plan types: one module per type, discovered from this package.

A plan type is

- a module here, ``plan_types/<name>.py`` (the module name is the type's name), defining
  ``SQL`` (the plan SQL under include/sql/bulk_update/), optionally ``QUALITY_GAPS_SQL`` (the SQL
  that explains which open quality exceptions the plan leaves alone and why) and
  ``sql_context(pt, as_of_date, quality) -> (jinja switches, bind params, scope description)``;
- its SQL files under include/sql/bulk_update/;
- its policy entry in include/config/bulk_updates.yaml ``plan_types.<name>`` (fields, limits,
  approver group: policy stays data).

:func:`names` lists the types without importing their modules (the crm_bulk_update DAG builds its
``plan_type`` enum from it at parse time); :func:`get` imports one. Plan-type modules import only
the standard library and ``salesops.bulk_update.model`` at module level (policy and the fiscal
calendar inside ``sql_context``), so they never pull the warehouse stack into a DAG file.
"""

from __future__ import annotations

import importlib
import pkgutil
from datetime import date
from types import ModuleType
from typing import TYPE_CHECKING, Any, Protocol, cast

if TYPE_CHECKING:
    from salesops.bulk_update.quality_link import QualityLink
    from salesops.bulk_update.settings import PlanType

# The DAG's default plan type (first in :func:`names`).
DEFAULT = "fix_forecast_category"


class PlanTypeModule(Protocol):
    """What a plan-type module defines."""

    SQL: str

    def sql_context(
        self, pt: PlanType, as_of_date: date, quality: QualityLink | None
    ) -> tuple[dict[str, Any], dict[str, Any], dict[str, Any]]: ...


def names() -> list[str]:
    """Every plan type in this package: :data:`DEFAULT` first, then by name (no module imported)."""
    found = sorted(m.name for m in pkgutil.iter_modules(__path__) if not m.name.startswith("_"))
    return sorted(found, key=lambda n: (n != DEFAULT, n))


def get(name: str) -> PlanTypeModule:
    """The module of plan type ``name``.

    Raises:
        PlanError: no such module in this package.
    """
    from salesops.bulk_update.model import PlanError

    if name not in names():
        raise PlanError(
            f"plan type {name!r} has no module plugins/salesops/bulk_update/plan_types/{name}.py; "
            f"plan types: {', '.join(names())}"
        )
    module: ModuleType = importlib.import_module(f"{__name__}.{name}")
    return cast("PlanTypeModule", module)


def quality_gaps_sql(name: str) -> str | None:
    """The plan type's quality-gaps SQL file (include/sql/bulk_update/), if it has one."""
    value = getattr(get(name), "QUALITY_GAPS_SQL", None)
    return str(value) if value else None
