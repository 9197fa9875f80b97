"""Build the KPI marts: seeds from config, then every model in dependency order.

Usage::

    from salesops.kpis.runner import build
    result = build(Warehouse(), as_of=None, backfill_from=None)

"As of" is the data's extraction time (``max(until)`` of loaded batches in ops.load_audit),
never the wall clock; ``as_of`` overrides it for tests and backfills. Every step is idempotent:
seeds and table models are replaced, the snapshot model replaces only the requested dates.
"""

from __future__ import annotations

import logging
import time
from dataclasses import asdict, dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from salesops import reference, sql
from salesops.config import object_manifest
from salesops.kpis import history
from salesops.kpis.fiscal import fiscal_day, quarter_after
from salesops.kpis.history import HistoryCoverage
from salesops.kpis.models import SEEDS, Model, discover, get_model
from salesops.kpis.policy import KpiPolicy, load_policy
from salesops.warehouse.core import Warehouse, WarehouseError, check_identifier
from salesops.warehouse.schema import ensure_object_tables

log = logging.getLogger(__name__)

SNAPSHOT_MODEL = "fct_pipeline_snapshot"


class KpiBuildError(RuntimeError):
    """The KPI build cannot run (no as-of date, bad parameters) or a model failed."""


@dataclass(frozen=True)
class AsOf:
    """The build's as-of: a date for period logic and a timestamp for hour-level SLAs."""

    as_of_date: date
    as_of_ts: datetime
    source: str  # load_audit | override
    extracted_at: datetime | None


@dataclass
class BuildResult:
    """What a build did; JSON-serialisable for XCom and logs."""

    as_of_date: str
    as_of_source: str
    snapshot_dates: list[str]
    models: dict[str, float] = field(default_factory=dict)  # model -> seconds

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def _to_date(value: date | datetime | str | None, what: str) -> date | None:
    try:
        return reference.to_date(value)
    except ValueError as exc:
        raise KpiBuildError(f"{what}: expected a date YYYY-MM-DD, got {value!r}") from exc


def extracted_at(wh: Warehouse) -> datetime | None:
    """The source clock at the latest successful load (naive UTC), or None before any load."""
    from salesops.as_of import data_as_of, naive_utc

    return naive_utc(data_as_of(wh))


def resolve_as_of(wh: Warehouse, as_of: date | datetime | str | None = None) -> AsOf:
    """The as-of of a build: the override if given, else the data's extraction time.

    Raises:
        KpiBuildError: no override and no loaded batch in ops.load_audit.
    """
    extracted = extracted_at(wh)
    override = _to_date(as_of, "as_of")
    if override is not None:
        # An explicit date means "the state at the end of that day".
        ts = datetime.combine(override + timedelta(days=1), datetime.min.time())
        if extracted is not None and extracted.date() == override:
            ts = extracted
        return AsOf(override, ts, "override", extracted)
    if extracted is None:
        raise KpiBuildError(
            "no as-of date: ops.load_audit has no batch with status 'loaded'; load data first or pass as_of"
        )
    return AsOf(extracted.date(), extracted, "load_audit", extracted)


def snapshot_requests(
    wh: Warehouse,
    as_of: AsOf,
    pol: KpiPolicy,
    backfill_from: date | None,
    coverage: HistoryCoverage | None = None,
) -> list[dict[str, Any]]:
    """Which snapshot dates this build writes and how.

    The as-of date is always (re)built: from staging as extracted when it is the extraction day
    (``live``), else rebuilt from field history. Backfill dates and the start dates of the
    movement comparisons that have no snapshot yet are rebuilt from field history - but only on
    days the history covers (``coverage``): a day before it would be today's state copied back.
    """
    live_day = as_of.extracted_at.date() if as_of.extracted_at else None
    wanted: dict[date, str] = {}
    if backfill_from is not None:
        if backfill_from > as_of.as_of_date:
            raise KpiBuildError(f"backfill_from {backfill_from} is after the as-of date {as_of.as_of_date}")
        d = backfill_from
        while d < as_of.as_of_date:
            wanted[d] = "history"
            d += timedelta(days=1)
    existing: set[date] = set()
    if wh.table_exists(f"marts.{SNAPSHOT_MODEL}"):
        rows = wh.query(sql.render("kpis/seeds/existing_snapshot_dates.sql", dialect=wh.dialect))
        existing = {_to_date(r["snapshot_date"], "snapshot_date") for r in rows}
    for comp in comparison_rows(as_of.as_of_date, pol):
        if comp["start_date"] not in existing:
            wanted.setdefault(comp["start_date"], "history")
    if coverage is not None:
        wanted = {d: s for d, s in wanted.items() if coverage.covers(d)}
    wanted[as_of.as_of_date] = "live" if live_day is not None and as_of.as_of_date >= live_day else "history"
    return [{"snapshot_date": d, "snapshot_source": s} for d, s in sorted(wanted.items())]


