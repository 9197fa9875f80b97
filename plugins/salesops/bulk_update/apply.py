"""Write an approved plan back to the CRM: drift check, batches, retries, ledger, post-validation.

The change log (ops.bulk_update_change_log) is the ledger that makes apply idempotent: before a
batch is sent, each of its changes is logged ``pending``; after the call, ``applied`` or
``failed``. A re-run (or a retry after the worker was killed mid-call) skips changes whose latest
state is applied, and re-reads every other record: a ``pending`` change whose record already
holds the after value was written by the interrupted call and is logged ``already_applied``
without writing it again.
"""

from __future__ import annotations

import csv
import logging
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from salesops.bulk_update import store
from salesops.bulk_update.approval import require_approval
from salesops.bulk_update.plan import Plan, PlanError, PlanRow, load_plan
from salesops.bulk_update.settings import MAX_BATCH_SIZE, UNDO, BulkUpdateSettings, RetryPolicy, load_settings
from salesops.bulk_update.values import canon, to_api
from salesops.config import get_object
from salesops.sources.base import CrmSource, UpdateResult
from salesops.warehouse import Warehouse

log = logging.getLogger(__name__)

APPLIED_STATES = ("applied", "already_applied", "verified")
READ_CHUNK = 200


class ApplyFailed(RuntimeError):
    """Some records failed to write or did not verify; raised after all results are logged."""

    def __init__(self, message: str, report: ApplyReport) -> None:
        super().__init__(message)
        self.report = report


@dataclass
class ApplyReport:
    plan_id: str
    run_id: str | None
    approver: str | None
    planned_changes: int = 0
    applied: list[str] = field(default_factory=list)  # change ids written by this run
    previously_applied: list[str] = field(default_factory=list)  # the ledger says an earlier run did it
    already_applied: list[str] = field(default_factory=list)  # found at the after value; not written again
    skipped_drift: list[dict[str, Any]] = field(default_factory=list)
    failed: list[dict[str, Any]] = field(default_factory=list)
    mismatches: list[dict[str, Any]] = field(default_factory=list)
    batches: int = 0
    write_calls: int = 0
    change_log_csv: str | None = None

    @property
    def ok(self) -> bool:
        return not self.failed and not self.mismatches

    def to_dict(self) -> dict[str, Any]:
        return {
            "plan_id": self.plan_id,
            "run_id": self.run_id,
            "approver": self.approver,
            "planned_changes": self.planned_changes,
            "applied": len(self.applied),
            "previously_applied": len(self.previously_applied),
            "already_applied": len(self.already_applied),
            "skipped_drift": len(self.skipped_drift),
            "failed": len(self.failed),
            "mismatches": len(self.mismatches),
            "batches": self.batches,
            "write_calls": self.write_calls,
            "change_log_csv": self.change_log_csv,
            "drift_details": self.skipped_drift[:50],
            "failure_details": self.failed[:50],
            "mismatch_details": self.mismatches[:50],
        }


def latest_change_states(wh: Warehouse, plan_id: str) -> dict[str, dict[str, Any]]:
    """change_id -> latest change-log event of the plan."""
    store.ensure_tables(wh)
    return {r["change_id"]: r for r in store.query(wh, "select_change_log.sql", {"plan_id": plan_id})}


def _read(
    source: CrmSource, api_name: str, ids: Sequence[str], fields: Sequence[str]
) -> dict[str, dict[str, Any]]:
    out: dict[str, dict[str, Any]] = {}
    ids = list(ids)
    for i in range(0, len(ids), READ_CHUNK):
        for rec in source.get_records(api_name, ids[i : i + READ_CHUNK], list(fields)):
            out[str(rec["Id"])] = rec
    return out


