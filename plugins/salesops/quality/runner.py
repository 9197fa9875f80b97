"""Run the check catalogue against the warehouse and write the quality tables.

One call, :func:`run_quality`, does a whole run:

1. resolves "as of" (max ``until`` of successful loads in ops.load_audit, or the override);
2. validates the generated expectation suites with Great Expectations (+ Data Docs);
3. runs the SQL checks (include/sql/quality/checks/<id>.sql) and the duplicate matcher;
4. runs the aggregate checks (source freshness, closed-won vs bookings reconciliation);
5. writes ``quality.check_result``, ``quality.run_exception``, folds them into
   ``quality.exception_queue``, writes ``quality.scorecard`` and ``quality.duplicate_cluster``,
   and records the gate verdict in ``quality.run``.

Every check yields an :class:`Outcome`: the records it evaluated (with their scope: owner,
manager, team, region, segment) and the offending records (id, detail, related id).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

from salesops import paths, reference
from salesops.config import get_object, object_manifest
from salesops.quality import _db, picklist_checks
from salesops.quality.availability import Availability, measure
from salesops.quality.catalogue import (
    CheckSpec,
    QualityConfig,
    freshness_window_hours,
    load_config,
    policy_context,
    sql_literal,
)
from salesops.warehouse.core import Warehouse
from salesops.warehouse.schema import ensure_object_tables

if TYPE_CHECKING:
    import pandas as pd

log = logging.getLogger(__name__)

SCOPE_COLUMNS = ("owner_id", "manager_id", "team", "region", "segment")
_SCOPE_COL = {"owner": "owner_id", "team": "team", "region": "region", "segment": "segment"}


class QualityError(RuntimeError):
    """The quality run cannot start or finish (no as-of, missing input), with the reason."""


@dataclass
class Outcome:
    """One check on one object. What it found is in the run's working tables, not in Python:
    ``quality.work_population`` (the records it evaluated, with their scope and whether they
    failed) and ``quality.work_exception`` (the offending records: id, detail, related id)."""

    check: CheckSpec
    object: str  # API name
    index: int  # its rows in quality.work_population / work_exception (outcome = index)
    value: float | None = None
    value_label: str | None = None
    # its population is in quality.work_population a row per record (else counted by scope in
    # quality.work_population_count: see _population_by_record)
    by_record: bool = True


@dataclass
class RunSummary:
    """JSON-friendly result of :func:`run_quality` (travels by XCom)."""

    run_id: str
    as_of: str
    gate_passed: bool
    gate_message: str
    blockers_failed: list[dict[str, Any]] = field(default_factory=list)
    warns_failed: list[dict[str, Any]] = field(default_factory=list)
    exceptions_open: int = 0
    data_docs_index: str | None = None
    timings: dict[str, float] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)


def resolve_as_of(wh: Warehouse, override: datetime | str | None = None) -> datetime:
    """The data's extraction time (source clock), or ``override``."""
    if override is not None:
        value = datetime.fromisoformat(override) if isinstance(override, str) else override
    else:
        from salesops.as_of import data_as_of

        found = data_as_of(wh)
        if found is None:
            raise QualityError(
                "cannot tell the data's as-of time: ops.load_audit has no batch with status 'loaded' "
                "(load data first, or pass as_of explicitly)"
            )
        value = found
    import pandas as pd

    ts = pd.Timestamp(value)
    if ts.tzinfo is not None:
        ts = ts.tz_convert("UTC").tz_localize(None)
    return ts.to_pydatetime()


# --------------------------------------------------------------------------------------------
# what the data can support
# --------------------------------------------------------------------------------------------


# Checks whose finding is an empty field: only a field the source does not deliver at all (or no
# records) makes them unevaluable, not a field that is empty in every row.
_EMPTY_IS_THE_FINDING = frozenset(
    {"opp_missing_required_field", "lead_unassigned", "opp_line_items_without_price_book"}
)


# Checks whose rule cannot be applied to some records (issue 13: an amount in a currency without a
# conversion rate cannot be compared with a corporate-currency bound or with a booking). The batch
# (GX) or the check's rows (SQL: ``not_evaluated_reason``) carry the reason; such a record that broke
# no rule is neither passed nor failed: it is counted in check_result.not_evaluated, the reasons in
# check_result.reason, and listed in quality.run_not_evaluated.
_GX_SKIP_COLUMN = {"opp_amount_invalid": "amount_not_evaluated"}
_SQL_SKIP = frozenset({"booking_amount_mismatch"})


def _population_by_record(cfg: QualityConfig) -> frozenset[str]:
    """The checks whose evaluated records the scorecard needs record by record: the members of a
    metric several checks feed (each record counted once, failed when it failed any of them) and
    of a duplicates-per-1,000 metric (new records by created_at). Every other check's population
    is only counted (check_result by scope, a one-check metric by scope), so the run writes it
    counted by scope and failed: work_population_count instead of a row per record (2 M rows per
    lead check)."""
    metrics = (cfg.section("scorecard").get("metrics") or {}).keys()
    members: dict[str, list[str]] = {}
    for check in cfg.checks.values():
        if check.dimension:
            members.setdefault(check.dimension, []).append(check.id)
    out: set[str] = set()
    for metric in metrics:
        ids = members.get(metric, [])
        if len(ids) > 1 or metric.startswith("duplicates_per_1000"):
            out |= set(ids)
    return frozenset(out)


def _check_needs(check: CheckSpec, cfg: QualityConfig) -> list[tuple[str, tuple[str, ...]]]:
    """The check's declared needs, plus what the policy makes it need (required fields by stage)."""
    needs = list(check.needs)
    if check.id == "opp_missing_required_field":
        fields: list[str] = []
        for s in cfg.stages["stages"]:
            fields += [f for f in s["required_fields"] if f not in fields and f != "Products"]
        needs.append(("opportunity", tuple(fields)))
        if any("Products" in s["required_fields"] for s in cfg.stages["stages"]):
            needs.append(("opportunity_line_item", ("OpportunityId",)))
    return needs


def _picklist_fields() -> dict[str, str]:
    """GX batch column -> Opportunity API field of the picklist expectations."""
    opp = get_object("opportunity")
    return {f.column: f.api_name for f in opp.fields}


