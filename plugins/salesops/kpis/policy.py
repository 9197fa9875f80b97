"""KPI policy: the values the models use, read and validated from include/config.

Sources (read through :mod:`salesops.policy`, which validates them): kpis.yaml (KPI-only choices), stages.yaml (stage order, probability, forecast
categories, required fields), calendar.yaml (fiscal year start, slippage cutoff), hygiene.yaml
(stale days, past-due grace), territories.yaml (segment bands, routing SLA hours).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from salesops import policy as _policy
from salesops.config import ConfigError, get_object

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
    corporate_currency: str
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
    """The KPI policy from the validated policy files (:mod:`salesops.policy`).

    Raises:
        ConfigError: naming the file, key path and value that is wrong.
    """
    kpis = _policy.kpis()
    cal = _policy.calendar()
    hyg = _policy.hygiene()
    terr = _policy.territories()
    stg = _policy.stages()
    for c in kpis.movement.comparisons:
        snake(c.label)
    large = kpis.at_risk.large_early_late
    try:  # the quality job's policy: read-only here, it names the scorecard metrics
        scorecard = tuple(_policy.quality().scorecard.metrics)
    except ConfigError:
        scorecard = ()
    return KpiPolicy(
        fiscal_year_start_month=cal.fiscal_year_start_month,
        slippage_cutoff_day=cal.slippage_cutoff_day_of_quarter,
        stale_days=hyg.stale_opportunity.days_without_activity,
        past_due_grace_days=hyg.close_date.past_due_grace_days,
        rollup_levels=tuple(kpis.rollup_levels),
        quota_rollup_roles=tuple(kpis.coverage.rollup_quota_roles),
        coverage_target_ratio=kpis.coverage.target_ratio,
        corporate_currency=kpis.currency.corporate,
        comparisons=tuple(
            Comparison(c.label, c.days_back, c.from_ == "fiscal_quarter_start")
            for c in kpis.movement.comparisons
        ),
        at_risk_past_close_date=kpis.at_risk.past_close_date,
        at_risk_min_pushes=kpis.at_risk.min_pushes,
        at_risk_inactive_days=kpis.at_risk.inactive_days,
        at_risk_large_min_amount=large.min_amount,
        at_risk_large_max_stage_order=large.max_stage_order,
        at_risk_large_days_to_quarter_end=large.days_to_quarter_end,
        excluded_loss_reasons=tuple(kpis.win_rate.excluded_loss_reasons),
        arr_added_types=tuple(kpis.bookings.arr_added_types),
        funnel_stages=tuple(kpis.lead_funnel.stages),
        quality_scorecard_metrics=scorecard,
        # Stage rows as the YAML gave them (the SQL renders their values), required_fields defaulted.
        stages=tuple(
            {**s, "required_fields": list(s.get("required_fields") or [])}
            for s in _policy.raw("stages")["stages"]
        ),
        forecast_categories=tuple(stg.forecast_categories),
        segment_bands=tuple(terr.segment_bands()),
        sla_hours=dict(terr.sla.assignment_hours),
    )
