"""The shared vocabulary of bulk updates: plans, plan rows, their errors and states.

A leaf module: plan, apply, approval, render, quality_link, target and the plan types import it;
it imports nothing from ``salesops.bulk_update`` (tests/unit/test_layering.py checks that the
package has no import cycle), so each of them can use these types without importing another.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
from collections import Counter
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from typing import Any

CHANGE = "change"
GUARD = "guard"
# Statuses a plan moves through. Content never changes; only the status does.
OPEN_STATUSES = ("built",)
FINAL_DECISIONS = {"approve": "approved", "reject": "rejected", "expired": "expired"}
# Change-log states of a change that reached the CRM (apply writes them; undo reads them).
APPLIED_STATES = ("applied", "already_applied", "verified")


class PlanError(ValueError):
    """The plan cannot be built or used as asked (bad type, missing data)."""


class PlanGuardError(PlanError):
    """A hard-stop guard failed before approval was requested; the message says how to proceed."""


class EmptyPlan(Exception):
    """Nothing to change: not an error, the caller skips the rest cleanly."""


class PlanIntegrityError(PlanError):
    """The stored plan rows no longer produce the plan's content hash (tampered or corrupted)."""


@dataclass(frozen=True)
class PlanRow:
    change_id: str
    seq: int
    record_id: str
    field: str
    role: str
    before_value: str | None
    after_value: str | None
    record_name: str | None = None
    owner_id: str | None = None
    region: str | None = None
    undo_of_change_id: str | None = None
    # objects.yaml name of the record's object when a plan writes more than one object (a territory
    # change moves accounts, their open opportunities and leads); None = the plan's object.
    object: str | None = None


@dataclass
class Plan:
    plan_id: str
    plan_type: str
    object: str
    api_name: str
    requester: str
    reason: str
    created_at: datetime
    as_of: datetime | None
    expires_at: datetime
    scope: dict[str, Any]
    content_hash: str
    approver_group: str
    sensitive: bool
    object_row_count: int
    rows: list[PlanRow] = field(default_factory=list)
    undo_of_plan_id: str | None = None
    dag_id: str | None = None
    run_id: str | None = None
    artifact_dir: str | None = None
    status: str = "built"
    # Not stored in ops.*: the open quality exceptions next to the plan (quality_exceptions.csv).
    quality_exceptions: list[dict[str, Any]] = field(default_factory=list, repr=False)

    @property
    def target(self) -> str | None:
        """The CRM (``system:instance``) the plan was built for (see salesops.bulk_update.target)."""
        return self.scope.get("target")

    def object_of(self, row: PlanRow) -> str:
        """The objects.yaml name of ``row``'s record (the plan's object unless the row names one)."""
        return row.object or self.object

    @property
    def objects(self) -> list[str]:
        """Every object the plan touches: the plan's own first (apply writes it first), then the others by name."""
        return [self.object, *sorted({r.object for r in self.rows if r.object and r.object != self.object})]

    def for_object(self, object_name: str, api_name: str) -> Plan:
        """A view of this plan restricted to one object's rows (same id, hash and status).

        Apply writes a multi-object plan one object at a time through this view: every step of
        apply (drift check, batches, ledger, post-validation) sees a single-object plan.
        """
        from dataclasses import replace

        rows = [r for r in self.rows if self.object_of(r) == object_name]
        return replace(self, object=object_name, api_name=api_name, rows=rows)

    @property
    def changes(self) -> list[PlanRow]:
        return [r for r in self.rows if r.role == CHANGE]

    @property
    def guards(self) -> list[PlanRow]:
        return [r for r in self.rows if r.role == GUARD]

    @property
    def record_ids(self) -> list[str]:
        return sorted({r.record_id for r in self.changes})

    @property
    def record_count(self) -> int:
        return len(self.record_ids)

    @property
    def fields(self) -> list[str]:
        return sorted({r.field for r in self.changes})

    def header(self) -> dict[str, Any]:
        return {
            "plan_id": self.plan_id,
            "plan_type": self.plan_type,
            "object": self.object,
            "api_name": self.api_name,
            "requester": self.requester,
            "reason": self.reason,
            "created_at": iso(self.created_at),
            "as_of": iso(self.as_of),
            "expires_at": iso(self.expires_at),
            "scope": json.dumps(self.scope, sort_keys=True, default=str),
            "record_count": self.record_count,
            "change_count": len(self.changes),
            "object_row_count": self.object_row_count,
            "content_hash": self.content_hash,
            "approver_group": self.approver_group,
            "sensitive": self.sensitive,
            "undo_of_plan_id": self.undo_of_plan_id,
            "dag_id": self.dag_id,
            "run_id": self.run_id,
            "artifact_dir": self.artifact_dir,
            "status": self.status,
        }


def change_id(plan_id: str, record_id: str, field_name: str) -> str:
    """Deterministic id of one change: the idempotency key of the apply ledger."""
    return f"{plan_id}:{record_id}:{field_name}"