def _not_evaluated(wh: Warehouse, cfg: QualityConfig) -> tuple[dict[tuple[str, str], str], Availability]:
    """(check id, object api name or '*') -> why the loaded data cannot support it."""
    wanted: dict[str, set[str]] = {name: set() for name in object_manifest()}
    for check in cfg.checks.values():
        for obj, fields in _check_needs(check, cfg):
            wanted[obj] |= set(fields)
    wanted["opportunity"] |= {"Type", "LeadSource", "Loss_Reason__c"}
    for obj, picked in picklist_checks.wanted(cfg).items():
        wanted[obj] |= picked
    avail = measure(wh, wanted)
    na: dict[tuple[str, str], str] = {}
    for check in cfg.checks.values():
        if check.object == "*":
            continue
        # a required field (or owner) empty everywhere is what these checks report, not a gap
        strict = check.id not in _EMPTY_IS_THE_FINDING
        reason = avail.reason(_check_needs(check, cfg), empty_counts=strict)
        if check.id == "opp_missing_required_field" and not any(
            s["required_fields"] for s in cfg.stages["stages"]
        ):
            reason = "the stage policy (stages.yaml) lists no required_fields for any stage"
        reason = reason or picklist_checks.not_evaluated_reason(check, cfg, avail)
        if reason:
            na[(check.id, check.api_name)] = reason
    if "key_integrity" in cfg.checks:
        for name, spec in object_manifest().items():
            why = avail.reason([(name, ())])
            if why:
                na[("key_integrity", spec.api_name)] = why
    return na, avail


def _evaluable_suites(
    suites: dict[str, list[Any]], cfg: QualityConfig, na: dict[tuple[str, str], str], avail: Availability
) -> dict[str, list[Any]]:
    """The generated suites without the expectations of checks the data cannot support; a picklist
    expectation on a field the source never fills is dropped (the check is n/a if none is left)."""
    out: dict[str, list[Any]] = {}
    columns = _picklist_fields()
    for suite, specs in suites.items():
        object_name = suite[: -len("__keys")] if suite.endswith("__keys") else suite
        api = get_object(object_name).api_name
        kept = []
        for spec in specs:
            if (spec.check, api) in na:
                continue
            if spec.check == "opp_invalid_picklist":
                field = columns.get(spec.column)
                if field and avail.empty_fields("opportunity", [field]):
                    continue
            kept.append(spec)
        if (
            "opp_invalid_picklist" in cfg.checks
            and suite == "opportunity"
            and ("opp_invalid_picklist", api) not in na
        ):
            if not any(sp.check == "opp_invalid_picklist" for sp in kept):
                picked = [columns[sp.column] for sp in specs if sp.check == "opp_invalid_picklist"]
                na[("opp_invalid_picklist", api)] = avail.reason([("opportunity", tuple(picked))]) or ""
        if kept:
            out[suite] = kept
    return out


def _not_evaluated_rows(
    run_id: str, as_of: datetime, cfg: QualityConfig, na: dict[tuple[str, str], str]
) -> list[dict[str, Any]]:
    rows = []
    for (check_id, obj), reason in sorted(na.items()):
        if check_id not in cfg.checks:
            continue
        row = _result_row(run_id, as_of, cfg.checks[check_id], obj, "all", "all", 0, 0, None, None, None)
        row.update(passed=None, status="not_evaluated", reason=reason)
        rows.append(row)
    return rows


# --------------------------------------------------------------------------------------------
# engines
# --------------------------------------------------------------------------------------------


def _brief(jinja: dict[str, Any]) -> str:
    keys = ("outcome", "target", "check", "batch", "members")
    return " ".join(f"{k}={v}" for k, v in jinja.items() if k in keys)


class _Work:
    """The run's working connection: every SQL file of the run's set-wise work goes through it.

    It is held for the whole run (salesops.warehouse.duckdb_session.held): on DuckDB the database
    is opened once, with a bounded ``memory_limit`` (DuckDB spills to disk beyond it), and every
    other connection of the run (GX's, the matcher's) shares that instance.
    """

    def __init__(self, wh: Warehouse, conn: Any) -> None:
        self.wh = wh
        self.conn = conn
        self.batch_tables: list[str] = []
        self.batch_views: list[str] = []

    def run(self, relpath: str, params: dict[str, Any] | None = None, **jinja: Any) -> None:
        import sqlalchemy as sa

        from salesops.warehouse.core import split_statements

        started = time.monotonic()
        for stmt in split_statements(_db.render(self.wh, relpath, **jinja)):
            names = set(_db.bind_names(stmt))
            self.conn.execute(sa.text(stmt), {k: v for k, v in (params or {}).items() if k in names})
        self.conn.commit()
        log.debug("%s %s: %.2f s", relpath, _brief(jinja), time.monotonic() - started)

    def query(self, relpath: str, params: dict[str, Any] | None = None, **jinja: Any) -> list[dict[str, Any]]:
        import sqlalchemy as sa

        started = time.monotonic()
        stmt = _db.render(self.wh, relpath, **jinja)
        names = set(_db.bind_names(stmt))
        result = self.conn.execute(sa.text(stmt), {k: v for k, v in (params or {}).items() if k in names})
        rows = [dict(r._mapping) for r in result]
        self.conn.commit()
        log.debug("%s %s: %.2f s", relpath, _brief(jinja), time.monotonic() - started)
        return rows

    def add_outcome(self, outcome: Outcome) -> None:
        import sqlalchemy as sa

        self.conn.execute(
            sa.text(
                "insert into quality.work_outcome (outcome, check_id, object, severity, queue) "
                "values (:o, :c, :obj, :s, :q)"
            ),
            {
                "o": outcome.index,
                "c": outcome.check.id,
                "obj": outcome.object,
                "s": outcome.check.severity,
                "q": bool(outcome.check.queue),
            },
        )
        self.conn.commit()


def _scope_columns(columns: set[str]) -> list[dict[str, str]]:
    """The population columns a batch table provides (null where it has none)."""
    out = []
    for name, kind in (*((c, "varchar") for c in SCOPE_COLUMNS), ("created_at", "timestamp")):
        expr = f"b.{name}" if name in columns else f"cast(null as {kind})"
        out.append({"name": name, "expr": expr})
    return out


