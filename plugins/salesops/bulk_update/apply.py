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

from tenacity import RetryError, Retrying, retry_if_result, stop_after_attempt

from salesops.bulk_update import ingest, store
from salesops.bulk_update.approval import require_approval
from salesops.bulk_update.model import APPLIED_STATES, Plan, PlanError, PlanRow
from salesops.bulk_update.plan import load_plan
from salesops.bulk_update.settings import MAX_BATCH_SIZE, UNDO, BulkUpdateSettings, RetryPolicy, load_settings
from salesops.bulk_update.store import latest_change_states
from salesops.bulk_update.target import check as check_target
from salesops.bulk_update.target import of_source
from salesops.bulk_update.values import canon, to_api
from salesops.config import get_object
from salesops.sources.base import CrmSource
from salesops.warehouse import Warehouse

log = logging.getLogger(__name__)

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


def _read(
    source: CrmSource, api_name: str, ids: Sequence[str], fields: Sequence[str]
) -> dict[str, dict[str, Any]]:
    out: dict[str, dict[str, Any]] = {}
    ids = list(ids)
    for i in range(0, len(ids), READ_CHUNK):
        for rec in source.get_records(api_name, ids[i : i + READ_CHUNK], list(fields)):
            out[str(rec["Id"])] = rec
    return out