# Complexity 28 > 20: split by issue 11 (t11-safe owns the apply loop); remove the noqa then.
def apply_plan(  # noqa: C901
    wh: Warehouse,
    source: CrmSource,
    plan_id: str,
    *,
    run_id: str | None = None,
    settings: BulkUpdateSettings | None = None,
    batch_size: int | None = None,
    sleep: Callable[[float], None] = time.sleep,
    raise_on_failure: bool = True,
) -> ApplyReport:
    """Apply an approved plan exactly once per change.

    Args:
        wh: the warehouse holding the plan and ledger.
        source: the CRM to write to.
        plan_id: the approved plan.
        run_id: the Airflow run id recorded with every change.
        settings: bulk_updates.yaml (loaded when None).
        batch_size: records per write call (default: the plan type's; at most 200).
        sleep: backoff sleeper (tests pass a no-op).
        raise_on_failure: raise :class:`ApplyFailed` at the end when any record failed or did
            not verify (after everything is logged and the CSV written).

    Raises:
        ApprovalError: the plan is not validly approved for its current hash.
        PlanIntegrityError: the stored plan no longer matches its hash.
        ApplyFailed: see ``raise_on_failure``.
    """
    settings = settings or load_settings()
    plan = load_plan(wh, plan_id)
    approval = require_approval(wh, plan, settings)
    approver = approval["approver"]
    if approval["channel"] == "demo":
        approver = f"{approver} (demo switch)"
    pt = _plan_type_for(wh, plan, settings)
    size = batch_size or pt.batch_size
    if not 1 <= size <= MAX_BATCH_SIZE:
        raise PlanError(f"batch size must be 1..{MAX_BATCH_SIZE}, got {size}")
    obj = get_object(plan.object)
    ftype = {f.api_name: f.type for f in obj.fields}
    stamp_field = settings.stamp_fields.get(plan.object)
    if stamp_field and stamp_field not in ftype:
        raise PlanError(f"stamp field {stamp_field} is not a field of {obj.api_name} in objects.yaml")

    report = ApplyReport(plan.plan_id, run_id, approver, planned_changes=len(plan.changes))
    store.set_plan_status(wh, plan.plan_id, "applying")
    states = latest_change_states(wh, plan.plan_id)
    base_event = {"plan_id": plan.plan_id, "run_id": run_id, "approver": approver, "object": plan.object}

    def event(r: PlanRow, status: str, **kw: Any) -> dict[str, Any]:
        return {
            **base_event,
            "change_id": r.change_id,
            "record_id": r.record_id,
            "field": r.field,
            "old_value": r.before_value,
            "new_value": r.after_value,
            "status": status,
            **kw,
        }

    todo: dict[str, list[PlanRow]] = {}
    for r in plan.changes:
        if states.get(r.change_id, {}).get("status") in APPLIED_STATES:
            report.previously_applied.append(r.change_id)
        else:
            todo.setdefault(r.record_id, []).append(r)
    guards: dict[str, list[PlanRow]] = {}
    for g in plan.guards:
        guards.setdefault(g.record_id, []).append(g)

    try:
        # Drift check right before writing: re-read every record still to do.
        read_fields = sorted(
            {r.field for rows in todo.values() for r in rows} | {g.field for g in plan.guards}
        )
        current = _read(source, plan.api_name, sorted(todo), read_fields) if todo else {}
        to_write: list[tuple[str, list[PlanRow]]] = []
        events: list[dict[str, Any]] = []
        for record_id in sorted(todo):
            rows = todo[record_id]
            rec = current.get(record_id)
            if rec is None:
                for r in rows:
                    report.failed.append(
                        {
                            "change_id": r.change_id,
                            "record_id": record_id,
                            "field": r.field,
                            "error": "record not found in the CRM",
                        }
                    )
                    events.append(event(r, "failed", error="record not found in the CRM"))
                continue
            drift = []
            pending = []
            for g in guards.get(record_id, []):
                found = canon(rec.get(g.field), ftype[g.field])
                if found != g.before_value:
                    drift.append(
                        {"field": g.field, "expected": g.before_value, "found": found, "guard": True}
                    )
            for r in rows:
                found = canon(rec.get(r.field), ftype[r.field])
                if found == r.after_value:
                    # Already holds the after value: written by an interrupted earlier run (or by
                    # someone else to the same value). Either way, writing again would add nothing.
                    report.already_applied.append(r.change_id)
                    events.append(event(r, "already_applied", error="record already held the after value"))
                elif found == r.before_value:
                    pending.append(r)
                else:
                    drift.append(
                        {"field": r.field, "expected": r.before_value, "found": found, "guard": False}
                    )
            if drift:
                # A record is one unit: if anything we planned on changed, none of it is written.
                detail = "; ".join(
                    f"{d['field']}: planned before {d['expected']!r}, found {d['found']!r}" for d in drift
                )
                for r in pending:
                    report.skipped_drift.append(
                        {"change_id": r.change_id, "record_id": record_id, "field": r.field, "detail": detail}
                    )
                    events.append(event(r, "skipped_drift", error=detail))
                for d in drift:
                    if not d["guard"]:
                        r = next(x for x in rows if x.field == d["field"])
                        report.skipped_drift.append(
                            {
                                "change_id": r.change_id,
                                "record_id": record_id,
                                "field": r.field,
                                "detail": detail,
                            }
                        )
                        events.append(event(r, "skipped_drift", error=detail))
                log.warning("drift: record %s skipped (%s)", record_id, detail)
                continue
            if pending:
                to_write.append((record_id, pending))
        store.log_events(wh, events)

        for batch_no, start in enumerate(range(0, len(to_write), size), start=1):
            batch = to_write[start : start + size]
            report.batches += 1
            store.log_events(wh, [event(r, "pending", batch_no=batch_no) for _, rows in batch for r in rows])
            outcome = _write_batch(source, plan, batch, ftype, stamp_field, pt.retry, sleep, report)
            now = store.utcnow()
            done_events = []
            for record_id, rows in batch:
                status, error, attempt = outcome[record_id]
                for r in rows:
                    if status == "applied":
                        report.applied.append(r.change_id)
                        done_events.append(
                            event(r, "applied", batch_no=batch_no, attempt=attempt, applied_at=now)
                        )
                    elif status == "already_applied":
                        report.already_applied.append(r.change_id)
                        done_events.append(
                            event(r, "already_applied", batch_no=batch_no, attempt=attempt, error=error)
                        )
                    else:
                        report.failed.append(
                            {
                                "change_id": r.change_id,
                                "record_id": record_id,
                                "field": r.field,
                                "error": error,
                            }
                        )
                        done_events.append(
                            event(r, "failed", batch_no=batch_no, attempt=attempt, error=error)
                        )
            store.log_events(wh, done_events)
            log.info("batch %d: %d records sent", batch_no, len(batch))

        _post_validate(wh, source, plan, ftype, report, event)
    finally:
        report.change_log_csv = str(write_change_log_csv(wh, plan))

    final = "applied" if report.ok else "applied_with_errors"
    store.set_plan_status(wh, plan.plan_id, final)
    log.info(
        "plan %s: %d applied, %d applied by an earlier run, %d already at the after value, %d skipped (drift), "
        "%d failed, %d mismatches; change log %s",
        plan.plan_id,
        len(report.applied),
        len(report.previously_applied),
        len(report.already_applied),
        len(report.skipped_drift),
        len(report.failed),
        len(report.mismatches),
        report.change_log_csv,
    )
    for f in report.failed:
        log.error("failed: %s %s.%s: %s", f["record_id"], plan.api_name, f["field"], f["error"])
    if raise_on_failure and not report.ok:
        raise ApplyFailed(
            f"plan {plan.plan_id}: {len(report.failed)} changes failed and {len(report.mismatches)} did not verify "
            f"(of {report.planned_changes}); see {report.change_log_csv}",
            report,
        )
    return report


