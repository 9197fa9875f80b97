"""Plans: propose changes from the warehouse, check the hard-stop guards, store an immutable plan.

A plan is the unit of approval. Its content (every row's record, field, before and after value)
is hashed; approvals name the plan id *and* that hash, and apply refuses a plan whose stored rows
no longer produce the hash.
"""

from __future__ import annotations

import json
import logging
import uuid
from dataclasses import asdict
from datetime import UTC, date, datetime, timedelta
from typing import Any

from salesops.bulk_update import plan_types, quality_link, store
from salesops.bulk_update.model import (
    APPLIED_STATES,
    CHANGE,
    EmptyPlan,
    Plan,
    PlanError,
    PlanGuardError,
    PlanIntegrityError,
    PlanRow,
    change_id,
    check_record_limit,
    content_hash,
    limit_records,
)
from salesops.bulk_update.settings import UNDO, BulkUpdateSettings, PlanType, load_settings
from salesops.bulk_update.values import canon, is_empty
from salesops.config import get_object
from salesops.warehouse import Warehouse

log = logging.getLogger(__name__)

# ---------------------------------------------------------------------------------------- dates


def fiscal_quarter_end(day: date, fy_start_month: int) -> date:
    """Last day of the fiscal quarter containing ``day`` (the one fiscal calendar: kpis/fiscal.py)."""
    from salesops.kpis.fiscal import fiscal_day

    return fiscal_day(day, fy_start_month).fiscal_quarter_end


def plan_as_of(wh: Warehouse, object_name: str) -> datetime:
    """The data's "now": the source clock of the latest successful load (never the wall clock)."""
    from salesops.as_of import data_as_of

    value = data_as_of(wh)
    if value is None:
        obj = get_object(object_name)
        rows = store.query(wh, "as_of_fallback.sql", obj=obj)
        value = rows[0]["as_of"] if rows else None
        if value is None:
            raise PlanError(
                f"no as-of time: ops.load_audit has no loaded batch and {obj.staging_table} is empty; run the extract-load first"
            )
    if isinstance(value, datetime) and value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value


# ------------------------------------------------------------------------------ plan computation


def _sql_context(
    pt: PlanType, as_of_date: date, quality: quality_link.QualityLink | None = None
) -> tuple[dict[str, Any], dict[str, Any], dict[str, Any]]:
    """(jinja switches, bind params, scope description) for a plan type's SQL (its module's)."""
    return plan_types.get(pt.name).sql_context(pt, as_of_date, quality)


def propose_rows(
    wh: Warehouse,
    pt: PlanType,
    plan_id: str,
    as_of: datetime,
    quality: quality_link.QualityLink | None = None,
) -> tuple[list[PlanRow], dict[str, Any]]:
    """Run the plan type's SQL and turn its output into canonical plan rows (no-op changes dropped)."""
    if not pt.sql:
        raise PlanError(f"plan type {pt.name!r} has no sql file")
    if getattr(plan_types.get(pt.name), "READS_TERRITORIES", False):
        from salesops.reference import ensure_territories

        ensure_territories(wh)  # the routing model's tables hold territories.yaml before it runs
    jinja, params, scope = _sql_context(pt, as_of.date(), quality)
    raw = store.query(wh, pt.sql, params, **jinja)
    by_record: dict[str, list[dict[str, Any]]] = {}
    record_object: dict[str, str | None] = {}
    for r in raw:
        rid = str(r["record_id"])
        by_record.setdefault(rid, []).append(r)
        # A multi-object plan type's SQL names each row's object (column "object").
        row_obj = r.get("object") or None
        if row_obj is not None and row_obj not in pt.objects:
            raise PlanGuardError(
                f"plan SQL {pt.sql} proposes a change on {row_obj!r}; plan type {pt.name} writes {list(pt.objects)}"
            )
        if record_object.setdefault(rid, row_obj) != row_obj:
            raise PlanGuardError(f"plan SQL {pt.sql} names record {rid} as two objects")
    rows: list[PlanRow] = []
    for record_id in sorted(by_record):
        recs = by_record[record_id]
        obj = get_object(record_object[record_id] or pt.object)
        canon_rows = []
        for r in recs:
            fname = r["field"]
            try:
                ftype = obj.field(fname).type
            except KeyError:
                raise PlanGuardError(
                    f"plan SQL {pt.sql} proposes field {fname!r}, which {obj.api_name} does not have in objects.yaml"
                ) from None
            canon_rows.append((r, fname, canon(r["before_value"], ftype), canon(r["after_value"], ftype)))
        # A change that would not change anything is not a change (e.g. Probability already 0).
        real = [(r, f, b, a) for (r, f, b, a) in canon_rows if r["role"] == CHANGE and b != a]
        if not real:
            continue
        for r, fname, before, after in sorted(canon_rows, key=lambda t: (t[0]["role"], t[1])):
            if r["role"] == CHANGE and before == after:
                continue
            rows.append(
                PlanRow(
                    change_id=change_id(plan_id, record_id, fname),
                    seq=len(rows),
                    record_id=record_id,
                    field=fname,
                    role=r["role"],
                    before_value=before,
                    after_value=after,
                    record_name=r.get("record_name"),
                    owner_id=r.get("owner_id"),
                    region=r.get("region"),
                    object=record_object[record_id],
                )
            )
    return rows, scope


