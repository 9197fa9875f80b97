"""Plans: propose changes from the warehouse, check the hard-stop guards, store an immutable plan.

A plan is the unit of approval. Its content (every row's record, field, before and after value)
is hashed; approvals name the plan id *and* that hash, and apply refuses a plan whose stored rows
no longer produce the hash.
"""

from __future__ import annotations

import hashlib
import json
import logging
import uuid
from collections import Counter
from dataclasses import asdict, dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any

from salesops.bulk_update import quality_link, store
from salesops.bulk_update.settings import UNDO, BulkUpdateSettings, PlanType, load_settings
from salesops.bulk_update.values import canon, is_empty
from salesops.config import get_object, policy
from salesops.warehouse import Warehouse

log = logging.getLogger(__name__)

CHANGE = "change"
GUARD = "guard"
# Statuses a plan moves through. Content never changes; only the status does.
OPEN_STATUSES = ("built",)
FINAL_DECISIONS = {"approve": "approved", "reject": "rejected", "expired": "expired"}


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
            "created_at": store.iso(self.created_at),
            "as_of": store.iso(self.as_of),
            "expires_at": store.iso(self.expires_at),
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
    so the same proposal built twice hashes the same and any edit of a value changes it.
    """
    canonical = {
        "plan_type": plan_type,
        "object": object_name,
        "rows": sorted(
            [r.record_id, r.field, r.role, r.before_value, r.after_value, r.undo_of_change_id] for r in rows
        ),
    }
    payload = json.dumps(canonical, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(payload.encode("utf-8")).hexdigest()


def values_params(name: str, rows: list[dict[str, Any]]) -> dict[str, Any]:
    """Bind parameters for the ``values_table`` macro in include/sql/bulk_update/_macros.sql."""
    return {f"{name}_{i}_{col}": value for i, row in enumerate(rows) for col, value in row.items()}


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


def _stage_policy() -> list[dict[str, Any]]:
    stages = policy("stages")["stages"]
    if not stages:
        raise PlanError("stages.yaml defines no stages")
    return stages


def _sql_context(
    pt: PlanType, as_of_date: date, quality: quality_link.QualityLink | None = None
) -> tuple[dict[str, Any], dict[str, Any], dict[str, Any]]:
    """(jinja switches, bind params, scope description) for a plan type's SQL."""
    p = pt.params
    if pt.name == "mark_duplicate_leads":
        if quality is None or not quality.current:
            raise PlanError(
                f"plan type {pt.name} is computed from the quality job's duplicate clusters and needs a quality run "
                f"for the staging data's as-of: {quality.message if quality else 'no quality_checks configured'}"
            )
        lead_statuses = policy("stages").get("picklists", {}).get("lead_status", [])
        target = p.get("duplicate_status")
        if target not in lead_statuses:
            raise PlanError(
                f"{pt.name}.params.duplicate_status {target!r} is not in stages.yaml picklists.lead_status {lead_statuses}"
            )
        open_statuses = list(p.get("open_statuses", ["Open", "Working", "Nurturing"]))
        if target in open_statuses:
            raise PlanError(
                f"{pt.name}.params.duplicate_status {target!r} is one of the open_statuses it acts on"
            )
        kinds = [str(k) for k in p.get("match_kinds") or []]
        if not open_statuses or not kinds:
            raise PlanError(f"{pt.name}.params: open_statuses and match_kinds must not be empty")
        params = {
            **values_params("open_status", [{"status": s} for s in open_statuses]),
            **values_params("match_kind", [{"kind": k} for k in kinds]),
            "duplicate_status": target,
            "quality_run_id": quality.run_id,
            "quality_object": quality.api_name,
        }
        scope = {
            "rule": "duplicate leads (quality.duplicate_cluster, not the original) in an open status -> Status; survivor = the cluster's original",
            "duplicate_status": target,
            "open_statuses": open_statuses,
            "match_kinds": kinds,
            "quality_run_id": quality.run_id,
        }
        return {"n_statuses": len(open_statuses), "n_kinds": len(kinds)}, params, scope
    if pt.name == "fix_forecast_category":
        stages = _stage_policy()
        defaults = [{"stage_name": s["name"], "category": s["forecast_categories"][0]} for s in stages]
        allowed = [{"stage_name": s["name"], "category": c} for s in stages for c in s["forecast_categories"]]
        params = {**values_params("stage_default", defaults), **values_params("stage_allowed", allowed)}
        scope = {"rule": "ForecastCategoryName not allowed for the stage (stages.yaml) -> policy default"}
        return {"n_stages": len(defaults), "n_allowed": len(allowed)}, params, scope
    if pt.name == "close_stale_opportunities":
        stale_days = int(policy("hygiene")["stale_opportunity"]["days_without_activity"]) + int(
            p.get("extra_margin_days", 0)
        )
        target = p.get("target_stage", "Closed Lost")
        stage = next((s for s in _stage_policy() if s["name"] == target), None)
        if stage is None or not stage.get("is_closed") or stage.get("is_won"):
            raise PlanError(
                f"close_stale_opportunities.params.target_stage {target!r} is not a closed-lost stage in stages.yaml"
            )
        reasons = policy("stages").get("picklists", {}).get("loss_reason", [])
        loss_reason = p.get("loss_reason")
        if loss_reason not in reasons:
            raise PlanError(
                f"close_stale_opportunities.params.loss_reason {loss_reason!r} is not in stages.yaml picklists.loss_reason {reasons}"
            )
        cutoff = as_of_date - timedelta(days=stale_days)
        params = {
            "cutoff_date": cutoff.isoformat(),
            "target_stage": target,
            "target_category": stage["forecast_categories"][0],
            "target_probability": str(stage["probability"]),
            "loss_reason": loss_reason,
        }
        scope = {
            "rule": f"open, no activity for more than {stale_days} days (last activity or creation before {cutoff})",
            **params,
        }
        return {}, params, scope
    if pt.name == "move_past_close_dates":
        grace = int(policy("hygiene")["close_date"].get("past_due_grace_days", 0))
        if p.get("target", "end_of_fiscal_quarter") != "end_of_fiscal_quarter":
            raise PlanError(
                f"move_past_close_dates.params.target {p.get('target')!r} is not supported (end_of_fiscal_quarter)"
            )
        fy_start = int(policy("calendar")["fiscal_year_start_month"])
        new_date = fiscal_quarter_end(as_of_date, fy_start)
        if (new_date - as_of_date).days < int(p.get("min_days_ahead", 0)):
            new_date = fiscal_quarter_end(new_date + timedelta(days=1), fy_start)
        stale_days = int(policy("hygiene")["stale_opportunity"]["days_without_activity"])
        params = {
            "past_due_before": (as_of_date - timedelta(days=grace)).isoformat(),
            "new_close_date": new_date.isoformat(),
            "stale_cutoff_date": (as_of_date - timedelta(days=stale_days)).isoformat(),
        }
        jinja = {"exclude_stale": bool(p.get("exclude_stale", True))}
        scope = {"rule": "open with CloseDate in the past -> end of fiscal quarter", **params, **jinja}
        return jinja, params, scope
    if pt.name == "reassign_leads":
        terr = policy("territories")
        countries = [{"country": c, "region": r} for r, cs in terr["regions"].items() for c in cs]
        segments = [
            {"segment": s["name"], "min_employees": int(s["min_employees"])} for s in terr["segments"]
        ]
        rules = [
            {"rule_order": i, "segment": r["segment"], "region": r["region"], "team": r["team"]}
            for i, r in enumerate(terr["routing_rules"])
        ]
        statuses = [{"status": s} for s in p.get("open_statuses", ["Open", "Working", "Nurturing"])]
        params = {
            **values_params("country_region", countries),
            **values_params("segment_floor", segments),
            **values_params("routing_rule", rules),
            **values_params("open_status", statuses),
        }
        jinja = {
            "n_countries": len(countries),
            "n_segments": len(segments),
            "n_rules": len(rules),
            "n_statuses": len(statuses),
            "include_misrouted": bool(p.get("include_misrouted", True)),
        }
        scope = {
            "rule": "unassigned or misrouted open leads -> territories.yaml team, round-robin by lead id",
            "open_statuses": [s["status"] for s in statuses],
            "include_misrouted": jinja["include_misrouted"],
        }
        return jinja, params, scope
    raise PlanError(f"plan type {pt.name!r} has no SQL context builder")


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
    obj = get_object(pt.object)
    jinja, params, scope = _sql_context(pt, as_of.date(), quality)
    raw = store.query(wh, pt.sql, params, **jinja)
    by_record: dict[str, list[dict[str, Any]]] = {}
    for r in raw:
        by_record.setdefault(str(r["record_id"]), []).append(r)
    rows: list[PlanRow] = []
    for record_id in sorted(by_record):
        recs = by_record[record_id]
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
                )
            )
    return rows, scope


