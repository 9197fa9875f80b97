"""Approval decisions: from the Airflow UI (HITL), signed records (CLI/REST/sensor), timeouts, demo.

Every decision is stored in ops.bulk_update_approval with the plan id *and* the plan hash it was
given for. Apply accepts only an ``approve`` that names the plan's current hash, was given before
the plan expired, by someone other than the requester, through a channel apply trusts.

Signed approval records (channel ``cli``) carry an HMAC-SHA256 signature over
``plan_id \\n plan_hash \\n decision \\n approver`` with a shared key. The key comes from the
environment variable ``SALESOPS_APPROVAL_SIGNING_KEY`` or, in Airflow, from the password of the
connection ``salesops_approval_signing`` (see :func:`signing_key`). Without the key no record can
be forged that the sensor accepts; with a wrong plan id or hash the signature does not verify.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import os
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from salesops.bulk_update import store
from salesops.bulk_update.plan import FINAL_DECISIONS, Plan, PlanError
from salesops.bulk_update.settings import BulkUpdateSettings
from salesops.warehouse import Warehouse

log = logging.getLogger(__name__)

SIGNING_KEY_ENV = "SALESOPS_APPROVAL_SIGNING_KEY"
SIGNING_CONN_ID = "salesops_approval_signing"
DEMO_APPROVER_ENV = "SALESOPS_DEMO_AUTO_APPROVE"
DEMO_PREFIX = "demo-"
# Channels whose "approve" apply accepts. A 'cli' record is only a request until the sensor has
# verified its signature and recorded the acceptance as a 'sensor' approval.
TRUSTED_CHANNELS = ("ui", "sensor", "demo")
DECISIONS = ("approve", "reject", "expired", "refused")


class ApprovalError(PlanError):
    """An approval is missing, invalid, expired or given by someone who may not give it."""


@dataclass(frozen=True)
class Decision:
    decision: str  # approve | reject | expired | refused
    approver: str | None
    responded_at: datetime
    comment: str | None = None
    channel: str = "ui"
    note: str = ""  # why a response was refused / treated as expiry


def signing_key(conn_id: str = SIGNING_CONN_ID) -> bytes | None:
    """The HMAC key: env ``SALESOPS_APPROVAL_SIGNING_KEY``, else the Airflow connection's password."""
    value = os.getenv(SIGNING_KEY_ENV)
    if value:
        return value.encode("utf-8")
    try:
        from airflow.sdk.bases.hook import BaseHook

        conn = BaseHook.get_connection(conn_id)
    except Exception:  # no Airflow, or no such connection: no key
        return None
    return conn.password.encode("utf-8") if conn.password else None


def sign(key: bytes, plan_id: str, plan_hash: str, decision: str, approver: str) -> str:
    """HMAC-SHA256 (hex) over the plan id, plan hash, decision and approver."""
    if not key:
        raise ApprovalError(
            "no signing key: set SALESOPS_APPROVAL_SIGNING_KEY or the salesops_approval_signing connection"
        )
    msg = "\n".join([plan_id, plan_hash, decision, approver]).encode("utf-8")
    return hmac.new(key, msg, hashlib.sha256).hexdigest()


def verify_signature(key: bytes, record: dict[str, Any]) -> bool:
    if not record.get("signature") or not record.get("approver"):
        return False
    expected = sign(key, record["plan_id"], record["plan_hash"], record["decision"], record["approver"])
    return hmac.compare_digest(expected, record["signature"])


def check_approver(
    plan: Plan, approver: str | None, settings: BulkUpdateSettings, *, channel: str
) -> str | None:
    """Why ``approver`` may not approve ``plan`` (None when they may)."""
    if not approver:
        return "the response does not say who gave it"
    if plan.requester and approver.strip().lower() == plan.requester.strip().lower():
        return f"approver {approver!r} is the requester of the plan; a second person must approve"
    group = settings.group(plan.approver_group)
    if channel == "demo":
        return (
            None
            if approver.startswith(DEMO_PREFIX)
            else f"demo approver {approver!r} must start with {DEMO_PREFIX!r}"
        )
    if group.users and approver not in group.users:
        return f"approver {approver!r} is not in approver group {group.name} {list(group.users)}"
    return None


def record_decision(
    wh: Warehouse, plan: Plan, d: Decision, *, run_id: str | None = None, signature: str | None = None
) -> str:
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
            "signature": signature,
            "run_id": run_id,
        },
    )
    if d.decision in FINAL_DECISIONS:
        store.set_plan_status(wh, plan.plan_id, FINAL_DECISIONS[d.decision])
    log.info("plan %s: %s by %s via %s %s", plan.plan_id, d.decision, d.approver or "-", d.channel, d.note)
    return approval_id


