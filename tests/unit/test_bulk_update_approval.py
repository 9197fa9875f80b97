"""Approval: HITL responses, expiry, requester != approver, approver groups, signed records, demo switch."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from tests.unit.test_bulk_update_support import approve, make_env, no_sleep

from salesops.bulk_update import approval, store
from salesops.bulk_update.__main__ import main as cli
from salesops.bulk_update.apply import apply_plan
from salesops.bulk_update.plan import build_plan, load_plan
from salesops.bulk_update.settings import load_settings


@pytest.fixture()
def crm_env(tmp_path, monkeypatch):
    return make_env(tmp_path, monkeypatch)


KEY = b"test-signing-key"


@pytest.fixture()
def planned(crm_env, monkeypatch):
    crm, wh = crm_env
    monkeypatch.setenv("SALESOPS_WAREHOUSE_URL", wh.url)
    monkeypatch.setenv(approval.SIGNING_KEY_ENV, KEY.decode())
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
    assert self_approval.decision == "refused" and "is the requester" in self_approval.note
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
    with pytest.raises(AirflowFailException, match="is the requester"):
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
    with pytest.raises(approval.ApprovalError, match="last decision: expired"):
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
    with pytest.raises(approval.ApprovalError, match="came after the plan expired"):
        apply_plan(wh, crm, p.plan_id, sleep=no_sleep)
    assert crm.calls == 0


def test_signed_record_must_name_this_plan_and_hash(planned):
    _, wh, p = planned
    s = load_settings()
    # A record for another hash is refused at write time by the CLI...
    assert (
        cli(["approve", "--plan-id", p.plan_id, "--hash", "0" * 64, "--approver", "revops-approver-1"]) == 1
    )
    # ...and records written around the CLI do not verify.
    forged = approval.sign(b"wrong-key", p.plan_id, p.content_hash, "approve", "revops-approver-1")
    other_hash = approval.sign(KEY, p.plan_id, "f" * 64, "approve", "revops-approver-1")
    for sig, h in ((forged, p.content_hash), (other_hash, "f" * 64)):
        store.insert_approval(
            wh,
            {
                "plan_id": p.plan_id,
                "plan_hash": h,
                "decision": "approve",
                "approver": "revops-approver-1",
                "responded_at": store.utcnow(),
                "channel": "cli",
                "signature": sig,
            },
        )
    # A signature over a different approver than the row says does not verify either.
    swapped = approval.sign(KEY, p.plan_id, p.content_hash, "approve", "salesops-approver-2")
    store.insert_approval(
        wh,
        {
            "plan_id": p.plan_id,
            "plan_hash": p.content_hash,
            "decision": "approve",
            "approver": "salesops-approver-1",
            "responded_at": store.utcnow(),
            "channel": "cli",
            "signature": swapped,
        },
    )
    assert approval.find_signed_decision(wh, p, KEY, s) is None
    assert (
        cli(["approve", "--plan-id", p.plan_id, "--hash", p.content_hash, "--approver", "analyst-1"]) == 1
    )  # requester
    assert (
        cli(
            [
                "approve",
                "--plan-id",
                p.plan_id,
                "--hash",
                p.content_hash,
                "--approver",
                "salesops-approver-2",
                "--comment",
                "ok",
            ]
        )
        == 0
    )
    d = approval.find_signed_decision(wh, p, KEY, s)
    assert (d.decision, d.approver, d.channel) == ("approve", "salesops-approver-2", "sensor")


def test_sensor_pokes_until_a_valid_signed_approval(planned):
    from salesops.bulk_update.operators import SignedApprovalSensor

    crm, wh, p = planned
    sensor = SignedApprovalSensor(task_id="wait_for_signed_approval")
    assert sensor.poke(_ctx(p.plan_id)) is False
    assert approval.require_approval.__name__  # the gate below is what apply uses
    with pytest.raises(approval.ApprovalError):
        apply_plan(wh, crm, p.plan_id, sleep=no_sleep)
    assert (
        cli(
            ["approve", "--plan-id", p.plan_id, "--hash", p.content_hash, "--approver", "salesops-approver-1"]
        )
        == 0
    )
    # The CLI record alone is not trusted by apply: only the sensor's verified acceptance is.
    with pytest.raises(approval.ApprovalError, match="has no approval"):
        apply_plan(wh, crm, p.plan_id, sleep=no_sleep)
    assert sensor.poke(_ctx(p.plan_id)) is True
    assert apply_plan(wh, crm, p.plan_id, sleep=no_sleep).ok
    last = approval.approvals(wh, p.plan_id)[-1]
    assert (last["decision"], last["channel"], last["approver"]) == (
        "approve",
        "sensor",
        "salesops-approver-1",
    )


def test_sensor_skips_on_signed_reject_and_on_expiry(planned):
    from airflow.sdk.exceptions import AirflowSkipException

    from salesops.bulk_update.operators import SignedApprovalSensor

    _, wh, p = planned
    sensor = SignedApprovalSensor(task_id="wait_for_signed_approval")
    assert (
        cli(["reject", "--plan-id", p.plan_id, "--hash", p.content_hash, "--approver", "salesops-approver-1"])
        == 0
    )
    with pytest.raises(AirflowSkipException, match="rejected by salesops-approver-1"):
        sensor.poke(_ctx(p.plan_id))
    assert load_plan(wh, p.plan_id).status == "rejected"
    p2 = build_plan(wh, "fix_forecast_category", requester="analyst-1", run_id="r2", dag_id="d")
    wh.execute(
        "update ops.bulk_update_plan set expires_at = cast('2000-01-01' as timestamp) where plan_id = :p",
        {"p": p2.plan_id},
    )
    wh.execute(
        "update ops.bulk_update_plan set created_at = cast('1999-12-31' as timestamp) where plan_id = :p",
        {"p": p2.plan_id},
    )
    with pytest.raises(AirflowSkipException, match="expired"):
        sensor.poke(_ctx(p2.plan_id))
    assert load_plan(wh, p2.plan_id).status == "expired"


def test_demo_switch_is_explicit_named_and_recorded(planned, monkeypatch):
    crm, wh, p = planned
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
