"""The independent foreign export (tests/fixtures/foreign_crm) through `make run`'s code path
(scripts/run.py: the real DAGs in process) with its policy overlay (SALESOPS_CONFIG_DIR):
extract-load, quality, KPIs and packs give the hand-computed figures of EXPECTED.md, checks the
export cannot support are n/a, history figures are "not available: history starts 2026-11-20",
`metrics --json` / `quality --json` report it all, and the gate passes."""

from __future__ import annotations

import os
from decimal import Decimal
from pathlib import Path

import pytest
from tests.conftest import use_dirs

pytestmark = pytest.mark.e2e
FIXTURE = Path(__file__).resolve().parents[1] / "fixtures" / "foreign_crm"


@pytest.fixture(scope="module")
def foreign_run(airflow_db, tmp_path_factory):
    from scripts.run import run_chain

    from salesops import policy
    from salesops.warehouse import Warehouse

    root = tmp_path_factory.mktemp("foreign_run")
    old = os.environ.get("SALESOPS_CONFIG_DIR")
    os.environ["SALESOPS_CONFIG_DIR"] = str(FIXTURE / "config")
    policy.reset()
    try:
        with use_dirs(root / "data", root / "out"):
            # the packs whose sections the tests read (routing/quarter-end packs add minutes, not checks)
            packs = ["weekly_pipeline_inspection", "forecast_hygiene", "dq_scorecard"]
            assert run_chain("csv", str(FIXTURE / "export"), packs=packs) == 0
            wh = Warehouse(f"duckdb:///{root / 'data' / 'warehouse.duckdb'}")
            wh.out_dir = root / "out"  # type: ignore[attr-defined]
            wh.data_dir = root / "data"  # type: ignore[attr-defined]
            yield wh
    finally:
        if old is None:
            os.environ.pop("SALESOPS_CONFIG_DIR", None)
        else:
            os.environ["SALESOPS_CONFIG_DIR"] = old
        policy.reset()


def test_gate_passes_and_stage_counts(foreign_run):
    wh = foreign_run
    run = wh.query("select gate_passed, gate_message from quality.run")
    assert len(run) == 1 and run[0]["gate_passed"], run
    counts = {
        r["stage_name"]: r["n"]
        for r in wh.query("select stage_name, count(*) as n from staging.stg_crm__opportunity group by 1")
    }
    assert counts == {"Prospecting": 4, "Engaging": 6, "Contracting": 4, "Won": 5, "Lost": 5}


def test_quality_counts_and_honest_na(foreign_run):
    wh = foreign_run
    res = {
        r["check_id"]: r
        for r in wh.query(
            "select check_id, status, evaluated, failed, reason from quality.check_result "
            "where scope_type = 'all' and object = 'Opportunity'"
        )
    }
    got = {k: (v["status"], v["evaluated"], v["failed"]) for k, v in res.items()}
    assert got["opp_missing_required_field"] == ("failed", 24, 2)
    assert got["opp_past_close_date"] == ("failed", 14, 3)
    assert got["opp_amount_invalid"] == ("failed", 24, 1)
    assert got["opp_orphan_owner"] == ("passed", 24, 1)
    assert got["opp_invalid_picklist"] == ("passed", 24, 0)
    assert got["policy_unknown_value"] == ("passed", 24, 0)
    for na in (
        "opp_forecast_category_mismatch",
        "opp_stale",
        "opp_missing_next_step",
        "opp_orphan_account",
        "opp_close_date_pushed",
        "booking_missing",
        "booking_amount_mismatch",
    ):
        assert got[na] == ("not_evaluated", 0, 0), na
    exc = {
        (r["check_id"], r["record_id"], r["detail"])
        for r in wh.query(
            "select check_id, record_id, detail from quality.run_exception where check_id in "
            "('opp_missing_required_field', 'opp_past_close_date', 'opp_amount_invalid', 'opp_orphan_owner')"
        )
    }
    assert exc == {
        ("opp_missing_required_field", "FX-008", "Amount"),
        ("opp_missing_required_field", "FX-015", "Type"),
        ("opp_past_close_date", "FX-004", ""),
        ("opp_past_close_date", "FX-005", ""),
        ("opp_past_close_date", "FX-012", ""),
        ("opp_amount_invalid", "FX-010", "non_positive"),
        ("opp_orphan_owner", "FX-013", "Rep Omega"),
    }


