"""What a crm_bulk_update run ended with, in words and as a task state.

Airflow's ApprovalOperator marks a rejected or expired run green like an applied one. The DAG's last
task (``report_outcome``, trigger rule all_done) reads the plan's status and decisions from the
warehouse and ends in a state that tells them apart, and the run note (set from the outcome by the
RevOps console plugin's listener, see :mod:`salesops.console.run_notes`) says it in words:

==========================  ============  ==============================================
outcome                     final state   meaning
==========================  ============  ==============================================
``applied``                 success       the approved changes were written
``built``                   success       plan built, waiting for a decision (build_only)
``empty``                   skipped       nothing to change; no plan
``rejected``                skipped       an approver rejected it; nothing written
``expired``                 failed        nobody answered before the plan expired
``refused``                 failed        the answer was not accepted (requester, not in group)
``applied_with_errors``     failed        some records failed to write (see the change log)
``not_applied``             failed        approved, but apply did not finish
``build_failed``            failed        the plan could not be built (guard, bad input)
==========================  ============  ==============================================
"""

from __future__ import annotations

from collections import Counter
from dataclasses import asdict, dataclass
from typing import Any

SUCCESS, SKIPPED, FAILED = "success", "skipped", "failed"
STATE = {
    "applied": SUCCESS,
    "built": SUCCESS,
    "empty": SKIPPED,
    "rejected": SKIPPED,
    "expired": FAILED,
    "refused": FAILED,
    "applied_with_errors": FAILED,
    "not_applied": FAILED,
    "build_failed": FAILED,
}
XCOM_KEY = "run_outcome"
TASK_ID = "report_outcome"
NOTE_MAX = 1000  # Airflow's dag_run_note.content is String(1000)


@dataclass(frozen=True)
class Outcome:
    outcome: str
    state: str
    note: str
    plan_id: str | None = None
    approver: str | None = None
    comment: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def _make(outcome: str, note: str, **kw: Any) -> Outcome:
    return Outcome(outcome, STATE[outcome], note[:NOTE_MAX], **kw)


def _who(a: dict[str, Any]) -> str:
    text = a.get("approver") or "nobody"
    if a.get("comment"):
        text += f' ("{a["comment"]}")'
    return text


def run_outcome(wh: Any, plan_id: str | None, run_id: str | None, build_state: str | None = None) -> Outcome:
    """The outcome of the run that handled ``plan_id``.

    Args:
        wh: the warehouse.
        plan_id: the run's plan; None when ``build_plan`` returned none (skipped or failed).
        run_id: the run (its own decisions are preferred over older ones for the same plan).
        build_state: ``build_plan``'s state, to tell a failed build from an empty plan.
    """
    from salesops.bulk_update import approval, store
    from salesops.bulk_update.apply import change_log
    from salesops.bulk_update.plan import load_plan

    if not plan_id and build_state == "failed":
        return _make(
            "build_failed", "BUILD FAILED: no plan was built (see build_plan's log). Nothing was written."
        )
    if not plan_id:
        return _make("empty", "No plan: nothing to change. Nothing was written to the CRM.")
    plan = load_plan(wh, plan_id)
    decisions = approval.approvals(wh, plan_id)
    mine = [d for d in decisions if d.get("run_id") == run_id] or decisions
    last = mine[-1] if mine else None
    common = {
        "plan_id": plan_id,
        "approver": last and last.get("approver"),
        "comment": last and last.get("comment"),
    }
    head = f"{plan.plan_type} plan {plan_id} ({len(plan.changes)} changes on {plan.record_count} {plan.api_name} records)"
    if plan.status in ("applied", "applied_with_errors"):
        states = Counter(r["status"] for r in change_log(wh, plan_id))
        approved: dict[str, Any] = next((d for d in reversed(decisions) if d["decision"] == "approve"), {})
        counts = ", ".join(f"{n} {s}" for s, n in sorted(states.items()))
        outcome = plan.status
        return _make(
            outcome,
            f"{'APPLIED' if outcome == 'applied' else 'APPLIED WITH ERRORS'}: {head}; approved by "
            f"{_who(approved)}; change log: {counts}.",
            plan_id=plan_id,
            approver=approved.get("approver"),
            comment=approved.get("comment"),
        )
    if plan.status == "rejected":
        return _make("rejected", f"REJECTED by {_who(last or {})}: {head}. Nothing was written.", **common)
    if plan.status == "expired" or approval.expire_if_due(wh, plan, store.utcnow()):
        return _make(
            "expired",
            f"EXPIRED: nobody answered before {plan.expires_at} UTC: {head}. Nothing was written.",
            **common,
        )
    if last and last["decision"] == "refused":
        return _make(
            "refused",
            f"REFUSED answer by {_who(last)}: {head}. Nothing was written; the plan still needs an "
            "approver other than the requester.",
            **common,
        )
    if plan.status in ("approved", "applying"):
        return _make(
            "not_applied",
            f"APPROVED BUT NOT APPLIED: {head}; approved by {_who(last or {})}; apply did not finish "
            "(see apply_plan's log; re-running it writes only what is missing).",
            **common,
        )
    return _make(
        "built",
        f"BUILT, awaiting a decision: {head}. Nothing was written.",
        **common,
    )
