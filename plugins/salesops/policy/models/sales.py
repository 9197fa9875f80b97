"""The sales-process policy: stages.yaml, calendar.yaml, hygiene.yaml, territories.yaml."""

from __future__ import annotations

import re

from pydantic import Field, field_validator, model_validator

from salesops.policy.models._base import PolicyModel, bad, unique


class Stage(PolicyModel):
    name: str = Field(min_length=1)
    order: int = Field(ge=1)
    probability: float = Field(ge=0, le=100)
    is_closed: bool
    is_won: bool
    forecast_categories: list[str] = Field(min_length=1)
    required_fields: list[str] = []

    @model_validator(mode="after")
    def _won_is_closed(self) -> Stage:
        if self.is_won and not self.is_closed:
            raise bad("is_won", True, "is_won true only together with is_closed true")
        return self


class StagesPolicy(PolicyModel):
    """stages.yaml."""

    stages: list[Stage] = Field(min_length=1)
    forecast_categories: list[str] = Field(min_length=1)
    picklists: dict[str, list[str]] = {}
    # picklists whose unknown values stop the gate (policy_unknown_value, blocker) instead of being
    # flagged record by record (opp_invalid_picklist, warn): names of entries of `picklists`
    blocking_picklists: list[str] = []

    @model_validator(mode="after")
    def _consistent(self) -> StagesPolicy:
        for i, name in enumerate(self.blocking_picklists):
            if name not in self.picklists:
                raise bad(
                    f"blocking_picklists[{i}]", name, f"the name of a picklist {sorted(self.picklists)}"
                )
        unique([s.name for s in self.stages], "stages[{i}].name")
        unique([s.order for s in self.stages], "stages[{i}].order")
        unique(self.forecast_categories, "forecast_categories[{i}]")
        for i, s in enumerate(self.stages):
            for c in s.forecast_categories:
                if c not in self.forecast_categories:
                    raise bad(
                        f"stages[{i}].forecast_categories",
                        c,
                        f"a value of the top-level forecast_categories {self.forecast_categories}",
                    )
        return self

    def stage(self, name: str) -> Stage:
        for s in self.stages:
            if s.name == name:
                return s
        raise KeyError(f"stages.yaml has no stage {name!r}")


class CalendarPolicy(PolicyModel):
    """calendar.yaml."""

    fiscal_year_start_month: int = Field(ge=1, le=12)
    slippage_cutoff_day_of_quarter: int = Field(ge=1, le=92)


class StaleOpportunity(PolicyModel):
    days_without_activity: int = Field(ge=0)


class CloseDateRules(PolicyModel):
    past_due_grace_days: int = Field(default=0, ge=0)
    max_pushes: int = Field(ge=0)


class NextStepRule(PolicyModel):
    required_from_stage_order: int = Field(ge=1)


class AmountRule(PolicyModel):
    min_exclusive: float
    outlier_max: float
    closed_lost_zero_allowed: bool = False  # a Closed Lost deal may carry 0


class EmailRule(PolicyModel):
    pattern: str

    @field_validator("pattern")
    @classmethod
    def _compiles(cls, v: str) -> str:
        try:
            re.compile(v)
        except re.error as exc:
            raise ValueError(f"a regular expression ({exc})") from None
        return v


class HygienePolicy(PolicyModel):
    """hygiene.yaml."""

    stale_opportunity: StaleOpportunity
    close_date: CloseDateRules
    next_step: NextStepRule
    amount: AmountRule
    email: EmailRule


class Segment(PolicyModel):
    name: str = Field(min_length=1)
    min_employees: int = Field(ge=0)


class RoutingRule(PolicyModel):
    segment: str
    region: str
    team: str = Field(min_length=1)


class Sla(PolicyModel):
    assignment_hours: dict[str, float] = {}

    @field_validator("assignment_hours")
    @classmethod
    def _non_negative(cls, v: dict[str, float]) -> dict[str, float]:
        negative = {k: h for k, h in v.items() if h < 0}
        if negative:
            raise ValueError(f"hours >= 0 (negative: {negative})")
        return v


class TerritoriesPolicy(PolicyModel):
    """territories.yaml."""

    segments: list[Segment] = Field(min_length=1)
    regions: dict[str, list[str]]
    routing_rules: list[RoutingRule] = []
    sla: Sla = Sla()

    @model_validator(mode="after")
    def _rules_name_known_segments_and_regions(self) -> TerritoriesPolicy:
        segments = [s.name for s in self.segments]
        unique(segments, "segments[{i}].name")
        for i, r in enumerate(self.routing_rules):
            if r.segment not in segments:
                raise bad(f"routing_rules[{i}].segment", r.segment, f"one of the segments {segments}")
            if r.region not in self.regions:
                raise bad(
                    f"routing_rules[{i}].region", r.region, f"one of the regions {sorted(self.regions)}"
                )
        for seg in self.sla.assignment_hours:
            if seg not in segments:
                raise bad(f"sla.assignment_hours.{seg}", seg, f"a segment key, one of {segments}")
        return self

    def segment_bands(self) -> list[tuple[str, int]]:
        """(segment, min_employees) by ascending lower bound."""
        return sorted(((s.name, s.min_employees) for s in self.segments), key=lambda b: b[1])
