"""territory_change: apply a proposed territory map - accounts, their open opportunities, leads.

The proposal is include/config/territory_map.yaml as laid over by the config overlay
(``SALESOPS_CONFIG_DIR``); its quota plan may come from a CSV beside it. Building the plan:

1. :func:`prepare` validates the map against territories.yaml and the CRM's data (every cell
   covered exactly once, every account placed, owners exist and are active, quota sums) and
   fails with every problem listed before any row is proposed;
2. the plan SQL (plan_territory_change.sql) proposes OwnerId changes on three objects;
3. :func:`impact` computes the preview stored in ``scope["impact"]`` (per owner before/after:
   accounts, open opportunities, open pipeline, open leads, quota; per territory; totals) and
   written as impact.json / impact_by_owner.csv beside the plan;
4. :func:`after_store` records the proposal in ops.territory_map_version.

Approval, apply (one object at a time, drift-checked), change log and undo are the bulk-update
path's. :func:`after_apply` versions the applied map and writes the account assignment history
(salesops.territory answers "as of any date").
"""

from __future__ import annotations

import csv
import hashlib
import json
from datetime import date, datetime
from typing import TYPE_CHECKING, Any

from salesops.bulk_update.model import PlanError, PlanGuardError, values_params

if TYPE_CHECKING:
    from salesops.bulk_update.apply import ApplyReport
    from salesops.bulk_update.model import Plan
    from salesops.bulk_update.quality_link import QualityLink
    from salesops.bulk_update.settings import PlanType
    from salesops.policy.models.territory_map import TerritoryMapPolicy
    from salesops.warehouse import Warehouse

SQL = "plan_territory_change.sql"
FILE = "territory_map.yaml"
OPEN_LEAD_STATUSES = ["Open", "Working", "Nurturing"]
_KEY = {"account": "accounts", "opportunity": "open_opportunities", "lead": "open_leads"}


# ----------------------------------------------------------------------------------- the map


def proposed_map() -> TerritoryMapPolicy:
    """The proposed map (territory_map.yaml with the overlay laid over it).

    Raises:
        PlanError: the map proposes no territories (the shipped file is empty on purpose).
    """
    from salesops import policy

    m = policy.territory_map()
    if not m.territories:
        where = policy.overlay_dir()
        raise PlanError(
            f"no proposed territory map: {FILE} lists no territories "
            f"({'overlay ' + str(where) if where else 'no config overlay set'}). Write the proposal to "
            f"<overlay>/{FILE} and set SALESOPS_CONFIG_DIR (python -m salesops.territory demo-map "
            "writes one for the demo CRM)"
        )
    return m


def _map_file() -> str:
    from salesops import policy

    over = policy.overlay_dir()
    return str(over / FILE) if over is not None and (over / FILE).exists() else f"include/config/{FILE}"


def quota_reps(m: TerritoryMapPolicy) -> dict[str, float]:
    """user ref -> proposed quota: ``quota.reps`` and the rows of ``quota.file`` (CSV owner,quota).

    Raises:
        PlanGuardError: the CSV is missing, lacks a column, has a bad amount or names an owner twice
            (file, line and field in the message).
    """
    if m.quota is None:
        return {}
    reps = dict(m.quota.reps)
    if m.quota.file:
        from salesops import paths, policy

        folder = policy.overlay_dir() or paths.CONFIG_DIR
        path = (folder / m.quota.file).resolve()
        if not path.is_file():
            raise PlanGuardError(f"{_map_file()}: quota.file {m.quota.file!r}: no such file {path}")
        with path.open(newline="", encoding="utf-8") as fh:
            reader = csv.DictReader(fh)
            missing = {"owner", "quota"} - set(reader.fieldnames or [])
            if missing:
                raise PlanGuardError(
                    f"{path}: header {reader.fieldnames}; expected the columns owner,quota (missing {sorted(missing)})"
                )
            for line, row in enumerate(reader, start=2):
                owner = (row.get("owner") or "").strip()
                try:
                    amount = float(str(row.get("quota") or "").replace(",", ""))
                except ValueError:
                    raise PlanGuardError(
                        f"{path} line {line}: quota {row.get('quota')!r} for owner {owner!r}; expected a number"
                    ) from None
                if not owner:
                    raise PlanGuardError(f"{path} line {line}: owner is empty; expected a user id or email")
                if owner in reps:
                    raise PlanGuardError(f"{path} line {line}: owner {owner!r} has a quota already")
                if amount < 0:
                    raise PlanGuardError(f"{path} line {line}: quota {amount} for {owner!r}; expected >= 0")
                reps[owner] = amount
    return reps


