"""Report packs on the default demo (small, seed 42): every pack rendered once (HTML, PDF, XLSX) and
its numbers read back from each format and compared with the KPI marts and quality tables;
row-level scoping, escaping / formula injection / PII masking, the gate holding a pack, and the
report_packs DAG delivering to a local SMTP server with the right recipients and attachments.

Before the quality and KPI runs, the fixture plants hostile text in the demo copy's staging: a
user named with a <script> tag, an opportunity named like a spreadsheet formula and an unassigned
lead whose company starts with '@'.
"""

from __future__ import annotations

import email
import json
import re
import shutil
import socket
from datetime import UTC, date, datetime, timedelta
from email import policy as email_policy
from pathlib import Path

import pytest

from salesops.packs.model import fmt

pytestmark = pytest.mark.e2e

SCRIPT_NAME = '<script>alert("x")</script> Rep'
FORMULA_NAME = '=HYPERLINK("http://evil.example/x","click")'
FORMULA_COMPANY = "@SUM(1+1)*cmd|' /C calc'!A0"
GENERATED = datetime(2026, 11, 2, 7, 0, tzinfo=UTC)
PACKS = ["weekly_pipeline_inspection", "forecast_hygiene", "dq_scorecard", "routing_sla", "quarter_end"]


def _one(wh, sql: str, params: dict | None = None) -> dict:
    rows = wh.query(sql, params)
    assert len(rows) == 1, f"expected one row from {sql!r}, got {len(rows)}"
    return rows[0]


def _plant_hostile_text(wh) -> dict:
    from salesops.config import policy
    from salesops.kpis.fiscal import fiscal_day

    as_of = wh.scalar("select max(until) from ops.load_audit where status = 'loaded'").date()
    fq = fiscal_day(as_of, policy("calendar")["fiscal_year_start_month"])
    opp = _one(
        wh,
        """
        select o.id, o.owner_id from staging.stg_crm__opportunity o
        join staging.stg_crm__user u on u.id = o.owner_id
        where u.region = 'EMEA' and not o.is_closed and o.close_date between :a and :b
        order by o.amount desc nulls last, o.id limit 1""",
        {"a": fq.fiscal_quarter_start, "b": fq.fiscal_quarter_end},
    )
    lead = _one(
        wh,
        """
        select id, email, phone from staging.stg_crm__lead
        where owner_id is null and not coalesce(is_converted, false) and region = 'EMEA'
          and email like '%@%' and phone is not null
        order by created_at, id limit 1""",
    )
    wh.execute(
        "update staging.stg_crm__user set name = :n where id = :i", {"n": SCRIPT_NAME, "i": opp["owner_id"]}
    )
    wh.execute(
        "update staging.stg_crm__opportunity set name = :n where id = :i", {"n": FORMULA_NAME, "i": opp["id"]}
    )
    wh.execute(
        "update staging.stg_crm__lead set company = :c where id = :i", {"c": FORMULA_COMPANY, "i": lead["id"]}
    )
    return {"opportunity_id": opp["id"], "owner_id": opp["owner_id"], "lead": lead}


def _pdf_text(path: str) -> str:
    """The PDF's text without the running page footers and the footnote list's number markers (pypdf
    extracts both where a page breaks, which can be inside a wrapped definition)."""
    from pypdf import PdfReader

    lines = [ln for page in PdfReader(path).pages for ln in (page.extract_text() or "").splitlines()]
    return "\n".join(
        ln
        for ln in lines
        if not re.search(r"\| data as of .*page \d+ of \d+$", ln) and not re.fullmatch(r"\s*\d+\.\s*", ln)
    )


def _norm(text: str) -> str:
    return " ".join(text.split())


def _html(path: str):
    import lxml.html

    return lxml.html.fromstring(Path(path).read_text(encoding="utf-8"))


def _cards(doc) -> dict[str, dict]:
    out = {}
    for td in doc.xpath("//td[@data-key]"):
        out[td.get("data-key")] = {
            "raw": td.get("data-value"),
            "text": td.xpath(".//div[contains(@class,'value')]")[0].text_content().strip(),
            "sup": td.xpath(".//sup"),
        }
    return out


def _sheet(xlsx: str, name: str) -> list[dict]:
    from openpyxl import load_workbook

    wb = load_workbook(xlsx, read_only=True)
    rows = list(wb[name].iter_rows(values_only=True))
    wb.close()
    return [dict(zip(rows[0], r, strict=True)) for r in rows[1:]]


def _all_cells(xlsx: str) -> list:
    from openpyxl import load_workbook

    wb = load_workbook(xlsx)
    return [c for ws in wb.worksheets for row in ws.iter_rows() for c in row if c.value is not None]


@pytest.fixture(scope="module")
def packs_env(demo_env):
    from salesops.kpis.runner import build
    from salesops.packs.render import render_pack
    from salesops.quality.runner import run_quality

    wh = demo_env.warehouse
    planted = _plant_hostile_text(wh)
    summary = run_quality(wh, build_docs=False)
    assert summary.gate_passed, summary.gate_message
    build(wh)
    rendered = {p: render_pack(wh, p, generated_at=GENERATED) for p in PACKS}
    rendered["weekly_emea"] = render_pack(
        wh, "weekly_pipeline_inspection", "region", "EMEA", generated_at=GENERATED
    )
    rendered["dq_team"] = render_pack(
        wh, "dq_scorecard", "team", "EMEA-MM", generated_at=GENERATED, formats=("html", "xlsx")
    )
    return {
        "env": demo_env,
        "wh": wh,
        "planted": planted,
        "r": rendered,
        "ctx": wh.query("select * from marts.kpi_context")[0],
    }


def _assert_card(r, key: str, expected, unit: str, pdf: str | None = None):
    """The card shows ``expected`` in the XLSX summary (raw), the HTML (raw + text) and the PDF (text)."""
    from salesops.packs.checks import summary_values

    shown = summary_values(r.files["xlsx"])[key]
    cards = _cards(_html(r.files["html"]))
    text = fmt(expected, unit)
    if expected is None:
        assert shown is None and cards[key]["raw"] == ""
    else:
        assert float(shown) == pytest.approx(float(expected), abs=1e-6), key
        assert float(cards[key]["raw"]) == pytest.approx(float(expected), abs=1e-6), key
    assert cards[key]["text"] == text, key
    assert cards[key]["sup"], f"{key}: no footnote reference"
    if pdf is not None:
        assert text in pdf, f"{key}: {text!r} not in the PDF text"


