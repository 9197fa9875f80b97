"""Lead / Account / Contact picklists checked against the policy, and the duplicate matcher's
"not evaluated" path, through the real quality runner on an independent foreign export
(tests/fixtures/foreign_people, hand-computed expectations in its EXPECTED.md): semicolon-
separated, day-first dates, owners by e-mail, its own picklist values, leads with names only."""

from __future__ import annotations

from pathlib import Path

import pytest

from salesops.warehouse.core import Warehouse

FIXTURE = Path(__file__).resolve().parents[1] / "fixtures" / "foreign_people"
EXPORT = FIXTURE / "export"
OBJECTS = ("user", "lead", "account", "contact")
PICKLIST_CHECKS = (
    ("lead_unknown_picklist_value", "Lead"),
    ("account_unknown_picklist_value", "Account"),
    ("contact_unknown_picklist_value", "Contact"),
)


@pytest.fixture(scope="module")
def loaded(tmp_path_factory):
    from salesops.config import object_manifest
    from salesops.ingest.extract import extract_batch
    from salesops.ingest.load import load_batch
    from salesops.sources.csv_export import CsvExportSource

    root = tmp_path_factory.mktemp("foreign_people")
    wh = Warehouse(f"duckdb:///{root / 'w.duckdb'}")
    src = CsvExportSource(EXPORT)
    # every manifest object, as `make run` does: the ones the export lacks load empty
    results = {
        name: load_batch(wh, extract_batch(src, name, wh, landing_root=root / "landing"))
        for name in object_manifest()
    }
    return wh, results, root


@pytest.fixture()
def overlay(monkeypatch):
    """Point SALESOPS_CONFIG_DIR at a folder (or unset it) for one test."""
    from salesops import policy

    def use(folder: Path | None) -> None:
        if folder is None:
            monkeypatch.delenv("SALESOPS_CONFIG_DIR", raising=False)
        else:
            monkeypatch.setenv("SALESOPS_CONFIG_DIR", str(folder))
        policy.reset()

    yield use
    monkeypatch.delenv("SALESOPS_CONFIG_DIR", raising=False)
    policy.reset()


def _results(wh: Warehouse, run_id: str) -> dict[str, dict]:
    return {
        r["check_id"]: r
        for r in wh.query(
            "select check_id, object, status, evaluated, failed, reason from quality.check_result "
            "where run_id = :r and scope_type = 'all'",
            {"r": run_id},
        )
    }


def test_export_staged(loaded):
    wh, results, _ = loaded
    assert {k: (v.rows_read, v.rows_rejected) for k, v in results.items() if k in OBJECTS} == {
        "user": (3, 0),
        "lead": (11, 0),
        "account": (5, 0),
        "contact": (4, 0),
    }
    lead = wh.query(
        "select status, lead_source, owner_id, created_at from staging.stg_crm__lead where id = 'PL-05'"
    )
    assert lead[0]["status"] == "Disqualified" and lead[0]["lead_source"] is None
    assert lead[0]["owner_id"] == "U-03"  # by e-mail
    assert str(lead[0]["created_at"]) == "2026-11-06 15:45:00"  # 16:45 Berlin = 15:45 UTC


def test_default_policy_stops_the_gate_on_lead_and_contact_picklists(loaded, overlay):
    """The default policy knows none of this CRM's statuses and sources: a blocker per object with
    each value, its count and sample ids; Account has no declared picklist: not evaluated."""
    from salesops.quality.runner import run_quality

    wh, _, _ = loaded
    overlay(None)
    summary = run_quality(wh, run_id="d1", build_docs=False)
    assert not summary.gate_passed
    res = _results(wh, "d1")
    got = {c: (res[c]["status"], res[c]["evaluated"], res[c]["failed"]) for c, _ in PICKLIST_CHECKS}
    assert got == {
        "lead_unknown_picklist_value": ("failed", 11, 10),
        "account_unknown_picklist_value": ("not_evaluated", 0, 0),
        "contact_unknown_picklist_value": ("failed", 4, 3),
    }
    assert res["account_unknown_picklist_value"]["reason"].startswith(
        "stages.yaml declares no picklist for any Account field"
    )
    blockers = {b["check_id"]: b for b in summary.blockers_failed}
    assert set(blockers) == {"lead_unknown_picklist_value", "contact_unknown_picklist_value"}
    lead = blockers["lead_unknown_picklist_value"]
    assert [(v["value"], v["count"]) for v in lead["values"]] == [
        ("LeadSource 'Website'", 6),
        ("Status 'New'", 4),
        ("LeadSource 'Trade fair'", 2),
        ("Status 'Contacted'", 2),
        ("Status 'Disqualified'", 1),
        ("Status 'new'", 1),
    ]
    assert next(v for v in lead["values"] if v["value"] == "Status 'New'")["sample_ids"] == [
        "PL-01",
        "PL-04",
        "PL-07",
        "PL-11",
    ]
    contact = blockers["contact_unknown_picklist_value"]
    assert [(v["value"], v["count"], v["sample_ids"]) for v in contact["values"]] == [
        ("LeadSource 'Partner portal'", 1, ["PC-03"]),
        ("LeadSource 'Trade fair'", 1, ["PC-04"]),
        ("LeadSource 'Website'", 1, ["PC-01"]),
    ]
    assert "lead_unknown_picklist_value (Lead): 10 of 11 failed" in summary.gate_message