def _gx_outcomes(
    work: _Work,
    cfg: QualityConfig,
    as_of: datetime,
    run_id: str,
    data_docs_dir: Path | None,
    na: dict[tuple[str, str], str],
    avail: Availability,
    new_index: Any,
) -> tuple[list[Outcome], dict[str, Any], list[str]]:
    """Materialise each suite's batch in the warehouse, validate it with GX and write each GX
    check's population and exception rows set-wise. Returns the outcomes, GX info and the batch
    tables (dropped at the end of the run)."""
    from salesops.quality import expectations as ex
    from salesops.quality.catalogue import sql_literal

    wh = work.wh
    suites = _evaluable_suites(ex.build_specs(cfg), cfg, na, avail)
    if not suites:
        return [], {}, []
    params = ex.as_of_params(as_of)
    ctx = policy_context(cfg)
    tables: dict[str, str] = {}
    for suite in suites:
        table = f"quality.work_gx_{suite}"
        if suite.endswith("__keys"):
            obj = get_object(suite[: -len("__keys")])
            work.run(
                "quality/work/batch.sql",
                target=table,
                as_view=True,
                source="quality/gx_input_key.sql",
                table=obj.staging_table,
                key_column=obj.key_column,
            )
        else:
            work.run(
                "quality/work/batch.sql", params, target=table, source=f"quality/gx_input_{suite}.sql", **ctx
            )
        tables[suite] = table
    if wh.dialect != "duckdb":
        outcomes, run = _gx_outcomes_pandas(work, cfg, suites, tables, data_docs_dir, run_id, new_index)
    else:
        run = ex.validate_sql(wh.url, tables, suites, data_docs_dir, run_id)
        by_record = _population_by_record(cfg)
        gx_counts = {(r["suite"], r["spec_index"]): int(r["unexpected"] or 0) for r in run.summary}
        outcomes = []
        for suite, specs in suites.items():
            table = tables[suite]
            columns = set(wh.columns(table))
            preds = [ex.violation_sql(sp, batch=table) for sp in specs]
            known = _ids_unique_from_specs(specs)
            counts = work.query(
                "quality/work/gx_counts.sql", batch=table, predicates=preds, count_repeated=known is None
            )[0]
            found = [int(counts[f"n{i}"] or 0) for i in range(len(specs))]
            for i, spec in enumerate(specs):
                if gx_counts.get((suite, i)) != found[i]:
                    raise RuntimeError(
                        f"{suite}: {spec.describe()}: GX counted {gx_counts.get((suite, i))} unexpected "
                        f"rows, the SQL rule found {found[i]}"
                    )
            unique = known(found) if known is not None else int(counts["repeated"] or 0) == 0
            object_name = suite[: -len("__keys")] if suite.endswith("__keys") else suite
            for check_id, idx in _by_check(specs).items():
                outcome = Outcome(
                    cfg.checks[check_id],
                    get_object(object_name).api_name,
                    new_index(),
                    by_record=check_id in by_record,
                )
                work.add_outcome(outcome)
                conds = [specs[i].condition for i in idx]
                population = (
                    "true"
                    if any(not c for c in conds)
                    else " or ".join(f"({ex.condition_sql(c)})" for c in conds)
                )
                skip = _GX_SKIP_COLUMN.get(check_id)
                work.run(
                    "quality/work/gx_outcome.sql",
                    outcome=outcome.index,
                    batch=table,
                    # an expectation that found no rows adds none (for a key batch: no scan and
                    # no group-by of every id again)
                    violations=[
                        {"predicate": preds[i], "detail": sql_literal(specs[i].detail)}
                        for i in idx
                        if found[i]
                    ],
                    scope_columns=_scope_columns(columns),
                    population=population,
                    skip=skip if skip in columns else None,
                    unique=unique,
                    by_record=outcome.by_record,
                )
                outcomes.append(outcome)
    info = {
        "gx_seconds": run.seconds,
        "data_docs_index": run.data_docs_index,
        "summary": run.summary,
    }
    return outcomes, info, list(tables.values())


def _ids_unique_from_specs(specs: list[Any]) -> Any:
    """For a batch whose suite checks its record ids (key integrity: not null and unique, without
    a row condition), a function telling from the suite's violation counts whether the batch has
    one row per record id (no null and no repeated id); None when the suite does not say (the
    repeated ids are then counted in gx_counts.sql)."""
    plain = {sp.kind: i for i, sp in enumerate(specs) if sp.column == "record_id" and not sp.condition}
    if "not_null" not in plain or "unique" not in plain:
        return None
    return lambda found: found[plain["not_null"]] == 0 and found[plain["unique"]] == 0


def _by_check(specs: list[Any]) -> dict[str, list[int]]:
    by_check: dict[str, list[int]] = {}
    for i, spec in enumerate(specs):
        by_check.setdefault(spec.check, []).append(i)
    return by_check