# ------------------------------------------------------------------------------------- guards


def check_guards(
    pt: PlanType,
    rows: list[PlanRow],
    object_row_count: int,
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
            f"plan type {pt.name}: {n_records} records exceed max_records {pt.max_records}. Split the plan "
            f"(narrow the scope) or raise plan_types.{pt.name}.max_records in bulk_updates.yaml through review."
        )
    if object_row_count <= 0:
        raise PlanGuardError(
            f"plan type {pt.name}: the {pt.object} table is empty; cannot check the max_share guard"
        )
    share = n_records / object_row_count
    if share > pt.max_share:
        raise PlanGuardError(
            f"plan type {pt.name}: {n_records} of {object_row_count} {pt.object} records ({share:.1%}) exceed "
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
) -> Plan:
    """Propose, guard and store a plan of ``plan_type``.

    Idempotent per (dag_id, run_id, plan_type): a retried task returns the plan its run built.
    Where the plan type declares ``quality_checks`` the plan is described against the quality
    exception queue (:mod:`salesops.bulk_update.quality_link`, ``scope["quality"]``).

    Args:
        only_open_exceptions: True restricts the plan to records with an open exception of the
            plan type's quality checks; None or False leave the plan type's
            ``only_open_exceptions`` setting in force (a run cannot relax it).

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
    store.ensure_tables(wh)
    if run_id:
        existing = store.query(
            wh, "select_plan_for_run.sql", {"run_id": run_id, "dag_id": dag_id or "", "plan_type": plan_type}
        )
        if existing:
            log.info("run %s already built plan %s; reusing it", run_id, existing[0]["plan_id"])
            return load_plan(wh, existing[0]["plan_id"])
    created = store.naive_utc(now) if now else store.utcnow()
    as_of = plan_as_of(wh, pt.object)
    target = _checked_target(wh, target)
    only_open = bool(pt.only_open_exceptions or only_open_exceptions)
    if only_open and not pt.quality_checks:
        raise PlanError(
            f"plan type {plan_type} declares no quality_checks in bulk_updates.yaml; only_open_exceptions cannot apply"
        )
    link = quality_link.resolve(wh, pt, as_of)
    if pt.requires_quality_run and (link is None or not link.current):
        raise PlanError(
            f"plan type {plan_type} needs a quality run for the staging data's as-of: {link.message if link else ''}"
        )
    # Change ids embed the plan id, which embeds the content hash: hash a provisional version first.
    provisional, scope = propose_rows(wh, pt, "_", as_of, link)
    quality_detail: list[dict[str, Any]] = []
    if link is not None:
        jinja, params, _ = _sql_context(pt, as_of.date(), link)
        provisional, scope["quality"], quality_detail = quality_link.link_plan(
            wh, pt, link, provisional, jinja, params, only_open_exceptions=only_open
        )
    if not any(r.role == CHANGE for r in provisional):
        raise EmptyPlan(
            f"plan type {plan_type}: nothing to change as of {as_of:%Y-%m-%d %H:%M} UTC; no plan stored"
        )
    digest = content_hash(plan_type, pt.object, provisional)
    plan_id = _new_plan_id(created, digest)
    rows = [
        PlanRow(**{**asdict(r), "change_id": change_id(plan_id, r.record_id, r.field)}) for r in provisional
    ]
    object_rows = _object_row_count(wh, pt.object)
    group, sensitive = check_guards(pt, rows, object_rows, settings)
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
    return _store_plan(wh, plan, settings, write_artifacts)


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
        plan.object,
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
    from salesops.bulk_update.apply import APPLIED_STATES, latest_change_states

    settings = settings or load_settings()
    store.ensure_tables(wh)
    if run_id:
        existing = store.query(
            wh, "select_plan_for_run.sql", {"run_id": run_id, "dag_id": dag_id or "", "plan_type": UNDO}
        )
        if existing:
            return load_plan(wh, existing[0]["plan_id"])
    original = load_plan(wh, original_plan_id)
    base_type = settings.plan_type(_base_plan_type(wh, original))
    pt = settings.undo_type(base_type)
    states = latest_change_states(wh, original.plan_id)
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
        )
        for i, r in enumerate(applied)
    ]
    created = store.naive_utc(now) if now else store.utcnow()
    digest = content_hash(UNDO, pt.object, provisional)
    plan_id = _new_plan_id(created, digest)
    rows = [
        PlanRow(**{**asdict(r), "change_id": change_id(plan_id, r.record_id, r.field)}) for r in provisional
    ]
    object_rows = max(original.object_row_count, _object_row_count(wh, pt.object))
    group, sensitive = check_guards(
        pt, rows, object_rows, settings, undo_before={r.change_id: r.before_value for r in applied}
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
