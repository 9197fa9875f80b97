"""Every KPI mart against the independent pandas reference, on seeded synthetic staging data.

One warehouse per module: synthetic staging (tests/unit/test_kpis_reference.make_staging), one
loaded batch in ops.load_audit (so the as-of comes from the data, not an override), one build.
"""

from __future__ import annotations

import math
from datetime import date, datetime, timedelta
from decimal import Decimal

import pandas as pd
import pytest
from tests.unit import test_kpis_reference as ref

from salesops.kpis import runner
from salesops.warehouse import Warehouse
from salesops.warehouse.schema import ensure_object_tables

AS_OF = date(2027, 1, 20)  # FY2027-Q4 (2026-11-01 .. 2027-01-31), day 81 of the quarter
EXTRACTED = datetime(2027, 1, 20, 18, 0)


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    wh = Warehouse("duckdb:///" + str(tmp_path_factory.mktemp("kpis") / "w.duckdb"))
    ensure_object_tables(wh)
    staging = ref.make_staging(seed=7, n_opps=300, n_leads=200, as_of=AS_OF)
    ref.load_staging(wh, staging)
    wh.execute(
        "insert into ops.load_audit (batch_id, object, source, since, until, status) values "
        "('b1', 'opportunity', 'test', null, :u, 'loaded'), ('b2', 'lead', 'test', null, :later, 'failed')",
        {"u": EXTRACTED, "later": EXTRACTED + timedelta(days=3)},
    )
    result = runner.build(wh)
    return wh, ref.read_staging(wh), result


def mart(wh, name: str) -> list[dict]:
    return wh.query(f"select * from marts.{name}")


def same(sql_value, ref_value, what: str) -> None:
    """Money exactly (to the cent), counts exactly, ratios and doubles to 1e-9."""
    if ref_value is None:
        assert sql_value is None or (isinstance(sql_value, float) and math.isnan(sql_value)), (
            f"{what}: {sql_value!r} != None"
        )
        return
    assert sql_value is not None, f"{what}: None != {ref_value!r}"
    if isinstance(ref_value, Decimal):
        assert Decimal(str(sql_value)).quantize(Decimal("0.01")) == ref_value.quantize(Decimal("0.01")), (
            f"{what}: {sql_value} != {ref_value}"
        )
    elif isinstance(ref_value, bool | int) and not isinstance(sql_value, float):
        assert int(sql_value) == int(ref_value), f"{what}: {sql_value} != {ref_value}"
    else:
        assert float(sql_value) == pytest.approx(
            float(ref_value), rel=1e-9, abs=0.005 if "amount" in what else 1e-9
        ), f"{what}: {sql_value} != {ref_value}"


def compare(rows: list[dict], key_cols: list[str], expected: dict[tuple, dict], name: str) -> None:
    got = {tuple(r[k] for k in key_cols): r for r in rows}
    assert set(got) == set(expected), (
        f"{name}: keys differ: only SQL {sorted(set(got) - set(expected))[:5]}, only reference {sorted(set(expected) - set(got))[:5]}"
    )
    for key, exp in expected.items():
        for col, value in exp.items():
            same(got[key][col], value, f"{name}{key}.{col}")


def test_as_of_comes_from_the_latest_loaded_batch(built):
    wh, _, result = built
    assert result.as_of_date == "2027-01-20" and result.as_of_source == "load_audit"
    ctx = mart(wh, "kpi_context")[0]
    assert ctx["as_of_ts"] == EXTRACTED  # the failed batch three days later does not count
    assert (
        ctx["current_fiscal_quarter_label"] == "FY2027-Q4" and ctx["next_fiscal_quarter_label"] == "FY2028-Q1"
    )
    assert (ctx["current_fiscal_quarter_start"], ctx["current_fiscal_quarter_end"]) == (
        date(2026, 11, 1),
        date(2027, 1, 31),
    )


def test_every_model_keeps_its_grain(built):
    wh, _, _ = built
    assert runner.validate_build(wh) == []


def test_open_pipeline_by_close_quarter(built):
    wh, st, _ = built
    compare(
        mart(wh, "agg_open_pipeline_by_close_quarter"),
        ["close_fiscal_quarter", "rollup_level", "rollup_key"],
        ref.ref_open_pipeline(st),
        "open_pipeline",
    )


