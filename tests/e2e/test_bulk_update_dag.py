"""crm_bulk_update end to end with dag.test() on the loaded demo CRM (DemoCrm) and its warehouse.

The approver's answer in the Airflow UI is simulated the way the API server records it: a
background thread waits for the HITL task to reach ``awaiting_input``, fills the HITLDetail
response and resumes the task. The thread has a deadline and then fails the waiting task, so a
test can never hang.
"""

from __future__ import annotations

import json
import threading
import time
from datetime import UTC, datetime

import pytest

pytestmark = pytest.mark.e2e
DAG_ID = "crm_bulk_update"
FC = "ForecastCategoryName"
STAMP = "Last_Bulk_Update_Plan__c"


class HitlResponder(threading.Thread):
    """Answer the first HITL request of ``dag_id`` with ``option`` as ``user``.

    Waits ``delay`` seconds after the task starts waiting (AIRFLOW-NOTES: an answer within ~1 s
    can race the task on a real server). With ``option=None`` it is a watchdog: any request is
    unexpected and is failed at once. After ``deadline`` seconds it fails any waiting task so
    dag.test() returns; :func:`run` stops it when the run is over.
    """

    def __init__(
        self,
        dag_id: str,
        option: str | None,
        user: str = "",
        *,
        comment: str = "",
        delay: float = 0.5,
        deadline: float = 90,
    ):
        super().__init__(daemon=True)
        self.dag_id, self.option, self.user, self.comment = dag_id, option, user, comment
        self.delay, self.deadline = delay, deadline
        self.stop = threading.Event()
        self.answered = False
        self.error: BaseException | None = None

    def run(self) -> None:
        try:
            self._run()
        except BaseException as exc:  # surfaced by the test
            self.error = exc

    def _fail_waiting(self, session) -> int:
        from airflow.models.taskinstance import TaskInstance
        from airflow.utils.state import TaskInstanceState

        n = 0
        for ti in session.query(TaskInstance).filter(
            TaskInstance.dag_id == self.dag_id, TaskInstance.state == TaskInstanceState.AWAITING_INPUT
        ):
            ti.state = TaskInstanceState.FAILED
            n += 1
        return n

    def _run(self) -> None:
        from airflow.models.hitl import HITLDetail
        from airflow.models.taskinstance import TaskInstance
        from airflow.models.trigger import handle_event_submit
        from airflow.triggers.base import TriggerEvent
        from airflow.utils.session import create_session
        from airflow.utils.state import TaskInstanceState

        end = time.monotonic() + self.deadline
        while not self.stop.is_set() and time.monotonic() < end:
            with create_session() as session:
                ti = (
                    session.query(TaskInstance)
                    .filter(
                        TaskInstance.dag_id == self.dag_id,
                        TaskInstance.state == TaskInstanceState.AWAITING_INPUT,
                    )
                    .first()
                )
                if ti is not None and self.option is None:
                    self._fail_waiting(session)
                    raise AssertionError(f"unexpected approval request from {ti.task_id}")
                if ti is not None:
                    time.sleep(self.delay)
                    detail = session.query(HITLDetail).filter(HITLDetail.ti_id == ti.id).one()
                    detail.chosen_options = [self.option]
                    detail.params_input = {"comment": self.comment}
                    detail.responded_by = {"id": self.user, "name": self.user}
                    detail.responded_at = datetime.now(UTC)
                    session.add(detail)
                    session.flush()
                    handle_event_submit(
                        TriggerEvent(detail.as_resume_event_payload()), task_instance=ti, session=session
                    )
                    self.answered = True
                    return
            time.sleep(0.2)
        if not self.stop.is_set():
            with create_session() as session:
                self._fail_waiting(session)
            raise TimeoutError(f"no HITL request from {self.dag_id} within {self.deadline}s")


def run(conf: dict, option: str | None = None, user: str = "", comment: str = ""):
    """One dag.test() run; answers the approval request with ``option`` as ``user`` (None: none expected)."""
    import os

    from salesops.runner import run_dag

    # dag.test() runs have no authenticated user: the requester is made explicit (tasks.resolve_requester).
    conf = dict(conf)
    os.environ["SALESOPS_TEST_REQUESTER"] = conf.pop("requester", "analyst-e2e")
    responder = HitlResponder(DAG_ID, option, user, comment=comment)
    responder.start()
    try:
        dr = run_dag(DAG_ID, conf, check=False)
    finally:
        os.environ.pop("SALESOPS_TEST_REQUESTER", None)
        responder.stop.set()
        responder.join(timeout=120)
    if responder.error:
        raise responder.error
    if option is not None and not responder.answered:
        raise AssertionError("the run never asked for approval")
    return dr


