"""KPI policy: the values the models use, read and validated from include/config.

Sources: kpis.yaml (KPI-only choices), stages.yaml (stage order, probability, forecast
categories, required fields), calendar.yaml (fiscal year start, slippage cutoff), hygiene.yaml
(stale days, past-due grace), territories.yaml (segment bands, routing SLA hours).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from salesops.config import ConfigError, get_object, policy
from salesops.kpis.fiscal import check_start_month

# Rollup levels the by-level marts support, and the int_user_rollup columns each groups on.
ROLLUP_LEVELS = {
    "rep": ("user_id", "coalesce(user_name, user_id)"),
    "manager": ("manager_id", "coalesce(manager_name, manager_id)"),
    "region": ("region", "region"),
    "segment": ("segment", "segment"),
    "team": ("team", "team"),
    "company": ("'all'", "'All'"),
}
PERIOD_GRAINS = ("fiscal_month", "fiscal_quarter", "fiscal_year")


def snake(value: str) -> str:
    """A safe SQL column stem for a policy value: ``"Best Case"`` -> ``best_case``."""
    out = re.sub(r"[^a-z0-9]+", "_", value.lower()).strip("_")
    if not out or out[0].isdigit():
        raise ConfigError(f"cannot derive a column name from {value!r}")
    return out


def _int(value: Any, where: str, minimum: int = 0) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
        raise ConfigError(f"{where}: expected an integer >= {minimum}, got {value!r}")
    return value


def _number(value: Any, where: str) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or value < 0:
        raise ConfigError(f"{where}: expected a non-negative number, got {value!r}")
    return float(value)


def _str_list(value: Any, where: str) -> list[str]:
    if value is None:
        return []
    if not isinstance(value, list) or not all(isinstance(v, str) and v for v in value):
        raise ConfigError(f"{where}: expected a list of non-empty strings, got {value!r}")
    return list(value)


@dataclass(frozen=True)
class Comparison:
    """One movement comparison: a start snapshot ``days_back`` before the end, or the quarter start."""

    label: str
    days_back: int | None
    from_quarter_start: bool


@dataclass(frozen=True)
class KpiPolicy:
    """Everything the KPI models read from config, validated."""

    fiscal_year_start_month: int
    slippage_cutoff_day: int
    stale_days: int
    past_due_grace_days: int
    rollup_levels: tuple[str, ...]
    quota_rollup_roles: tuple[str, ...]
    coverage_target_ratio: float | None
    comparisons: tuple[Comparison, ...]
    at_risk_past_close_date: bool
    at_risk_min_pushes: int
    at_risk_inactive_days: int
    at_risk_large_min_amount: float
    at_risk_large_max_stage_order: int
    at_risk_large_days_to_quarter_end: int
    excluded_loss_reasons: tuple[str, ...]
    arr_added_types: tuple[str, ...]
    funnel_stages: tuple[str, ...]
    quality_scorecard_metrics: tuple[str, ...]
    stages: tuple[dict[str, Any], ...]
    forecast_categories: tuple[str, ...]
    segment_bands: tuple[tuple[str, int], ...]
    sla_hours: dict[str, float]

    def policy_lists(self) -> list[dict[str, Any]]:
        """Rows of ``marts.kpi_policy_list``."""
        rows = []
        for name, values in (
            ("excluded_loss_reason", self.excluded_loss_reasons),
            ("arr_added_type", self.arr_added_types),
            ("quota_rollup_role", self.quota_rollup_roles),
            ("funnel_stage", self.funnel_stages),
            ("quality_scorecard_metric", self.quality_scorecard_metrics),
        ):
            rows += [{"list_name": name, "position": i + 1, "value": v} for i, v in enumerate(values)]
        return rows

    def jinja(self) -> dict[str, Any]:
        """Template context for the model SQL: identifiers and switches only, never values."""
        opportunity = get_object("opportunity")
        return {
            "rollup_levels": [
                {"name": name, "key": ROLLUP_LEVELS[name][0], "label": ROLLUP_LEVELS[name][1]}
                for name in self.rollup_levels
            ],
            "forecast_categories": [snake(c) for c in self.forecast_categories],
            "funnel_stages": [{"rank": i + 1, "column": snake(s)} for i, s in enumerate(self.funnel_stages)],
            "period_grains": list(PERIOD_GRAINS),
            "required_field_columns": [
                {"api_name": f.api_name, "column": f.column}
                for f in opportunity.fields
                if any(f.api_name in s["required_fields"] for s in self.stages)
            ],
        }


def load_policy() -> KpiPolicy:
    """Read and validate the KPI policy.

    Raises:
        ConfigError: naming the file and key that is missing or has a wrong value.
    """
    kpis = policy("kpis")
    cal = policy("calendar")
    hyg = policy("hygiene")
    terr = policy("territories")
    stg = policy("stages")

    levels = tuple(_str_list(kpis.get("rollup_levels"), "kpis.yaml rollup_levels"))
    for level in levels:
        if level not in ROLLUP_LEVELS:
            raise ConfigError(
                f"kpis.yaml rollup_levels: unknown level {level!r}; known {sorted(ROLLUP_LEVELS)}"
            )
    if not levels:
        raise ConfigError("kpis.yaml rollup_levels: at least one level is needed")

    comparisons = []
    for i, c in enumerate((kpis.get("movement") or {}).get("comparisons") or []):
        where = f"kpis.yaml movement.comparisons[{i}]"
        if not isinstance(c, dict) or "label" not in c:
            raise ConfigError(f"{where}: expected a mapping with a label")
        snake(c["label"])
        if c.get("from") == "fiscal_quarter_start":
            comparisons.append(Comparison(c["label"], None, True))
        elif "days_back" in c:
            comparisons.append(Comparison(c["label"], _int(c["days_back"], f"{where}.days_back", 1), False))
        else:
            raise ConfigError(f"{where}: needs days_back: <n> or from: fiscal_quarter_start")
    if len({c.label for c in comparisons}) != len(comparisons):
        raise ConfigError("kpis.yaml movement.comparisons: labels must be unique")

    risk = kpis.get("at_risk") or {}
    large = risk.get("large_early_late") or {}
    stages = stg.get("stages") or []
    for i, s in enumerate(stages):
        for key in ("name", "order", "probability", "is_closed", "is_won", "forecast_categories"):
            if key not in s:
                raise ConfigError(f"stages.yaml stages[{i}]: missing {key!r}")
        if not 0 <= float(s["probability"]) <= 100:
            raise ConfigError(
                f"stages.yaml stages[{i}] ({s['name']}): probability must be 0-100, got {s['probability']!r}"
            )
        s.setdefault("required_fields", [])
    bands = sorted(
        (
            (b["name"], _int(b["min_employees"], f"territories.yaml segments {b.get('name')}"))
            for b in terr["segments"]
        ),
        key=lambda b: b[1],
    )
    sla = (terr.get("sla") or {}).get("assignment_hours") or {}
    contract_coverage = (kpis.get("coverage") or {}).get("target_ratio")
    try:  # the quality job's policy: read-only here, it names the scorecard metrics
        scorecard = tuple(((policy("quality").get("scorecard") or {}).get("metrics") or {}).keys())
    except ConfigError:
        scorecard = ()

    return KpiPolicy(
        fiscal_year_start_month=check_start_month(cal.get("fiscal_year_start_month")),
        slippage_cutoff_day=_int(
            cal.get("slippage_cutoff_day_of_quarter"), "calendar.yaml slippage_cutoff_day_of_quarter", 1
        ),
        stale_days=_int(
            (hyg.get("stale_opportunity") or {}).get("days_without_activity"),
            "hygiene.yaml stale_opportunity.days_without_activity",
        ),
        past_due_grace_days=_int(
            (hyg.get("close_date") or {}).get("past_due_grace_days", 0),
            "hygiene.yaml close_date.past_due_grace_days",
        ),
        rollup_levels=levels,
        quota_rollup_roles=tuple(
            _str_list(
                (kpis.get("coverage") or {}).get("rollup_quota_roles"),
                "kpis.yaml coverage.rollup_quota_roles",
            )
        ),
        coverage_target_ratio=None
        if contract_coverage is None
        else _number(contract_coverage, "kpis.yaml coverage.target_ratio"),
        comparisons=tuple(comparisons),
        at_risk_past_close_date=bool(risk.get("past_close_date", True)),
        at_risk_min_pushes=_int(risk.get("min_pushes"), "kpis.yaml at_risk.min_pushes", 1),
        at_risk_inactive_days=_int(risk.get("inactive_days"), "kpis.yaml at_risk.inactive_days", 1),
        at_risk_large_min_amount=_number(
            large.get("min_amount"), "kpis.yaml at_risk.large_early_late.min_amount"
        ),
        at_risk_large_max_stage_order=_int(
            large.get("max_stage_order"), "kpis.yaml at_risk.large_early_late.max_stage_order"
        ),
        at_risk_large_days_to_quarter_end=_int(
            large.get("days_to_quarter_end"), "kpis.yaml at_risk.large_early_late.days_to_quarter_end"
        ),
        excluded_loss_reasons=tuple(
            _str_list(
                (kpis.get("win_rate") or {}).get("excluded_loss_reasons"),
                "kpis.yaml win_rate.excluded_loss_reasons",
            )
        ),
        arr_added_types=tuple(
            _str_list(
                (kpis.get("bookings") or {}).get("arr_added_types"), "kpis.yaml bookings.arr_added_types"
            )
        ),
        funnel_stages=tuple(
            _str_list((kpis.get("lead_funnel") or {}).get("stages"), "kpis.yaml lead_funnel.stages")
        ),
        quality_scorecard_metrics=scorecard,
        stages=tuple(stages),
        forecast_categories=tuple(
            _str_list(stg.get("forecast_categories"), "stages.yaml forecast_categories")
        ),
        segment_bands=tuple(bands),
        sla_hours={k: _number(v, f"territories.yaml sla.assignment_hours.{k}") for k, v in sla.items()},
    )