def comparison_rows(
    as_of_date: date, pol: KpiPolicy, coverage: HistoryCoverage | None = None
) -> list[dict[str, Any]]:
    """Rows of ``marts.kpi_movement_comparison``: each comparison ends on the as-of date, and its
    pipeline window is the fiscal quarter that contains the end date. A comparison whose start
    day the history does not cover is ``is_available`` false with the reason (movement models
    leave it out; packs say "not available")."""
    end = fiscal_day(as_of_date, pol.fiscal_year_start_month)
    rows = []
    for c in pol.comparisons:
        start = (
            end.fiscal_quarter_start - timedelta(days=1)
            if c.from_quarter_start
            else as_of_date - timedelta(days=c.days_back or 0)
        )
        reason = coverage.comparison_reason(c.label, start) if coverage is not None else None
        rows.append(
            {
                "comparison_label": c.label,
                "start_date": start,
                "end_date": as_of_date,
                "window_label": end.fiscal_quarter_label,
                "window_start": end.fiscal_quarter_start,
                "window_end": end.fiscal_quarter_end,
                "history_start": coverage.history_start if coverage else None,
                "is_available": reason is None,
                "unavailable_reason": reason,
            }
        )
    return rows


def context_row(as_of: AsOf, pol: KpiPolicy, coverage: HistoryCoverage | None = None) -> dict[str, Any]:
    """The one row of ``marts.kpi_context``."""
    cur = fiscal_day(as_of.as_of_date, pol.fiscal_year_start_month)
    nxt = quarter_after(cur, pol.fiscal_year_start_month)
    return {
        "as_of_date": as_of.as_of_date,
        "as_of_ts": as_of.as_of_ts,
        "as_of_source": as_of.source,
        "extracted_at": as_of.extracted_at,
        "fiscal_year_start_month": pol.fiscal_year_start_month,
        "current_fiscal_quarter_index": cur.fiscal_quarter_index,
        "current_fiscal_quarter_label": cur.fiscal_quarter_label,
        "current_fiscal_quarter_start": cur.fiscal_quarter_start,
        "current_fiscal_quarter_end": cur.fiscal_quarter_end,
        "next_fiscal_quarter_index": nxt.fiscal_quarter_index,
        "next_fiscal_quarter_label": nxt.fiscal_quarter_label,
        "next_fiscal_quarter_start": nxt.fiscal_quarter_start,
        "next_fiscal_quarter_end": nxt.fiscal_quarter_end,
        "slippage_cutoff_day": pol.slippage_cutoff_day,
        "stale_days": pol.stale_days,
        "past_due_grace_days": pol.past_due_grace_days,
        "at_risk_past_close_date": pol.at_risk_past_close_date,
        "at_risk_min_pushes": pol.at_risk_min_pushes,
        "at_risk_inactive_days": pol.at_risk_inactive_days,
        "at_risk_large_min_amount": pol.at_risk_large_min_amount,
        "at_risk_large_max_stage_order": pol.at_risk_large_max_stage_order,
        "at_risk_large_days_to_quarter_end": pol.at_risk_large_days_to_quarter_end,
        "coverage_target_ratio": pol.coverage_target_ratio,
        "corporate_currency": pol.corporate_currency,
        "history_start": coverage.history_start if coverage else as_of.as_of_date,
        "field_history_start": coverage.field_history_start if coverage else None,
    }