def test_kpis_match_the_hand_computed_figures(foreign_run):
    wh = foreign_run
    pipe = {
        r["close_fiscal_quarter"]: r
        for r in wh.query(
            "select * from marts.agg_open_pipeline_by_close_quarter where rollup_level = 'company'"
        )
    }
    assert Decimal(str(pipe["FY2026-Q4"]["open_pipeline_amount"])) == Decimal("218045.67")
    assert Decimal(str(pipe["FY2027-Q1"]["open_pipeline_amount"])) == Decimal("33499.99")
    assert Decimal(str(pipe["FY2026-Q1"]["open_pipeline_amount"])) == Decimal("4250.50")
    # weighted by the stage probabilities of the overlay: the export has no Probability column
    assert float(pipe["FY2026-Q4"]["weighted_open_pipeline_amount"]) == pytest.approx(141013.268, abs=1e-6)
    assert float(pipe["FY2027-Q1"]["weighted_open_pipeline_amount"]) == pytest.approx(6349.996, abs=1e-6)
    assert float(pipe["FY2026-Q1"]["weighted_open_pipeline_amount"]) == pytest.approx(425.05, abs=1e-6)
    sources = {
        r["probability_source"]
        for r in wh.query("select distinct probability_source from marts.int_opportunity_enriched")
    }
    assert sources == {"stage_policy"}
    closed = {
        r["close_fiscal_quarter"]: r
        for r in wh.query("select * from marts.agg_closed_deal_metrics where rollup_level = 'company'")
    }
    q4 = closed["FY2026-Q4"]
    assert float(q4["win_rate_by_count"]) == pytest.approx(0.5, abs=1e-12)
    assert float(q4["win_rate_by_amount"]) == pytest.approx(110333.33 / 124333.33, abs=1e-9)
    assert float(q4["avg_sales_cycle_days"]) == pytest.approx(129.0, abs=1e-9)
    assert float(q4["avg_selling_price"]) == pytest.approx(27583.3325, abs=1e-6)
    q3 = closed["FY2026-Q3"]
    assert float(q3["win_rate_by_count"]) == pytest.approx(0.5) and float(q3["win_rate_by_amount"]) == 1.0


def test_history_figures_are_not_available_with_one_snapshot(foreign_run):
    wh = foreign_run
    ctx = wh.query("select history_start, field_history_start from marts.kpi_context")[0]
    assert str(ctx["history_start"]) == "2026-11-20" and ctx["field_history_start"] is None
    comps = {
        r["comparison_label"]: r
        for r in wh.query(
            "select comparison_label, is_available, unavailable_reason from marts.kpi_movement_comparison"
        )
    }
    assert not comps["week_over_week"]["is_available"] and not comps["quarter_to_date"]["is_available"]
    assert comps["week_over_week"]["unavailable_reason"].startswith(
        "not available: history starts 2026-11-20"
    )
    # no waterfall of zeros, no snapshot rebuilt from a history that does not exist
    assert wh.scalar("select count(*) from marts.agg_pipeline_waterfall") == 0
    assert wh.query("select distinct snapshot_date, snapshot_source from marts.fct_pipeline_snapshot") == [
        {"snapshot_date": __import__("datetime").date(2026, 11, 20), "snapshot_source": "live"}
    ]
    # stage aging: no created-date stand-in
    assert (
        wh.scalar(
            "select count(*) from marts.fct_open_opportunity_risk where days_in_current_stage is not null"
        )
        == 0
    )


def test_metrics_json(foreign_run):
    from salesops.onboarding.results import metrics_report

    rep = metrics_report(wh=foreign_run)
    assert rep["as_of"] == "2026-11-20" and rep["history_start"] == "2026-11-20"
    by = {}
    for m in rep["metrics"]:
        by.setdefault(m["metric"], []).append(m)
    q4 = next(m for m in by["win_rate_by_count"] if m["period"] == "FY2026-Q4")
    assert (q4["status"], q4["value"], q4["denominator"], q4["unit"]) == ("evaluated", 0.5, 8, "ratio")
    assert q4["numerator"] == 4  # EXPECTED.md: 4 won of 8 closed in FY2026-Q4
    # every evaluated ratio names the numerator and denominator it is built from, and they agree
    ratios = [m for m in rep["metrics"] if m["unit"] == "ratio" and m["status"] == "evaluated"]
    assert {m["metric"] for m in ratios if m["numerator"] is None} == set()
    for m in ratios:
        if m["value"] is not None and m["denominator"] not in (None, 0):
            assert m["value"] == pytest.approx(m["numerator"] / m["denominator"]), m
    assert q4["definition"].startswith("Won deals / (won + lost deals)") and q4["source"].endswith(
        "win_rate_by_count"
    )
    weighted = {m["period"]: m["value"] for m in by["weighted_open_pipeline_amount"]}
    assert weighted["FY2026-Q4"] == pytest.approx(141013.268, abs=1e-6)
    movement = by["pipeline_movement_amount"]
    assert {m["status"] for m in movement} == {"not_evaluated"} and len(movement) == 2
    assert all(m["reason"].startswith("not available: history starts 2026-11-20") for m in movement)
    (aging,) = by["avg_days_in_current_stage"]
    assert aging["status"] == "not_evaluated" and aging["value"] is None
    (commit,) = by["commit_forecast_amount"]
    assert commit["reason"].startswith("Opportunity.ForecastCategoryName not in the source")
    (bookings,) = by["bookings_amount"]
    assert bookings["reason"].startswith("no FinanceBooking records loaded")