def states(dr) -> dict[str, str]:
    from salesops.runner import task_instances

    return {ti.task_id: str(ti.state) for ti in task_instances(dr)}


def built(dr) -> dict:
    from tests.support.runs import xcom

    return xcom(dr, "build_plan")


def outcome(dr) -> dict:
    """What report_outcome concluded (pushed even when it skips or fails) and the run's note."""
    from airflow.models.dagrun import DagRun
    from airflow.utils.session import create_session
    from tests.support.runs import xcom

    with create_session() as session:
        note = session.query(DagRun).filter(DagRun.run_id == dr.run_id).one().note
    value = xcom(dr, "report_outcome", key="run_outcome")
    value = json.loads(value) if isinstance(value, str) else value
    return {**(value or {}), "run_note": note}


@pytest.fixture(scope="module")
def env(demo_env, airflow_db):
    """The module's private demo copy: (DemoCrm, Warehouse)."""
    return demo_env.crm, demo_env.warehouse


def crm_state(crm, wh, api_name: str, table: str) -> dict[str, dict]:
    ids = [r["id"] for r in wh.query(f"select id from {table} order by id")]
    from salesops.config import object_manifest

    obj = next(o for o in object_manifest().values() if o.api_name == api_name)
    fields = [f for f in obj.api_fields if f != "SystemModstamp"]
    return {r["Id"]: r for r in crm.get_records(api_name, ids, fields)}


def diff(before: dict[str, dict], after: dict[str, dict]) -> dict[tuple[str, str], tuple]:
    return {
        (rid, f): (before[rid].get(f), v)
        for rid, rec in after.items()
        for f, v in rec.items()
        if before[rid].get(f) != v
    }


def test_plans_match_the_demo_ground_truth(env):
    """Each plan proposes exactly the records the demo generator's ground truth says are defective
    (narrowed by the plan type's own policy: extra stale margin, open leads only)."""
    from datetime import timedelta

    from salesops.as_of import data_as_of as as_of
    from salesops.bulk_update.plan import build_plan
    from salesops.config import policy

    crm, wh = env
    gt = crm.ground_truth()
    ids = {d: set(g.record_id) for d, g in gt.groupby("defect")}

    def plan_ids(t):
        return set(build_plan(wh, t, requester="analyst-e2e", write_artifacts=False).record_ids)

    assert plan_ids("fix_forecast_category") == ids["opp_forecast_category_mismatch"]
    assert plan_ids("move_past_close_dates") == ids["opp_past_close_date"] - ids["opp_stale"]
    cutoff = as_of(wh).date() - timedelta(
        days=policy("hygiene")["stale_opportunity"]["days_without_activity"] + 60
    )
    long_stale = {
        r["id"]
        for r in wh.query(
            "select id from staging.stg_crm__opportunity where coalesce(last_activity_date, cast(created_at as date)) < :c",
            {"c": cutoff},
        )
    }
    assert plan_ids("close_stale_opportunities") == ids["opp_stale"] & long_stale
    open_leads = {
        r["id"]
        for r in wh.query(
            "select id from staging.stg_crm__lead where status in ('Open', 'Working', 'Nurturing') and not coalesce(is_converted, false)"
        )
    }
    inactive_owner = {
        r["id"]
        for r in wh.query(
            "select l.id from staging.stg_crm__lead l join staging.stg_crm__user u on u.id = l.owner_id where not u.is_active"
        )
    }
    placeable = {
        r["id"]
        for r in wh.query("select id from staging.stg_crm__lead where number_of_employees is not null")
    }
    placeable -= _unroutable(wh)
    expected = ((ids["lead_unassigned"] | ids["lead_misrouted"] | inactive_owner) & open_leads) & placeable
    assert plan_ids("reassign_leads") == expected


