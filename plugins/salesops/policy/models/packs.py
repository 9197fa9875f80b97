"""packs.yaml: report packs, their audiences, schedules, channels and defaults."""

from __future__ import annotations

import re
from typing import Annotated, Literal

from pydantic import Field, field_validator, model_validator

from salesops.policy.models._base import PolicyModel, bad

Scope = Literal["all", "region", "team", "owner"]
Channel = Literal["email", "slack", "file"]
Attachment = Literal["pdf", "xlsx", "html"]
Period = Literal["day", "week", "fiscal_month", "fiscal_quarter"]
Weekday = Literal["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
ADDRESS = re.compile(r"^[A-Za-z0-9._%+{}-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}$")


def _addresses(v: list[str]) -> list[str]:
    for r in v:
        if not ADDRESS.match(r):
            raise ValueError(f"email addresses ({r!r} is not an email address)")
    return v


class Pii(PolicyModel):
    allow_emails: bool = False
    allow_phones: bool = False


class ScheduleModel(PolicyModel):
    every: Literal["day", "week", "month_end", "quarter_end"]
    weekday: Weekday | None = None
    days_before: int | None = Field(default=None, ge=0)

    @model_validator(mode="after")
    def _weekday_for_weekly(self) -> ScheduleModel:
        if self.every == "week" and self.weekday is None:
            raise bad("weekday", None, "a weekday (mon..sun) for every: week")
        return self


class AudienceModel(PolicyModel):
    scope: Scope
    values: list[str] | Literal["*"] | None = None  # "*" = every value in the data
    recipients: list[str] = Field(min_length=1)

    @field_validator("recipients")
    @classmethod
    def _recipients(cls, v: list[str]) -> list[str]:
        return _addresses(v)


class PackDefaults(PolicyModel):
    sender: str = "salesops-reports@example.com"
    revops_team: list[str] = ["revops-demo@example.com"]
    channels: list[Channel] | None = None
    attach: list[Attachment] = ["pdf", "xlsx"]
    pii: Pii = Pii()
    freshness_hours: float = Field(default=36, gt=0)
    deliver_within_hours: float = Field(default=30, gt=0)
    max_rows_html: int = Field(default=15, ge=1)
    # Excel holds 1,048,576 rows a sheet (one is the header).
    max_rows_xlsx: int = Field(default=100_000, ge=1, le=1_048_575)
    currency: str = "$"

    @field_validator("revops_team")
    @classmethod
    def _team(cls, v: list[str]) -> list[str]:
        return _addresses(v)


class PackModel(PolicyModel):
    """One pack; keys left out take the value of ``defaults``."""

    title: str | None = None
    sections: list[str] = Field(min_length=1)
    schedule: ScheduleModel
    period: Period
    audiences: list[AudienceModel] = Field(min_length=1)
    channels: list[Channel] | None = None
    attach: list[Attachment] | None = None
    pii: Pii | None = None
    sender: str | None = None
    revops_team: list[str] | None = None
    freshness_hours: float | None = Field(default=None, gt=0)
    deliver_within_hours: float | None = Field(default=None, gt=0)
    max_rows_html: int | None = Field(default=None, ge=1)
    max_rows_xlsx: int | None = Field(default=None, ge=1, le=1_048_575)
    currency: str | None = None

    @model_validator(mode="after")
    def _one_audience_per_scope(self) -> PackModel:
        seen: set[str] = set()
        for i, a in enumerate(self.audiences):
            if a.scope in seen:
                raise bad(f"audiences[{i}].scope", a.scope, "each scope at most once per pack")
            seen.add(a.scope)
        return self


class PacksPolicy(PolicyModel):
    """packs.yaml."""

    defaults: PackDefaults = PackDefaults()
    # Processes laying out the slices' PDF and XLSX/CSV files beside the task process: "auto" = the
    # cores this process may run on; 1 = none (the task process lays them out itself).
    layout_processes: Literal["auto"] | Annotated[int, Field(ge=1, le=64)] = "auto"
    definitions: dict[str, str] = {}
    packs: dict[str, PackModel] = Field(min_length=1)
