"""Bulk-update plans against the quality job's exception queue on the loaded demo (its own copy).

Order matters (module-scoped demo copy): no quality tables -> quality run -> plans counted against
the queue -> mark_duplicate_leads approved and applied through the DAG -> re-extract (the run is
now for another as-of) -> quality re-run.
"""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.e2e

DAG_ID = "crm_bulk_update"
TYPES = [
    "fix_forecast_category",
    "close_stale_opportunities",
    "move_past_close_dates",
    "reassign_leads",
    "mark_duplicate_leads",
]


@pytest.fixture(scope="module")
def env(demo_env, airflow_db):
    return demo_env.crm, demo_env.warehouse


def _queue(wh, checks: list[str]) -> dict[str, set[str]]:
    """check -> ids with an open exception, straight from quality.exception_queue."""
    out: dict[str, set[str]] = {c: set() for c in checks}
    for r in wh.query("select check_id, record_id from quality.exception_queue where status = 'open'"):
        if r["check_id"] in out:
            out[r["check_id"]].add(r["record_id"])
    return out


def _build(wh, plan_type, **kw):
    from salesops.bulk_update.plan import build_plan

    return build_plan(wh, plan_type, requester="analyst-e2e", write_artifacts=False, **kw)


def test_without_quality_tables_plans_build_as_before(env):
    from salesops.bulk_update.plan import PlanError

    _, wh = env
    assert not wh.table_exists("quality.exception_queue")
    p = _build(wh, "fix_forecast_category")
    assert p.record_count == 57 and p.scope["quality"]["status"] == "no_quality_tables"
    with pytest.raises(PlanError, match="needs a quality run"):
        _build(wh, "mark_duplicate_leads")


def test_after_a_quality_run_the_plans_exception_counts_equal_the_queue(env):
    from salesops.bulk_update.settings import load_settings
    from salesops.quality.runner import run_quality

    crm, wh = env
    run_quality(wh, build_docs=False)
    settings = load_settings()
    figures = {}
    for t in TYPES:
        checks = list(settings.plan_types[t].quality_checks)
        queue = _queue(wh, checks)
        open_ids = set().union(*queue.values())
        p = _build(wh, t)
        q = p.scope["quality"]
        planned = set(p.record_ids)
        assert q["status"] == "current", t
        assert q["open_exceptions"] == len(open_ids), t
        assert q["plan_records_in_queue"] == len(planned & open_ids), t
        assert q["plan_records_not_in_queue"] == len(planned - open_ids), t
        assert (
            q["unfixed_open_exceptions"] == len(open_ids - planned) == sum(q["unfixed_by_reason"].values())
        ), t
        assert q["by_check"] == {
            c: {"open": len(ids), "in_plan": len(ids & planned), "unfixed": len(ids - planned)}
            for c, ids in queue.items()
        }, t
        figures[t] = (
            q["open_exceptions"],
            q["plan_records_in_queue"],
            q["plan_records_not_in_queue"],
            q["unfixed_by_reason"],
        )
        if q["unfixed_open_exceptions"]:
            only = _build(wh, t, only_open_exceptions=True)
            assert set(only.record_ids) == planned & open_ids, t
    print("\nquality link figures on the demo:", figures)
    # Demo ground truth: the generator's planted defects.
    gt = crm.ground_truth()
    ids = {d: set(g.record_id) for d, g in gt.groupby("defect")}
    assert figures["fix_forecast_category"][:3] == (len(ids["opp_forecast_category_mismatch"]),) * 2 + (0,)
    assert figures["move_past_close_dates"][:3] == (len(ids["opp_past_close_date"]),) * 2 + (0,)
    assert figures["mark_duplicate_leads"][:3] == (len(ids["lead_duplicate"]),) * 2 + (0,)
    assert set(_build(wh, "mark_duplicate_leads").record_ids) == ids["lead_duplicate"]
    # close_stale: every open opp_stale exception left out is within the plan's extra margin.
    assert set(figures["close_stale_opportunities"][3]) <= {
        "stale by policy but within extra_margin_days (last activity or creation on/after the plan cutoff)"
    }


def test_mark_duplicate_leads_through_the_dag_then_stale_and_rerun(env, monkeypatch):
    from tests.support.runs import xcom

    from salesops.bulk_update.apply import change_log
    from salesops.bulk_update.plan import EmptyPlan, load_plan
    from salesops.quality.runner import run_quality
    from salesops.runner import run_dag

    crm, wh = env
    # The DAG param restricts a plan to the queue (reassign_leads: the queue holds leads the plan cannot place).
    dr0 = run_dag(
        DAG_ID,
        {
            "plan_type": "reassign_leads",
            "on_behalf_of": "analyst-e2e",
            "approval_channel": "build_only",
            "only_open_exceptions": True,
        },
    )
    p0 = load_plan(wh, xcom(dr0, "build_plan")["plan_id"])
    assert (
        p0.scope["quality"]["only_open_exceptions"] and p0.scope["quality"]["plan_records_not_in_queue"] == 0
    )

    monkeypatch.setenv("SALESOPS_DEMO_AUTO_APPROVE", "demo-approver")
    dr = run_dag(
        DAG_ID,
        {"plan_type": "mark_duplicate_leads", "on_behalf_of": "analyst-e2e", "approval_channel": "demo"},
    )
    plan = load_plan(wh, xcom(dr, "build_plan")["plan_id"])
    assert plan.status == "applied" and plan.approver_group == "revops_leadership"
    assert {r["status"] for r in change_log(wh, plan.plan_id)} == {"verified"}
    recs = crm.get_records("Lead", plan.record_ids, ["Status", "Last_Bulk_Update_Plan__c"])
    assert {(r["Status"], r["Last_Bulk_Update_Plan__c"]) for r in recs} == {("Unqualified", plan.plan_id)}
    # The survivors are untouched.
    survivors = {r.record_name.split("duplicate of ")[1].split(",")[0] for r in plan.changes}
    assert all(
        r["Last_Bulk_Update_Plan__c"] != plan.plan_id
        for r in crm.get_records("Lead", sorted(survivors), ["Last_Bulk_Update_Plan__c"])
    )

    # New data, old quality run: counts are not recorded, and the duplicate plan type refuses to build.
    run_dag("crm_extract_load", {"source": "demo"})
    assert _build(wh, "fix_forecast_category").scope["quality"]["status"] == "stale"
    from salesops.bulk_update.plan import PlanError

    with pytest.raises(PlanError, match="needs a quality run"):
        _build(wh, "mark_duplicate_leads")
    # After the next quality run the duplicates are still clustered (the check does not read Status),
    # but the plan has nothing left to do: they are no longer in an open status.
    run_quality(wh, build_docs=False)
    with pytest.raises(EmptyPlan):
        _build(wh, "mark_duplicate_leads")
