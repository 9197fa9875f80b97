"""`python -m salesops profile` on the independent foreign export (tests/fixtures/foreign_crm):
every figure below is the hand-computed "Profile" section of its EXPECTED.md."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from salesops import policy
from salesops.onboarding.profile import (
    column_map_draft,
    detect_date_format,
    detect_number_format,
    profile_folder,
    render,
    write_drafts,
)

ROOT = Path(__file__).resolve().parents[2]
FIXTURE = ROOT / "tests" / "fixtures" / "foreign_crm"
EXPORT = FIXTURE / "export"


@pytest.fixture
def overlay(monkeypatch):
    monkeypatch.setenv("SALESOPS_CONFIG_DIR", str(FIXTURE / "config"))
    policy.reset()
    yield
    monkeypatch.delenv("SALESOPS_CONFIG_DIR")
    policy.reset()


@pytest.fixture(scope="module")
def prof():
    policy.reset()
    return profile_folder(EXPORT)


def test_rows_columns_and_fill(prof):
    opp, user = prof.object("Opportunity"), prof.object("User")
    assert (opp.rows, user.rows) == (24, 5)
    assert opp.unmapped == ["Account Name"] and opp.fill["Account Name"] == 24
    assert opp.empty_columns == [] and opp.missing_headers == []
    assert opp.partly_empty == {"Amount": ["FX-001", "FX-008"], "Type": ["FX-015"]}


def test_stage_and_picklist_values_with_counts_vs_the_default_policy(prof):
    opp = prof.object("Opportunity")
    assert list(opp.values["StageName"].items()) == [
        ("Prospecting", 4),
        ("Engaging", 6),
        ("Contracting", 4),
        ("Won", 5),
        ("Lost", 5),
    ]
    assert opp.values["Type"] == {"New Business": 15, "Existing Business": 8, "": 1}
    assert opp.values["LeadSource"] == {"Web": 10, "Partner Referral": 5, "Cold Call": 5, "Trade Show": 4}
    assert "ForecastCategoryName" not in opp.values  # not in the export
    # the default policy does not know these (EXPECTED.md "Policy vs data")
    assert opp.unknown_values == {
        "StageName": {"Engaging": 6, "Contracting": 4, "Won": 5, "Lost": 5},
        "Type": {"Existing Business": 8},
        "LeadSource": {"Partner Referral": 5, "Cold Call": 5, "Trade Show": 4},
    }
    assert opp.unknown_samples["StageName"]["Contracting"] == ["FX-011", "FX-012", "FX-013", "FX-014"]


def test_with_the_overlay_every_value_is_known(overlay):
    assert profile_folder(EXPORT).object("Opportunity").unknown_values == {}


def test_dates_month_first_with_the_ambiguous_examples(prof):
    close = prof.object("Opportunity").dates["CloseDate"]
    assert (close["order"], close["format"]) == ("month-first", "%m/%d/%Y")
    assert (close["first_part_over_12"], close["second_part_over_12"], close["ambiguous"]) == (0, 13, 11)
    assert sorted(close["ambiguous_examples"]) == sorted(
        [
            "02/10/2027",
            "03/04/2026",
            "11/10/2026",
            "12/01/2026",
            "12/05/2026",
            "12/10/2026",
            "11/02/2026",
            "09/12/2026",
            "10/05/2026",
            "11/06/2026",
            "08/07/2026",
        ]
    )
    created = prof.object("Opportunity").dates["CreatedDate"]
    assert (created["second_part_over_12"], created["ambiguous"]) == (10, 14)
    stamp = prof.object("Opportunity").dates["SystemModstamp"]
    assert stamp["datetime_format"] == "%m/%d/%Y %I:%M %p"


def test_format_detection_unit_cases():
    assert detect_date_format(["25/12/2026", "03/04/2026"])["order"] == "day-first"
    mixed = detect_date_format(["25/12/2026", "12/25/2026"])
    assert (mixed["order"], mixed["format"]) == ("mixed", None)
    assert detect_date_format(["03/04/2026"])["format"] is None  # cannot be told
    assert detect_date_format(["2026-03-04", "2026-12-31"])["format"] == "%Y-%m-%d"
    eu = detect_number_format(["€1.234,56", "12,5"])
    assert (eu["currency"], eu["thousands_separator"], eu["decimal_separator"]) == (["€"], ".", ",")


def test_amount_format(prof):
    amt = prof.object("Opportunity").numbers["Amount"]
    assert (amt["currency"], amt["thousands_separator"], amt["decimal_separator"]) == (["$"], ",", ".")
    assert amt["values"] == 22 and amt["unparsed"] == []


def test_owner_references_by_name_email_and_unresolved(prof):
    ref = prof.object("Opportunity").references["OwnerId"]
    assert ref["distinct"] == 6
    assert sorted(ref["by_name"]) == ["Rep Alpha", "Rep Bravo", "Rep Charlie", "Rep Delta"]
    assert ref["by_email"] == ["rep.bravo@example.invalid"] and ref["by_id"] == []
    assert ref["unresolved"] == [{"value": "Rep Omega", "records": 1, "sample_ids": ["FX-013"]}]


def test_which_checks_and_metrics_the_export_supports(overlay):
    p = profile_folder(EXPORT)
    checks = {(c["check"], c["object"]): c for c in p.checks}
    for ok in (
        "opp_missing_required_field",
        "opp_past_close_date",
        "opp_amount_invalid",
        "opp_orphan_owner",
        "opp_invalid_picklist",
        "policy_unknown_value",
    ):
        assert checks[(ok, "Opportunity")]["status"] == "evaluable", ok
    na = {
        "opp_forecast_category_mismatch": "Opportunity.ForecastCategoryName not in the source",
        "opp_stale": "Opportunity.LastActivityDate not in the source",
        "opp_missing_next_step": "Opportunity.NextStep not in the source",
        "opp_orphan_account": "Opportunity.AccountId not in the source",
        "opp_close_date_pushed": "no OpportunityFieldHistory records",
        "booking_missing": "no FinanceBooking records",
    }
    for check_id, reason in na.items():
        c = checks[(check_id, "Opportunity")]
        assert c["status"] == "not_evaluated" and c["reason"].startswith(reason), c
    assert checks[("lead_duplicate", "Lead")]["reason"].startswith("no Lead records")
    metrics = {m["metric"]: m for m in p.metrics}
    assert metrics["win_rate_by_count"]["status"] == "evaluable"
    assert metrics["weighted_open_pipeline_amount"]["status"] == "evaluable"
    for name in ("pipeline_movement_amount", "avg_days_in_current_stage"):
        assert metrics[name]["status"] == "not_evaluated"
        assert "no field history" in metrics[name]["reason"]
    assert metrics["commit_forecast_amount"]["reason"].startswith("Opportunity.ForecastCategoryName")
    assert metrics["pipeline_coverage_ratio"]["reason"].startswith("no ForecastingQuota records")


def test_drafts_are_written_once_and_the_column_map_draft_loads(prof, tmp_path):
    from salesops.sources.csv_export import load_column_map

    write_drafts(prof, tmp_path)
    overlay_text = (tmp_path / "config" / "stages.yaml").read_text()
    names = [line.split('"')[1] for line in overlay_text.splitlines() if line.startswith("  - {name:")]
    assert names == ["Prospecting", "Engaging", "Contracting", "Won", "Lost"]  # first-seen order
    assert (
        "probability: TODO" in overlay_text
        and 'opportunity_type: ["New Business", "Existing Business"]' in (overlay_text)
    )
    draft = load_column_map(tmp_path / "column_map.yaml")
    hand = load_column_map(EXPORT / "column_map.yaml")
    assert draft["Opportunity"].columns == hand["Opportunity"].columns
    assert draft["User"].columns == hand["User"].columns
    assert draft["Opportunity"].date_formats == ("%m/%d/%Y",)
    assert draft["Opportunity"].thousands_separator == ","
    assert [r[0] for r in draft["Opportunity"].resolve] == ["OwnerId"]
    # never overwritten: a second run keeps what the user edited
    (tmp_path / "config" / "stages.yaml").write_text("# edited\n")
    again = write_drafts(profile_folder(EXPORT), tmp_path)
    assert (tmp_path / "config" / "stages.yaml").read_text() == "# edited\n"
    assert str(tmp_path / "config" / "stages.yaml") in again.skipped and again.written == []
    json.loads((tmp_path / "profile.json").read_text())


def test_without_a_column_map_the_columns_are_guessed_from_the_report_labels(tmp_path):
    folder = tmp_path / "export"
    folder.mkdir()
    for f in EXPORT.glob("*.csv"):
        shutil.copy(f, folder)
    p = profile_folder(folder)
    assert p.column_map is None
    from salesops.sources.csv_export import load_column_map

    hand = load_column_map(EXPORT / "column_map.yaml")
    assert p.object("Opportunity").mapped == hand["Opportunity"].columns
    assert p.object("User").mapped == hand["User"].columns
    # a name column is not an id: "Account Name" stays unmapped (kept as an extra column)
    assert p.object("Opportunity").unmapped == ["Account Name"] and "AccountId" not in column_map_draft(p)


def test_cli_prints_the_report_and_writes_drafts(tmp_path):
    out = subprocess.run(
        [
            sys.executable,
            "-m",
            "salesops",
            "profile",
            "--csv-folder",
            str(EXPORT),
            "--out",
            str(tmp_path / "p"),
        ],
        cwd=ROOT,
        env={**__import__("os").environ, "PYTHONPATH": f"{ROOT / 'plugins'}:{ROOT}"},
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert out.returncode == 0, out.stderr
    assert "StageName: Prospecting 4, Engaging 6, Contracting 4, Won 5, Lost 5" in out.stdout
    assert "unresolved 'Rep Omega' (1: FX-013)" in out.stdout
    assert (tmp_path / "p" / "column_map.yaml").is_file()


def test_an_api_source_is_profiled_from_its_records(tmp_path):
    """Any source kind: the demo CRM (a seeded tiny org) read through the source registry."""
    from tests.conftest import use_dirs

    from salesops.onboarding.profile import profile_source
    from salesops_demo import DemoCrm

    with use_dirs(tmp_path / "data", tmp_path / "out"):
        DemoCrm.seed(size=200, seed=7)
        p = profile_source("demo")
    opp = p.object("Opportunity")
    assert opp.rows == 200 and opp.files == [] and opp.unmapped == []
    assert "StageName" not in opp.unknown_values  # the demo's stages are the default policy's
    owners = opp.references["OwnerId"]
    assert owners["unresolved"] == [] and len(owners["by_id"]) == owners["distinct"] > 0
    metrics = {m["metric"]: m for m in p.metrics}
    assert metrics["avg_days_in_current_stage"]["status"] == "evaluable"  # field history is there
    assert metrics["pipeline_coverage_ratio"]["status"] == "evaluable"


def test_the_starter_overlay_proposes_required_fields_per_stage_from_what_the_export_fills(prof, tmp_path):
    """A default stage keeps include/config's list, a new stage gets the fields every default stage
    requires; fields the export lacks (AccountId here: no account id column) are left out and named,
    so the proposal never turns opp_missing_required_field into n/a. Filled in, the overlay loads."""
    from salesops.onboarding.profile import starter_overlay

    text = starter_overlay(prof)
    stage_lines = [line for line in text.splitlines() if line.startswith("  - {name:")]
    assert len(stage_lines) == 5
    for line in stage_lines:
        assert 'required_fields: ["OwnerId", "CloseDate", "Type"]' in line, line
    assert "Left out (not in the export): AccountId, Products, Loss_Reason__c." in text
    filled = (
        text.replace("probability: TODO", "probability: 50")
        .replace("is_closed: TODO, is_won: TODO", "is_closed: false, is_won: false")
        .replace("forecast_categories: [TODO]", 'forecast_categories: ["Pipeline"]')
    )
    overlay = tmp_path / "config"
    overlay.mkdir()
    (overlay / "stages.yaml").write_text(filled)
    stages = policy.stages(overlay=overlay)
    assert [s.required_fields for s in stages.stages] == [["OwnerId", "CloseDate", "Type"]] * 5


def _flat(text: str) -> str:
    """Report or comment text with its line wrapping (and the comment marks) undone."""
    return " ".join(w for w in text.split() if w != "#")


def _report_export_without_a_map(tmp_path: Path) -> Path:
    """The fixture's two CSV files alone (no column map, so no exported_at), users.csv written
    "now" (as a download or a copy does) and the opportunities' stamps from November 2026."""
    folder = tmp_path / "export"
    folder.mkdir()
    for f in EXPORT.glob("*.csv"):
        shutil.copy(f, folder)
    return folder