# ------------------------------------------------------------------------------------- guards


def check_guards(
    pt: PlanType,
    rows: list[PlanRow],
    object_row_count: int | dict[str, int],
    settings: BulkUpdateSettings,
    *,
    undo_before: dict[str, str | None] | None = None,
) -> tuple[str, bool]:
    """Hard stops evaluated before approval is requested.

    Returns:
        (approver group, sensitive): the group that must approve, escalated to the sensitive
        approver group when the plan changes a sensitive field.

    Raises:
        PlanGuardError: a field outside the plan type's list; an after value that is null/blank
            where the field's empty policy forbids it; more records than max_records or a larger
            share of the object than max_share.
    """
    changes = [r for r in rows if r.role == CHANGE]
    for r in changes:
        if r.field not in pt.fields:
            raise PlanGuardError(
                f"plan type {pt.name}: record {r.record_id} would change field {r.field!r}, which is not in the "
                f"allowed list {sorted(pt.fields)} (bulk_updates.yaml plan_types.{pt.name}.fields)"
            )
        if undo_before is not None:
            # Undo restores exactly the original before value, null or blank included, and nothing else.
            if r.undo_of_change_id not in undo_before or undo_before[r.undo_of_change_id] != r.after_value:
                raise PlanGuardError(
                    f"undo row {r.change_id} does not restore the original before value of {r.undo_of_change_id}"
                )
            continue
        empty_policy = pt.fields[r.field]
        if is_empty(r.after_value):
            shown = "null" if r.after_value is None else "blank ('')"
            if empty_policy == "forbid" or (empty_policy == "null" and r.after_value == ""):
                raise PlanGuardError(
                    f"plan type {pt.name}: record {r.record_id} would set {r.field} to {shown}, but "
                    f"bulk_updates.yaml says empty: {empty_policy} for this field (never blank a field by accident)"
                )
    n_records = len({r.record_id for r in changes})
    if n_records > pt.max_records:
        raise PlanGuardError(
            f"plan type {pt.name}: {n_records} records exceed max_records {pt.max_records}. Split the plan: "
            f"build it with record_limit {pt.max_records} or less (it takes the first records by record id; build "
            f"the next plan once this one is applied), or raise plan_types.{pt.name}.max_records in "
            "bulk_updates.yaml through review."
        )
    # max_share holds per object (a territory change's accounts against all accounts, its
    # opportunities against all opportunities, ...).
    counts = object_row_count if isinstance(object_row_count, dict) else {pt.object: object_row_count}
    by_object: dict[str, set[str]] = {}
    for r in changes:
        by_object.setdefault(r.object or pt.object, set()).add(r.record_id)
    for obj_name, ids in sorted(by_object.items()):
        total = counts.get(obj_name, 0)
        if total <= 0:
            raise PlanGuardError(
                f"plan type {pt.name}: the {obj_name} table is empty; cannot check the max_share guard"
            )
        share = len(ids) / total
        if share > pt.max_share:
            raise PlanGuardError(
                f"plan type {pt.name}: {len(ids)} of {total} {obj_name} records ({share:.1%}) exceed "
                f"max_share {pt.max_share:.1%}. Split the plan or raise plan_types.{pt.name}.max_share in bulk_updates.yaml."
            )
    sensitive = any(r.field in pt.sensitive_fields for r in changes)
    group = settings.group(pt.approver_group)
    if sensitive:
        strict = settings.group(settings.sensitive_approver_group)
        if strict.rank > group.rank:
            group = strict
    return group.name, sensitive


# ---------------------------------------------------------------------------------- build/store


def _new_plan_id(created: datetime, digest: str) -> str:
    # Unique even when the same content is proposed twice in one second (the hash would repeat).
    del digest
    return f"BU-{created:%Y%m%d-%H%M%S}-{uuid.uuid4().hex[:8]}"