def _refs(m: TerritoryMapPolicy) -> list[tuple[str, str]]:
    """(where, user ref) for every user the map names."""
    out = []
    for i, t in enumerate(m.territories):
        out += [(f"territories[{i}] ({t.name}).owners", u) for u in t.owners]
        out += [(f"territories[{i}] ({t.name}).lead_owners", u) for u in t.lead_owners or []]
    out += [(f"account_overrides[{i}].owner", o.owner) for i, o in enumerate(m.account_overrides)]
    out += [("quota", u) for u in quota_reps(m)]
    return out


def resolve_users(wh: Warehouse, m: TerritoryMapPolicy) -> tuple[dict[str, dict[str, Any]], list[str]]:
    """(ref -> user row, problems): each ref must name exactly one active user (id, else email)."""
    from salesops.bulk_update import store

    users = store.query(wh, "territory_users.sql")
    by_id = {str(u["id"]): u for u in users}
    by_email: dict[str, list[dict[str, Any]]] = {}
    for u in users:
        if u["email"]:
            by_email.setdefault(str(u["email"]).lower(), []).append(u)
    resolved: dict[str, dict[str, Any]] = {}
    problems: list[str] = []
    for where, ref in _refs(m):
        if ref in resolved:
            continue
        hits = [by_id[ref]] if ref in by_id else by_email.get(ref.lower(), [])
        if not hits:
            problems.append(f"{where}: user {ref!r} is not a user of the CRM (by id or email)")
        elif len(hits) > 1:
            problems.append(f"{where}: {ref!r} names {len(hits)} users; use the user id")
        elif not hits[0]["is_active"]:
            problems.append(f"{where}: user {ref!r} ({hits[0]['name']}) is not active")
        else:
            resolved[ref] = hits[0]
    return resolved, problems


def _cells(m: TerritoryMapPolicy) -> list[str]:
    """Problems of the cells: unknown segment/region, a cell covered twice or not at all."""
    from salesops import policy

    terr = policy.territories()
    segments = [s.name for s in terr.segments]
    regions = list(terr.regions)
    problems: list[str] = []
    covered: dict[tuple[str, str], str] = {}
    for i, t in enumerate(m.territories):
        for j, c in enumerate(t.cells):
            where = f"territories[{i}] ({t.name}).cells[{j}]"
            if c.segment not in segments:
                problems.append(
                    f"{where}.segment: {c.segment!r}; expected one of {segments} (territories.yaml)"
                )
            if c.region not in regions:
                problems.append(f"{where}.region: {c.region!r}; expected one of {regions} (territories.yaml)")
            key = (c.segment, c.region)
            if key in covered:
                problems.append(
                    f"{where}: {c.segment} x {c.region} is covered twice ({covered[key]} and {t.name})"
                )
            covered.setdefault(key, t.name)
    missing = [f"{s} x {r}" for s in segments for r in regions if (s, r) not in covered]
    if missing:
        problems.append(f"territories: no territory covers {', '.join(missing)} (every cell exactly once)")
    return problems