def test_the_column_map_draft_proposes_one_export_time_so_freshness_does_not_hold(tmp_path):
    """Without exported_at the CSV source dates Opportunity by its newest Last Modified Date and User
    (no change-stamp column) by the file's modification time: weeks apart, so source_freshness
    (window 26 h) held the gate. The draft proposes one exported_at for every file - the newest
    change stamp - and says so in the report."""
    from salesops.sources.csv_export import CsvExportSource

    folder = _report_export_without_a_map(tmp_path)
    p = profile_folder(folder)
    write_drafts(p, tmp_path / "profile")
    draft = tmp_path / "profile" / "column_map.yaml"
    text = draft.read_text()
    assert "exported_at: '2026-11-19T18:30:00Z'" in text  # 11/19/2026 6:30 PM, FX-… newest stamp
    assert "TODO the time the export ran" in _flat(text) and "source_freshness would hold the gate" in _flat(
        text
    )

    # before: the draft without exported_at -> the two objects' export times differ by weeks
    import yaml

    data = yaml.safe_load(text)
    data["defaults"].pop("exported_at")
    before = tmp_path / "before.yaml"
    before.write_text(yaml.safe_dump(data))
    src = CsvExportSource(folder, before)
    lag = src.server_time_for("User") - src.server_time_for("Opportunity")
    assert lag.total_seconds() / 3600 > 26  # the freshness window: the gate would hold

    src = CsvExportSource(folder, draft)
    assert src.server_time_for("User") == src.server_time_for("Opportunity")
    assert src.server_time_for("Opportunity").isoformat() == "2026-11-19T18:30:00+00:00"
    assert "exported_at 2026-11-19T18:30:00Z: TODO the time the export ran" in _flat(render(p))


