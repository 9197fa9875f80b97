"""The KPI marts on the default demo (small, seed 42), built by the kpi_transforms DAG.

Every metric is compared with the independent pandas reference (tests/unit/test_kpis_reference)
computed from the same staging tables; the movement waterfalls must reconcile, and the daily
snapshot of the extraction day must equal its as-of rebuild from field history.
"""

from __future__ import annotations

from decimal import Decimal

import pytest
from tests.unit import test_kpis_reference as ref
from tests.unit.test_kpis_models import compare, same

from salesops.assets import KPI_MARTS_READY

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def kpi_run(demo_warehouse):
    from salesops.runner import run_dag

    dr = run_dag("kpi_transforms")
    wh = demo_warehouse.warehouse
    ctx = wh.query("select * from marts.kpi_context")[0]
    return wh, ref.read_staging(wh), ctx, dr


def test_dag_run_builds_every_model_and_emits_marts_ready(kpi_run):
    from airflow.models.asset import AssetEvent
    from airflow.utils.session import create_session

    from salesops.kpis.models import discover
    from salesops.kpis.runner import validate_build

    wh, _, ctx, dr = kpi_run
    assert dr.state == "success"
    assert ctx["as_of_source"] == "load_audit"
    assert validate_build(wh) == []
    with create_session() as session:
        names = {
            e.asset.name for e in session.query(AssetEvent).filter(AssetEvent.source_run_id == dr.run_id)
        }
    assert KPI_MARTS_READY.name in names
    assert {m.table for m in discover()} <= names
    assert all(
        wh.scalar(f"select count(*) from {m.table}") > 0
        for m in discover()
        if m.name != "agg_data_quality_compliance"
    )


def test_pipeline_metrics_match_reference(kpi_run):
    wh, st, ctx, _ = kpi_run
    q = wh.query
    compare(
        q("select * from marts.agg_open_pipeline_by_close_quarter"),
        ["close_fiscal_quarter", "rollup_level", "rollup_key"],
        ref.ref_open_pipeline(st),
        "open_pipeline",
    )
    compare(
        q("select * from marts.agg_pipeline_created_by_quarter"),
        ["created_fiscal_quarter", "rollup_level", "rollup_key"],
        ref.ref_created(st),
        "created",
    )
    compare(
        q("select * from marts.agg_pipeline_coverage"),
        ["quarter_relative", "rollup_level", "rollup_key"],
        ref.ref_coverage(st, ctx["as_of_date"]),
        "coverage",
    )
    compare(
        q("select * from marts.agg_forecast_rollup"),
        ["quarter_relative", "rollup_level", "rollup_key"],
        ref.ref_forecast(st, ctx["as_of_date"]),
        "forecast",
    )


def test_closed_deal_and_bookings_metrics_match_reference(kpi_run):
    wh, st, _, _ = kpi_run
    compare(
        wh.query("select * from marts.agg_closed_deal_metrics"),
        ["close_fiscal_quarter", "rollup_level", "rollup_key"],
        ref.ref_closed_deals(st),
        "closed",
    )
    compare(
        wh.query("select * from marts.agg_bookings_by_period"),
        ["period_grain", "period_label", "opportunity_type"],
        ref.ref_bookings(st),
        "bookings",
    )
    compare(
        wh.query("select * from marts.agg_bookings_reconciliation"),
        ["period_grain", "period_label"],
        ref.ref_reconciliation(st),
        "reconciliation",
    )


def test_stage_risk_and_conversion_match_reference(kpi_run):
    wh, st, ctx, _ = kpi_run
    expected = ref.ref_risk(st, ctx["as_of_date"])
    got = {r["opportunity_id"]: r for r in wh.query("select * from marts.fct_open_opportunity_risk")}
    assert set(got) == set(expected["opportunity_id"])
    for e in expected.to_dict("records"):
        for col in (
            "days_in_current_stage",
            "push_count",
            "is_past_close_date",
            "is_pushed_repeatedly",
            "is_inactive",
            "is_large_early_late",
            "is_at_risk",
        ):
            assert got[e["opportunity_id"]][col] == e[col], (e["opportunity_id"], col)
    compare(
        wh.query("select * from marts.agg_stage_aging"),
        ["rollup_level", "rollup_key", "stage_name"],
        ref.ref_stage_aging(st, ctx["as_of_date"]),
        "aging",
    )
    compare(
        wh.query("select * from marts.agg_stage_conversion"),
        ["stage_name"],
        {(k,): v for k, v in ref.ref_stage_conversion(st).items()},
        "conversion",
    )