def test_every_pack_passes_its_checks_and_shows_as_of_and_definitions(packs_env):
    from salesops.kpis.registry import definition
    from salesops.packs.checks import check_pack, quality_gate

    wh = packs_env["wh"]
    assert quality_gate(wh).passed
    for name in PACKS + ["weekly_emea", "dq_team"]:
        r = packs_env["r"][name]
        result = check_pack(wh, r, now=datetime.now(UTC))
        assert result.passed, (name, result.failures)
        assert result.totals and all(t["ok"] for t in result.totals)
        html = Path(r.files["html"]).read_text(encoding="utf-8")
        assert "Data as of <b>2026-11-02 06:00:00 UTC</b>" in html
        if "pdf" in r.files:
            pdf = _norm(_pdf_text(r.files["pdf"]))
            assert "data as of 2026-11-02 06:00:00 utc" in pdf.lower()
            if name in ("weekly_pipeline_inspection", "quarter_end", "weekly_emea"):
                i = pdf.find("Pipeline coverage:")
                assert _norm(definition("pipeline_coverage_ratio")) in pdf, pdf[i - 300 : i + 900]
    defs = _norm(
        _html(packs_env["r"]["weekly_pipeline_inspection"].files["html"])
        .get_element_by_id("definitions")
        .text_content()
    )
    for metric in (
        "open_pipeline_amount",
        "pipeline_coverage_ratio",
        "at_risk_opportunity_count",
        "pipeline_movement_amount",
    ):
        assert _norm(definition(metric)) in defs, metric


def test_weekly_inspection_numbers_equal_the_marts(packs_env):
    wh, r = packs_env["wh"], packs_env["r"]["weekly_pipeline_inspection"]
    pdf = _pdf_text(r.files["pdf"])
    cov = _one(
        wh,
        "select * from marts.agg_pipeline_coverage where rollup_level = 'company' and quarter_relative = 'current'",
    )
    nxt = _one(
        wh,
        "select * from marts.agg_pipeline_coverage where rollup_level = 'company' and quarter_relative = 'next'",
    )
    _assert_card(r, "coverage.open_pipeline_amount", cov["open_pipeline_amount"], "currency", pdf)
    _assert_card(r, "coverage.quota_amount", cov["quota_amount"], "currency", pdf)
    _assert_card(r, "coverage.coverage_ratio", cov["coverage_ratio"], "multiple", pdf)
    _assert_card(r, "coverage.next_coverage_ratio", nxt["coverage_ratio"], "multiple", pdf)
    created = _one(
        wh,
        """select p.* from marts.agg_pipeline_created_by_quarter p, marts.kpi_context c
                          where p.rollup_level = 'company' and p.created_fiscal_quarter = c.current_fiscal_quarter_label""",
    )
    _assert_card(r, "new_pipeline.created_amount", created["pipeline_created_amount"], "currency", pdf)
    wf = {
        w["step"]: w
        for w in wh.query(
            "select * from marts.agg_pipeline_waterfall where comparison_label = 'week_over_week' "
            "and rollup_level = 'company'"
        )
    }
    _assert_card(r, "movement.starting_amount", wf["starting_pipeline"]["amount"], "currency", pdf)
    _assert_card(r, "movement.ending_amount", wf["ending_pipeline"]["amount"], "currency", pdf)
    from salesops.packs.sections import STEP_LABELS

    sheet = {row["Step"]: row for row in _sheet(r.files["xlsx"], "Movement")}
    assert len(sheet) == len(wf) == 16
    for step, w in wf.items():
        assert sheet[STEP_LABELS[step]]["Deals"] == w["opportunity_count"], step
        assert float(sheet[STEP_LABELS[step]]["Amount"]) == pytest.approx(float(w["amount"])), step
    risk = _one(wh, "select * from marts.agg_at_risk_pipeline where rollup_level = 'company'")
    _assert_card(r, "at_risk_deals.at_risk_count", risk["at_risk_count"], "count", pdf)
    _assert_card(r, "at_risk_deals.at_risk_amount", risk["at_risk_amount"], "currency", pdf)
    _assert_card(r, "at_risk_deals.at_risk_share", risk["at_risk_share_of_amount"], "ratio", pdf)
    ids = {row["Id"] for row in _sheet(r.files["xlsx"], "At-risk deals")}
    assert ids == {
        x["opportunity_id"]
        for x in wh.query("select opportunity_id from marts.fct_open_opportunity_risk where is_at_risk")
    }
    # stage aging: the HTML table equals marts.agg_stage_aging
    doc = _html(r.files["html"])
    table = doc.xpath("//table[@data-table='Open deals by current stage']")[0]
    shown = {tr[0].text_content(): [td.text_content() for td in tr] for tr in table.xpath(".//tr")[1:]}
    aging = wh.query("select * from marts.agg_stage_aging where rollup_level = 'company'")
    assert set(shown) == {a["stage_name"] for a in aging}
    for a in aging:
        assert shown[a["stage_name"]][1] == fmt(a["open_count"], "count")
        assert shown[a["stage_name"]][3] == fmt(a["avg_days_in_current_stage"], "days")
    assert r.narrative[0].startswith("Company FY2027-Q4 pipeline down")


