"""
### report_packs

Renders the report packs of `include/config/packs.yaml` (weekly pipeline inspection, forecast
hygiene, data-quality scorecard, lead routing SLA, month/quarter-end) from the KPI marts and the
quality results, checks them and delivers them - or holds them.

Runs when the KPI marts are rebuilt (Asset `marts.ready` from `kpi_transforms`) and every Monday
07:00 UTC (whichever comes first; a pack already sent for its period is not sent twice). Unpaused
on creation, no catch-up: unpausing starts at most the latest Monday run, and a run before the
first KPI build skips (nothing to report) instead of failing.

1. **gate** - the latest quality run for the data's as-of time (`max(until)` of loaded batches in
   `ops.load_audit`) must have no failed blocker check. A failed gate does not fail the run: every
   pack is held.
2. **plan** - the packs due for the as-of date (each pack's `schedule`) or the ones asked for, times
   every audience scope value (company, each region, each team...).
3. **render** (one mapped task per pack x scope) - HTML email body with inline CSS, PDF (WeasyPrint),
   XLSX (summary + data sheets) and CSV, every dataset filtered to the recipient's scope; charts
   embedded, every number footnoted with its metrics.yaml definition and the data's as-of time.
4. **check** - the pack's totals read back from its XLSX equal the warehouse totals, sections are
   non-empty where the scope has data, the data is fresh.
5. **deliver** - file drop (`out/packs/<pack>/<period>/<scope>/` or `SALESOPS_PACKS_BASE_URL` via
   ObjectStoragePath), email (SMTP connection), Slack summary + link (skipped with a logged reason
   without a Slack connection) - or **hold**: files to `out/packs/held/...`, reasons to
   `ops.pack_hold`, a hold notice to the RevOps team. Every attempt goes to `ops.pack_delivery_log`.
6. **summarize** - counts and the on-time-delivery KPI per pack and period.

**Params**: `packs` (list; empty = those due), `scope` (empty = all audiences, `region`, `region:EMEA`,
`team:EMEA-MM`, `all`), `as_of` (YYYY-MM-DD; must be the date the marts are built for), `deliver`
(false = dry run: render, check and log, send nothing), `channels` (subset of email/slack/file).

**Connections**: `salesops_warehouse` (optional), `smtp_default` (`SALESOPS_SMTP_CONN_ID`),
`slack_default` (`SALESOPS_SLACK_CONN_ID`, optional, Slack incoming webhook).
"""

from __future__ import annotations

import os
from datetime import timedelta

import pendulum
from airflow.sdk import AssetOrTimeSchedule, CronTriggerTimetable, Param, dag, get_current_context, task

from salesops.assets import KPI_MARTS_READY

_WAREHOUSE_CONN_ID = os.getenv("SALESOPS_WAREHOUSE_CONN_ID", "salesops_warehouse")
# DuckDB has one writer: render/deliver one slice at a time unless the warehouse is Snowflake.
_PARALLELISM = int(os.getenv("SALESOPS_PACK_PARALLELISM", "1"))
# The weekly time trigger (besides marts.ready); "none" = only when the marts are rebuilt.
_CRON = os.getenv("SALESOPS_PACKS_SCHEDULE", "0 7 * * 1")
# Kept in step with packs.yaml (the plan task validates against the file; no I/O at parse time).
_PACKS = ["weekly_pipeline_inspection", "forecast_hygiene", "dq_scorecard", "routing_sla", "quarter_end"]


def _label(job: dict) -> str:
    """A mapped slice's label in the grid: pack and scope."""
    return f"{job.get('pack')} {job.get('scope_type')}={job.get('scope_value')}"


@dag(
    schedule=KPI_MARTS_READY
    if _CRON.strip().lower() in ("", "none")
    else AssetOrTimeSchedule(timetable=CronTriggerTimetable(_CRON, timezone="UTC"), assets=KPI_MARTS_READY),
    start_date=pendulum.datetime(2026, 1, 1, tz="UTC"),
    catchup=False,
    is_paused_upon_creation=False,  # downstream of the Assets: runs only when there is something new
    max_active_runs=1,
    max_active_tasks=_PARALLELISM,
    doc_md=__doc__,
    tags=["salesops", "packs", "reporting"],
    default_args={"owner": "revops-data", "retries": 1, "retry_delay": timedelta(minutes=2)},
    params={
        "packs": Param(
            [],
            type="array",
            items={"type": "string", "enum": _PACKS},
            description="Packs to render; empty = the packs due for the data's as-of date.",
        ),
        "scope": Param(
            None,
            type=["null", "string"],
            description="empty = every audience; 'region' / 'team' one audience; 'region:EMEA' one slice.",
        ),
        "as_of": Param(
            None,
            type=["null", "string"],
            format="date",
            description="Expected as-of date (YYYY-MM-DD); the run fails if the marts are for another date.",
        ),
        "deliver": Param(
            True, type="boolean", description="False = dry run: render, check, log; send nothing."
        ),
        "channels": Param(
            [],
            type="array",
            items={"type": "string", "enum": ["email", "slack", "file"]},
            description="Subset of the packs' channels; empty = each pack's own channels.",
        ),
    },
)
def report_packs():
    @task
    def gate(params: dict | None = None) -> dict:
        from airflow.sdk.exceptions import AirflowSkipException

        from salesops.packs.tasks import NothingToReport
        from salesops.packs.tasks import gate as run_gate

        try:
            return run_gate(params or {}, _WAREHOUSE_CONN_ID)
        except NothingToReport as exc:  # a fresh deployment's Monday run: skip, no red run, no email
            raise AirflowSkipException(str(exc)) from exc

    @task
    def plan(gate_status: dict, params: dict | None = None) -> list[dict]:
        from salesops.packs.tasks import plan as run_plan

        return run_plan(params or {}, gate_status, _WAREHOUSE_CONN_ID)

    # map_index_template: the grid shows "weekly_pipeline_inspection region=EMEA", not 0..30.
    @task(max_active_tis_per_dagrun=_PARALLELISM, map_index_template="{{ slice_label }}")
    def render(job: dict) -> dict:
        from salesops.packs.tasks import render as run_render

        get_current_context()["slice_label"] = _label(job)  # type: ignore[typeddict-unknown-key]
        return run_render(job, _WAREHOUSE_CONN_ID)

    @task(map_index_template="{{ slice_label }}")
    def check(rendered: dict, gate_status: dict) -> dict:
        from salesops.packs.tasks import check as run_check

        get_current_context()["slice_label"] = _label(rendered)  # type: ignore[typeddict-unknown-key]
        return run_check(rendered, gate_status, _WAREHOUSE_CONN_ID)

    # retries=0: a retry could send the same email twice if the log write failed after sending
    @task(retries=0, map_index_template="{{ slice_label }}")
    def deliver(checked: dict, params: dict | None = None) -> dict:
        from salesops.packs.tasks import deliver as run_deliver

        ctx = get_current_context()
        ctx["slice_label"] = _label(checked.get("rendered") or {})  # type: ignore[typeddict-unknown-key]
        run_id = ctx["run_id"]
        return run_deliver(checked, params or {}, run_id, _WAREHOUSE_CONN_ID)

    @task
    def summarize(results: list[dict]) -> dict:
        from salesops.packs.tasks import summarize as run_summarize

        return run_summarize(results, _WAREHOUSE_CONN_ID)

    status = gate()
    rendered = render.expand(job=plan(status))
    checked = check.partial(gate_status=status).expand(rendered=rendered)
    summarize(deliver.expand(checked=checked))


report_packs()