@pytest.fixture(scope="module")
def overlay_run(loaded, tmp_path_factory):
    """One quality run with the fixture's overlay (and Data Docs), as `make run CONFIG_DIR=...`."""
    import os

    from tests.conftest import use_dirs

    from salesops import policy
    from salesops.quality.runner import run_quality

    wh, _, _ = loaded
    old = os.environ.get("SALESOPS_CONFIG_DIR")
    os.environ["SALESOPS_CONFIG_DIR"] = str(FIXTURE / "config")
    policy.reset()
    out = tmp_path_factory.mktemp("foreign_people_out")
    try:
        with use_dirs(out / "data", out / "out"):
            summary = run_quality(wh, run_id="o1", build_docs=True)
        yield wh, summary
    finally:
        if old is None:
            os.environ.pop("SALESOPS_CONFIG_DIR", None)
        else:
            os.environ["SALESOPS_CONFIG_DIR"] = old
        policy.reset()


def test_overlay_lists_are_what_the_check_uses(overlay_run):
    """The fixture's overlay accepts the CRM's values but not three typos: exactly those stop the
    gate, each row in words with the export's own column label and the expected values."""
    wh, summary = overlay_run
    res = _results(wh, "o1")
    got = {c: (res[c]["status"], res[c]["evaluated"], res[c]["failed"]) for c, _ in PICKLIST_CHECKS}
    assert got == {
        "lead_unknown_picklist_value": ("failed", 11, 1),
        "account_unknown_picklist_value": ("failed", 5, 1),
        "contact_unknown_picklist_value": ("failed", 4, 1),
    }
    blockers = {
        b["check_id"]: [(v["value"], v["count"], v["sample_ids"]) for v in b["values"]]
        for b in summary.blockers_failed
    }
    assert blockers == {
        "lead_unknown_picklist_value": [("Status 'new'", 1, ["PL-10"])],
        "account_unknown_picklist_value": [("Industry 'Logistik'", 1, ["PA-04"])],
        "contact_unknown_picklist_value": [("LeadSource 'Partner portal'", 1, ["PC-03"])],
    }
    messages = {
        (r["check_id"], r["record_id"]): r["message"]
        for r in wh.query(
            "select check_id, record_id, message from quality.run_exception "
            "where run_id = 'o1' and check_id like '%_unknown_picklist_value'"
        )
    }
    assert messages == {
        ("lead_unknown_picklist_value", "PL-10"): "Lead status 'new' is not in the policy: expected one of "
        "New, Contacted, Qualified, Disqualified, Nurturing",
        (
            "account_unknown_picklist_value",
            "PA-04",
        ): "Sector 'Logistik' is not in the policy: expected one of "
        "Logistics, Retail, Healthcare, Food & Beverage",
        ("contact_unknown_picklist_value", "PC-03"): "Origin 'Partner portal' is not in the policy: expected "
        "one of Website, Trade fair, Referral",
    }