def test_forecast_hygiene_numbers_equal_the_marts(packs_env):
    wh, r = packs_env["wh"], packs_env["r"]["forecast_hygiene"]
    pdf = _pdf_text(r.files["pdf"])
    f = _one(
        wh,
        "select * from marts.agg_forecast_rollup where rollup_level = 'company' and quarter_relative = 'current'",
    )
    _assert_card(r, "forecast_rollup.commit_forecast_amount", f["commit_forecast_amount"], "currency", pdf)
    _assert_card(
        r, "forecast_rollup.best_case_forecast_amount", f["best_case_forecast_amount"], "currency", pdf
    )
    _assert_card(
        r, "forecast_rollup.weighted_pipeline_amount", f["weighted_pipeline_amount"], "currency", pdf
    )
    mismatches = wh.scalar(
        "select count(*) from quality.exception_queue where status = 'open' "
        "and check_id = 'opp_forecast_category_mismatch'"
    )
    _assert_card(r, "forecast_compliance.mismatch_count", mismatches, "count", pdf)
    fc = _one(
        wh,
        """select value from quality.scorecard where metric = 'forecast_category' and scope_type = 'all'
                     and run_id = (select max(run_id) from quality.run)""",
    )
    _assert_card(r, "forecast_compliance.forecast_category", fc["value"], "ratio", pdf)


def test_dq_scorecard_numbers_equal_the_quality_tables(packs_env):
    wh, r = packs_env["wh"], packs_env["r"]["dq_scorecard"]
    pdf = _pdf_text(r.files["pdf"])
    rows = wh.query("select * from quality.scorecard where scope_type = 'all'")
    sheet = {row["Metric"]: row for row in _sheet(r.files["xlsx"], "Scorecard")}
    assert set(sheet) == {x["metric"] for x in rows}
    for x in rows:
        unit = "per_1000" if x["metric"].startswith("duplicates") else "ratio"
        _assert_card(r, f"dq_scorecard.{x['metric']}", x["value"], unit, pdf)
        assert sheet[x["metric"]]["Status"] == ("met" if x["met"] else "MISSED")
    open_q = wh.query("select check_id, record_id from quality.exception_queue where status = 'open'")
    _assert_card(r, "dq_exceptions_by_owner.open_exceptions", len(open_q), "count", pdf)
    detail = _sheet(r.files["xlsx"], "Exceptions")
    assert sorted((d["Check"], d["Record id"]) for d in detail) == sorted(
        (q["check_id"], q["record_id"]) for q in open_q
    )


def test_routing_sla_numbers_equal_the_marts(packs_env):
    import pandas as pd

    wh, r, ctx = packs_env["wh"], packs_env["r"]["routing_sla"], packs_env["ctx"]
    pdf = _pdf_text(r.files["pdf"])
    sheet = _sheet(r.files["xlsx"], "SLA by segment")
    agg = {
        (a["created_fiscal_quarter"], a["segment"]): a
        for a in wh.query("select * from marts.agg_speed_to_lead")
    }
    assert len(sheet) == 6
    for row in sheet:
        a = agg.get((row["Created in"], row["Segment"]))
        if a is None:  # no leads of that segment in the quarter
            assert row["Leads"] == 0
            continue
        assert (row["Leads"], row["Met"], row["Breached"]) == (
            a["lead_count"],
            a["sla_met_count"],
            a["sla_breached_count"],
        )
        assert (
            row["Compliance"] == pytest.approx(a["routing_sla_compliance_rate"])
            if a["routing_sla_compliance_rate"] is not None
            else row["Compliance"] is None
        )
    # the rolling-window headline, recomputed independently from the per-lead fact
    fact = wh.query_df("select created_at, sla_status from marts.fct_lead_speed_to_lead")
    start = pd.Timestamp(ctx["as_of_date"] - timedelta(days=90 - 1))
    win = fact[
        (fact["created_at"].dt.normalize() >= start) & (fact["created_at"] <= pd.Timestamp(ctx["as_of_ts"]))
    ]
    met, breached = int((win["sla_status"] == "met").sum()), int((win["sla_status"] == "breached").sum())
    _assert_card(r, "routing_sla.sla_met_count", met, "count", pdf)
    _assert_card(r, "routing_sla.sla_breached_count", breached, "count", pdf)
    _assert_card(r, "routing_sla.compliance_rate", met / (met + breached), "ratio", pdf)
    misrouted = wh.scalar(
        "select count(*) from quality.exception_queue where status = 'open' and check_id = 'lead_misrouted'"
    )
    _assert_card(r, "routing_accuracy.misrouted_count", misrouted, "count", pdf)


def test_quarter_end_numbers_equal_the_marts(packs_env):
    wh, r = packs_env["wh"], packs_env["r"]["quarter_end"]
    pdf = _pdf_text(r.files["pdf"])
    nxt = _one(
        wh,
        "select * from marts.agg_pipeline_coverage where rollup_level = 'company' and quarter_relative = 'next'",
    )
    _assert_card(
        r, "next_quarter_coverage.open_pipeline_amount", nxt["open_pipeline_amount"], "currency", pdf
    )
    _assert_card(r, "next_quarter_coverage.coverage_ratio", nxt["coverage_ratio"], "multiple", pdf)
    rec = {
        x["period_label"]: x
        for x in wh.query(
            "select * from marts.agg_bookings_reconciliation where period_grain = 'fiscal_quarter'"
        )
    }
    sheet = _sheet(r.files["xlsx"], "Reconciliation")
    assert len(sheet) == 6 and sheet[-1]["Quarter"] == packs_env["ctx"]["current_fiscal_quarter_label"]
    for row in sheet:
        x = rec.get(row["Quarter"])
        assert float(row["CRM bookings"]) == pytest.approx(float(x["crm_bookings_amount"]) if x else 0.0)
        assert float(row["Variance"]) == pytest.approx(float(x["variance_amount"]) if x else 0.0)
    win = _one(
        wh,
        """select w.* from marts.agg_closed_deal_metrics w, marts.kpi_context c
                      where w.rollup_level = 'company' and w.close_fiscal_quarter = c.current_fiscal_quarter_label""",
    )
    _assert_card(r, "win_loss_trend.win_rate_by_count", win["win_rate_by_count"], "ratio", pdf)
    slipped = wh.query("""select amount_change from marts.fct_pipeline_movement
                          where comparison_label = 'quarter_to_date' and movement_category in ('pushed', 'slipped')""")
    _assert_card(r, "slippage.pushed_count", len(slipped), "count", pdf)


def _texts(r) -> tuple[str, str, list[str]]:
    html_text = _html(r.files["html"]).text_content()
    pdf = _pdf_text(r.files["pdf"]) if "pdf" in r.files else ""
    cells = [str(c.value) for c in _all_cells(r.files["xlsx"])]
    return html_text, pdf, cells


