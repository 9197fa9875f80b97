"""
### report_packs

Renders the report packs of `include/config/packs.yaml` (weekly pipeline inspection, forecast
hygiene, data-quality scorecard, lead routing SLA, month/quarter-end) from the KPI marts and the
quality results, checks them and delivers them - or holds them.

Runs when the KPI marts are rebuilt (Asset `marts.ready` from `kpi_transforms`) and every Monday
07:00 UTC (whichever comes first; a pack already sent for its period is not sent twice). Unpaused
on creation, no catch-up: unpausing starts at most the latest Monday run, and a run before the
first KPI build skips (nothing to report) instead of failing.

1. **plan** (one task) - the **gate**: the latest quality run for the data's as-of time (`max(until)`
   of loaded batches in `ops.load_audit`) must have no failed blocker check; a failed gate does not
   fail the run: every pack is held. Then the packs due for the as-of date (each pack's
   `schedule`) or the ones asked for, times every audience scope value (company, each region, each
   team...), grouped per pack.
2. **produce** (one mapped task per pack, labelled with the pack and its slice count, two packs at a
   time - `SALESOPS_PACK_PARALLELISM`; one process renders, checks and delivers every slice of the
   pack, so imports are paid once, while packs.yaml `layout_processes` worker processes lay out
   the previous slice's PDF and XLSX/CSV files; a slice re-run on unchanged data reuses its files):
   - **render** - HTML email body with inline CSS (charts as `cid:` inline parts), PDF
     (WeasyPrint), XLSX (summary + data sheets) and CSV, every dataset filtered to the recipient's
     scope; every number footnoted with its metrics.yaml definition and the data's as-of time;
   - **check** - the pack's totals read back from its XLSX equal the warehouse totals, sections are
     non-empty where the scope has data, the data is fresh;
   - **deliver** - file drop (`out/packs/<pack>/<period>/<scope>/` or `SALESOPS_PACKS_BASE_URL` via
     ObjectStoragePath), email (SMTP connection), Slack summary + link (skipped with a logged
     reason without a Slack connection) - or **hold**: files to `out/packs/held/...`, reasons to
     `ops.pack_hold`, a hold notice to the RevOps team. Every attempt goes to
     `ops.pack_delivery_log`. A slice that fails does not stop the pack's other slices; the task
     then fails naming it.
3. **summarize** - counts and the on-time-delivery KPI per pack and period.

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
from salesops.packs.names import PACKS

_WAREHOUSE_CONN_ID = os.getenv("SALESOPS_WAREHOUSE_CONN_ID", "salesops_warehouse")
# Packs produced at once (one task each). Two by default, one per core of a small worker: on DuckDB
# they take turns on the file for their queries and lay out PDFs/XLSX in parallel; raise on Snowflake.
_PARALLELISM = int(os.getenv("SALESOPS_PACK_PARALLELISM", "2"))
# The weekly time trigger (besides marts.ready); "none" = only when the marts are rebuilt.
_CRON = os.getenv("SALESOPS_PACKS_SCHEDULE", "0 7 * * 1")
# salesops.packs.names.PACKS (no I/O at parse time; the plan task validates against packs.yaml).
_PACKS = list(PACKS)


def _label(group: dict) -> str:
    """A mapped pack's label in the grid: the pack and how many slices it produces."""
    jobs = group.get("jobs") or []
    scopes = sorted({j.get("scope_type") for j in jobs})
    return f"{group.get('pack')}: {len(jobs)} slice{'s' if len(jobs) != 1 else ''} ({', '.join(scopes)})"


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
    # The gate and the plan in one task (each task start costs seconds of a worker's CPU under a
    # scheduler, and both are on every run's critical path): one group per pack, each carrying the
    # gate's status (a mapped task cannot expand over one key of a dict output).
    @task
    def plan(params: dict | None = None) -> list[dict]:
        from airflow.sdk.exceptions import AirflowSkipException

        from salesops.packs.tasks import NothingToReport, by_pack
        from salesops.packs.tasks import gate as run_gate
        from salesops.packs.tasks import plan as run_plan

        try:
            status = run_gate(params or {}, _WAREHOUSE_CONN_ID)
        except NothingToReport as exc:  # a fresh deployment's Monday run: skip, no red run, no email
            raise AirflowSkipException(str(exc)) from exc
        groups = by_pack(run_plan(params or {}, status, _WAREHOUSE_CONN_ID))
        return [{**group, "gate": status} for group in groups]

    # One process per pack renders, checks and delivers all its slices (per-slice tasks spent most
    # of their time starting up under a scheduler). The grid labels each by pack and slice count.
    # retries=0: a retry could send the same email twice if the log write failed after sending.
    @task(max_active_tis_per_dagrun=_PARALLELISM, retries=0, map_index_template="{{ pack_label }}")
    def produce(group: dict, params: dict | None = None) -> list[dict]:
        from salesops.packs.tasks import produce as run_produce

        ctx = get_current_context()
        ctx["pack_label"] = _label(group)  # type: ignore[typeddict-unknown-key]
        return run_produce(group, group["gate"], params or {}, ctx["run_id"], _WAREHOUSE_CONN_ID)

    @task
    def summarize(results: list[list[dict]]) -> dict:
        from salesops.packs.tasks import summarize as run_summarize

        # Index by length: iterating the lazy sequence probes one past the end (a logged 404).
        per_pack = [results[i] for i in range(len(results))]
        return run_summarize([r for pack in per_pack for r in pack], _WAREHOUSE_CONN_ID)

    summarize(produce.expand(group=plan()))


report_packs()
