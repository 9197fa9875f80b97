"""
### crm_data_quality

Checks the CRM data in the warehouse against policy after every load, and gates publishing.

Scheduled on the staging Assets (all `staging.stg_*` tables, emitted by `crm_extract_load`).

1. **run_checks** runs the check catalogue (`include/config/quality.yaml`; rules from
   `stages.yaml`, `hygiene.yaml`, `territories.yaml`): Great Expectations suites generated from the
   policy, SQL checks (`include/sql/quality/checks/`), duplicate matching (rapidfuzz), source
   freshness and closed-won vs bookings reconciliation. Writes `quality.check_result`,
   `quality.run_exception`, `quality.exception_queue` (open/resolved, first/last seen),
   `quality.scorecard`, `quality.duplicate_cluster`, and renders GX Data Docs to
   `<output_dir>/quality/data_docs/index.html`.
2. **draft_tickets** writes Markdown ticket drafts for systemic failures to
   `<output_dir>/quality/tickets/<run_id>/` and `quality.ticket`.
3. **gate** fails (no retry) when a blocker check failed, naming the check, the count and sample
   record ids; on pass it emits `quality.gate_passed`, which the KPI and pack DAGs schedule on.
   Warn-level failures are logged and stay visible in the tables.

**Params**: `as_of` (override the data's as-of time, ISO; default = latest successful extract),
`build_docs` (render Data Docs).

**Connections**: `salesops_warehouse` (optional; default DuckDB file `data/warehouse.duckdb`).
Re-running a run replaces its results; the exception queue is folded idempotently.
"""

from __future__ import annotations

import os
from datetime import timedelta

import pendulum
from airflow.sdk import Param, dag, get_current_context, task

from salesops.assets import QUALITY_GATE_PASSED, all_staging_assets

_WAREHOUSE_CONN_ID = os.getenv("SALESOPS_WAREHOUSE_CONN_ID", "salesops_warehouse")


@dag(
    # a list of Assets = run when every staging table has been updated since the last run
    schedule=all_staging_assets(),
    start_date=pendulum.datetime(2026, 1, 1, tz="UTC"),
    catchup=False,
    is_paused_upon_creation=False,  # Asset-scheduled: runs only after a load that changed something
    max_active_runs=1,
    doc_md=__doc__,
    tags=["salesops", "quality"],
    default_args={"owner": "revops-data", "retries": 1, "retry_delay": timedelta(minutes=2)},
    params={
        "as_of": Param(
            None, type=["null", "string"], description="Override the data's as-of time (ISO 8601)."
        ),
        "build_docs": Param(True, type="boolean", description="Render Great Expectations Data Docs."),
    },
)
def crm_data_quality():
    @task
    def run_checks(params: dict | None = None) -> dict:
        from salesops.quality.tasks import run_checks as run

        return run(get_current_context()["run_id"], params or {}, _WAREHOUSE_CONN_ID)

    @task
    def draft_tickets(summary: dict) -> list[str]:
        from salesops.quality.tasks import draft_tickets as draft

        return draft(summary["run_id"], _WAREHOUSE_CONN_ID)

    @task(outlets=[QUALITY_GATE_PASSED], retries=0)
    def gate(summary: dict, tickets: list[str]) -> dict:
        from salesops.quality.tasks import gate as enforce

        return enforce(summary["run_id"], _WAREHOUSE_CONN_ID)

    summary = run_checks()
    gate(summary, draft_tickets(summary))


crm_data_quality()