def test_region_pack_holds_only_that_regions_rows(packs_env):
    wh, r = packs_env["wh"], packs_env["r"]["weekly_emea"]
    html_text, pdf, cells = _texts(r)
    blob = "\n".join([html_text, pdf, *cells])
    foreign = wh.query("""select o.id from staging.stg_crm__opportunity o
                          left join staging.stg_crm__user u on u.id = o.owner_id
                          where coalesce(u.region, '') <> 'EMEA'""")
    leaked = [x["id"] for x in foreign if x["id"] in blob]
    assert leaked == [], f"{len(leaked)} non-EMEA opportunity ids in the EMEA pack, e.g. {leaked[:3]}"
    foreign_names = {
        x["name"]
        for x in wh.query("select name from staging.stg_crm__user where coalesce(region, '') <> 'EMEA'")
    }
    assert not [c for c in cells if c in foreign_names]
    assert not [n for n in foreign_names if re.search(rf"\b{re.escape(n)}\b", html_text + pdf)]
    emea_ids = {
        x["opportunity_id"]
        for x in wh.query("""select k.opportunity_id from marts.fct_open_opportunity_risk k
                                                         join staging.stg_crm__user u on u.id = k.owner_id
                                                         where u.region = 'EMEA' and k.is_at_risk""")
    }
    assert emea_ids and {row["Id"] for row in _sheet(r.files["xlsx"], "At-risk deals")} == emea_ids
    cov = _one(
        wh,
        "select * from marts.agg_pipeline_coverage where rollup_level = 'region' and rollup_key = 'EMEA' "
        "and quarter_relative = 'current'",
    )
    _assert_card(r, "coverage.open_pipeline_amount", cov["open_pipeline_amount"], "currency", pdf)
    _assert_card(r, "coverage.quota_amount", cov["quota_amount"], "currency", pdf)
    assert r.recipients == ["leader-emea@example.com"]


def test_scoped_movement_and_stage_aging_equal_the_sums_over_their_deals(packs_env):
    """The packs read the KPI marts' rollup rows; per scope (company, region, team, owner) every
    waterfall step must still equal the sum over the scope's deals in fct_pipeline_movement (start /
    end from the snapshots) and reconcile, and stage aging the scope's open deals."""
    wh = packs_env["wh"]
    busiest = """select u.{col} from marts.fct_pipeline_movement m join staging.stg_crm__user u on u.id = m.owner_id
                 where m.movement_category <> 'unchanged' group by u.{col} order by count(*) desc, u.{col} limit 1"""
    rep, team = wh.scalar(busiest.format(col="id")), wh.scalar(busiest.format(col="team"))
    in_scope = {"all": "true", "region": "u.region = :v", "team": "u.team = :v", "owner": "u.id = :v"}
    for scope_type, value in (("all", "all"), ("region", "EMEA"), ("team", team), ("owner", rep)):
        where = in_scope[scope_type]
        moved = 0
        for comparison in ("week_over_week", "quarter_to_date"):
            got = {
                r["step"]: r
                for r in wh.query_file(
                    "packs/movement.sql",
                    {"scope_type": scope_type, "scope_value": value, "comparison": comparison},
                ).to_dict("records")
            }
            assert len(got) == 16, (scope_type, comparison)
            deals = wh.query(
                f"""select m.movement_category as step, count(*) as n, sum(m.amount_change) as amount
                                 from marts.fct_pipeline_movement m left join staging.stg_crm__user u on u.id = m.owner_id
                                 where m.comparison_label = :c and m.movement_category <> 'unchanged' and {where}
                                 group by 1""",
                {"c": comparison, "v": value},
            )
            moved += len(deals)
            expected = {d["step"]: d for d in deals}
            for step in (
                "new",
                "reopened",
                "pulled_in",
                "pushed_in",
                "amount_up",
                "amount_down",
                "pushed",
                "slipped",
                "moved_out_other",
                "won",
                "lost",
                "removed",
            ):
                e = expected.get(step, {"n": 0, "amount": 0})
                assert got[step]["opportunity_count"] == e["n"], (scope_type, comparison, step)
                assert float(got[step]["amount"]) == pytest.approx(float(e["amount"] or 0), abs=0.005), (
                    scope_type,
                    step,
                )
            ends = _one(
                wh,
                f"""select
                    sum(case when sn.snapshot_date = c.start_date then coalesce(sn.amount, 0) else 0 end) as start_amount,
                    sum(case when sn.snapshot_date = c.end_date then coalesce(sn.amount, 0) else 0 end) as end_amount
                from marts.kpi_movement_comparison c
                join marts.fct_pipeline_snapshot sn on sn.snapshot_date in (c.start_date, c.end_date)
                    and sn.close_date between c.window_start and c.window_end
                left join staging.stg_crm__user u on u.id = sn.owner_id
                where c.comparison_label = :c and {where}""",
                {"c": comparison, "v": value},
            )
            start, end = float(got["starting_pipeline"]["amount"]), float(got["ending_pipeline"]["amount"])
            assert start == pytest.approx(float(ends["start_amount"]), abs=0.005), (scope_type, comparison)
            assert end == pytest.approx(float(ends["end_amount"]), abs=0.005), (scope_type, comparison)
            flows = sum(float(r["amount"]) for r in got.values() if r["is_flow"])
            assert start + flows == pytest.approx(end, abs=0.005), (scope_type, comparison)
        assert moved, f"{scope_type} {value}: no moved deals, so the test would not test anything"
        aging = {
            r["stage_name"]: r
            for r in wh.query_file(
                "packs/stage_aging.sql", {"scope_type": scope_type, "scope_value": value}
            ).to_dict("records")
        }
        open_deals = wh.query(
            f"""select coalesce(k.stage_name, '(none)') as stage_name, count(*) as n,
                                         sum(coalesce(k.amount, 0)) as amount, avg(k.days_in_current_stage) as avg_days,
                                         max(k.days_in_current_stage) as max_days
                                  from marts.fct_open_opportunity_risk k left join staging.stg_crm__user u on u.id = k.owner_id
                                  where {where} group by 1""",
            {"v": value},
        )
        assert open_deals and set(aging) == {d["stage_name"] for d in open_deals}, scope_type
        for d in open_deals:
            a = aging[d["stage_name"]]
            assert (a["open_count"], a["max_days_in_current_stage"]) == (d["n"], d["max_days"]), (
                scope_type,
                d,
            )
            assert float(a["open_amount"]) == pytest.approx(float(d["amount"]), abs=0.005), (scope_type, d)
            assert float(a["avg_days_in_current_stage"]) == pytest.approx(float(d["avg_days"]), rel=1e-9), (
                scope_type,
                d,
            )