def _quota_problems(m: TerritoryMapPolicy, resolved: dict[str, dict[str, Any]]) -> list[str]:
    if m.quota is None:
        return []
    q = m.quota
    reps = {resolved[r]["id"]: a for r, a in quota_reps(m).items() if r in resolved}
    problems = []
    owners: dict[str, list[str]] = {}
    for t in m.territories:
        for ref in t.owners:
            if ref in resolved:
                owners.setdefault(t.name, []).append(resolved[ref]["id"])
    all_owners = {u for ids in owners.values() for u in ids}
    for t in m.territories:
        for uid in owners.get(t.name, []):
            if uid not in reps:
                problems.append(f"quota: owner {uid} of territory {t.name} has no quota")
    for uid in sorted(set(reps) - all_owners):
        problems.append(f"quota: {uid} has a quota but owns no territory")
    total = sum(reps.values())
    if abs(total - q.plan_total) > q.tolerance:
        problems.append(
            f"quota: rep quotas sum to {total:,.2f}; the plan total is {q.plan_total:,.2f} "
            f"(difference {total - q.plan_total:+,.2f}, tolerance {q.tolerance:,.2f})"
        )
    for name, target in q.targets.items():
        got = sum(reps.get(u, 0.0) for u in owners.get(name, []))
        if abs(got - target) > q.tolerance:
            problems.append(
                f"quota.targets.{name}: its owners' quotas sum to {got:,.2f}; the target is {target:,.2f} "
                f"(difference {got - target:+,.2f})"
            )
    for region, target in q.region_targets.items():
        inside = [t for t in m.territories if {c.region for c in t.cells} == {region}]
        split = [t.name for t in m.territories if region in {c.region for c in t.cells} and t not in inside]
        if split:
            problems.append(
                f"quota.region_targets.{region}: territories {split} have cells in {region} and in other "
                "regions; a region target cannot split them"
            )
            continue
        got = sum(reps.get(u, 0.0) for t in inside for u in owners.get(t.name, []))
        if abs(got - target) > q.tolerance:
            problems.append(
                f"quota.region_targets.{region}: the quotas of its territories sum to {got:,.2f}; "
                f"the target is {target:,.2f} (difference {got - target:+,.2f})"
            )
    if q.targets and set(q.targets) == {t.name for t in m.territories}:
        tsum = sum(q.targets.values())
        if abs(tsum - q.plan_total) > q.tolerance:
            problems.append(f"quota.targets sum to {tsum:,.2f}; the plan total is {q.plan_total:,.2f}")
    return problems


def prepare(wh: Warehouse, pt: PlanType, as_of: datetime) -> None:
    """Validate the proposed map against territories.yaml and the CRM's data; list every problem.

    Writes the reference tables first (marts.dim_segment_band, dim_country_region, ...: the one
    definition of bands and regions the plan joins).

    Raises:
        PlanError: no proposal.
        PlanGuardError: any problem (all of them in one message, each naming the map's key).
    """
    from salesops import reference
    from salesops.bulk_update import store

    m = proposed_map()
    reference.write_reference(wh, as_of.date())
    resolved, problems = resolve_users(wh, m)
    problems = _cells(m) + problems
    for i, t in enumerate(m.territories):
        ids = [resolved[r]["id"] for r in t.owners if r in resolved]
        if len(ids) != len(set(ids)):
            problems.append(f"territories[{i}] ({t.name}).owners: a user is listed twice")
    problems += _quota_problems(m, resolved)
    if not problems:  # the SQL below joins the users the checks above resolved
        jinja, params, _ = sql_context(pt, as_of.date(), None)
        unplaced = store.query(wh, "territory_unplaced_accounts.sql", params, **jinja)
        if unplaced:
            shown = ", ".join(
                f"{u['id']} (country {u['billing_country']!r}, employees {u['number_of_employees']}, "
                f"segment {u['segment']}, region {u['region']})"
                for u in unplaced[:10]
            )
            problems.append(
                f"{len(unplaced)} accounts fall in no territory (no segment, a country no region lists, "
                f"or an uncovered cell) and no account_overrides entry pins them: {shown}"
                + (" ..." if len(unplaced) > 10 else "")
            )
        known = {r["id"] for r in store.query(wh, "territory_override_accounts.sql", params, **jinja)}
        for i, o in enumerate(m.account_overrides):
            if o.account not in known:
                problems.append(f"account_overrides[{i}].account: {o.account!r} is not an account of the CRM")
    if problems:
        raise PlanGuardError(
            f"{_map_file()} (version {m.version}): {len(problems)} problems; nothing was planned:\n- "
            + "\n- ".join(problems)
        )


# ------------------------------------------------------------------------------- the plan SQL