def load_seeds(
    wh: Warehouse,
    as_of: date | datetime | str | None = None,
    backfill_from: date | datetime | str | None = None,
    pol: KpiPolicy | None = None,
) -> tuple[AsOf, list[dict[str, Any]]]:
    """Write the seed tables (policy + as-of context + snapshot requests) in one transaction.

    Returns:
        The resolved as-of and the snapshot requests this build will write.
    """
    pol = pol or load_policy()
    clear_ready(wh)
    existing = {
        r["qualified"]
        for r in wh.query(
            sql.render("kpis/seeds/existing_tables.sql", dialect=wh.dialect, schema_names=wh.schema_names)
        )
    }
    if not {o.staging_table for o in object_manifest().values()} | {"ops.load_audit"} <= existing:
        # Models read every staging table: an empty warehouse gives empty marts, not an error.
        wh.ensure_schemas()
        ensure_object_tables(wh)
    resolved = resolve_as_of(wh, as_of)
    coverage = history.measure(wh, resolved.as_of_date)
    requests = snapshot_requests(wh, resolved, pol, _to_date(backfill_from, "backfill_from"), coverage)
    stage_rows = [
        {
            "stage_name": s["name"],
            "stage_order": int(s["order"]),
            "default_probability": float(s["probability"]),
            "is_closed": bool(s["is_closed"]),
            "is_won": bool(s["is_won"]),
            "default_forecast_category": s["forecast_categories"][0],
        }
        for s in pol.stages
    ]
    from salesops.kpis.policy import snake

    seeds: dict[str, list[dict[str, Any]]] = {
        "kpi_context": [context_row(resolved, pol, coverage)],
        "kpi_policy_list": pol.policy_lists(),
        "kpi_movement_comparison": comparison_rows(resolved.as_of_date, pol, coverage),
        "kpi_snapshot_request": requests,
        "dim_stage": stage_rows,
        "dim_stage_required_field": [
            {"stage_name": s["name"], "field_api_name": f} for s in pol.stages for f in s["required_fields"]
        ],
        "dim_forecast_category": [
            {"forecast_category": c, "rollup_order": i + 1, "column_stem": snake(c)}
            for i, c in enumerate(pol.forecast_categories)
        ],
        # the fiscal calendar and territory tables, shared with the quality run (one definition)
        **reference.reference_rows(wh, resolved.as_of_date),
    }
    assert set(seeds) == set(SEEDS), "seed list and models.SEEDS disagree"
    import sqlalchemy as sa

    from salesops.warehouse.core import split_statements

    script = sql.render("kpis/seeds/create_seeds.sql", dialect=wh.dialect)
    with wh.connect() as conn:
        for stmt in split_statements(script):
            conn.execute(sa.text(stmt))
        for table, rows in seeds.items():
            reference.insert_rows(wh, conn, table, rows)
    log.info(
        "KPI seeds written: as-of %s (%s), %d snapshot date(s)",
        resolved.as_of_date,
        resolved.source,
        len(requests),
    )
    return resolved, requests


def render_model(
    model: Model, dialect: str, pol: KpiPolicy | None = None, quality_scorecard: bool = False
) -> list[str]:
    """The SQL scripts that (re)build ``model`` (its materialization wrapped around its select),
    each to run in its own transaction, in order.

    A snapshot model is two: creating its table when missing (committed on its own), then the
    delete + insert of the requested dates. In one transaction, DuckDB 2.0 hides the inserted rows
    from filtered scans (``where snapshot_date = ...``) of the same database instance until it is
    re-opened when the table was created empty (``create table ... as ... where 1 = 0``) in that
    transaction: on a first build in one instance (``build``, a build task of the DAG),
    fct_pipeline_movement then found no snapshot rows and was empty.

    Args:
        quality_scorecard: whether quality.scorecard exists (the quality job has run): models
            left-join its results when it does and show nulls when it does not.
    """
    pol = pol or load_policy()
    wrappers = (
        ["kpis/materialize_snapshot_table.sql", "kpis/materialize_snapshot.sql"]
        if model.materialized == "snapshot"
        else ["kpis/materialize_table.sql"]
    )
    return [
        sql.render(wrapper, model=model, dialect=dialect, quality_scorecard=quality_scorecard, **pol.jinja())
        for wrapper in wrappers
    ]