def test_weighted_pipeline_divides_probability_by_100(built):
    wh, st, _ = built
    opps = st["stg_crm__opportunity"]
    open_ = opps[~opps["is_closed"].astype(bool)]
    by_hand = (
        sum(float(a or 0) * float(p or 0) for a, p in zip(open_["amount"], open_["probability"], strict=True))
        / 100
    )
    total = wh.scalar(
        "select sum(weighted_open_pipeline_amount) from marts.agg_open_pipeline_by_close_quarter "
        "where rollup_level = 'company'"
    )
    amount = wh.scalar(
        "select sum(open_pipeline_amount) from marts.agg_open_pipeline_by_close_quarter where rollup_level = 'company'"
    )
    assert float(total) == pytest.approx(by_hand, abs=0.01)
    assert float(total) < float(amount)  # a weighted amount can never exceed the amount (100x bug guard)


def test_pipeline_created(built):
    wh, st, _ = built
    compare(
        mart(wh, "agg_pipeline_created_by_quarter"),
        ["created_fiscal_quarter", "rollup_level", "rollup_key"],
        ref.ref_created(st),
        "created",
    )


def test_coverage_current_and_next_quarter(built):
    wh, st, _ = built
    rows = mart(wh, "agg_pipeline_coverage")
    compare(rows, ["quarter_relative", "rollup_level", "rollup_key"], ref.ref_coverage(st, AS_OF), "coverage")
    # a manager's own quota row is not added on top of the team's quotas above the rep level
    m1 = {(r["rollup_level"], r["rollup_key"]): r for r in rows if r["quarter_relative"] == "current"}
    q = st["stg_crm__quota"]
    own = q[(q["owner_id"] == "U-M1") & (q["period_start"] == date(2026, 11, 1))]["quota_amount"].iloc[0]
    assert Decimal(str(m1[("rep", "U-M1")]["quota_amount"])) == own
    assert Decimal(str(m1[("manager", "U-M1")]["quota_amount"])) == own  # = sum of its reps' quotas


def test_forecast_rollup(built):
    wh, st, _ = built
    compare(
        mart(wh, "agg_forecast_rollup"),
        ["quarter_relative", "rollup_level", "rollup_key"],
        ref.ref_forecast(st, AS_OF),
        "forecast",
    )


def test_closed_deals_win_rates_cycle_asp(built):
    wh, st, _ = built
    rows = mart(wh, "agg_closed_deal_metrics")
    compare(rows, ["close_fiscal_quarter", "rollup_level", "rollup_key"], ref.ref_closed_deals(st), "closed")
    total = {r["close_fiscal_quarter"]: r for r in rows if r["rollup_level"] == "company"}
    assert any(r["excluded_lost_count"] > 0 for r in total.values()), "the data must exercise the exclusion"
    for r in total.values():
        assert r["win_rate_by_count_denominator"] == r["won_count"] + r["lost_count"]


def test_bookings_by_period_and_type(built):
    wh, st, _ = built
    compare(
        mart(wh, "agg_bookings_by_period"),
        ["period_grain", "period_label", "opportunity_type"],
        ref.ref_bookings(st),
        "bookings",
    )


def test_crm_vs_finance_reconciliation(built):
    wh, st, _ = built
    rows = mart(wh, "agg_bookings_reconciliation")
    compare(rows, ["period_grain", "period_label"], ref.ref_reconciliation(st), "reconciliation")
    year_total = sum(
        Decimal(str(r["finance_bookings_amount"])) for r in rows if r["period_grain"] == "fiscal_year"
    )
    assert year_total == sum(Decimal(str(a)) for a in st["stg_finance__booking"]["amount"])


def test_at_risk_and_stage_aging(built):
    wh, st, _ = built
    expected = ref.ref_risk(st, AS_OF)
    got = {r["opportunity_id"]: r for r in mart(wh, "fct_open_opportunity_risk")}
    assert set(got) == set(expected["opportunity_id"])
    for e in expected.to_dict("records"):
        g = got[e["opportunity_id"]]
        for col in (
            "days_in_current_stage",
            "push_count",
            "is_past_close_date",
            "is_pushed_repeatedly",
            "is_inactive",
            "is_large_early_late",
            "is_at_risk",
        ):
            assert g[col] == e[col], f"{e['opportunity_id']}.{col}: {g[col]} != {e[col]}"
    assert expected["is_at_risk"].any() and not expected["is_at_risk"].all()
    aging = {r["stage_name"]: r for r in mart(wh, "agg_stage_aging") if r["rollup_level"] == "company"}
    for stage, grp in expected.groupby(expected["stage_name"].fillna("(none)")):
        same(aging[stage]["avg_days_in_current_stage"], grp["days_in_current_stage"].mean(), f"aging {stage}")
        assert aging[stage]["open_count"] == len(grp)
    # every rollup group's stage aging, deal by deal
    compare(
        mart(wh, "agg_stage_aging"),
        ["rollup_level", "rollup_key", "stage_name"],
        ref.ref_stage_aging(st, AS_OF),
        "aging",
    )
    company = [r for r in mart(wh, "agg_at_risk_pipeline") if r["rollup_level"] == "company"][0]
    assert company["at_risk_count"] == int(expected["is_at_risk"].sum())
    same(
        company["at_risk_amount"], sum(expected[expected["is_at_risk"]]["amt"], Decimal(0)), "at_risk_amount"
    )


