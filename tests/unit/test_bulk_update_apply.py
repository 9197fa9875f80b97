"""Apply: exactly the approved changes, drift skips, batches, retries, crash + re-run, undo."""

from __future__ import annotations

from pathlib import Path

import pytest
from tests.unit.test_bulk_update_support import SimulatedCrash, approve, make_env, no_sleep

from salesops.bulk_update.apply import ApplyFailed, apply_plan, change_log
from salesops.bulk_update.approval import ApprovalError
from salesops.bulk_update.plan import PlanError, build_plan, build_undo_plan, load_plan


@pytest.fixture()
def crm_env(tmp_path, monkeypatch):
    return make_env(tmp_path, monkeypatch)


FC = "ForecastCategoryName"
STAMP = "Last_Bulk_Update_Plan__c"


def _diff(before, after):
    """{(object, id, field): (old, new)} for every field that differs, SystemModstamp aside."""
    out = {}
    for obj, recs in after.items():
        for rid, rec in recs.items():
            for f, v in rec.items():
                if f != "SystemModstamp" and before[obj][rid].get(f) != v:
                    out[(obj, rid, f)] = (before[obj][rid].get(f), v)
    return out


def test_approved_plan_changes_exactly_the_planned_records(crm_env):
    crm, wh = crm_env
    p = build_plan(wh, "fix_forecast_category", requester="analyst-1")
    approve(wh, p)
    before = crm.snapshot()
    report = apply_plan(wh, crm, p.plan_id, run_id="manual__1", sleep=no_sleep)
    assert _diff(before, crm.records) == {
        ("Opportunity", "O001", FC): ("Commit", "Pipeline"),
        ("Opportunity", "O002", FC): (None, "Commit"),
        ("Opportunity", "O003", FC): ("Pipeline", "Closed"),
        ("Opportunity", "O001", STAMP): (None, p.plan_id),
        ("Opportunity", "O002", STAMP): (None, p.plan_id),
        ("Opportunity", "O003", STAMP): (None, p.plan_id),
    }
    assert len(report.applied) == 3 and report.ok and report.batches == 1 and crm.calls == 1
    log = change_log(wh, p.plan_id)
    assert {(r["record_id"], r["status"], r["run_id"], r["approver"]) for r in log} == {
        (rid, "verified", "manual__1", "salesops-approver-1") for rid in ("O001", "O002", "O003")
    }
    assert load_plan(wh, p.plan_id).status == "applied"
    csv_text = open(report.change_log_csv).read()
    assert csv_text.count("\n") == 4 and "manual__1" in csv_text


def test_unapproved_or_rejected_plans_write_nothing(crm_env):
    crm, wh = crm_env
    p = build_plan(wh, "fix_forecast_category", requester="analyst-1")
    with pytest.raises(ApprovalError, match="has no approval"):
        apply_plan(wh, crm, p.plan_id, sleep=no_sleep)
    from salesops.bulk_update import approval, store

    approval.record_decision(
        wh, p, approval.Decision("reject", "salesops-approver-1", store.utcnow(), "not now")
    )
    with pytest.raises(ApprovalError, match="was not approved"):
        apply_plan(wh, crm, p.plan_id, sleep=no_sleep)
    assert crm.calls == 0 and not crm.writes


def test_approval_for_another_hash_is_not_enough(crm_env):
    crm, wh = crm_env
    p = build_plan(wh, "fix_forecast_category", requester="analyst-1")
    approve(wh, p)
    wh.execute("update ops.bulk_update_approval set plan_hash = 'deadbeef'")
    with pytest.raises(ApprovalError, match="names hash deadbeef"):
        apply_plan(wh, crm, p.plan_id, sleep=no_sleep)
    assert crm.calls == 0


def test_drifted_records_are_skipped_and_reported(crm_env):
    crm, wh = crm_env
    p = build_plan(wh, "fix_forecast_category", requester="analyst-1")
    approve(wh, p)
    crm.records["Opportunity"]["O001"][FC] = "Best Case"  # the planned field changed
    crm.records["Opportunity"]["O002"]["StageName"] = "Closed Lost"  # a guard field changed
    before = crm.snapshot()
    report = apply_plan(wh, crm, p.plan_id, sleep=no_sleep)
    assert _diff(before, crm.records) == {
        ("Opportunity", "O003", FC): ("Pipeline", "Closed"),
        ("Opportunity", "O003", STAMP): (None, p.plan_id),
    }
    assert sorted(d["record_id"] for d in report.skipped_drift) == ["O001", "O002"]
    detail = {d["record_id"]: d["detail"] for d in report.skipped_drift}
    assert detail["O001"] == "ForecastCategoryName: planned before 'Commit', found 'Best Case'"
    assert detail["O002"] == "StageName: planned before 'Negotiation/Review', found 'Closed Lost'"
    assert {r["record_id"]: r["status"] for r in change_log(wh, p.plan_id)} == {
        "O001": "skipped_drift",
        "O002": "skipped_drift",
        "O003": "verified",
    }