def content_hash(plan_type: str, object_name: str, rows: list[PlanRow]) -> str:
    """sha256 over the canonical JSON of the plan's content (type, object, every row, sorted).

    Ids, timestamps and display columns are left out on purpose: the hash says *what* changes,
    so the same proposal built twice hashes the same and any edit of a value changes it. A row's
    own object (multi-object plans) is part of it; rows without one hash as they always did.
    """
    canonical = {
        "plan_type": plan_type,
        "object": object_name,
        "rows": sorted(
            [r.record_id, r.field, r.role, r.before_value, r.after_value, r.undo_of_change_id]
            + ([r.object] if r.object else [])
            for r in rows
        ),
    }
    payload = json.dumps(canonical, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(payload.encode("utf-8")).hexdigest()


def check_record_limit(record_limit: object) -> None:
    """A plan's record_limit is None (no split) or a whole number of records >= 1."""
    if record_limit is not None and (
        isinstance(record_limit, bool) or not isinstance(record_limit, int) or record_limit < 1
    ):
        raise PlanError(f"record_limit must be a whole number of records >= 1, got {record_limit!r}")


def limit_records(rows: list[PlanRow], record_limit: int | None) -> tuple[list[PlanRow], set[str]]:
    """Keep the rows of the first ``record_limit`` changed records in record-id order.

    A plan larger than its type's ``max_records`` is split this way: each plan takes the next
    records in a stable order, and the records it leaves wait for a later plan (built after this one
    is applied, they are proposed again only if they still need the change).

    Returns:
        (the kept rows, renumbered; the ids of the changed records left out).
    """
    check_record_limit(record_limit)
    if record_limit is None:
        return rows, set()
    changed = sorted({r.record_id for r in rows if r.role == CHANGE})
    if len(changed) <= record_limit:
        return rows, set()
    deferred = set(changed[record_limit:])
    kept = [r for r in rows if r.record_id not in deferred]
    return [dataclasses.replace(r, seq=i) for i, r in enumerate(kept)], deferred


def values_params(name: str, rows: list[dict[str, Any]]) -> dict[str, Any]:
    """Bind parameters for the ``values_table`` macro in include/sql/bulk_update/_macros.sql."""
    return {f"{name}_{i}_{col}": value for i, row in enumerate(rows) for col, value in row.items()}


def iso(ts: datetime | None) -> str | None:
    """The stored text form of a timestamp in ops.* (naive UTC, space-separated)."""
    if ts is None:
        return None
    if ts.tzinfo is not None:
        ts = ts.astimezone(UTC).replace(tzinfo=None)
    return ts.isoformat(sep=" ")


def summarize(plan: Plan, sample_size: int = 10) -> dict[str, Any]:
    """Counts by field / transition / owner / region and a sample of rows, for the approver."""
    changes = plan.changes
    by_field = Counter(r.field for r in changes)
    transitions = Counter((r.field, r.before_value, r.after_value) for r in changes)
    records_by_region: dict[str, set[str]] = {}
    records_by_owner: dict[str, set[str]] = {}
    for r in changes:
        records_by_region.setdefault(r.region or "(none)", set()).add(r.record_id)
        records_by_owner.setdefault(r.owner_id or "(none)", set()).add(r.record_id)
    return {
        "plan_id": plan.plan_id,
        "plan_type": plan.plan_type,
        "object": plan.object,
        "api_name": plan.api_name,
        "requester": plan.requester,
        "on_behalf_of": plan.scope.get("on_behalf_of"),
        "target": plan.target,
        "reason": plan.reason,
        "created_at": str(plan.created_at),
        "as_of": str(plan.as_of) if plan.as_of else None,
        "expires_at": str(plan.expires_at),
        "content_hash": plan.content_hash,
        "record_count": plan.record_count,
        "change_count": len(changes),
        "object_row_count": plan.object_row_count,
        "share_of_object": plan.record_count / plan.object_row_count if plan.object_row_count else None,
        "approver_group": plan.approver_group,
        "sensitive": plan.sensitive,
        "undo_of_plan_id": plan.undo_of_plan_id,
        "artifact_dir": plan.artifact_dir,
        "scope": plan.scope,
        "quality": plan.scope.get("quality"),
        "by_field": sorted(by_field.items()),
        "transitions": [
            {"field": f, "before": b, "after": a, "records": n}
            for (f, b, a), n in sorted(transitions.items(), key=lambda kv: (-kv[1], str(kv[0])))
        ],
        "by_owner": sorted(
            ((k, len(v)) for k, v in records_by_owner.items()), key=lambda kv: (-kv[1], kv[0])
        ),
        "by_region": sorted(
            ((k, len(v)) for k, v in records_by_region.items()), key=lambda kv: (-kv[1], kv[0])
        ),
        "sample": [asdict(r) for r in changes[:sample_size]],
    }