def test_stage_conversion(built):
    wh, st, _ = built
    compare(
        mart(wh, "agg_stage_conversion"),
        ["stage_name"],
        {(k,): v for k, v in ref.ref_stage_conversion(st).items()},
        "conversion",
    )


def test_lead_funnel(built):
    wh, st, _ = built
    compare(
        mart(wh, "agg_lead_funnel"),
        ["created_fiscal_quarter", "lead_source", "segment"],
        ref.ref_lead_funnel(st),
        "funnel",
    )


def test_speed_to_lead_and_routing_sla(built):
    wh, st, _ = built
    compare(
        mart(wh, "agg_speed_to_lead"),
        ["created_fiscal_quarter", "segment"],
        ref.ref_speed_to_lead(st, EXTRACTED),
        "speed",
    )


def test_field_completeness(built):
    wh, st, _ = built
    from salesops.config import policy

    required = {s["name"]: s["required_fields"] for s in policy("stages")["stages"]}
    compare(
        mart(wh, "agg_field_completeness"),
        ["stage_name", "field_api_name"],
        ref.ref_completeness(st, required),
        "completeness",
    )


# --- snapshots and movement ---------------------------------------------------------------------


def snapshot(wh, day: date) -> dict[str, dict]:
    return {
        r["opportunity_id"]: r
        for r in wh.query("select * from marts.fct_pipeline_snapshot where snapshot_date = :d", {"d": day})
    }


@pytest.mark.parametrize("day", [date(2026, 10, 31), date(2027, 1, 13), date(2027, 1, 20)])
def test_snapshots_match_the_row_by_row_rebuild(built, day):
    wh, st, result = built
    expected = ref.ref_snapshot(st, day)
    got = snapshot(wh, day)
    assert set(got) == set(expected)
    for oid, e in expected.items():
        g = got[oid]
        assert (g["stage_name"], g["close_date"], g["forecast_category"]) == (
            e["stage_name"],
            e["close_date"],
            e["forecast_category"],
        ), oid
        assert (None if g["amount"] is None else Decimal(str(g["amount"]))) == e["amount"], oid
    assert day.isoformat() in result.snapshot_dates


def test_live_snapshot_equals_history_rebuild_of_the_same_day(built):
    wh, _, _ = built
    live = snapshot(wh, AS_OF)
    assert {r["snapshot_source"] for r in live.values()} == {"live"}
    rows = wh.query(
        "select count(*) as n from marts.fct_pipeline_snapshot where snapshot_date < :d and snapshot_source = 'live'",
        {"d": AS_OF},
    )
    assert rows[0]["n"] == 0


@pytest.mark.parametrize(
    "label,start", [("week_over_week", date(2027, 1, 13)), ("quarter_to_date", date(2026, 10, 31))]
)
def test_movement_categories_match_reference(built, label, start):
    wh, st, _ = built
    expected = ref.ref_movement(st, start, AS_OF)
    got = {
        r["opportunity_id"]: r
        for r in wh.query(
            "select * from marts.fct_pipeline_movement where comparison_label = :l", {"l": label}
        )
    }
    assert set(got) == set(expected)
    for oid, (cat, change) in expected.items():
        assert got[oid]["movement_category"] == cat, oid
        assert Decimal(str(got[oid]["amount_change"])) == change, oid


@pytest.mark.parametrize("label", ["week_over_week", "quarter_to_date"])
def test_waterfall_reconciles(built, label):
    wh, _, _ = built
    steps = {
        r["step"]: r
        for r in wh.query(
            "select * from marts.agg_pipeline_waterfall where comparison_label = :l "
            "and rollup_level = 'company'",
            {"l": label},
        )
    }
    start, end = (
        Decimal(str(steps["starting_pipeline"]["amount"])),
        Decimal(str(steps["ending_pipeline"]["amount"])),
    )
    d = {k: Decimal(str(v["amount"])) for k, v in steps.items()}
    assert (
        start
        + d["new"]
        + d["reopened"]
        + d["pulled_in"]
        + d["pushed_in"]
        + d["amount_up"]
        + d["amount_down"]
        + d["pushed"]
        + d["slipped"]
        + d["moved_out_other"]
        + d["won"]
        + d["lost"]
        + d["removed"]
        == end
    )
    assert all(d[k] <= 0 for k in ("pushed", "slipped", "won", "lost", "removed", "amount_down"))
    assert all(d[k] >= 0 for k in ("new", "reopened", "pulled_in", "pushed_in", "amount_up"))
    assert steps["ending_pipeline"]["reconciliation_difference"] == 0
    if label == "quarter_to_date":
        assert (
            sum(
                1
                for k in ("new", "won", "lost", "pushed", "slipped", "amount_up")
                if steps[k]["opportunity_count"] > 0
            )
            >= 5
        )


