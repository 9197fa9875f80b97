"""
### kpi_transforms

Builds the KPI marts (`marts.*`) from the staging tables, once the quality gate has passed
(scheduled on the `quality.gate_passed` Asset that `crm_data_quality` emits when no blocker check
failed).

1. **prepare** resolves the *as-of* date — the data's extraction time, `max(until)` of loaded
   batches in `ops.load_audit` (never the wall clock) — and writes the seed tables from policy
   (`include/config/`: stages, fiscal calendar, slippage cutoff, at-risk rules, SLA hours...) and
   the list of daily snapshots to write.
2. **One task per layer** of models (`include/sql/kpis/models/*.sql`), each building its models in
   the dependency order their files declare: `intermediate_models` (`dim_*`, `int_*`),
   `fact_models` (`fct_*`: the daily `fct_pipeline_snapshot` replaces only the requested dates,
   so re-running a day replaces that day; movement, open-opportunity risk, speed to lead) and
   `aggregate_models` (the `agg_*` marts). Each task updates the Asset of every model it builds
   (`salesops://warehouse/marts/<model>`, rows and seconds in the event's extra) and logs each
   model's rows and seconds. (A task per model cost more in Airflow's own per-task work than
   most models take to build.)
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
Snowflake to build that many models of a layer at once. Re-running any task is safe.
"""

from __future__ import annotations

import os
from datetime import timedelta

import pendulum
from airflow.sdk import Param, dag, get_current_context, task

from salesops.assets import KPI_MARTS_READY, QUALITY_GATE_PASSED, mart_asset
from salesops.kpis.models import build_groups

_WAREHOUSE_CONN_ID = os.getenv("SALESOPS_WAREHOUSE_CONN_ID", "salesops_warehouse")
_PARALLELISM = int(os.getenv("SALESOPS_KPI_PARALLELISM", "1"))
# Reads only the comment headers of the project's own SQL files (no warehouse, no heavy imports).
_BUILD_GROUPS = build_groups()


@dag(
    schedule=QUALITY_GATE_PASSED,
    start_date=pendulum.datetime(2026, 1, 1, tz="UTC"),
    catchup=False,
    is_paused_upon_creation=False,  # Asset-scheduled: runs only after a load that changed something
    max_active_runs=1,
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

    def build_task(task_id: str, names: tuple[str, ...]):
        assets = [mart_asset(f"marts.{name}") for name in names]

        @task(task_id=task_id, outlets=assets, doc_md="Builds " + ", ".join(f"`{n}`" for n in names))
        def build(outlet_events=None) -> dict:
            from salesops.kpis.tasks import build_models

            result = build_models(names, _WAREHOUSE_CONN_ID, _PARALLELISM)
            for name, asset in zip(names, assets, strict=True):
                outlet_events[asset].extra = result[name]
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

    upstream = prepare()
    for task_id, names in _BUILD_GROUPS:
        built = build_task(task_id, names)
        upstream >> built
        upstream = built
    upstream >> detect_anomalies() >> finish()


kpi_transforms()