def test_team_pack_holds_only_that_teams_exceptions(packs_env):
    wh, r = packs_env["wh"], packs_env["r"]["dq_team"]
    # a record belongs to its owner's team; records without a known owner to the team quality gave them
    scoped = """select q.check_id, q.record_id, q.owner_id, u.id as user_id from quality.exception_queue q
                left join staging.stg_crm__user u on u.id = q.owner_id
                where q.status = 'open' and coalesce(u.team, q.team, '') {op} 'EMEA-MM'"""
    team_rows = wh.query(scoped.format(op="="))
    detail = _sheet(r.files["xlsx"], "Exceptions")
    assert sorted((d["Check"], d["Record id"]) for d in detail) == sorted(
        (x["check_id"], x["record_id"]) for x in team_rows
    )
    members = {x["name"] for x in wh.query("select name from staging.stg_crm__user where team = 'EMEA-MM'")}
    unknown_owners = {x["owner_id"] for x in team_rows if x["owner_id"] and not x["user_id"]}
    assert {row["Owner"] for row in _sheet(r.files["xlsx"], "By owner")} <= members | unknown_owners | {
        "(unassigned)"
    }
    others = wh.query(scoped.format(op="<>"))
    html_text, _, cells = _texts(r)
    blob = "\n".join([html_text, *cells])
    assert not [
        x["record_id"]
        for x in others
        if x["record_id"] in blob and x["record_id"] not in {t["record_id"] for t in team_rows}
    ]


def test_hostile_names_are_escaped_and_formulas_neutralised(packs_env):
    r = packs_env["r"]["weekly_emea"]
    raw_html = Path(r.files["html"]).read_text(encoding="utf-8")
    assert "<script>" not in raw_html
    assert "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt; Rep" in raw_html
    assert SCRIPT_NAME in _pdf_text(r.files["pdf"])  # shown as text, never run
    top = {row["Id"]: row for row in _sheet(r.files["xlsx"], "Top deals")}
    assert top[packs_env["planted"]["opportunity_id"]]["Opportunity"] == "'" + FORMULA_NAME
    for name in list(PACKS) + ["weekly_emea", "dq_team"]:
        rp = packs_env["r"][name]
        for cell in _all_cells(rp.files["xlsx"]):
            assert cell.data_type != "f", f"{name}: formula cell {cell.coordinate}"
            if isinstance(cell.value, str):
                assert not cell.value.startswith(("=", "+", "-", "@", "\t", "\r")), (name, cell.value)
        for key, path in rp.files.items():
            if key.startswith("csv:"):
                text = Path(path).read_text(encoding="utf-8")
                assert "\n=" not in text and ",=" not in text and "\n@" not in text and ",@" not in text, path
    csv_text = Path(r.files["csv:Top deals"]).read_text(encoding="utf-8")
    assert "'=HYPERLINK" in csv_text


def test_pii_is_masked_unless_the_pack_allows_it(packs_env):
    lead = packs_env["planted"]["lead"]
    r = packs_env["r"]["routing_sla"]  # emails masked, phones allowed (packs.yaml)
    html_text, pdf, cells = _texts(r)
    for blob in (html_text, pdf, "\n".join(cells)):
        assert lead["email"] not in blob
    masked = lead["email"][0] + "***@" + lead["email"].split("@", 1)[1]
    rows = {row["Lead id"]: row for row in _sheet(r.files["xlsx"], "Unassigned leads")}
    assert rows[lead["id"]]["Email"] == masked
    # allowed, and neutralised: a spreadsheet would evaluate +1-555-... as arithmetic
    assert rows[lead["id"]]["Phone"] == "'" + lead["phone"] and lead["phone"].startswith("+")
    assert lead["phone"] in html_text and lead["phone"] in pdf
    assert rows[lead["id"]]["Company"] == "'" + FORMULA_COMPANY
    for path in [v for k, v in r.files.items() if k.startswith("csv:")]:
        assert lead["email"] not in Path(path).read_text(encoding="utf-8")


def test_pack_checks_catch_a_wrong_total_an_empty_section_and_stale_data(packs_env, tmp_path):
    from openpyxl import load_workbook

    from salesops.packs.checks import check_pack
    from salesops.packs.render import RenderedPack

    wh = packs_env["wh"]
    good = packs_env["r"]["weekly_pipeline_inspection"]
    data = json.loads(json.dumps(good.to_dict()))
    xlsx = tmp_path / "tampered.xlsx"
    shutil.copy(good.files["xlsx"], xlsx)
    wb = load_workbook(xlsx)
    ws = wb["Summary"]
    for row in ws.iter_rows():
        if row[0].value == "coverage.open_pipeline_amount":
            original = row[3].value
            row[3].value = original + 1000
    wb.save(xlsx)
    data["files"]["xlsx"] = str(xlsx)
    data["sections"][0]["row_count"] = 0
    bad = RenderedPack.from_dict(data)
    result = check_pack(wh, bad, now=datetime.now(UTC))
    assert not result.passed
    assert (
        f"total coverage.open_pipeline_amount: pack shows {original + 1000}, warehouse total is {float(original)}"
        in result.failures
    )
    assert any(f.startswith("section coverage is empty although the scope has") for f in result.failures)
    finished = datetime.fromisoformat(good.context["load_finished_at"])
    stale = check_pack(wh, good, now=finished + timedelta(hours=100))
    assert [
        f for f in stale.failures if f.startswith("freshness: the latest load finished 100.0 h ago (> 36 h)")
    ]