@pytest.mark.parametrize(
    "label,start", [("week_over_week", date(2027, 1, 13)), ("quarter_to_date", date(2026, 10, 31))]
)
def test_scoped_waterfalls_match_reference_and_reconcile(built, label, start):
    """Every rollup group's waterfall equals the deal-by-deal reference, reconciles on its own, and the
    reps' rows add up to the company's (every deal has exactly one owner)."""
    wh, st, _ = built
    rows = wh.query("select * from marts.agg_pipeline_waterfall where comparison_label = :l", {"l": label})
    compare(rows, ["rollup_level", "rollup_key", "step"], ref.ref_waterfall(st, start, AS_OF), "waterfall")
    groups: dict[tuple, dict] = {}
    for r in rows:
        groups.setdefault((r["rollup_level"], r["rollup_key"]), {})[r["step"]] = r
    assert {lvl for lvl, _ in groups} == set(ref.LEVELS) and len(groups) > len(ref.LEVELS)
    for key, steps in groups.items():
        d = {k: Decimal(str(v["amount"])) for k, v in steps.items()}
        assert d["starting_pipeline"] + sum(d[f] for f in ref.WATERFALL_FLOWS) == d["ending_pipeline"], key
        assert all(v["reconciliation_difference"] == 0 for v in steps.values()), key
    for step in ref.WATERFALL_STEPS:
        reps = [g[step] for (lvl, _), g in groups.items() if lvl == "rep"]
        company = groups[("company", "all")][step]
        assert sum(r["opportunity_count"] for r in reps) == company["opportunity_count"], step
        assert sum(Decimal(str(r["amount"])) for r in reps) == Decimal(str(company["amount"])), step


def test_slipped_versus_pushed_uses_the_cutoff_day(built):
    wh, _, _ = built
    rows = wh.query(
        "select m.movement_category, c.day_of_fiscal_quarter from marts.fct_pipeline_movement m "
        "join marts.dim_fiscal_calendar c on c.date_day = m.close_date_moved_on "
        "where m.movement_category in ('pushed', 'slipped')"
    )
    assert rows, "the data must contain pushed or slipped deals"
    for r in rows:
        assert (r["movement_category"] == "slipped") == (r["day_of_fiscal_quarter"] >= 75)


def test_rerunning_the_same_day_replaces_only_that_day(built):
    wh, _, _ = built
    before = wh.query_df(
        "select snapshot_date, count(*) as n, sum(amount) as a from marts.fct_pipeline_snapshot "
        "group by 1 order by 1"
    )
    wh.execute(
        "update staging.stg_crm__opportunity set amount = amount + 1 where id = 'O00002' and not is_closed"
    )
    try:
        runner.build(wh, select=["fct_pipeline_snapshot"])
        after = wh.query_df(
            "select snapshot_date, count(*) as n, sum(amount) as a from marts.fct_pipeline_snapshot "
            "group by 1 order by 1"
        )
        assert list(after["snapshot_date"]) == list(before["snapshot_date"])
        assert list(after["n"]) == list(before["n"])
        changed = after[after["a"] != before["a"]]
        opp_open = wh.scalar(
            "select count(*) from staging.stg_crm__opportunity where id = 'O00002' and not is_closed"
        )
        assert list(changed["snapshot_date"]) == ([AS_OF] if opp_open else [])
    finally:
        wh.execute(
            "update staging.stg_crm__opportunity set amount = amount - 1 where id = 'O00002' and not is_closed"
        )
        runner.build(wh)


def test_backfill_rebuilds_a_date_range_from_history(built):
    wh, st, _ = built
    result = runner.build(wh, backfill_from="2027-01-05", select=["fct_pipeline_snapshot"])
    assert result.snapshot_dates[0] == "2027-01-05" and result.snapshot_dates[-1] == "2027-01-20"
    for day in (date(2027, 1, 5), date(2027, 1, 16)):
        assert set(snapshot(wh, day)) == set(ref.ref_snapshot(st, day))
    assert (
        wh.scalar(
            "select count(distinct snapshot_date) from marts.fct_pipeline_snapshot "
            "where snapshot_date between '2027-01-05' and '2027-01-20'"
        )
        == 16
    )


