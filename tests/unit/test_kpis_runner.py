"""Fiscal calendar edge cases, model discovery, the as-of rule, empty warehouses and hand-made
edge cases of the KPI runner."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

import pytest

from salesops.kpis import runner
from salesops.kpis.fiscal import calendar_rows, fiscal_day, quarter_after
from salesops.kpis.models import ModelError, build_groups, discover, parse_model
from salesops.warehouse import Warehouse
from salesops.warehouse.schema import ensure_object_tables


@pytest.fixture()
def wh(tmp_path):
    w = Warehouse("duckdb:///" + str(tmp_path / "w.duckdb"))
    ensure_object_tables(w)
    return w


# --- fiscal calendar ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "day,fy,q,label,q_start,q_end,doq",
    [
        (date(2026, 2, 1), 2027, 1, "FY2027-Q1", date(2026, 2, 1), date(2026, 4, 30), 1),
        (date(2026, 1, 31), 2026, 4, "FY2026-Q4", date(2025, 11, 1), date(2026, 1, 31), 92),
        (date(2026, 4, 30), 2027, 1, "FY2027-Q1", date(2026, 2, 1), date(2026, 4, 30), 89),
        (date(2026, 5, 1), 2027, 2, "FY2027-Q2", date(2026, 5, 1), date(2026, 7, 31), 1),
        (date(2026, 12, 31), 2027, 4, "FY2027-Q4", date(2026, 11, 1), date(2027, 1, 31), 61),
        (date(2024, 2, 29), 2025, 1, "FY2025-Q1", date(2024, 2, 1), date(2024, 4, 30), 29),
    ],
)
def test_fiscal_year_starting_in_february(day, fy, q, label, q_start, q_end, doq):
    d = fiscal_day(day, 2)
    assert (d.fiscal_year, d.fiscal_quarter, d.fiscal_quarter_label) == (fy, q, label)
    assert (d.fiscal_quarter_start, d.fiscal_quarter_end, d.day_of_fiscal_quarter) == (q_start, q_end, doq)


def test_calendar_year_and_other_start_months():
    assert fiscal_day(date(2026, 12, 31), 1).fiscal_quarter_label == "FY2026-Q4"
    assert fiscal_day(date(2026, 1, 1), 1).fiscal_quarter_label == "FY2026-Q1"
    july = fiscal_day(date(2026, 7, 1), 7)
    assert (july.fiscal_year, july.fiscal_quarter, july.fiscal_year_end) == (2027, 1, date(2027, 6, 30))
    assert fiscal_day(date(2026, 6, 30), 7).fiscal_quarter_label == "FY2026-Q4"
    nxt = quarter_after(fiscal_day(date(2027, 1, 20), 2), 2)
    assert (nxt.fiscal_quarter_label, nxt.fiscal_quarter_index) == (
        "FY2028-Q1",
        fiscal_day(date(2027, 1, 20), 2).fiscal_quarter_index + 1,
    )
    with pytest.raises(ValueError, match="fiscal_year_start_month must be an integer 1-12"):
        fiscal_day(date(2026, 1, 1), 13)


def test_calendar_rows_are_contiguous_and_quarters_have_right_lengths():
    rows = calendar_rows(date(2025, 1, 1), date(2027, 12, 31), 2)
    assert len(rows) == 365 + 365 + 365
    by_q: dict[str, int] = {}
    for r in rows:
        by_q[r.fiscal_quarter_label] = by_q.get(r.fiscal_quarter_label, 0) + 1
    assert by_q["FY2026-Q1"] == 89 and by_q["FY2027-Q1"] == 89 and by_q["FY2027-Q4"] == 92
    assert by_q["FY2025-Q4"] == 31  # only January 2025 of Nov 2024 .. Jan 2025 is in the range
    leap = calendar_rows(date(2024, 2, 1), date(2024, 4, 30), 2)
    assert {r.fiscal_quarter_label for r in leap} == {"FY2025-Q1"} and len(leap) == 90
    assert all(r.day_of_fiscal_quarter == (r.date_day - r.fiscal_quarter_start).days + 1 for r in rows)


# --- model discovery ----------------------------------------------------------------------------


def test_models_are_in_dependency_order_and_declare_a_grain():
    models = discover()
    seen: set[str] = set()
    names = {m.name for m in models}
    for m in models:
        assert m.grain
        assert all(d in seen for d in m.depends_on if d in names), m.name
        seen.add(m.name)
    assert {"fct_pipeline_snapshot", "fct_pipeline_movement", "agg_pipeline_waterfall"} <= names


def test_undeclared_dependency_and_bad_headers_are_errors(tmp_path):
    p = tmp_path / "agg_x.sql"
    p.write_text("-- depends_on: int_a\n-- grain: k\nselect * from marts.int_a join marts.int_b on 1 = 1\n")
    with pytest.raises(ModelError, match="agg_x.sql: reads marts.int_b but does not declare it"):
        parse_model(p)
    p.write_text("-- grain: k\nselect 1 as k;\n")
    with pytest.raises(ModelError, match="agg_x.sql:2: a model is one select"):
        parse_model(p)
    p.write_text("-- depends_on:\nselect 1 as k\n")
    with pytest.raises(ModelError, match="missing '-- grain:'"):
        parse_model(p)
    (tmp_path / "agg_x.sql").write_text("-- depends_on: agg_y\n-- grain: k\nselect 1 as k from marts.agg_y\n")
    (tmp_path / "agg_y.sql").write_text("-- depends_on: agg_x\n-- grain: k\nselect 1 as k from marts.agg_x\n")
    with pytest.raises(ModelError, match="dependency cycle: agg_x -> agg_y -> agg_x"):
        discover(tmp_path)


def test_build_groups_cover_every_model_once_in_dependency_order():
    groups = build_groups()
    assert [g for g, _ in groups] == ["intermediate_models", "fact_models", "aggregate_models"]
    flat = [n for _, names in groups for n in names]
    assert sorted(flat) == sorted(m.name for m in discover())
    position = {n: i for i, n in enumerate(flat)}
    for m in discover():
        assert all(position[d] < position[m.name] for d in m.depends_on if d in position)
    assert {n.split("_")[0] for n in groups[0][1]} == {"dim", "int"}


def test_build_groups_refuse_an_unknown_layer_or_an_intermediate_reading_a_fact(tmp_path):
    (tmp_path / "int_a.sql").write_text("-- depends_on: fct_b\n-- grain: k\nselect k from marts.fct_b\n")
    (tmp_path / "fct_b.sql").write_text("-- grain: k\nselect 1 as k\n")
    with pytest.raises(
        ModelError, match="int_a.sql: depends on fct_b, which fact_models builds after intermediate_models"
    ):
        build_groups(tmp_path)
    other = tmp_path / "other"  # discover() caches per folder
    other.mkdir()
    (other / "rpt_c.sql").write_text("-- grain: k\nselect 1 as k\n")
    with pytest.raises(ModelError, match="rpt_c.sql: layer 'rpt' is in no build group"):
        build_groups(other)


def test_run_models_in_parallel_starts_a_model_only_after_its_dependencies(monkeypatch):
    import threading
    import time as _time

    built: list[str] = []
    lock = threading.Lock()
    active = {"now": 0, "max": 0}

    def fake_run_model(wh, name, pol=None):
        with lock:
            deps = [d for d in runner.get_model(name).depends_on if d in names]
            assert all(d in built for d in deps), f"{name} started before {deps}"
            active["now"] += 1
            active["max"] = max(active["max"], active["now"])
        _time.sleep(0.02)
        with lock:
            active["now"] -= 1
            built.append(name)
        return 0.02

    class FakeSnowflake:
        dialect = "snowflake"

    names = [m.name for m in discover()]
    monkeypatch.setattr(runner, "run_model", fake_run_model)
    monkeypatch.setattr(runner, "stop_on_unconverted", lambda wh, name: None)
    seconds = runner.run_models(FakeSnowflake(), names, pol=object(), parallelism=4)
    assert list(seconds) == names and sorted(built) == sorted(names)
    assert 1 < active["max"] <= 4


def test_run_models_stops_on_an_unconverted_booking_and_reports_the_failed_model(monkeypatch):
    order: list[str] = []
    monkeypatch.setattr(runner, "run_model", lambda wh, name, pol=None: order.append(name) or 0.0)

    def stop(wh, name):
        raise runner.KpiBuildError(f"unconverted in {name}")

    monkeypatch.setattr(runner, "stop_on_unconverted", stop)
    with pytest.raises(runner.KpiBuildError, match="unconverted in int_booking_currency"):
        runner.run_models(
            object(), ["dim_currency", "int_booking_currency", "int_quota_currency"], pol=object()
        )
    assert order == ["dim_currency", "int_booking_currency"]


# --- as-of ---------------------------------------------------------------------------------------


def test_as_of_needs_a_loaded_batch_or_an_override(wh):
    with pytest.raises(runner.KpiBuildError, match="no batch with status 'loaded'.*pass as_of"):
        runner.resolve_as_of(wh)
    assert runner.resolve_as_of(wh, "2026-11-20").as_of_ts == datetime(2026, 11, 21)
    with pytest.raises(runner.KpiBuildError, match="as_of: expected a date YYYY-MM-DD, got 'yesterday'"):
        runner.resolve_as_of(wh, "yesterday")
    wh.execute(
        "insert into ops.load_audit (batch_id, object, source, until, status) values "
        "('a', 'opportunity', 'demo', timestamp '2026-11-20 09:30:00', 'loaded')"
    )
    got = runner.resolve_as_of(wh)
    assert (got.as_of_date, got.as_of_ts, got.source) == (
        date(2026, 11, 20),
        datetime(2026, 11, 20, 9, 30),
        "load_audit",
    )
    with pytest.raises(
        runner.KpiBuildError, match="backfill_from 2026-12-01 is after the as-of date 2026-11-20"
    ):
        runner.build(wh, backfill_from="2026-12-01")


# --- empty and hand-made data ---------------------------------------------------------------------


def test_empty_staging_builds_every_model_with_zero_rows_or_nulls(wh):
    runner.build(wh, as_of="2026-11-20")
    assert runner.validate_build(wh) == []
    for m in discover():
        n = wh.scalar(f"select count(*) from {m.table}")
        if m.name not in (
            "agg_pipeline_waterfall",
            "agg_stage_conversion",
            "int_user_rollup",
            "agg_data_quality_compliance",
            "dim_currency",
        ):
            assert n == 0, m.name
    # the corporate currency always exists: kpis.yaml's when the source has no CurrencyType
    assert wh.query(
        "select iso_code, is_corporate, corporate_source, conversion_rate from marts.dim_currency"
    ) == [{"iso_code": "USD", "is_corporate": True, "corporate_source": "policy", "conversion_rate": 1}]
    # no history at all: the comparisons are not available (never a waterfall of zeros)
    assert wh.scalar("select count(*) from marts.agg_pipeline_waterfall") == 0
    comps = wh.query(
        "select comparison_label, is_available, unavailable_reason from marts.kpi_movement_comparison "
        "order by comparison_label"
    )
    assert [(c["comparison_label"], c["is_available"]) for c in comps] == [
        ("quarter_to_date", False),
        ("week_over_week", False),
    ]
    assert comps[1]["unavailable_reason"] == (
        "not available: history starts 2026-11-20 (week_over_week needs the pipeline as of 2026-11-13; "
        "have 0 of 7 days)"
    )
    conv = wh.query("select reached_count, stage_to_next_rate from marts.agg_stage_conversion")
    assert len(conv) == 6 and all(r["reached_count"] == 0 and r["stage_to_next_rate"] is None for r in conv)
    dq = wh.query(
        "select metric, scorecard_value, kpi_value from marts.agg_data_quality_compliance order by position"
    )
    assert [r["metric"] for r in dq][:2] == ["required_field_completeness", "pipeline_hygiene"]
    assert all(r["scorecard_value"] is None and r["kpi_value"] is None for r in dq)


def _insert(wh, table, rows):
    cols = list(rows[0]) + ["_batch_id", "_loaded_at"]
    wh.execute_script(
        "\n".join(
            f"insert into staging.{table} ({', '.join(cols)}) values ({', '.join(':' + c + str(i) for c in cols)});"
            for i in range(len(rows))
        ),
        {
            f"{c}{i}": v
            for i, r in enumerate(rows)
            for c, v in {**r, "_batch_id": "t", "_loaded_at": datetime(2026, 1, 1)}.items()
        },
    )


def _opp(oid, stage, amount, prob, close, closed=False, won=False, owner="U1", reason=None, fc="Pipeline"):
    return dict(
        id=oid,
        owner_id=owner,
        stage_name=stage,
        amount=amount,
        probability=prob,
        close_date=close,
        forecast_category=fc,
        is_closed=closed,
        is_won=won,
        loss_reason=reason,
        type="New Business",
        created_at=datetime(2026, 9, 1, 10),
        system_modstamp=datetime(2026, 9, 1, 10),
    )


def test_hand_computed_win_rates_forecast_and_weighted_amount(wh):
    _insert(
        wh,
        "stg_crm__user",
        [
            dict(
                id="U1",
                name="Rep",
                user_role="Account Executive",
                region="AMER",
                segment="ENT",
                system_modstamp=datetime(2026, 1, 1),
            )
        ],
    )
    _insert(
        wh,
        "stg_crm__opportunity",
        [
            _opp("W1", "Closed Won", Decimal("100.00"), 100.0, date(2026, 11, 5), True, True, fc="Closed"),
            _opp("W2", "Closed Won", Decimal("300.00"), 100.0, date(2026, 11, 6), True, True, fc="Closed"),
            _opp(
                "L1",
                "Closed Lost",
                Decimal("600.00"),
                0.0,
                date(2026, 11, 7),
                True,
                False,
                reason="Price",
                fc="Omitted",
            ),
            _opp(
                "L2",
                "Closed Lost",
                Decimal("5000.00"),
                0.0,
                date(2026, 11, 8),
                True,
                False,
                reason="Duplicate",
                fc="Omitted",
            ),
            _opp("O1", "Negotiation/Review", Decimal("1000.00"), 90.0, date(2026, 12, 1), fc="Commit"),
            _opp("O2", "Needs Analysis", Decimal("333.33"), 30.0, date(2026, 12, 2), fc="Best Case"),
            _opp("O3", "Prospecting", None, 10.0, date(2026, 12, 3)),
        ],
    )
    runner.build(wh, as_of="2026-11-20")
    won = wh.query("select * from marts.agg_closed_deal_metrics where rollup_level = 'company'")[0]
    # by hand: 2 won, 1 lost (the duplicate is excluded): 2/3 by count, 400/(400+600) by amount
    assert (won["won_count"], won["lost_count"], won["excluded_lost_count"]) == (2, 1, 1)
    assert won["win_rate_by_count"] == pytest.approx(2 / 3) and won["win_rate_by_amount"] == pytest.approx(
        0.4
    )
    assert won["win_rate_by_count_denominator"] == 3 and Decimal(
        str(won["win_rate_by_amount_denominator"])
    ) == Decimal("1000")
    assert won["avg_selling_price"] == pytest.approx(200.0)
    fc = wh.query(
        "select * from marts.agg_forecast_rollup where rollup_level = 'company' and quarter_relative = 'current'"
    )[0]
    assert Decimal(str(fc["closed_amount"])) == Decimal("400") and Decimal(
        str(fc["commit_amount"])
    ) == Decimal("1000")
    assert (
        Decimal(str(fc["best_case_amount"])) == Decimal("333.33") and Decimal(str(fc["pipeline_amount"])) == 0
    )
    assert Decimal(str(fc["commit_forecast_amount"])) == Decimal("1400")
    assert Decimal(str(fc["best_case_forecast_amount"])) == Decimal("1733.33")
    # 1000 x 90/100 + 333.33 x 30/100 + 0 = 999.999 (never 100x that)
    assert Decimal(str(fc["weighted_pipeline_amount"])) == Decimal("999.999")  # exact: a DECIMAL sum


def test_quality_scorecard_is_left_joined_when_present(wh):
    runner.build(wh, as_of="2026-11-20")
    wh.run_file("quality/create_tables.sql")
    for run, as_of, value in (("r1", datetime(2026, 11, 19), 0.5), ("r2", datetime(2026, 11, 20), 0.875)):
        wh.execute(
            "insert into quality.scorecard (run_id, as_of, metric, scope_type, scope_value, numerator, denominator, "
            "value, target, comparator, met) values (:r, :a, 'pipeline_hygiene', 'all', 'all', 7, 8, :v, 0.9, '>=', false)",
            {"r": run, "a": as_of, "v": value},
        )
    runner.build(wh, as_of="2026-11-20", select=["agg_data_quality_compliance"])
    row = wh.query("select * from marts.agg_data_quality_compliance where metric = 'pipeline_hygiene'")[0]
    assert (row["scorecard_value"], row["target"], row["met"]) == (0.875, 0.9, False)  # the latest run wins
    assert (
        wh.scalar("select count(*) from marts.agg_data_quality_compliance where scorecard_value is not null")
        == 1
    )


def test_seeds_record_policy_and_are_idempotent(wh):
    runner.build(wh, as_of="2026-11-20")
    runner.build(wh, as_of="2026-11-20")
    ctx = wh.query("select * from marts.kpi_context")
    assert len(ctx) == 1 and ctx[0]["slippage_cutoff_day"] == 75 and ctx[0]["stale_days"] == 30
    assert wh.scalar("select count(*) from marts.dim_stage") == 8
    assert (
        wh.scalar("select default_probability from marts.dim_stage where stage_name = 'Negotiation/Review'")
        == 90
    )
    assert wh.scalar("select count(*) from marts.fct_pipeline_snapshot") == 0
    comps = wh.query("select * from marts.kpi_movement_comparison order by comparison_label")
    assert [(c["comparison_label"], c["start_date"], c["window_label"]) for c in comps] == [
        ("quarter_to_date", date(2026, 10, 31), "FY2027-Q4"),
        ("week_over_week", date(2026, 11, 13), "FY2027-Q4"),
    ]


def test_a_first_build_in_one_instance_sees_the_snapshot_rows_it_just_wrote(wh):
    """DuckDB 2.0 hid rows inserted into a table created empty in the same transaction from
    filtered scans of that instance: a first build (one instance: ``build``, a build task of the
    DAG) wrote the snapshot days, then fct_pipeline_movement found none of them and was empty.
    70,000 open deals x 3 snapshot days is more than one DuckDB row group (122,880 rows)."""
    n = 70_000
    with wh.raw_duckdb() as con:
        con.execute(f"""
            insert into staging.stg_crm__opportunity (id, name, owner_id, stage_name, amount, probability,
                close_date, forecast_category, is_closed, is_won, created_at, system_modstamp, _batch_id, _loaded_at)
            select 'O' || i, 'Deal ' || i, 'U1', 'Prospecting', 1000, 10, date '2027-01-25', 'Pipeline',
                   false, false, timestamp '2026-06-01', timestamp '2026-06-01', 'b', now()
            from range({n}) t(i)""")
        # one field-history change long before: history covers the comparisons' start days
        con.execute("""
            insert into staging.stg_crm__opportunity_field_history (id, opportunity_id, field, old_value,
                new_value, created_at, _batch_id, _loaded_at)
            values ('H1', 'O1', 'Amount', '900', '1000', timestamp '2026-07-01', 'b', now())""")
    result = runner.build(wh, as_of="2027-01-20", select=["fct_pipeline_movement"])
    assert len(result.snapshot_dates) == 3
    assert wh.scalar("select count(*) from marts.fct_pipeline_snapshot") == 3 * n
    rows = wh.query(
        "select comparison_label, movement_category, count(*) as n from marts.fct_pipeline_movement group by all"
    )
    assert sorted((r["comparison_label"], r["movement_category"], r["n"]) for r in rows) == [
        ("quarter_to_date", "unchanged", n),
        ("week_over_week", "unchanged", n),
    ]


def test_grain_check_counts_null_and_duplicate_keys_exactly(wh):
    runner.build(wh, as_of="2026-11-20")
    # a three-column grain (grouped by a hash of its columns first) and a one-column grain
    wh.execute_script(
        "insert into marts.int_opportunity_field_intervals (opportunity_id, field, change_seq, value) values "
        "('O1', 'StageName', 0, 'a'), ('O1', 'StageName', 0, 'b'), ('O1', 'StageName', 0, 'c'), "
        "('O1', 'StageName', 1, 'd'), ('O2', 'StageName', 0, 'e'), (null, 'Amount', 0, 'f'), "
        "(null, 'Amount', 0, 'g')"
    )
    wh.execute_script("insert into marts.int_lead_routed (lead_id) values ('L1'), ('L1'), ('L2'), (null)")
    # 7 rows; 2 with a null key; duplicates: O1/StageName/0 twice more, the null key once more
    assert runner.check_grain(wh, "int_opportunity_field_intervals") == {
        "rows": 7,
        "null_keys": 2,
        "duplicate_keys": 3,
    }
    assert runner.check_grain(wh, "int_lead_routed") == {"rows": 4, "null_keys": 1, "duplicate_keys": 1}
    assert runner.check_grain(wh, "int_opportunity_enriched") == {
        "rows": 0,
        "null_keys": 0,
        "duplicate_keys": 0,
    }
    problems = runner.validate_build(wh)
    assert (
        "marts.int_opportunity_field_intervals: grain (opportunity_id, field, change_seq) has 2 null and "
        "3 duplicate key(s) in 7 rows" in problems
    )
    assert "marts.int_lead_routed: grain (lead_id) has 1 null and 1 duplicate key(s) in 4 rows" in problems
    assert len(problems) == 2