def decision_from_hitl(plan: Plan, payload: dict[str, Any], settings: BulkUpdateSettings) -> Decision:
    """Interpret an ApprovalOperator response (the event ``execute_complete`` receives).

    The scheduler resolves an unanswered request at ``response_timeout`` with the defaults
    (``Reject``) and ``responded_by_user=None``: that is an expiry, not somebody's rejection.
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
    problem = check_approver(plan, approver, settings, channel="ui")
    if problem:
        return Decision("refused", approver, responded_at, comment, "ui", problem)
    return Decision("approve", approver, responded_at, comment, "ui")


def approvals(wh: Warehouse, plan_id: str) -> list[dict[str, Any]]:
    store.ensure_tables(wh)
    return store.query(wh, "select_approvals.sql", {"plan_id": plan_id})


def write_signed_approval(
    wh: Warehouse,
    plan: Plan,
    *,
    plan_hash: str,
    approver: str,
    key: bytes,
    settings: BulkUpdateSettings,
    decision: str = "approve",
    comment: str | None = None,
) -> str:
    """The CLI's write: a signed record naming this exact plan id and hash.

    Refuses (before writing) a hash that is not the plan's, a plan that is no longer open, and an
    approver who may not approve it.
    """
    if decision not in ("approve", "reject"):
        raise ApprovalError("decision must be approve or reject")
    if plan_hash != plan.content_hash:
        raise ApprovalError(
            f"hash {plan_hash} is not plan {plan.plan_id}'s hash {plan.content_hash}; review the current plan"
        )
    if plan.status != "built":
        raise ApprovalError(
            f"plan {plan.plan_id} is {plan.status}; only a plan awaiting approval can be decided"
        )
    problem = check_approver(plan, approver, settings, channel="cli") if decision == "approve" else None
    if problem:
        raise ApprovalError(problem)
    signature = sign(key, plan.plan_id, plan_hash, decision, approver)
    return store.insert_approval(
        wh,
        {
            "plan_id": plan.plan_id,
            "plan_hash": plan_hash,
            "decision": decision,
            "approver": approver,
            "responded_at": store.utcnow(),
            "comment": comment,
            "channel": "cli",
            "signature": signature,
        },
    )


def find_signed_decision(
    wh: Warehouse, plan: Plan, key: bytes, settings: BulkUpdateSettings
) -> Decision | None:
    """The first valid signed decision for this plan id and hash, or None.

    Records with a bad signature, another hash, or an approver who may not approve are logged and
    ignored (they never count as a decision, not even a rejection).
    """
    for rec in approvals(wh, plan.plan_id):
        if rec["channel"] != "cli":
            continue
        if rec["plan_hash"] != plan.content_hash:
            log.warning(
                "plan %s: ignoring signed record %s for another hash %s",
                plan.plan_id,
                rec["approval_id"],
                rec["plan_hash"],
            )
            continue
        if not verify_signature(key, rec):
            log.warning(
                "plan %s: ignoring record %s: signature does not verify", plan.plan_id, rec["approval_id"]
            )
            continue
        if rec["decision"] == "approve":
            problem = check_approver(plan, rec["approver"], settings, channel="cli")
            if problem:
                log.warning(
                    "plan %s: ignoring signed approval %s: %s", plan.plan_id, rec["approval_id"], problem
                )
                continue
        return Decision(
            rec["decision"],
            rec["approver"],
            rec["responded_at"],
            rec["comment"],
            "sensor",
            f"signed record {rec['approval_id']}",
        )
    return None


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
    """Approve as the named demo approver. Only for `make demo`; production never calls this.

    Raises:
        ApprovalError: the switch is off or the identity is not a ``demo-`` identity.
    """
    approver = demo_approver()
    if not approver:
        raise ApprovalError(
            f"approval_channel 'demo' needs the explicit demo switch {DEMO_APPROVER_ENV}=demo-<name>; "
            "without it approve in the Airflow UI or with the signed CLI record"
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

    Valid: decision ``approve`` for this plan id with the plan's current hash, through a trusted
    channel, responded before the plan expired, by someone other than the requester; the latest
    final decision for the plan is that approval (a later reject/expiry wins). A ``demo``
    approval is honoured only while the demo switch names the same demo approver.
    """
    final = [
        a
        for a in approvals(wh, plan.plan_id)
        if a["decision"] in FINAL_DECISIONS and a["channel"] in (*TRUSTED_CHANNELS, "timeout")
    ]
    if not final:
        raise ApprovalError(f"plan {plan.plan_id} has no approval")
    last = final[-1]
    if last["decision"] != "approve":
        raise ApprovalError(
            f"plan {plan.plan_id} was not approved (last decision: {last['decision']} by {last['approver'] or '-'})"
        )
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
