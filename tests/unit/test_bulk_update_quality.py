"""Plans and the quality job's exception queue / duplicate clusters, on tiny hand-made tables.

The quality tables are created with the quality job's own DDL and filled by hand, so every
expected count is known in advance (the tiny warehouse of test_bulk_update_support is as of
2026-11-02 06:00 UTC).
"""

from __future__ import annotations

import csv
import dataclasses
from pathlib import Path

import pytest
from tests.unit.test_bulk_update_support import approve, make_env, no_sleep

from salesops.bulk_update.apply import apply_plan, change_log
from salesops.bulk_update.plan import EmptyPlan, PlanError, build_plan, load_plan
from salesops.bulk_update.render import approval_body
from salesops.bulk_update.settings import load_settings
from salesops.config import ConfigError

AS_OF = "2026-11-02 06:00:00"
RUN = "quality__current"


@pytest.fixture()
def crm_env(tmp_path, monkeypatch):
    return make_env(tmp_path, monkeypatch)


def _quality(wh, *, as_of=AS_OF, run_id=RUN, exceptions=(), clusters=()):
    """Create the quality tables and one finished run with ``exceptions`` (check, object, id, status)."""
    wh.run_file("quality/create_tables.sql")
    wh.execute(
        "insert into quality.run (run_id, as_of, started_at, status) values (:r, cast(:a as timestamp), "
        "cast(:a as timestamp) + interval 1 hour, 'checked')",
        {"r": run_id, "a": as_of},
    )
    for check_id, obj, rid, status in exceptions:
        wh.execute(
            "insert into quality.exception_queue (check_id, object, record_id, detail, severity, status, first_seen, "
            "last_seen, first_run_id, last_run_id) values (:c, :o, :id, '', 'warn', :s, cast(:a as timestamp), "
            "cast(:a as timestamp), :r, :r)",
            {"c": check_id, "o": obj, "id": rid, "s": status, "a": as_of, "r": run_id},
        )
    for cluster_run, rid, cluster_id, kind in clusters:
        wh.execute(
            "insert into quality.duplicate_cluster (run_id, object, cluster_id, record_id, is_original, match_kind, score) "
            "values (:r, 'Lead', :c, :id, :orig, :k, 100)",
            {"r": cluster_run, "c": cluster_id, "id": rid, "orig": rid == cluster_id, "k": kind},
        )


def _records(p):
    return set(p.record_ids)


# ------------------------------------------------------------------------- without quality tables


def test_without_quality_tables_plans_build_as_before(crm_env):
    _, wh = crm_env
    p = build_plan(wh, "fix_forecast_category", requester="analyst-1")
    assert _records(p) == {"O001", "O002", "O003"}
    q = p.scope["quality"]
    assert q["status"] == "no_quality_tables" and "open_exceptions" not in q
    assert "no quality tables" in approval_body(p)
    assert not (Path(p.artifact_dir) / "quality_exceptions.csv").exists()
    with pytest.raises(
        PlanError, match="only_open_exceptions needs a current quality run; no quality tables"
    ):
        build_plan(wh, "fix_forecast_category", requester="analyst-1", only_open_exceptions=True)
    with pytest.raises(PlanError, match="mark_duplicate_leads needs a quality run"):
        build_plan(wh, "mark_duplicate_leads", requester="analyst-1")


def test_a_quality_run_for_another_as_of_is_not_used(crm_env):
    _, wh = crm_env
    _quality(
        wh,
        as_of="2026-11-01 06:00:00",
        exceptions=[("opp_forecast_category_mismatch", "Opportunity", "O001", "open")],
    )
    p = build_plan(wh, "fix_forecast_category", requester="analyst-1")
    q = p.scope["quality"]
    assert q["status"] == "stale" and q["run_id"] == RUN and "open_exceptions" not in q
    assert "2026-11-01 06:00:00" in q["message"] and "2026-11-02 06:00:00" in q["message"]
    assert _records(p) == {"O001", "O002", "O003"}


# ------------------------------------------------------------------------------ current quality run


FC_QUEUE = [
    ("opp_forecast_category_mismatch", "Opportunity", "O001", "open"),
    ("opp_forecast_category_mismatch", "Opportunity", "O003", "open"),
    ("opp_forecast_category_mismatch", "Opportunity", "O050", "open"),  # fine in staging now
    ("opp_forecast_category_mismatch", "Opportunity", "O999", "open"),  # deleted since
    ("opp_forecast_category_mismatch", "Opportunity", "O002", "resolved"),  # not open: not counted
    ("opp_stale", "Opportunity", "O060", "open"),  # another check
    ("opp_forecast_category_mismatch", "Lead", "L001", "open"),  # another object
]


