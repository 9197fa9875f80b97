"""Task bodies of the crm_bulk_update DAG (plain values in, plain values out; testable without a run)."""

from __future__ import annotations

import logging
from typing import Any

log = logging.getLogger(__name__)

CHANNELS = ("ui", "demo", "build_only")
BRANCH_FOR_CHANNEL = {"ui": "ask_approval", "demo": "demo_auto_approve"}
# dag.test() / `airflow dags test` runs have no authenticated user (Airflow names them "dag_test");
# this variable makes the local requester explicit (tests set it; the shell user already has
# every access a local run has).
TEST_REQUESTER_ENV = "SALESOPS_TEST_REQUESTER"
DAG_TEST_USER = "dag_test"


def resolve_requester(dag_run: Any) -> str:
    """The authenticated user who triggered the run: the plan's requester for the four-eyes rule.

    A free-text param can never set it (``on_behalf_of`` only adds a note). Runs started by
    ``dag.test()`` (triggering user ``dag_test``) take ``SALESOPS_TEST_REQUESTER`` when set; never
    set it in a deployment.

    Raises:
        PlanError: the run has no triggering user (scheduled/asset-triggered): a plan needs a
            person who asked for it.
    """
    import os

    from salesops.bulk_update.plan import PlanError

    user = (getattr(dag_run, "triggering_user_name", None) or "").strip()
    # The task-side DagRun has no triggered_by; dag.test() always names its user "dag_test".
    if user == DAG_TEST_USER and os.getenv(TEST_REQUESTER_ENV, "").strip():
        user = os.environ[TEST_REQUESTER_ENV].strip()
    if not user:
        raise PlanError(
            "this run has no authenticated triggering user; trigger crm_bulk_update as yourself "
            "(UI, REST or `airflow dags trigger`) so the plan has a requester"
        )
    return user


def check_channel(channel: str, source: str | None) -> None:
    """The demo approval channel works only with the demo source (it says so otherwise)."""
    from salesops.bulk_update.plan import PlanError

    if channel not in CHANNELS:
        raise PlanError(f"approval_channel {channel!r} is not one of {CHANNELS}")
    if channel == "demo" and (source or "demo") != "demo":
        raise PlanError(
            f"approval_channel 'demo' works only with the demo source, not {source!r}: "
            "a real CRM is written to only after a person approves in Airflow"
        )


def build(
    params: dict[str, Any],
    *,
    warehouse_conn_id: str,
    dag_id: str,
    run_id: str,
    requester: str,
    target: str | None = None,
) -> dict[str, Any]:
    """Build (or reuse) the run's plan and return what the approval and apply tasks need.

    Raises:
        EmptyPlan: nothing to change (the task turns it into a skip).
        PlanError: bad input or a failed guard (the task fails without retry).
    """
    from salesops.bulk_update import plan as plans
    from salesops.bulk_update.render import approval_body, plan_names
    from salesops.warehouse.hook import WarehouseHook

    wh = WarehouseHook(warehouse_conn_id).warehouse
    channel = params.get("approval_channel") or "ui"
    check_channel(channel, params.get("source"))
    on_behalf_of = (params.get("on_behalf_of") or "").strip() or None
    if params.get("plan_id"):
        p = plans.load_plan(wh, params["plan_id"].strip())
        log.info("reusing stored plan %s (status %s)", p.plan_id, p.status)
    elif params.get("undo_of_plan_id"):
        p = plans.build_undo_plan(
            wh,
            params["undo_of_plan_id"].strip(),
            requester=requester,
            reason=params.get("reason") or "",
            dag_id=dag_id,
            run_id=run_id,
        )
    else:
        # False leaves the plan type's own only_open_exceptions setting in force.
        p = plans.build_plan(
            wh,
            params.get("plan_type") or "",
            requester=requester,
            reason=params.get("reason") or "",
            dag_id=dag_id,
            run_id=run_id,
            only_open_exceptions=True if params.get("only_open_exceptions") else None,
            target=target,
            on_behalf_of=on_behalf_of,
            record_limit=params.get("record_limit"),
        )
    if target:  # a stored or undo plan is for the CRM it was built for, and only that one
        from salesops.bulk_update.target import check as check_target

        check_target(p.target, target, p.plan_id)
    body = approval_body(p, plan_names(wh, p))
    # Printed so the summary is in the task log and on the console of `airflow dags test` / make demo.
    print(body, flush=True)
    return {
        "plan_id": p.plan_id,
        "plan_type": p.plan_type,
        "content_hash": p.content_hash,
        "record_count": p.record_count,
        "change_count": len(p.changes),
        "approver_group": p.approver_group,
        "sensitive": p.sensitive,
        "status": p.status,
        "requester": p.requester,
        "target": p.target,
        "expires_at": str(p.expires_at),
        "artifact_dir": p.artifact_dir,
        "summary_markdown": body,
    }