def _unroutable(wh) -> set[str]:
    """Leads whose country is not in territories.yaml (the plan leaves them to the quality job)."""
    from salesops.config import policy

    countries = [c for cs in policy("territories")["regions"].values() for c in cs]
    return {
        r["id"]
        for r in wh.query("select id, country from staging.stg_crm__lead")
        if r["country"] not in countries
    }


def test_approve_in_ui_changes_exactly_the_planned_records(env):
    from salesops.bulk_update.apply import change_log
    from salesops.bulk_update.approval import approvals
    from salesops.bulk_update.plan import load_plan
    from salesops.bulk_update.values import canon

    crm, wh = env
    before = crm_state(crm, wh, "Opportunity", "staging.stg_crm__opportunity")
    leads_before = crm_state(crm, wh, "Lead", "staging.stg_crm__lead")
    dr = run(
        {
            "plan_type": "fix_forecast_category",
            "requester": "analyst-e2e",
            "approval_channel": "ui",
            "reason": "e2e",
        },
        "Approve",
        "salesops-approver-1",
        comment="checked the sample",
    )
    assert str(dr.state) == "success", states(dr)
    assert states(dr)["apply_plan"] == "success"
    plan = load_plan(wh, built(dr)["plan_id"])
    assert plan.record_count > 0 and plan.status == "applied"
    expected = {(r.record_id, r.field): (r.before_value, r.after_value) for r in plan.changes}
    expected |= {(rid, STAMP): (before[rid].get(STAMP), plan.plan_id) for rid in plan.record_ids}
    after = crm_state(crm, wh, "Opportunity", "staging.stg_crm__opportunity")
    changed = {k: (canon(b, "string"), canon(a, "string")) for k, (b, a) in diff(before, after).items()}
    assert changed == expected  # exactly the planned records and fields, nothing else
    assert crm_state(crm, wh, "Lead", "staging.stg_crm__lead") == leads_before
    # The decision is stored with the plan; every change names plan, run and approver.
    a = [x for x in approvals(wh, plan.plan_id) if x["decision"] == "approve"][0]
    assert (a["approver"], a["channel"], a["comment"], a["plan_hash"]) == (
        "salesops-approver-1",
        "ui",
        "checked the sample",
        plan.content_hash,
    )
    log = change_log(wh, plan.plan_id)
    assert len(log) == len(plan.changes) and {(r["status"], r["run_id"], r["approver"]) for r in log} == {
        ("verified", dr.run_id, "salesops-approver-1")
    }
    # The run says what happened: final task success, the note names the approver and the comment.
    o = outcome(dr)
    assert states(dr)["report_outcome"] == "success" and o["outcome"] == "applied"
    assert o["note"].startswith(f"APPLIED: fix_forecast_category plan {plan.plan_id}")
    assert 'approved by salesops-approver-1 ("checked the sample")' in o["note"]
    assert f"{len(plan.changes)} verified" in o["note"] and o["run_note"] == o["note"]
    # After the next extract-load, a second run finds nothing left to fix: the build task skips.
    from salesops.runner import run_dag

    run_dag("crm_extract_load", {"source": "demo"})
    dr2 = run({"plan_type": "fix_forecast_category", "requester": "analyst-e2e", "approval_channel": "ui"})
    assert (
        str(dr2.state) == "success"
        and states(dr2)["build_plan"] == "skipped"
        and states(dr2)["apply_plan"] == "skipped"
    )


def test_reject_changes_nothing(env):
    from salesops.bulk_update.plan import load_plan

    crm, wh = env
    before = crm_state(crm, wh, "Lead", "staging.stg_crm__lead")
    dr = run(
        {"plan_type": "reassign_leads", "requester": "analyst-e2e", "approval_channel": "ui"},
        "Reject",
        "revops-approver-1",
        comment="wrong quarter",
    )
    assert str(dr.state) == "success"  # a rejection is a decision, not a failure
    s = states(dr)
    assert (
        s["ask_approval"] == "success" and s["check_approval"] == "skipped" and s["apply_plan"] == "skipped"
    )
    assert load_plan(wh, built(dr)["plan_id"]).status == "rejected"
    assert crm_state(crm, wh, "Lead", "staging.stg_crm__lead") == before
    # ... but the run does not look applied: the last task is skipped and the note says why.
    o = outcome(dr)
    assert s["report_outcome"] == "skipped" and o["outcome"] == "rejected"
    assert o["note"].startswith('REJECTED by revops-approver-1 ("wrong quarter")')
    assert o["note"].endswith("Nothing was written.") and o["run_note"] == o["note"]


