"""Apply a large approved plan through one Salesforce Bulk API 2.0 ingest job.

Called by :func:`salesops.bulk_update.apply.apply_plan` after its drift check, only for a source
that offers ingest jobs (``SalesforceVolumeSource``) and a plan with at least the source's
``ingest_threshold`` records to write; everything else stays on sObject Collections batches.
Approval, target and drift checks have already run: this module only changes *how* the approved,
re-read changes are sent.

1. The changes are logged ``pending`` (``batch_no`` 0 = the ingest job), the rows are sorted by
   parent id (``volume.ingest_parent_fields``, from staging) so children of one parent share a
   chunk (Salesforce's advice against ``UNABLE_TO_LOCK_ROW``).
2. The job is opened and recorded in ``ops.bulk_update_ingest_job`` *before* its data is
   uploaded; then upload, ``UploadComplete``, poll.
3. Its per-record results (successfulResults / failedResults / unprocessedrecords) go into the
   change log: ``applied``; ``failed`` with Salesforce's ``sf__Error``; a record the job never
   processed (job ``Failed``/``Aborted``) ``failed`` as not processed. **A job is never
   resubmitted**: a failed job is re-read, and its unprocessed records stay failed until someone
   runs the apply again (which re-reads every record first).
4. Transient per-record errors (lock contention) are handed back to ``apply_plan``, which re-reads
   those records and writes only the ones not yet at their after value, through sObject
   Collections with the plan type's retry policy.

An apply that dies while a job runs leaves the job in ``ops.bulk_update_ingest_job`` with
``results_read = false``: the next apply of the plan waits for that job and logs its results
(:func:`settle_unread_jobs`) before anything else, so no record is sent twice.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from salesops.bulk_update import store
from salesops.bulk_update.model import PlanRow
from salesops.config import get_object
from salesops.sources.base import Record, UpdateResult
from salesops.sources.salesforce_ingest import IngestResult, SalesforceIngest, parent_order

log = logging.getLogger(__name__)

INGEST_BATCH_NO = 0  # change-log batch_no of changes sent through the ingest job

Batch = list[tuple[str, list[PlanRow]]]


def _ensure_table(wh: Any) -> None:
    wh.run_file("bulk_update/create_ingest_job_table.sql")


def uses_ingest(source: Any, records: int) -> bool:
    """Whether ``records`` records go through an ingest job on this source."""
    threshold = getattr(source, "ingest_threshold", None)
    return threshold is not None and hasattr(source, "ingest") and records >= int(threshold)


def _parents(ctx: Any) -> dict[str, str | None]:
    """record id -> parent id from staging (empty when the object has no parent lookup)."""
    field = ctx.source.ingest_parent_field(ctx.plan.api_name)
    obj = get_object(ctx.plan.object)
    spec = next((f for f in obj.fields if f.api_name == field), None)
    if spec is None:
        return {}
    rows = store.query(
        ctx.wh,
        "select_parent_ids.sql",
        obj=obj,
        parent_column=spec.column,
    )
    return {str(r["record_id"]): r["parent_id"] for r in rows}


def apply_by_ingest(ctx: Any, to_write: Batch, payload: Callable[[list[PlanRow]], Record]) -> Batch | None:
    """Send ``to_write`` as one ingest job if it is large enough; log every record's result.

    Returns:
        None when the plan is below the threshold (the caller writes it in batches), else the
        records whose write failed transiently (the caller re-reads them before any retry).
    """
    if not to_write or not uses_ingest(ctx.source, len(to_write)):
        return None
    ingest: SalesforceIngest = ctx.source.ingest
    api_name = ctx.plan.api_name
    _ensure_table(ctx.wh)
    updates = parent_order([payload(rows) for _, rows in to_write], _parents(ctx))
    store.log_events(
        ctx.wh, [ctx.event(r, "pending", batch_no=INGEST_BATCH_NO) for _, rows in to_write for r in rows]
    )
    job_id = ingest.create(api_name)
    store.execute_many(
        ctx.wh,
        "insert_ingest_job.sql",
        [
            {
                "job_id": job_id,
                "plan_id": ctx.plan.plan_id,
                "run_id": ctx.run_id,
                "object": api_name,
                "records": len(updates),
                "state": "Open",
                "opened_at": store.iso(store.utcnow()),
            }
        ],
    )
    ctx.report.batches += 1
    ctx.report.write_calls += 1
    ingest.upload_and_close(job_id, updates)
    _set_state(ctx.wh, job_id, "UploadComplete", read=False)
    log.info("plan %s: %d records sent in Bulk API 2.0 ingest job %s", ctx.plan.plan_id, len(updates), job_id)
    return _settle(ctx, ingest, job_id, to_write)


def settle_unread_jobs(ctx: Any) -> None:
    """Log the results of ingest jobs an interrupted apply of this plan left unread.

    A job that never got its upload-complete is aborted (it holds no processed data); a job that
    did is waited for and read. Nothing is sent again here: records the job did not write are
    logged failed and the apply's drift check decides what is still to do.
    """
    if not hasattr(ctx.source, "ingest"):
        return
    _ensure_table(ctx.wh)
    jobs = store.query(ctx.wh, "select_unread_ingest_jobs.sql", {"plan_id": ctx.plan.plan_id})
    # A multi-object plan is applied one object at a time: settle this object's jobs only.
    jobs = [j for j in jobs if j["object"] in (None, ctx.plan.api_name)]
    if not jobs:
        return
    ingest: SalesforceIngest = ctx.source.ingest
    states = store.latest_change_states(ctx.wh, ctx.plan.plan_id)
    rows_by_record: dict[str, list[PlanRow]] = {}
    for r in ctx.plan.changes:
        ev = states.get(r.change_id, {})
        if ev.get("status") == "pending" and ev.get("batch_no") == INGEST_BATCH_NO:
            rows_by_record.setdefault(r.record_id, []).append(r)
    for job in jobs:
        job_id = job["job_id"]
        log.warning(
            "plan %s: re-reading ingest job %s left by an interrupted apply", ctx.plan.plan_id, job_id
        )
        if job["state"] == "Open":
            ingest.client.request(
                "PATCH", ingest.client.data_path(f"jobs/ingest/{job_id}"), json={"state": "Aborted"}
            )
        _settle(ctx, ingest, job_id, sorted(rows_by_record.items()))


def _set_state(wh: Any, job_id: str, state: str, *, read: bool, error: str | None = None) -> None:
    store.execute_many(
        wh,
        "update_ingest_job.sql",
        [
            {
                "job_id": job_id,
                "state": state,
                "results_read": read,
                "finished_at": store.iso(store.utcnow()) if read else None,
                "error": error,
            }
        ],
    )


def _settle(ctx: Any, ingest: SalesforceIngest, job_id: str, batch: Batch) -> Batch:
    """Wait for the job, log each record's result; return the transient failures."""
    info = ingest.wait(job_id)
    outcome = ingest.results(job_id, [rid for rid, _ in batch], info)
    events, transient = _events(ctx, outcome, batch)
    store.log_events(ctx.wh, events)
    _set_state(ctx.wh, job_id, outcome.state, read=True, error=outcome.error_message)
    ingest.delete(job_id)
    failed = sum(1 for res in outcome.results.values() if not res.success)
    log.info(
        "ingest job %s ended %s: %d written, %d failed (%d transient), %d not processed",
        job_id,
        outcome.state,
        len(outcome.results) - failed,
        failed,
        len(transient),
        len(outcome.unprocessed),
    )
    return transient