def test_profile_proposes_the_lists_and_its_overlay_passes(loaded, overlay, tmp_path):
    """`profile` reports every picklist field's values (declared or not, e.g. Account.Industry) and
    writes them into the starter overlay; with it the picklist checks pass on the same data."""
    from salesops.onboarding.profile import profile_folder, write_drafts
    from salesops.quality.runner import run_quality

    wh, _, _ = loaded
    overlay(None)
    prof = profile_folder(EXPORT)
    assert prof.object("Account").values["Industry"] == {
        "Logistics": 1,
        "Retail": 1,
        "Healthcare": 1,
        "Logistik": 1,
        "Food & Beverage": 1,
    }
    assert prof.object("Lead").unknown_values["Status"] == {
        "New": 4,
        "Contacted": 2,
        "Disqualified": 1,
        "new": 1,
    }
    # the profile says beforehand what the run will say: leads with names only give the matcher no key
    checks = {c["check"]: c for c in prof.checks}
    assert (checks["lead_duplicate"]["status"], checks["lead_duplicate"]["reason"]) == (
        "not_evaluated",
        "no usable matching key: Lead records have no values in any key the duplicate matcher "
        "blocks on (first_name, last_name, company, email, phone, street, city, postal_code)",
    )
    assert checks["contact_duplicate"]["status"] == "evaluable"
    assert checks["account_unknown_picklist_value"]["reason"].startswith("stages.yaml declares no picklist")
    write_drafts(prof, tmp_path / "onboarding")
    stages = (tmp_path / "onboarding" / "config" / "stages.yaml").read_text()
    assert 'lead_status: ["New", "Contacted", "Qualified", "Disqualified", "Nurturing", "new"]' in stages
    assert 'Account.Industry: ["Logistics", "Retail", "Healthcare", "Logistik", "Food & Beverage"]' in stages
    overlay(tmp_path / "onboarding" / "config")
    summary = run_quality(wh, run_id="p1", build_docs=False)
    res = _results(wh, "p1")
    got = {c: (res[c]["status"], res[c]["evaluated"], res[c]["failed"]) for c, _ in PICKLIST_CHECKS}
    assert got == {
        "lead_unknown_picklist_value": ("passed", 11, 0),
        "account_unknown_picklist_value": ("passed", 5, 0),
        "contact_unknown_picklist_value": ("passed", 4, 0),
    }
    assert summary.gate_passed, summary.gate_message


def test_a_misspelt_picklist_target_is_a_config_error(overlay, tmp_path):
    from salesops.config import ConfigError
    from salesops.quality.catalogue import load_config

    (tmp_path / "stages.yaml").write_text("picklists:\n  Acount.Industry: [Retail]\n")
    overlay(tmp_path)
    with pytest.raises(
        ConfigError, match=r"picklists\.Acount\.Industry: object 'Acount' is not in objects\.yaml"
    ):
        load_config()
    (tmp_path / "stages.yaml").write_text("picklists:\n  Account.Sector: [Retail]\n")
    overlay(tmp_path)
    with pytest.raises(ConfigError, match=r"'Sector' is not a field of Account"):
        load_config()


def test_duplicates_without_usable_keys_are_not_evaluated_in_results_scorecard_pack_and_docs(overlay_run):
    """Leads with names only: the matcher has no key, so the real run says "not evaluated" with the
    reason in check results, the scorecard, the dq_scorecard pack section, `quality --json` and
    the Data Docs - never "0 duplicates" (PL-01 and PL-11 share a name; nobody can tell)."""
    from salesops.onboarding.results import quality_report
    from salesops.packs.config import get_pack
    from salesops.packs.sections import BuildContext, build_dq_scorecard

    wh, summary = overlay_run
    reason = (
        "no usable matching key: Lead records have no values in any key the duplicate matcher "
        "blocks on (first_name, last_name, company, email, phone, street, city, postal_code)"
    )
    res = _results(wh, "o1")
    lead = res["lead_duplicate"]
    assert (lead["status"], lead["evaluated"], lead["failed"], lead["reason"]) == (
        "not_evaluated",
        0,
        0,
        reason,
    )
    contact = res["contact_duplicate"]  # contacts carry their account id: evaluated, none found
    assert (contact["status"], contact["evaluated"], contact["failed"]) == ("passed", 4, 0)
    assert (
        wh.scalar(
            "select count(*) from quality.run_exception where run_id = 'o1' and check_id = 'lead_duplicate'"
        )
        == 0
    )
    card = wh.query(
        "select value, numerator, met, reason from quality.scorecard "
        "where run_id = 'o1' and metric = 'duplicates_per_1000_new_leads' and scope_type = 'all'"
    )
    assert card == [
        {"value": None, "numerator": None, "met": None, "reason": f"not evaluated - lead_duplicate: {reason}"}
    ]
    # the pack's scorecard section: "n/a - <reason>", no number, not "met"
    ctx = BuildContext(wh, get_pack("dq_scorecard"), "all", "all", {})
    section = build_dq_scorecard(ctx)
    row = next(r for r in section.tables[0].rows if r["metric"] == "duplicates_per_1000_new_leads")
    assert (row["value"], row["status"]) == ("n/a", f"n/a \u2014 lead_duplicate: {reason}")
    c = next(c for c in section.cards if c.key == "dq_scorecard.duplicates_per_1000_new_leads")
    assert c.value is None and c.na_reason == f"lead_duplicate: {reason}"
    # `python -m salesops quality --json`
    rep = quality_report(wh=wh)
    checks = {(x["check"], x["object"]): x for x in rep["checks"]}
    assert {
        k: checks[("lead_duplicate", "Lead")][k] for k in ("status", "evaluated", "failed", "reason")
    } == {
        "status": "not_evaluated",
        "evaluated": None,
        "failed": None,
        "reason": reason,
    }
    index = Path(summary.data_docs_index).read_text()
    assert f"<code>lead_duplicate</code> (Lead): n/a &mdash; {reason}" in index