def sql_context(
    pt: PlanType, as_of_date: date, quality: QualityLink | None = None
) -> tuple[dict[str, Any], dict[str, Any], dict[str, Any]]:
    """(jinja switches, bind params, scope): the map's cells, owners, overrides as bind parameters."""
    from salesops.bulk_update.plan_types._common import stage_flags

    m = proposed_map()
    cells = [
        {"territory": t.name, "segment": c.segment, "region": c.region}
        for t in m.territories
        for c in t.cells
    ]
    owners = [
        {"territory": t.name, "slot": i, "user_ref": u} for t in m.territories for i, u in enumerate(t.owners)
    ]
    lead_owners = [
        {"territory": t.name, "slot": i, "user_ref": u}
        for t in m.territories
        for i, u in enumerate(t.lead_owners or [])
    ]
    overrides = [{"account_id": o.account, "user_ref": o.owner} for o in m.account_overrides]
    flags_jinja, flags_params = stage_flags()
    statuses = [{"status": s} for s in pt.params.get("open_lead_statuses", OPEN_LEAD_STATUSES)]
    params = {
        **values_params("territory_cell", cells),
        **values_params("owner_slot", owners),
        **values_params("lead_owner_slot", lead_owners),
        **values_params("account_override", overrides),
        **flags_params,
        **values_params("open_status", statuses),
    }
    jinja = {
        **flags_jinja,
        "n_cells": len(cells),
        "n_owners": len(owners),
        "n_lead_owners": len(lead_owners),
        "n_overrides": len(overrides),
        "n_statuses": len(statuses),
    }
    scope = {
        "rule": "accounts whose owner is not an owner of their territory -> round-robin among its owners "
        "(with their open opportunities); with lead_owners, open owned leads likewise",
        "territory_map": {
            "file": _map_file(),
            "version": m.version,
            "effective_date": str(m.effective_date) if m.effective_date else None,
            "hash": map_hash(m),
            "territories": len(m.territories),
        },
    }
    return jinja, params, scope


def map_json(m: TerritoryMapPolicy) -> str:
    """The canonical JSON of a map (with the quota CSV's rows folded in)."""
    data = m.model_dump(mode="json")
    if m.quota is not None:
        data["quota"]["reps"] = quota_reps(m)
    return json.dumps(data, sort_keys=True, separators=(",", ":"))


def map_hash(m: TerritoryMapPolicy) -> str:
    return hashlib.sha256(map_json(m).encode("utf-8")).hexdigest()


# ---------------------------------------------------------------------------- impact preview