def test_approver_who_is_the_requester_is_refused(env):
    from salesops.bulk_update.approval import approvals

    crm, wh = env
    before = crm_state(crm, wh, "Lead", "staging.stg_crm__lead")
    dr = run(
        {"plan_type": "reassign_leads", "requester": "revops-approver-1", "approval_channel": "ui"},
        "Approve",
        "revops-approver-1",
    )
    s = states(dr)
    assert s["ask_approval"] == "failed" and s["apply_plan"] != "success"
    assert [a["decision"] for a in approvals(wh, built(dr)["plan_id"])] == ["refused"]
    o = outcome(dr)
    assert s["report_outcome"] == "failed" and o["outcome"] == "refused"
    assert o["note"].startswith("REFUSED answer by revops-approver-1") and "Nothing was written" in o["note"]
    assert crm_state(crm, wh, "Lead", "staging.stg_crm__lead") == before


def test_drifted_records_are_skipped_then_undo_restores(env):
    from salesops.bulk_update.apply import change_log
    from salesops.bulk_update.plan import load_plan

    crm, wh = env
    before = crm_state(crm, wh, "Lead", "staging.stg_crm__lead")
    dr = run({"plan_type": "reassign_leads", "requester": "analyst-e2e", "approval_channel": "build_only"})
    assert str(dr.state) == "success" and states(dr)["ask_approval"] == "skipped"
    plan = load_plan(wh, built(dr)["plan_id"])
    assert states(dr)["report_outcome"] == "success" and outcome(dr)["outcome"] == "built"
    assert plan.status == "built" and plan.record_count >= 2
    # Someone assigns one lead by hand after the plan was built.
    drifted = plan.record_ids[0]
    planned_owner = next(r.after_value for r in plan.changes if r.record_id == drifted)
    other = wh.scalar(
        "select min(id) from staging.stg_crm__user where is_active and id <> :a", {"a": planned_owner}
    )
    res = crm.update_records("Lead", [{"Id": drifted, "OwnerId": other}])
    assert res[0].success
    manual = crm_state(crm, wh, "Lead", "staging.stg_crm__lead")
    dr2 = run({"plan_id": plan.plan_id, "approval_channel": "ui"}, "Approve", "revops-approver-1")
    assert str(dr2.state) == "success", states(dr2)
    log = {r["record_id"]: r for r in change_log(wh, plan.plan_id)}
    assert log[drifted]["status"] == "skipped_drift"
    assert {r["status"] for rid, r in log.items() if rid != drifted} == {"verified"}
    after = crm_state(crm, wh, "Lead", "staging.stg_crm__lead")
    assert after[drifted] == manual[drifted]  # never overwritten
    assert {(rid, f) for rid, f in diff(manual, after)} == {
        (r.record_id, f) for r in plan.changes if r.record_id != drifted for f in ("OwnerId", STAMP)
    }
    # Undo goes through its own approval and restores the before values.
    dr3 = run(
        {"undo_of_plan_id": plan.plan_id, "requester": "analyst-e2e", "approval_channel": "ui"},
        "Approve",
        "revops-approver-1",
    )
    assert str(dr3.state) == "success", states(dr3)
    undo = load_plan(wh, built(dr3)["plan_id"])
    assert undo.undo_of_plan_id == plan.plan_id and undo.record_count == plan.record_count - 1
    restored = crm_state(crm, wh, "Lead", "staging.stg_crm__lead")
    assert {rid: restored[rid]["OwnerId"] for rid in plan.record_ids} == {
        rid: (manual if rid == drifted else before)[rid]["OwnerId"] for rid in plan.record_ids
    }


