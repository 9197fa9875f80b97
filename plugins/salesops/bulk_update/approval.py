"""Approval decisions: Airflow's HITL request (UI or REST), timeouts, revocations, the demo switch.

Every decision is stored in ops.bulk_update_approval with the plan id *and* the plan hash it was
given for. Apply accepts a plan only when an ``approve`` names its current hash, was given
before the plan expired, by an authenticated person of the plan's approver group other than the
authenticated requester, and no reject, revoke or expiry was recorded for the plan (whatever
the order: a "no" recorded before apply starts wins over an earlier "yes").

Identity: the requester is the Airflow user who triggered the run (``triggering_user_name``);
the approver is the Airflow user who answered the HITL request (``responded_by``), in the UI or
over Airflow's REST API with their own credentials (``python -m salesops.bulk_update approve``
does the latter). There is no shared signing key and no typed approver name. See
docs/security.md for the threat model.
"""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from salesops.bulk_update import store
from salesops.bulk_update.model import FINAL_DECISIONS, Plan, PlanError
from salesops.bulk_update.settings import BulkUpdateSettings
from salesops.warehouse import Warehouse

log = logging.getLogger(__name__)

DEMO_APPROVER_ENV = "SALESOPS_DEMO_AUTO_APPROVE"
DEMO_PREFIX = "demo-"
# Channels whose "approve" apply accepts: the HITL answer (UI or REST, an authenticated Airflow
# user) and the demo switch (demo target only).
TRUSTED_CHANNELS = ("ui", "demo")
DECISIONS = ("approve", "reject", "expired", "refused", "revoke")
# Decisions that stop a plan whatever came before them (a "no" wins over an earlier "yes").
STOPPING = ("reject", "expired", "revoke")
APPLY_STARTED = ("applying", "applied", "applied_with_errors")


class ApprovalError(PlanError):
    """An approval is missing, invalid, expired or given by someone who may not give it."""


@dataclass(frozen=True)
class Decision:
    decision: str  # approve | reject | expired | refused | revoke
    approver: str | None
    responded_at: datetime
    comment: str | None = None
    channel: str = "ui"
    note: str = ""  # why a response was refused / treated as expiry


def _same(a: str | None, b: str | None) -> bool:
    return a is not None and b is not None and bool(a.strip()) and a.strip().lower() == b.strip().lower()


def eligible_approvers(plan: Plan, settings: BulkUpdateSettings) -> list[str]:
    """The plan's approver group from policy, without the requester (the HITL ``assigned_users``).

    Raises:
        ApprovalError: the group lists nobody, or nobody but the requester.
    """
    group = settings.group(plan.approver_group)
    if not group.users:
        raise ApprovalError(
            f"approver group {group.name} lists no users in bulk_updates.yaml; nobody may approve plan {plan.plan_id}"
        )
    users = [u for u in group.users if not _same(u, plan.requester)]
    if not users:
        raise ApprovalError(
            f"approver group {group.name} {list(group.users)} has nobody but the requester "
            f"{plan.requester!r}; a second person must approve plan {plan.plan_id}"
        )
    return users


def check_approver(
    plan: Plan,
    approver: str | None,
    settings: BulkUpdateSettings,
    *,
    channel: str,
    also_known_as: str | None = None,
) -> str | None:
    """Why the authenticated ``approver`` may not approve ``plan`` (None when they may).

    ``also_known_as`` is the responder's other Airflow identity (display name next to the user
    id): the requester may not approve under either.
    """
    if not approver:
        return "the response does not say who gave it"
    if any(_same(x, plan.requester) for x in (approver, also_known_as)):
        return (
            f"approver {approver!r} is the authenticated requester of the plan; a second person must approve"
        )
    if channel == "demo":
        from salesops.bulk_update.target import split

        if split(plan.target)[0] != "demo":
            return f"the demo switch approves only plans for the demo CRM; plan {plan.plan_id} is for {plan.target}"
        return (
            None
            if approver.startswith(DEMO_PREFIX)
            else f"demo approver {approver!r} must start with {DEMO_PREFIX!r}"
        )
    group = settings.group(plan.approver_group)
    if approver not in group.users:
        return f"approver {approver!r} is not in approver group {group.name} {list(group.users)}"
    return None