def test_without_an_smtp_connection_email_is_skipped_with_the_reason(packs_env, monkeypatch):
    from salesops.packs.checks import GateStatus, PackCheckResult
    from salesops.packs.deliver import publish_or_hold

    monkeypatch.delenv("AIRFLOW_CONN_SMTP_DEFAULT", raising=False)
    r = packs_env["r"]["quarter_end"]
    result = publish_or_hold(
        packs_env["wh"],
        r,
        GateStatus(True, "ok", r.as_of),
        PackCheckResult(True),
        channels=["email"],
        run_id="test-no-smtp",
    )
    assert [(a["recipient"], a["status"], a["detail"]) for a in result.attempts] == [
        (a, "skipped", "no SMTP connection 'smtp_default' configured")
        for a in ["revops-demo@example.com", "finance-demo@example.com", "cro-demo@example.com"]
    ]
    assert not result.published


class _Inbox:
    def __init__(self) -> None:
        self.messages: list[tuple[list[str], email.message.EmailMessage]] = []

    async def handle_DATA(self, server, session, envelope):  # noqa: N802 - aiosmtpd's hook name
        msg = email.message_from_bytes(envelope.content, policy=email_policy.default)
        self.messages.append((list(envelope.rcpt_tos), msg))
        return "250 Message accepted for delivery"


@pytest.fixture(scope="module")
def smtp(packs_env):
    import os

    from aiosmtpd.controller import Controller

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    inbox = _Inbox()
    ctl = Controller(inbox, hostname="127.0.0.1", port=port)
    ctl.start()
    old = os.environ.get("AIRFLOW_CONN_SMTP_DEFAULT")
    os.environ["AIRFLOW_CONN_SMTP_DEFAULT"] = json.dumps(
        {
            "conn_type": "smtp",
            "host": "127.0.0.1",
            "port": port,
            "extra": {
                "disable_ssl": True,
                "disable_tls": True,
                "from_email": "salesops-reports@example.com",
                "retry_limit": 0,
                "timeout": 10,
            },
        }
    )
    try:
        yield inbox
    finally:
        ctl.stop()
        if old is None:
            os.environ.pop("AIRFLOW_CONN_SMTP_DEFAULT", None)
        else:
            os.environ["AIRFLOW_CONN_SMTP_DEFAULT"] = old


def test_dag_delivers_scoped_pack_by_email_file_drop_and_logs_it(packs_env, smtp, tmp_path, monkeypatch):
    from tests.support.runs import xcom

    from salesops.packs.deliver import on_time_delivery
    from salesops.runner import run_dag

    wh = packs_env["wh"]
    drop = tmp_path / "drop"
    monkeypatch.setenv("SALESOPS_PACKS_BASE_URL", f"file://{drop}")
    smtp.messages.clear()
    dr = run_dag("report_packs", {"packs": ["weekly_pipeline_inspection"], "scope": "team:EMEA-MM"})
    summary = xcom(dr, "summarize")
    assert summary["slices"] == 1 and summary["published"] == 1 and summary["held"] == []
    # one task per pack (render, check, deliver in one process), labelled in the grid
    produced = [ti for ti in dr.get_task_instances() if ti.task_id == "produce"]
    assert [(ti.state, ti.rendered_map_index) for ti in produced] == [
        ("success", "weekly_pipeline_inspection: 1 slice (team)")
    ]
    assert len(smtp.messages) == 1
    rcpts, msg = smtp.messages[0]
    assert rcpts == ["manager-emea-mm@example.com"]
    assert msg["Subject"] == "Weekly pipeline inspection - EMEA-MM - 2026-W45"
    base = "weekly_pipeline_inspection__team-EMEA-MM__2026-W45"
    assert sorted(p.get_filename() for p in msg.iter_attachments()) == [f"{base}.pdf", f"{base}.xlsx"]
    xlsx_part = next(p for p in msg.iter_attachments() if p.get_filename().endswith(".xlsx"))
    assert xlsx_part.get_content()[:2] == b"PK"  # a zip container
    html_part = msg.get_body(("html",))
    body = html_part.get_content()
    assert "Weekly pipeline inspection: EMEA-MM" in body and "data:image" not in body
    # charts are inline parts next to the HTML (multipart/related), each cid: reference resolves
    cids = re.findall(r'<img src="cid:([^"]+)"', body)
    assert cids, "no chart in the emailed pack"
    related = next(p for p in msg.walk() if p.get_content_type() == "multipart/related")
    inline = {
        p["Content-ID"].strip("<>"): p for p in related.iter_parts() if p.get_content_maintype() == "image"
    }
    assert sorted(inline) == sorted(cids)
    assert all(p.get_content()[:4] == b"\x89PNG" for p in inline.values())
    assert "EMEA-MM" in msg.get_body(("plain",)).get_content()
    pdf_part = next(p for p in msg.iter_attachments() if p.get_filename().endswith(".pdf"))
    assert pdf_part.get_content()[:5] == b"%PDF-"
    dropped = drop / "weekly_pipeline_inspection" / "2026-W45" / "team-EMEA-MM"
    assert {p.suffix for p in dropped.iterdir()} >= {".html", ".pdf", ".xlsx", ".csv", ".json"}
    log = wh.query(
        "select recipient, channel, status, detail from ops.pack_delivery_log "
        "where pack = 'weekly_pipeline_inspection' and scope_value = 'EMEA-MM' order by channel"
    )
    by_channel = {row["channel"]: row for row in log}
    assert (
        by_channel["email"]["recipient"] == "manager-emea-mm@example.com"
        and by_channel["email"]["status"] == "sent"
    )
    assert by_channel["file"]["status"] == "sent" and by_channel["file"]["recipient"].endswith("team-EMEA-MM")
    assert by_channel["slack"]["status"] == "skipped"
    assert by_channel["slack"]["detail"] == "no Slack connection 'slack_default' configured"
    kpi = [
        k
        for k in on_time_delivery(wh)
        if k["pack"] == "weekly_pipeline_inspection" and k["period"] == "2026-W45"
    ]
    assert kpi == [
        {
            "pack": "weekly_pipeline_inspection",
            "period": "2026-W45",
            "slices_due": 1,
            "slices_on_time": 1,
            "slices_not_delivered": 0,
            "on_time_delivery_rate": 1.0,
        }
    ]


