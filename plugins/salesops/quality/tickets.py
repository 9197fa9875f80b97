"""Ticket drafts (Markdown) for systemic data-quality failures, for Business Systems.

quality.yaml ``tickets.rules`` says what is systemic: any failed blocker, or a check whose failed
rate in one scope (a segment, a region, an object's sync) crosses a threshold. Each draft states
the impact (count, %, pipeline $), example record ids, the SQL to reproduce and the severity, and
is written to ``<output_dir>/quality/tickets/<run_id>/<ticket_id>.md`` and ``quality.ticket``.
"""

from __future__ import annotations

import hashlib
import re
from pathlib import Path
from typing import Any

from markupsafe import Markup

from salesops import paths
from salesops.quality import _db
from salesops.quality.catalogue import QualityConfig, load_config, policy_context, sql_literal
from salesops.warehouse.core import Warehouse

_SCOPE_COL = {"owner": "owner_id", "team": "team", "region": "region", "segment": "segment"}

_ASK = {
    "source_freshness": "Check the integration user's sync job for this object (last successful run, "
    "API errors, expired credentials) and re-run it; confirm when the data is current.",
    "lead_sla_breach": "Check the lead assignment rules / round-robin queue for this scope (inactive "
    "users in the queue, assignment rule order, after-hours coverage).",
    "lead_misrouted": "Check the territory assignment rules against include/config/territories.yaml "
    "for this scope and re-route the listed leads.",
    "opp_orphan_owner": "Check the user sync (deactivated or deleted users still owning opportunities) "
    "and reassign the listed records.",
}


def tickets_dir(run_id: str) -> Path:
    return paths.output_dir() / "quality" / "tickets" / re.sub(r"[^A-Za-z0-9_.-]+", "_", run_id)


def _env() -> Any:
    import jinja2

    return jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(paths.TEMPLATES_DIR)),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        keep_trailing_newline=True,
    )


def _inline(sql_text: str, params: dict[str, Any]) -> str:
    for k, v in params.items():
        sql_text = re.sub(rf"(?<![:\w]):{k}\b", sql_literal(v), sql_text)
    return sql_text.strip()


def reproduce_sql(
    wh: Warehouse,
    cfg: QualityConfig,
    check_id: str,
    object_api: str,
    scope_type: str,
    scope_value: str,
    as_of_date: str,
) -> str:
    """The SQL a Business Systems analyst runs to see the offending rows of this check and scope."""
    from salesops.quality import expectations as ex

    check = cfg.checks[check_id]
    ctx = policy_context(cfg)
    params = {
        "as_of_date": as_of_date,
        "amount_tolerance": float(cfg.section("booking_match").get("amount_tolerance", 0.01)),
    }
    scope_filter = ""
    if scope_type in _SCOPE_COL:
        scope_filter = f" and {_SCOPE_COL[scope_type]} = {sql_literal(scope_value)}"
    if check.engine == "sql" and check_id == "source_freshness":
        return _inline(_db.render(wh, "quality/source_freshness.sql"), {}) + ";"
    if check.engine == "sql" and check_id == "reconciliation_variance":
        return _inline(_db.render(wh, "quality/reconciliation.sql", **ctx), {}) + ";"
    if check.engine == "sql":
        body = _inline(_db.render(wh, f"quality/checks/{check_id}.sql", **ctx), params)
        return f"select * from (\n{body}\n) t\nwhere failed{scope_filter};"
    if check.engine == "gx":
        suites = ex.build_specs(cfg)
        suite = next(s for s, specs in suites.items() if any(sp.check == check_id for sp in specs))
        specs = [sp for sp in suites[suite] if sp.check == check_id]
        if suite.endswith("__keys"):
            from salesops.config import object_manifest

            obj = next(o for o in object_manifest().values() if o.api_name == object_api)
            batch = _db.render(
                wh, "quality/gx_input_key.sql", table=obj.staging_table, key_column=obj.key_column
            )
        else:
            batch = _inline(_db.render(wh, f"quality/gx_input_{suite}.sql", **ctx), params)
        preds = "\n   or ".join(f"({ex.violation_sql(sp)})" for sp in specs)
        return f"with batch as (\n{batch}\n)\nselect * from batch\nwhere ({preds}){scope_filter};"
    # duplicates: the matcher's clusters
    return (
        f"select c.*\nfrom quality.duplicate_cluster c\nwhere c.object = {sql_literal(object_api)} "
        f"and c.run_id = (select max(run_id) from quality.run)\norder by c.cluster_id, c.is_original desc;"
    )


