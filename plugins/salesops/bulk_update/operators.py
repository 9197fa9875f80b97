"""Airflow operators for approval-gated bulk updates.

- :class:`PlanApprovalOperator` - the approval screen (HITL ApprovalOperator) with the plan summary;
  stores who decided what and when with the plan; default Reject; expiry applies nothing.
- :class:`ApplyPlanOperator` - the narrow write operator: validates its inputs when built,
  creates the warehouse and CRM clients in ``execute()``.
"""

from __future__ import annotations

from datetime import timedelta
from typing import TYPE_CHECKING, Any

from airflow.providers.standard.operators.hitl import ApprovalOperator
from airflow.sdk import BaseOperator, Param

from salesops.bulk_update.settings import MAX_BATCH_SIZE

if TYPE_CHECKING:
    from airflow.sdk import Context

WAREHOUSE_CONN_ID = "salesops_warehouse"


def _warehouse(conn_id: str):
    from salesops.warehouse.hook import WarehouseHook

    return WarehouseHook(conn_id).warehouse


def _plan_id_from(context: Context, plan_task_id: str) -> str:
    built = context["ti"].xcom_pull(task_ids=plan_task_id)
    if not built or not built.get("plan_id"):
        raise ValueError(f"task {plan_task_id} returned no plan id")
    return built["plan_id"]


class PlanApprovalOperator(ApprovalOperator):
    """Ask the plan's approver group to approve or reject a stored plan in the Airflow UI.

    Subject, body (the plan summary: counts by field/owner/region, sample rows, hash, where the
    full file is), assigned users (the plan's approver group) and the response timeout (until the
    plan expires) are filled in from the stored plan when the task runs. The decision is stored in
    ops.bulk_update_approval. A reject, an expiry (timeout resolves to the default Reject with no
    responder) or a refused response (approver is the requester / not in the group) never lets
    downstream tasks run; a refused response fails the task so the run shows it.

    Args:
        plan_task_id: task whose return value has the ``plan_id``.
        warehouse_conn_id: Airflow connection of the warehouse.
    """

    def __init__(
        self, *, plan_task_id: str = "build_plan", warehouse_conn_id: str = WAREHOUSE_CONN_ID, **kwargs: Any
    ) -> None:
        if not plan_task_id:
            raise ValueError("plan_task_id is required")
        kwargs.setdefault("subject", "Bulk-update plan approval")
        kwargs.setdefault("defaults", ApprovalOperator.REJECT)  # no answer = reject, never approve
        # The approver's comment box. Airflow's operator metaclass has already put the DAG's params
        # (source "dag") into kwargs["params"] before this runs, and HITLOperator keeps only params
        # whose source is "task": a plain setdefault left the form with no fields (hitlDetails
        # "params": {}). Optional (nullable), so the form never blocks an answer without a comment.
        kwargs["params"] = {
            "comment": Param(
                None,
                type=["null", "string"],
                title="Comment",
                description="Why you approve or reject; stored with the decision and in the change log.",
                source="task",
            )
        }
        super().__init__(**kwargs)
        if self.defaults != [ApprovalOperator.REJECT]:
            raise ValueError("a bulk-update approval must default to Reject")
        self.plan_task_id = plan_task_id
        self.warehouse_conn_id = warehouse_conn_id

    def execute(self, context: Context) -> Any:
        from airflow.sdk.exceptions import AirflowFailException, AirflowSkipException

        from salesops.bulk_update import approval, render
        from salesops.bulk_update.plan import load_plan
        from salesops.bulk_update.settings import load_settings
        from salesops.bulk_update.store import utcnow

        wh = _warehouse(self.warehouse_conn_id)
        settings = load_settings()
        plan = load_plan(wh, _plan_id_from(context, self.plan_task_id))
        if approval.expire_if_due(wh, plan):
            raise AirflowSkipException(
                f"plan {plan.plan_id} expired at {plan.expires_at}; nothing will be applied"
            )
        if plan.status != "built":
            raise AirflowSkipException(
                f"plan {plan.plan_id} is {plan.status}; it is not waiting for a decision"
            )
        group = settings.group(plan.approver_group)
        self.subject = render.approval_subject(plan)
        self.body = render.approval_body(plan, render.plan_names(wh, plan))
        try:
            # Approvers come from policy; the requester is never offered the buttons (nor the
            # REST endpoint: Airflow answers 403 to users outside assigned_users).
            users = approval.eligible_approvers(plan, settings)
        except approval.ApprovalError as exc:
            raise AirflowFailException(str(exc)) from exc
        self.assigned_users = [{"id": u, "name": u} for u in users]
        remaining = plan.expires_at - utcnow()
        self.response_timeout = max(remaining, timedelta(seconds=1))
        self.log.info(
            "Approval requested from group %s %s (requester %s excluded) until %s UTC:\n%s",
            group.name,
            users,
            plan.requester,
            plan.expires_at,
            self.body,
        )
        return super().execute(context)

    def execute_complete(self, context: Context, event: dict[str, Any]) -> Any:
        from airflow.sdk.exceptions import AirflowFailException

        from salesops.bulk_update import approval
        from salesops.bulk_update.plan import load_plan
        from salesops.bulk_update.settings import load_settings

        wh = _warehouse(self.warehouse_conn_id)
        plan = load_plan(wh, _plan_id_from(context, self.plan_task_id))
        if "error" in event:  # timeout without defaults (cannot happen with defaults=Reject, kept for safety)
            approval.record_decision(
                wh,
                plan,
                approval.Decision(
                    "expired", None, approval.store.utcnow(), None, "timeout", event.get("error", "")
                ),
                run_id=context["run_id"],
            )
            return super().execute_complete(context, event)
        decision = approval.decision_from_hitl(plan, event, load_settings())
        approval.record_decision(wh, plan, decision, run_id=context["run_id"])
        if decision.decision == "refused":
            raise AirflowFailException(f"approval refused: {decision.note}")
        if decision.decision != "approve":
            # Whatever was clicked, only a valid approval may let the write run.
            event = {**event, "chosen_options": [ApprovalOperator.REJECT]}
        return super().execute_complete(context, event)