def route(built: dict[str, Any], channel: str) -> str | None:
    """Which approval path the run takes (None: stop after building, e.g. unattended demo)."""
    if built.get("status") in ("approved", "applying", "applied", "applied_with_errors"):
        return "already_approved"
    if built.get("status") != "built":
        log.info("plan %s is %s; nothing to approve or apply", built.get("plan_id"), built.get("status"))
        return None
    if channel == "build_only":
        log.info(
            "plan %s built; approve it in the UI (trigger with plan_id and approval_channel=ui) or with "
            "`python -m salesops.bulk_update approve --plan-id %s --hash %s` (your Airflow login) "
            "once a run with approval_channel=ui waits for it",
            built["plan_id"],
            built["plan_id"],
            built["content_hash"],
        )
        return None
    if channel not in BRANCH_FOR_CHANNEL:
        raise ValueError(f"approval_channel {channel!r} is not one of {CHANNELS}")
    return BRANCH_FOR_CHANNEL[channel]


def demo_approve(plan_id: str, *, warehouse_conn_id: str, run_id: str) -> str:
    from salesops.bulk_update import approval
    from salesops.bulk_update.plan import load_plan
    from salesops.bulk_update.settings import load_settings
    from salesops.warehouse.hook import WarehouseHook

    wh = WarehouseHook(warehouse_conn_id).warehouse
    d = approval.demo_approve(wh, load_plan(wh, plan_id), load_settings(), run_id=run_id)
    log.warning("DEMO SWITCH: plan %s approved by demo identity %s (not a person)", plan_id, d.approver)
    return d.approver or ""


def check_approval(plan_id: str, *, warehouse_conn_id: str) -> dict[str, Any]:
    from salesops.bulk_update.approval import require_approval
    from salesops.bulk_update.plan import load_plan
    from salesops.bulk_update.settings import load_settings
    from salesops.warehouse.hook import WarehouseHook

    wh = WarehouseHook(warehouse_conn_id).warehouse
    a = require_approval(wh, load_plan(wh, plan_id), load_settings())
    return {
        "approval_id": a["approval_id"],
        "approver": a["approver"],
        "channel": a["channel"],
        "responded_at": str(a["responded_at"]),
    }


def report_outcome(ti: Any, dag_id: str, run_id: str, warehouse_conn_id: str) -> dict[str, Any]:
    """The run's outcome: pushed to XCom (key ``run_outcome``, for the run note), logged, and turned into
    this task's final state (see :mod:`salesops.bulk_update.outcome`).

    Raises:
        AirflowSkipException: rejected, or nothing to change.
        AirflowFailException: expired, refused, apply errors, build failed.
    """
    from airflow.sdk.exceptions import AirflowFailException, AirflowSkipException

    from salesops.bulk_update.outcome import FAILED, SKIPPED, XCOM_KEY, run_outcome
    from salesops.warehouse.hook import WarehouseHook

    built = ti.xcom_pull(task_ids="build_plan") or {}
    build_state = None
    if not built.get("plan_id"):
        states = ti.get_task_states(dag_id=dag_id, task_ids=["build_plan"], run_ids=[run_id])
        build_state = (states.get(run_id) or {}).get("build_plan")
    result = run_outcome(
        WarehouseHook(warehouse_conn_id).warehouse, built.get("plan_id"), run_id, build_state
    )
    ti.xcom_push(key=XCOM_KEY, value=result.to_dict())
    log.info("outcome: %s", result.note)
    if result.state == SKIPPED:
        raise AirflowSkipException(result.note)
    if result.state == FAILED:
        raise AirflowFailException(result.note)
    return result.to_dict()
