"""Rendered plan summaries: Markdown for the approval screen, HTML, CSV and XLSX of all rows.

Every output goes through the packs' hygiene (salesops.packs.security): emails and phone numbers
in CRM values are masked (a duplicate-lead plan shows ``j***@example.com`` as its evidence), and
spreadsheet cells (CSV, XLSX) are neutralised against formula injection. The warehouse keeps the
values as they are (the plan's hash and the apply step use those).
"""

from __future__ import annotations

import csv
import json
from dataclasses import asdict
from functools import lru_cache
from pathlib import Path
from typing import Any

import jinja2

from salesops import paths
from salesops.bulk_update.model import Plan, summarize
from salesops.bulk_update.settings import BulkUpdateSettings
from salesops.packs.security import mask_values, neutralise_cell

QUALITY_COLUMNS = ["record_id", "checks", "in_plan", "reason"]
ROW_COLUMNS = [
    "change_id",
    "object",
    "record_id",
    "record_name",
    "field",
    "role",
    "before_value",
    "after_value",
    "owner_id",
    "region",
    "undo_of_change_id",
]


def plan_dir(plan_id: str) -> Path:
    """output_dir()/bulk_updates/<plan_id>/ (not created here)."""
    return paths.output_dir() / "bulk_updates" / plan_id


def _cell(value: Any) -> str:
    """A Markdown table cell: null shown as such, pipes and line breaks neutralised."""
    if value is None:
        return "(null)"
    if value == "":
        return "(blank)"
    return str(value).replace("|", "\\|").replace("\r", " ").replace("\n", " ")


@lru_cache(maxsize=1)
def _env() -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(paths.TEMPLATES_DIR)),
        autoescape=True,  # record names and values come from the CRM
        undefined=jinja2.StrictUndefined,
        trim_blocks=False,
    )
    env.filters["cell"] = _cell
    return env


def plan_names(wh: Any, plan: Plan) -> dict[str, dict[str, str | None]]:
    """Owner and account names for the plan's records (from staging), so the approver reads names.

    Returns ``{"owners": {owner_id: name}, "accounts": {record_id: account or company name}}``;
    empty maps when staging lacks the tables (names then fall back to ids).
    """
    from salesops.config import object_manifest

    spec = object_manifest().get(plan.object)
    if spec is None or not wh.table_exists(spec.staging_table):
        return {"owners": {}, "accounts": {}}
    cols = set(wh.columns(spec.staging_table))
    rows = wh.query_file(
        "bulk_update/plan_names.sql",
        {"plan_id": plan.plan_id},
        record_table=spec.staging_table,
        account_column=(
            "account_id" if "account_id" in cols and wh.table_exists("staging.stg_crm__account") else None
        ),
        company_column="company" if "account_id" not in cols and "company" in cols else None,
        has_users=wh.table_exists("staging.stg_crm__user"),
    ).to_dict("records")
    return {
        "owners": {r["owner_id"]: r["owner_name"] for r in rows if r["owner_id"] and r["owner_name"]},
        "accounts": {r["record_id"]: r["account_name"] for r in rows if r["account_name"]},
    }


def rule_fields(plan: Plan) -> dict[str, Any]:
    """The fields each rule used besides the ones it writes (guard rows: re-checked, never written),
    with their values per record: ``{"fields": [...], "by_record": {record_id: {field: value}}}``."""
    by_record: dict[str, dict[str, Any]] = {}
    for g in plan.guards:
        by_record.setdefault(g.record_id, {})[g.field] = g.before_value
    return {"fields": sorted({g.field for g in plan.guards}), "by_record": mask_values(by_record)}


def approval_body(plan: Plan, names: dict[str, dict[str, str | None]] | None = None) -> str:
    """The Markdown the approver reads in the Airflow UI's required actions.

    Args:
        plan: the stored plan.
        names: :func:`plan_names` (owner and account names); ids are shown where a name is missing.
    """
    from salesops.console import links

    names = names or {"owners": {}, "accounts": {}}
    return (
        _env()
        .get_template("bulk_update/approval_body.md.j2")
        .render(
            s=mask_values(summarize(plan)),
            owners=mask_values(names.get("owners") or {}),
            accounts=mask_values(names.get("accounts") or {}),
            rule=rule_fields(plan),
            files={k: links.plan_file_url(plan.plan_id, k) for k in links.PLAN_FILES},
            plan_url=links.plan_url(plan.plan_id),
        )
    )