def record_decision(wh: Warehouse, plan: Plan, d: Decision, *, run_id: str | None = None) -> str:
    """Store a decision with the plan (and move the plan's status for final decisions)."""
    if d.decision not in DECISIONS:
        raise ApprovalError(f"unknown decision {d.decision!r}")
    approval_id = store.insert_approval(
        wh,
        {
            "plan_id": plan.plan_id,
            "plan_hash": plan.content_hash,
            "decision": d.decision,
            "approver": d.approver,
            "responded_at": d.responded_at,
            "comment": "; ".join(x for x in (d.comment, d.note) if x) or None,
            "channel": d.channel,
            "run_id": run_id,
        },
    )
    status = "revoked" if d.decision == "revoke" else FINAL_DECISIONS.get(d.decision)
    if status and plan.status not in APPLY_STARTED:
        # A "no" after an approval still moves the plan to rejected/revoked/expired: it wins.
        if d.decision != "approve" or plan.status == "built":
            store.set_plan_status(wh, plan.plan_id, status)
            plan.status = status
    log.info("plan %s: %s by %s via %s %s", plan.plan_id, d.decision, d.approver or "-", d.channel, d.note)
    return approval_id


def decision_from_hitl(plan: Plan, payload: dict[str, Any], settings: BulkUpdateSettings) -> Decision:
    """Interpret an ApprovalOperator response (the event ``execute_complete`` receives).

    The responder is Airflow's authenticated user (``responded_by_user``), whether they clicked in
    the UI or called the REST endpoint. The scheduler resolves an unanswered request at
    ``response_timeout`` with the defaults (``Reject``) and no responder: an expiry.
    """
    chosen = list(payload.get("chosen_options") or [])
    responded_at = payload.get("responded_at") or store.utcnow()
    if isinstance(responded_at, str):
        responded_at = datetime.fromisoformat(responded_at)
    responded_at = store.naive_utc(responded_at)
    user = payload.get("responded_by_user") or None
    params = payload.get("params_input") or {}
    comment = (params.get("comment") or None) if isinstance(params, dict) else None
    if payload.get("timedout") or user is None:
        return Decision(
            "expired", None, responded_at, comment, "timeout", "no response before the approval timeout"
        )
    approver = str(user.get("id") or user.get("name") or "")
    if responded_at > store.naive_utc(plan.expires_at):
        return Decision(
            "expired",
            approver,
            responded_at,
            comment,
            "ui",
            f"response after the plan expired at {plan.expires_at}",
        )
    if chosen != ["Approve"]:
        return Decision("reject", approver, responded_at, comment, "ui")
    problem = check_approver(plan, approver, settings, channel="ui", also_known_as=user.get("name"))
    if problem:
        return Decision("refused", approver, responded_at, comment, "ui", problem)
    return Decision("approve", approver, responded_at, comment, "ui")


def approvals(wh: Warehouse, plan_id: str) -> list[dict[str, Any]]:
    store.ensure_tables(wh)
    return store.query(wh, "select_approvals.sql", {"plan_id": plan_id})


def refuse_if_closed(plan: Plan, now: datetime | None = None) -> None:
    """Raise a clear error when ``plan`` can no longer be approved (expired, decided, applied)."""
    now = store.naive_utc(now) if now else store.utcnow()
    if plan.status == "expired" or (plan.status == "built" and now > store.naive_utc(plan.expires_at)):
        raise ApprovalError(
            f"plan {plan.plan_id} expired at {plan.expires_at} UTC; approvals are refused. "
            "Build a new plan (the data may have changed since)."
        )
    if plan.status != "built":
        raise ApprovalError(
            f"plan {plan.plan_id} is {plan.status}; only a plan awaiting approval can be approved"
        )


