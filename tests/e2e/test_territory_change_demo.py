"""A territory change on the demo CRM through crm_bulk_update: plan -> impact -> approval in the
UI (a second person) -> apply -> undo (its own approval), with dag.test() and the HITL responder
of tests/e2e/test_bulk_update_dag.py."""

from __future__ import annotations

import pytest
from tests.e2e.test_bulk_update_dag import built, run, states

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def env(demo_env, airflow_db):
    return demo_env.crm, demo_env.warehouse


def _owners(crm, plan):
    from salesops.config import get_object

    out = {}
    for obj in plan.objects:
        api = get_object(obj).api_name
        ids = sorted({r.record_id for r in plan.changes if plan.object_of(r) == obj})
        for rec in crm.get_records(api, ids, ["OwnerId"]):
            out[(obj, rec["Id"])] = rec["OwnerId"]
    return out


def test_territory_change_plan_approve_apply_undo_on_the_demo(env, tmp_path, monkeypatch):
    from salesops import policy, territory
    from salesops.bulk_update.plan import load_plan
    from salesops.territory.__main__ import demo_map

    crm, wh = env
    demo_map(wh, tmp_path / "overlay")
    monkeypatch.setenv("SALESOPS_CONFIG_DIR", str(tmp_path / "overlay"))
    policy.reset()
    try:
        dr = run(
            {"plan_type": "territory_change", "requester": "analyst-e2e", "approval_channel": "ui"},
            "Approve",
            "revops-approver-1",
            comment="territory review done",
        )
        assert str(dr.state) == "success" and states(dr)["apply_plan"] == "success", states(dr)
        plan = load_plan(wh, built(dr)["plan_id"])
        by_object = {o: sum(1 for r in plan.changes if plan.object_of(r) == o) for o in plan.objects}
        assert by_object["account"] > 0 and by_object["opportunity"] > 0 and by_object["lead"] > 0
        im = plan.scope["impact"]
        assert (
            im["totals"]["accounts_moved"],
            im["totals"]["open_opportunities_moved"],
            im["totals"]["leads_moved"],
        ) == (
            by_object["account"],
            by_object["opportunity"],
            by_object["lead"],
        )
        assert im["totals"]["quota_total_after"] == pytest.approx(im["totals"]["quota_plan_total"], abs=1.0)
        # owners' before/after balance: every record that left someone arrived at someone
        assert sum(o["accounts_after"] - o["accounts_before"] for o in im["by_owner"]) == sum(
            1 for r in plan.changes if plan.object_of(r) == "account" and r.before_value is None
        )
        assert _owners(crm, plan) == {(plan.object_of(r), r.record_id): r.after_value for r in plan.changes}
        assert [m["status"] for m in territory.map_versions(wh)] == ["applied"]

        undo = run(
            {"undo_of_plan_id": plan.plan_id, "requester": "analyst-e2e", "approval_channel": "ui"},
            "Approve",
            "revops-approver-1",
        )
        assert str(undo.state) == "success" and states(undo)["apply_plan"] == "success", states(undo)
        assert _owners(crm, plan) == {(plan.object_of(r), r.record_id): r.before_value for r in plan.changes}
        assert [m["status"] for m in territory.map_versions(wh)] == ["undone"]
    finally:
        monkeypatch.delenv("SALESOPS_CONFIG_DIR")
        policy.reset()
