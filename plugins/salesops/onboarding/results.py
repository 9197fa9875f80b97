"""Machine-readable results: ``python -m salesops metrics --json`` and ``quality --json``.

Every registry metric (include/config/metrics.yaml) with its value, numerator and denominator
where the model has them, unit, period and definition, and its status: ``evaluated``, or
``not_evaluated`` with the reason (a needed object or field the data lacks, history that does not
exist yet). Every quality check of the latest run with status passed / failed / not_evaluated.
Both read the warehouse of the current settings (``SALESOPS_WAREHOUSE_URL`` / ``SALESOPS_DATA_DIR``).
"""

from __future__ import annotations

import re
from datetime import date
from typing import TYPE_CHECKING, Any

from salesops import policy as _policy
from salesops import sql
from salesops.kpis.history import metric_needs
from salesops.packs.model import plain
from salesops.warehouse.core import check_identifier

if TYPE_CHECKING:
    from salesops.warehouse.core import Warehouse

PERIOD_COLUMNS = (
    "close_fiscal_quarter",
    "created_fiscal_quarter",
    "fiscal_quarter",
    "quarter_label",
    "period_label",
    "period",
    "comparison_label",
)
DIMENSION_COLUMNS = (
    "quarter",
    "period_grain",
    "stage_name",
    "step",
    "opportunity_type",
    "lead_source",
    "segment",
    "field_api_name",
    "metric",
    "product_family",
)


class ResultsError(RuntimeError):
    """The warehouse has no marts or quality run to report (the message says what to run)."""


def _warehouse(wh: Warehouse | None) -> Warehouse:
    if wh is not None:
        return wh
    from salesops.warehouse.core import Warehouse

    return Warehouse()


def _scope_filter(scope: str) -> tuple[str, str | None]:
    if scope in ("", "all"):
        return "company", None
    kind, _, value = scope.partition(":")
    if kind not in ("region", "team", "rep", "manager", "segment") or not value:
        raise ResultsError(
            f"scope: got {scope!r}; expected all, region:<R>, team:<T>, rep:<user id>, manager:<id>"
        )
    return kind, value


def _text(v: Any) -> Any:
    v = plain(v)
    return v.isoformat() if isinstance(v, date) else v


def _part_column(m: Any, row: dict[str, Any], part: str) -> str | None:
    """The model column holding the metric's numerator or denominator (``part``): the model's own
    ``<column>_<part>`` column, else the first name of the registry's ``numerator:`` /
    ``denominator:`` declaration when the row has it."""
    if f"{m.column}_{part}" in row:
        return f"{m.column}_{part}"
    declared = getattr(m, part)
    if declared:
        first = re.match(r"[a-z_][a-z0-9_]*", declared)
        if first and first.group(0) in row:
            return first.group(0)
    return None


def metrics_report(
    scope: str = "all", as_of: str | None = None, wh: Warehouse | None = None
) -> dict[str, Any]:
    """Every registry metric for ``scope``, one entry per row of its model (period x breakdown)."""
    from salesops.quality.availability import measure

    wh = _warehouse(wh)
    if not wh.table_exists("marts.kpi_context"):
        raise ResultsError(f"no KPI marts in {wh.url}: run kpi_transforms (make run) first")
    ctx = wh.query(sql.render("onboarding/kpi_context.sql", dialect=wh.dialect))[0]
    built = _text(ctx["as_of_date"])
    if as_of and as_of != built:
        raise ResultsError(f"as_of: the marts were built as of {built}, not {as_of}; rebuild kpi_transforms")
    level, key = _scope_filter(scope)
    comparisons = wh.query(sql.render("onboarding/comparisons.sql", dialect=wh.dialect))
    metrics = _policy.metrics().metrics
    wanted: dict[str, set[str]] = {}
    for m in metrics:
        for obj, fields in metric_needs(m)[0]:
            wanted.setdefault(obj, set()).update(fields)
    avail = measure(wh, wanted)
    out: list[dict[str, Any]] = []
    for m in metrics:
        needs, history = metric_needs(m)
        base = {
            "metric": m.name,
            "label": m.label,
            "unit": m.unit,
            "definition": m.definition,
            "source": f"marts.{m.model}.{m.column}",
        }
        reason = avail.reason(needs)
        if reason is None and history == "stage_entry" and ctx["field_history_start"] is None:
            reason = (
                f"not available: history starts {_text(ctx['history_start'])} (stage aging needs the day each "
                "deal entered its stage, from field history, which the source has not delivered)"
            )
        if reason is not None:
            out.append({**base, "status": "not_evaluated", "reason": reason, "value": None, "period": None})
            continue
        if history == "comparisons":
            for c in comparisons:
                if not c["is_available"]:
                    out.append(
                        {
                            **base,
                            "status": "not_evaluated",
                            "reason": c["unavailable_reason"],
                            "value": None,
                            "period": c["comparison_label"],
                        }
                    )
        check_identifier(m.model)
        rows = wh.query(
            sql.render(
                "onboarding/metric_rows.sql", dialect=wh.dialect, metric_model=m.model, metric_rows=m.rows
            )
        )
        for r in rows:
            if "rollup_level" in r and (
                r["rollup_level"] != level or (key is not None and str(r.get("rollup_key")) != key)
            ):
                continue
            if "rollup_level" not in r and key is not None:
                continue  # a company-wide model has no rows for a slice
            den_col = _part_column(m, r, "denominator")
            num_col = _part_column(m, r, "numerator")
            out.append(
                {
                    **base,
                    "status": "evaluated",
                    "reason": "",
                    "value": _text(r.get(m.column)),
                    "numerator": _text(r[num_col]) if num_col else None,
                    "denominator": _text(r[den_col]) if den_col else None,
                    "denominator_definition": m.denominator,
                    "period": next((_text(r[c]) for c in PERIOD_COLUMNS if c in r), None),
                    "dimensions": {c: _text(r[c]) for c in DIMENSION_COLUMNS if c in r},
                }
            )
    return {
        "as_of": built,
        "scope": scope or "all",
        "history_start": _text(ctx["history_start"]),
        "metrics": out,
    }


def quality_report(wh: Warehouse | None = None) -> dict[str, Any]:
    """Every check of the latest quality run at scope "all"."""
    wh = _warehouse(wh)
    if not wh.table_exists("quality.run"):
        raise ResultsError(f"no quality run in {wh.url}: run crm_data_quality (make run) first")
    runs = wh.query(sql.render("onboarding/quality_latest_run.sql", dialect=wh.dialect))
    if not runs:
        raise ResultsError(f"no quality run in {wh.url}: run crm_data_quality (make run) first")
    run = runs[0]
    checks = []
    for r in wh.query(
        sql.render("onboarding/quality_checks.sql", dialect=wh.dialect), {"run_id": run["run_id"]}
    ):
        status = r["status"] or ("passed" if r["passed"] else "failed")
        checks.append(
            {
                "check": r["check_id"],
                "object": r["object"],
                "severity": r["severity"],
                "status": status,
                "evaluated": None if status == "not_evaluated" else int(r["evaluated"]),
                "failed": None if status == "not_evaluated" else int(r["failed"]),
                "rate": _text(r["rate"]),
                "target": _text(r["target"]),
                "value": _text(r["value"]),
                "value_label": r["value_label"],
                "reason": r["reason"] or "",
            }
        )
    return {
        "run_id": run["run_id"],
        "as_of": _text(run["as_of"]),
        "gate_passed": run["gate_passed"],
        "gate_message": run["gate_message"],
        "data_docs": run["data_docs_path"],
        "checks": checks,
    }