def test_plan_counts_its_open_exceptions_and_explains_the_unfixed(crm_env):
    _, wh = crm_env
    _quality(wh, exceptions=FC_QUEUE)
    p = build_plan(wh, "fix_forecast_category", requester="analyst-1")
    assert _records(p) == {"O001", "O002", "O003"}  # the plan's own rules are unchanged
    q = p.scope["quality"]
    assert (
        q["status"] == "current" and q["run_id"] == RUN and q["checks"] == ["opp_forecast_category_mismatch"]
    )
    assert (
        q["open_exceptions"],
        q["plan_records_in_queue"],
        q["plan_records_not_in_queue"],
        q["unfixed_open_exceptions"],
    ) == (4, 2, 1, 2)
    assert q["unfixed_by_reason"] == {
        "category already allowed for the stage": 1,
        "not in staging (deleted since the quality run)": 1,
    }
    assert q["by_check"] == {"opp_forecast_category_mismatch": {"open": 4, "in_plan": 2, "unfixed": 2}}
    # Stored with the plan, shown to the approver, listed record by record.
    assert load_plan(wh, p.plan_id).scope["quality"] == q
    body = approval_body(p)
    assert "4 open exceptions; 2 of this plan's 3 records are among them, 1 are not" in body
    assert "| category already allowed for the stage | 1 |" in body
    with (Path(p.artifact_dir) / "quality_exceptions.csv").open() as fh:
        rows = {r["record_id"]: (r["checks"], r["in_plan"], r["reason"]) for r in csv.DictReader(fh)}
    assert rows == {
        "O001": ("opp_forecast_category_mismatch", "True", "in plan"),
        "O002": ("", "True", "in plan"),
        "O003": ("opp_forecast_category_mismatch", "True", "in plan"),
        "O050": ("opp_forecast_category_mismatch", "False", "category already allowed for the stage"),
        "O999": ("opp_forecast_category_mismatch", "False", "not in staging (deleted since the quality run)"),
    }
    assert "Quality exception queue" in (Path(p.artifact_dir) / "plan.html").read_text()


def test_only_open_exceptions_restricts_the_plan_to_the_queue(crm_env):
    _, wh = crm_env
    _quality(wh, exceptions=FC_QUEUE)
    full = build_plan(wh, "fix_forecast_category", requester="analyst-1", write_artifacts=False)
    p = build_plan(
        wh, "fix_forecast_category", requester="analyst-1", only_open_exceptions=True, write_artifacts=False
    )
    assert _records(p) == {"O001", "O003"} and {g.record_id for g in p.guards} == {"O001", "O003"}
    assert [r.seq for r in p.rows] == list(range(len(p.rows)))
    assert p.content_hash != full.content_hash
    q = p.scope["quality"]
    assert q["only_open_exceptions"] and q["excluded_not_in_queue"] == 1
    assert (q["plan_records_in_queue"], q["plan_records_not_in_queue"], q["unfixed_open_exceptions"]) == (
        2,
        0,
        2,
    )
    # The plan type's config can ask for it too.
    settings = load_settings()
    pt = dataclasses.replace(settings.plan_types["fix_forecast_category"], only_open_exceptions=True)
    s2 = dataclasses.replace(settings, plan_types={**settings.plan_types, pt.name: pt})
    assert _records(build_plan(wh, pt.name, requester="analyst-1", settings=s2, write_artifacts=False)) == {
        "O001",
        "O003",
    }


def test_only_open_exceptions_with_an_empty_queue_is_an_empty_plan(crm_env):
    _, wh = crm_env
    _quality(wh, exceptions=[("opp_forecast_category_mismatch", "Opportunity", "O050", "open")])
    with pytest.raises(EmptyPlan):
        build_plan(wh, "fix_forecast_category", requester="analyst-1", only_open_exceptions=True)