def approval_subject(plan: Plan) -> str:
    return (
        f"Approve bulk update {plan.plan_id}: {plan.plan_type}, {len(plan.changes)} changes on "
        f"{plan.record_count} {plan.api_name} records (hash {plan.content_hash[:12]})"
    )


def write_plan_artifacts(plan: Plan, settings: BulkUpdateSettings | None = None) -> dict[str, str]:
    """Write plan.html, plan_rows.csv, plan_rows.xlsx, summary.md, plan.json and, for plans linked to
    the quality exception queue, quality_exceptions.csv; returns their paths."""
    from openpyxl import Workbook

    out = plan_dir(plan.plan_id)
    out.mkdir(parents=True, exist_ok=True)
    summary = mask_values(summarize(plan))
    rows = [mask_values(asdict(r)) for r in plan.rows]
    cells = [{k: neutralise_cell(v) for k, v in r.items()} for r in rows]  # spreadsheets: CSV, XLSX
    files = {}

    html = _env().get_template("bulk_update/plan_summary.html.j2").render(s=summary, rows=rows)
    (out / "plan.html").write_text(html, encoding="utf-8")
    files["html"] = str(out / "plan.html")

    (out / "summary.md").write_text(approval_body(plan), encoding="utf-8")
    files["markdown"] = str(out / "summary.md")

    with (out / "plan_rows.csv").open("w", newline="", encoding="utf-8") as fh:
        w = csv.DictWriter(fh, fieldnames=ROW_COLUMNS, extrasaction="ignore")
        w.writeheader()
        w.writerows(cells)
    files["csv"] = str(out / "plan_rows.csv")

    wb = Workbook()
    ws = wb.active
    ws.title = "summary"
    for key in (
        "plan_id",
        "plan_type",
        "api_name",
        "requester",
        "reason",
        "created_at",
        "as_of",
        "expires_at",
        "content_hash",
        "record_count",
        "change_count",
        "object_row_count",
        "approver_group",
        "sensitive",
        "undo_of_plan_id",
    ):
        ws.append([key, "" if summary[key] is None else neutralise_cell(str(summary[key]))])
    ws.append([])
    ws.append(["field", "before", "after", "records"])
    for t in summary["transitions"]:
        ws.append([neutralise_cell(t[k]) for k in ("field", "before", "after", "records")])
    rs = wb.create_sheet("rows")
    rs.append(ROW_COLUMNS)
    for r in cells:
        rs.append([r.get(c) for c in ROW_COLUMNS])
    rs.freeze_panes = "A2"
    wb.save(out / "plan_rows.xlsx")
    files["xlsx"] = str(out / "plan_rows.xlsx")

    if plan.quality_exceptions:
        with (out / "quality_exceptions.csv").open("w", newline="", encoding="utf-8") as fh:
            w = csv.DictWriter(fh, fieldnames=QUALITY_COLUMNS)
            w.writeheader()
            w.writerows(
                {k: neutralise_cell(v) for k, v in mask_values(dict(q)).items()}
                for q in plan.quality_exceptions
            )
        files["quality_csv"] = str(out / "quality_exceptions.csv")

    impact = plan.scope.get("impact")
    if impact and impact.get("by_owner") is not None:  # a territory change's before/after preview
        (out / "impact.json").write_text(json.dumps(impact, indent=2, default=str), encoding="utf-8")
        files["impact_json"] = str(out / "impact.json")
        with (out / "impact_by_owner.csv").open("w", newline="", encoding="utf-8") as fh:
            cols = [k for k in impact["by_owner"][0] if k != "territories"] if impact["by_owner"] else []
            w = csv.DictWriter(fh, fieldnames=[*cols, "territories"], extrasaction="ignore")
            w.writeheader()
            for r in impact["by_owner"]:
                w.writerow(
                    {k: neutralise_cell(v) for k, v in r.items() if k != "territories"}
                    | {"territories": neutralise_cell(" ".join(r["territories"]))}
                )
        files["impact_csv"] = str(out / "impact_by_owner.csv")

    (out / "plan.json").write_text(json.dumps(summary, indent=2, default=str), encoding="utf-8")
    files["json"] = str(out / "plan.json")
    return files