def _gx_outcomes_pandas(
    work: _Work,
    cfg: QualityConfig,
    suites: dict[str, list[Any]],
    tables: dict[str, str],
    data_docs_dir: Path | None,
    run_id: str,
    new_index: Any,
) -> tuple[list[Outcome], Any]:
    """GX on pandas batches (warehouses other than DuckDB, e.g. Snowflake): validated in Python,
    the offending ids by the same rule vectorised; populations and exceptions are then written to
    the working tables like the SQL path's."""
    import pandas as pd

    from salesops.quality import expectations as ex

    wh = work.wh
    outcomes = []
    batches = {s: _db.fetch_df(wh, "quality/work/select_batch.sql", batch=t) for s, t in tables.items()}
    run = ex.validate(batches, suites, data_docs_dir, run_id)
    exc = pd.DataFrame(run.exceptions, columns=["suite", "check", "record_id", "detail"])
    for suite, specs in suites.items():
        df = batches[suite]
        object_name = suite[: -len("__keys")] if suite.endswith("__keys") else suite
        for check_id, idx in _by_check(specs).items():
            outcome = Outcome(cfg.checks[check_id], get_object(object_name).api_name, new_index())
            work.add_outcome(outcome)
            mask = pd.Series(False, index=df.index)
            for i in idx:
                cond = specs[i].condition
                mask |= ex.condition_mask(df, cond) if cond else True
            rows = exc[(exc["suite"] == suite) & (exc["check"] == check_id)]
            exceptions = pd.DataFrame(
                {
                    "outcome": outcome.index,
                    "record_id": rows["record_id"].astype(str),
                    "detail": rows["detail"].fillna("").astype(str),
                    "related_id": None,
                }
            ).drop_duplicates(["record_id", "detail"])
            skip = _GX_SKIP_COLUMN.get(check_id)
            skip = skip if skip in df.columns else None
            pop = df[mask].reindex(
                columns=["record_id", *SCOPE_COLUMNS, "created_at", *([skip] if skip else [])]
            )
            pop = pop.drop_duplicates("record_id")
            pop["record_id"] = pop["record_id"].astype(str)
            pop["failed"] = pop["record_id"].isin(set(exceptions["record_id"]))
            if skip:
                # a record whose rule cannot be applied and that broke no rule: not evaluated
                unevaluable = pop[skip].notna() & ~pop["failed"]
                skipped = pop[unevaluable].rename(columns={skip: "reason"})
                skipped = skipped[["record_id", "reason", *SCOPE_COLUMNS]].copy()
                skipped.insert(0, "outcome", outcome.index)
                for c in SCOPE_COLUMNS:
                    skipped[c] = skipped[c].astype(object).where(skipped[c].notna(), None)
                _db.write_df(wh, "quality.work_not_evaluated", skipped)
                pop = pop[~unevaluable].drop(columns=[skip])
            pop.insert(0, "outcome", outcome.index)
            for c in SCOPE_COLUMNS:
                pop[c] = pop[c].astype(object).where(pop[c].notna(), None)
            pop["created_at"] = pd.to_datetime(pop["created_at"], errors="coerce")
            exceptions = exceptions.merge(pop[["record_id", *SCOPE_COLUMNS]], on="record_id", how="left")
            _db.write_df(wh, "quality.work_exception", exceptions)
            _db.write_df(wh, "quality.work_population", pop)
            outcomes.append(outcome)
    run.summary = [dict(r, spec_index=None) for r in run.summary]
    return outcomes, run


def _sql_outcomes(
    work: _Work, cfg: QualityConfig, as_of: datetime, na: dict[tuple[str, str], str], new_index: Any
) -> list[Outcome]:
    ctx = policy_context(cfg)
    params = {
        "as_of_date": as_of.date().isoformat(),
        "amount_tolerance": float(cfg.section("booking_match").get("amount_tolerance", 0.01)),
    }
    outcomes = []
    by_record = _population_by_record(cfg)
    for check in cfg.checks.values():
        if check.engine != "sql" or check.object == "*" or check.id == "reconciliation_variance":
            continue
        if (check.id, check.api_name) in na:
            continue
        outcome = Outcome(check, check.api_name, new_index(), by_record=check.id in by_record)
        work.add_outcome(outcome)
        work.run(
            "quality/work/sql_check.sql",
            params,
            outcome=outcome.index,
            check=f"quality/checks/{check.id}.sql",
            skip=check.id in _SQL_SKIP,
            by_record=outcome.by_record,
            **ctx,
        )
        outcomes.append(outcome)
    return outcomes


def _key_fields(rules: dict[str, Any]) -> str:
    """The input roles the matcher's keys are built from, for a not-evaluated reason."""
    roles = [r for r in rules["fields"] if r not in ("state", "country")]
    return ", ".join(roles)


def unusable_reason(api_name: str, rules: dict[str, Any]) -> str:
    """The not-evaluated reason of a duplicate check whose data has no usable matching key (the
    run's and the profile's)."""
    return (
        f"no usable matching key: {api_name} records have no values in any key the "
        f"duplicate matcher blocks on ({_key_fields(rules)})"
    )


# While the matcher runs (its own DuckDB instance and Arrow columns), the warehouse instance is
# idle: its buffer pool (up to SALESOPS_DUCKDB_MEMORY_LIMIT of cached table blocks from the GX and
# SQL checks) is cut down to this and restored afterwards, so the two do not add up.
MATCHER_WAREHOUSE_MEMORY = "64MB"


@contextmanager
def _warehouse_cache_released(work: _Work) -> Iterator[None]:
    """Shrink the held DuckDB instance's memory_limit for the block (its cached blocks are evicted,
    uncommitted work spills to its temp directory), then restore it. Other warehouses: no-op; a
    limit DuckDB cannot meet (it refuses to evict pinned memory) is left as it was."""
    if work.wh.dialect != "duckdb":
        yield
        return
    from salesops.warehouse.duckdb_session import settings

    # restored as configured (current_setting reads back a rounded "953.6 MiB")
    restore = [st for st in settings(work.wh.url) if st.startswith("set memory_limit")]
    limit = work.conn.exec_driver_sql("select current_setting('memory_limit')").scalar()
    restore = restore or [f"set memory_limit = '{limit}'"]
    try:
        work.conn.exec_driver_sql(f"set memory_limit = '{MATCHER_WAREHOUSE_MEMORY}'")
        shrunk = True
    except Exception as exc:  # noqa: BLE001 - only a memory saving; the run goes on without it
        work.conn.rollback()  # a failed statement ends the (empty: every step commits) transaction
        log.info("warehouse memory_limit left at %s during duplicate matching: %s", limit, exc)
        shrunk = False
    try:
        yield
    finally:
        if shrunk:
            work.conn.exec_driver_sql(restore[0])


