"""Plans: exact rows per plan type, hashing, guards (hard stops), artifacts, integrity."""

from __future__ import annotations

import csv
import dataclasses
from datetime import date
from pathlib import Path

import pytest
from tests.unit.test_bulk_update_support import make_env

from salesops.bulk_update import plan as plans
from salesops.bulk_update.plan import (
    CHANGE,
    EmptyPlan,
    PlanGuardError,
    PlanIntegrityError,
    PlanRow,
    build_plan,
    load_plan,
)
from salesops.bulk_update.settings import load_settings
from salesops.bulk_update.values import canon, to_api
from salesops.config import ConfigError


@pytest.fixture()
def crm_env(tmp_path, monkeypatch):
    return make_env(tmp_path, monkeypatch)


def _changes(p):
    return {(r.record_id, r.field): (r.before_value, r.after_value) for r in p.rows if r.role == CHANGE}


def test_fix_forecast_category_proposes_exactly_the_policy_defaults(crm_env):
    _, wh = crm_env
    p = build_plan(wh, "fix_forecast_category", requester="analyst-1")
    assert _changes(p) == {
        ("O001", "ForecastCategoryName"): ("Commit", "Pipeline"),
        ("O002", "ForecastCategoryName"): (None, "Commit"),
        ("O003", "ForecastCategoryName"): ("Pipeline", "Closed"),
    }
    guards = {(g.record_id, g.field): g.before_value for g in p.guards}
    assert guards == {
        ("O001", "StageName"): "Qualification",
        ("O002", "StageName"): "Negotiation/Review",
        ("O003", "StageName"): "Closed Won",
    }
    assert p.record_count == 3 and p.object_row_count == 100
    assert p.approver_group == "sales_ops" and not p.sensitive
    assert len(p.changes) == 3
    assert {r.change_id for r in p.changes} == {f"{p.plan_id}:O00{i}:ForecastCategoryName" for i in (1, 2, 3)}
    assert p.scope["as_of"].startswith("2026-11-02 06:00")


def test_plan_is_stored_with_artifacts_and_reloads_identically(crm_env):
    _, wh = crm_env
    p = build_plan(wh, "fix_forecast_category", requester="analyst-1", reason="Q4 forecast call prep")
    again = load_plan(wh, p.plan_id)
    assert again.rows == p.rows and again.content_hash == p.content_hash and again.status == "built"
    out = Path(p.artifact_dir)
    assert out.name == p.plan_id and out.parent.name == "bulk_updates"
    with (out / "plan_rows.csv").open() as fh:
        rows = list(csv.DictReader(fh))
    assert len(rows) == 6 and {r["role"] for r in rows} == {"change", "guard"}
    from openpyxl import load_workbook

    wb = load_workbook(out / "plan_rows.xlsx")
    assert wb["rows"].max_row == 7  # header + 6 rows
    html = (out / "plan.html").read_text()
    assert p.content_hash in html and "Q4 forecast call prep" in html
    body = (out / "summary.md").read_text()
    assert (
        p.plan_id in body
        and p.content_hash in body
        and "| ForecastCategoryName | (null) | Commit | 1 |" in body
    )


def test_same_content_hashes_the_same_and_any_edit_changes_the_hash(crm_env):
    _, wh = crm_env
    a = build_plan(wh, "fix_forecast_category", requester="analyst-1", run_id="r1", dag_id="d")
    b = build_plan(wh, "fix_forecast_category", requester="analyst-1", run_id="r2", dag_id="d")
    assert a.plan_id != b.plan_id and a.content_hash == b.content_hash
    edited = [
        dataclasses.replace(r, after_value="Omitted") if r.record_id == "O001" and r.role == CHANGE else r
        for r in a.rows
    ]
    assert plans.content_hash(a.plan_type, a.object, edited) != a.content_hash


def test_rebuild_in_the_same_run_reuses_the_plan(crm_env):
    _, wh = crm_env
    a = build_plan(wh, "fix_forecast_category", requester="analyst-1", run_id="r1", dag_id="d")
    b = build_plan(wh, "fix_forecast_category", requester="analyst-1", run_id="r1", dag_id="d")
    assert a.plan_id == b.plan_id
    assert wh.scalar("select count(*) from ops.bulk_update_plan") == 1