def apply_plan(
    wh: Warehouse,
    source: CrmSource,
    plan_id: str,
    *,
    run_id: str | None = None,
    settings: BulkUpdateSettings | None = None,
    batch_size: int | None = None,
    sleep: Callable[[float], None] = time.sleep,
    raise_on_failure: bool = True,
    target: str | None = None,
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
        target: the CRM ``source`` is (``system:instance``, see salesops.bulk_update.target);
            default: the source's own ``target_id``. A plan built for another target is refused
            before anything is read or written.

    Raises:
        ApprovalError: the plan is not validly approved for its current hash.
        PlanIntegrityError: the stored plan no longer matches its hash.
        TargetMismatch: the plan was built for another CRM (system or org/instance).
        ApplyFailed: see ``raise_on_failure``.
    """
    settings = settings or load_settings()
    plan = load_plan(wh, plan_id)
    check_target(plan.target, target or of_source(source), plan.plan_id)
    approval = require_approval(wh, plan, settings)
    approver = approval["approver"]
    if approval["channel"] == "demo":
        approver = f"{approver} (demo switch)"
    pt = _plan_type_for(wh, plan, settings)
    size = batch_size or pt.batch_size
    if not 1 <= size <= MAX_BATCH_SIZE:
        raise PlanError(f"batch size must be 1..{MAX_BATCH_SIZE}, got {size}")
    # One step per object (a territory change: accounts, then their open opportunities, then
    # leads); a single-object plan is one step. Each step sees a single-object view of the plan.
    steps = []
    for obj_name in plan.objects:
        obj = get_object(obj_name)
        view = plan if len(plan.objects) == 1 else plan.for_object(obj_name, obj.api_name)
        ftype = {f.api_name: f.type for f in obj.fields}
        stamp_field = settings.stamp_fields.get(obj_name)
        if stamp_field and stamp_field not in ftype:
            raise PlanError(f"stamp field {stamp_field} is not a field of {obj.api_name} in objects.yaml")
        steps.append((view, ftype, stamp_field))

    report = ApplyReport(plan.plan_id, run_id, approver, planned_changes=len(plan.changes))
    store.set_plan_status(wh, plan.plan_id, "applying")
    ctx = _Ctx(wh, source, plan, {}, None, pt.retry, sleep, report, run_id, approver)
    try:
        not_written: set[str] = set()
        for i, (view, ftype, stamp_field) in enumerate(steps):
            if view.changes:
                _apply_object(
                    _Ctx(wh, source, view, ftype, stamp_field, pt.retry, sleep, report, run_id, approver),
                    size,
                    not_written,
                )
            if i == 0 and len(steps) > 1:
                # The plan's own records (a territory change's accounts) that were not written:
                # records of the other objects guarded on one of them (an opportunity's AccountId)
                # are skipped, so an opportunity never moves without its account.
                states = latest_change_states(wh, plan.plan_id)
                not_written = {
                    r.record_id
                    for r in view.changes
                    if states.get(r.change_id, {}).get("status") not in APPLIED_STATES
                }
    finally:
        report.change_log_csv = str(write_change_log_csv(wh, plan))
    _finish(ctx)
    after_apply = _after_apply_hook(wh, plan)
    if after_apply is not None:  # e.g. the territory change records the applied map and history
        after_apply(wh, plan, report)
    if raise_on_failure and not report.ok:
        raise ApplyFailed(
            f"plan {plan.plan_id}: {len(report.failed)} changes failed and {len(report.mismatches)} did not verify "
            f"(of {report.planned_changes}); see {report.change_log_csv}",
            report,
        )
    return report


def _apply_object(ctx: _Ctx, size: int, skip_parents: set[str] | None = None) -> None:
    """Apply the changes of one object: settle, drift check, write (ingest or batches), verify.

    Records with a guard naming one of ``skip_parents`` (records of the plan's own object that
    were not written) are skipped and logged ``skipped_drift``.
    """
    plan, ftype, stamp_field = ctx.plan, ctx.ftype, ctx.stamp_field
    ingest.settle_unread_jobs(ctx)  # a job an interrupted apply left: read it, never resend it
    todo = _todo(ctx, latest_change_states(ctx.wh, plan.plan_id))
    if skip_parents:
        events = []
        for g in plan.guards:
            if g.record_id in todo and g.before_value in skip_parents:
                detail = f"{g.field} {g.before_value} was not changed by this plan; record not written"
                for r in todo.pop(g.record_id):
                    ctx.report.skipped_drift.append(
                        {
                            "change_id": r.change_id,
                            "record_id": r.record_id,
                            "field": r.field,
                            "detail": detail,
                        }
                    )
                    events.append(ctx.event(r, "skipped_drift", error=detail))
        store.log_events(ctx.wh, events)
    to_write = _drift_check(ctx, todo)
    # large plans on a source with Bulk API 2.0 ingest: one job; its transient failures are
    # re-read here and only what is not yet written goes on to the batches below
    retry = ingest.apply_by_ingest(ctx, to_write, lambda rows: _payload(plan, rows, ftype, stamp_field))
    if retry is not None:
        to_write = _drift_check(ctx, dict(retry)) if retry else []
    for batch_no, start in enumerate(range(0, len(to_write), size), start=1):
        _apply_batch(ctx, batch_no, to_write[start : start + size])
    _post_validate(ctx.wh, ctx.source, plan, ftype, ctx.report, ctx.event)


def _after_apply_hook(wh: Warehouse, plan: Plan) -> Callable[..., Any] | None:
    """The plan type's optional ``after_apply(wh, plan, report)`` (undo plans: the original's type)."""
    from salesops.bulk_update import plan_types

    base = plan.plan_type
    if base == UNDO:
        from salesops.bulk_update.plan import _base_plan_type

        base = _base_plan_type(wh, plan)
    if base not in plan_types.names():
        return None
    return getattr(plan_types.get(base), "after_apply", None)


@dataclass
class _Ctx:
    """What every step of one apply needs."""

    wh: Warehouse
    source: CrmSource
    plan: Plan
    ftype: dict[str, str]
    stamp_field: str | None
    retry: RetryPolicy
    sleep: Callable[[float], None]
    report: ApplyReport
    run_id: str | None
    approver: str | None

    def event(self, r: PlanRow, status: str, **kw: Any) -> dict[str, Any]:
        """A change-log event; every event names the run that wrote it (``run_id``)."""
        return {
            "plan_id": self.plan.plan_id,
            "run_id": self.run_id,
            "approver": self.approver,
            "object": self.plan.object,
            "change_id": r.change_id,
            "record_id": r.record_id,
            "field": r.field,
            "old_value": r.before_value,
            "new_value": r.after_value,
            "status": status,
            **kw,
        }

    def failed(self, r: PlanRow, error: str, **kw: Any) -> dict[str, Any]:
        self.report.failed.append(
            {"change_id": r.change_id, "record_id": r.record_id, "field": r.field, "error": error}
        )
        return self.event(r, "failed", error=error, **kw)


def _todo(ctx: _Ctx, states: dict[str, dict[str, Any]]) -> dict[str, list[PlanRow]]:
    """record_id -> changes the ledger does not show as applied (by this or an earlier run)."""
    todo: dict[str, list[PlanRow]] = {}
    for r in ctx.plan.changes:
        if states.get(r.change_id, {}).get("status") in APPLIED_STATES:
            ctx.report.previously_applied.append(r.change_id)
        else:
            todo.setdefault(r.record_id, []).append(r)
    return todo


def _drift_check(ctx: _Ctx, todo: dict[str, list[PlanRow]]) -> list[tuple[str, list[PlanRow]]]:
    """Re-read every record still to do right before writing; return what is safe to write.

    A record is one unit: if anything planned on it (a change's before value or a guard) changed,
    none of it is written. Changes already at their after value are logged, never written again.
    """
    plan, report = ctx.plan, ctx.report
    guards: dict[str, list[PlanRow]] = {}
    for g in plan.guards:
        guards.setdefault(g.record_id, []).append(g)
    fields = sorted({r.field for rows in todo.values() for r in rows} | {g.field for g in plan.guards})
    current = _read(ctx.source, plan.api_name, sorted(todo), fields) if todo else {}
    to_write: list[tuple[str, list[PlanRow]]] = []
    events: list[dict[str, Any]] = []
    for record_id in sorted(todo):
        rows = todo[record_id]
        rec = current.get(record_id)
        if rec is None:
            events.extend(ctx.failed(r, "record not found in the CRM") for r in rows)
            continue
        drift = [
            f"{g.field}: planned before {g.before_value!r}, found {found!r}"
            for g in guards.get(record_id, [])
            if (found := canon(rec.get(g.field), ctx.ftype[g.field])) != g.before_value
        ]
        pending = []
        for r in rows:
            found = canon(rec.get(r.field), ctx.ftype[r.field])
            if found == r.after_value:
                # Written by an interrupted earlier run (or by someone else to the same value).
                report.already_applied.append(r.change_id)
                events.append(ctx.event(r, "already_applied", error="record already held the after value"))
            elif found == r.before_value:
                pending.append(r)
            else:
                drift.append(f"{r.field}: planned before {r.before_value!r}, found {found!r}")
                pending.append(r)  # skipped below with the rest of the record
        if drift:
            detail = "; ".join(drift)
            for r in pending:
                report.skipped_drift.append(
                    {"change_id": r.change_id, "record_id": record_id, "field": r.field, "detail": detail}
                )
                events.append(ctx.event(r, "skipped_drift", error=detail))
            log.warning("drift: record %s skipped (%s)", record_id, detail)
        elif pending:
            to_write.append((record_id, pending))
    store.log_events(ctx.wh, events)
    return to_write


def _apply_batch(ctx: _Ctx, batch_no: int, batch: list[tuple[str, list[PlanRow]]]) -> None:
    """Log the batch pending, write it (the loop below owns retries), log each outcome."""
    report = ctx.report
    report.batches += 1
    store.log_events(ctx.wh, [ctx.event(r, "pending", batch_no=batch_no) for _, rows in batch for r in rows])
    outcome = _write_batch(
        ctx.source, ctx.plan, batch, ctx.ftype, ctx.stamp_field, ctx.retry, ctx.sleep, report
    )
    now = store.utcnow()
    done = []
    for record_id, rows in batch:
        status, error, attempt = outcome[record_id]
        for r in rows:
            if status == "applied":
                report.applied.append(r.change_id)
                done.append(ctx.event(r, "applied", batch_no=batch_no, attempt=attempt, applied_at=now))
            elif status == "already_applied":
                report.already_applied.append(r.change_id)
                done.append(ctx.event(r, "already_applied", batch_no=batch_no, attempt=attempt, error=error))
            else:
                done.append(ctx.failed(r, error or "failed", batch_no=batch_no, attempt=attempt))
    store.log_events(ctx.wh, done)
    log.info("batch %d: %d records sent", batch_no, len(batch))


def _finish(ctx: _Ctx) -> None:
    report, plan = ctx.report, ctx.plan
    store.set_plan_status(ctx.wh, plan.plan_id, "applied" if report.ok else "applied_with_errors")
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
    """Write one batch; record_id -> (applied|already_applied|failed, error, attempts).

    The only place a write is ever sent again (the HTTP layer never retries writes). tenacity
    runs at most ``retry.max_attempts`` attempts per batch in total, with ``retry.delay`` between
    them. Before every retry the records still open are re-read, and only those not yet at their
    after value are written again: a write the server applied and then answered with an error
    (500, timeout, lost connection) is never sent twice.
    """
    payloads = {rid: _payload(plan, rows, ftype, stamp_field) for rid, rows in batch}
    rows_by_record = dict(batch)
    outcome: dict[str, tuple[str, str | None, int]] = {}
    state: dict[str, Any] = {"remaining": [rid for rid, _ in batch], "errors": {}, "attempt": 0}

    def at_after_value(rids: list[str]) -> set[str]:
        fields = sorted({r.field for rid in rids for r in rows_by_record[rid]})
        now_vals = _read(source, plan.api_name, rids, fields)
        return {
            rid
            for rid in rids
            if all(
                canon(now_vals.get(rid, {}).get(r.field), ftype[r.field]) == r.after_value
                for r in rows_by_record[rid]
            )
        }

    def attempt_once() -> list[str]:
        state["attempt"] += 1
        attempt = state["attempt"]
        remaining: list[str] = state["remaining"]
        if attempt > 1:  # re-read before any retry: write only what is not there yet
            done = at_after_value(remaining)
            for rid in done:
                outcome[rid] = (
                    "already_applied",
                    f"written by an attempt that then failed ({state['errors'][rid]})",
                    attempt,
                )
            remaining = [rid for rid in remaining if rid not in done]
            state["remaining"] = remaining
            if not remaining:
                return []
        report.write_calls += 1
        try:
            results = list(source.update_records(plan.api_name, [payloads[rid] for rid in remaining]))
        except Exception as exc:  # the call itself failed: we cannot know what was written
            log.warning("write call failed (%s); %d records re-read before any retry", exc, len(remaining))
            state["errors"].update(dict.fromkeys(remaining, f"{type(exc).__name__}: {exc}"))
            return remaining
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
            elif res.transient:
                retry_ids.append(rid)
                state["errors"][rid] = "; ".join(res.errors) or "no error message"
            else:
                outcome[rid] = (
                    "failed",
                    f"permanent: {'; '.join(res.errors) or 'no error message'}",
                    attempt,
                )
        state["remaining"] = retry_ids
        return retry_ids

    retrying = Retrying(
        stop=stop_after_attempt(retry.max_attempts),
        wait=lambda rs: retry.delay(rs.attempt_number),
        retry=retry_if_result(bool),
        sleep=sleep,
        before_sleep=lambda rs: log.info(
            "%d records to retry after attempt %d of %d",
            len(rs.outcome.result()) if rs.outcome else 0,
            rs.attempt_number,
            retry.max_attempts,
        ),
    )
    try:
        retrying(attempt_once)
    except RetryError:
        pass
    for rid in state["remaining"]:
        outcome.setdefault(
            rid, ("failed", f"transient, retries exhausted: {state['errors'].get(rid)}", state["attempt"])
        )
    return outcome


def _payload(
    plan: Plan, rows: list[PlanRow], ftype: dict[str, str], stamp_field: str | None
) -> dict[str, Any]:
    upd: dict[str, Any] = {"Id": rows[0].record_id}
    for r in rows:
        upd[r.field] = to_api(r.after_value, ftype[r.field])
    if stamp_field:
        upd[stamp_field] = plan.plan_id
    return upd


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