def test_reassign_leads_counts_both_checks_and_names_the_unplaceable(crm_env):
    _, wh = crm_env
    wh.execute("update staging.stg_crm__lead set status = 'Qualified', owner_id = null where id = 'L009'")
    _quality(
        wh,
        exceptions=[
            ("lead_unassigned", "Lead", "L001", "open"),
            ("lead_unassigned", "Lead", "L002", "open"),
            ("lead_unassigned", "Lead", "L006", "open"),  # Atlantis: no territory
            ("lead_unassigned", "Lead", "L007", "open"),  # converted
            ("lead_unassigned", "Lead", "L009", "open"),  # Qualified: not an open status
            ("lead_misrouted", "Lead", "L003", "open"),
        ],
    )
    p = build_plan(wh, "reassign_leads", requester="analyst-1", write_artifacts=False)
    assert _records(p) == {"L001", "L002", "L003", "L004", "L008"}
    q = p.scope["quality"]
    assert (
        q["open_exceptions"],
        q["plan_records_in_queue"],
        q["plan_records_not_in_queue"],
        q["unfixed_open_exceptions"],
    ) == (6, 3, 2, 3)
    assert q["unfixed_by_reason"] == {
        "converted": 1,
        "not placeable: country not in territories.yaml": 1,
        "status Qualified is not an open status": 1,
    }
    assert q["by_check"] == {
        "lead_unassigned": {"open": 5, "in_plan": 2, "unfixed": 3},
        "lead_misrouted": {"open": 1, "in_plan": 1, "unfixed": 0},
    }


def test_close_stale_reports_exceptions_within_the_extra_margin(crm_env):
    _, wh = crm_env
    _quality(wh, exceptions=[("opp_stale", "Opportunity", i, "open") for i in ("O010", "O011", "O012")])
    p = build_plan(wh, "close_stale_opportunities", requester="analyst-1", write_artifacts=False)
    q = p.scope["quality"]
    assert _records(p) == {"O010", "O011"} and q["plan_records_in_queue"] == 2
    assert q["unfixed_by_reason"] == {
        "stale by policy but within extra_margin_days (last activity or creation on/after the plan cutoff)": 1
    }


# ------------------------------------------------------------------------------ mark_duplicate_leads


DUPES = [
    (RUN, "L020", "L020", None),
    (RUN, "L021", "L020", "exact"),
    (RUN, "L022", "L020", "fuzzy:typo"),
    (RUN, "L030", "L030", None),
    (RUN, "L031", "L030", "fuzzy:case"),  # L031 Qualified in staging
    (RUN, "L999", "L999", None),
    (RUN, "L041", "L999", "exact"),  # survivor gone from staging
    ("quality__older", "L050", "L051", "exact"),  # another run: ignored
]
DUP_QUEUE = [("lead_duplicate", "Lead", rid, "open") for rid in ("L021", "L022", "L031", "L041")]


def test_mark_duplicate_leads_plans_the_duplicates_of_the_current_run(crm_env):
    _, wh = crm_env
    wh.execute("update staging.stg_crm__lead set status = 'Qualified' where id = 'L031'")
    _quality(wh, exceptions=DUP_QUEUE, clusters=DUPES)
    p = build_plan(wh, "mark_duplicate_leads", requester="analyst-1")
    assert {(r.record_id, r.field): (r.before_value, r.after_value) for r in p.changes} == {
        ("L021", "Status"): ("Open", "Unqualified"),
        ("L022", "Status"): ("Open", "Unqualified"),
    }
    assert {(g.record_id, g.field, g.before_value) for g in p.guards} == {
        (rid, f, v)
        for rid in ("L021", "L022")
        for f, v in (
            ("Email", f"lead{int(rid[1:])}@example.test"),
            ("FirstName", "Test"),
            ("LastName", f"Lead{rid[1:]}"),
            ("Company", f"Company {rid[1:]}"),
        )
    }
    names = {r.record_id: r.record_name for r in p.changes}
    assert names == {
        "L021": "Company 021 (duplicate of L020, exact)",
        "L022": "Company 022 (duplicate of L020, fuzzy:typo)",
    }
    assert p.sensitive and p.approver_group == "revops_leadership"
    q = p.scope["quality"]
    assert (q["open_exceptions"], q["plan_records_in_queue"], q["unfixed_open_exceptions"]) == (4, 2, 2)
    assert q["unfixed_by_reason"] == {
        "status Qualified is not an open status": 1,
        "surviving record not in staging": 1,
    }
    assert p.scope["quality_run_id"] == RUN and p.scope["duplicate_status"] == "Unqualified"