def test_quality_json(foreign_run):
    from salesops.onboarding.results import quality_report

    rep = quality_report(wh=foreign_run)
    assert rep["gate_passed"] is True
    checks = {(c["check"], c["object"]): c for c in rep["checks"]}
    miss = checks[("opp_missing_required_field", "Opportunity")]
    assert (miss["status"], miss["evaluated"], miss["failed"], miss["target"]) == ("failed", 24, 2, 0.05)
    fc = checks[("opp_forecast_category_mismatch", "Opportunity")]
    assert (fc["status"], fc["evaluated"], fc["failed"]) == ("not_evaluated", None, None)
    assert fc["reason"] == "Opportunity.ForecastCategoryName not in the source (not exported, or not mapped)"


def test_packs_say_not_available_and_n_a_with_the_reason(foreign_run):
    out = foreign_run.out_dir
    weekly = next(out.rglob("weekly_pipeline_inspection__all-all__*.html")).read_text()
    assert (
        "not available: history starts 2026-11-20 (week_over_week needs the pipeline as of 2026-11-13"
        in weekly
    )
    assert "Stage aging: not available: history starts 2026-11-20" in weekly  # the narrative says so
    assert " flat " not in weekly
    hygiene = next(out.rglob("forecast_hygiene__all-all__*.html")).read_text()
    assert (
        "n/a &mdash; opp_forecast_category_mismatch: Opportunity.ForecastCategoryName not in the source"
        in hygiene
    )
    scorecard = next(out.rglob("dq_scorecard__all-all__*.html")).read_text()
    assert "n/a \u2014 opp_forecast_category_mismatch" in scorecard
    docs = foreign_run.scalar("select data_docs_path from quality.run")
    index = Path(docs).read_text()
    assert (
        "<code>opp_stale</code> (Opportunity): n/a &mdash; Opportunity.LastActivityDate not in the source"
        in index
    )


def test_pack_hold_counts_open_deals_by_stage_policy(foreign_run):
    """The export has no IsClosed column: "open" comes from the stage policy (14 open, not 24)."""
    probe = foreign_run.query_file("packs/scope_probe.sql", {"scope_type": "all", "scope_value": "all"})
    assert int(probe["open_opportunities"].iloc[0]) == 14 and int(probe["opportunities"].iloc[0]) == 24


def test_cli_json_reads_the_warehouse_of_the_current_settings(foreign_run):
    import json
    import subprocess
    import sys

    root = Path(__file__).resolve().parents[2]
    env = {
        **os.environ,
        "PYTHONPATH": f"{root / 'plugins'}:{root}",
        "SALESOPS_DATA_DIR": str(foreign_run.data_dir),
        "SALESOPS_CONFIG_DIR": str(FIXTURE / "config"),
    }
    env.pop("SALESOPS_WAREHOUSE_URL", None)
    got = {}
    for cmd in ("metrics", "quality"):
        out = subprocess.run(
            [sys.executable, "-m", "salesops", cmd, "--json"],
            env=env,
            capture_output=True,
            text=True,
            timeout=300,
            cwd=root,
        )
        assert out.returncode == 0, out.stderr
        got[cmd] = json.loads(out.stdout)
    amounts = {
        m["period"]: m["value"] for m in got["metrics"]["metrics"] if m["metric"] == "open_pipeline_amount"
    }
    assert amounts["FY2026-Q4"] == pytest.approx(218045.67)
    statuses = {c["check"]: c["status"] for c in got["quality"]["checks"] if c["object"] == "Opportunity"}
    assert statuses["opp_stale"] == "not_evaluated" and statuses["opp_orphan_owner"] == "passed"
