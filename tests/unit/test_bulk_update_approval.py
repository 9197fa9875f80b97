"""Approval: HITL responses, expiry, requester != approver, approver groups, REST approvals (tests/unit/test_bulk_update_cli_rest.py), revocation, demo switch."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest
from tests.unit.test_bulk_update_support import approve, make_env, no_sleep

from salesops.bulk_update import approval, store
from salesops.bulk_update.apply import apply_plan
from salesops.bulk_update.plan import build_plan, load_plan
from salesops.bulk_update.settings import load_settings


@pytest.fixture()
def crm_env(tmp_path, monkeypatch):
    return make_env(tmp_path, monkeypatch)


@pytest.fixture()
def planned(crm_env, monkeypatch):
    crm, wh = crm_env
    monkeypatch.setenv("SALESOPS_WAREHOUSE_URL", wh.url)
    p = build_plan(wh, "fix_forecast_category", requester="analyst-1")
    return crm, wh, p


def _payload(option, user, at=None, comment=""):
    return {
        "chosen_options": [option],
        "params_input": {"comment": comment},
        "responded_at": at or datetime.now(UTC),
        "responded_by_user": user,
    }


def test_hitl_response_interpretation(planned):
    _, _, p = planned
    s = load_settings()
    ok = approval.decision_from_hitl(
        p, _payload("Approve", {"id": "salesops-approver-1", "name": "x"}, comment="fine"), s
    )
    assert (ok.decision, ok.approver, ok.comment, ok.channel) == (
        "approve",
        "salesops-approver-1",
        "fine",
        "ui",
    )
    assert (
        approval.decision_from_hitl(
            p, _payload("Reject", {"id": "salesops-approver-1", "name": "x"}), s
        ).decision
        == "reject"
    )
    # The scheduler's timeout sweep answers with the default (Reject) and no responder: expiry.
    timed_out = approval.decision_from_hitl(p, {**_payload("Reject", None), "timedout": True}, s)
    assert (timed_out.decision, timed_out.channel) == ("expired", "timeout")
    self_approval = approval.decision_from_hitl(
        p, _payload("Approve", {"id": "analyst-1", "name": "analyst-1"}), s
    )
    assert self_approval.decision == "refused" and "is the authenticated requester" in self_approval.note
    outsider = approval.decision_from_hitl(p, _payload("Approve", {"id": "someone-else", "name": "x"}), s)
    assert outsider.decision == "refused" and "not in approver group sales_ops" in outsider.note
    late = approval.decision_from_hitl(
        p,
        _payload(
            "Approve", {"id": "salesops-approver-1", "name": "x"}, at=datetime.now(UTC) + timedelta(days=2)
        ),
        s,
    )
    assert late.decision == "expired"


def test_sensitive_plan_needs_the_stricter_group(crm_env):
    _, wh = crm_env
    p = build_plan(wh, "close_stale_opportunities", requester="analyst-1")
    s = load_settings()
    d = approval.decision_from_hitl(p, _payload("Approve", {"id": "salesops-approver-1", "name": "x"}), s)
    assert d.decision == "refused" and "revops_leadership" in d.note
    assert (
        approval.decision_from_hitl(
            p, _payload("Approve", {"id": "revops-approver-1", "name": "x"}), s
        ).decision
        == "approve"
    )


class _TI:
    def __init__(self, plan_id):
        self.plan_id = plan_id

    def xcom_pull(self, task_ids):
        return {"plan_id": self.plan_id}


def _ctx(plan_id):
    return {"ti": _TI(plan_id), "run_id": "manual__ui"}


def test_approval_operator_records_decisions_and_only_approve_passes(planned):
    from airflow.sdk.exceptions import AirflowFailException

    from salesops.bulk_update.operators import PlanApprovalOperator

    crm, wh, p = planned
    op = PlanApprovalOperator(task_id="ask_approval")
    assert op.defaults == ["Reject"] and op.options == ["Approve", "Reject"]
    with pytest.raises(AirflowFailException, match="is the authenticated requester"):
        op.execute_complete(_ctx(p.plan_id), _payload("Approve", {"id": "analyst-1", "name": "analyst-1"}))
    assert load_plan(wh, p.plan_id).status == "built"  # a refused response decides nothing
    out = op.execute_complete(
        _ctx(p.plan_id), _payload("Approve", {"id": "salesops-approver-1", "name": "a"}, comment="ok")
    )
    assert out["chosen_options"] == ["Approve"]
    rows = approval.approvals(wh, p.plan_id)
    assert [(r["decision"], r["approver"], r["channel"], r["plan_hash"]) for r in rows] == [
        ("refused", "analyst-1", "ui", p.content_hash),
        ("approve", "salesops-approver-1", "ui", p.content_hash),
    ]
    assert load_plan(wh, p.plan_id).status == "approved"


def test_timeout_expires_the_plan_and_nothing_is_applied(planned):
    from salesops.bulk_update.operators import PlanApprovalOperator

    crm, wh, p = planned
    op = PlanApprovalOperator(task_id="ask_approval")
    out = op.execute_complete(_ctx(p.plan_id), {**_payload("Reject", None), "timedout": True})
    assert out["chosen_options"] == ["Reject"]
    assert load_plan(wh, p.plan_id).status == "expired"
    with pytest.raises(approval.ApprovalError, match="was not approved: expired"):
        apply_plan(wh, crm, p.plan_id, sleep=no_sleep)
    assert crm.calls == 0


def test_expire_if_due(planned):
    crm, wh, p = planned
    assert not approval.expire_if_due(wh, p, now=p.expires_at - timedelta(minutes=1))
    assert approval.expire_if_due(wh, p, now=p.expires_at + timedelta(seconds=1))
    assert load_plan(wh, p.plan_id).status == "expired"
    assert [(a["decision"], a["channel"]) for a in approval.approvals(wh, p.plan_id)] == [
        ("expired", "timeout")
    ]
    # An approval after the expiry is not accepted either.
    approve(wh, load_plan(wh, p.plan_id))
    wh.execute(
        "update ops.bulk_update_approval set responded_at = cast(:t as timestamp) where decision = 'approve'",
        {"t": store.iso(p.expires_at + timedelta(hours=1))},
    )
    with pytest.raises(approval.ApprovalError, match="was not approved: expired"):
        apply_plan(wh, crm, p.plan_id, sleep=no_sleep)
    # Even without the expiry record, an approval given after expires_at is not honoured.
    wh.execute("delete from ops.bulk_update_approval where decision = 'expired'")
    with pytest.raises(approval.ApprovalError, match="came after the plan expired"):
        apply_plan(wh, crm, p.plan_id, sleep=no_sleep)
    assert crm.calls == 0


def test_a_reject_or_revoke_before_apply_wins_over_an_earlier_approve(planned):
    crm, wh, p = planned
    approve(wh, p)
    approval.record_decision(
        wh, p, approval.Decision("reject", "salesops-approver-2", store.utcnow(), "wrong quarter", "ui")
    )
    assert load_plan(wh, p.plan_id).status == "rejected"
    with pytest.raises(
        approval.ApprovalError, match="reject by salesops-approver-2 .* wins over any approval"
    ):
        apply_plan(wh, crm, p.plan_id, sleep=no_sleep)
    assert crm.calls == 0
    # Every decision stays in the log, in order.
    assert [a["decision"] for a in approval.approvals(wh, p.plan_id)] == ["approve", "reject"]


def test_revoke_before_apply_wins_and_is_refused_once_apply_started(planned):
    crm, wh, p = planned
    p2 = build_plan(wh, "fix_forecast_category", requester="analyst-1", run_id="r2", dag_id="d")
    approve(wh, p)
    approval.revoke(wh, load_plan(wh, p.plan_id), by="analyst-1", comment="changed my mind")
    assert load_plan(wh, p.plan_id).status == "revoked"
    with pytest.raises(approval.ApprovalError, match="revoke by analyst-1"):
        apply_plan(wh, crm, p.plan_id, sleep=no_sleep)
    assert crm.calls == 0
    approve(wh, p2)
    assert apply_plan(wh, crm, p2.plan_id, sleep=no_sleep).ok
    with pytest.raises(approval.ApprovalError, match="apply has started"):
        approval.revoke(wh, load_plan(wh, p2.plan_id), by="analyst-1")
    assert [a["decision"] for a in approval.approvals(wh, p2.plan_id)] == ["approve"]


def test_expired_plan_refuses_approvals_with_a_clear_message(planned):
    _, wh, p = planned
    with pytest.raises(approval.ApprovalError, match=r"expired at .* approvals are refused"):
        approval.refuse_if_closed(p, now=p.expires_at + timedelta(seconds=1))
    approval.refuse_if_closed(p, now=p.expires_at - timedelta(seconds=1))  # still open


def test_approvers_come_from_policy_without_the_requester(crm_env):
    _, wh = crm_env
    s = load_settings()
    p = build_plan(wh, "fix_forecast_category", requester="admin")
    assert approval.eligible_approvers(p, s) == ["salesops-approver-1", "salesops-approver-2"]
    p.requester = "SalesOps-Approver-1"  # identities compare case-insensitively
    assert approval.eligible_approvers(p, s) == ["admin", "salesops-approver-2"]
    lonely = replace(s.group(p.approver_group), users=("admin",))
    s2 = replace(s, groups={**s.groups, p.approver_group: lonely})
    p.requester = "admin"
    with pytest.raises(approval.ApprovalError, match="nobody but the requester 'admin'"):
        approval.eligible_approvers(p, s2)
    empty = replace(s, groups={**s.groups, p.approver_group: replace(lonely, users=())})
    with pytest.raises(approval.ApprovalError, match="lists no users"):
        approval.eligible_approvers(p, empty)
    # The requester may not approve under their display name either.
    d = approval.decision_from_hitl(p, _payload("Approve", {"id": "u-17", "name": "admin"}), s)
    assert d.decision == "refused" and "authenticated requester" in d.note


def test_approval_request_is_assigned_to_the_group_minus_the_requester(crm_env, monkeypatch):
    from airflow.providers.standard.operators.hitl import ApprovalOperator

    from salesops.bulk_update.operators import PlanApprovalOperator

    _, wh = crm_env
    monkeypatch.setenv("SALESOPS_WAREHOUSE_URL", wh.url)
    p = build_plan(wh, "close_stale_opportunities", requester="admin")
    seen = {}
    monkeypatch.setattr(
        ApprovalOperator, "execute", lambda self, ctx: seen.setdefault("users", self.assigned_users)
    )
    PlanApprovalOperator(task_id="ask_approval").execute(_ctx(p.plan_id))
    assert seen["users"] == [{"id": "revops-approver-1", "name": "revops-approver-1"}]


class _Run:
    def __init__(self, user):
        self.triggering_user_name = user


def test_requester_is_the_authenticated_triggering_user(monkeypatch):
    from salesops.bulk_update.plan import PlanError
    from salesops.bulk_update.tasks import TEST_REQUESTER_ENV, resolve_requester

    monkeypatch.setenv(TEST_REQUESTER_ENV, "analyst-e2e")
    assert resolve_requester(_Run("admin")) == "admin"  # a real trigger: the env var is ignored
    assert resolve_requester(_Run("dag_test")) == "analyst-e2e"  # dag.test(): explicit local requester
    monkeypatch.delenv(TEST_REQUESTER_ENV)
    assert resolve_requester(_Run("dag_test")) == "dag_test"
    with pytest.raises(PlanError, match="no authenticated triggering user"):
        resolve_requester(_Run(None))  # scheduled / asset-triggered


def test_on_behalf_of_is_a_note_never_the_requester(crm_env):
    from salesops.bulk_update.render import approval_body

    _, wh = crm_env
    p = build_plan(wh, "fix_forecast_category", requester="admin", on_behalf_of="revops-approver-1")
    assert p.requester == "admin"
    assert "requested by **admin** (authenticated) on behalf of revops-approver-1" in approval_body(p)
    d = approval.decision_from_hitl(p, _payload("Approve", {"id": "admin", "name": "admin"}), load_settings())
    assert d.decision == "refused"


def test_demo_switch_works_only_for_the_demo_crm(planned, monkeypatch):
    """Issue 11 (1): the demo switch approved a plan for a real CRM, and apply wrote to it."""
    from salesops.bulk_update.target import TargetMismatch

    crm, wh, p = planned  # built from a load of the 'fake' CRM, not the demo
    monkeypatch.setenv(approval.DEMO_APPROVER_ENV, "demo-approver")
    with pytest.raises(approval.ApprovalError, match="only plans for the demo CRM"):
        approval.demo_approve(wh, p, load_settings())
    # A plan built for one org is never applied to another.
    crm.target_id = "salesforce:https://other.my.salesforce.com"
    approve(wh, p)
    with pytest.raises(TargetMismatch, match="refusing to apply it to salesforce:https://other"):
        apply_plan(wh, crm, p.plan_id, sleep=no_sleep)
    assert crm.calls == 0


def test_demo_switch_is_explicit_named_and_recorded(crm_env, monkeypatch):
    crm, wh = crm_env
    # This in-memory CRM stands in for the demo CRM: the load says so, and so does its target.
    wh.execute("update ops.load_audit set source = 'demo'")
    crm.target_id = "demo:/tmp/demo_crm.duckdb"
    p = build_plan(wh, "fix_forecast_category", requester="analyst-1", target=crm.target_id)
    s = load_settings()
    with pytest.raises(
        approval.ApprovalError, match="needs the explicit demo switch SALESOPS_DEMO_AUTO_APPROVE"
    ):
        approval.demo_approve(wh, p, s)
    monkeypatch.setenv(approval.DEMO_APPROVER_ENV, "alice")
    with pytest.raises(approval.ApprovalError, match="must start with 'demo-'"):
        approval.demo_approve(wh, p, s)
    monkeypatch.setenv(approval.DEMO_APPROVER_ENV, "demo-approver")
    d = approval.demo_approve(wh, p, s, run_id="demo_run")
    assert (d.approver, d.channel) == ("demo-approver", "demo")
    # Production (no switch) never honours a demo approval.
    monkeypatch.delenv(approval.DEMO_APPROVER_ENV)
    with pytest.raises(approval.ApprovalError, match="demo approval but the demo switch"):
        apply_plan(wh, crm, p.plan_id, sleep=no_sleep)
    monkeypatch.setenv(approval.DEMO_APPROVER_ENV, "demo-approver")
    report = apply_plan(wh, crm, p.plan_id, run_id="demo_run", sleep=no_sleep)
    assert report.approver == "demo-approver (demo switch)"
    assert {
        r["approver"] for r in approval.store.query(wh, "select_change_log.sql", {"plan_id": p.plan_id})
    } == {"demo-approver (demo switch)"}


def test_demo_channel_only_with_the_demo_source():
    from salesops.bulk_update.plan import PlanError
    from salesops.bulk_update.tasks import check_channel

    check_channel("demo", "demo")
    with pytest.raises(PlanError, match="works only with the demo source, not 'salesforce'"):
        check_channel("demo", "salesforce")
    with pytest.raises(PlanError, match="not one of"):
        check_channel("signed", "demo")