def revoke(
    wh: Warehouse, plan: Plan, *, by: str, comment: str | None = None, run_id: str | None = None
) -> str:
    """Record a revocation: the plan is not applied, even if it was approved.

    Anyone may stop a plan (stopping never writes to the CRM); once apply has started the
    revocation is refused with the plan's status, because changes may already be written (undo
    them with an undo plan).
    """
    if not by:
        raise ApprovalError("a revocation must say who gives it")
    if plan.status in APPLY_STARTED:
        raise ApprovalError(
            f"plan {plan.plan_id} is {plan.status}: apply has started, a revocation cannot stop it; "
            "build an undo plan instead"
        )
    return record_decision(
        wh,
        plan,
        Decision("revoke", by, store.utcnow(), comment, "cli", "revoked before apply"),
        run_id=run_id,
    )


def expire_if_due(wh: Warehouse, plan: Plan, now: datetime | None = None) -> bool:
    """Expire an undecided plan past its ``expires_at``; True if it is (now) expired."""
    now = store.naive_utc(now) if now else store.utcnow()
    if plan.status == "expired":
        return True
    if plan.status != "built" or now <= store.naive_utc(plan.expires_at):
        return False
    record_decision(
        wh, plan, Decision("expired", None, now, None, "timeout", f"no decision before {plan.expires_at}")
    )
    plan.status = "expired"
    return True


def demo_approver() -> str | None:
    """The demo approver identity from ``SALESOPS_DEMO_AUTO_APPROVE`` (None when the switch is off)."""
    value = (os.getenv(DEMO_APPROVER_ENV) or "").strip()
    return value or None


def demo_approve(
    wh: Warehouse, plan: Plan, settings: BulkUpdateSettings, *, run_id: str | None = None
) -> Decision:
    """Approve as the named demo identity. Only for `make demo`, only for plans for the demo CRM.

    Raises:
        ApprovalError: the switch is off, the identity is not a ``demo-`` identity, or the plan's
            target is not the demo CRM.
    """
    approver = demo_approver()
    if not approver:
        raise ApprovalError(
            f"approval_channel 'demo' needs the explicit demo switch {DEMO_APPROVER_ENV}=demo-<name> "
            "and works only with the demo source; otherwise approve in the Airflow UI (or its REST API)"
        )
    problem = check_approver(plan, approver, settings, channel="demo")
    if problem:
        raise ApprovalError(problem)
    d = Decision(
        "approve", approver, store.utcnow(), f"auto-approved by the demo switch {DEMO_APPROVER_ENV}", "demo"
    )
    record_decision(wh, plan, d, run_id=run_id)
    return d


def require_approval(wh: Warehouse, plan: Plan, settings: BulkUpdateSettings) -> dict[str, Any]:
    """The approval apply relies on; raises unless the plan is validly approved.

    Valid: no reject, revoke or expiry recorded for the plan (in any order), and an ``approve``
    for this plan id with the plan's current hash, through a trusted channel, before the plan
    expired, by an authenticated member of the approver group who is not the requester. A
    ``demo`` approval is honoured only for a demo-target plan while the demo switch names the
    same demo identity.
    """
    decided = approvals(wh, plan.plan_id)
    stop = [a for a in decided if a["decision"] in STOPPING]
    if stop:
        a = stop[0]
        raise ApprovalError(
            f"plan {plan.plan_id} was not approved: {a['decision']} by {a['approver'] or '-'} "
            f"at {a['responded_at']} ({a['comment'] or 'no comment'}) wins over any approval"
        )
    approved = [a for a in decided if a["decision"] == "approve" and a["channel"] in TRUSTED_CHANNELS]
    if not approved:
        raise ApprovalError(f"plan {plan.plan_id} has no approval")
    last = approved[-1]
    if last["plan_hash"] != plan.content_hash:
        raise ApprovalError(
            f"approval {last['approval_id']} names hash {last['plan_hash']}, plan {plan.plan_id} has {plan.content_hash}"
        )
    if store.naive_utc(last["responded_at"]) > store.naive_utc(plan.expires_at):
        raise ApprovalError(
            f"approval {last['approval_id']} came after the plan expired at {plan.expires_at}"
        )
    if last["channel"] == "demo" and demo_approver() != last["approver"]:
        raise ApprovalError(
            f"approval {last['approval_id']} is a demo approval but the demo switch {DEMO_APPROVER_ENV} is not set to it"
        )
    problem = check_approver(plan, last["approver"], settings, channel=last["channel"])
    if problem:
        raise ApprovalError(f"approval {last['approval_id']}: {problem}")
    return last