def test_mark_duplicate_leads_respects_the_match_kinds(crm_env):
    _, wh = crm_env
    _quality(wh, exceptions=DUP_QUEUE, clusters=DUPES)
    settings = load_settings()
    pt = settings.plan_types["mark_duplicate_leads"]
    pt = dataclasses.replace(pt, params={**pt.params, "match_kinds": ["exact"]})
    s2 = dataclasses.replace(settings, plan_types={**settings.plan_types, pt.name: pt})
    p = build_plan(wh, pt.name, requester="analyst-1", settings=s2, write_artifacts=False)
    assert _records(p) == {"L021"}
    assert p.scope["quality"]["unfixed_by_reason"] == {
        "match kind fuzzy:case not in params.match_kinds": 1,
        "match kind fuzzy:typo not in params.match_kinds": 1,
        "surviving record not in staging": 1,
    }
    bad = dataclasses.replace(pt, params={**pt.params, "duplicate_status": "Duplicate"})
    with pytest.raises(
        PlanError, match=r"duplicate_status 'Duplicate' is not in stages.yaml picklists.lead_status"
    ):
        build_plan(
            wh,
            pt.name,
            requester="analyst-1",
            write_artifacts=False,
            settings=dataclasses.replace(settings, plan_types={**settings.plan_types, pt.name: bad}),
        )


def test_mark_duplicate_leads_applies_status_and_stamp_only(crm_env):
    crm, wh = crm_env
    _quality(wh, exceptions=DUP_QUEUE, clusters=DUPES)
    before = crm.snapshot()
    p = build_plan(wh, "mark_duplicate_leads", requester="analyst-1", write_artifacts=False)
    approve(wh, p, approver="revops-approver-1")
    report = apply_plan(wh, crm, p.plan_id, run_id="manual__1", sleep=no_sleep)
    assert report.ok
    after = crm.snapshot()
    changed = {
        (rid, f)
        for obj in after
        for rid, rec in after[obj].items()
        for f, v in rec.items()
        if f != "SystemModstamp" and before[obj][rid].get(f) != v
    }
    assert changed == {
        (rid, f) for rid in ("L021", "L022", "L031") for f in ("Status", "Last_Bulk_Update_Plan__c")
    }
    assert {after["Lead"][rid]["Status"] for rid in ("L021", "L022", "L031")} == {"Unqualified"}
    assert {r["status"] for r in change_log(wh, p.plan_id)} == {"verified"}


# ---------------------------------------------------------------------------------------- settings


def _yaml(tmp_path, old, new):
    text = (Path(__file__).resolve().parents[2] / "include/config/bulk_updates.yaml").read_text()
    assert old in text
    (tmp_path / "bulk_updates.yaml").write_text(text.replace(old, new))
    return tmp_path


def test_settings_reject_an_unknown_or_foreign_quality_check(tmp_path):
    with pytest.raises(
        ConfigError,
        match=r"fix_forecast_category\.quality_checks: got 'opp_nope'; expected a check id of quality.yaml",
    ):
        load_settings(
            _yaml(tmp_path, "quality_checks: [opp_forecast_category_mismatch]", "quality_checks: [opp_nope]")
        )
    with pytest.raises(
        ConfigError,
        match=r"fix_forecast_category\.quality_checks: got 'lead_unassigned', a check of 'lead'; expected .* 'opportunity'",
    ):
        load_settings(
            _yaml(
                tmp_path,
                "quality_checks: [opp_forecast_category_mismatch]",
                "quality_checks: [lead_unassigned]",
            )
        )


def test_record_limit_names_the_exceptions_it_leaves_for_a_later_plan(crm_env):
    _, wh = crm_env
    _quality(wh, exceptions=FC_QUEUE)
    p = build_plan(wh, "fix_forecast_category", requester="analyst-1", record_limit=1)
    assert _records(p) == {"O001"}
    q = p.scope["quality"]
    assert q["deferred_by_record_limit"] == 2  # O002 and O003; only O003 is an open exception
    assert (q["plan_records_in_queue"], q["unfixed_open_exceptions"]) == (1, 3)
    assert q["unfixed_by_reason"] == {
        "category already allowed for the stage": 1,
        "left for a later plan (record_limit)": 1,
        "not in staging (deleted since the quality run)": 1,
    }
    assert p.scope["record_limit"] == {
        "limit": 1,
        "order": "record id",
        "eligible_records": 3,
        "taken_records": 1,
        "left_for_later_plans": 2,
    }
    with (Path(p.artifact_dir) / "quality_exceptions.csv").open() as fh:
        rows = {r["record_id"]: (r["in_plan"], r["reason"]) for r in csv.DictReader(fh)}
    assert rows["O003"] == ("False", "left for a later plan (record_limit)")
    assert rows["O002"] == ("False", "left for a later plan (record_limit)")
    # With only_open_exceptions the limit counts what the queue leaves: O001 and O003 qualify.
    only = build_plan(
        wh, "fix_forecast_category", requester="analyst-1", only_open_exceptions=True, record_limit=1
    )
    assert _records(only) == {"O001"}
    assert only.scope["record_limit"]["eligible_records"] == 2
    assert only.scope["record_limit"]["left_for_later_plans"] == 1