def test_tampered_plan_is_refused(crm_env):
    _, wh = crm_env
    p = build_plan(wh, "fix_forecast_category", requester="analyst-1")
    wh.execute(
        "update ops.bulk_update_plan_row set after_value = 'Omitted' where record_id = 'O001' and role = 'change'"
    )
    with pytest.raises(PlanIntegrityError, match="modified after it was built"):
        load_plan(wh, p.plan_id)


def test_close_stale_opportunities(crm_env):
    _, wh = crm_env
    p = build_plan(wh, "close_stale_opportunities", requester="analyst-1")
    assert _changes(p) == {
        ("O010", "StageName"): ("Prospecting", "Closed Lost"),
        ("O010", "ForecastCategoryName"): ("Pipeline", "Omitted"),
        ("O010", "Probability"): ("10", "0"),
        ("O010", "Loss_Reason__c"): (None, "No Decision"),
        ("O011", "StageName"): ("Prospecting", "Closed Lost"),
        ("O011", "ForecastCategoryName"): ("Pipeline", "Omitted"),
        ("O011", "Probability"): ("10", "0"),
        ("O011", "Loss_Reason__c"): (None, "No Decision"),
    }
    assert {(g.record_id, g.field, g.before_value) for g in p.guards} == {
        ("O010", "LastActivityDate", "2026-04-16"),
        ("O011", "LastActivityDate", None),
    }
    # StageName is sensitive: the stricter group must approve.
    assert p.sensitive and p.approver_group == "revops_leadership"


def test_move_past_close_dates_goes_to_the_fiscal_quarter_end(crm_env):
    _, wh = crm_env
    p = build_plan(wh, "move_past_close_dates", requester="analyst-1")
    # FY starts in February: the quarter containing 2026-11-02 is Nov-Jan, ending 2027-01-31.
    # O021 is past due but stale (left to close_stale_opportunities); O022 is closed.
    assert _changes(p) == {("O020", "CloseDate"): ("2026-10-23", "2027-01-31")}


def test_reassign_leads_round_robin_within_the_territory_team(crm_env):
    _, wh = crm_env
    p = build_plan(wh, "reassign_leads", requester="analyst-1")
    # AMER-SMB active members by id: u1, u2. Leads needing it, by id: L001, L002, L003, L004.
    assert _changes(p) == {
        ("L001", "OwnerId"): (None, "u1"),
        ("L002", "OwnerId"): (None, "u2"),
        ("L003", "OwnerId"): ("u4", "u1"),
        ("L004", "OwnerId"): ("u3", "u2"),
        ("L008", "OwnerId"): (None, "u4"),
    }
    assert p.sensitive and p.approver_group == "revops_leadership"


def test_empty_plan_skips_and_stores_nothing(crm_env):
    crm, wh = crm_env
    from salesops.ingest.pipeline import extract_and_load

    for rid in ("O001", "O002", "O003"):
        crm.records["Opportunity"][rid]["ForecastCategoryName"] = {
            "O001": "Pipeline",
            "O002": "Commit",
            "O003": "Closed",
        }[rid]
        crm.records["Opportunity"][rid]["SystemModstamp"] = "2026-11-02T07:00:00.000+0000"
    crm.clock = crm.clock.replace(hour=8)
    extract_and_load(crm, ["opportunity"], wh)
    with pytest.raises(EmptyPlan, match="nothing to change"):
        build_plan(wh, "fix_forecast_category", requester="analyst-1")
    assert wh.scalar("select count(*) from ops.bulk_update_plan") == 0


def _with(settings, plan_type, **changes):
    pt = dataclasses.replace(settings.plan_types[plan_type], **changes)
    return dataclasses.replace(settings, plan_types={**settings.plan_types, plan_type: pt})


def test_guard_max_records(crm_env):
    _, wh = crm_env
    s = _with(load_settings(), "fix_forecast_category", max_records=2)
    with pytest.raises(PlanGuardError, match=r"3 records exceed max_records 2\. Split the plan"):
        build_plan(wh, "fix_forecast_category", requester="analyst-1", settings=s)
    assert wh.scalar("select count(*) from ops.bulk_update_plan") == 0