def _duplicate_outcomes(
    work: _Work, cfg: QualityConfig, run_id: str, na: dict[tuple[str, str], str], new_index: Any
) -> tuple[list[Outcome], list[Any], list[str]]:
    import gc

    import pyarrow as pa

    from salesops.quality.duplicates import find_duplicates, release_memory

    wh = work.wh
    dup_cfg = cfg.section("duplicates")
    suffixes = {str(k): str(v) for k, v in (dup_cfg.get("company_suffixes") or {}).items()}
    outcomes, results, tables = [], [], []
    by_record = _population_by_record(cfg)
    for object_name, rules in (dup_cfg.get("objects") or {}).items():
        check_id = f"{object_name}_duplicate"
        if check_id not in cfg.checks:
            continue
        obj = get_object(object_name)
        if (check_id, obj.api_name) in na:
            continue
        # roles whose column this warehouse's staging table has (one created before the manifest
        # gained the address fields simply lacks them: those roles are empty)
        present = {c.lower() for c in wh.columns(obj.staging_table)}
        fields = {role: col for role, col in rules["fields"].items() if col.lower() in present}
        # a view, not a copy: the matcher reads it once and dup_outcome.sql twice, and writing 2 M
        # leads' names and addresses to a table cost about 7 CPU-s, twice the query read three times
        table = f"quality.work_dup_input_{object_name}"
        work.run(
            "quality/work/batch.sql",
            target=table,
            as_view=True,
            source="quality/duplicate_input.sql",
            object=object_name,
            table=obj.staging_table,
            fields=fields,
            **policy_context(cfg),
        )
        tables.append(table)
        # the matcher reads only what it compares (no scope columns: those stay in the warehouse),
        # as Arrow columns (a DataFrame of 2 M leads' strings costs ~1.5 GB more)
        records = [
            _db.fetch_arrow(
                wh,
                "quality/work/select_batch.sql",
                batch=table,
                columns=["record_id", "created_at", *fields.keys()],
            )
        ]
        with _warehouse_cache_released(work):
            # what the GX and SQL steps freed (GX's validation objects, result frames) back to the
            # system before the matcher's peak, not under it
            gc.collect()
            release_memory()
            # handed over, not kept here: the matcher lets go of the columns it no longer reads
            # once they are normalised (the phone and address columns of 2 M leads)
            result = find_duplicates(records.pop(), object_name, rules, suffixes)
            release_memory()  # before the warehouse's buffer pool grows back
        results.append(result)
        if result.unusable:
            na[(check_id, obj.api_name)] = unusable_reason(obj.api_name, rules)
            continue
        outcome = Outcome(
            cfg.checks[check_id],
            obj.api_name,
            new_index(),
            value=result.per_1000,
            value_label="duplicates per 1,000 records"
            + (f" (partly not evaluated: {result.not_evaluated})" if result.not_evaluated else ""),
            by_record=check_id in by_record,
        )
        work.add_outcome(outcome)
        dups = result.duplicates
        work.run("quality/work/dup_found_clear.sql")
        if len(dups):
            found = pa.table(
                {
                    "record_id": pa.array(dups["record_id"].astype(str).tolist(), pa.string()),
                    "detail": pa.array(dups["detail"].fillna("").astype(str).tolist(), pa.string()),
                    "related_id": pa.array(dups["related_id"].astype(str).tolist(), pa.string()),
                }
            )
            with wh.connect() as conn:
                wh.insert_arrow(conn, "quality.work_dup_found", found)
        work.run(
            "quality/work/dup_outcome.sql", outcome=outcome.index, batch=table, by_record=outcome.by_record
        )
        outcomes.append(outcome)
    return outcomes, results, tables