def _matches(rule: dict[str, Any], row: dict[str, Any]) -> bool:
    if row["passed"] is None:  # not evaluated: nothing failed
        return False
    if rule.get("severity"):
        return row["severity"] == rule["severity"] and row["scope_type"] == "all" and not row["passed"]
    if rule.get("check") != row["check_id"]:
        return False
    if row["scope_type"] not in rule.get("scope_types", ["all"]):
        return False
    rate = row["rate"] or 0.0
    return (
        row["failed"] >= int(rule.get("min_failed", 1))
        and rate >= float(rule.get("min_rate", 0))
        and not row["passed"]
    )


def draft_tickets(wh: Warehouse, run_id: str, cfg: QualityConfig | None = None) -> list[dict[str, Any]]:
    """Write a Markdown draft per systemic failure of ``run_id``; returns the ticket rows."""
    import pandas as pd

    cfg = cfg or load_config()
    tcfg = cfg.section("tickets")
    max_examples = int(tcfg.get("max_examples", 10))
    results = wh.query(
        "select * from quality.check_result where run_id = :r order by check_id, scope_type, scope_value",
        {"r": run_id},
    )
    if not results:
        return []
    as_of = results[0]["as_of"]
    out_dir = tickets_dir(run_id)
    template = _env().get_template("quality/ticket.md.j2")
    tickets: list[dict[str, Any]] = []
    seen: set[tuple[str, str, str]] = set()
    for rule in tcfg.get("rules", []):
        for row in results:
            key = (row["check_id"], row["scope_type"], row["scope_value"])
            if key in seen or not _matches(rule, row):
                continue
            seen.add(key)
            check = cfg.checks[row["check_id"]]
            where = "run_id = :r and check_id = :c and object = :o"
            bind: dict[str, Any] = {"r": run_id, "c": row["check_id"], "o": row["object"]}
            if row["scope_type"] in _SCOPE_COL:
                where += f" and {_SCOPE_COL[row['scope_type']]} = :v"
                bind["v"] = row["scope_value"]
            elif row["scope_type"] == "object":
                where += " and record_id = :v"
                bind["v"] = row["scope_value"]
            examples = [
                r["record_id"]
                for r in wh.query(
                    f"select record_id from quality.run_exception where {where} order by record_id limit {max_examples}",
                    bind,
                )
            ]
            pipeline = None
            if row["object"] == "Opportunity":
                pipeline = float(
                    wh.scalar(
                        f"select coalesce(sum(o.amount), 0) from quality.run_exception e join "
                        f"staging.stg_crm__opportunity o on o.id = e.record_id where {where.replace('run_id', 'e.run_id')}",
                        bind,
                    )
                    or 0.0
                )
            ticket_id = "DQ-" + hashlib.sha1("|".join([run_id, *key]).encode()).hexdigest()[:8].upper()
            scope_txt = (
                "overall" if row["scope_type"] == "all" else f"{row['scope_type']} {row['scope_value']}"
            )
            t = {
                "ticket_id": ticket_id,
                "run_id": run_id,
                "rule": rule.get("name", "rule"),
                "check_id": row["check_id"],
                "object": row["object"],
                "scope_type": row["scope_type"],
                "scope_value": row["scope_value"],
                "severity": row["severity"],
                "title": f"{row['check_id']} failing for {scope_txt}: {row['failed']} of {row['evaluated']}",
                "description": check.description,
                "impact_count": int(row["failed"]),
                "evaluated": int(row["evaluated"]),
                "impact_pct": (row["rate"] or 0.0) * 100.0,
                "target": row["target"],
                "pipeline_amount": pipeline,
                "value": row["value"],
                "value_label": row["value_label"],
                "examples": examples,
                "as_of": as_of,
                "ask": _ASK.get(
                    row["check_id"],
                    "Find the process or integration that produces these records "
                    "and fix it at the source; the exception queue lists every record.",
                ),
            }
            t["reproduce_sql"] = Markup(
                reproduce_sql(
                    wh,
                    cfg,
                    row["check_id"],
                    row["object"],
                    row["scope_type"],
                    row["scope_value"],
                    pd.Timestamp(as_of).date().isoformat(),
                )
            )
            body = template.render(t=t)
            out_dir.mkdir(parents=True, exist_ok=True)
            path = out_dir / f"{ticket_id}.md"
            path.write_text(body, encoding="utf-8")
            tickets.append(
                {
                    "run_id": run_id,
                    "ticket_id": ticket_id,
                    "rule": t["rule"],
                    "check_id": t["check_id"],
                    "scope_type": t["scope_type"],
                    "scope_value": t["scope_value"],
                    "severity": t["severity"],
                    "title": t["title"],
                    "impact_count": t["impact_count"],
                    "impact_pct": t["impact_pct"],
                    "pipeline_amount": pipeline,
                    "example_ids": ",".join(examples),
                    "path": str(path),
                    "body_md": body,
                }
            )
    wh.execute("delete from quality.ticket where run_id = :r", {"r": run_id})
    if tickets:
        _db.write_df(wh, "quality.ticket", pd.DataFrame(tickets))
    return tickets