def test_guard_max_share(crm_env):
    _, wh = crm_env
    s = _with(load_settings(), "fix_forecast_category", max_share=0.02)
    with pytest.raises(
        PlanGuardError, match=r"3 of 100 opportunity records \(3\.0%\) exceed max_share 2\.0%"
    ):
        build_plan(wh, "fix_forecast_category", requester="analyst-1", settings=s)


def test_guard_field_outside_the_allowed_list(crm_env):
    _, wh = crm_env
    s = _with(
        load_settings(),
        "close_stale_opportunities",
        fields={"StageName": "forbid", "ForecastCategoryName": "forbid", "Probability": "forbid"},
    )
    with pytest.raises(
        PlanGuardError,
        match=r"record O010 would change field 'Loss_Reason__c', which is not in the allowed list",
    ):
        build_plan(wh, "close_stale_opportunities", requester="analyst-1", settings=s)


def _row(field, after, before="x"):
    return PlanRow(
        change_id=f"p:R1:{field}",
        seq=0,
        record_id="R1",
        field=field,
        role=CHANGE,
        before_value=before,
        after_value=after,
    )


@pytest.mark.parametrize(
    ("policy", "after", "ok"),
    [
        ("forbid", None, False),
        ("forbid", "", False),
        ("null", None, True),
        ("null", "", False),
        ("blank", "", True),
        ("blank", None, True),
        ("forbid", "v", True),
    ],
)
def test_guard_empty_value_policy(policy, after, ok):
    s = load_settings()
    pt = dataclasses.replace(s.plan_types["fix_forecast_category"], fields={"ForecastCategoryName": policy})
    rows = [_row("ForecastCategoryName", after)]
    if ok:
        assert plans.check_guards(pt, rows, 100, s) == ("sales_ops", False)
    else:
        with pytest.raises(
            PlanGuardError,
            match=r"record R1 would set ForecastCategoryName to (null|blank).*empty: " + policy,
        ):
            plans.check_guards(pt, rows, 100, s)


def test_sensitive_field_escalates_to_the_stricter_group():
    s = load_settings()
    pt = dataclasses.replace(
        s.plan_types["fix_forecast_category"], sensitive_fields=("ForecastCategoryName",)
    )
    assert plans.check_guards(pt, [_row("ForecastCategoryName", "Pipeline")], 100, s) == (
        "revops_leadership",
        True,
    )


@pytest.mark.parametrize(
    ("day", "end"),
    [
        (date(2026, 11, 2), date(2027, 1, 31)),
        (date(2026, 2, 1), date(2026, 4, 30)),
        (date(2026, 1, 31), date(2026, 1, 31)),
        (date(2026, 7, 15), date(2026, 7, 31)),
        (date(2026, 12, 31), date(2027, 1, 31)),
    ],
)
def test_fiscal_quarter_end(day, end):
    assert plans.fiscal_quarter_end(day, 2) == end


def test_canonical_values_compare_like_with_like():
    assert canon(10.0, "double") == canon("10", "double") == "10"
    assert canon(0, "double") == canon("0.0", "double") == "0"
    assert canon("2026-10-23", "date") == canon(date(2026, 10, 23), "date") == "2026-10-23"
    assert canon(None, "string") is None and canon("", "string") == ""
    assert canon(True, "bool") == "true" and to_api("true", "bool") is True
    assert to_api("0", "double") == 0.0 and to_api(None, "string") is None


def test_settings_reject_a_batch_size_over_the_salesforce_limit(tmp_path):
    text = (Path(__file__).resolve().parents[2] / "include/config/bulk_updates.yaml").read_text()
    (tmp_path / "bulk_updates.yaml").write_text(text.replace("batch_size: 100", "batch_size: 500"))
    with pytest.raises(
        ConfigError,
        match=r"bulk_updates.yaml: plan_types\.reassign_leads\.batch_size: got 500; expected less than or equal to 200",
    ):
        load_settings(tmp_path)


def test_settings_reject_an_unknown_field(tmp_path):
    text = (Path(__file__).resolve().parents[2] / "include/config/bulk_updates.yaml").read_text()
    (tmp_path / "bulk_updates.yaml").write_text(
        text.replace("CloseDate: {empty: forbid}", "CloseDat: {empty: forbid}")
    )
    with pytest.raises(
        ConfigError, match=r"move_past_close_dates\.fields: got 'CloseDat'; expected a field of Opportunity"
    ):
        load_settings(tmp_path)