def test_lead_metrics_match_reference(kpi_run):
    wh, st, ctx, _ = kpi_run
    compare(
        wh.query("select * from marts.agg_lead_funnel"),
        ["created_fiscal_quarter", "lead_source", "segment"],
        ref.ref_lead_funnel(st),
        "funnel",
    )
    compare(
        wh.query("select * from marts.agg_speed_to_lead"),
        ["created_fiscal_quarter", "segment"],
        ref.ref_speed_to_lead(st, ctx["as_of_ts"]),
        "speed",
    )


def test_snapshots_match_history_rebuild(kpi_run):
    wh, st, ctx, _ = kpi_run
    for label in ("week_over_week", "quarter_to_date"):
        start = wh.scalar(
            "select start_date from marts.kpi_movement_comparison where comparison_label = :l", {"l": label}
        )
        expected = ref.ref_snapshot(st, start)
        got = {
            r["opportunity_id"]: r
            for r in wh.query(
                "select * from marts.fct_pipeline_snapshot where snapshot_date = :d", {"d": start}
            )
        }
        assert set(got) == set(expected), label
        for oid, e in expected.items():
            assert got[oid]["close_date"] == e["close_date"] and got[oid]["stage_name"] == e["stage_name"], (
                oid
            )
            same(got[oid]["amount"], e["amount"], f"amount {oid}") if e["amount"] is not None else None


def test_live_snapshot_equals_the_rebuild_of_the_same_day(kpi_run):
    """Demo history is complete, so rebuilding the extraction day from field history gives the live
    snapshot back, field by field (a check of the as-of rebuild itself)."""
    wh, st, ctx, _ = kpi_run
    live = {
        r["opportunity_id"]: r
        for r in wh.query(
            "select * from marts.fct_pipeline_snapshot where snapshot_date = :d", {"d": ctx["as_of_date"]}
        )
    }
    rebuilt = ref.ref_snapshot(st, ctx["as_of_date"])
    assert set(live) == set(rebuilt)
    mismatched = [
        oid
        for oid, r in rebuilt.items()
        if (live[oid]["stage_name"], live[oid]["close_date"]) != (r["stage_name"], r["close_date"])
        or (live[oid]["amount"] is None) != (r["amount"] is None)
        or (r["amount"] is not None and Decimal(str(live[oid]["amount"])) != r["amount"])
    ]
    assert mismatched == []


@pytest.mark.parametrize("label", ["week_over_week", "quarter_to_date"])
def test_movement_matches_reference_and_waterfall_reconciles(kpi_run, label):
    wh, st, ctx, _ = kpi_run
    comp = wh.query("select * from marts.kpi_movement_comparison where comparison_label = :l", {"l": label})[
        0
    ]
    expected = ref.ref_movement(st, comp["start_date"], comp["end_date"], ctx["slippage_cutoff_day"])
    got = {
        r["opportunity_id"]: r
        for r in wh.query(
            "select * from marts.fct_pipeline_movement where comparison_label = :l", {"l": label}
        )
    }
    assert set(got) == set(expected)
    assert {oid: got[oid]["movement_category"] for oid in got} == {oid: v[0] for oid, v in expected.items()}
    rows = wh.query("select * from marts.agg_pipeline_waterfall where comparison_label = :l", {"l": label})
    steps = {r["step"]: Decimal(str(r["amount"])) for r in rows if r["rollup_level"] == "company"}
    # every rollup group (rep, manager, region, segment) deal by deal, and each reconciles on its own
    compare(
        rows,
        ["rollup_level", "rollup_key", "step"],
        ref.ref_waterfall(st, comp["start_date"], comp["end_date"], ctx["slippage_cutoff_day"]),
        "waterfall",
    )
    assert all(r["reconciliation_difference"] == 0 for r in rows)
    flows = (
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
    )
    # start + new + pulled-in - pushed - won - lost +/- amount changes (+/- the other categories) = end
    assert steps["starting_pipeline"] + sum(steps[f] for f in flows) == steps["ending_pipeline"]
    assert steps["starting_pipeline"] > 0 and steps["ending_pipeline"] > 0
    if label == "quarter_to_date":
        assert steps["won"] < 0 and steps["new"] > 0


def test_rerun_same_day_is_idempotent(kpi_run):
    from salesops.kpis.runner import build

    wh, _, ctx, _ = kpi_run
    before = wh.query(
        "select snapshot_date, count(*) as n, sum(amount) as a from marts.fct_pipeline_snapshot group by 1 order by 1"
    )
    wf = wh.query(
        "select * from marts.agg_pipeline_waterfall order by comparison_label, rollup_level, rollup_key, step_order"
    )
    build(wh)
    assert (
        wh.query(
            "select snapshot_date, count(*) as n, sum(amount) as a from marts.fct_pipeline_snapshot group by 1 order by 1"
        )
        == before
    )
    assert (
        wh.query(
            "select * from marts.agg_pipeline_waterfall order by comparison_label, rollup_level, rollup_key, step_order"
        )
        == wf
    )