class ApplyPlanOperator(BaseOperator):
    """Write an approved plan to the CRM (drift check, batches, retries, change log, validation).

    Args:
        plan_id: the plan (templated, usually pulled from the build task's XCom).
        source_kind: ``salesops.sources.registry`` kind of the CRM (templated).
        source_kwargs: the kind's arguments (templated).
        warehouse_conn_id: Airflow connection of the warehouse.
        batch_size: records per write call; None = the plan type's configured size (1..200).
    """

    template_fields = ("plan_id", "source_kind", "source_kwargs")

    def __init__(
        self,
        *,
        plan_id: str,
        source_kind: str,
        source_kwargs: dict[str, Any] | None = None,
        warehouse_conn_id: str = WAREHOUSE_CONN_ID,
        batch_size: int | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        if not isinstance(plan_id, str) or not plan_id.strip():
            raise ValueError("plan_id must be a non-empty string (or template)")
        if not isinstance(source_kind, str) or not source_kind.strip():
            raise ValueError("source_kind must be a non-empty string (or template)")
        if source_kwargs is not None and not isinstance(source_kwargs, dict | str):
            raise ValueError("source_kwargs must be a dict")
        if batch_size is not None and (
            not isinstance(batch_size, int) or not 1 <= batch_size <= MAX_BATCH_SIZE
        ):
            raise ValueError(
                f"batch_size must be an int in 1..{MAX_BATCH_SIZE} (Salesforce composite limit), got {batch_size!r}"
            )
        self.plan_id = plan_id
        self.source_kind = source_kind
        self.source_kwargs = source_kwargs or {}
        self.warehouse_conn_id = warehouse_conn_id
        self.batch_size = batch_size

    def execute(self, context: Context) -> dict[str, Any]:
        from airflow.sdk.exceptions import AirflowException

        from salesops.bulk_update.apply import ApplyFailed, apply_plan
        from salesops.bulk_update.target import describe
        from salesops.sources.registry import get_source, options_for

        wh = _warehouse(self.warehouse_conn_id)
        # Only the options this kind takes (the DAG offers a connection id for API sources).
        options = options_for(self.source_kind, **dict(self.source_kwargs))
        source = get_source(self.source_kind, **options)
        try:
            report = apply_plan(
                wh,
                source,
                self.plan_id,
                run_id=context["run_id"],
                batch_size=self.batch_size,
                target=describe(self.source_kind, options),
            )
        except ApplyFailed as exc:
            context["ti"].xcom_push(key="apply_report", value=exc.report.to_dict())
            raise AirflowException(str(exc)) from exc
        return report.to_dict()