def impact(wh: Warehouse, pt: PlanType, plan: Plan) -> dict[str, Any]:
    """What the plan moves, before vs after, for the approver (stored in ``scope["impact"]``).

    ``by_owner``: every owner the map names or the plan touches - accounts, open opportunities,
    open pipeline (sum of Amount in the corporate currency; refused while an open deal or a quota
    has no conversion rate) and open leads before and after, quota in the CRM for the
    quota period and proposed. ``by_territory``: moves into each territory and its quota sums
    against its target. ``totals``: records and open pipeline moved, quota totals. Quota figures
    are ``None`` ("not available") when the map has no quota plan or the CRM has no quota table.
    """
    from salesops.bulk_update import store
    from salesops.bulk_update.plan_types._common import stage_flags

    m = proposed_map()
    resolved, _ = resolve_users(wh, m)
    flags_jinja, flags_params = stage_flags()
    statuses = [{"status": s} for s in pt.params.get("open_lead_statuses", OPEN_LEAD_STATUSES)]
    from salesops.quality.catalogue import currency_context

    cur = currency_context()
    period = m.quota.period_start.isoformat() if m.quota is not None else None
    unconverted = store.query(
        wh,
        "territory_unconverted_amounts.sql",
        {**flags_params, "period_start": period},
        **flags_jinja,
        **cur,
    )
    if unconverted:
        shown = "; ".join(f"{r['object']} {r['record_id']}: {r['reason']}" for r in unconverted[:5])
        raise PlanError(
            f"territory_change impact: {len(unconverted)} open opportunity or quota amounts have no "
            f"conversion rate to the corporate currency (add the rate to the CRM's CurrencyType / "
            f"DatedConversionRate, or fix the record's currency); nothing was planned: {shown}"
            + (" ..." if len(unconverted) > 5 else "")
        )
    base = {
        str(r["owner_id"]): r
        for r in store.query(
            wh,
            "territory_baseline_by_owner.sql",
            {**flags_params, **values_params("open_status", statuses)},
            **flags_jinja,
            n_statuses=len(statuses),
            **cur,
        )
    }
    changes = plan.changes
    opp_ids = [r.record_id for r in changes if plan.object_of(r) == "opportunity"]
    amounts: dict[str, float] = {}
    for i in range(0, len(opp_ids), 500):
        chunk = [{"id": x} for x in opp_ids[i : i + 500]]
        for r in store.query(
            wh, "territory_opportunity_amounts.sql", values_params("opp", chunk), n_ids=len(chunk), **cur
        ):
            amounts[str(r["id"])] = float(r["amount"])
    owner_territory: dict[str, list[str]] = {}
    for t in m.territories:
        for ref in t.owners:
            if ref in resolved:
                owner_territory.setdefault(resolved[ref]["id"], []).append(t.name)
    touched = {r.before_value for r in changes if r.before_value} | {
        r.after_value for r in changes if r.after_value
    }
    keys = ("accounts", "open_opportunities", "open_pipeline", "open_leads")
    rows: dict[str, dict[str, Any]] = {}
    for uid in sorted(set(owner_territory) | touched):
        b = base.get(uid, {})
        rows[uid] = {k: float(b.get(k) or 0) if k == "open_pipeline" else int(b.get(k) or 0) for k in keys}
    after = {uid: dict(v) for uid, v in rows.items()}
    moved = {"accounts": 0, "open_opportunities": 0, "open_pipeline": 0.0, "open_leads": 0}
    into: dict[str, dict[str, float]] = {}
    for ch in changes:
        key = _KEY[plan.object_of(ch)]
        amount = amounts.get(ch.record_id, 0.0) if key == "open_opportunities" else 0.0
        if ch.before_value:
            after[ch.before_value][key] -= 1
            after[ch.before_value]["open_pipeline"] -= amount
        new_owner = ch.after_value or ""  # never empty: OwnerId is empty: forbid
        after[new_owner][key] += 1
        after[new_owner]["open_pipeline"] += amount
        moved[key] += 1
        moved["open_pipeline"] += amount
        tot = into.setdefault(ch.region or "(none)", dict.fromkeys(moved, 0.0))
        tot[key] += 1
        tot["open_pipeline"] += amount
    quota_after = (
        {resolved[r]["id"]: a for r, a in quota_reps(m).items() if r in resolved} if m.quota else None
    )
    quota_before: dict[str, float] | None = None
    if m.quota is not None and wh.table_exists("staging.stg_crm__quota"):
        quota_before = {
            str(r["owner_id"]): float(r["quota"])
            for r in store.query(
                wh, "territory_current_quota.sql", {"period_start": m.quota.period_start.isoformat()}, **cur
            )
        }
    names = {str(u["id"]): u["name"] for u in store.query(wh, "territory_users.sql")}
    by_owner = []
    for uid in rows:
        entry: dict[str, Any] = {
            "owner_id": uid,
            "owner": names.get(uid),
            "territories": owner_territory.get(uid, []),
        }
        for k in keys:
            entry[f"{k}_before"] = round(rows[uid][k], 2)
            entry[f"{k}_after"] = round(after[uid][k], 2)
        qb = None if quota_before is None else quota_before.get(uid, 0.0)
        qa = None if quota_after is None else quota_after.get(uid, 0.0)
        entry["quota_before"], entry["quota_after"] = qb, qa
        entry["quota_delta"] = None if qb is None or qa is None else round(qa - qb, 2)
        by_owner.append(entry)
    by_territory = []
    for t in m.territories:
        ids = [resolved[r]["id"] for r in t.owners if r in resolved]
        moves_in = into.get(t.name, {k: 0 for k in moved})
        by_territory.append(
            {
                "territory": t.name,
                "cells": [f"{c.segment} x {c.region}" for c in t.cells],
                "owners": len(ids),
                "accounts_moved_in": int(moves_in["accounts"]),
                "open_opportunities_moved_in": int(moves_in["open_opportunities"]),
                "open_pipeline_moved_in": round(moves_in["open_pipeline"], 2),
                "open_leads_moved_in": int(moves_in["open_leads"]),
                "quota_target": m.quota.targets.get(t.name) if m.quota else None,
                "quota_after": None
                if quota_after is None
                else round(sum(quota_after.get(u, 0.0) for u in ids), 2),
                "quota_before": None
                if quota_before is None
                else round(sum(quota_before.get(u, 0.0) for u in ids), 2),
            }
        )
    by_region: dict[str, dict[str, float | None]] = {}
    for t, row in zip(m.territories, by_territory, strict=True):
        regions = sorted({c.region for c in t.cells})
        key = regions[0] if len(regions) == 1 else "(several regions)"
        agg = by_region.setdefault(key, {"quota_after": 0.0, "quota_before": 0.0})
        for k in ("quota_after", "quota_before"):
            value, so_far = row[k], agg[k]
            agg[k] = None if value is None or so_far is None else round(so_far + float(value), 2)  # type: ignore[arg-type]
    return {
        "version": m.version,
        "effective_date": str(m.effective_date) if m.effective_date else None,
        "by_region": by_region,
        "totals": {
            "accounts_moved": moved["accounts"],
            "open_opportunities_moved": moved["open_opportunities"],
            "open_pipeline_moved": round(moved["open_pipeline"], 2),
            "leads_moved": moved["open_leads"],
            "quota_plan_total": m.quota.plan_total if m.quota else None,
            "quota_total_after": None if quota_after is None else round(sum(quota_after.values()), 2),
            "quota_total_before": None
            if quota_before is None or quota_after is None
            else round(sum(quota_before.get(u, 0.0) for u in quota_after), 2),
            "quota_period_start": str(m.quota.period_start) if m.quota else None,
            "quota_note": None
            if quota_before is not None or m.quota is None
            else "quota before: not available (the CRM's ForecastingQuota is not loaded)",
        },
        "by_territory": by_territory,
        "by_owner": by_owner,
    }