def test_a_second_delivery_of_the_same_period_sends_nothing_again(packs_env, smtp):
    from salesops.packs.checks import GateStatus, PackCheckResult
    from salesops.packs.deliver import publish_or_hold
    from salesops.packs.render import render_pack

    wh = packs_env["wh"]
    smtp.messages.clear()
    r = render_pack(wh, "weekly_pipeline_inspection", "team", "EMEA-MM", formats=("html", "xlsx"))
    result = publish_or_hold(
        wh, r, GateStatus(True, "ok", r.as_of), PackCheckResult(True), channels=["email"]
    )
    assert smtp.messages == []
    assert result.attempts == [
        {
            "recipient": "manager-emea-mm@example.com",
            "channel": "email",
            "status": "skipped",
            "detail": "already sent for this period",
        }
    ]


def test_gate_holds_the_pack_when_a_blocker_failed(packs_env, smtp):
    from salesops.packs.checks import check_pack, quality_gate
    from salesops.packs.deliver import on_time_delivery, publish_or_hold

    wh = packs_env["wh"]
    r = packs_env["r"]["dq_team"]
    as_of = wh.scalar("select max(until) from ops.load_audit where status = 'loaded'")
    later = datetime.now(UTC).replace(tzinfo=None) + timedelta(minutes=5)
    wh.execute(
        "insert into quality.run (run_id, as_of, started_at, finished_at, status, gate_passed, blockers_failed) "
        "values ('test_blocker', :a, :t, :t, 'checked', false, 1)",
        {"a": as_of, "t": later},
    )
    wh.execute(
        """insert into quality.check_result (run_id, as_of, check_id, object, scope_type, scope_value, evaluated,
                  failed, rate, target, severity, passed, engine)
                  values ('test_blocker', :a, 'opp_orphan_owner', 'Opportunity', 'all', 'all', 100, 10, 0.1, 0.02,
                          'blocker', false, 'sql')""",
        {"a": as_of},
    )
    try:
        gate = quality_gate(wh)
        assert not gate.passed and "run test_blocker, 1 blocker check(s) failed" in gate.reason
        smtp.messages.clear()
        result = publish_or_hold(wh, r, gate, check_pack(wh, r), run_id="test-hold")
    finally:
        wh.execute("delete from quality.check_result where run_id = 'test_blocker'")
        wh.execute("delete from quality.run where run_id = 'test_blocker'")
    assert result.held and not result.published and result.reasons == [gate.reason]
    held = Path(result.location)
    assert (
        held == packs_env["env"].output_dir / "packs" / "held" / "dq_scorecard" / "2026-W45" / "team-EMEA-MM"
    )
    assert (held / Path(r.files["xlsx"]).name).exists()
    hold = _one(wh, "select * from ops.pack_hold where run_id = 'test-hold'")
    assert hold["reasons"] == gate.reason and hold["scope_value"] == "EMEA-MM"
    # the recipients get nothing; RevOps gets the hold notice
    assert [m[0] for m in smtp.messages] == [["revops-demo@example.com"]]
    assert smtp.messages[0][1]["Subject"] == "[HELD] Data-quality scorecard - EMEA-MM - 2026-W45"
    assert "test_blocker" in smtp.messages[0][1].get_body(("html",)).get_content()
    log = wh.query(
        "select recipient, channel, status from ops.pack_delivery_log where run_id = 'test-hold' order by channel"
    )
    assert log == [
        {"recipient": "revops-demo@example.com", "channel": "email", "status": "sent"},
        {"recipient": "-", "channel": "hold", "status": "held"},
    ]
    kpi = [k for k in on_time_delivery(wh) if k["pack"] == "dq_scorecard"]
    assert kpi and kpi[0]["slices_not_delivered"] == 1 and kpi[0]["on_time_delivery_rate"] == 0.0
    assert quality_gate(wh).passed  # the planted run is gone


def test_plan_expands_audiences_and_due_packs(packs_env):
    from salesops.packs.tasks import PackPlanError, plan

    teams = sorted(
        x["team"]
        for x in packs_env["wh"].query(
            "select distinct team from staging.stg_crm__user where team is not null"
        )
    )
    gate = {"as_of_date": "2026-11-02"}
    jobs = plan({"packs": ["weekly_pipeline_inspection"]}, gate, "salesops_warehouse")
    assert [(j["scope_type"], j["scope_value"]) for j in jobs] == (
        [("all", "all"), ("region", "AMER"), ("region", "EMEA"), ("region", "APAC")]
        + [("team", t) for t in teams]
    )
    due = {j["pack"] for j in plan({}, gate, "salesops_warehouse")}
    assert date(2026, 11, 2).weekday() == 0
    assert due == {
        "weekly_pipeline_inspection",
        "forecast_hygiene",
        "dq_scorecard",
        "routing_sla",
    }  # not month end
    assert plan({"packs": ["dq_scorecard"], "scope": "team:EMEA-MM"}, gate, "salesops_warehouse") == [
        {"pack": "dq_scorecard", "scope_type": "team", "scope_value": "EMEA-MM"}
    ]
    with pytest.raises(PackPlanError, match=r"unknown pack\(s\) \['weekly'\]"):
        plan({"packs": ["weekly"]}, gate, "salesops_warehouse")
    with pytest.raises(PackPlanError, match="scope 'galaxy:x'"):
        plan({"packs": ["dq_scorecard"], "scope": "galaxy:x"}, gate, "salesops_warehouse")