def test_batches_and_transient_retries_with_backoff(crm_env):
    crm, wh = crm_env
    p = build_plan(wh, "close_stale_opportunities", requester="analyst-1")
    approve(wh, p, approver="revops-approver-1")
    crm.faults = {"O011": ["transient", "transient"]}
    sleeps = []
    report = apply_plan(wh, crm, p.plan_id, batch_size=1, sleep=sleeps.append)
    assert report.ok and len(report.applied) == 8 and report.batches == 2
    assert crm.call_sizes == [1, 1, 1, 1]  # O010 once; O011 three times (2 transient + success)
    assert sleeps == [1.0, 2.0]  # backoff 1 s, doubled
    o11 = crm.records["Opportunity"]["O011"]
    assert (o11["StageName"], o11[FC], o11["Probability"], o11["Loss_Reason__c"]) == (
        "Closed Lost",
        "Omitted",
        0.0,
        "No Decision",
    )
    attempts = {
        r["record_id"]: r["attempt"]
        for r in wh.query(
            "select record_id, attempt from ops.bulk_update_change_log where status = 'applied' and field = 'StageName'"
        )
    }
    assert attempts == {"O010": 1, "O011": 3}


def test_permanent_and_exhausted_errors_fail_the_run_after_logging_everything(crm_env):
    crm, wh = crm_env
    p = build_plan(wh, "fix_forecast_category", requester="analyst-1")
    approve(wh, p)
    crm.faults = {"O001": ["permanent"], "O002": ["transient"] * 4}
    with pytest.raises(ApplyFailed, match=r"2 changes failed and 0 did not verify \(of 3\)") as exc:
        apply_plan(wh, crm, p.plan_id, sleep=no_sleep)
    report = exc.value.report
    errors = {f["record_id"]: f["error"] for f in report.failed}
    assert errors == {
        "O001": "permanent: FIELD_CUSTOM_VALIDATION_EXCEPTION: rejected by rule",
        "O002": "transient, retries exhausted: UNABLE_TO_LOCK_ROW: record locked",
    }
    assert crm.records["Opportunity"]["O003"][FC] == "Closed"  # the good record was still written
    assert {r["record_id"]: r["status"] for r in change_log(wh, p.plan_id)} == {
        "O001": "failed",
        "O002": "failed",
        "O003": "verified",
    }
    assert load_plan(wh, p.plan_id).status == "applied_with_errors"
    # A re-run retries only what is not applied yet.
    crm.calls = 0
    report2 = apply_plan(wh, crm, p.plan_id, sleep=no_sleep)
    assert report2.ok and sorted(c.split(":")[1] for c in report2.applied) == ["O001", "O002"]
    assert len(report2.previously_applied) == 1 and crm.writes["O003"] == 1


def test_crash_mid_apply_then_rerun_applies_every_change_once(crm_env):
    crm, wh = crm_env
    p = build_plan(wh, "fix_forecast_category", requester="analyst-1")
    approve(wh, p)
    crm.crash_after_calls = 2  # batch 1 (O001) logged; batch 2 (O002) written, then the worker dies
    with pytest.raises(SimulatedCrash):
        apply_plan(wh, crm, p.plan_id, batch_size=1, sleep=no_sleep)
    states = {r["record_id"]: r["status"] for r in change_log(wh, p.plan_id)}
    assert states == {"O001": "applied", "O002": "pending"}
    assert dict(crm.writes) == {"O001": 1, "O002": 1}
    report = apply_plan(wh, crm, p.plan_id, batch_size=1, sleep=no_sleep)
    assert dict(crm.writes) == {"O001": 1, "O002": 1, "O003": 1}  # nothing written twice
    assert [c.split(":")[1] for c in report.previously_applied] == ["O001"]
    assert [c.split(":")[1] for c in report.already_applied] == ["O002"]
    assert [c.split(":")[1] for c in report.applied] == ["O003"]
    assert {r["record_id"]: r["status"] for r in change_log(wh, p.plan_id)} == {
        "O001": "applied",
        "O002": "verified",
        "O003": "verified",
    }
    # And a third run is a no-op.
    calls = crm.calls
    apply_plan(wh, crm, p.plan_id, sleep=no_sleep)
    assert crm.calls == calls


def test_failed_call_is_reread_before_retrying(crm_env):
    crm, wh = crm_env
    p = build_plan(wh, "fix_forecast_category", requester="analyst-1")
    approve(wh, p)
    crm.raise_after_write_calls = {1}  # the call writes, then the connection drops
    report = apply_plan(wh, crm, p.plan_id, sleep=no_sleep)
    assert report.ok and crm.calls == 1 and dict(crm.writes) == {"O001": 1, "O002": 1, "O003": 1}
    assert len(report.already_applied) == 3