def _freshness_rows(
    wh: Warehouse,
    cfg: QualityConfig,
    as_of: datetime,
    run_id: str,
    now: datetime | None,
    avail: Availability | None = None,
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """check_result rows (scope object) and exception rows for source freshness."""
    import pandas as pd

    check = cfg.checks["source_freshness"]
    fresh = cfg.section("freshness")
    clock = fresh.get("clock", "source")
    if clock not in ("source", "wall"):
        raise QualityError(f"quality.yaml freshness.clock must be 'source' or 'wall', not {clock!r}")
    loads = (
        _db.fetch_df(wh, "quality/source_freshness.sql")
        if wh.table_exists("ops.load_audit")
        else pd.DataFrame(columns=["object", "last_until", "last_finished_at"])
    )
    last = {r.object: r for r in loads.itertuples()}
    ref = as_of if clock == "source" else (now or datetime.now(UTC).replace(tzinfo=None))
    results, exceptions = [], []
    for name in object_manifest():
        if avail is not None and avail.rows.get(name, 0) == 0 and name in last:
            # loaded, but the source has no such records (not in the export): nothing to be fresh
            continue
        window = freshness_window_hours(cfg, name)
        row = last.get(name)
        stamp = None if row is None else (row.last_until if clock == "source" else row.last_finished_at)
        if stamp is None or pd.isna(stamp):
            lag, failed, detail = None, True, "never loaded successfully"
        else:
            lag = (ref - pd.Timestamp(stamp).to_pydatetime()).total_seconds() / 3600.0
            failed = lag > window
            detail = f"{lag:.1f}h since last successful load > window {window:g}h" if failed else ""
        results.append(
            _result_row(
                run_id,
                as_of,
                check,
                "LoadAudit",
                "object",
                name,
                1,
                int(failed),
                lag,
                f"hours behind ({clock} clock)",
            )
        )
        if failed:
            exceptions.append(
                {
                    "check_id": check.id,
                    "object": "LoadAudit",
                    "record_id": name,
                    "detail": detail,
                    "related_id": None,
                    "owner_id": None,
                    "manager_id": None,
                    "team": None,
                    "region": None,
                    "segment": None,
                }
            )
    n_failed = sum(r["failed"] for r in results)
    results.insert(
        0, _result_row(run_id, as_of, check, "LoadAudit", "all", "all", len(results), n_failed, None, None)
    )
    return results, exceptions


def _reconciliation_rows(
    wh: Warehouse, cfg: QualityConfig, as_of: datetime, run_id: str
) -> list[dict[str, Any]]:
    check = cfg.checks["reconciliation_variance"]
    rec = cfg.section("reconciliation")
    threshold = float(rec.get("variance_threshold_pct", 2.0))
    min_amount = float(rec.get("min_closed_won_amount", 1))
    df = _db.fetch_df(wh, "quality/reconciliation.sql", **policy_context(cfg))
    rows = []
    skipped: list[str] = []
    below: list[str] = []  # quarters under min_closed_won_amount: left out by policy
    for r in df.itertuples():
        unconverted = int(r.crm_unconverted) + int(r.booked_unconverted)
        if unconverted:
            # a period's totals without a deal or booking whose currency has no rate would be a
            # wrong variance: the period is not evaluated, with the count and a reason
            why = (
                f"{int(r.crm_unconverted)} closed-won deal(s) and {int(r.booked_unconverted)} booking(s) "
                f"have no conversion rate to the corporate currency, e.g. {r.unconverted_reason}"
            )
            row = _result_row(
                run_id, as_of, check, "FinanceBooking", "period", r.period, 0, 0, None, None, 1, why
            )
            row.update(passed=None, status="not_evaluated")
            rows.append(row)
            skipped.append(f"{r.period}: {why}")
            continue
        crm = float(r.crm_amount)
        if crm < min_amount:
            # left out by policy, but never silently: a not-evaluated row saying why, counted below
            why = (
                f"closed-won {crm:,.2f} (corporate currency) is below min_closed_won_amount "
                f"{min_amount:,.2f} (quality.yaml reconciliation); finance booked {float(r.booked_amount):,.2f}"
            )
            row = _result_row(
                run_id, as_of, check, "FinanceBooking", "period", r.period, 0, 0, None, None, 1, why
            )
            row.update(passed=None, status="not_evaluated")
            rows.append(row)
            below.append(f"{r.period} {crm:,.2f}")
            continue
        # variance_pct: the one formula (include/sql/rules.sql), null without finance bookings
        share = None if r.variance_pct is None or r.variance_pct != r.variance_pct else float(r.variance_pct)
        variance = None if share is None else abs(share) * 100.0
        rows.append(
            _result_row(
                run_id,
                as_of,
                check,
                "FinanceBooking",
                "period",
                r.period,
                1,
                int(variance is None or variance > threshold),
                variance,
                "|CRM - finance| / finance %"
                if variance is not None
                else "no finance bookings in the period",
            )
        )
    failed = sum(r["failed"] for r in rows)
    evaluated = len(rows) - len(skipped) - len(below)
    reasons = []
    if skipped:
        noun = "period" if len(skipped) == 1 else "periods"
        reasons.append(f"{len(skipped)} {noun} not evaluated: " + "; ".join(skipped))
    if below and evaluated:
        # some quarters compared: the ones under the floor are counted and named, not dropped
        noun = "quarter" if len(below) == 1 else "quarters"
        reasons.append(
            f"{len(below)} {noun} not evaluated: closed-won below min_closed_won_amount {min_amount:,.2f} "
            "(quality.yaml reconciliation), in the corporate currency: " + ", ".join(below)
        )
    if below and not evaluated:
        # nothing compared because every quarter is under the policy's floor: say so, never "passed"
        noun = "quarter" if len(below) == 1 else "quarters"
        reasons.append(
            f"no quarter reaches min_closed_won_amount {min_amount:,.2f} (quality.yaml reconciliation); "
            f"{len(below)} {noun} below it, closed-won in the corporate currency: " + ", ".join(below)
        )
    if not evaluated and not reasons:
        reasons.append("no fiscal quarter has closed-won deals or finance bookings to compare")
    reason = "; ".join(reasons) or None
    total = _result_row(
        run_id,
        as_of,
        check,
        "FinanceBooking",
        "all",
        "all",
        evaluated,
        failed,
        None,
        f"partly not evaluated: {len(skipped) + len(below)} of {len(rows)} periods"
        if evaluated and (skipped or below)
        else None,
        len(skipped) + len(below),
        reason,
    )
    if not evaluated:  # no quarter compared (unconverted, below the floor, none): never a pass
        total.update(passed=None, status="not_evaluated")
    rows.insert(0, total)
    return rows


# --------------------------------------------------------------------------------------------
# results
# --------------------------------------------------------------------------------------------


def _result_row(
    run_id: str,
    as_of: datetime,
    check: CheckSpec,
    obj: str,
    scope_type: str,
    scope_value: Any,
    evaluated: int,
    failed: int,
    value: float | None,
    label: str | None,
    not_evaluated: int | None = 0,
    reason: str | None = None,
) -> dict[str, Any]:
    rate = failed / evaluated if evaluated else None
    passed = rate is None or rate <= check.target + 1e-12
    return {
        "run_id": run_id,
        "as_of": as_of,
        "check_id": check.id,
        "object": obj,
        "scope_type": scope_type,
        "scope_value": str(scope_value),
        "evaluated": int(evaluated),
        "failed": int(failed),
        "rate": rate,
        "target": check.target,
        "severity": check.severity,
        "passed": bool(passed),
        "value": value,
        "value_label": label,
        "engine": check.engine,
        "status": "passed" if passed else "failed",
        "reason": reason,
        "not_evaluated": not_evaluated,
    }


def _scopes(scope_types: list[str]) -> list[dict[str, str]]:
    return [
        {"type": t, "column": _SCOPE_COL[t], "fill": "unassigned" if t == "owner" else "unknown"}
        for t in scope_types
    ]


def _grouped(rows: list[dict[str, Any]], scope_types: list[str]) -> list[tuple[str, str, int, int, int]]:
    """(scope type, scope value, evaluated, failed, not evaluated) from a grouping-sets result:
    scope "all" first (0/0/0 when nothing was evaluated), then each scope type's values in sorted
    order."""
    all_row = (0, 0, 0)
    by_type: dict[str, list[tuple[str, int, int, int]]] = {t: [] for t in scope_types}
    for r in rows:
        grouped = [t for t in scope_types if not r[f"g_{t}"]]
        n, bad = int(r["evaluated"] or 0), int(r["failed"] or 0)
        skipped = int(r.get("not_evaluated") or 0)
        if not grouped:
            all_row = (n, bad, skipped)
        else:
            t = grouped[0]
            by_type[t].append((str(r[f"s_{t}"]), n, bad, skipped))
    out = [("all", "all", *all_row)]
    for t in scope_types:
        out += [(t, v, n, bad, skipped) for v, n, bad, skipped in sorted(by_type[t])]
    return out


def _not_evaluated_reason(work: _Work, outcome: Outcome, skipped: int) -> str | None:
    """ "N records not evaluated: <reason> (n); ..." for an outcome with records it could not
    evaluate (three reasons shown, the rest counted)."""
    if not skipped:
        return None
    reasons = work.query("quality/work/not_evaluated_reasons.sql", outcome=outcome.index)
    shown = "; ".join(f"{r['reason']} ({int(r['records'])})" for r in reasons[:3])
    more = f"; {len(reasons) - 3} more reasons" if len(reasons) > 3 else ""
    noun = "record" if skipped == 1 else "records"
    return f"{skipped} {noun} not evaluated: {shown}{more} (quality.run_not_evaluated lists them)"


def aggregate(work: _Work, outcome: Outcome, run_id: str, as_of: datetime) -> list[dict[str, Any]]:
    """check_result rows of one outcome: scope all + each configured scope type."""
    check = outcome.check
    scope_types = list(check.scopes)
    rows = work.query("quality/work/aggregate.sql", outcome=outcome.index, scopes=_scopes(scope_types))
    out = []
    for scope_type, scope_value, n, bad, skipped in _grouped(rows, scope_types):
        if scope_type == "all":
            value = outcome.value
        else:
            value = (bad * 1000.0 / n) if outcome.value is not None and n else None
        out.append(
            _result_row(
                run_id,
                as_of,
                check,
                outcome.object,
                scope_type,
                scope_value,
                n,
                bad,
                value,
                outcome.value_label,
                skipped,
                _not_evaluated_reason(work, outcome, skipped) if scope_type == "all" else None,
            )
        )
    return out


def _scorecard(
    work: _Work,
    outcomes: list[Outcome],
    cfg: QualityConfig,
    run_id: str,
    as_of: datetime,
    na: dict[tuple[str, str], str] | None = None,
) -> pd.DataFrame:
    import operator

    import pandas as pd

    sc = cfg.section("scorecard")
    metrics = sc.get("metrics") or {}
    scopes = list(sc.get("scopes") or [])
    ops = {">=": operator.ge, ">": operator.gt, "<=": operator.le, "<": operator.lt}
    rows = []
    for metric, spec in metrics.items():
        members = [o for o in outcomes if o.check.dimension == metric]
        left_out = [
            f"{check_id}: {reason}"
            for (check_id, _obj), reason in sorted((na or {}).items())
            if check_id in cfg.checks and cfg.checks[check_id].dimension == metric
        ]
        reason = "; ".join(left_out) or None
        if not members:
            if left_out:
                rows.append(
                    {
                        "run_id": run_id,
                        "as_of": as_of,
                        "metric": metric,
                        "scope_type": "all",
                        "scope_value": "all",
                        "numerator": None,
                        "denominator": None,
                        "value": None,
                        "target": float(spec["target"]),
                        "comparator": spec["comparator"],
                        "met": None,
                        "reason": f"not evaluated - {reason}",
                    }
                )
            continue
        per_1000 = metric.startswith("duplicates_per_1000")
        if (len(members) > 1 or per_1000) and not all(o.by_record for o in members):
            # scorecard.sql reads such a metric's records from work_population only
            raise QualityError(f"scorecard metric {metric}: a member's population was not kept by record")
        params: dict[str, Any] = {}
        if per_1000:
            window = int(sc.get("new_lead_window_days", 90))
            params["created_from"] = as_of - timedelta(days=window)
        grouped = work.query(
            "quality/work/scorecard.sql",
            params,
            members=[o.index for o in members],
            scopes=_scopes(scopes),
            created_from=per_1000,
        )
        for scope_type, scope_value, n, bad, _skipped in _grouped(grouped, scopes):
            if per_1000:
                num, den = float(bad), float(n)
                value = bad * 1000.0 / n if n else None
            else:
                num, den = float(n - bad), float(n)
                value = (n - bad) / n if n else None
            met = None if value is None else bool(ops[spec["comparator"]](value, float(spec["target"])))
            rows.append(
                {
                    "run_id": run_id,
                    "as_of": as_of,
                    "metric": metric,
                    "scope_type": scope_type,
                    "scope_value": scope_value,
                    "numerator": num,
                    "denominator": den,
                    "value": value,
                    "target": float(spec["target"]),
                    "comparator": spec["comparator"],
                    "met": met,
                    "reason": ("without " + reason) if reason else None,
                }
            )
    return pd.DataFrame(rows)


# --------------------------------------------------------------------------------------------
# the run
# --------------------------------------------------------------------------------------------


def mark_not_evaluated_in_docs(index: Path, na: dict[tuple[str, str], str]) -> None:
    """List the checks the data could not support at the top of the Data Docs index, as
    "n/a - <reason>" (GX only renders the expectations that ran, so they would otherwise be
    missing without a word - and a missing check reads as a passed one)."""
    import html
    import re

    if not index.is_file() or not na:
        return
    items = "".join(
        f"<li><code>{html.escape(check)}</code> ({html.escape(obj)}): n/a &mdash; {html.escape(reason)}</li>"
        for (check, obj), reason in sorted(na.items())
    )
    block = (
        '<div id="salesops-not-evaluated" style="margin:16px;padding:12px;border:1px solid #d69e2e;'
        'background:#fffaf0"><b>Not evaluated</b> (the loaded data cannot support these checks; they '
        f"neither pass nor fail):<ul>{items}</ul></div>"
    )
    text = index.read_text(encoding="utf-8")
    text = re.sub(r'<div id="salesops-not-evaluated".*?</ul></div>', "", text, flags=re.S)
    text, n = re.subn(r"(<body[^>]*>)", lambda m: m.group(1) + block, text, count=1)
    index.write_text(text if n else block + text, encoding="utf-8")


def data_docs_dir() -> Path:
    """Where the static Data Docs site is written: ``<output_dir>/quality/data_docs``."""
    return paths.output_dir() / "quality" / "data_docs"


def ensure_quality_tables(wh: Warehouse) -> None:
    """Create the staging/ops tables (empty if nothing was loaded) and the quality tables."""
    ensure_object_tables(wh)
    wh.run_file("quality/create_tables.sql")


def _run_checks(
    work: _Work,
    cfg: QualityConfig,
    as_of_ts: datetime,
    run_id: str,
    build_docs: bool,
    now: datetime | None,
    timings: dict[str, float],
) -> tuple[str | None, list[str], dict[str, float]]:
    """Every engine's outcomes into the working tables, then the run's results set-wise."""
    import itertools

    import pandas as pd

    wh = work.wh
    counter = itertools.count()
    work.run("quality/work/create.sql")
    t = time.monotonic()
    na, avail = _not_evaluated(wh, cfg)
    timings["availability"] = time.monotonic() - t
    t = time.monotonic()
    gx_outcomes, gx_info, tables = _gx_outcomes(
        work, cfg, as_of_ts, run_id, data_docs_dir() if build_docs else None, na, avail, counter.__next__
    )
    work.batch_tables += tables
    timings["gx"] = time.monotonic() - t
    t = time.monotonic()
    sql_outcomes = _sql_outcomes(work, cfg, as_of_ts, na, counter.__next__)
    timings["sql"] = time.monotonic() - t
    t = time.monotonic()
    dup_outcomes, dup_results, views = _duplicate_outcomes(work, cfg, run_id, na, counter.__next__)
    work.batch_views += views
    timings["duplicates"] = time.monotonic() - t
    outcomes = gx_outcomes + sql_outcomes + dup_outcomes

    t = time.monotonic()
    result_rows: list[dict[str, Any]] = []
    for o in outcomes:
        result_rows.extend(aggregate(work, o, run_id, as_of_ts))
    extra_exceptions: list[dict[str, Any]] = []
    if "source_freshness" in cfg.checks:
        rows, exc = _freshness_rows(wh, cfg, as_of_ts, run_id, now, avail)
        result_rows.extend(rows)
        extra_exceptions.extend(exc)
    if "reconciliation_variance" in cfg.checks and ("reconciliation_variance", "FinanceBooking") not in na:
        result_rows.extend(_reconciliation_rows(wh, cfg, as_of_ts, run_id))
    result_rows.extend(_not_evaluated_rows(run_id, as_of_ts, cfg, na))
    results = pd.DataFrame(result_rows)
    _db.write_df(wh, "quality.check_result", results)

    work.run("quality/work/exceptions.sql", {"run_id": run_id, "as_of": as_of_ts})
    work.run("quality/work/not_evaluated.sql", {"run_id": run_id, "as_of": as_of_ts})
    if extra_exceptions:
        extra = pd.DataFrame(extra_exceptions).drop_duplicates(["check_id", "object", "record_id", "detail"])
        extra["severity"] = extra["check_id"].map({c.id: c.severity for c in cfg.checks.values()})
        extra["run_id"] = run_id
        extra["as_of"] = as_of_ts
        _db.write_df(wh, "quality.run_exception", extra)
    # the exception rows in words (field label, wrong value, expected value or rule), set-wise
    from salesops.quality.messages import message_context

    wh.run_file(
        "quality/exception_messages.sql",
        {"run_id": run_id},
        tables=_db.tables(),
        **message_context(wh, cfg, as_of_ts.date()),
    )
    checks_run = sorted(set(results["check_id"])) if len(results) else []
    if checks_run:
        work.run(
            "quality/upsert_exceptions.sql",
            {"run_id": run_id, "as_of": as_of_ts},
            checks_run=", ".join(sql_literal(c) for c in checks_run),
        )
    _db.write_df(wh, "quality.scorecard", _scorecard(work, outcomes, cfg, run_id, as_of_ts, na))
    clusters = [
        r.clusters.assign(run_id=run_id, object=get_object(r.object).api_name)
        for r in dup_results
        if len(r.clusters)
    ]
    if clusters:
        _db.write_df(wh, "quality.duplicate_cluster", pd.concat(clusters, ignore_index=True))
    timings["write"] = time.monotonic() - t
    docs = gx_info.get("data_docs_index")
    if docs:
        mark_not_evaluated_in_docs(Path(docs), na)
    return (str(docs) if docs else None), checks_run, timings


def run_quality(
    wh: Warehouse,
    *,
    run_id: str | None = None,
    as_of: datetime | str | None = None,
    config_overrides: dict[str, Any] | None = None,
    build_docs: bool = True,
    now: datetime | None = None,
) -> RunSummary:
    """Run every check in the catalogue and write the quality tables.

    Args:
        wh: the warehouse (staging loaded).
        run_id: identifies the run (the Airflow run id in the DAG); re-running it replaces its rows.
        as_of: override the data's as-of time (default: max ``until`` of loaded batches).
        config_overrides: deep-merged into quality.yaml (tests, what-if runs).
        build_docs: render GX Data Docs under :func:`data_docs_dir`.
        now: wall-clock "now" for ``freshness.clock: wall`` (default: the real clock).

    Returns:
        The run summary, including the gate verdict (the gate task enforces it).
    """
    from salesops.quality.gate import evaluate_gate
    from salesops.warehouse.duckdb_session import held

    t0 = time.monotonic()
    cfg = load_config(config_overrides)
    # One connection held for the whole run: on DuckDB every other connection of the run (the
    # set-up, the SQL files, GX's, the writes, the gate) shares its open instance instead of
    # opening the file and checkpointing it on close (about 25 ms of CPU each, ~100 of them).
    with held(wh) as conn:
        ensure_quality_tables(wh)
        as_of_ts = resolve_as_of(wh, as_of)
        # The fiscal calendar and territory tables the KPI marts join (salesops/reference.py): the
        # quality run comes before the KPI build, so it writes them itself from the same definition.
        reference.write_reference(wh, as_of_ts.date())
        run_id = run_id or f"manual__{datetime.now(UTC).strftime('%Y%m%dT%H%M%S%f')}"
        started = datetime.now(UTC).replace(tzinfo=None)
        wh.run_file("quality/clear_run.sql", {"run_id": run_id})
        wh.execute(
            "insert into quality.run (run_id, as_of, started_at, status) values (:r, :a, :s, 'running')",
            {"r": run_id, "a": as_of_ts, "s": started},
        )
        timings: dict[str, float] = {}

        work = _Work(wh, conn)
        try:
            docs, checks_run, timings = _run_checks(work, cfg, as_of_ts, run_id, build_docs, now, timings)
        finally:
            work.run("quality/work/drop.sql", batch_tables=work.batch_tables, batch_views=work.batch_views)

        gate = evaluate_gate(wh, run_id)
        wh.execute(
            "update quality.run set finished_at = :f, status = 'checked', gate_passed = :g, "
            "blockers_failed = :b, warns_failed = :w, gate_message = :m, checks_run = :c, "
            "data_docs_path = :d where run_id = :r",
            {
                "f": datetime.now(UTC).replace(tzinfo=None),
                "g": gate.passed,
                "b": len(gate.blockers),
                "w": len(gate.warns),
                "m": gate.message,
                "c": ",".join(checks_run),
                "d": str(docs) if docs else None,
                "r": run_id,
            },
        )
        open_count = wh.scalar("select count(*) from quality.exception_queue where status = 'open'")
    timings["total"] = time.monotonic() - t0
    log.info("quality run %s as of %s: %s; %d open exceptions", run_id, as_of_ts, gate.message, open_count)
    return RunSummary(
        run_id=run_id,
        as_of=as_of_ts.isoformat(),
        gate_passed=gate.passed,
        gate_message=gate.message,
        blockers_failed=gate.blockers,
        warns_failed=gate.warns,
        exceptions_open=int(open_count),
        data_docs_index=str(docs) if docs else None,
        timings=timings,
    )
