"""kpis.yaml (the KPI models' own choices) and metrics.yaml (the metric registry)."""

from __future__ import annotations

from typing import Literal

from pydantic import Field, field_validator, model_validator

from salesops.policy.models._base import PolicyModel, snake_name, unique

RollupLevel = Literal["rep", "manager", "region", "segment", "team", "company"]


class Coverage(PolicyModel):
    rollup_quota_roles: list[str] = []
    target_ratio: float | None = Field(default=None, ge=0)


class Comparison(PolicyModel):
    """A start snapshot ``days_back`` before the as-of date, or the fiscal quarter start."""

    label: str
    days_back: int | None = Field(default=None, ge=1)
    from_: Literal["fiscal_quarter_start"] | None = Field(default=None, alias="from")

    @field_validator("label")
    @classmethod
    def _label(cls, v: str) -> str:
        return snake_name(v, "a label")

    @model_validator(mode="after")
    def _one_start(self) -> Comparison:
        if (self.days_back is None) == (self.from_ is None):
            raise ValueError("exactly one of days_back: <n> or from: fiscal_quarter_start")
        return self


class Movement(PolicyModel):
    comparisons: list[Comparison] = []

    @field_validator("comparisons")
    @classmethod
    def _unique(cls, v: list[Comparison]) -> list[Comparison]:
        unique([c.label for c in v], "[{i}].label")
        return v


class LargeEarlyLate(PolicyModel):
    min_amount: float = Field(ge=0)
    max_stage_order: int = Field(ge=0)
    days_to_quarter_end: int = Field(ge=0)


class AtRisk(PolicyModel):
    past_close_date: bool = True
    min_pushes: int = Field(ge=1)
    inactive_days: int = Field(ge=1)
    large_early_late: LargeEarlyLate


class WinRate(PolicyModel):
    excluded_loss_reasons: list[str] = []


class Bookings(PolicyModel):
    arr_added_types: list[str] = []


class Currency(PolicyModel):
    corporate: str = Field(default="USD", pattern=r"^[A-Z]{3}$")


class LeadFunnel(PolicyModel):
    stages: list[str] = []


class KpisPolicy(PolicyModel):
    """kpis.yaml."""

    rollup_levels: list[RollupLevel] = Field(min_length=1)
    coverage: Coverage = Coverage()
    movement: Movement = Movement()
    at_risk: AtRisk
    win_rate: WinRate = WinRate()
    currency: Currency = Currency()
    bookings: Bookings = Bookings()
    lead_funnel: LeadFunnel = LeadFunnel()


Unit = Literal["currency", "count", "ratio", "multiple", "days", "hours"]


class TargetModel(PolicyModel):
    """``{value: n, comparator}`` or ``{from: "<policy>.<key path>", comparator}``."""

    value: float | None = None
    from_: str | None = Field(default=None, alias="from")
    comparator: Literal[">=", "<=", ">", "<", "=="]

    @model_validator(mode="after")
    def _one_source(self) -> TargetModel:
        if (self.value is None) == (self.from_ is None):
            raise ValueError("exactly one of value: <number> or from: <policy>.<key path>")
        return self


class MetricModel(PolicyModel):
    name: str
    label: str = Field(min_length=1)
    definition: str = Field(min_length=1)
    grain: str = Field(min_length=1)
    model: str = Field(min_length=1)
    column: str
    unit: Unit
    owner: str = Field(min_length=1)
    filters: list[str] = []
    exclusions: list[str] = []
    # the model columns a ratio is computed from: "<column> [= expression]" (the first name is the
    # column metrics --json reports; the rest says how it is built)
    numerator: str | None = None
    denominator: str | None = None
    rows: str | None = None
    target: TargetModel | None = None
    # the data the metric cannot be computed without (manifest object -> API fields) and the
    # history it needs (salesops.kpis.history): without them it is "not available", never a number
    needs: dict[str, list[str]] | None = None
    history: Literal["comparisons", "stage_entry", "field_history"] | None = None

    @field_validator("name", "column")
    @classmethod
    def _snake(cls, v: str) -> str:
        return snake_name(v, "a plain name")

    @field_validator("rows")
    @classmethod
    def _one_condition(cls, v: str | None) -> str | None:
        if v is not None and ";" in v:
            raise ValueError("a single SQL condition (no ';')")
        return v


class MetricsPolicy(PolicyModel):
    """metrics.yaml."""

    metrics: list[MetricModel] = Field(min_length=1)

    @field_validator("metrics")
    @classmethod
    def _unique(cls, v: list[MetricModel]) -> list[MetricModel]:
        unique([m.name for m in v], "[{i}].name")
        return v