@pytest.fixture(scope="module")
def packs_rendered(overlay_run, tmp_path_factory):
    """The KPI marts built on the export (no opportunities) and two packs rendered from them."""
    from salesops.kpis import runner
    from salesops.packs.checks import check_pack
    from salesops.packs.render import render_pack

    wh, _ = overlay_run
    runner.build(wh)
    out = tmp_path_factory.mktemp("foreign_people_packs")
    rendered = {}
    for pack in ("dq_scorecard", "weekly_pipeline_inspection"):
        r = render_pack(wh, pack, out_dir=out / pack, formats=("html", "xlsx"), reuse=False)
        rendered[pack] = (r, check_pack(wh, r))
    return rendered


def test_dq_scorecard_pack_says_n_a_with_the_reason(packs_rendered):
    r, checks = packs_rendered["dq_scorecard"]
    html = Path(r.files["html"]).read_text()
    assert "n/a \u2014 lead_duplicate: no usable matching key: Lead records have no values" in html
    assert checks.passed, checks.failures  # its sections have data: quality results


def test_pipeline_pack_of_an_export_without_opportunities_is_held_not_zero(packs_rendered):
    """A leads-only export has no pipeline: the weekly pipeline pack would print $0 open pipeline
    and 0 deals; its own checks hold it and name why."""
    _r, checks = packs_rendered["weekly_pipeline_inspection"]
    assert not checks.passed
    assert (
        "section coverage: no Opportunity records loaded (the source has none, or does not export "
        "Opportunity): its figures would be zeros the data cannot support"
    ) in checks.failures
    held = {f.split(":")[0] for f in checks.failures if "no Opportunity records loaded" in f}
    assert held == {
        "section coverage",
        "section new_pipeline",
        "section movement",
        "section stage_aging",
        "section close_date_integrity",
        "section at_risk_deals",
        "section top_deals",
    }


def test_funnel_rates_without_lifecycle_or_conversion_data_are_not_evaluated(packs_rendered, overlay_run):
    """The export has leads but no marketing lifecycle history and no conversion column: the funnel
    rates were 0.0 ("no lead ever became an MQL"); they are not evaluated, with the reason."""
    from salesops.onboarding.results import metrics_report

    wh, _ = overlay_run
    by = {}
    for m in metrics_report(wh=wh)["metrics"]:
        by.setdefault(m["metric"], []).append(m)
    for name in ("lead_to_mql_rate", "mql_to_sql_rate", "sql_to_opportunity_rate"):
        assert {(m["status"], m["value"]) for m in by[name]} == {("not_evaluated", None)}, name
        assert by[name][0]["reason"].startswith("no LifecycleStageChange records loaded"), by[name][0]
    (conv,) = {(m["status"], m["reason"]) for m in by["lead_to_opportunity_rate"]}
    assert conv == ("not_evaluated", "Lead.IsConverted not in the source (not exported, or not mapped)")