def test_past_as_of_override_rebuilds_instead_of_copying_staging(built, tmp_path):
    wh, st, _ = built
    past = date(2026, 12, 1)
    requests = runner.snapshot_requests(wh, runner.resolve_as_of(wh, past), runner.load_policy(), None)
    assert {"snapshot_date": past, "snapshot_source": "history"} in requests


def test_as_of_frame_dtypes_are_plain(built):
    # Packs read marts with pandas: amounts must come back as numbers, dates as dates.
    wh, _, _ = built
    df = wh.query_df("select * from marts.agg_pipeline_coverage")
    assert not df.empty and pd.api.types.is_numeric_dtype(df["open_pipeline_count"])


def test_every_registry_metric_points_at_a_built_column(built):
    from salesops.kpis.registry import load_registry, validate_against_warehouse

    wh, _, _ = built
    assert validate_against_warehouse(wh) == []
    for m in load_registry().values():
        wh.query(f"select {m.column} from {m.table}" + (f" where {m.rows}" if m.rows else ""))
    assert any(
        "no column" in p
        for p in validate_against_warehouse(
            wh,
            {
                "x": type(next(iter(load_registry().values())))(
                    name="x",
                    label="X",
                    definition="d",
                    grain="g",
                    model="agg_stage_aging",
                    column="nope",
                    unit="days",
                    owner="o",
                )
            },
        )
    )


def test_movement_uses_the_crms_closed_flags_for_deals_without_stage_history(tmp_path):
    """A deal open at the start of a comparison that the CRM now reports closed (IsClosed/IsWon) in a
    stage the stage policy calls open, with no stage history (an export without field history):
    the snapshot leaves it out of the pipeline by the CRM's flags, so the movement must call it won
    or lost by the same flags, not 'removed' (deleted in the CRM) from the stage policy alone."""
    wh = Warehouse("duckdb:///" + str(tmp_path / "w.duckdb"))
    ensure_object_tables(wh)
    ref.load_staging(wh, ref.make_staging(seed=7, n_opps=300, n_leads=20, as_of=AS_OF))
    wh.execute(
        "insert into ops.load_audit (batch_id, object, source, since, until, status) values "
        "('b1', 'opportunity', 'test', null, :u, 'loaded')",
        {"u": EXTRACTED},
    )
    runner.build(wh)  # stores the week-over-week start snapshot (2027-01-13), rebuilt from history
    both = wh.query(
        "select opportunity_id from marts.fct_pipeline_movement where comparison_label = 'week_over_week' "
        "and in_start_window and in_end_window order by opportunity_id limit 3"
    )
    assert len(both) == 3, "the data must have deals open in the window on both dates"
    won_id, lost_id, control_id = (r["opportunity_id"] for r in both)
    for oid, won in ((won_id, True), (lost_id, False)):
        wh.execute(
            "delete from staging.stg_crm__opportunity_field_history where opportunity_id = :o", {"o": oid}
        )
        wh.execute(
            "update staging.stg_crm__opportunity set is_closed = true, is_won = :w where id = :o",
            {"w": won, "o": oid},
        )
    runner.build(wh)
    got = {
        r["opportunity_id"]: r
        for r in wh.query(
            "select opportunity_id, movement_category, end_stage_name, amount_change "
            "from marts.fct_pipeline_movement where comparison_label = 'week_over_week'"
        )
    }
    open_stages = {name for name, info in ref.STAGES.items() if not info[2]}
    live = snapshot(wh, AS_OF)
    for oid, category in ((won_id, "won"), (lost_id, "lost")):
        current = wh.query("select stage_name from staging.stg_crm__opportunity where id = :o", {"o": oid})
        assert current[0]["stage_name"] in open_stages  # the stage policy alone would keep it open
        assert oid not in live  # the snapshot leaves it out by the CRM's flags
        assert got[oid]["movement_category"] == category, oid
        assert got[oid]["end_stage_name"] is None and got[oid]["amount_change"] < 0
    assert got[control_id]["movement_category"] in ("amount_up", "amount_down", "unchanged")
    steps = wh.query(
        "select step, reconciliation_difference from marts.agg_pipeline_waterfall "
        "where comparison_label = 'week_over_week' and rollup_level = 'company'"
    )
    assert all(s["reconciliation_difference"] == 0 for s in steps)
