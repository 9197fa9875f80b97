"""
### kpi_transforms

Builds the KPI marts (`marts.*`) from the staging tables, once the quality gate has passed
(scheduled on the `quality.gate_passed` Asset that `crm_data_quality` emits when no blocker check
failed).

1. **prepare** resolves the *as-of* date — the data's extraction time, `max(until)` of loaded
   batches in `ops.load_audit` (never the wall clock) — and writes the seed tables from policy
   (`include/config/`: stages, fiscal calendar, slippage cutoff, at-risk rules, SLA hours...) and
   the list of daily snapshots to write.
2. **One task per model** (`include/sql/kpis/models/*.sql`), wired from the dependencies each file
   declares: intermediate `int_*` models, the daily `fct_pipeline_snapshot` (only the requested
   dates are replaced: re-running a day replaces that day), movement, and the `agg_*` marts.
   Each task updates the model's Asset (`salesops://warehouse/marts/<model>`).
3. **detect_anomalies** scores the business series of `include/config/monitoring.yaml` (pipeline
   created, open pipeline, stage conversion, win rate, lead volume, unassigned leads, routing SLA
   breaches, rows per sync, Commit per rep) against their trailing training windows, folds the
   results into `quality.anomaly` (de-duplicated, auto-resolving) and drafts/sends alerts
   (`<output_dir>/monitoring/tickets/`, Slack, e-mail) for anomalies at or above the alert severity.
4. **finish** checks every model's grain and that every metric of `include/config/metrics.yaml`
   points at an existing column, writes the HTML glossary, and emits `marts.ready`, which
   schedules the report packs.

**Params**: `as_of` (YYYY-MM-DD, optional: override the as-of date for a backfill or a test),
`backfill_from` (YYYY-MM-DD, optional: also rebuild the daily snapshots from this date up to the
as-of date from opportunity field history).

**Connections**: `salesops_warehouse` (optional; default is the DuckDB file `data/warehouse.duckdb`).
Models run one at a time by default (DuckDB has one writer); set `SALESOPS_KPI_PARALLELISM` on
Snowflake. Re-running any task is safe.
"""

from __future__ import annotations

import os
from datetime import timedelta

import pendulum
from airflow.sdk import Param, dag, get_current_context, task

from salesops.assets import KPI_MARTS_READY, QUALITY_GATE_PASSED, mart_asset
from salesops.kpis.models import discover, model_dependencies

_WAREHOUSE_CONN_ID = os.getenv("SALESOPS_WAREHOUSE_CONN_ID", "salesops_warehouse")
_PARALLELISM = int(os.getenv("SALESOPS_KPI_PARALLELISM", "1"))
# Reads only the comment headers of the project's own SQL files (no warehouse, no heavy imports).
_MODELS = discover()


@dag(
    schedule=QUALITY_GATE_PASSED,
    start_date=pendulum.datetime(2026, 1, 1, tz="UTC"),
    catchup=False,
    is_paused_upon_creation=False,  # Asset-scheduled: runs only after a load that changed something
    max_active_runs=1,
    max_active_tasks=_PARALLELISM,
    doc_md=__doc__,
    tags=["salesops", "kpis"],
    default_args={"owner": "revops-data", "retries": 1, "retry_delay": timedelta(minutes=2)},
    params={
        "as_of": Param(
            None,
            type=["null", "string"],
            format="date",
            description="As-of date override (YYYY-MM-DD); empty = the data's extraction time.",
        ),
        "backfill_from": Param(
            None,
            type=["null", "string"],
            format="date",
            description="Rebuild daily snapshots from this date (YYYY-MM-DD) from field history.",
        ),
    },
)
def kpi_transforms():
    @task
    def prepare(params: dict | None = None) -> dict:
        from salesops.kpis.tasks import prepare as run_prepare

        return run_prepare(params or {}, _WAREHOUSE_CONN_ID)

    def model_task(name: str):
        asset = mart_asset(f"marts.{name}")

        @task(task_id=name, outlets=[asset])
        def build(outlet_events=None) -> dict:
            from salesops.kpis.tasks import build_model

            result = build_model(name, _WAREHOUSE_CONN_ID)
            outlet_events[asset].extra = result
            return result

        return build()

    @task
    def detect_anomalies() -> dict:
        from salesops.monitoring.tasks import detect_anomalies as detect

        return detect(get_current_context()["run_id"], _WAREHOUSE_CONN_ID)

    @task(outlets=[KPI_MARTS_READY])
    def finish() -> dict:
        from salesops.kpis.tasks import finish as run_finish

        return run_finish(_WAREHOUSE_CONN_ID)

    start = prepare()
    monitored = detect_anomalies()
    done = finish()
    monitored >> done
    tasks = {m.name: model_task(m.name) for m in _MODELS}
    for model in _MODELS:
        upstream = [tasks[d] for d in model_dependencies(model.name)]
        for up in upstream or [start]:
            up >> tasks[model.name]
        tasks[model.name] >> monitored


kpi_transforms()
