"""Expectation suites generated from the policy, validated with Great Expectations, + Data Docs.

The single-table rules (required fields by stage, forecast category per stage, picklists, amount
bounds, close-date and activity hygiene, next step, email format, unassigned leads, key
integrity) become GX expectations with row conditions. Each expectation carries
``meta = {"check": <check id>, "detail": <detail>}``; its unexpected rows become exception rows of
that check. GX runs with the ``SUMMARY`` result format (``COMPLETE`` is ~5x slower on a million
rows because it builds a dict per failing row); the offending ids are taken by applying the same
spec vectorised (:func:`violation_mask`) and must equal GX's ``unexpected_count``.

GX validates pandas batches built by include/sql/quality/gx_input_<object>.sql: GX 1.24's SQL
datasource fails on DuckDB (GX issues #10738/#11579), and the SQL that builds the batch already
pushes the joins and date arithmetic down to the warehouse, so GX only sees one narrow frame per
object.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from salesops.config import get_object, object_manifest
from salesops.quality.catalogue import QualityConfig

if TYPE_CHECKING:
    import pandas as pd

log = logging.getLogger(__name__)

Condition = tuple[tuple[str, str, Any], ...]  # AND of (column, op, value); op in ==, !=, >=, in


@dataclass(frozen=True)
class ExpectationSpec:
    """One generated expectation, engine-neutral (rendered to GX and to a pandas mask)."""

    check: str
    detail: str
    kind: str  # not_null, between, in_set, match_regex, unique
    column: str
    kwargs: dict[str, Any] = field(default_factory=dict)
    condition: Condition = ()

    def describe(self) -> str:
        cond = " and ".join(f"{c} {op} {v!r}" for c, op, v in self.condition)
        return f"{self.kind}({self.column}, {self.kwargs})" + (f" where {cond}" if cond else "")


# picklist columns include/sql/quality/gx_input_opportunity.sql selects
_OPPORTUNITY_PICKLIST_COLUMNS = ("type", "lead_source", "loss_reason")


def _opportunity_specs(cfg: QualityConfig) -> list[ExpectationSpec]:
    opp = get_object("opportunity")
    stages = cfg.stages["stages"]
    picklists = cfg.stages["picklists"]
    hyg = cfg.hygiene
    specs: list[ExpectationSpec] = []
    enabled = cfg.checks

    if "opp_missing_required_field" in enabled:
        fields: list[str] = []
        for s in stages:
            for f in s["required_fields"]:
                if f not in fields:
                    fields.append(f)
        for f in fields:
            stage_names = [s["name"] for s in stages if f in s["required_fields"]]
            cond: Condition = (("stage_name", "in", tuple(stage_names)),)
            if f == "Products":  # at least one OpportunityLineItem
                specs.append(
                    ExpectationSpec(
                        "opp_missing_required_field", f, "between", "line_item_count", {"min_value": 1}, cond
                    )
                )
            else:
                spec = opp.field(f)
                specs.append(
                    ExpectationSpec("opp_missing_required_field", f, "not_null", spec.column, {}, cond)
                )
                if spec.type in ("string", "id"):  # a blank text value is as missing as a null
                    specs.append(
                        ExpectationSpec(
                            "opp_missing_required_field",
                            f,
                            "match_regex",
                            spec.column,
                            {"regex": r"\S"},
                            cond,
                        )
                    )
    open_ = (("is_open", "==", True),)
    if "opp_past_close_date" in enabled:
        grace = int(hyg["close_date"].get("past_due_grace_days", 0))
        specs.append(
            ExpectationSpec(
                "opp_past_close_date", "", "between", "days_past_close", {"max_value": grace}, open_
            )
        )
    if "opp_forecast_category_mismatch" in enabled:
        for s in stages:
            specs.append(
                ExpectationSpec(
                    "opp_forecast_category_mismatch",
                    s["name"],
                    "in_set",
                    "forecast_category",
                    {"value_set": list(s["forecast_categories"])},
                    (("stage_name", "==", s["name"]),),
                )
            )
    if "opp_stale" in enabled:
        days = int(hyg["stale_opportunity"]["days_without_activity"])
        specs.append(ExpectationSpec("opp_stale", "", "not_null", "last_activity_date", {}, open_))
        specs.append(
            ExpectationSpec("opp_stale", "", "between", "days_since_activity", {"max_value": days}, open_)
        )
    if "opp_missing_next_step" in enabled:
        cond = open_ + (("stage_order", ">=", int(hyg["next_step"]["required_from_stage_order"])),)
        specs.append(ExpectationSpec("opp_missing_next_step", "", "not_null", "next_step", {}, cond))
        specs.append(
            ExpectationSpec("opp_missing_next_step", "", "match_regex", "next_step", {"regex": r"\S"}, cond)
        )
    if "opp_amount_invalid" in enabled:
        amt = hyg["amount"]
        specs.append(
            ExpectationSpec(
                "opp_amount_invalid",
                "non_positive",
                "between",
                "amount",
                {"min_value": amt["min_exclusive"], "strict_min": True},
                (("amount_zero_allowed", "==", False),),
            )
        )
        # the bound is in the corporate currency: compared with the amount converted at its rate
        # (a record without a rate is not evaluated: runner._GX_SKIP_COLUMN)
        specs.append(
            ExpectationSpec(
                "opp_amount_invalid",
                "outlier",
                "between",
                "amount_corporate",
                {"max_value": amt["outlier_max"]},
            )
        )
    if "opp_invalid_picklist" in enabled:
        # every picklist stages.yaml declares for an Opportunity field the batch carries
        # (Type, LeadSource, Loss_Reason__c, or "Opportunity.<Field>"), unless its unknown values
        # block the gate instead (blocking_picklists -> policy_unknown_value)
        from salesops.policy.picklists import picklist_fields

        blocking = set(cfg.stages.get("blocking_picklists") or [])
        for (obj, api), (name, values) in sorted(picklist_fields(picklists).items()):
            column = opp.field(api).column if obj == "Opportunity" and api in opp.api_fields else None
            if column in _OPPORTUNITY_PICKLIST_COLUMNS and name not in blocking:
                specs.append(
                    ExpectationSpec(
                        "opp_invalid_picklist", api, "in_set", column, {"value_set": list(values)}
                    )
                )
    return specs


def _lead_specs(cfg: QualityConfig) -> list[ExpectationSpec]:
    specs = []
    if "lead_unassigned" in cfg.checks:
        specs.append(
            ExpectationSpec(
                "lead_unassigned", "", "not_null", "owner_id", {}, (("is_unconverted", "==", True),)
            )
        )
    if "lead_invalid_email" in cfg.checks:
        specs.append(
            ExpectationSpec(
                "lead_invalid_email", "", "match_regex", "email", {"regex": cfg.hygiene["email"]["pattern"]}
            )
        )
    return specs


def _contact_specs(cfg: QualityConfig) -> list[ExpectationSpec]:
    if "contact_invalid_email" not in cfg.checks:
        return []
    return [
        ExpectationSpec(
            "contact_invalid_email", "", "match_regex", "email", {"regex": cfg.hygiene["email"]["pattern"]}
        )
    ]


def _key_specs(cfg: QualityConfig) -> list[ExpectationSpec]:
    if "key_integrity" not in cfg.checks:
        return []
    return [
        ExpectationSpec("key_integrity", "missing id", "not_null", "record_id"),
        ExpectationSpec("key_integrity", "duplicate id", "unique", "record_id"),
    ]


# Which batch each object's rule expectations run on (include/sql/quality/gx_input_<object>.sql).
_RULE_BATCHES = {"opportunity": _opportunity_specs, "lead": _lead_specs, "contact": _contact_specs}


def build_specs(cfg: QualityConfig) -> dict[str, list[ExpectationSpec]]:
    """Suite name -> expectation specs. ``<object>`` suites hold rules, ``<object>__keys`` key integrity."""
    suites: dict[str, list[ExpectationSpec]] = {}
    for obj, builder in _RULE_BATCHES.items():
        specs = builder(cfg)
        if specs:
            suites[obj] = specs
    keys = _key_specs(cfg)
    if keys:
        for name in object_manifest():
            suites[f"{name}__keys"] = keys
    return suites


def condition_mask(df: pd.DataFrame, condition: Condition) -> pd.Series:
    """The rows a condition selects, computed the way GX's pandas engine does (nulls never match)."""
    import pandas as pd

    mask = pd.Series(True, index=df.index)
    for column, op, value in condition:
        col = df[column]
        if op == "==":
            part = col.eq(value)
        elif op == "!=":
            part = col.ne(value) & col.notna()
        elif op == ">=":
            part = pd.to_numeric(col, errors="coerce").ge(value)
        elif op == "in":
            part = col.isin(list(value))
        else:  # pragma: no cover - guarded by the generators above
            raise ValueError(f"unsupported condition operator {op!r}")
        mask &= part.fillna(False).astype(bool)
    return mask


