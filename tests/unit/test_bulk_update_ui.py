"""The approver's path in the UI: the comment box, names instead of ids, the fields each rule used,
links to the full plan through the console, and a run outcome that tells applied, rejected, expired
and refused apart."""

from __future__ import annotations

from datetime import timedelta

import pytest
from tests.unit.test_bulk_update_support import FakeCrm, approve, make_env, make_records

from salesops.bulk_update import approval, outcome, store
from salesops.bulk_update.plan import build_plan, load_plan
from salesops.bulk_update.render import approval_body, plan_names, rule_fields


@pytest.fixture()
def crm_env(tmp_path, monkeypatch):
    monkeypatch.setenv("SALESOPS_CONSOLE_BASE_URL", "http://airflow.example.test:8080")
    return make_env(tmp_path, monkeypatch)


def _with_accounts(wh):
    """Give the fixture's opportunities an Account table (the fixture loads users, opps, leads)."""
    wh.execute("create table staging.stg_crm__account (id varchar, name varchar)")
    wh.execute("insert into staging.stg_crm__account values ('A001', 'Example Anvils Ltd')")


def test_hitl_form_has_an_optional_comment_field():
    from airflow.dag_processing.dagbag import DagBag
    from tests.dags.test_params import ROOT

    dag = DagBag(dag_folder=str(ROOT / "dags" / "crm_bulk_update.py")).dags["crm_bulk_update"]
    ask = dag.get_task("ask_approval")
    # What the Required Actions form renders (was {} before: no comment box).
    params = ask.serialized_params
    assert list(params) == ["comment"]
    assert params["comment"]["schema"]["type"] == ["null", "string"] and params["comment"]["value"] is None
    assert ask.defaults == ["Reject"]


def test_body_shows_names_rule_fields_and_console_links(crm_env):
    _, wh = crm_env
    _with_accounts(wh)
    p = build_plan(wh, "fix_forecast_category", requester="analyst-1")
    names = plan_names(wh, p)
    assert names["owners"] == {"u1": "User u1"}
    assert names["accounts"] == {
        "O001": "Example Anvils Ltd",
        "O002": "Example Anvils Ltd",
        "O003": "Example Anvils Ltd",
    }
    assert rule_fields(p) == {
        "fields": ["StageName"],
        "by_record": {
            "O001": {"StageName": "Qualification"},
            "O002": {"StageName": "Negotiation/Review"},
            "O003": {"StageName": "Closed Won"},
        },
    }
    body = approval_body(p, names)
    assert "**Records by owner** (top 10): User u1: 3" in body
    row = next(line for line in body.splitlines() if line.startswith("| O001 |"))
    assert row.endswith(
        "| Example Anvils Ltd | User u1 | ForecastCategoryName | Commit | Pipeline | StageName = Qualification |"
    )
    assert "| Fields the rule used | StageName (re-checked before writing; never written) |" in body
    base = f"http://airflow.example.test:8080/revops/plans/{p.plan_id}"
    assert f"[XLSX]({base}/files/xlsx)" in body and f"[CSV]({base}/files/csv)" in body
    assert f"[HTML]({base}/files/html)" in body and f"[RevOps console]({base})" in body
    assert "plan_rows.xlsx`" not in body  # no server path any more


def test_body_without_staging_names_falls_back_to_ids(crm_env):
    _, wh = crm_env
    p = build_plan(wh, "fix_forecast_category", requester="analyst-1")
    body = approval_body(p)  # no names given: ids, never an error
    assert "**Records by owner** (top 10): u1: 3" in body and "| O001 |" in body


def test_lead_plans_show_the_company_as_account(crm_env):
    _, wh = crm_env
    p = build_plan(wh, "reassign_leads", requester="analyst-1")
    names = plan_names(wh, p)
    assert names["accounts"]["L001"] == "Company 001"
    assert "Company 001" in approval_body(p, names)


def test_crm_text_in_the_body_is_escaped(crm_env):
    crm, wh = crm_env
    wh.execute("update staging.stg_crm__user set name = '<img src=x onerror=alert(1)>' where id = 'u1'")
    p = build_plan(wh, "fix_forecast_category", requester="analyst-1")
    body = approval_body(p, plan_names(wh, p))
    assert "<img" not in body and "&lt;img src=x onerror=alert(1)&gt;" in body


def test_outcomes_applied_rejected_expired_refused(crm_env):
    from salesops.bulk_update.apply import apply_plan
    from salesops.bulk_update.settings import load_settings

    crm, wh = crm_env
    p = build_plan(wh, "fix_forecast_category", requester="analyst-1", run_id="r1")
    o = outcome.run_outcome(wh, p.plan_id, "r1")
    assert (o.outcome, o.state) == ("built", "success") and "Nothing was written" in o.note

    # refused: the requester answers Approve on the UI
    d = approval.decision_from_hitl(
        p,
        {"chosen_options": ["Approve"], "responded_by_user": {"id": "analyst-1"}, "params_input": {}},
        load_settings(),
    )
    approval.record_decision(wh, p, d, run_id="r1")
    o = outcome.run_outcome(wh, p.plan_id, "r1")
    assert (o.outcome, o.state, o.approver) == ("refused", "failed", "analyst-1")
    assert o.note.startswith("REFUSED answer by analyst-1") and "requester of the plan" in o.note

    # applied, by a second person with a comment
    approve(wh, load_plan(wh, p.plan_id))
    apply_plan(wh, crm, p.plan_id, run_id="r1")
    o = outcome.run_outcome(wh, p.plan_id, "r1")
    assert (o.outcome, o.state) == ("applied", "success")
    assert o.note == (
        f"APPLIED: fix_forecast_category plan {p.plan_id} (3 changes on 3 Opportunity records); "
        'approved by salesops-approver-1 ("looks right"); change log: 3 verified.'
    )

    # rejected, with the approver's comment
    r = build_plan(wh, "move_past_close_dates", requester="analyst-1", run_id="r2")
    approval.record_decision(
        wh,
        r,
        approval.Decision("reject", "salesops-approver-1", store.utcnow(), "wrong quarter"),
        run_id="r2",
    )
    o = outcome.run_outcome(wh, r.plan_id, "r2")
    assert (o.outcome, o.state, o.comment) == ("rejected", "skipped", "wrong quarter")
    assert o.note.startswith('REJECTED by salesops-approver-1 ("wrong quarter"): move_past_close_dates plan')

    # expired: nobody answered before expires_at
    e = build_plan(wh, "close_stale_opportunities", requester="analyst-1", run_id="r3")
    assert approval.expire_if_due(wh, e, now=e.expires_at + timedelta(seconds=1))
    o = outcome.run_outcome(wh, e.plan_id, "r3")
    assert (o.outcome, o.state) == ("expired", "failed")
    assert o.note.startswith(f"EXPIRED: nobody answered before {e.expires_at} UTC")

    # nothing to change / a failed build
    assert outcome.run_outcome(wh, None, "r4").state == "skipped"
    assert outcome.run_outcome(wh, None, "r4", "failed").outcome == "build_failed"
    # none of these reads like an applied run
    assert len({outcome.STATE[k] for k in ("applied", "rejected", "expired")}) == 3
    assert FakeCrm(make_records()).records["Opportunity"]["O001"]["ForecastCategoryName"] == "Commit"
