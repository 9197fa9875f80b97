"""
### crm_bulk_update

Controlled bulk update of CRM records: **plan -> human approval -> safe write-back -> change log -> undo**.

1. **build_plan** runs the plan type's SQL (`include/sql/bulk_update/plan_<type>.sql`) on the
   staging tables and stores an immutable, hashed plan in `ops.bulk_update_plan` /
   `ops.bulk_update_plan_row`, with `plan.html`, `plan_rows.csv`, `plan_rows.xlsx` under
   `out/bulk_updates/<plan_id>/`. Hard stops before anyone is asked: an empty plan skips the run;
   too many records (`max_records`, `max_share` of the object), a field outside the type's list or
   an empty value the field's policy forbids fail it (`include/config/bulk_updates.yaml`).
   Sensitive fields escalate to the stricter approver group.
2. **Approval** (param `approval_channel`):
   - `ui` (default): **ask_approval** waits in *Required actions* of the Airflow UI for the plan's
     approver group; the body shows counts by field/owner/region, sample rows, the plan hash and
     where the full file is. Default is Reject; unanswered until the plan expires = expired.
     Outside the UI, `python -m salesops.bulk_update approve --plan-id ... --hash ...` answers the
     same request through Airflow's REST API with the approver's own Airflow login.
   - `demo`: **demo_auto_approve** approves as the demo identity named by the environment switch
     `SALESOPS_DEMO_AUTO_APPROVE=demo-<name>`, only with the demo source (fails otherwise).
   - `build_only`: stop after the plan is built (unattended demo); approve later.
   Every decision (who, when, decision, comment, channel) is stored in `ops.bulk_update_approval`.
   The requester is the authenticated user who triggered the run (`on_behalf_of` only adds a
   note); the approval request is assigned to the approver group minus the requester, and the
   approver may not be the requester. A reject or revoke recorded before apply wins.
3. **check_approval** re-verifies the approval names this plan id and hash; **apply_plan** re-reads
   every target (drift check: changed records are skipped and reported), writes in batches with
   retries, logs every change in `ops.bulk_update_change_log` (idempotent: a re-run writes only
   what is not applied yet), stamps `Last_Bulk_Update_Plan__c`, re-reads to verify and writes
   `change_log.csv`. It fails at the end if any record failed.

**Quality exception queue**: plan types that declare `quality_checks` in bulk_updates.yaml record in
the plan (scope, summary, approval screen, `quality_exceptions.csv`) how many of their records are
open exceptions of those checks and how many open exceptions they leave unfixed and why - when the
latest quality run is for the same as-of as the staging data. `mark_duplicate_leads` is computed
from that run's duplicate clusters and needs it.

**Territory change**: `plan_type=territory_change` reads the proposed map (`territory_map.yaml` in the
config overlay, `SALESOPS_CONFIG_DIR`), validates it, and moves accounts, their open opportunities and
leads in one plan with an impact preview (before/after per owner and territory, quota deltas); apply
versions the map and writes the account assignment history (`python -m salesops.territory`).

**Params**: `plan_type`, `on_behalf_of` (a note; the requester is the triggering user), `reason`, `approval_channel`,
`only_open_exceptions` (restrict the plan to records in the quality exception queue),
`plan_id` (approve/apply a plan built earlier instead of building one), `undo_of_plan_id` (build the
undo plan of an applied plan - it goes through the same approval), `source`, `source_conn_id`.

**Connections**: `salesops_warehouse` (optional), the CRM's connection for API sources,
no approval secret (approvers log in to Airflow).
"""

from __future__ import annotations

import os
from datetime import timedelta

import pendulum
from airflow.providers.standard.operators.empty import EmptyOperator
from airflow.sdk import Param, TriggerRule, dag, get_current_context, task

from salesops.bulk_update import plan_types
from salesops.bulk_update.operators import ApplyPlanOperator, PlanApprovalOperator
from salesops.sources.registry import WRITABLE_KINDS

_WAREHOUSE_CONN_ID = os.getenv("SALESOPS_WAREHOUSE_CONN_ID", "salesops_warehouse")
_DEFAULT_SOURCE = os.getenv("SALESOPS_SOURCE", "demo")
_OWNER = "revops-data"
# The plan-type modules of salesops.bulk_update.plan_types (listed, not imported: no policy read
# at parse time; the build task validates the chosen type against bulk_updates.yaml).
_PLAN_TYPES = plan_types.names()
_PLAN = "{{ ti.xcom_pull(task_ids='build_plan')['plan_id'] }}"