def _plan_of_run(wh: Warehouse, dag_id: str | None, run_id: str | None, plan_type: str) -> Plan | None:
    """The plan this run already built (a retried task returns it instead of building another)."""
    if not run_id:
        return None
    existing = store.query(
        wh, "select_plan_for_run.sql", {"run_id": run_id, "dag_id": dag_id or "", "plan_type": plan_type}
    )
    if not existing:
        return None
    log.info("run %s already built plan %s; reusing it", run_id, existing[0]["plan_id"])
    return load_plan(wh, existing[0]["plan_id"])


def _stamp(
    plan_type: str, obj: str, provisional: list[PlanRow], created: datetime
) -> tuple[str, str, list[PlanRow]]:
    """Content hash, plan id and the rows with their change ids (which embed the plan id, which
    embeds the hash of the provisional rows)."""
    digest = content_hash(plan_type, obj, provisional)
    plan_id = _new_plan_id(created, digest)
    rows = [
        PlanRow(**{**asdict(r), "change_id": change_id(plan_id, r.record_id, r.field)}) for r in provisional
    ]
    return digest, plan_id, rows


def _object_row_count(wh: Warehouse, object_name: str) -> int:
    rows = store.query(wh, "object_row_count.sql", obj=get_object(object_name))
    return int(rows[0]["n"]) if rows else 0


def build_plan(
    wh: Warehouse,
    plan_type: str,
    *,
    requester: str,
    reason: str = "",
    dag_id: str | None = None,
    run_id: str | None = None,
    settings: BulkUpdateSettings | None = None,
    now: datetime | None = None,
    write_artifacts: bool = True,
    only_open_exceptions: bool | None = None,
    target: str | None = None,
    on_behalf_of: str | None = None,
    record_limit: int | None = None,
) -> Plan:
    """Propose, guard and store a plan of ``plan_type``.

    Idempotent per (dag_id, run_id, plan_type): a retried task returns the plan its run built.
    Where the plan type declares ``quality_checks`` the plan is described against the quality
    exception queue (:mod:`salesops.bulk_update.quality_link`, ``scope["quality"]``).

    Args:
        only_open_exceptions: True restricts the plan to records with an open exception of the
            plan type's quality checks; None or False leave the plan type's
            ``only_open_exceptions`` setting in force (a run cannot relax it).
        record_limit: take at most this many records, the first by record id (after
            only_open_exceptions); the rest wait for a later plan. ``scope["record_limit"]`` says how
            many records qualified and how many were left. The guards still apply to what is taken.

    Raises:
        EmptyPlan: nothing to change (callers skip the rest of the run).
        PlanGuardError: a hard-stop guard failed (see :func:`check_guards`).
        PlanError: only_open_exceptions or a plan type that needs the quality run without a
            current quality run.
    """
    settings = settings or load_settings()
    pt = settings.plan_type(plan_type)
    if not requester:
        raise PlanError("a plan needs a requester (who asked for it)")
    check_record_limit(record_limit)  # fails before any SQL runs
    store.ensure_tables(wh)
    existing = _plan_of_run(wh, dag_id, run_id, plan_type)
    if existing is not None:
        return existing
    created = store.naive_utc(now) if now else store.utcnow()
    as_of = plan_as_of(wh, pt.object)
    target = _checked_target(wh, target)
    only_open = bool(pt.only_open_exceptions or only_open_exceptions)
    if only_open and not pt.quality_checks:
        raise PlanError(
            f"plan type {plan_type} declares no quality_checks in bulk_updates.yaml; only_open_exceptions cannot apply"
        )
    module = plan_types.get(plan_type)
    prepare = getattr(module, "prepare", None)
    if prepare is not None:  # checks against the warehouse before any row is proposed
        prepare(wh, pt, as_of)
    link = quality_link.resolve(wh, pt, as_of)
    if pt.requires_quality_run and (link is None or not link.current):
        raise PlanError(
            f"plan type {plan_type} needs a quality run for the staging data's as-of: {link.message if link else ''}"
        )
    # Change ids embed the plan id, which embeds the content hash: hash a provisional version first.
    provisional, scope = propose_rows(wh, pt, "_", as_of, link)
    eligible = len({r.record_id for r in provisional if r.role == CHANGE})
    quality_detail: list[dict[str, Any]] = []
    if link is not None:
        jinja, params, _ = _sql_context(pt, as_of.date(), link)
        provisional, scope["quality"], quality_detail = quality_link.link_plan(
            wh,
            pt,
            link,
            provisional,
            jinja,
            params,
            only_open_exceptions=only_open,
            record_limit=record_limit,
        )
    else:
        provisional, _ = limit_records(provisional, record_limit)
    if record_limit is not None:
        taken = len({r.record_id for r in provisional if r.role == CHANGE})
        excluded = (scope.get("quality") or {}).get("excluded_not_in_queue", 0)
        scope["record_limit"] = {
            "limit": record_limit,
            "order": "record id",
            "eligible_records": eligible - excluded,
            "taken_records": taken,
            "left_for_later_plans": eligible - excluded - taken,
        }
    if not any(r.role == CHANGE for r in provisional):
        raise EmptyPlan(
            f"plan type {plan_type}: nothing to change as of {as_of:%Y-%m-%d %H:%M} UTC; no plan stored"
        )
    digest, plan_id, rows = _stamp(plan_type, pt.object, provisional, created)
    counts = {o: _object_row_count(wh, o) for o in pt.objects}
    object_rows = counts[pt.object]
    group, sensitive = check_guards(pt, rows, counts, settings)
    plan = Plan(
        plan_id=plan_id,
        plan_type=plan_type,
        object=pt.object,
        api_name=get_object(pt.object).api_name,
        requester=requester,
        reason=reason or pt.description,
        created_at=created,
        as_of=store.naive_utc(as_of),
        expires_at=created + timedelta(hours=pt.approval_timeout_hours),
        scope={
            **scope,
            "as_of": str(as_of),
            "target": target,
            **({"on_behalf_of": on_behalf_of} if on_behalf_of else {}),
        },
        content_hash=digest,
        approver_group=group,
        sensitive=sensitive,
        object_row_count=object_rows,
        rows=rows,
        dag_id=dag_id,
        run_id=run_id,
        quality_exceptions=quality_detail,
    )
    impact = getattr(module, "impact", None)
    if impact is not None:  # the plan type's preview of what the change moves (scope["impact"])
        plan.scope["impact"] = impact(wh, pt, plan)
    stored = _store_plan(wh, plan, settings, write_artifacts)
    after_store = getattr(module, "after_store", None)
    if after_store is not None:  # e.g. the territory change records the proposal it was built from
        after_store(wh, stored)
    return stored