def run_model(wh: Warehouse, name: str, pol: KpiPolicy | None = None) -> float:
    """Build one model (its dependencies must be built). Returns the seconds it took.

    Raises:
        KpiBuildError: naming the model, with the database error.
    """
    model = get_model(name)
    scripts = render_model(model, wh.dialect, pol, quality_scorecard=wh.table_exists("quality.scorecard"))
    started = time.perf_counter()
    try:
        for script in scripts:
            wh.execute_script(script)
    except Exception as exc:
        raise KpiBuildError(f"KPI model {name} ({model.path.name}) failed: {exc}") from exc
    seconds = time.perf_counter() - started
    log.info("built marts.%s in %.2f s", name, seconds)
    return seconds


def build(
    wh: Warehouse,
    as_of: date | datetime | str | None = None,
    backfill_from: date | datetime | str | None = None,
    select: list[str] | None = None,
) -> BuildResult:
    """Seeds, then every model (or only ``select`` and what they depend on) in dependency order.

    Args:
        wh: the warehouse (staging must be loaded; empty staging gives empty marts).
        as_of: override of the as-of date (default: the data's extraction time).
        backfill_from: also rebuild the daily snapshots from this date up to the as-of date
            from field history.
        select: model names to build (with their upstream models); default all.
    """
    from salesops.warehouse.duckdb_session import held

    # one DuckDB instance for the whole build (opened once, bounded memory_limit): each model's
    # own connection shares it instead of re-opening and checkpointing the file per model
    with held(wh):
        return _build(wh, as_of, backfill_from, select)


def _build(
    wh: Warehouse,
    as_of: date | datetime | str | None,
    backfill_from: date | datetime | str | None,
    select: list[str] | None,
) -> BuildResult:
    pol = load_policy()
    resolved, requests = load_seeds(wh, as_of, backfill_from, pol)
    models = discover()
    if select:
        wanted: set[str] = set()
        by_name = {m.name: m for m in models}

        def add(name: str) -> None:
            if name not in by_name:
                raise KpiBuildError(f"unknown KPI model {name!r}")
            if name not in wanted:
                wanted.add(name)
                for dep in by_name[name].depends_on:
                    if dep in by_name:
                        add(dep)

        for name in select:
            add(name)
        models = tuple(m for m in models if m.name in wanted)
    result = BuildResult(
        resolved.as_of_date.isoformat(), resolved.source, [r["snapshot_date"].isoformat() for r in requests]
    )
    result.models.update(run_models(wh, [m.name for m in models], pol))
    if not select:
        mark_ready(wh)
    return result


def run_models(
    wh: Warehouse, names: list[str] | tuple[str, ...], pol: KpiPolicy | None = None, parallelism: int = 1
) -> dict[str, float]:
    """Build ``names`` (in dependency order; models they depend on outside ``names`` must be built)
    and stop on an unconverted quota or finance booking (:func:`stop_on_unconverted`).

    Args:
        parallelism: models built at once (threads, each model on its own connection), a model
            starting when the models it depends on among ``names`` are built. Only for warehouses
            with concurrent writers (Snowflake); DuckDB builds one at a time.

    Returns:
        Seconds per model, rounded to the millisecond, in build order.

    Raises:
        KpiBuildError: the first model that failed (the others started are finished first).
    """
    pol = pol or load_policy()
    names = list(names)

    def one(name: str) -> float:
        seconds = round(run_model(wh, name, pol), 3)
        if name in _STOP_ON_UNCONVERTED:
            stop_on_unconverted(wh, name)
        return seconds

    if parallelism <= 1 or wh.dialect == "duckdb" or len(names) <= 1:
        return {name: one(name) for name in names}
    from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait

    wanted = set(names)
    needs = {n: {d for d in get_model(n).depends_on if d in wanted} for n in names}
    done: dict[str, float] = {}
    running: dict[Future[float], str] = {}
    with ThreadPoolExecutor(max_workers=parallelism) as pool:
        while len(done) < len(names):
            started = set(running.values()) | set(done)
            for n in names:
                if n not in started and needs[n] <= set(done) and len(running) < parallelism:
                    running[pool.submit(one, n)] = n
            finished, _ = wait(list(running), return_when=FIRST_COMPLETED)
            for future in finished:
                name = running.pop(future)
                try:
                    done[name] = future.result()
                except Exception:
                    wait(list(running))
                    raise
    return {n: done[n] for n in names}