def test_post_validation_reports_a_write_that_did_not_stick(crm_env):
    crm, wh = crm_env
    p = build_plan(wh, "fix_forecast_category", requester="analyst-1")
    approve(wh, p)
    crm.faults = {"O003": ["ignore"]}
    with pytest.raises(ApplyFailed, match="0 changes failed and 1 did not verify") as exc:
        apply_plan(wh, crm, p.plan_id, sleep=no_sleep)
    assert (
        exc.value.report.mismatches[0]["detail"]
        == "after writing, ForecastCategoryName is 'Pipeline', expected 'Closed'"
    )


def test_batch_size_over_200_is_refused(crm_env):
    crm, wh = crm_env
    p = build_plan(wh, "fix_forecast_category", requester="analyst-1")
    approve(wh, p)
    with pytest.raises(PlanError, match=r"batch size must be 1\.\.200"):
        apply_plan(wh, crm, p.plan_id, batch_size=201, sleep=no_sleep)


def test_undo_restores_the_before_values_after_its_own_approval(crm_env):
    crm, wh = crm_env
    original = crm.snapshot()
    p = build_plan(wh, "reassign_leads", requester="analyst-1")
    approve(wh, p, approver="revops-approver-1")
    apply_plan(wh, crm, p.plan_id, sleep=no_sleep)
    assert crm.records["Lead"]["L001"]["OwnerId"] == "u1"
    undo = build_undo_plan(wh, p.plan_id, requester="analyst-1")
    assert undo.undo_of_plan_id == p.plan_id and undo.approver_group == "revops_leadership"
    assert {(r.record_id, r.before_value, r.after_value) for r in undo.changes} == {
        ("L001", "u1", None),
        ("L002", "u2", None),
        ("L003", "u1", "u4"),
        ("L004", "u2", "u3"),
        ("L008", "u4", None),
    }
    with pytest.raises(ApprovalError, match="has no approval"):
        apply_plan(wh, crm, undo.plan_id, sleep=no_sleep)
    approve(wh, undo, approver="revops-approver-1")
    apply_plan(wh, crm, undo.plan_id, sleep=no_sleep)
    assert {rid: crm.records["Lead"][rid]["OwnerId"] for rid in original["Lead"]} == {
        rid: rec["OwnerId"] for rid, rec in original["Lead"].items()
    }
    assert crm.records["Lead"]["L001"][STAMP] == undo.plan_id  # traceable to the undo plan


def test_record_limit_splits_a_plan_over_max_records_into_plans_that_fit(crm_env):
    """3 records qualify, max_records is 2: the plan is refused whole, taken 2 at a time with
    record_limit, and the next plan, built after the first is applied and reloaded, takes the rest."""
    import dataclasses

    from salesops.bulk_update.model import PlanGuardError
    from salesops.bulk_update.render import approval_body
    from salesops.bulk_update.settings import load_settings
    from salesops.ingest.pipeline import extract_and_load

    crm, wh = crm_env
    base = load_settings()
    pt = dataclasses.replace(base.plan_types["fix_forecast_category"], max_records=2)
    s = dataclasses.replace(base, plan_types={**base.plan_types, "fix_forecast_category": pt})
    with pytest.raises(
        PlanGuardError, match=r"3 records exceed max_records 2\. Split the plan: build it with record_limit 2"
    ):
        build_plan(wh, "fix_forecast_category", requester="analyst-1", settings=s)
    with pytest.raises(PlanError, match=r"record_limit must be a whole number of records >= 1, got 0"):
        build_plan(wh, "fix_forecast_category", requester="analyst-1", settings=s, record_limit=0)

    first = build_plan(wh, "fix_forecast_category", requester="analyst-1", settings=s, record_limit=2)
    assert first.record_ids == ["O001", "O002"] and [r.seq for r in first.rows] == list(
        range(len(first.rows))
    )
    assert first.scope["record_limit"] == {
        "limit": 2,
        "order": "record id",
        "eligible_records": 3,
        "taken_records": 2,
        "left_for_later_plans": 1,
    }
    assert load_plan(wh, first.plan_id).scope["record_limit"] == first.scope["record_limit"]
    body = approval_body(first)
    assert (
        "| Split (record_limit 2) | 2 of 3 qualifying records, the first by record id; **1 left for later plans** |"
        in body
    )
    assert "1 left for later plans" in (Path(first.artifact_dir) / "plan.html").read_text()

    approve(wh, first)
    before = crm.snapshot()
    apply_plan(wh, crm, first.plan_id, run_id="manual__1", sleep=no_sleep)
    assert {k for k in _diff(before, crm.records) if k[2] == FC} == {
        ("Opportunity", "O001", FC),
        ("Opportunity", "O002", FC),
    }
    extract_and_load(crm, ["opportunity"], wh)  # the next run sees the CRM after the first plan
    second = build_plan(wh, "fix_forecast_category", requester="analyst-1", settings=s, record_limit=2)
    assert second.record_ids == ["O003"]
    assert second.scope["record_limit"]["left_for_later_plans"] == 0
