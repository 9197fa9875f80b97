"""Task bodies of the crm_bulk_update DAG (plain values in, plain values out; testable without a run)."""

from __future__ import annotations

import logging
from typing import Any

log = logging.getLogger(__name__)

CHANNELS = ("ui", "signed", "demo", "build_only")
BRANCH_FOR_CHANNEL = {"ui": "ask_approval", "signed": "wait_for_signed_approval", "demo": "demo_auto_approve"}


def resolve_requester(params: dict[str, Any], triggering_user: str | None, default: str) -> str:
    """Who asked for the plan: the param, else the user who triggered the run, else the DAG owner."""
    return (params.get("requester") or "").strip() or (triggering_user or "").strip() or default


def build(
    params: dict[str, Any], *, warehouse_conn_id: str, dag_id: str, run_id: str, requester: str
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
    if channel not in CHANNELS:
        raise plans.PlanError(f"approval_channel {channel!r} is not one of {CHANNELS}")
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
        )
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
            "`python -m salesops.bulk_update approve --plan-id %s --hash %s --approver <you>` and "
            "approval_channel=signed",
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