def test_crash_mid_apply_then_rerun_applies_every_change_once(env):
    from salesops.bulk_update import approval, store
    from salesops.bulk_update.apply import apply_plan
    from salesops.bulk_update.plan import build_plan

    crm, wh = env
    plan = build_plan(wh, "move_past_close_dates", requester="analyst-e2e")
    assert plan.record_count >= 3
    approval.record_decision(
        wh, plan, approval.Decision("approve", "salesops-approver-1", store.utcnow(), None, "ui")
    )

    class Crash(BaseException):
        pass

    class CrashingCrm:
        name = "demo"

        def __init__(self, inner, after_calls):
            self.inner, self.after_calls, self.calls = inner, after_calls, 0

        def get_records(self, *a):
            return self.inner.get_records(*a)

        def update_records(self, api_name, updates):
            self.calls += 1
            res = self.inner.update_records(api_name, updates)
            if self.calls == self.after_calls:
                raise Crash("worker killed right after the CRM accepted batch 2")
            return res

    seq0 = int(crm.change_log()["seq"].max()) if len(crm.change_log()) else -1
    with pytest.raises(Crash):
        apply_plan(wh, CrashingCrm(crm, 2), plan.plan_id, batch_size=1, sleep=lambda s: None)
    report = apply_plan(wh, crm, plan.plan_id, batch_size=1, sleep=lambda s: None)
    assert report.ok and len(report.previously_applied) == 1 and len(report.already_applied) == 1
    writes = crm.change_log(seq0)
    writes = writes[writes["object"] == "Opportunity"]
    per_record = writes.groupby("record_id").size().to_dict()
    assert per_record == {rid: 1 for rid in plan.record_ids}


def test_demo_switch_and_stored_plan_approved_in_a_later_run(env, monkeypatch):
    from salesops.bulk_update.apply import change_log

    crm, wh = env
    # Without the switch, the demo path fails loudly and nothing is applied.
    monkeypatch.delenv("SALESOPS_DEMO_AUTO_APPROVE", raising=False)
    dr = run(
        {"plan_type": "close_stale_opportunities", "requester": "analyst-e2e", "approval_channel": "demo"}
    )
    assert states(dr)["demo_auto_approve"] == "failed" and states(dr)["apply_plan"] != "success"
    plan_id = built(dr)["plan_id"]
    # The stored plan is approved by a person in a later run (the CLI's REST call answers this
    # same request: tests/unit/test_bulk_update_cli_rest.py).
    dr2 = run({"plan_id": plan_id, "approval_channel": "ui"}, "Approve", "revops-approver-1")
    assert str(dr2.state) == "success", states(dr2)
    assert {r["approver"] for r in change_log(wh, plan_id)} == {"revops-approver-1"}
    # The demo channel with a real CRM source is refused before anything is built.
    monkeypatch.setenv("SALESOPS_DEMO_AUTO_APPROVE", "demo-approver")
    dr_sf = run({"plan_type": "reassign_leads", "approval_channel": "demo", "source": "salesforce"})
    assert states(dr_sf)["build_plan"] == "failed" and states(dr_sf)["apply_plan"] != "success"
    # With the switch, the named demo identity approves, and the change log says so. The input is
    # made here (whatever earlier tests left to fix): an open Qualification deal, where policy allows
    # only Pipeline, gets ForecastCategoryName 'Commit' in the CRM, and the warehouse loads it.
    from salesops.runner import run_dag

    target = wh.scalar(
        "select min(id) from staging.stg_crm__opportunity "
        "where stage_name = 'Qualification' and forecast_category = 'Pipeline'"
    )
    assert target is not None
    assert crm.update_records("Opportunity", [{"Id": target, "ForecastCategoryName": "Commit"}])[0].success
    run_dag("crm_extract_load", {"source": "demo"})
    monkeypatch.setenv("SALESOPS_DEMO_AUTO_APPROVE", "demo-approver")
    dr3 = run({"plan_type": "fix_forecast_category", "requester": "analyst-e2e", "approval_channel": "demo"})
    assert str(dr3.state) == "success", states(dr3)
    log3 = change_log(wh, built(dr3)["plan_id"])
    assert target in {r["record_id"] for r in log3}
    assert {r["approver"] for r in log3} == {"demo-approver (demo switch)"}
    assert {(r["status"], r["new_value"]) for r in log3 if r["record_id"] == target} == {
        ("verified", "Pipeline")
    }
    assert (
        crm.get_records("Opportunity", [target], ["ForecastCategoryName"])[0]["ForecastCategoryName"]
        == "Pipeline"
    )