@dag(
    schedule=None,
    start_date=pendulum.datetime(2026, 1, 1, tz="UTC"),
    catchup=False,
    max_active_runs=1,  # never two writers against the CRM
    doc_md=__doc__,
    tags=["salesops", "bulk-update", "approval"],
    default_args={"owner": _OWNER, "retries": 0, "retry_delay": timedelta(minutes=2)},
    params={
        "plan_type": Param(_PLAN_TYPES[0], enum=_PLAN_TYPES, description="Which plan to build."),
        "on_behalf_of": Param(
            None,
            type=["null", "string"],
            description="Optional note: whom you ask for. The requester is always you (the logged-in user who triggers).",
        ),
        "reason": Param(
            None, type=["null", "string"], description="Why; shown to the approver and stored with the plan."
        ),
        "approval_channel": Param(
            os.getenv("SALESOPS_BULK_UPDATE_APPROVAL", "ui"),
            enum=["ui", "demo", "build_only"],
            description="ui: Required actions in this UI (or its REST API); demo: demo switch, demo source only; build_only: stop after the plan.",
        ),
        "only_open_exceptions": Param(
            False,
            type="boolean",
            description="Restrict the plan to records with an open exception in the quality queue (needs a quality run on this load).",
        ),
        "record_limit": Param(
            None,
            type=["null", "integer"],
            minimum=1,
            description="Split a large plan: take at most this many records (the first by record id); the rest "
            "wait for the next plan. Empty = all (the plan type's max_records guard still applies).",
        ),
        "plan_id": Param(
            None, type=["null", "string"], description="Use this stored plan instead of building a new one."
        ),
        "undo_of_plan_id": Param(
            None, type=["null", "string"], description="Build the undo plan of this applied plan."
        ),
        "source": Param(_DEFAULT_SOURCE, enum=list(WRITABLE_KINDS), description="The CRM to write to."),
        "source_conn_id": Param(
            None,
            type=["null", "string"],
            description="Connection id for API sources (default per connector); the demo takes none.",
        ),
    },
)
def crm_bulk_update():
    @task(retries=1)
    def build_plan(params: dict | None = None) -> dict:
        from airflow.sdk.exceptions import AirflowFailException, AirflowSkipException

        from salesops.bulk_update import tasks
        from salesops.bulk_update.plan import EmptyPlan, PlanError
        from salesops.bulk_update.target import describe
        from salesops.sources.registry import options_for

        ctx = get_current_context()
        params = params or {}
        try:
            source = params.get("source") or _DEFAULT_SOURCE
            # The demo channel is refused with a real CRM before anything else is looked at.
            tasks.check_channel(params.get("approval_channel") or "ui", source)
            return tasks.build(
                params,
                warehouse_conn_id=_WAREHOUSE_CONN_ID,
                dag_id=ctx["dag"].dag_id,
                run_id=ctx["run_id"],
                requester=tasks.resolve_requester(ctx["dag_run"]),
                target=describe(source, options_for(source, conn_id=params.get("source_conn_id"))),
            )
        except EmptyPlan as exc:
            raise AirflowSkipException(str(exc)) from exc
        except PlanError as exc:  # guards and bad input: retrying cannot help
            raise AirflowFailException(str(exc)) from exc

    @task.branch
    def route_approval(built: dict, params: dict | None = None) -> str | None:
        from salesops.bulk_update import tasks

        return tasks.route(built, (params or {}).get("approval_channel") or "ui")

    @task
    def demo_auto_approve(built: dict) -> str:
        from salesops.bulk_update import tasks

        return tasks.demo_approve(
            built["plan_id"], warehouse_conn_id=_WAREHOUSE_CONN_ID, run_id=get_current_context()["run_id"]
        )

    # Runs after whichever approval path ran; skipped when none did (reject, expiry, build_only).
    # It takes the plan id from XCom rather than as an argument, so build_plan is not an upstream
    # that would satisfy "min one success" on its own.
    @task(trigger_rule=TriggerRule.NONE_FAILED_MIN_ONE_SUCCESS)
    def check_approval() -> dict:
        from salesops.bulk_update import tasks

        built = get_current_context()["ti"].xcom_pull(task_ids="build_plan")
        return tasks.check_approval(built["plan_id"], warehouse_conn_id=_WAREHOUSE_CONN_ID)

    # The run's outcome, visible without reading logs: this task ends success (applied / built),
    # skipped (rejected / empty) or failed (expired / refused / apply errors), and its text becomes the
    # run note (salesops.bulk_update.outcome; the note is set by the RevOps console plugin's listener).
    @task(trigger_rule=TriggerRule.ALL_DONE, retries=0)
    def report_outcome() -> None:
        from salesops.bulk_update import tasks

        ctx = get_current_context()
        tasks.report_outcome(ctx["ti"], ctx["dag"].dag_id, ctx["run_id"], _WAREHOUSE_CONN_ID)

    built = build_plan()
    branch = route_approval(built)
    ask = PlanApprovalOperator(
        task_id="ask_approval", plan_task_id="build_plan", warehouse_conn_id=_WAREHOUSE_CONN_ID
    )
    demo = demo_auto_approve(built)
    already_approved = EmptyOperator(task_id="already_approved")
    checked = check_approval()
    apply = ApplyPlanOperator(
        task_id="apply_plan",
        plan_id=_PLAN,
        source_kind="{{ params.source }}",
        source_kwargs={"conn_id": "{{ params.source_conn_id }}"},
        warehouse_conn_id=_WAREHOUSE_CONN_ID,
        retries=1,  # safe: the change log makes apply idempotent
    )
    branch >> [ask, demo, already_approved] >> checked >> apply >> report_outcome()


crm_bulk_update()