# Quotas and finance bookings have no "leave it out" path: coverage against a quota without its
# amount, or a reconciliation without a booking, would publish a wrong number. The build stops.
_STOP_ON_UNCONVERTED = {"int_booking_currency": "Amount", "int_quota_currency": "QuotaAmount"}


def stop_on_unconverted(wh: Warehouse, model: str) -> None:
    """Stop the build when a quota or finance booking (``model``: int_quota_currency or
    int_booking_currency) has an amount in a currency without a conversion rate.

    Raises:
        KpiBuildError: naming each record (object, id), the field (by the export's column name
            when it has one) and its value, the amount, why no rate applies, and the source, load
            batch and - for a CSV export - the file and line the record came from.
    """
    rows = wh.query(sql.render("kpis/unconverted_amounts.sql", currency_model=model))
    if not rows:
        return
    amount_field = _STOP_ON_UNCONVERTED[model]
    shown = "; ".join(
        f"{r['object']} {r['record_id']} (source {r['source'] or '?'}"
        + (f", file {r['origin']}" if r["origin"] else "")
        + f", load batch {r['batch_id']}): field "
        + (f"{r['currency_label']!r} (CurrencyIsoCode)" if r["currency_label"] else "CurrencyIsoCode")
        + f" = {r['currency']!r} ({amount_field} {r['amount']}): {r['reason']}"
        for r in rows[:10]
    )
    more = f" (and {len(rows) - 10} more)" if len(rows) > 10 else ""
    raise KpiBuildError(
        f"{len(rows)} {rows[0]['object']} record(s) have a currency without a conversion rate to the "
        f"corporate currency: {shown}{more}. Expected a currency with a CurrencyType (or dated) rate: "
        "load the rates (CurrencyType / DatedConversionRate, or the portal's exchange rates) or correct "
        "the record's currency. The build stopped before marking the marts ready."
    )


def clear_ready(wh: Warehouse) -> None:
    """Withdraw ``marts.kpi_ready`` at the start of a build (readers must not see a half-built set)."""
    wh.run_file("kpis/ready_clear.sql")


def mark_ready(wh: Warehouse) -> None:
    """Record that every mart is built for the as-of date in ``marts.kpi_context``."""
    wh.run_file("kpis/ready_mark.sql")


def ready_as_of(wh: Warehouse) -> str | None:
    """The as-of date of the last complete build, or None while a build runs (or none finished)."""
    if not wh.table_exists("marts.kpi_ready"):
        return None
    value = wh.scalar("select as_of_date from marts.kpi_ready")
    return None if value is None else str(value)[:10]


def check_grain(wh: Warehouse, name: str) -> dict[str, int]:
    """Count rows whose grain columns are null or duplicated (both must be 0).

    Returns:
        ``{"rows": n, "null_keys": n, "duplicate_keys": n}``.
    """
    model = get_model(name)
    cols = [check_identifier(c) for c in model.grain]
    counts: dict[str, int] = {}
    # a multi-column grain is grouped by one hash of its columns first (about half the work on the
    # 5 M field intervals); only when that finds a duplicate (maybe a collision) by the columns
    for by_hash in (True, False) if len(cols) > 1 else (False,):
        query = sql.render("kpis/check_grain.sql", table=model.table, columns=cols, by_hash=by_hash)
        row = wh.query(query)[0]
        counts = {k: int(v or 0) for k, v in row.items()}
        if not counts["duplicate_keys"]:
            break
    return counts


def validate_build(wh: Warehouse) -> list[str]:
    """Problems with the built marts: a missing table or a grain violation. Empty = fine."""
    problems = []
    for model in discover():
        if not wh.table_exists(model.table):
            problems.append(f"{model.table} does not exist")
            continue
        counts = check_grain(wh, model.name)
        if counts["null_keys"] or counts["duplicate_keys"]:
            problems.append(
                f"{model.table}: grain ({', '.join(model.grain)}) has {counts['null_keys']} null and "
                f"{counts['duplicate_keys']} duplicate key(s) in {counts['rows']} rows"
            )
    return problems


__all__ = [
    "AsOf",
    "BuildResult",
    "KpiBuildError",
    "WarehouseError",
    "build",
    "check_grain",
    "load_seeds",
    "resolve_as_of",
    "run_model",
    "run_models",
    "validate_build",
]