# ------------------------------------------------------------------------ versions and history


def after_store(wh: Warehouse, plan: Plan) -> None:
    """Record the proposal the plan was built from (ops.territory_map_version, status proposed)."""
    from salesops.bulk_update import store

    m = proposed_map()
    wh.run_file("bulk_update/create_territory_tables.sql")
    store.execute_many(
        wh,
        "territory_insert_map.sql",
        [
            {
                "plan_id": plan.plan_id,
                "version": m.version,
                "effective_date": m.effective_date.isoformat() if m.effective_date else None,
                "map_json": map_json(m),
                "map_hash": map_hash(m),
                "built_at": store.iso(plan.created_at),
            }
        ],
    )


def after_apply(wh: Warehouse, plan: Plan, report: ApplyReport) -> None:
    """Version the applied map and write the account assignment history (re-runs add nothing twice).

    An applied territory_change closes each moved account's current history row and opens one
    with the new owner and territory (the first apply starts the history with every account's
    owner as of the plan's data). An applied undo reopens the owner, territory and version its
    original closed, and marks the original's map ``undone``.
    """
    from salesops.bulk_update import store
    from salesops.bulk_update.model import APPLIED_STATES

    wh.run_file("bulk_update/create_territory_tables.sql")
    states = store.latest_change_states(wh, plan.plan_id)
    done = [
        r
        for r in plan.changes
        if plan.object_of(r) == "account" and states.get(r.change_id, {}).get("status") in APPLIED_STATES
    ]
    already = {
        str(r["record_id"])
        for r in store.query(wh, "territory_history_opened_by.sql", {"plan_id": plan.plan_id})
    }
    now = store.iso(store.utcnow())
    undo = plan.undo_of_plan_id is not None
    previous: dict[str, dict[str, Any]] = {}
    if undo:
        previous = {
            str(r["record_id"]): r
            for r in store.query(wh, "territory_history_closed_by.sql", {"plan_id": plan.undo_of_plan_id})
        }
        version = None
    else:
        store.execute_many(wh, "territory_history_baseline.sql", [{"as_of": store.iso(plan.as_of)}])
        rows = store.query(wh, "territory_select_map.sql", {"plan_id": plan.plan_id})
        version = rows[0]["version"] if rows else str(plan.scope.get("territory_map", {}).get("version"))
    todo = [r for r in done if r.record_id not in already]
    store.execute_many(
        wh,
        "territory_history_close.sql",
        [{"record_id": r.record_id, "at": now, "plan_id": plan.plan_id} for r in todo],
    )
    opened = []
    for r in todo:
        prev = previous.get(r.record_id, {})
        opened.append(
            {
                "record_id": r.record_id,
                "owner_id": r.after_value,
                "territory": prev.get("territory") if undo else r.region,
                "at": now,
                "version": (prev.get("version") or "baseline") if undo else version,
                "plan_id": plan.plan_id,
            }
        )
    store.execute_many(wh, "territory_history_open.sql", opened)
    if undo:
        store.execute_many(
            wh,
            "territory_update_map.sql",
            [
                {
                    "plan_id": plan.undo_of_plan_id,
                    "status": "undone",
                    "applied_at": None,
                    "undo_plan_id": plan.plan_id,
                    "undone_at": now,
                }
            ],
        )
    else:
        store.execute_many(
            wh,
            "territory_update_map.sql",
            [
                {
                    "plan_id": plan.plan_id,
                    "status": "applied" if report.ok else "applied_with_errors",
                    "applied_at": now,
                    "undo_plan_id": None,
                    "undone_at": None,
                }
            ],
        )