def _events(ctx: Any, outcome: IngestResult, batch: Batch) -> tuple[list[dict[str, Any]], Batch]:
    now = store.utcnow()
    events: list[dict[str, Any]] = []
    transient: Batch = []
    kw = {"batch_no": INGEST_BATCH_NO, "attempt": 1}
    for record_id, rows in batch:
        res: UpdateResult | None = outcome.results.get(record_id)
        if res is None:
            error = (
                f"not processed: ingest job {outcome.job_id} ended {outcome.state}"
                f"{': ' + outcome.error_message if outcome.error_message else ''}; not resubmitted"
            )
            events.extend(ctx.failed(r, error, **kw) for r in rows)
        elif res.success:
            ctx.report.applied.extend(r.change_id for r in rows)
            events.extend(ctx.event(r, "applied", applied_at=now, **kw) for r in rows)
        elif res.transient:
            error = (
                f"transient in ingest job {outcome.job_id}: {'; '.join(res.errors)}; "
                "re-read, then retried through sObject Collections if still needed"
            )
            events.extend(ctx.event(r, "failed", error=error, **kw) for r in rows)
            transient.append((record_id, rows))
        else:
            error = f"permanent: {'; '.join(res.errors)} (ingest job {outcome.job_id})"
            events.extend(ctx.failed(r, error, **kw) for r in rows)
    return events, transient