def violation_mask(df: pd.DataFrame, spec: ExpectationSpec) -> pd.Series:
    """Rows of ``df`` that break ``spec``, with GX's pandas semantics (nulls are "missing", not
    unexpected, except for not_null). Used to pull the offending record ids out in one vectorised
    pass; :func:`validate` checks the count against GX's own ``unexpected_count``."""
    import pandas as pd

    col = df[spec.column]
    k = spec.kwargs
    present = col.notna()
    if spec.kind == "not_null":
        bad = ~present
    elif spec.kind == "between":
        num = pd.to_numeric(col, errors="coerce")
        bad = pd.Series(False, index=df.index)
        if "min_value" in k:
            bad |= (num <= k["min_value"]) if k.get("strict_min") else (num < k["min_value"])
        if "max_value" in k:
            bad |= (num >= k["max_value"]) if k.get("strict_max") else (num > k["max_value"])
        bad &= present
    elif spec.kind == "in_set":
        bad = present & ~col.isin(list(k["value_set"]))
    elif spec.kind == "match_regex":
        bad = present & ~col.astype(str).str.contains(k["regex"], regex=True)
    elif spec.kind == "unique":
        bad = present & col.duplicated(keep=False)
    else:  # pragma: no cover
        raise ValueError(spec.kind)
    bad = bad.fillna(False).astype(bool)
    if spec.condition:
        bad &= condition_mask(df, spec.condition)
    return bad


