"""Typed access to include/config/bulk_updates.yaml (plan types, approver groups, limits).

Shape and ranges are validated by :mod:`salesops.policy`; this module adds the checks that need
other files (fields of objects.yaml, checks of quality.yaml) and the approver overrides from env.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from salesops import policy as _policy
from salesops.config import ConfigError, get_object
from salesops.policy.models.bulk_updates import MAX_BATCH_SIZE, BulkUpdatesPolicy, PlanTypeModel
from salesops.policy.models.quality import QualityPolicy

EMPTY_POLICIES = ("forbid", "null", "blank")
__all__ = [
    "MAX_BATCH_SIZE",
    "UNDO",
    "ApproverGroup",
    "BulkUpdateSettings",
    "PlanType",
    "RetryPolicy",
    "load_settings",
]
UNDO = "undo"


@dataclass(frozen=True)
class RetryPolicy:
    """How transient write errors are retried (exponential backoff, capped)."""

    max_attempts: int = 4
    backoff_seconds: float = 1.0
    backoff_factor: float = 2.0
    max_backoff_seconds: float = 30.0

    def delay(self, attempt: int) -> float:
        """Seconds to wait after failed attempt number ``attempt`` (1-based)."""
        return min(self.max_backoff_seconds, self.backoff_seconds * self.backoff_factor ** (attempt - 1))


@dataclass(frozen=True)
class ApproverGroup:
    name: str
    rank: int
    users: tuple[str, ...]
    description: str = ""

    def hitl_users(self) -> list[dict[str, str]]:
        """The group as HITL ``assigned_users`` (id and display name are the Airflow user id)."""
        return [{"id": u, "name": u} for u in self.users]


@dataclass(frozen=True)
class PlanType:
    """One plan type: what it may change, its limits and who approves it."""

    name: str
    object: str
    sql: str | None
    fields: dict[str, str]  # api field -> empty policy
    guard_fields: tuple[str, ...] = ()
    sensitive_fields: tuple[str, ...] = ()
    max_records: int = 0
    max_share: float = 0.05
    approver_group: str = ""
    batch_size: int = 50
    retry: RetryPolicy = field(default_factory=RetryPolicy)
    approval_timeout_hours: float = 24.0
    params: dict[str, Any] = field(default_factory=dict)
    description: str = ""
    # Quality checks (quality.yaml ids) whose open exceptions this plan type fixes; with
    # only_open_exceptions the plan is restricted to records in that queue.
    quality_checks: tuple[str, ...] = ()
    only_open_exceptions: bool = False
    requires_quality_run: bool = False
    # Further objects the plan type writes (a territory change: account + opportunity + lead);
    # its plan rows name their object, and apply writes one object at a time.
    also_objects: tuple[str, ...] = ()

    @property
    def objects(self) -> tuple[str, ...]:
        """Every object the plan type writes, its own ``object`` first."""
        return (self.object, *self.also_objects)


@dataclass(frozen=True)
class BulkUpdateSettings:
    plan_types: dict[str, PlanType]
    groups: dict[str, ApproverGroup]
    sensitive_approver_group: str
    stamp_fields: dict[str, str]
    defaults: dict[str, Any]

    def plan_type(self, name: str) -> PlanType:
        if name not in self.plan_types:
            raise ConfigError(
                f"unknown bulk-update plan type {name!r}; bulk_updates.yaml defines {sorted(self.plan_types)}"
            )
        return self.plan_types[name]

    def group(self, name: str) -> ApproverGroup:
        if name not in self.groups:
            raise ConfigError(
                f"unknown approver group {name!r}; bulk_updates.yaml defines {sorted(self.groups)}"
            )
        return self.groups[name]

    def undo_type(self, original: PlanType) -> PlanType:
        """The plan type of an undo plan: the original's fields and limits, its approver group.

        Undo may restore nulls/blanks (checked row by row against the original's before values),
        so the per-field empty policy is relaxed here and enforced in the undo builder instead.
        """
        return PlanType(
            name=UNDO,
            object=original.object,
            sql=None,
            fields={f: "blank" for f in original.fields},
            guard_fields=(),
            sensitive_fields=original.sensitive_fields,
            max_records=original.max_records,
            max_share=original.max_share,
            approver_group=original.approver_group,
            batch_size=original.batch_size,
            retry=original.retry,
            approval_timeout_hours=original.approval_timeout_hours,
            description=f"Undo of a {original.name} plan",
            also_objects=original.also_objects,
        )


def _group_users(name: str, users: list[str]) -> tuple[str, ...]:
    override = os.getenv(f"SALESOPS_APPROVERS_{name.upper()}")
    if override is not None:
        return tuple(u.strip() for u in override.split(",") if u.strip())
    return tuple(str(u) for u in users)


def _check(ok: bool, message: str) -> None:
    if not ok:
        raise ConfigError(message)


def _plan_type(
    name: str,
    raw: PlanTypeModel,
    data: BulkUpdatesPolicy,
    quality: QualityPolicy,
) -> PlanType:
    """One validated plan type: field names against objects.yaml, checks against quality.yaml."""
    from salesops.bulk_update import plan_types

    where = f"bulk_updates.yaml: plan_types.{name}"
    _check(
        name in plan_types.names(),
        f"{where}: no plan-type module plugins/salesops/bulk_update/plan_types/{name}.py "
        f"(plan types: {', '.join(plan_types.names())})",
    )
    sql = plan_types.get(name).SQL
    _check(
        raw.sql in (None, sql),
        f"{where}.sql: got {raw.sql!r}; the plan SQL is {sql!r} (set by plan_types/{name}.py; leave sql out)",
    )
    obj = get_object(raw.object)
    others = [get_object(o) for o in raw.also_objects]
    _check(
        obj.name not in {o.name for o in others},
        f"{where}.also_objects: got {raw.also_objects}; the plan type's own object {obj.name!r} is not repeated there",
    )
    field_sets = [{f.api_name for f in o.fields} for o in (obj, *others)]
    shown = " / ".join(o.api_name for o in (obj, *others))
    for listname, names in (
        ("fields", list(raw.fields)),
        ("guard_fields", raw.guard_fields),
        ("sensitive_fields", raw.sensitive_fields),
    ):
        for fname in names:
            # Written fields must exist on every object the type writes; a guard on at least one.
            ok = (
                any(fname in k for k in field_sets)
                if listname == "guard_fields"
                else all(fname in k for k in field_sets)
            )
            _check(ok, f"{where}.{listname}: got {fname!r}; expected a field of {shown} in objects.yaml")
    for cid in raw.quality_checks:
        check = quality.checks.get(cid)
        _check(check is not None, f"{where}.quality_checks: got {cid!r}; expected a check id of quality.yaml")
        _check(
            check is None or check.object == obj.name,
            f"{where}.quality_checks: got {cid!r}, a check of {check.object if check else None!r}; "
            f"expected a check of this plan type's object {obj.name!r}",
        )
    defaults = data.defaults
    retry = {
        **defaults.retry.model_dump(exclude_none=True),
        **(raw.retry.model_dump(exclude_none=True) if raw.retry else {}),
    }
    return PlanType(
        name=name,
        object=obj.name,
        sql=sql,
        fields={f: spec.empty for f, spec in raw.fields.items()},
        guard_fields=tuple(raw.guard_fields),
        sensitive_fields=tuple(raw.sensitive_fields),
        max_records=raw.max_records,
        max_share=raw.max_share if raw.max_share is not None else defaults.max_share,
        approver_group=raw.approver_group,
        batch_size=raw.batch_size if raw.batch_size is not None else defaults.batch_size,
        retry=RetryPolicy(**retry),
        approval_timeout_hours=float(
            raw.approval_timeout_hours
            if raw.approval_timeout_hours is not None
            else defaults.approval_timeout_hours
        ),
        params=dict(raw.params),
        description=raw.description,
        quality_checks=tuple(raw.quality_checks),
        only_open_exceptions=raw.only_open_exceptions,
        requires_quality_run=raw.requires_quality_run,
        also_objects=tuple(o.name for o in others),
    )


def load_settings(config_dir: Path | None = None) -> BulkUpdateSettings:
    """bulk_updates.yaml, validated (:mod:`salesops.policy`) and checked against objects/quality.

    Args:
        config_dir: an overlay folder to use instead of ``SALESOPS_CONFIG_DIR`` (tests).

    Raises:
        ConfigError: on an unknown object/field, a bad empty policy, a batch size over 200, an
            unknown approver group or an out-of-range limit; the message names the plan type.
    """
    overlay: Path | bool = config_dir if config_dir is not None else True
    data = _policy.bulk_updates(overlay)
    quality = _policy.quality(overlay)
    groups = {
        name: ApproverGroup(
            name=name, rank=g.rank, users=_group_users(name, g.users), description=g.description
        )
        for name, g in data.approver_groups.items()
    }
    plan_types = {name: _plan_type(name, raw, data, quality) for name, raw in data.plan_types.items()}
    return BulkUpdateSettings(
        plan_types,
        groups,
        data.sensitive_approver_group,
        dict(data.stamp_fields),
        _policy.raw("bulk_updates", overlay).get("defaults") or {},
    )