def _plan_type_for(wh: Warehouse, plan: Plan, settings: BulkUpdateSettings):
    if plan.plan_type == UNDO:
        from salesops.bulk_update.plan import _base_plan_type

        return settings.undo_type(settings.plan_type(_base_plan_type(wh, plan)))
    return settings.plan_type(plan.plan_type)


def _write_batch(
    source: CrmSource,
    plan: Plan,
    batch: list[tuple[str, list[PlanRow]]],
    ftype: dict[str, str],
    stamp_field: str | None,
    retry: RetryPolicy,
    sleep: Callable[[float], None],
    report: ApplyReport,
) -> dict[str, tuple[str, str | None, int]]:
    """Send one batch with retries; record_id -> (applied|already_applied|failed, error, attempts)."""
    payloads = {}
    for record_id, rows in batch:
        upd: dict[str, Any] = {"Id": record_id}
        for r in rows:
            upd[r.field] = to_api(r.after_value, ftype[r.field])
        if stamp_field:
            upd[stamp_field] = plan.plan_id
        payloads[record_id] = upd
    rows_by_record = dict(batch)
    outcome: dict[str, tuple[str, str | None, int]] = {}
    remaining = [rid for rid, _ in batch]
    attempt = 0
    while remaining:
        attempt += 1
        report.write_calls += 1
        try:
            results: list[UpdateResult] = list(
                source.update_records(plan.api_name, [payloads[rid] for rid in remaining])
            )
        except Exception as exc:  # the call itself failed: we cannot know what was written
            if attempt >= retry.max_attempts:
                for rid in remaining:
                    outcome[rid] = ("failed", f"{type(exc).__name__}: {exc}", attempt)
                break
            log.warning(
                "write call failed (%s); re-reading %d records before retry %d",
                exc,
                len(remaining),
                attempt + 1,
            )
            sleep(retry.delay(attempt))
            # Re-read: records that already hold every after value were written before the error.
            fields = sorted({r.field for rid in remaining for r in rows_by_record[rid]})
            now_vals = _read(source, plan.api_name, remaining, fields)
            still = []
            for rid in remaining:
                rec = now_vals.get(rid, {})
                if all(canon(rec.get(r.field), ftype[r.field]) == r.after_value for r in rows_by_record[rid]):
                    outcome[rid] = ("already_applied", f"written by a call that then failed ({exc})", attempt)
                else:
                    still.append(rid)
            remaining = still
            continue
        if len(results) != len(remaining):
            raise PlanError(
                f"{plan.api_name} update returned {len(results)} results for {len(remaining)} records"
            )
        retry_ids = []
        for rid, res in zip(remaining, results, strict=True):
            if str(res.id) != rid:
                raise PlanError(
                    f"{plan.api_name} update result for {res.id} where {rid} was expected (results out of order)"
                )
            if res.success:
                outcome[rid] = ("applied", None, attempt)
            elif res.transient and attempt < retry.max_attempts:
                retry_ids.append(rid)
            else:
                kind = "transient, retries exhausted" if res.transient else "permanent"
                outcome[rid] = ("failed", f"{kind}: {'; '.join(res.errors) or 'no error message'}", attempt)
        if retry_ids:
            delay = retry.delay(attempt)
            log.info(
                "%d transient errors; retrying in %.1fs (attempt %d of %d)",
                len(retry_ids),
                delay,
                attempt + 1,
                retry.max_attempts,
            )
            sleep(delay)
        remaining = retry_ids
    return outcome