def _gx_condition(condition: Condition) -> Any:
    from great_expectations.expectations.row_conditions import Column

    combined = None
    for column, op, value in condition:
        c = Column(column)
        if op == "==":
            part = c == value
        elif op == "!=":
            part = c != value
        elif op == ">=":
            part = c >= value
        elif op == "in":
            part = c.is_in(list(value))
        else:  # pragma: no cover
            raise ValueError(f"unsupported condition operator {op!r}")
        combined = part if combined is None else combined & part
    return combined


def to_gx(spec: ExpectationSpec) -> Any:
    """The GX 1.x expectation for a spec (GX imported lazily: ~8 s)."""
    import great_expectations.expectations as gxe

    classes = {
        "not_null": gxe.ExpectColumnValuesToNotBeNull,
        "between": gxe.ExpectColumnValuesToBeBetween,
        "in_set": gxe.ExpectColumnValuesToBeInSet,
        "match_regex": gxe.ExpectColumnValuesToMatchRegex,
        "unique": gxe.ExpectColumnValuesToBeUnique,
    }
    kwargs = dict(spec.kwargs)
    if spec.condition:
        kwargs["row_condition"] = _gx_condition(spec.condition)
    return classes[spec.kind](column=spec.column, meta={"check": spec.check, "detail": spec.detail}, **kwargs)


