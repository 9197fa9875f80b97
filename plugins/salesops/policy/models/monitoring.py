"""monitoring.yaml: anomaly detection on business series (issue 14).

Each series is a SQL file ``include/sql/monitoring/series/<sql>.sql`` returning one value per
period and scope; a point is scored against the trailing training window of the same scope
(z-score), with the knobs below. Defaults follow Elementary's anomaly tests (3 sigma, a 14-period
training window, at least 7 training points, both directions, no seasonality).
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field, model_validator

from salesops.policy.models._base import PolicyModel, bad, snake_name

Direction = Literal["drop", "spike", "both"]
Seasonality = Literal["none", "day_of_week"]
Grain = Literal["day", "week", "sync"]
Severity = Literal["warn", "critical"]
CauseRule = Literal["concentration", "sync_shortfall", "commit_movers"]


class Detection(PolicyModel):
    """The scoring knobs; ``defaults`` sets them for every series, a series may override any."""

    sigma: float | None = Field(default=None, gt=0)
    training_periods: int | None = Field(default=None, ge=2)
    min_training_points: int | None = Field(default=None, ge=2)
    seasonality: Seasonality | None = None
    direction: Direction | None = None
    min_relative_change: float | None = Field(default=None, ge=0)
    min_absolute_change: float | None = Field(default=None, ge=0)
    min_baseline: float | None = Field(default=None, ge=0)
    detection_periods: int | None = Field(default=None, ge=1)


class Defaults(PolicyModel):
    sigma: float = Field(default=3.0, gt=0)
    training_periods: int = Field(default=14, ge=2)
    min_training_points: int = Field(default=7, ge=2)
    seasonality: Seasonality = "none"
    direction: Direction = "both"
    min_relative_change: float = Field(default=0.0, ge=0)
    min_absolute_change: float = Field(default=0.0, ge=0)
    # training mean below this = no baseline to deviate from (a rep going from no Commit to some is
    # not a week-over-week swing): scored normal, with the reason
    min_baseline: float = Field(default=0.0, ge=0)
    detection_periods: int = Field(default=1, ge=1)


class Series(PolicyModel):
    sql: str = Field(min_length=1)  # include/sql/monitoring/series/<sql>.sql
    grain: Grain = "day"
    description: str = Field(min_length=1)
    unit: Literal["count", "amount", "rate", "rows"] = "count"
    # how a period's daily values combine: sum (counts, amounts; rates sum numerator and
    # denominator) or last (levels such as open pipeline: the period's last day)
    aggregate: Literal["sum", "last"] = "sum"
    severity: Severity = "warn"
    # scopes the SQL returns that are scored (the SQL returns 'all' plus any of these)
    scopes: list[str] = ["all"]
    detection: Detection = Detection()
    cause: CauseRule | None = None  # the rule that names a likely cause in the ticket draft
    enabled: bool = True

    @model_validator(mode="after")
    def _names(self) -> Series:
        snake_name(self.sql, "sql (a file name under include/sql/monitoring/series/)")
        return self


class Alerts(PolicyModel):
    min_severity: Severity = "critical"
    critical_score: float = Field(default=6.0, gt=0)  # |z| at or above this makes any anomaly critical
    channels: list[Literal["slack", "email", "file"]] = ["file", "slack", "email"]
    email_to: list[str] = []
    max_examples: int = Field(default=10, ge=0)


class Causes(PolicyModel):
    # share of the excess a single segment x region must hold to be named as a routing rule gap
    concentration_share: float = Field(default=0.6, gt=0, le=1)


class MonitoringPolicy(PolicyModel):
    """monitoring.yaml."""

    defaults: Defaults = Defaults()
    series: dict[str, Series] = {}
    alerts: Alerts = Alerts()
    causes: Causes = Causes()
    # pack (packs.yaml) -> the series whose open anomalies its open_anomalies section lists
    packs: dict[str, list[str]] = {}

    @model_validator(mode="after")
    def _checks(self) -> MonitoringPolicy:
        for name, s in self.series.items():
            snake_name(name, f"series name {name!r}")
            d = self.resolved(name)
            if d.min_training_points > d.training_periods:
                raise bad(
                    f"series.{name}.detection.min_training_points",
                    d.min_training_points,
                    f"at most training_periods ({d.training_periods})",
                )
            if d.seasonality == "day_of_week" and s.grain != "day":
                raise bad(f"series.{name}.detection.seasonality", d.seasonality, "none unless grain is day")
            if s.grain == "sync" and s.aggregate != "sum":
                raise bad(f"series.{name}.aggregate", s.aggregate, "sum for a per-sync series")
        for pack, names in self.packs.items():
            for i, n in enumerate(names):
                if n not in self.series:
                    raise bad(f"packs.{pack}[{i}]", n, f"a series of this file ({sorted(self.series)})")
        return self

    def resolved(self, name: str) -> Defaults:
        """The detection knobs of one series: its overrides laid over ``defaults``."""
        over = self.series[name].detection.model_dump(exclude_none=True)
        return self.defaults.model_copy(update=over)