def _store_plan(wh: Warehouse, plan: Plan, settings: BulkUpdateSettings, write_artifacts: bool) -> Plan:
    if write_artifacts:
        from salesops.bulk_update import render

        plan.artifact_dir = str(render.plan_dir(plan.plan_id))
    store.insert_plan(wh, plan.header(), [asdict(r) | {"plan_id": plan.plan_id} for r in plan.rows])
    if write_artifacts:
        from salesops.bulk_update import render

        render.write_plan_artifacts(plan, settings)
    log.info(
        "stored plan %s (%s): %d changes on %d %s records, hash %s, approver group %s",
        plan.plan_id,
        plan.plan_type,
        len(plan.changes),
        plan.record_count,
        "/".join(plan.objects),
        plan.content_hash,
        plan.approver_group,
    )
    return plan


def build_undo_plan(
    wh: Warehouse,
    original_plan_id: str,
    *,
    requester: str,
    reason: str = "",
    dag_id: str | None = None,
    run_id: str | None = None,
    settings: BulkUpdateSettings | None = None,
    now: datetime | None = None,
    write_artifacts: bool = True,
) -> Plan:
    """The reverse of every change the original plan actually applied, as a new plan to approve.

    Before values of the undo are the original's after values (apply's drift check then skips any
    record someone changed since); after values are the original's before values exactly.

    Raises:
        EmptyPlan: the original applied nothing.
    """
    settings = settings or load_settings()
    store.ensure_tables(wh)
    existing = _plan_of_run(wh, dag_id, run_id, UNDO)
    if existing is not None:
        return existing
    original = load_plan(wh, original_plan_id)
    base_type = settings.plan_type(_base_plan_type(wh, original))
    pt = settings.undo_type(base_type)
    states = store.latest_change_states(wh, original.plan_id)
    applied = [r for r in original.changes if states.get(r.change_id, {}).get("status") in APPLIED_STATES]
    if not applied:
        raise EmptyPlan(f"plan {original.plan_id} has no applied changes; nothing to undo")
    provisional = [
        PlanRow(
            change_id=change_id("_", r.record_id, r.field),
            seq=i,
            record_id=r.record_id,
            field=r.field,
            role=CHANGE,
            before_value=r.after_value,
            after_value=r.before_value,
            record_name=r.record_name,
            owner_id=r.owner_id,
            region=r.region,
            undo_of_change_id=r.change_id,
            object=r.object,
        )
        for i, r in enumerate(applied)
    ]
    created = store.naive_utc(now) if now else store.utcnow()
    digest, plan_id, rows = _stamp(UNDO, pt.object, provisional, created)
    object_rows = max(original.object_row_count, _object_row_count(wh, pt.object))
    counts = {o: _object_row_count(wh, o) for o in pt.objects if o != pt.object}
    group, sensitive = check_guards(
        pt,
        rows,
        {pt.object: object_rows, **counts},
        settings,
        undo_before={r.change_id: r.before_value for r in applied},
    )
    # An undo never needs a weaker approver than the plan it reverses.
    if settings.group(original.approver_group).rank > settings.group(group).rank:
        group = original.approver_group
    plan = Plan(
        plan_id=plan_id,
        plan_type=UNDO,
        object=pt.object,
        api_name=original.api_name,
        requester=requester,
        reason=reason or f"undo of {original.plan_id} ({original.plan_type})",
        created_at=created,
        as_of=None,
        expires_at=created + timedelta(hours=pt.approval_timeout_hours),
        scope={
            "undo_of_plan_id": original.plan_id,
            "original_plan_type": original.plan_type,
            "target": original.target,
        },
        content_hash=digest,
        approver_group=group,
        sensitive=sensitive or original.sensitive,
        object_row_count=object_rows,
        rows=rows,
        undo_of_plan_id=original.plan_id,
        dag_id=dag_id,
        run_id=run_id,
    )
    return _store_plan(wh, plan, settings, write_artifacts)