def to_gx_indexed(spec: ExpectationSpec, index: int) -> Any:
    exp = to_gx(spec)
    exp.meta["spec_index"] = index
    return exp


def import_gx() -> Any:
    """Import great_expectations quietly (its import logs ~200 lines at INFO under Airflow)."""
    logging.getLogger("great_expectations").setLevel(logging.WARNING)
    import great_expectations as gx

    return gx


@dataclass
class GxRun:
    """What the GX validation produced: failing rows per check and the per-expectation summary."""

    exceptions: list[dict[str, Any]]  # suite, check, record_id, detail
    summary: list[dict[str, Any]]  # suite, expectation, check, detail, evaluated, unexpected, success
    data_docs_index: Path | None
    seconds: float


def validate(
    batches: dict[str, pd.DataFrame],
    suites: dict[str, list[ExpectationSpec]],
    data_docs_dir: Path | None,
    run_name: str,
    result_format: str = "SUMMARY",
) -> GxRun:
    """Validate each suite against its batch with GX and (optionally) render Data Docs.

    Args:
        batches: suite name -> pandas batch (must have a ``record_id`` column).
        suites: suite name -> expectation specs (see :func:`build_specs`).
        data_docs_dir: where the static Data Docs site goes; None = no docs.
        run_name: shown in Data Docs (the quality run id).
    """
    import time

    t0 = time.monotonic()
    gx = import_gx()
    from great_expectations.core.run_identifier import RunIdentifier

    context = _context(gx, data_docs_dir)
    datasource = context.data_sources.add_pandas("salesops_warehouse")
    exceptions: list[dict[str, Any]] = []
    summary: list[dict[str, Any]] = []
    documented: list[Any] = []
    rf = {"result_format": result_format, "partial_unexpected_count": 20}
    if result_format == "COMPLETE":
        rf["unexpected_index_column_names"] = ["record_id"]
    for suite_name, specs in suites.items():
        df = batches[suite_name]
        asset = datasource.add_dataframe_asset(suite_name)
        batch_def = asset.add_batch_definition_whole_dataframe(f"{suite_name}_batch")
        checkpoint = _checkpoint(gx, context, suite_name, specs, batch_def, rf)
        result = checkpoint.run(batch_parameters={"dataframe": df}, run_id=RunIdentifier(run_name=run_name))
        documented += _docs_resources(result, suite_name)
        for vr in result.run_results.values():
            for er in vr.results:
                meta = er.expectation_config.meta or {}
                res = er.result or {}
                if er.exception_info and er.exception_info.get("raised_exception"):
                    raise RuntimeError(
                        f"GX could not evaluate {er.expectation_config.type} on {suite_name}.{er.expectation_config.kwargs.get('column')}: "
                        f"{er.exception_info.get('exception_message')}"
                    )
                spec = specs[int(meta["spec_index"])]
                if result_format == "COMPLETE":
                    ids = [row["record_id"] for row in res.get("unexpected_index_list") or []]
                else:
                    # SUMMARY keeps GX fast on millions of rows (COMPLETE builds a dict per failing
                    # row); the ids come from the same rule applied vectorised, and must agree
                    # with GX's count, so the two can never drift apart silently.
                    ids = df.loc[violation_mask(df, spec), "record_id"].tolist()
                    gx_count = int(res.get("unexpected_count") or 0)
                    if gx_count != len(ids):
                        raise RuntimeError(
                            f"{suite_name}: {spec.describe()}: GX counted {gx_count} unexpected rows, "
                            f"the vectorised rule found {len(ids)}"
                        )
                for rid in ids:
                    exceptions.append(
                        {
                            "suite": suite_name,
                            "check": meta["check"],
                            "record_id": rid,
                            "detail": meta.get("detail", ""),
                        }
                    )
                summary.append(
                    {
                        "suite": suite_name,
                        "expectation": er.expectation_config.type,
                        "check": meta.get("check"),
                        "detail": meta.get("detail", ""),
                        "evaluated": res.get("element_count"),
                        "unexpected": res.get("unexpected_count", 0),
                        "success": bool(er.success),
                    }
                )
    _build_docs(context, data_docs_dir, documented)
    index = _finish_docs(data_docs_dir)
    return GxRun(exceptions, summary, index, time.monotonic() - t0)