def test_the_draft_proposes_export_full_and_the_boolean_values_it_recognises(tmp_path):
    from salesops.sources.csv_export import load_column_map

    folder = _report_export_without_a_map(tmp_path)
    users = (folder / "users.csv").read_text().replace('"Yes"', '"Checked"').replace('"No"', '"Unchecked"')
    (folder / "users.csv").write_text(users.replace('Checked"\n', 'Maybe"\n', 1))
    p = profile_folder(folder)
    assert p.object("User").booleans == {"IsActive": {"Maybe": 1, "Checked": 3, "Unchecked": 1}}
    draft_text = column_map_draft(p)
    (tmp_path / "column_map.yaml").write_text(draft_text)
    draft = load_column_map(tmp_path / "column_map.yaml")
    # Opportunity: stamps span 265 days (a report of every deal) -> full; User is never deleted by
    # the load (objects.yaml deletes: false), so no export key is proposed for it
    assert draft["Opportunity"].export_full and "export" not in str(
        __import__("yaml").safe_load(draft_text)["objects"]["User"]
    )
    assert draft["User"].true_values == frozenset({"checked"})
    assert draft["User"].false_values == frozenset({"unchecked"})
    assert "TODO add 'Maybe' to true_values or false_values" in _flat(render(p))


def test_an_incremental_looking_export_is_proposed_incremental(tmp_path):
    folder = tmp_path / "export"
    folder.mkdir()
    (folder / "opportunities.csv").write_text(
        "Opportunity ID,Stage,Close Date,Last Modified Date\n"
        "A1,Prospecting,2026-12-01,2026-11-18T10:00:00Z\n"
        "A2,Prospecting,2026-12-02,2026-11-19T10:00:00Z\n"
    )
    p = profile_folder(folder)
    assert "export: incremental" in column_map_draft(p)
    assert "exported_at: '2026-11-19T10:00:00Z'" in column_map_draft(p)


def test_without_any_change_stamp_the_profile_says_plainly_what_to_add(tmp_path):
    import os

    folder = tmp_path / "export"
    folder.mkdir()
    f = folder / "opportunities.csv"
    f.write_text("Opportunity ID,Stage,Close Date\nA1,Prospecting,2026-12-01\n")
    os.utime(f, (1795000000, 1795000000))  # 2026-11-18T11:06:40Z
    p = profile_folder(folder)
    assert "exported_at: '2026-11-18T11:06:40Z'" in column_map_draft(p)
    assert "no file has a change-stamp column, so nothing in the export says when it ran" in _flat(render(p))


def test_the_draft_keeps_the_export_keys_of_the_column_map_it_read(prof):
    import yaml

    data = yaml.safe_load(column_map_draft(prof))
    assert data["defaults"]["exported_at"] == "2026-11-20T14:00:00Z"
    assert data["defaults"]["timezone"] == "America/New_York"
    assert data["defaults"]["true_values"] == ["Yes"] and data["defaults"]["false_values"] == ["No"]
    assert data["objects"]["Opportunity"]["export"] == "full"