def test_slack_gets_the_summary_and_the_file_drop_link(packs_env, monkeypatch):
    import threading
    from http.server import BaseHTTPRequestHandler, HTTPServer

    from salesops.packs.checks import GateStatus, PackCheckResult
    from salesops.packs.deliver import publish_or_hold

    posts: list[dict] = []

    class Hook(BaseHTTPRequestHandler):
        def do_POST(self):  # noqa: N802 - http.server's hook name
            posts.append(
                {"path": self.path, "body": json.loads(self.rfile.read(int(self.headers["Content-Length"])))}
            )
            self.send_response(200)
            self.end_headers()
            self.wfile.write(b"ok")

        def log_message(self, *args):
            pass

    server = HTTPServer(("127.0.0.1", 0), Hook)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    monkeypatch.setenv(
        "AIRFLOW_CONN_SLACK_DEFAULT",
        json.dumps(
            {
                "conn_type": "slackwebhook",
                "password": f"http://127.0.0.1:{server.server_port}/services/T000/B000/XXX",
            }
        ),
    )
    monkeypatch.delenv("SALESOPS_PACKS_BASE_URL", raising=False)
    try:
        r = packs_env["r"]["weekly_emea"]
        result = publish_or_hold(
            packs_env["wh"],
            r,
            GateStatus(True, "ok", r.as_of),
            PackCheckResult(True),
            channels=["file", "slack"],
            run_id="test-slack",
        )
    finally:
        server.shutdown()
    assert [(a["channel"], a["status"]) for a in result.attempts] == [("file", "sent"), ("slack", "sent")]
    assert len(posts) == 1 and posts[0]["path"] == "/services/T000/B000/XXX"
    text = posts[0]["body"]["text"]
    drop = packs_env["env"].output_dir / "packs" / "weekly_pipeline_inspection" / "2026-W45" / "region-EMEA"
    assert text.splitlines()[0] == (
        "*Weekly pipeline inspection* - EMEA (2026-W45), data as of 2026-11-02 06:00:00 UTC"
    )
    assert f"- {r.narrative[0]}" in text and text.endswith(f"Full pack: {drop}")
    assert (drop / Path(r.files["pdf"]).name).exists()


def test_dry_run_sends_nothing_and_logs_why(packs_env, smtp):
    from salesops.packs.checks import GateStatus, PackCheckResult
    from salesops.packs.deliver import publish_or_hold

    smtp.messages.clear()
    r = packs_env["r"]["routing_sla"]
    result = publish_or_hold(
        packs_env["wh"], r, GateStatus(True, "ok", r.as_of), PackCheckResult(True), deliver=False
    )
    assert smtp.messages == [] and not result.published
    assert [(a["recipient"], a["channel"], a["status"], a["detail"]) for a in result.attempts] == [
        ("file-drop", "file", "skipped", "deliver=false (dry run)"),
        ("revops-demo@example.com", "email", "skipped", "deliver=false (dry run)"),
        ("marketing-ops-demo@example.com", "email", "skipped", "deliver=false (dry run)"),
    ]


def test_quality_marts_and_packs_agree_on_as_of_and_reconciliation_variance(packs_env):
    """One definition each (issue 10): the quality run, the KPI build and the pack context share the
    as-of, and the quality check's variance per fiscal quarter is the mart's variance_pct."""
    from salesops import sql
    from salesops.config import policy

    wh = packs_env["wh"]
    run = _one(wh, "select as_of from quality.run order by started_at desc limit 1")
    ctx = packs_env["ctx"]
    pack_ctx = wh.query(sql.render("packs/context.sql"))[0]
    view = _one(wh, "select as_of from ops.v_as_of")
    assert run["as_of"] == ctx["as_of_ts"] == pack_ctx["load_as_of"] == view["as_of"]

    quality = {
        r["scope_value"]: r
        for r in wh.query(
            "select scope_value, value, failed from quality.check_result "
            "where check_id = 'reconciliation_variance' and scope_type = 'period' "
            "and status <> 'not_evaluated' "  # a quarter below min_closed_won_amount has no variance
            "and run_id = (select run_id from quality.run order by started_at desc limit 1)"
        )
    }
    marts = {
        r["period_label"]: r
        for r in wh.query(
            "select period_label, variance_pct, crm_bookings_amount from marts.agg_bookings_reconciliation "
            "where period_grain = 'fiscal_quarter'"
        )
    }
    assert len(quality) >= 4 and set(quality) <= set(marts)
    threshold = policy("quality")["reconciliation"]["variance_threshold_pct"]
    for period, q in quality.items():
        m = marts[period]
        if m["variance_pct"] is None:
            assert q["value"] is None and q["failed"] == 1, period
        else:
            assert q["value"] == pytest.approx(abs(m["variance_pct"]) * 100, abs=1e-9), period
            assert q["failed"] == int(abs(m["variance_pct"]) * 100 > threshold), period


def test_a_rerun_on_unchanged_data_reuses_the_slice_files_and_a_changed_input_renders_again(
    packs_env, tmp_path, monkeypatch
):
    from salesops.packs import narrative
    from salesops.packs.render import render_pack

    wh, out = packs_env["wh"], tmp_path / "slice"
    first = render_pack(wh, "forecast_hygiene", "region", "APAC", out_dir=out)
    stamps = {k: Path(p).stat().st_mtime_ns for k, p in first.files.items()}
    assert len(first.fingerprint) == 64 and {"html", "pdf", "xlsx"} <= set(stamps)
    again = render_pack(wh, "forecast_hygiene", "region", "APAC", out_dir=out)
    assert (again.fingerprint, again.generated_at, again.files) == (
        first.fingerprint,
        first.generated_at,
        first.files,
    )
    assert {k: Path(p).stat().st_mtime_ns for k, p in again.files.items()} == stamps  # nothing rewritten
    # anything the files are made of changes the fingerprint: here one more narrative line
    real = narrative.build
    monkeypatch.setattr(narrative, "build", lambda *a, **k: [*real(*a, **k), "One more line."])
    changed = render_pack(wh, "forecast_hygiene", "region", "APAC", out_dir=out)
    assert changed.fingerprint != first.fingerprint
    assert "One more line." in Path(changed.files["html"]).read_text(encoding="utf-8")
    assert Path(changed.files["pdf"]).stat().st_mtime_ns != stamps["pdf"]
    # an explicit render time always renders (and prints that time)
    fixed = render_pack(wh, "forecast_hygiene", "region", "APAC", out_dir=out, generated_at=GENERATED)
    assert fixed.generated_at == "2026-11-02 07:00:00"