def _enable_duckdb() -> None:
    """Make GX 1.24's SQL datasource work on DuckDB (GX issues #10738/#11579).

    1. GX keeps one connection open only for the dialects in ``_PERSISTED_CONNECTION_DIALECTS``;
       on DuckDB the temporary tables its metrics create live in that connection, so without it
       every expectation fails ("list index out of range").
    2. GX knows no regex function for DuckDB ("Regex is not supported for dialect duckdb"):
       ``regexp_matches`` is a partial match, as GX's pandas engine (``str.contains``).
    Idempotent; only the duckdb dialect is touched.
    """
    import sqlalchemy as sa
    from great_expectations.execution_engine import sqlalchemy_execution_engine as engine_mod
    from great_expectations.expectations.metrics.column_map_metrics import (
        column_values_match_regex as match_regex,
    )

    class _DuckDbDialect(str):
        @property
        def value(self) -> str:
            return str(self)

    persisted = engine_mod._PERSISTED_CONNECTION_DIALECTS
    if "duckdb" not in [getattr(d, "value", d) for d in persisted]:
        engine_mod._PERSISTED_CONNECTION_DIALECTS = (*persisted, _DuckDbDialect("duckdb"))  # type: ignore[assignment]
    original = match_regex.get_dialect_regex_expression
    if getattr(original, "_salesops_duckdb", False):
        return

    def regex_expression(column: Any, regex: str, dialect: Any, positive: bool = True) -> Any:
        if getattr(getattr(dialect, "dialect", dialect), "name", None) == "duckdb":
            expr = sa.func.regexp_matches(column, sa.literal(regex))
            return expr if positive else sa.not_(expr)
        return original(column, regex, dialect, positive)

    regex_expression._salesops_duckdb = True  # type: ignore[attr-defined]
    match_regex.get_dialect_regex_expression = regex_expression


def validate_sql(
    url: str,
    tables: dict[str, str],
    suites: dict[str, list[ExpectationSpec]],
    data_docs_dir: Path | None,
    run_name: str,
) -> GxRun:
    """Validate each suite against its batch table in the warehouse with GX's SQL datasource.

    GX runs its metrics as SQL in the warehouse (nothing is read into Python); the result is the
    per-expectation summary (``BASIC``: counts and a sample of unexpected values) and Data Docs. The offending record ids are not taken from GX: the caller selects them with
    :func:`violation_sql` and checks its count against ``unexpected_count`` in the summary.

    Args:
        url: the warehouse's SQLAlchemy URL (DuckDB).
        tables: suite name -> ``schema.table`` holding its batch.
        suites: suite name -> expectation specs.
        data_docs_dir: where the static Data Docs site goes; None = no docs.
        run_name: shown in Data Docs (the quality run id).
    """
    import time

    t0 = time.monotonic()
    gx = import_gx()
    _enable_duckdb()
    from great_expectations.core.run_identifier import RunIdentifier

    context = _context(gx, data_docs_dir)
    datasource = context.data_sources.add_sql("salesops_warehouse", connection_string=url)
    summary: list[dict[str, Any]] = []
    documented: list[Any] = []
    # BASIC: counts and a sample of unexpected values; SUMMARY would add a value-count query
    # per expectation (a GROUP BY over the batch each), which costs more than the check itself
    rf = {"result_format": "BASIC", "partial_unexpected_count": 20}
    try:
        for suite_name, specs in suites.items():
            schema, _, table = tables[suite_name].rpartition(".")
            asset = datasource.add_table_asset(suite_name, table_name=table, schema_name=schema or None)
            batch_def = asset.add_batch_definition_whole_table(f"{suite_name}_batch")
            checkpoint = _checkpoint(gx, context, suite_name, specs, batch_def, rf)
            result = checkpoint.run(run_id=RunIdentifier(run_name=run_name))
            documented += _docs_resources(result, suite_name)
            for vr in result.run_results.values():
                for er in vr.results:
                    _raise_on_error(er, suite_name)
                    meta = er.expectation_config.meta or {}
                    res = er.result or {}
                    summary.append(
                        {
                            "suite": suite_name,
                            "spec_index": int(meta["spec_index"]),
                            "expectation": er.expectation_config.type,
                            "check": meta.get("check"),
                            "detail": meta.get("detail", ""),
                            "evaluated": res.get("element_count"),
                            "unexpected": res.get("unexpected_count", 0),
                            "success": bool(er.success),
                        }
                    )
    finally:
        # GX keeps its context (and so this datasource) alive after the run; its persisted
        # connection would hold the DuckDB file lock for the rest of the process (a CLI or
        # another task in a second process then cannot open the warehouse).
        _close_datasource(datasource)
    _build_docs(context, data_docs_dir, documented)
    index = _finish_docs(data_docs_dir)
    return GxRun([], summary, index, time.monotonic() - t0)


