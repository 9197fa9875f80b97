"""bulk_updates.yaml: plan types, what each may change, limits, approver groups."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import Field, model_validator

from salesops.policy.models._base import PolicyModel, bad

MAX_BATCH_SIZE = 200  # Salesforce composite/sObject Collections: at most 200 records per call
EmptyPolicy = Literal["forbid", "null", "blank"]


class RetryModel(PolicyModel):
    max_attempts: int | None = Field(default=None, ge=1)
    backoff_seconds: float | None = Field(default=None, ge=0)
    backoff_factor: float | None = Field(default=None, ge=1)
    max_backoff_seconds: float | None = Field(default=None, ge=0)


class Defaults(PolicyModel):
    batch_size: int = Field(default=50, ge=1, le=MAX_BATCH_SIZE)
    retry: RetryModel = RetryModel()
    approval_timeout_hours: float = Field(default=24, gt=0)
    max_share: float = Field(default=0.05, gt=0, le=1)


class ApproverGroupModel(PolicyModel):
    rank: int = Field(default=0, ge=0)
    description: str = ""
    users: list[str] = []


class FieldPolicy(PolicyModel):
    empty: EmptyPolicy


class PlanTypeModel(PolicyModel):
    description: str = ""
    object: str = Field(min_length=1)
    also_objects: list[str] = []  # further objects the plan writes (each plan row names its object)
    sql: str | None = None
    fields: dict[str, FieldPolicy] = Field(min_length=1)
    guard_fields: list[str] = []
    sensitive_fields: list[str] = []
    max_records: int = Field(ge=1)
    max_share: float | None = Field(default=None, gt=0, le=1)
    approver_group: str = Field(min_length=1)
    batch_size: int | None = Field(default=None, ge=1, le=MAX_BATCH_SIZE)
    retry: RetryModel | None = None
    approval_timeout_hours: float | None = Field(default=None, gt=0)
    params: dict[str, Any] = {}
    quality_checks: list[str] = []
    only_open_exceptions: bool = False
    requires_quality_run: bool = False

    @model_validator(mode="after")
    def _quality_link(self) -> PlanTypeModel:
        if (self.only_open_exceptions or self.requires_quality_run) and not self.quality_checks:
            raise bad(
                "quality_checks", [], "at least one check when only_open_exceptions/requires_quality_run"
            )
        return self


class BulkUpdatesPolicy(PolicyModel):
    """bulk_updates.yaml."""

    defaults: Defaults = Defaults()
    stamp_fields: dict[str, str] = {}
    approver_groups: dict[str, ApproverGroupModel] = Field(min_length=1)
    sensitive_approver_group: str
    plan_types: dict[str, PlanTypeModel] = {}

    @model_validator(mode="after")
    def _groups_exist(self) -> BulkUpdatesPolicy:
        groups = sorted(self.approver_groups)
        if self.sensitive_approver_group not in self.approver_groups:
            raise bad("sensitive_approver_group", self.sensitive_approver_group, f"one of {groups}")
        for name, pt in self.plan_types.items():
            if name == "undo":
                raise bad(f"plan_types.{name}", name, "another name ('undo' is reserved for undo plans)")
            if pt.approver_group not in self.approver_groups:
                raise bad(f"plan_types.{name}.approver_group", pt.approver_group, f"one of {groups}")
        return self