def _checked_target(wh: Warehouse, target: str | None) -> str:
    """The plan's target; refuses one whose system is not where the staging data came from."""
    rows = store.query(wh, "loaded_source.sql") if wh.table_exists("ops.load_audit") else []
    loaded = str(rows[0]["source"]).lower() if rows else None
    if not target:
        if not loaded:
            raise PlanError(
                "no target CRM: ops.load_audit has no loaded batch to say where the data came from"
            )
        return f"{loaded}:"
    system = target.partition(":")[0].lower()
    if loaded and system != loaded:
        raise PlanError(
            f"the staging data was loaded from {loaded!r}; a plan for {target} cannot be built from it"
        )
    return target


def _base_plan_type(wh: Warehouse, plan: Plan) -> str:
    """The configured plan type at the root of an undo chain."""
    seen = set()
    while plan.plan_type == UNDO:
        if plan.plan_id in seen or not plan.undo_of_plan_id:
            raise PlanError(f"undo plan {plan.plan_id} does not lead back to an original plan")
        seen.add(plan.plan_id)
        plan = load_plan(wh, plan.undo_of_plan_id)
    return plan.plan_type


def load_plan(wh: Warehouse, plan_id: str, *, verify: bool = True) -> Plan:
    """Read a stored plan; with ``verify`` (default) recompute its hash and refuse a mismatch."""
    store.ensure_tables(wh)
    headers = store.query(wh, "select_plan.sql", {"plan_id": plan_id})
    if not headers:
        raise PlanError(f"no bulk-update plan {plan_id!r} in ops.bulk_update_plan")
    h = headers[0]
    rows = [
        PlanRow(
            change_id=r["change_id"],
            seq=int(r["seq"]),
            record_id=r["record_id"],
            field=r["field"],
            role=r["role"],
            before_value=r["before_value"],
            after_value=r["after_value"],
            record_name=r["record_name"],
            owner_id=r["owner_id"],
            region=r["region"],
            undo_of_change_id=r["undo_of_change_id"],
            object=r.get("object") or None,
        )
        for r in store.query(wh, "select_plan_rows.sql", {"plan_id": plan_id})
    ]
    plan = Plan(
        plan_id=h["plan_id"],
        plan_type=h["plan_type"],
        object=h["object"],
        api_name=h["api_name"],
        requester=h["requester"],
        reason=h["reason"] or "",
        created_at=h["created_at"],
        as_of=h["as_of"],
        expires_at=h["expires_at"],
        scope=json.loads(h["scope"]),
        content_hash=h["content_hash"],
        approver_group=h["approver_group"],
        sensitive=bool(h["sensitive"]),
        object_row_count=int(h["object_row_count"]),
        rows=rows,
        undo_of_plan_id=h["undo_of_plan_id"],
        dag_id=h["dag_id"],
        run_id=h["run_id"],
        artifact_dir=h["artifact_dir"],
        status=h["status"],
    )
    if verify:
        actual = content_hash(plan.plan_type, plan.object, rows)
        if actual != plan.content_hash or len(plan.changes) != int(h["change_count"]):
            raise PlanIntegrityError(
                f"plan {plan_id}: stored rows hash to {actual}, the plan says {plan.content_hash}; "
                "the plan was modified after it was built and must not be approved or applied"
            )
    return plan