def _close_datasource(datasource: Any) -> None:
    """Close the SQL datasource's execution engine (its persisted connection) and engine."""
    engine = getattr(datasource, "_execution_engine", None)
    if engine is not None:
        engine.close()
    sa_engine = getattr(datasource, "_engine", None)
    if sa_engine is not None:
        sa_engine.dispose()


def _context(gx: Any, data_docs_dir: Path | None) -> Any:
    """An ephemeral GX context, with the Data Docs site when ``data_docs_dir`` is set (built once
    after every suite ran: :func:`_build_docs`)."""
    from great_expectations.data_context.types.base import ProgressBarsConfig

    context = gx.get_context(mode="ephemeral")
    context.variables.progress_bars = ProgressBarsConfig(globally=False)
    if data_docs_dir is not None:
        data_docs_dir.mkdir(parents=True, exist_ok=True)
        context.add_data_docs_site(
            site_name="salesops",
            site_config={
                "class_name": "SiteBuilder",
                "site_index_builder": {"class_name": "DefaultSiteIndexBuilder"},
                "store_backend": {
                    "class_name": "TupleFilesystemStoreBackend",
                    "base_directory": str(data_docs_dir),
                },
            },
        )
    return context


def _docs_resources(result: Any, suite_name: str) -> list[Any]:
    """The Data Docs pages of one checkpoint run: its validation results and its suite."""
    from great_expectations.data_context.types.resource_identifiers import ExpectationSuiteIdentifier

    return [*result.run_results.keys(), ExpectationSuiteIdentifier(name=suite_name)]


def _build_docs(context: Any, data_docs_dir: Path | None, resources: list[Any]) -> None:
    """Render the Data Docs pages of every suite and validation result of the run, and the index,
    once. (GX's UpdateDataDocsAction on each checkpoint renders the same pages but rebuilds the
    index, and re-instantiates the site builder and its templates, after every suite: 17 times.)"""
    if data_docs_dir is not None and resources:
        context.build_data_docs(site_names=["salesops"], resource_identifiers=resources)