def _post_validate(
    wh: Warehouse, source: CrmSource, plan: Plan, ftype: dict[str, str], report: ApplyReport, event
) -> None:
    """Re-read every record this run touched and check the after values are really there."""
    touched = set(report.applied) | set(report.already_applied)
    rows = [r for r in plan.changes if r.change_id in touched]
    if not rows:
        return
    current = _read(
        source, plan.api_name, sorted({r.record_id for r in rows}), sorted({r.field for r in rows})
    )
    events = []
    for r in rows:
        found = canon(current.get(r.record_id, {}).get(r.field), ftype[r.field])
        if found == r.after_value:
            events.append(event(r, "verified"))
        else:
            detail = f"after writing, {r.field} is {found!r}, expected {r.after_value!r}"
            report.mismatches.append(
                {"change_id": r.change_id, "record_id": r.record_id, "field": r.field, "detail": detail}
            )
            events.append(event(r, "mismatch", error=detail))
            log.error("post-validation mismatch: %s %s", r.record_id, detail)
    store.log_events(wh, events)


def change_log(wh: Warehouse, plan_id: str) -> list[dict[str, Any]]:
    """The change log of a plan: the latest event per change (what an auditor reads)."""
    return list(latest_change_states(wh, plan_id).values())


def write_change_log_csv(wh: Warehouse, plan: Plan) -> Path:
    """output_dir()/bulk_updates/<plan_id>/change_log.csv (latest state per change)."""
    from salesops.bulk_update.render import plan_dir

    path = plan_dir(plan.plan_id) / "change_log.csv"
    path.parent.mkdir(parents=True, exist_ok=True)
    rows = change_log(wh, plan.plan_id)
    cols = [
        "plan_id",
        "run_id",
        "approver",
        "change_id",
        "object",
        "record_id",
        "field",
        "old_value",
        "new_value",
        "status",
        "attempt",
        "batch_no",
        "applied_at",
        "error",
        "logged_at",
    ]
    with path.open("w", newline="", encoding="utf-8") as fh:
        w = csv.DictWriter(fh, fieldnames=cols, extrasaction="ignore")
        w.writeheader()
        for r in rows:
            w.writerow(r)
    return path
