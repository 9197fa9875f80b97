"""Typed access to include/config/bulk_updates.yaml (plan types, approver groups, limits)."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from salesops import paths
from salesops.config import ConfigError, get_object, load_yaml

EMPTY_POLICIES = ("forbid", "null", "blank")
MAX_BATCH_SIZE = 200  # Salesforce composite/sObject Collections: at most 200 records per call
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
        )


def _group_users(name: str, users: list[str]) -> tuple[str, ...]:
    override = os.getenv(f"SALESOPS_APPROVERS_{name.upper()}")
    if override is not None:
        return tuple(u.strip() for u in override.split(",") if u.strip())
    return tuple(str(u) for u in users)


def _quality_checks(config_dir: Path | None) -> dict[str, Any] | None:
    """quality.yaml's check catalogue (from ``config_dir`` when it has one), or None without it."""
    for base in (config_dir, paths.CONFIG_DIR):
        if base is not None and (base / "quality.yaml").exists():
            return dict(load_yaml("quality.yaml", base).get("checks") or {})
    return None


# Complexity 22 > 20: replaced by the typed policy package of issue 10 (t10-structure); remove the noqa then.
def load_settings(config_dir: Path | None = None) -> BulkUpdateSettings:  # noqa: C901
    """Read and validate bulk_updates.yaml.

    Raises:
        ConfigError: on an unknown object/field, a bad empty policy, a batch size over 200, an
            unknown approver group or an out-of-range limit; the message names the plan type.
    """
    data = load_yaml("bulk_updates.yaml", config_dir)
    defaults = data.get("defaults") or {}
    groups = {}
    for name, raw in (data.get("approver_groups") or {}).items():
        groups[name] = ApproverGroup(
            name=name,
            rank=int(raw.get("rank", 0)),
            users=_group_users(name, raw.get("users") or []),
            description=raw.get("description", ""),
        )
    sensitive_group = data.get("sensitive_approver_group", "")
    if sensitive_group not in groups:
        raise ConfigError(
            f"bulk_updates.yaml: sensitive_approver_group {sensitive_group!r} is not an approver group"
        )
    stamp_fields = dict(data.get("stamp_fields") or {})
    quality_catalogue = _quality_checks(config_dir)

    plan_types: dict[str, PlanType] = {}
    for name, raw in (data.get("plan_types") or {}).items():
        where = f"bulk_updates.yaml plan_types.{name}"
        if name == UNDO:
            raise ConfigError(f"{where}: 'undo' is reserved for undo plans")
        obj = get_object(raw.get("object", ""))
        fields: dict[str, str] = {}
        for fname, fspec in (raw.get("fields") or {}).items():
            try:
                obj.field(fname)
            except KeyError:
                raise ConfigError(
                    f"{where}.fields: {obj.api_name} has no field {fname!r} in objects.yaml"
                ) from None
            empty = (fspec or {}).get("empty")
            if empty not in EMPTY_POLICIES:
                raise ConfigError(
                    f"{where}.fields.{fname}: empty must be one of {EMPTY_POLICIES}, got {empty!r}"
                )
            fields[fname] = empty
        if not fields:
            raise ConfigError(f"{where}: no fields; a plan type must list the fields it may change")
        for listname in ("guard_fields", "sensitive_fields"):
            for fname in raw.get(listname) or []:
                try:
                    obj.field(fname)
                except KeyError:
                    raise ConfigError(f"{where}.{listname}: {obj.api_name} has no field {fname!r}") from None
        retry_raw = {**(defaults.get("retry") or {}), **(raw.get("retry") or {})}
        retry = RetryPolicy(
            **{k: (int(v) if k == "max_attempts" else float(v)) for k, v in retry_raw.items()}
        )
        if retry.max_attempts < 1:
            raise ConfigError(f"{where}.retry.max_attempts must be >= 1")
        batch_size = int(raw.get("batch_size", defaults.get("batch_size", 50)))
        if not 1 <= batch_size <= MAX_BATCH_SIZE:
            raise ConfigError(
                f"{where}.batch_size must be 1..{MAX_BATCH_SIZE} (Salesforce composite limit), got {batch_size}"
            )
        max_records = int(raw.get("max_records", 0))
        if max_records < 1:
            raise ConfigError(f"{where}.max_records must be >= 1")
        max_share = float(raw.get("max_share", defaults.get("max_share", 0.05)))
        if not 0 < max_share <= 1:
            raise ConfigError(f"{where}.max_share must be in (0, 1], got {max_share}")
        group = raw.get("approver_group", "")
        if group not in groups:
            raise ConfigError(f"{where}.approver_group {group!r} is not one of {sorted(groups)}")
        quality_checks = tuple(str(c) for c in raw.get("quality_checks") or ())
        for cid in quality_checks:
            # Without quality.yaml (quality job not deployed) the link is simply inactive at run time.
            if quality_catalogue is None:
                break
            if cid not in quality_catalogue:
                raise ConfigError(f"{where}.quality_checks: {cid!r} is not a check in quality.yaml")
            if (quality_catalogue[cid] or {}).get("object") != obj.name:
                raise ConfigError(
                    f"{where}.quality_checks: {cid!r} checks {(quality_catalogue[cid] or {}).get('object')!r}, "
                    f"not this plan type's object {obj.name!r}"
                )
        only_open = bool(raw.get("only_open_exceptions", False))
        requires_quality = bool(raw.get("requires_quality_run", False))
        if (only_open or requires_quality) and not quality_checks:
            raise ConfigError(f"{where}: only_open_exceptions / requires_quality_run need quality_checks")
        plan_types[name] = PlanType(
            name=name,
            object=obj.name,
            sql=raw.get("sql"),
            fields=fields,
            guard_fields=tuple(raw.get("guard_fields") or ()),
            sensitive_fields=tuple(raw.get("sensitive_fields") or ()),
            max_records=max_records,
            max_share=max_share,
            approver_group=group,
            batch_size=batch_size,
            retry=retry,
            approval_timeout_hours=float(
                raw.get("approval_timeout_hours", defaults.get("approval_timeout_hours", 24))
            ),
            params=dict(raw.get("params") or {}),
            description=raw.get("description", ""),
            quality_checks=quality_checks,
            only_open_exceptions=only_open,
            requires_quality_run=requires_quality,
        )
    return BulkUpdateSettings(plan_types, groups, sensitive_group, stamp_fields, defaults)