def _checkpoint(
    gx: Any,
    context: Any,
    suite_name: str,
    specs: list[ExpectationSpec],
    batch_def: Any,
    rf: dict[str, Any],
) -> Any:
    # The suite is stored once with all its expectations: adding them one by one to a stored
    # suite re-serialises the whole suite into the store on every add (O(n^2); 60 stores per run).
    suite = context.suites.add(
        gx.ExpectationSuite(
            name=suite_name, expectations=[to_gx_indexed(sp, i) for i, sp in enumerate(specs)]
        )
    )
    vd = context.validation_definitions.add(
        gx.ValidationDefinition(name=suite_name, data=batch_def, suite=suite)
    )
    return context.checkpoints.add(
        gx.Checkpoint(
            name=f"{suite_name}_checkpoint",
            validation_definitions=[vd],
            actions=[],
            result_format=rf,
        )
    )


def _raise_on_error(er: Any, suite_name: str) -> None:
    if er.exception_info and er.exception_info.get("raised_exception"):
        raise RuntimeError(
            f"GX could not evaluate {er.expectation_config.type} on {suite_name}."
            f"{er.expectation_config.kwargs.get('column')}: {er.exception_info.get('exception_message')}"
        )
    if er.exception_info and not er.success and (er.result or {}).get("unexpected_count") is None:
        # GX nests metric errors one level down ({metric id: {exception_message, ...}})
        for info in er.exception_info.values():
            if isinstance(info, dict) and info.get("raised_exception"):
                raise RuntimeError(
                    f"GX could not evaluate {er.expectation_config.type} on {suite_name}."
                    f"{er.expectation_config.kwargs.get('column')}: {info.get('exception_message')}"
                )


def _finish_docs(data_docs_dir: Path | None) -> Path | None:
    if data_docs_dir is None:
        return None
    # Data Docs list unexpected values (lead emails, phones): the same masking as the packs.
    from salesops.packs.security import mask_tree

    mask_tree(data_docs_dir)
    return data_docs_dir / "index.html"


def _sql_value(v: Any) -> str:
    from salesops.quality.catalogue import sql_literal

    return sql_literal(v)


def violation_sql(spec: ExpectationSpec, batch: str = "batch") -> str:
    """A SQL predicate over the GX batch selecting the rows that break ``spec``, with GX's
    semantics (nulls are "missing", not unexpected, except for not_null). The quality run takes
    the offending ids with it on DuckDB; tickets print it as "steps to reproduce". DuckDB syntax.

    Args:
        batch: the relation the batch is in (``unique`` looks the duplicated values up there).
    """
    col = spec.column
    k = spec.kwargs
    if spec.kind == "not_null":
        pred = f"{col} is null"
    elif spec.kind == "between":
        parts = []
        if "min_value" in k:
            parts.append(f"{col} {'<=' if k.get('strict_min') else '<'} {_sql_value(k['min_value'])}")
        if "max_value" in k:
            parts.append(f"{col} {'>=' if k.get('strict_max') else '>'} {_sql_value(k['max_value'])}")
        pred = "(" + " or ".join(parts) + ")"
    elif spec.kind == "in_set":
        pred = f"{col} not in ({', '.join(_sql_value(v) for v in k['value_set'])})"
    elif spec.kind == "match_regex":
        pred = f"not regexp_matches({col}, {_sql_value(k['regex'])})"
    elif spec.kind == "unique":
        pred = f"{col} in (select {col} from {batch} group by {col} having count(*) > 1)"
    else:  # pragma: no cover
        raise ValueError(spec.kind)
    return " and ".join([*_condition_sql(spec.condition), pred])


def _condition_sql(condition: Condition) -> list[str]:
    conds = []
    for c, op, v in condition:
        if op == "in":
            conds.append(f"{c} in ({', '.join(_sql_value(x) for x in v)})")
        else:
            conds.append(f"{c} {'=' if op == '==' else op} {_sql_value(v)}")
    return conds


def condition_sql(condition: Condition) -> str:
    """The rows a condition selects, as a SQL predicate (nulls never match, as in GX); ``true``
    for no condition."""
    return " and ".join(_condition_sql(condition)) or "true"


def as_of_params(as_of: datetime) -> dict[str, Any]:
    return {"as_of_date": as_of.date().isoformat()}
